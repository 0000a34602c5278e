"""The report begins as soon as findings.csv is exported (D89): the PDF, which needs nothing else,
renders in its own process while the pipeline writes the ledger, exceptions and explorer exports. The
early start must not change a byte, and a failure after it must end the renderer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from reporter import pipeline
from reporter.assess.engine import AssessOptions
from reporter.bundle.interface import LoadOptions
from reporter.catalog.loader import load_library
from reporter.cli import app, report_cmd
from reporter.models.results import Assessment
from reporter.output import Payload, payload_bytes, payload_size
from reporter.pipeline import ExportRequest, assess_bundle
from reporter.report.formats import parse_formats
from reporter.report.formats.pdf import job as pdf_job
from reporter.report.interface import RenderContext, RenderLimits
from reporter.report.render import (
    ReportRendering,
    begin_report,
    cores_elsewhere,
    render_report,
    resident_elsewhere,
)
from reporter.report.request import prepare
from reporter.report.view.build import build_view
from reporter.store import store

SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"
MINIMAL = SAMPLES / "minimal"
MINIMAL_GAPS = SAMPLES / "larkspur-2026-q3"  # the smallest sample quarter with gaps
Q3 = SAMPLES / "kestrel-2026-q3"
EPOCH = "1790000000"


def test_findings_ready_comes_after_findings_csv_and_before_the_other_exports(tmp_path: Path) -> None:
    seen: list[str] = []
    ready: list[tuple[str, list[str]]] = []

    def record(stage: str, done: int, total: int) -> None:
        seen.append(stage)

    def findings_ready(assessment: Assessment, exports: Mapping[str, Payload], size: int) -> None:
        ready.append((seen[-1], sorted(exports)))
        assert size == payload_size(exports["findings.csv"])

    wanted = ExportRequest(spool=tmp_path, findings_ready=findings_ready)
    run = assess_bundle(MINIMAL, LoadOptions(progress=record), load_library(), AssessOptions(), exports=wanted)
    assert run.assessment is not None
    assert ready == [("exporting findings.csv", ["findings.csv"])]
    assert sorted(run.exports) == ["exceptions.csv", "explore.json", "findings.csv", "ledger.csv"]


@pytest.mark.parametrize("needed_up_to", [None, 10**9])
def test_a_findings_csv_that_may_be_attached_is_written_before_the_report_begins(
    tmp_path: Path, needed_up_to: int | None
) -> None:
    """Under the cap, or without a bound asked for, the report begins only once findings.csv exists."""
    seen: list[str] = []
    wanted = ExportRequest(
        spool=tmp_path,
        findings_ready=lambda assessment, exports, size: seen.append(",".join(sorted(exports))),
        findings_needed_up_to=needed_up_to,
    )
    assess_bundle(Q3, LoadOptions(), load_library(), AssessOptions(), exports=wanted)
    assert seen == ["findings.csv"]


def test_a_findings_csv_certain_to_be_over_the_cap_is_written_beside_the_report(tmp_path: Path) -> None:
    """D110: when a lower bound of findings.csv's size is over the size up to which the report needs it,
    the report begins before findings.csv is written, with that bound; the bound never exceeds the file."""
    seen: list[str] = []
    ready: list[tuple[str, list[str], int]] = []

    def findings_ready(assessment: Assessment, exports: Mapping[str, Payload], size: int) -> None:
        ready.append((seen[-1], sorted(exports), size))

    wanted = ExportRequest(spool=tmp_path, findings_ready=findings_ready, findings_needed_up_to=1000)
    run = assess_bundle(
        Q3, LoadOptions(progress=lambda s, d, t: seen.append(s)), load_library(), AssessOptions(), exports=wanted
    )
    assert run.assessment is not None
    [(stage, exports, bound)] = ready
    assert not stage.startswith("exporting ")  # before the first export
    assert exports == []
    actual = payload_size(run.exports["findings.csv"])
    assert 1000 < bound <= actual
    assert bound >= 0.8 * actual  # tight enough to decide for millions of gaps


@pytest.mark.parametrize(("formats", "needed"), [("html,pdf", RenderLimits().attach_max_bytes), ("html,csv", None)])
def test_report_needs_findings_csv_up_to_the_pdf_attachment_cap(formats: str, needed: int | None) -> None:
    """`report` asks for the bound only with a PDF, the one format that renders beside the exports."""
    request = prepare(formats, logo=None, title=None, classification=None, environ={"SOURCE_DATE_EPOCH": EPOCH})
    early = report_cmd._EarlyStart(request, [], load_library(), None)
    assert early.findings_needed_up_to() == needed


def test_the_early_start_and_the_renderer_read_the_same_limits() -> None:
    """The room made, the attachment cap the bound is compared with and the limits the PDF renders
    under all come from the request, so they cannot disagree."""
    request = prepare("html,pdf", logo=None, title=None, classification=None, environ={"SOURCE_DATE_EPOCH": EPOCH})
    limits = RenderLimits(attach_max_bytes=1000, resident_mib=100)
    request = replace(request, limits=limits)
    library = load_library()
    early = report_cmd._EarlyStart(request, [], library, None)
    assert (early.findings_needed_up_to(), early.room()) == (1000, 100 * 2**20)
    run = assess_bundle(MINIMAL, LoadOptions(), library, AssessOptions(), exports=ExportRequest())
    assert run.assessment is not None
    assert request.inputs(run.assessment, run.exports, library).limits == limits


def test_a_report_begun_before_findings_csv_writes_the_same_bytes(tmp_path: Path) -> None:
    """Begun early with the bound, the view and the PDF are those of the plain path with every export: the
    cover and the gap lists say findings.csv is written next to the report, and it is not attached."""
    library = load_library()
    request = prepare("html,pdf", logo=None, title=None, classification=None, environ={"SOURCE_DATE_EPOCH": EPOCH})
    capped = RenderLimits(attach_max_bytes=1000)
    begun: list[ReportRendering] = []

    def findings_ready(assessment: Assessment, exports: Mapping[str, Payload], size: int) -> None:
        inputs = replace(request.inputs(assessment, exports, library, findings_min_bytes=size), limits=capped)
        begun.append(begin_report(inputs, parse_formats("html,pdf")))

    spool = tmp_path / "early"
    spool.mkdir()
    wanted = ExportRequest(spool=spool, findings_ready=findings_ready, findings_needed_up_to=1000)
    run = assess_bundle(MINIMAL_GAPS, LoadOptions(), library, AssessOptions(), exports=wanted)
    assert run.assessment is not None
    early = begun[0].finish(run.exports)
    plain_inputs = replace(request.inputs(run.assessment, run.exports, library), limits=capped)
    plain = render_report(plain_inputs, parse_formats("html,pdf"))
    for name in ("report.pdf", "report.html"):
        assert payload_bytes(early[name]) == payload_bytes(plain[name]), name
    html = payload_bytes(early["report.html"]).decode()
    gaps = sum(c.gap_total for c in run.assessment.controls)
    assert gaps > 0
    assert f"with {gaps:,} gaps it is over the 0 MiB cap for PDF attachments" in html
    assert [a.name for a in pdf_job(RenderContext(plain_inputs, build_view(plain_inputs))).attachments] == [
        "results.json"
    ]


def _trace_export_limits(monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[str, str]], Callable[[], str]]:
    """Record the store's memory limit as each of findings.csv and ledger.csv is exported; the list,
    and a reading of the limit now (once findings.csv has begun)."""
    limits: list[tuple[str, str]] = []
    stores: list[duckdb.DuckDBPyConnection] = []

    def current(con: duckdb.DuckDBPyConnection) -> str:
        row = con.execute("SELECT current_setting('memory_limit')").fetchone()
        return str(row[0]) if row else ""

    findings_csv, ledger_csv = pipeline.findings_csv, pipeline.ledger_csv

    def traced_findings(con: duckdb.DuckDBPyConnection, assessment: Assessment, spool: Path | None = None) -> Payload:
        stores.append(con)
        limits.append(("findings.csv", current(con)))
        return findings_csv(con, assessment, spool)

    def traced_ledger(con: duckdb.DuckDBPyConnection, spool: Path | None) -> Payload:
        limits.append(("ledger.csv", current(con)))
        return ledger_csv(con, spool)

    monkeypatch.setattr(pipeline, "findings_csv", traced_findings)
    monkeypatch.setattr(pipeline, "ledger_csv", traced_ledger)
    return limits, lambda: current(stores[0])


@pytest.mark.parametrize("begins", [True, False])
def test_the_store_makes_room_for_the_renderer_as_the_exports_begin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, begins: bool
) -> None:
    # D97: the store lowers its limit by what the renderer needs while the other exports are written;
    # D111: from the first export on, so that neither the exports nor the view that findings_ready
    # builds are added to a store at its full limit. Nothing begins, nothing is lowered.
    limits, current = _trace_export_limits(monkeypatch)

    def findings_ready(assessment: Assessment, exports: Mapping[str, Payload], size: int) -> None:
        limits.append(("findings_ready", current()))

    wanted = ExportRequest(spool=tmp_path, findings_ready=findings_ready if begins else None, room=512 * 2**20)
    options = LoadOptions(memory_limit="2GiB")
    run = assess_bundle(MINIMAL, options, load_library(), AssessOptions(), exports=wanted)
    assert run.assessment is not None
    if begins:
        assert limits == [("findings.csv", "1.5 GiB"), ("findings_ready", "1.5 GiB"), ("ledger.csv", "1.5 GiB")]
    else:
        assert limits == [("findings.csv", "2.0 GiB"), ("ledger.csv", "2.0 GiB")]


@pytest.mark.parametrize("exited", [True, False])
def test_the_store_takes_half_its_room_back_once_the_renderer_has_exited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exited: bool
) -> None:
    # D114: asked before each export after the room was made; once the renderer has exited, the store
    # takes half of the room back for the exports left (all of it put ten million findings over the
    # peak target). While the renderer runs, the limit stays lowered.
    limits, _ = _trace_export_limits(monkeypatch)
    renderer_running = [True]

    def findings_ready(assessment: Assessment, exports: Mapping[str, Payload], size: int) -> None:
        renderer_running[0] = not exited  # the renderer begins here; exited = done by the next export

    wanted = ExportRequest(
        spool=tmp_path,
        findings_ready=findings_ready,
        room=1024 * 2**20,
        room_back=lambda: not renderer_running[0],
    )
    run = assess_bundle(MINIMAL, LoadOptions(memory_limit="2GiB"), load_library(), AssessOptions(), exports=wanted)
    assert run.assessment is not None
    back = "1.5 GiB" if exited else "1.0 GiB"
    assert limits == [("findings.csv", "1.0 GiB"), ("ledger.csv", back)]


@pytest.mark.parametrize("exited", [True, False])
def test_the_store_gives_the_renderer_a_thread_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exited: bool
) -> None:
    # D118: the renderer lays its pages out on one core; while it runs the store's DuckDB works on one
    # thread fewer (never none), and takes it back with the room once the renderer has exited. Three
    # threads to begin with, whatever the machine has.
    create = store.EvidenceStore.create.__func__  # type: ignore[attr-defined]

    def three_threads(cls: type[store.EvidenceStore], *args: object, **kwargs: object) -> store.EvidenceStore:
        made: store.EvidenceStore = create(cls, *args, **kwargs)
        made.con.execute("SET threads = 3")
        return made

    monkeypatch.setattr(store.EvidenceStore, "create", classmethod(three_threads))
    threads: list[tuple[str, int]] = []
    findings_csv, ledger_csv = pipeline.findings_csv, pipeline.ledger_csv
    renderer_running = [True]

    def traced_findings(con: duckdb.DuckDBPyConnection, assessment: Assessment, spool: Path | None = None) -> Payload:
        threads.append(("findings.csv", store.duckdb_threads(con)))
        return findings_csv(con, assessment, spool)

    def traced_ledger(con: duckdb.DuckDBPyConnection, spool: Path | None) -> Payload:
        threads.append(("ledger.csv", store.duckdb_threads(con)))
        return ledger_csv(con, spool)

    def findings_ready(assessment: Assessment, exports: Mapping[str, Payload], size: int) -> None:
        renderer_running[0] = not exited

    keep_derived = pipeline.keep_derived

    def traced_keep(con: duckdb.DuckDBPyConnection) -> None:
        threads.append(("keep_derived", store.duckdb_threads(con)))
        keep_derived(con)

    monkeypatch.setattr(pipeline, "findings_csv", traced_findings)
    monkeypatch.setattr(pipeline, "ledger_csv", traced_ledger)
    monkeypatch.setattr(pipeline, "keep_derived", traced_keep)
    wanted = ExportRequest(
        spool=tmp_path, findings_ready=findings_ready, room=0, cores=1, room_back=lambda: not renderer_running[0]
    )
    run = assess_bundle(MINIMAL, LoadOptions(), load_library(), AssessOptions(), exports=wanted)
    assert run.assessment is not None
    assert threads == [("findings.csv", 2), ("ledger.csv", 3 if exited else 2)]
    # with --db the derived tables are copied into the kept file after the exports, a copy that would
    # outlast the renderer: on every thread, whether or not the renderer has exited
    threads.clear()
    renderer_running[0] = True
    kept = LoadOptions(database=tmp_path / "kept.duckdb")
    run = assess_bundle(MINIMAL, kept, load_library(), AssessOptions(), exports=replace(wanted, spool=None))
    assert run.assessment is not None
    assert threads == [("findings.csv", 2), ("ledger.csv", 3 if exited else 2), ("keep_derived", 3)]


def test_the_report_asks_whether_its_renderer_has_exited(tmp_path: Path) -> None:
    """`report` passes room_back: False before the report begins, then whether the PDF worker exited."""
    request = prepare("pdf", logo=None, title=None, classification=None, environ={"SOURCE_DATE_EPOCH": EPOCH})
    library = load_library()
    early = report_cmd._EarlyStart(request, [], library, None)
    assert not early.done_elsewhere()  # nothing begun yet
    run = assess_bundle(MINIMAL, LoadOptions(), library, AssessOptions(), exports=ExportRequest(spool=tmp_path))
    assert run.assessment is not None
    early.begin(run.assessment, run.exports, payload_size(run.exports["findings.csv"]))
    try:
        rendering, _ = early.started()
        rendering.finish(run.exports)  # waits for the worker
        assert early.done_elsewhere()
    finally:
        early.stop()


def test_only_the_pdf_asks_the_store_for_room() -> None:
    limits = RenderLimits()
    for formats, room in (("html,pdf", limits.resident_mib * 2**20), ("pdf", limits.resident_mib * 2**20)):
        assert resident_elsewhere(parse_formats(formats), limits) == room
    assert resident_elsewhere(parse_formats("html,json,csv,oscal,poam"), limits) == 0
    request = prepare("html,pdf", logo=None, title=None, classification=None, environ={"SOURCE_DATE_EPOCH": EPOCH})
    assert report_cmd._EarlyStart(request, [], load_library(), None).room() == limits.resident_mib * 2**20


def test_only_the_pdf_takes_a_core_from_the_store() -> None:
    # D118: one core per format rendered in another process, which is the PDF alone
    for formats, cores in (("html,pdf", 1), ("pdf", 1), ("html,json,csv,oscal,poam", 0)):
        assert cores_elsewhere(parse_formats(formats)) == cores
    request = prepare("html,json", logo=None, title=None, classification=None, environ={"SOURCE_DATE_EPOCH": EPOCH})
    assert report_cmd._EarlyStart(request, [], load_library(), None).cores() == 0
    request = prepare("html,pdf", logo=None, title=None, classification=None, environ={"SOURCE_DATE_EPOCH": EPOCH})
    assert report_cmd._EarlyStart(request, [], load_library(), None).cores() == 1


def test_the_view_needs_findings_csv_only(tmp_path: Path) -> None:
    library = load_library()
    run = assess_bundle(MINIMAL, LoadOptions(), library, AssessOptions(), exports=ExportRequest(spool=tmp_path))
    assert run.assessment is not None
    request = prepare("html,pdf", logo=None, title=None, classification=None, environ={"SOURCE_DATE_EPOCH": EPOCH})
    every = request.inputs(run.assessment, run.exports, library)
    early = request.inputs(run.assessment, {"findings.csv": run.exports["findings.csv"]}, library)
    assert build_view(early) == build_view(every)


def test_report_begins_before_the_ledger_export_and_writes_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    begin, ledger_csv = report_cmd.begin_report, pipeline.ledger_csv

    def traced_begin(*args: object, **kwargs: object) -> ReportRendering:
        events.append("begin")
        return begin(*args, **kwargs)  # type: ignore[arg-type]

    def traced_ledger(*args: object, **kwargs: object) -> Payload:
        events.append("ledger.csv")
        return ledger_csv(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(report_cmd, "begin_report", traced_begin)
    monkeypatch.setattr(pipeline, "ledger_csv", traced_ledger)
    out = tmp_path / "out"
    result = CliRunner(env={"SOURCE_DATE_EPOCH": EPOCH}).invoke(
        app, ["report", str(MINIMAL), "--output-dir", str(out), "--format", "html,pdf,csv"]
    )
    assert result.exit_code == 0, result.stderr
    assert events == ["begin", "ledger.csv"]

    # the same set rendered the plain way, once every export exists
    library = load_library()
    spool = tmp_path / "spool"
    spool.mkdir()
    run = assess_bundle(MINIMAL, LoadOptions(), library, AssessOptions(), exports=ExportRequest(spool=spool))
    assert run.assessment is not None
    request = prepare("html,pdf,csv", logo=None, title=None, classification=None, environ={"SOURCE_DATE_EPOCH": EPOCH})
    files = render_report(request.inputs(run.assessment, run.exports, library), parse_formats("html,pdf,csv"))
    for name in ("report.pdf", "report.html", "ledger.csv", "findings.csv"):
        assert (out / name).read_bytes() == payload_bytes(files[name]), name


def test_a_failure_after_the_early_start_ends_the_renderer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stopped: list[bool] = []
    stop = ReportRendering.stop

    def traced_stop(self: ReportRendering) -> None:
        stopped.append(True)
        stop(self)

    def broken_ledger(*args: object, **kwargs: object) -> Payload:  # what DuckDB's COPY raises on a full disk
        raise duckdb.IOException('IO Error: Could not write file "ledger.csv": No space left on device')

    monkeypatch.setattr(ReportRendering, "stop", traced_stop)
    monkeypatch.setattr(pipeline, "ledger_csv", broken_ledger)
    out = tmp_path / "out"
    result = CliRunner(env={"SOURCE_DATE_EPOCH": EPOCH}).invoke(
        app, ["report", str(MINIMAL), "--output-dir", str(out), "--format", "pdf,csv"]
    )
    assert result.exit_code == 4, result.stderr  # an output that could not be written (docs/cli.md)
    assert "disk full" in result.stderr
    assert stopped, "the PDF renderer started early was not ended"
    assert not (out / "report.pdf").exists()
