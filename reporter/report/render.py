"""Renders a report in the requested formats: builds the view once, runs each format's renderer,
and returns every file's content: bytes, or a spooled file for the large CSV exports (the caller writes
them together with reporter.output.write_set).

A format rendered in another process (the PDF) is started first and waited for last, so that it
renders on one core while this process does the rest; the files come back in registry order whatever
finishes first, and a failure or a signal in between ends the other process.

Rendering takes two steps, so that the PDF can start before every export exists: `begin_report` needs
the assessment and findings.csv (the view says where findings.csv is, the PDF attaches it), builds the
view and starts the PDF; `ReportRendering.finish` takes every export, renders the other formats and
waits for the PDF. `report` begins as soon as findings.csv is exported, and the PDF renders while the
ledger, exceptions and explorer exports are written (docs/decisions.md, D89)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from reporter.bundle.interface import Progress, no_progress
from reporter.output import Payload
from reporter.report.formats import REGISTRY, FormatSpec, ReportFormat
from reporter.report.interface import RenderContext, RenderLimits, ReportInputs, Started
from reporter.report.view.build import build_view


class ReportRendering:
    """A report under way: its view built, its out-of-process formats started. `finish` once (it
    ends them on any failure); `stop` ends them early, and does nothing after `finish`."""

    def __init__(self, context: RenderContext, formats: Iterable[ReportFormat], progress: Progress) -> None:
        chosen = set(formats)
        self._wanted = [spec for name, spec in REGISTRY.items() if name in chosen]
        self._context = context
        self._progress = progress
        self._started: dict[ReportFormat, Started] = {}
        try:
            for spec in self._wanted:
                if spec.start is not None:
                    self._started[spec.name] = spec.start(context)
        except BaseException:
            self.stop()
            raise

    def finish(self, exports: Mapping[str, Payload] | None = None) -> dict[str, Payload]:
        """{file name: content} for the formats, in registry order. `exports`: every export, when
        more exist than the view was built with (the view reads findings.csv only)."""
        context = self._context
        if exports is not None:
            context = RenderContext(replace(context.inputs, exports=exports), context.view)
        report, total = self._progress, len(self._wanted)
        rendered: dict[ReportFormat, Mapping[str, Payload]] = {}
        try:
            for spec in self._wanted:
                if spec.start is None:
                    report(f"rendering {_named(spec.files)}", len(rendered), total)
                    rendered[spec.name] = spec.render(context)
            for name, run in self._started.items():
                report(f"rendering {_named(REGISTRY[name].files)}", len(rendered), total)
                rendered[name] = run.finish()
        finally:
            self.stop()
        files: dict[str, Payload] = {}
        for spec in self._wanted:
            files.update(rendered[spec.name])
        return files

    def stop(self) -> None:
        """End the formats still rendering in another process."""
        for run in self._started.values():
            run.stop()

    def done_elsewhere(self) -> bool:
        """Whether every format rendering in another process has exited, so that the memory made room
        for it (`resident_elsewhere`) is free again (D114)."""
        return all(run.done() for run in self._started.values())


def _elsewhere(formats: Iterable[ReportFormat]) -> list[FormatSpec]:
    """The chosen formats that render in another process of their own (`FormatSpec.start`: the PDF)."""
    chosen = frozenset(formats)
    return [spec for name, spec in REGISTRY.items() if name in chosen and spec.start is not None]


def resident_elsewhere(formats: Iterable[ReportFormat], limits: RenderLimits) -> int:
    """The memory (bytes) the formats that render in other processes need while they run: known before
    they start, so that the store makes room for them first (D97, D111)."""
    return sum(spec.resident(limits) for spec in _elsewhere(formats) if spec.resident)


def cores_elsewhere(formats: Iterable[ReportFormat]) -> int:
    """The cores the formats that render in other processes keep busy while they run, one each (the
    PDF lays its pages out on one core): the store gives up as many of DuckDB's threads (D118)."""
    return len(_elsewhere(formats))


def begin_report(
    inputs: ReportInputs, formats: Iterable[ReportFormat], progress: Progress | None = None
) -> ReportRendering:
    """Build the view and start the formats rendered in another process; `inputs.exports` needs
    findings.csv only. `progress(stage, done, total)` for the view here, and before each format in
    `finish` (the one rendering in another process last, when it is waited for)."""
    report = progress or no_progress
    chosen = frozenset(formats)
    report("building the report view", 0, len(chosen))
    return ReportRendering(RenderContext(inputs, build_view(inputs)), chosen, report)


def render_report(
    inputs: ReportInputs, formats: Iterable[ReportFormat], progress: Progress | None = None
) -> dict[str, Payload]:
    """{file name: content} for the formats, in registry order, from inputs with every export."""
    return begin_report(inputs, formats, progress).finish()


def _named(files: tuple[str, ...]) -> str:
    """A format's files, short enough for a progress line: `report.pdf`, `findings.csv and 3 more`."""
    return files[0] if len(files) == 1 else f"{files[0]} and {len(files) - 1} more"
