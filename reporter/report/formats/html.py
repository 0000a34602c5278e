"""HTML: one self-contained file (inline CSS and SVG, CSP meta tag, no external resource)."""

from __future__ import annotations

from reporter.report.interface import RenderContext
from reporter.report.templating import render_document

FILES = ("report.html",)


def render(ctx: RenderContext) -> dict[str, bytes]:
    """report.html."""
    return {"report.html": render_document(ctx.view, "html").encode("utf-8")}
