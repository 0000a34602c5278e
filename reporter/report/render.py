"""Renders a report in the requested formats: builds the view once, runs each format's renderer,
and returns every file's content: bytes, or a spooled file for the large CSV exports (the caller writes
them together with reporter.output.write_set).

A format rendered in another process (the PDF) is started first and waited for last, so that it
renders on one core while this process renders the others; the files come back in registry order
whatever finishes first, and a failure or a signal in between ends the other process."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reporter.bundle.interface import Progress, no_progress
from reporter.output import Payload
from reporter.report.formats import REGISTRY, ReportFormat
from reporter.report.interface import RenderContext, ReportInputs, Started
from reporter.report.view.build import build_view


def render_report(
    inputs: ReportInputs, formats: Iterable[ReportFormat], progress: Progress | None = None
) -> dict[str, Payload]:
    """{file name: content} for the formats, in registry order; `progress(stage, done, total)` before
    each format (the one rendering in another process last, when it is waited for)."""
    chosen = set(formats)
    wanted = [spec for name, spec in REGISTRY.items() if name in chosen]
    report = progress or no_progress
    report("building the report view", 0, len(wanted))
    context = RenderContext(inputs, build_view(inputs))
    rendered: dict[ReportFormat, Mapping[str, Payload]] = {}
    started: dict[ReportFormat, Started] = {}
    try:
        for spec in wanted:
            if spec.start is not None:
                started[spec.name] = spec.start(context)
        for spec in wanted:
            if spec.start is None:
                report(f"rendering {_named(spec.files)}", len(rendered), len(wanted))
                rendered[spec.name] = spec.render(context)
        for name, run in started.items():
            report(f"rendering {_named(REGISTRY[name].files)}", len(rendered), len(wanted))
            rendered[name] = run.finish()
    finally:
        for run in started.values():
            run.stop()
    files: dict[str, Payload] = {}
    for spec in wanted:
        files.update(rendered[spec.name])
    return files


def _named(files: tuple[str, ...]) -> str:
    """A format's files, short enough for a progress line: `report.pdf`, `findings.csv and 3 more`."""
    return files[0] if len(files) == 1 else f"{files[0]} and {len(files) - 1} more"
