"""The stages end to end, without printing: load and validate (→ assess → render)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.interface import LoadedBundle, LoadOptions, ValidationReport
from reporter.bundle.load import load_bundle
from reporter.bundle.report import unsafe_report
from reporter.catalog.library import Library
from reporter.errors import BundleError
from reporter.models.results import Assessment
from reporter.output import staged_file
from reporter.store.derived import keep_derived
from reporter.store.explore import explore_json
from reporter.store.exports import exceptions_csv, findings_csv, ledger_csv

__all__ = ["AssessRun", "LoadOptions", "assess_bundle", "validate_bundle"]


def validate_bundle(path: Path, options: LoadOptions) -> ValidationReport:
    """Validate a bundle and close it. Unsafe archives become a one-issue report."""
    with _database(options) as database:
        try:
            loaded = load_bundle(path, replace(options, database=database))
        except BundleError as error:
            return unsafe_report(str(path), error)
        try:
            assert loaded.report is not None
            return loaded.report
        finally:
            loaded.close()


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
            loaded = load_bundle(path, replace(options, database=database))
        except BundleError as error:
            return AssessRun(unsafe_report(str(path), error), None)
        try:
            assert loaded.report is not None
            if not loaded.valid:
                return AssessRun(loaded.report, None)
            assessment = assess(loaded, library, assess_options)
            files = _exports(loaded, assessment) if exports else {}
            if database is not None:
                keep_derived(loaded.store.con)
            return AssessRun(loaded.report, assessment, files)
        finally:
            loaded.close()


def _exports(loaded: LoadedBundle, assessment: Assessment) -> dict[str, bytes]:
    con = loaded.store.con
    return {
        "findings.csv": findings_csv(con, assessment),
        "ledger.csv": ledger_csv(con),
        "exceptions.csv": exceptions_csv(con, assessment),
        "explore.json": explore_json(con, assessment),  # the HTML explorer's data, not a file of the set
    }


def _database(options: LoadOptions) -> AbstractContextManager[Path | None]:
    return staged_file(options.database) if options.database else nullcontext(None)
