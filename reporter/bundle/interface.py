"""The loading stage's contract: what goes in (a path and LoadOptions) and what comes out (a
LoadedBundle holding the evidence store and its ValidationReport). Later stages import only this
module and `reporter.bundle.load`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field

from reporter.bundle.limits import Limits
from reporter.bundle.opener import OpenedBundle
from reporter.models.common import StrictModel
from reporter.models.issues import Issue
from reporter.models.manifest import BundleSeal, ManagementResponse, Manifest
from reporter.models.policy import Policy
from reporter.store.store import EvidenceStore

Progress = Callable[[str, int, int], None]  # (what is being done, done, total)


def no_progress(stage: str, done: int, total: int) -> None:
    """The `Progress` that shows nothing (not a terminal, or nobody asked)."""


@dataclass(frozen=True)
class LoadOptions:
    """How to open and load a bundle."""

    limits: Limits = field(default_factory=Limits)
    database: Path | None = None  # keep the evidence store at this path
    control_ids: frozenset[str] = frozenset()  # the library's control ids, to check exception scopes
    memory_limit: str | None = None
    progress: Progress | None = None
    seal_keys: frozenset[str] = frozenset()  # key ids (--seal-key): the bundle must be sealed by one of them


@dataclass
class SourceSummary:
    """What was read from one evidence file."""

    path: str
    format: str
    kinds: list[str]
    records: int = 0
    sha256: str | None = None
    bytes: int = 0


class FileSummary(StrictModel):
    """One evidence file as validation saw it."""

    path: str
    format: str
    kinds: list[str]
    records: int
    sha256: str | None
    errors: int
    warnings: int


class ValidationReport(StrictModel):
    """The machine-readable output of `validate --format json` (docs/validation.md)."""

    format_version: Literal[1] = 1
    bundle: str
    valid: bool
    errors: int
    warnings: int
    records: int
    files: list[FileSummary] = Field(default_factory=list)
    issues: list[Issue] = Field(default_factory=list)


@dataclass
class LoadedBundle:
    """A bundle read into the store, resolved and checked. Close it to release the store and
    temporary files. `report` is set once every stage has run."""

    opened: OpenedBundle
    store: EvidenceStore
    manifest: Manifest | None
    policy: Policy
    issues: list[Issue] = field(default_factory=list)
    sources: list[SourceSummary] = field(default_factory=list)
    digest: str = ""
    manifest_sha256: str = ""
    seal: BundleSeal | None = None  # the preparer's seal, verified
    responses: list[ManagementResponse] = field(default_factory=list)  # management responses file, validated
    report: ValidationReport | None = None

    @property
    def valid(self) -> bool:
        """Every stage ran and found no error."""
        return self.report is not None and self.report.valid

    def close(self) -> None:
        """Close the store and remove temporary files."""
        self.store.close()
        self.opened.close()
