"""Importing Great Expectations once per process, out of the garbage collector's way."""

from __future__ import annotations

import gc

from ingest import validation


def test_what_the_gx_import_leaves_is_not_walked_by_the_collectors_full_passes():
    validation.preload()
    import great_expectations
    from great_expectations.validator import v1_validator

    walked = gc.get_objects()  # every object a full collection walks
    held = (great_expectations.__dict__, v1_validator.__dict__, v1_validator.Validator)
    assert not [o for o in held if any(o is w for w in walked)]
    # a second preload (each GX session makes one) freezes nothing more
    frozen = gc.get_freeze_count()
    validation.preload()
    assert gc.get_freeze_count() == frozen
