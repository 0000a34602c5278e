"""The format registry: every format has a renderer, every renderer is reachable from --format, and
the JSON and CSV renderers pass the assessment's bytes through unchanged."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from report_helpers import SAMPLES, run_cli

from reporter.errors import ExitCode, RenderError, UsageError
from reporter.report.formats import DEFAULT_FORMATS, REGISTRY, ReportFormat, parse_formats
from reporter.report.formats import csv as csv_format
from reporter.report.formats.json import results_json
from reporter.report.interface import RenderContext, ReportInputs
from reporter.report.render import render_report
from reporter.report.view.build import build_view


def test_every_format_has_a_renderer_and_files() -> None:
    assert set(REGISTRY) == set(ReportFormat)
    for name, spec in REGISTRY.items():
        assert spec.name is name
        assert callable(spec.render)
        assert spec.files
    names = [f for spec in REGISTRY.values() for f in spec.files]
    assert len(names) == len(set(names)), "two formats would write the same file"
    assert tuple(ReportFormat) == DEFAULT_FORMATS


@pytest.mark.parametrize("name", [f.value for f in ReportFormat])
def test_every_renderer_is_reachable_from_the_format_option(name: str) -> None:
    assert parse_formats(name) == (ReportFormat(name),)
    assert parse_formats(f" {name.upper()} ,{name}") == (ReportFormat(name),)


def test_parse_formats_keeps_registry_order_and_refuses_unknown_names() -> None:
    assert parse_formats("csv,html") == (ReportFormat.HTML, ReportFormat.CSV)
    with pytest.raises(UsageError, match="unknown format 'docx'"):
        parse_formats("html,docx")
    with pytest.raises(UsageError):
        parse_formats(" , ")


def test_cheap_formats_write_exactly_their_files(q3_inputs: ReportInputs) -> None:
    formats = [f for f in ReportFormat if f is not ReportFormat.PDF]
    files = render_report(q3_inputs, formats)
    assert set(files) == {name for f in formats for name in REGISTRY[f].files}


def test_json_is_byte_for_byte_what_assess_writes(tmp_path: Path, q3_inputs: ReportInputs) -> None:
    out = tmp_path / "assess.json"
    code, _, err = run_cli("assess", str(SAMPLES / "northwind-2026-q3"), "--output", str(out))
    assert code == 0, err
    assert results_json(q3_inputs.assessment) == out.read_bytes()


def test_csv_is_the_pipeline_export_unchanged(q3_inputs: ReportInputs) -> None:
    files = csv_format.render(RenderContext(q3_inputs, build_view(q3_inputs)))
    for name in csv_format.EXPORTS:
        assert files[name] is q3_inputs.exports[name]
    assert set(files) == set(csv_format.FILES) == {*csv_format.EXPORTS, "samples.csv"}


def test_csv_without_exports_is_a_render_error(q3_inputs: ReportInputs) -> None:
    import dataclasses

    empty = dataclasses.replace(q3_inputs, exports={})
    with pytest.raises(RenderError, match=r"findings\.csv"):
        csv_format.render(RenderContext(empty, build_view(empty)))


def test_a_failing_format_ends_the_pdf_renderer_started_beside_it(
    q3_inputs: ReportInputs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The PDF renders in its subprocess while the other formats render here; when one of them
    fails, the error is the run's and the renderer is ended, its temporary directory removed."""
    import dataclasses
    import tempfile

    from reporter.report import formats

    def broken(ctx: RenderContext) -> dict[str, bytes]:
        raise RenderError("oscal broke")

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    spec = dataclasses.replace(REGISTRY[ReportFormat.OSCAL], render=broken)
    monkeypatch.setitem(formats.REGISTRY, ReportFormat.OSCAL, spec)
    with pytest.raises(RenderError, match="oscal broke"):
        render_report(q3_inputs, [ReportFormat.PDF, ReportFormat.OSCAL])
    assert list(tmp_path.iterdir()) == []


def test_the_cli_spools_the_exports_to_disk_with_the_same_bytes(
    q3_inputs: ReportInputs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`report` writes the CSV exports into its run directory (any size in constant memory) and
    copies them into the set: the bytes are those of the in-memory exports. Without html among the
    formats, the explorer's data is not computed at all."""
    from reporter import pipeline

    def not_wanted(*args: object) -> bytes:
        raise AssertionError("explore.json computed without the html format")

    monkeypatch.setattr(pipeline, "explore_json", not_wanted)
    out = tmp_path / "out"
    code, _, err = run_cli("report", str(SAMPLES / "northwind-2026-q3"), "-o", str(out), "--format", "csv")
    assert code in (0, 1), err
    for name in csv_format.EXPORTS:
        assert (out / name).read_bytes() == q3_inputs.exports[name], name


@pytest.mark.parametrize(("bundle", "codes"), [("minimal", (0, 1)), ("broken/bad-type-csv", (int(ExitCode.INVALID),))])
def test_the_cli_removes_its_export_spool(
    bundle: str, codes: tuple[int, ...], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The spooled exports are the command's own temporary directory: gone when `report` returns,
    also when the bundle is invalid and when it runs without the console script's run scope (as an
    embedding program or these tests run it)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    spooled: list[Path] = []
    real = tempfile.TemporaryDirectory

    def watched(*args: Any, **kwargs: Any) -> tempfile.TemporaryDirectory[str]:
        made = real(*args, **kwargs)
        if kwargs.get("prefix") == "exports-":
            spooled.append(Path(made.name))
        return made

    monkeypatch.setattr(tempfile, "TemporaryDirectory", watched)
    code, _, err = run_cli("report", str(SAMPLES / bundle), "-o", str(tmp_path / "out"), "--format", "csv")
    assert code in codes, err
    assert [p.parent for p in spooled] == [scratch]
    assert list(scratch.iterdir()) == []
