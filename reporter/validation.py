"""`validate`: load a bundle, run the cross-file integrity rules, summarise every issue."""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import Field

from reporter.bundle.limits import Limits
from reporter.integrity import check_integrity
from reporter.loader import LoadedBundle
from reporter.models.common import StrictModel
from reporter.models.issues import Issue, IssueSeverity
from reporter.store.csvlines import with_csv_lines


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


def finish_validation(
    loaded: LoadedBundle, limits: Limits, control_ids: frozenset[str] = frozenset()
) -> ValidationReport:
    """Add the integrity issues to a loaded bundle and build the report."""
    if loaded.manifest is not None:
        found = check_integrity(loaded.store, loaded.manifest, loaded.policy, limits.max_issues_per_group, control_ids)
        loaded.issues.extend(_csv_lines(loaded, found))
    return build_report(loaded.opened.display, loaded)


def _csv_lines(loaded: LoadedBundle, issues: list[Issue]) -> list[Issue]:
    """Integrity issues on CSV files name records; add the line each record starts on."""
    csv_files = {s.path for s in loaded.sources if s.format == "csv"}
    out = [i for i in issues if i.file not in csv_files]
    for path in sorted({i.file for i in issues if i.file in csv_files}):
        mine = [i for i in issues if i.file == path]
        out.extend(with_csv_lines(loaded.opened.root / path, mine))
    return sorted(out, key=Issue.sort_key)


def build_report(display: str, loaded: LoadedBundle | None, extra: list[Issue] | None = None) -> ValidationReport:
    """Summarise issues per file, in a deterministic order."""
    issues = sorted([*(loaded.issues if loaded else []), *(extra or [])], key=Issue.sort_key)
    per_file: Counter[tuple[str, IssueSeverity]] = Counter((i.file or "", i.severity) for i in issues)
    files = [
        FileSummary(
            path=s.path,
            format=s.format,
            kinds=s.kinds,
            records=s.records,
            sha256=s.sha256,
            errors=per_file[(s.path, IssueSeverity.ERROR)],
            warnings=per_file[(s.path, IssueSeverity.WARNING)],
        )
        for s in sorted(loaded.sources if loaded else [], key=lambda s: s.path)
    ]
    errors = sum(1 for i in issues if i.severity is IssueSeverity.ERROR)
    return ValidationReport(
        bundle=display,
        valid=errors == 0 and loaded is not None and loaded.manifest is not None,
        errors=errors,
        warnings=len(issues) - errors,
        records=sum(f.records for f in files),
        files=files,
        issues=issues,
    )
