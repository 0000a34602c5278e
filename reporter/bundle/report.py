"""The validation report: every issue of every stage, per file, in a deterministic order."""

from __future__ import annotations

from collections import Counter

from reporter.bundle.interface import FileSummary, LoadedBundle, ValidationReport
from reporter.errors import BundleError, ReporterError
from reporter.models.issues import Issue, IssueSeverity
from reporter.store.csvlines import with_csv_lines


def with_record_lines(loaded: LoadedBundle, issues: list[Issue]) -> list[Issue]:
    """Issues found in the store name records; for CSV files add the line each record starts on."""
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


def issue_of(error: ReporterError) -> Issue:
    """An error raised while reading evidence, as the issue that reports it (at its location)."""
    loc = error.location
    return Issue(
        code=error.code,
        severity=IssueSeverity.ERROR,
        message=error.message,
        file=loc.file,
        line=loc.line,
        record=loc.record,
        field=loc.field,
    )


def unsafe_report(display: str, error: BundleError) -> ValidationReport:
    """The report for a bundle that could not even be opened safely."""
    return build_report(display, None, [issue_of(error)])
