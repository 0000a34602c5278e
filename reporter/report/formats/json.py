"""JSON: results.json, byte for byte what `assess --output` writes (format_version 1)."""

from __future__ import annotations

from reporter.models.results import Assessment
from reporter.report.interface import RenderContext

FILES = ("results.json",)


def results_json(assessment: Assessment) -> bytes:
    """The assessment as results.json bytes (also attached to the PDF)."""
    return assessment.model_dump_json(indent=2).encode() + b"\n"


def render(ctx: RenderContext) -> dict[str, bytes]:
    """results.json."""
    return {"results.json": results_json(ctx.inputs.assessment)}
