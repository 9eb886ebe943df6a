"""What redaction masks, wherever a text is shown or stored."""

from __future__ import annotations

import pytest

from ingest.redaction import redact

CASES = [
    # (text, what it shows)
    ("page?access_token=EAAG123&after=x.json", "page?access_token=***&after=x.json"),
    ("GET /v1?KEY=AIza0123 HTTP/1.1", "GET /v1?KEY=*** HTTP/1.1"),
    ("client_secret=s3cr3t&grant_type=x", "client_secret=***&grant_type=x"),
    ("monkey=banana", "monkey=banana"),  # a name that ends in "key" is not a key
    ("Authorization: Bearer abc.def-123", "Authorization: ***"),
    ("{'authorization': 'OAuth tok123'}", "{'authorization': '***'}"),
    ("x-goog-api-key=AIzaXYZ", "x-goog-api-key=***"),
    ("sent with bearer abcdef123456 to the API", "sent with *** to the API"),
    ("OAUTH   abcdefghij", "***"),
    ("bearer short", "bearer short"),  # too short for a token
    # nothing to mask: the texts most often redacted, file names and paths
    ("exports/2026-11-20/page-0001.json", "exports/2026-11-20/page-0001.json"),
    ("tiktok research video query (page 3)", "tiktok research video query (page 3)"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "shown"), CASES)
def test_redaction_masks_tokens_keys_and_auth_values_and_nothing_else(text: str, shown: str):
    assert redact(text) == shown
