"""CSV: the exports the pipeline produced set-based from the evidence store (quoted, formula-neutralised).
They are written as produced, never regenerated here."""

from __future__ import annotations

from reporter.errors import RenderError
from reporter.report.interface import RenderContext

FILES = ("findings.csv", "ledger.csv", "exceptions.csv")


def render(ctx: RenderContext) -> dict[str, bytes]:
    """findings.csv, ledger.csv, exceptions.csv."""
    missing = [name for name in FILES if name not in ctx.inputs.exports]
    if missing:
        raise RenderError(f"the assessment produced no {', '.join(missing)} export")
    return {name: ctx.inputs.exports[name] for name in FILES}
