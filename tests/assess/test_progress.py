"""Progress per stage: loading each file, deriving each table, each control, metrics, each export and
each format — reported through the callback the command line turns into a bar on a terminal (and
nothing otherwise)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.interface import LoadOptions, Progress
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.cli import bundle_options
from reporter.pipeline import ExportRequest, assess_bundle
from reporter.report.formats import parse_formats
from reporter.report.interface import ReportInputs
from reporter.report.render import render_report

MINIMAL = Path(__file__).resolve().parents[2] / "evidence-samples" / "minimal"


def test_every_stage_reports_progress() -> None:
    seen: list[tuple[str, int, int]] = []

    def record(stage: str, done: int, total: int) -> None:
        seen.append((stage, done, total))

    library = load_library()
    loaded = load_bundle(MINIMAL, LoadOptions(progress=record))
    try:
        assess(loaded, library, AssessOptions(progress=record))
    finally:
        loaded.close()
    stages = [s for s, _, _ in seen]
    assert any(s.startswith("loading ") for s in stages)
    derive = [(d, t) for s, d, t in seen if s == "deriving the ledger"]
    assert derive
    assert derive[-1][0] == derive[-1][1] > 5
    checks = [s.removeprefix("checks: ") for s in stages if s.startswith("checks: ")]
    assert sorted(checks) == sorted(library.controls)
    assert seen[-1] == ("metrics", len(library.controls), len(library.controls))


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle_options, "stderr_is_terminal", lambda: False)
    with bundle_options.progress_bar(True) as progress:
        assert progress is None


def test_bar_goes_to_stderr_never_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle_options, "stderr_is_terminal", lambda: True)
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    with bundle_options.progress_bar(True) as progress:
        assert progress is not None
        progress("checks: VER-02", 3, 49)
    assert out.getvalue() == ""
    assert "VER-02" in err.getvalue()


def test_exports_and_each_format_report_progress(tmp_path: Path) -> None:
    """After the metrics: each export, the view, each format (the PDF, rendering in its own process,
    last, when it is waited for): a long report run never sits on "metrics" while it renders."""
    seen: list[tuple[str, int, int]] = []

    def record(stage: str, done: int, total: int) -> None:
        seen.append((stage, done, total))

    library = load_library()
    run = assess_bundle(
        MINIMAL, LoadOptions(progress=record), library, AssessOptions(), exports=ExportRequest(spool=tmp_path)
    )
    assert run.assessment is not None
    exporting = [(s, d, t) for s, d, t in seen if s.startswith("exporting ")]
    assert exporting == [
        ("exporting findings.csv", 0, 4),
        ("exporting ledger.csv", 1, 4),
        ("exporting exceptions.csv", 2, 4),
        ("exporting explore.json", 3, 4),
    ]
    seen.clear()
    inputs = ReportInputs(run.assessment, run.exports, library, run.assessment.as_of)
    render_report(inputs, parse_formats("pdf,csv,json,html"), record)
    assert [s for s, _, _ in seen] == [
        "building the report view",
        "rendering report.html",
        "rendering results.json",
        "rendering findings.csv and 3 more",
        "rendering report.pdf",
    ]
    assert [d for _, d, _ in seen] == [0, 0, 1, 2, 3]
    assert {t for _, _, t in seen} == {4}


@pytest.mark.parametrize("command", ["report", "assess"])
def test_the_bar_is_gone_before_standard_output_is_written(
    command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A person watching sees the bar and the headline on one terminal: the bar, which redraws its
    line, ends before the headline is printed, or the two run into one line."""
    from typer.testing import CliRunner

    from reporter.cli import app, assess_cmd, report_cmd

    module = report_cmd if command == "report" else assess_cmd
    events: list[str] = []
    real_bar, real_echo = module.progress_bar, module.echo

    @contextmanager
    def bar(enabled: bool) -> Iterator[Progress | None]:
        events.append("bar")
        with real_bar(enabled) as progress:
            yield progress
        events.append("bar ended")

    def echo(message: str = "", **kwargs: Any) -> None:
        events.append("stdout" if not kwargs.get("err") else "stderr")
        real_echo(message, **kwargs)

    monkeypatch.setattr(bundle_options, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(module, "progress_bar", bar)
    monkeypatch.setattr(module, "echo", echo)
    where = ["-o", str(tmp_path / ("out" if command == "report" else "results.json"))]
    extra = ["--format", "csv"] if command == "report" else []
    result = CliRunner().invoke(app, [command, str(MINIMAL), *where, *extra])
    assert result.exit_code in (0, 1), result.output
    assert "stdout" in events
    assert events.index("bar ended") < events.index("stdout")


@pytest.mark.parametrize("command", ["report", "assess", "validate"])
def test_quiet_shows_no_bar_even_on_a_terminal(command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`--quiet`: a person at a terminal (or a CI runner with a pseudo-terminal) asks for no bar; standard
    output keeps the summary line alone."""
    from typer.testing import CliRunner

    from reporter.cli import app, assess_cmd, report_cmd, validate_cmd

    module = {"report": report_cmd, "assess": assess_cmd, "validate": validate_cmd}[command]
    asked: list[bool] = []
    real_bar = module.progress_bar

    @contextmanager
    def bar(enabled: bool) -> Iterator[Progress | None]:
        asked.append(enabled)
        with real_bar(enabled) as progress:
            yield progress

    monkeypatch.setattr(bundle_options, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(module, "progress_bar", bar)
    where = {"report": ["-o", str(tmp_path / "out"), "--format", "csv"], "assess": ["-o", str(tmp_path / "r.json")]}
    args = [command, str(MINIMAL), *where.get(command, [])]
    loud = CliRunner().invoke(app, args)
    quiet = CliRunner().invoke(app, [*args, "--quiet"])
    assert loud.exit_code == quiet.exit_code == 0, quiet.output
    assert asked == [True, False]
    if command != "validate":
        assert quiet.stdout.splitlines() == loud.stdout.splitlines()[:1]
        assert quiet.stdout.startswith("Northwind Logistics (minimal sample) 2026-07-01..2026-09-30: ")
    if command == "report":
        assert "wrote " in loud.stdout
        assert "wrote " not in quiet.stdout
