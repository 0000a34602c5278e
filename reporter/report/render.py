"""Renders a report in the requested formats: builds the view once, runs each format's renderer,
and returns every file as bytes (the caller writes them together with reporter.output.write_set)."""

from __future__ import annotations

from collections.abc import Iterable

from reporter.report.formats import REGISTRY, ReportFormat
from reporter.report.interface import RenderContext, ReportInputs
from reporter.report.view.build import build_view


def render_report(inputs: ReportInputs, formats: Iterable[ReportFormat]) -> dict[str, bytes]:
    """{file name: bytes} for the formats, in registry order."""
    wanted = set(formats)
    context = RenderContext(inputs, build_view(inputs))
    files: dict[str, bytes] = {}
    for name, spec in REGISTRY.items():
        if name in wanted:
            files.update(spec.render(context))
    return files
