"""PDF: the same template as the HTML (target "pdf"), rendered as a tagged PDF/A-3b in a limited
subprocess, with results.json and findings.csv attached (relationship Data, dated at the document date)
and every chart's text alternative for its structure element."""

from __future__ import annotations

from reporter.bundle.limits import MIB
from reporter.errors import RenderError
from reporter.output import payload_bytes
from reporter.report.formats.json import results_json
from reporter.report.interface import RenderContext, RenderLimits, Started, findings_attached
from reporter.report.sandbox import PdfAttachment, PdfJob, render_pdf, start_pdf
from reporter.report.templating import render_document
from reporter.report.view.model import Figure

FILES = ("report.pdf",)


def job(ctx: RenderContext) -> PdfJob:
    """The renderer's input: the print HTML, the two attachments and the logo."""
    inputs = ctx.inputs
    attachments: tuple[PdfAttachment, ...] = (
        PdfAttachment(
            "results.json",
            "Assessment results (format_version 1): every number in this report",
            results_json(inputs.assessment),
        ),
    )
    if findings_attached(inputs):  # else the cover says where it is (reporter.report.view.common.findings_where)
        findings = inputs.exports.get("findings.csv")
        if findings is None:
            raise RenderError("the assessment produced no findings.csv export to attach to the PDF")
        attachments += (
            PdfAttachment(
                "findings.csv",
                "Every gap of every control with its evidence file, line and SHA-256",
                payload_bytes(findings),  # at most attach_max_bytes
            ),
        )
    return PdfJob(
        render_document(ctx.view, "pdf"), attachments, inputs.generated_at, inputs.options.logo_png, figure_alts(ctx)
    )


def figure_alts(ctx: RenderContext) -> tuple[tuple[str, str], ...]:
    """(title, title and description) of every chart, in document order."""
    return tuple(
        (block.chart.title, f"{block.chart.title}. {block.chart.desc}")
        for section in ctx.view.sections
        for block in section.blocks
        if isinstance(block, Figure)
    )


def render(ctx: RenderContext) -> dict[str, bytes]:
    """report.pdf."""
    return {"report.pdf": render_pdf(job(ctx), ctx.inputs.limits)}


def start(ctx: RenderContext) -> Started:
    """report.pdf, rendering in its subprocess while the caller goes on."""
    run = start_pdf(job(ctx), ctx.inputs.limits)
    return Started(lambda: {"report.pdf": run.result()}, run.stop, run.done)


def resident(limits: RenderLimits) -> int:
    """The memory (bytes) the renderer process needs while it runs (D97)."""
    return limits.resident_mib * MIB
