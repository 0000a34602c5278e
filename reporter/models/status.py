"""Control status vocabulary, shared by the engine, framework status and the reports."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Honest statuses: zero evidence is never a pass."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    PARTIAL = "partial"
    EXCEPTED = "excepted"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"
