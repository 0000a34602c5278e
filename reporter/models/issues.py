"""Validation issues: what `validate` reports, one object per problem, each with its location."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from reporter.models.common import StrictModel


class IssueSeverity(StrEnum):
    """An error makes the bundle invalid (exit 3); a warning does not."""

    ERROR = "error"
    WARNING = "warning"


class Issue(StrictModel):
    """One problem found in a bundle."""

    code: str = Field(description="Permanent issue code, e.g. record.bad-enum (docs/validation.md).")
    severity: IssueSeverity
    message: str
    file: str | None = Field(default=None, description="Path relative to the bundle root.")
    line: int | None = Field(default=None, description="1-based line in the file, when known.")
    record: int | None = Field(default=None, description="1-based record number in the file.")
    field: str | None = Field(default=None, description="Field name or path (a.b[2].c).")
    more: int | None = Field(
        default=None,
        description="Set on a summary issue: how many further records have this problem beyond the ones listed.",
    )

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        """Deterministic order: file; file-level issues, then by position; summaries last."""
        position = self.line if self.line is not None else (self.record or 0)
        if self.more is not None:
            position = 2**62
        return (
            self.file or "",
            position,
            self.record or 0,
            self.code,
            self.field or "",
            self.message,
        )
