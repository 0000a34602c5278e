"""The stages end to end, without printing: open → load → validate (→ assess → render)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.limits import Limits
from reporter.catalog.library import Library
from reporter.errors import BundleError
from reporter.loader import LoadedBundle, Progress, load_bundle
from reporter.models.issues import Issue, IssueSeverity
from reporter.models.results import Assessment
from reporter.output import staged_file
from reporter.store.exports import exceptions_csv, findings_csv, ledger_csv
from reporter.validation import ValidationReport, build_report, finish_validation


@dataclass(frozen=True)
class LoadOptions:
    """How to open and load a bundle."""

    limits: Limits
    database: Path | None = None  # keep the evidence store at this path
    control_ids: frozenset[str] = frozenset()  # the library's control ids, to check exception scopes
    memory_limit: str | None = None
    progress: Progress | None = None


def validate_bundle(path: Path, options: LoadOptions) -> ValidationReport:
    """Validate a bundle and close it. Unsafe archives become a one-issue report."""
    with _database(options) as database:
        try:
            loaded = load_bundle(
                path,
                options.limits,
                database=database,
                memory_limit=options.memory_limit,
                progress=options.progress,
            )
        except BundleError as error:
            return unsafe_report(str(path), error)
        try:
            return finish_validation(loaded, options.limits, options.control_ids)
        finally:
            loaded.close()


def open_valid_bundle(
    path: Path, options: LoadOptions, database: Path | None = None
) -> tuple[LoadedBundle, ValidationReport]:
    """Load and validate; the caller closes the bundle (assessment reads its store)."""
    loaded = load_bundle(
        path,
        options.limits,
        database=database,
        memory_limit=options.memory_limit,
        progress=options.progress,
    )
    try:
        return loaded, finish_validation(loaded, options.limits, options.control_ids)
    except BaseException:
        loaded.close()
        raise


@dataclass(frozen=True)
class AssessRun:
    """What `assess`/`report` produced: the validation report, the assessment when valid, and the
    CSV exports (findings, ledger, exceptions) when asked for."""

    validation: ValidationReport
    assessment: Assessment | None
    exports: dict[str, bytes] = field(default_factory=dict)


def assess_bundle(
    path: Path, options: LoadOptions, library: Library, assess_options: AssessOptions, *, exports: bool = False
) -> AssessRun:
    """Validate, then assess when the bundle is valid (never an invalid one); optionally export the
    CSVs from the store before it closes."""
    with _database(options) as database:
        try:
            loaded, report = open_valid_bundle(path, options, database)
        except BundleError as error:
            return AssessRun(unsafe_report(str(path), error), None)
        try:
            if not report.valid:
                return AssessRun(report, None)
            assessment = assess(loaded, library, assess_options)
            files = _exports(loaded, assessment) if exports else {}
            return AssessRun(report, assessment, files)
        finally:
            loaded.close()


def _exports(loaded: LoadedBundle, assessment: Assessment) -> dict[str, bytes]:
    con = loaded.store.con
    return {
        "findings.csv": findings_csv(con, assessment),
        "ledger.csv": ledger_csv(con),
        "exceptions.csv": exceptions_csv(con, assessment),
    }


def unsafe_report(display: str, error: BundleError) -> ValidationReport:
    """The report for a bundle that could not even be opened safely."""
    loc = error.location
    issue = Issue(
        code=error.code,
        severity=IssueSeverity.ERROR,
        message=error.message,
        file=loc.file,
        line=loc.line,
        record=loc.record,
        field=loc.field,
    )
    return build_report(display, None, [issue])


def _database(options: LoadOptions) -> AbstractContextManager[Path | None]:
    return staged_file(options.database) if options.database else nullcontext(None)
