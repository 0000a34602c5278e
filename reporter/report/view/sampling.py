"""The "Audit samples" appendix: how each control's reproducible sample was drawn, one compact row per
control, and the records selected, for an auditor to re-perform the checks by hand (samples.csv holds
every sampled record with its evidence)."""

from __future__ import annotations

from reporter.checks.sampling import design_size
from reporter.models.results import ControlResult, SampleResult
from reporter.report import fmt
from reporter.report.view.common import Ctx
from reporter.report.view.model import Block, Cell, Col, Para, Table

Section = tuple[str, tuple[Block, ...]]

# Rows of the size table: (confidence, tolerable rate), the common designs of the AICPA tables.
DESIGNS = ((0.90, 0.10), (0.95, 0.10), (0.90, 0.05), (0.95, 0.05), (0.99, 0.05), (0.95, 0.02))
# Record ids printed per control in the appendix; samples.csv lists them all.
IDS_SHOWN = 10


def sampling_section(ctx: Ctx) -> Section:
    """Method, size table and the per-control samples."""
    policy = ctx.assessment.policy.sampling
    cap = f", capped at {fmt.count(policy.max_size)}" if policy.max_size is not None else ""
    intro = (
        "A reproducible random sample of each control's population, so that an auditor can re-perform the check "
        "by hand on those records and reach the same answer. The design is an attribute sample expecting no "
        f"deviation: confidence {_pct(policy.confidence)}, tolerable deviation rate {_pct(policy.tolerable_rate)} "
        f"(policy sampling), so n = {fmt.count(design_size(policy.confidence, policy.tolerable_rate))}{cap}, or "
        "the whole population when it is smaller (AU-C 530; AICPA Audit Sampling guide; ISACA ITAF 2208)."
    )
    controls = [c for c in ctx.assessment.controls if c.sample is not None and c.sample.size > 0]
    blocks: tuple[Block, ...] = (
        Para(
            "Selection: seed = SHA-256 of the bundle digest, ':' and the control id (hex); each population unit's "
            "key is kind|record_id|asset_id|vuln_id|identity_id (an absent id empty) and its rank is SHA-256 of "
            "seed, ':' and key; the sample is the n lowest ranks. Re-derive any of them with "
            "printf '%s' \"<seed>:<key>\" | sha256sum. To re-perform: open each sampled record in its evidence "
            "file (samples.csv gives file, line, record number and the file's SHA-256), apply the control's rule "
            "(docs/controls.md) and compare with the result column: deviation, excepted, undetermined or conforms."
        ),
        _size_table(),
        _control_table(controls),
    )
    return intro, blocks


def _pct(value: float) -> str:
    return f"{value * 100:g} %"


def _size_table() -> Table:
    rows = tuple(
        (Cell(_pct(c), kind="num"), Cell(_pct(t), kind="num"), Cell(fmt.count(design_size(c, t)), kind="num"))
        for c, t in DESIGNS
    )
    cols = (Col("Confidence", 34, "r"), Col("Tolerable deviation rate", 33, "r"), Col("Sample size", 33, "r"))
    return Table(
        "tbl-sample-sizes",
        "Sample size with no deviation expected: ceil(ln(1 − confidence) / ln(1 − rate))",
        cols,
        rows,
        compact=True,
    )


def _control_table(controls: list[ControlResult]) -> Table:
    rows = tuple(_row(c) for c in controls)
    cols = (
        Col("Control", 9),
        Col("Population", 11, "r"),
        Col("Size", 7, "r"),
        Col("Deviations", 11, "r"),
        Col("Seed", 13),
        Col("First sampled records (lowest rank first; * deviation, ? undetermined, ~ excepted)", 49),
    )
    return Table(
        "tbl-samples",
        "Audit sample of each control (samples.csv lists every sampled record with its evidence)",
        cols,
        rows,
        empty="No control has a population to sample.",
        compact=True,
    )


_MARK = {SampleResult.DEVIATION: "*", SampleResult.UNDETERMINED: "?", SampleResult.EXCEPTED: "~"}


def _row(control: ControlResult) -> tuple[Cell, ...]:
    sample = control.sample
    assert sample is not None
    ids = [r.record_id + _MARK.get(r.result, "") for r in sample.records[:IDS_SHOWN]]
    rest = sample.size - len(ids)
    listed = ", ".join(ids) + (f" … +{fmt.count(rest)} more" if rest > 0 else "")
    return (
        Cell(control.control_id, kind="mono"),
        Cell(fmt.count(sample.population), kind="num"),
        Cell(fmt.count(sample.size), kind="num"),
        Cell(fmt.count(sample.deviations), kind="num"),
        Cell(sample.seed[:12], kind="mono"),
        Cell(listed, kind="mono"),
    )
