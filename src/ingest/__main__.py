"""``python -m ingest``."""

from ingest.cli import run

run()
