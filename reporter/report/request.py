"""A report request from the command line, checked before any evidence is read: formats, baseline,
logo, title, classification and the generation time. Anything wrong is a UsageError (exit 2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reporter.catalog.library import Library
from reporter.errors import UsageError
from reporter.models.results import Assessment
from reporter.report.formats import ReportFormat, parse_formats
from reporter.report.interface import ReportInputs, ReportOptions
from reporter.report.loaders import generation_time, read_baseline, read_logo

MAX_TEXT = 200


@dataclass(frozen=True)
class ReportRequest:
    """What to produce, with the already-read baseline and logo."""

    formats: tuple[ReportFormat, ...]
    options: ReportOptions
    baseline: Assessment | None
    generated_at: datetime

    def inputs(self, assessment: Assessment, exports: Mapping[str, bytes], library: Library) -> ReportInputs:
        """The renderer inputs for an assessment made for this request."""
        return ReportInputs(assessment, exports, library, self.generated_at, self.options, self.baseline)


def _text(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if not value or len(value) > MAX_TEXT:
        raise UsageError(f"{name} must be 1 to {MAX_TEXT} characters")
    return value


def prepare(
    formats: str,
    *,
    baseline: Path | None,
    logo: Path | None,
    title: str | None,
    classification: str | None,
    environ: Mapping[str, str],
) -> ReportRequest:
    """Parse and read every report option (files are read once, here)."""
    options = ReportOptions(
        title=_text("--title", title),
        classification=_text("--classification", classification),
        logo_png=read_logo(logo) if logo else None,
    )
    return ReportRequest(
        formats=parse_formats(formats),
        options=options,
        baseline=read_baseline(baseline) if baseline else None,
        generated_at=generation_time(environ),
    )
