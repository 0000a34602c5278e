"""CSV: the exports the pipeline produced set-based from the evidence store (quoted, formula-neutralised).
They are written as produced, never regenerated here; `samples.csv` (the audit samples of the
results) is written here the same way: RFC 4180, CRLF, UTF-8 with a byte order mark, every cell
quoted, formula-like text neutralised."""

from __future__ import annotations

import csv
import io
import re

from reporter.errors import RenderError
from reporter.models.results import Assessment
from reporter.output import Payload
from reporter.report.interface import RenderContext
from reporter.store.exports import UTF8_BOM

EXPORTS = ("findings.csv", "ledger.csv", "exceptions.csv")
FILES = (*EXPORTS, "samples.csv")
SAMPLE_COLUMNS = (
    "control_id",
    "population",
    "sample_size",
    "confidence",
    "tolerable_rate",
    "seed",
    "position",
    "rank",
    "key",
    "kind",
    "record_id",
    "asset_id",
    "vuln_id",
    "identity_id",
    "source",
    "line",
    "record",
    "sha256",
    "result",
    "message",
)
# CWE-1236 / OWASP "CSV injection": the rule of reporter/store/exports.py, in Python.
_FORMULA = re.compile(r"^\s*[=+\-@\t\r\x00]")


def render(ctx: RenderContext) -> dict[str, Payload]:
    """findings.csv, ledger.csv, exceptions.csv, samples.csv."""
    missing = [name for name in EXPORTS if name not in ctx.inputs.exports]
    if missing:
        raise RenderError(f"the assessment produced no {', '.join(missing)} export")
    files: dict[str, Payload] = {name: ctx.inputs.exports[name] for name in EXPORTS}
    files["samples.csv"] = samples_csv(ctx.inputs.assessment)
    return files


def samples_csv(assessment: Assessment) -> bytes:
    """One row per sampled record of every control, in control order then selection order."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(SAMPLE_COLUMNS)
    for control in assessment.controls:
        sample = control.sample
        if sample is None:
            continue
        design = [control.control_id, sample.population, sample.size, sample.confidence, sample.tolerable_rate]
        for position, r in enumerate(sample.records, start=1):
            row = [*design, sample.seed, position, r.rank, r.key, r.kind, r.record_id, r.asset_id, r.vuln_id]
            row += [r.identity_id, r.source, r.line, r.record, r.sha256, r.result.value, r.message]
            writer.writerow([_cell(v) for v in row])
    return UTF8_BOM + out.getvalue().encode()


def _cell(value: object) -> str:
    """A cell: empty for None, text neutralised with a leading apostrophe when a spreadsheet would evaluate it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if _FORMULA.match(value) else value
    return str(value)
