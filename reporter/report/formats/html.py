"""HTML: one self-contained file (inline CSS and SVG, CSP meta tag, no external resource), with the
explorer (embedded data and a hash-allowed inline script) when the pipeline produced its data."""

from __future__ import annotations

from reporter.report.explore import explorer
from reporter.report.interface import RenderContext
from reporter.report.templating import render_document

FILES = ("report.html",)


def render(ctx: RenderContext) -> dict[str, bytes]:
    """report.html."""
    document = render_document(ctx.view, "html", explorer(ctx.inputs.exports))
    return {"report.html": document.encode("utf-8")}
