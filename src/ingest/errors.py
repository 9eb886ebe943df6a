"""The project's own error types: every failure a user sees is one of these."""

from __future__ import annotations


class IngestError(Exception):
    """Base class: a failure with a message meant for the user, never a traceback."""


class ParseError(IngestError):
    """A file cannot be used at all (truncated, empty, wrong format, missing column).

    The message names the file and, where known, the line and the field.
    """

    def __init__(
        self, source: str, problem: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.source = source
        self.problem = problem
        self.line = line
        self.field = field
        where = source
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {problem}")


class UnknownFormatError(ParseError):
    """No parser recognises the file."""


class WarehouseBusyError(IngestError):
    """Another process holds the warehouse for writing."""


class ConfigError(IngestError):
    """A setting (an ``INGEST_*`` variable or a flag) the pipeline cannot use; names which."""
