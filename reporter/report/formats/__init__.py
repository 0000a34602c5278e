"""Output formats: one module per format, each with `render(ctx) -> {file name: bytes}`, and the
explicit registry that `report --format` chooses from (tests assert every format has a renderer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from reporter.errors import UsageError
from reporter.report.formats import csv, html, json, oscal, pdf, poam
from reporter.report.interface import Renderer, RenderLimits, Starter


class ReportFormat(StrEnum):
    """The formats `report --format` accepts."""

    HTML = "html"
    PDF = "pdf"
    JSON = "json"
    CSV = "csv"
    OSCAL = "oscal"
    POAM = "poam"


@dataclass(frozen=True)
class FormatSpec:
    """A format: its renderer and the files it writes."""

    name: ReportFormat
    render: Renderer
    files: tuple[str, ...]
    description: str
    # a format rendered in another process (the PDF) is started first, so that it renders on the
    # second core while this process renders the other formats; `resident`: the memory (bytes) that
    # process needs, which the evidence store gives up before it starts (D97)
    start: Starter | None = None
    resident: Callable[[RenderLimits], int] | None = None


REGISTRY: dict[ReportFormat, FormatSpec] = {
    ReportFormat.HTML: FormatSpec(ReportFormat.HTML, html.render, html.FILES, "self-contained HTML report"),
    ReportFormat.PDF: FormatSpec(
        ReportFormat.PDF,
        pdf.render,
        pdf.FILES,
        "PDF/A-3b report with results.json and findings.csv attached",
        start=pdf.start,
        resident=pdf.resident,
    ),
    ReportFormat.JSON: FormatSpec(ReportFormat.JSON, json.render, json.FILES, "results.json (format_version 1)"),
    ReportFormat.CSV: FormatSpec(
        ReportFormat.CSV, csv.render, csv.FILES, "findings.csv, ledger.csv and exceptions.csv from the evidence store"
    ),
    ReportFormat.OSCAL: FormatSpec(
        ReportFormat.OSCAL, oscal.render, oscal.FILES, "OSCAL 1.2.1 assessment results (assessment-results.json)"
    ),
    ReportFormat.POAM: FormatSpec(
        ReportFormat.POAM, poam.render, poam.FILES, "OSCAL 1.2.1 plan of action and milestones (the remediation plan)"
    ),
}
DEFAULT_FORMATS: tuple[ReportFormat, ...] = tuple(REGISTRY)


def parse_formats(text: str) -> tuple[ReportFormat, ...]:
    """'html,pdf' → formats in registry order, without repeats; UsageError for an unknown name."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names:
        raise UsageError("--format needs at least one of: " + ", ".join(f.value for f in REGISTRY))
    unknown = [n for n in names if n not in {f.value for f in REGISTRY}]
    if unknown:
        raise UsageError(
            f"--format: unknown format {unknown[0]!r}; choose from " + ", ".join(f.value for f in REGISTRY)
        )
    return tuple(f for f in REGISTRY if f.value in names)


__all__ = ["DEFAULT_FORMATS", "REGISTRY", "FormatSpec", "ReportFormat", "parse_formats"]
