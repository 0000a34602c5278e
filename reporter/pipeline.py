"""The stages end to end, without printing: load and validate (→ assess → render)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.interface import LoadedBundle, LoadOptions, Progress, ValidationReport, no_progress
from reporter.bundle.load import load_bundle
from reporter.bundle.report import unsafe_report
from reporter.catalog.library import Library
from reporter.errors import BundleError
from reporter.models.results import Assessment
from reporter.output import Payload, payload_size, staged_file
from reporter.store.derived import keep_derived
from reporter.store.explore import explore_json
from reporter.store.exports import exceptions_csv, findings_csv, findings_min_bytes, ledger_csv

__all__ = ["AssessRun", "ExportRequest", "LoadOptions", "assess_bundle", "validate_bundle"]


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
    exports (findings, ledger, exceptions CSVs; the explorer's data) when asked for."""

    validation: ValidationReport
    assessment: Assessment | None
    exports: dict[str, Payload] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportRequest:
    """Which exports to make and where: `spool` is a directory the caller owns, where the CSVs are
    written as files (any size, constant memory); without it they are returned in memory. The
    explorer's data (explore.json, at most EXPLORE_ROWS rows per table) only serves the HTML report.
    `findings_ready(assessment, exports, size)` is called once findings.csv exists, before the other
    exports, with its size: `report` starts the PDF there, which needs nothing else, so that it renders
    while they are written. `room` is the memory (bytes) the process it starts needs: the store makes
    room for it (D97) as the exports begin, so that neither they nor the view the caller builds are
    added to a store at its full limit (D111). When a lower bound of findings.csv's size
    (`findings_min_bytes`, one pass over the gaps) already exceeds `findings_needed_up_to`, the size up
    to which the caller needs the file itself (the PDF's attachment cap), it is called before
    findings.csv is written instead, with exports that do not hold it yet and that bound as its size
    (D110). `room_back()` is asked before each export after the room was made, and once more after
    the last: once it is true (the process has exited), the store takes half of that room back for
    what is left (D114). `cores`: the cores that process keeps busy; the store's DuckDB gives up as
    many threads while it runs and takes them back with the room (D118)."""

    spool: Path | None = None
    explorer: bool = True
    findings_ready: Callable[[Assessment, Mapping[str, Payload], int], None] | None = None
    findings_needed_up_to: int | None = None
    room: int = 0
    room_back: Callable[[], bool] | None = None
    cores: int = 0


def assess_bundle(
    path: Path,
    options: LoadOptions,
    library: Library,
    assess_options: AssessOptions,
    *,
    exports: bool | ExportRequest = False,
) -> AssessRun:
    """Validate, then assess when the bundle is valid (never an invalid one); optionally export the
    CSVs (and the explorer's data) from the store before it closes."""
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
            wanted = ExportRequest() if exports is True else exports
            files = _exports(loaded, assessment, wanted, options.progress) if wanted else {}
            if database is not None:
                # the copy outlasts a renderer still at work: it runs on every thread (D118)
                loaded.store.return_threads()
                keep_derived(loaded.store.con)
            return AssessRun(loaded.report, assessment, files)
        finally:
            loaded.close()


def _exports(
    loaded: LoadedBundle, assessment: Assessment, wanted: ExportRequest, progress: Progress | None = None
) -> dict[str, Payload]:
    con, spool = loaded.store.con, wanted.spool
    steps: list[tuple[str, Callable[[], Payload]]] = [
        ("findings.csv", lambda: findings_csv(con, assessment, spool)),
        ("ledger.csv", lambda: ledger_csv(con, spool)),
        ("exceptions.csv", lambda: exceptions_csv(con, assessment, spool)),
    ]
    if wanted.explorer:  # the HTML explorer's data, not a file of the set
        steps.append(("explore.json", lambda: explore_json(con, assessment)))
    report = progress or no_progress
    files: dict[str, Payload] = {}
    ready = wanted.findings_ready
    if ready is not None:
        # the caller's renderer will run beside the exports: the store makes room for it now, before the
        # exports fill its limit again with the blocks they read and the caller builds its view (D111)
        loaded.store.make_room(wanted.room, threads=wanted.cores)
    if ready is not None and wanted.findings_needed_up_to is not None:
        at_least = findings_min_bytes(con)
        if at_least > wanted.findings_needed_up_to:  # not needed: begin now, and write it beside the PDF
            ready(assessment, {}, at_least)
            ready = None
    for done, (name, export) in enumerate(steps):
        _take_back_when_free(loaded, wanted.room_back)
        report(f"exporting {name}", done, len(steps))
        files[name] = export()
        if name == "findings.csv" and ready is not None:
            ready(assessment, dict(files), payload_size(files[name]))
    _take_back_when_free(loaded, wanted.room_back)  # for what follows (keep_derived with --db)
    return files


_TAKEN_BACK = 0.5  # of the room lent to the renderer, taken back once it has exited (D114)


def _take_back_when_free(loaded: LoadedBundle, free: Callable[[], bool] | None) -> None:
    """Once the caller's renderer has exited, the store takes back half of the room it made for it
    (D97, D111; D114; nothing once taken). The exports left then sort with more memory instead of
    spilling beside a process that is gone: at ten million findings ledger.csv took 34.6 s instead of
    47.5 to 54.8 s. Only half: an export's sort holds about 550 MB beside the store's limit, more than
    the assessment does, and with all of the room back ten million findings peaked at 2,392 to 2,416
    MB, over 2.5 × 10⁹ bytes (2,003 to 2,016 MB with half; performance.md)."""
    if free is not None and free():
        loaded.store.take_back(_TAKEN_BACK)


def _database(options: LoadOptions) -> AbstractContextManager[Path | None]:
    return staged_file(options.database) if options.database else nullcontext(None)
