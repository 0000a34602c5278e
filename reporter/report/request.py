"""A report request from the command line, checked before any evidence is read: formats, baseline,
logo, title, classification and the document date. Anything wrong is a UsageError (exit 2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from reporter.catalog.library import Library
from reporter.errors import UsageError
from reporter.models.results import Assessment
from reporter.output import Payload
from reporter.report.formats import ReportFormat, parse_formats
from reporter.report.interface import DateBasis, RenderLimits, ReportInputs, ReportOptions
from reporter.report.loaders import document_date, read_logo

MAX_TEXT = 200


@dataclass(frozen=True)
class ReportRequest:
    """What to produce, with the already-read logo (baselines are compared into the assessment's
    `comparison` before the report: reporter.cli.assess_cmd.with_comparison)."""

    formats: tuple[ReportFormat, ...]
    options: ReportOptions
    document_date: tuple[datetime, DateBasis] | None  # None: the assessment instant
    # the renderer's bounds: the inputs carry them, and `report` asks them what the PDF needs beside
    # the store before it begins (its memory, the size up to which it attaches findings.csv)
    limits: RenderLimits = field(default_factory=RenderLimits)

    def inputs(
        self, assessment: Assessment, exports: Mapping[str, Payload], library: Library, findings_min_bytes: int = 0
    ) -> ReportInputs:
        """The renderer inputs for an assessment made for this request; `findings_min_bytes` when
        findings.csv is not among the exports yet (ReportInputs)."""
        moment, basis = self.document_date or (assessment.as_of, DateBasis.AS_OF)
        return ReportInputs(
            assessment,
            exports,
            library,
            moment,
            self.options,
            date_basis=basis,
            limits=self.limits,
            findings_min_bytes=findings_min_bytes,
        )


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
    logo: Path | None,
    title: str | None,
    classification: str | None,
    environ: Mapping[str, str],
    generated_at: str | None = None,
    seal_keys: frozenset[str] = frozenset(),
) -> ReportRequest:
    """Parse and read every report option (files are read once, here)."""
    options = ReportOptions(
        title=_text("--title", title),
        classification=_text("--classification", classification),
        logo_png=read_logo(logo) if logo else None,
        seal_keys=seal_keys,
    )
    return ReportRequest(
        formats=parse_formats(formats),
        options=options,
        document_date=document_date(generated_at, environ),
    )
