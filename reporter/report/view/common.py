"""Shared pieces of the view: evidence citations, and the tables every section uses (controls,
metrics, gaps, metric breakdowns)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from reporter.bundle.limits import MIB
from reporter.catalog.library import Library
from reporter.models.results import Assessment, ControlResult, Gap, MetricValue, rate_text
from reporter.report import fmt
from reporter.report.interface import ReportInputs, findings_attached
from reporter.report.view.model import Cell, Col, Table

# Kinds a metric family reads, for metrics no control names (so every number still cites sources).
FAMILY_KINDS = {
    "V": ("assets", "observations", "scans", "identities"),
    "T": ("findings", "deployments", "verifications", "kev_entries"),
    "E": ("deployments", "verifications", "findings", "rollout_events"),
    "X": ("exceptions", "compensating_controls"),
    "R": ("findings", "assets", "kev_entries", "epss_scores"),
    "N": ("identities", "secret_exposures", "agents"),
}
HEADLINE_KINDS = ("deployments", "verifications", "findings", "assets")
MANIFEST_REF = "E0"  # bundle.yaml itself, cited by the evidence checks


@dataclass(frozen=True)
class Ctx:
    """The inputs of one view build plus lookups every section needs."""

    inputs: ReportInputs

    @property
    def assessment(self) -> Assessment:
        """The assessment being reported."""
        return self.inputs.assessment

    @property
    def library(self) -> Library:
        """The control library it was assessed with."""
        return self.inputs.library

    @property
    def rows(self) -> int:
        """Row cap of the main detail tables."""
        return self.inputs.limits.detail_rows

    @property
    def gap_rows(self) -> int:
        """Row cap of the other controls' gap lists inside topical sections."""
        return self.inputs.limits.section_gap_rows

    @cached_property
    def controls(self) -> dict[str, ControlResult]:
        """Control results by id."""
        return {c.control_id: c for c in self.assessment.controls}

    @cached_property
    def metrics(self) -> dict[str, MetricValue]:
        """Metric values by id."""
        return {m.id: m for m in self.assessment.metrics}

    @cached_property
    def by_path(self) -> dict[str, str]:
        """Evidence file path → citation label (E1...)."""
        return {s.path: s.ref for s in self.assessment.bundle.sources}

    def refs_for_kinds(self, kinds: Iterable[str]) -> tuple[str, ...]:
        """Every evidence file holding one of these record kinds, in index order; the manifest is E0."""
        wanted = set(kinds)
        manifest = (MANIFEST_REF,) if "manifest" in wanted else ()
        return manifest + tuple(s.ref for s in self.assessment.bundle.sources if wanted.intersection(s.kinds))

    def refs_for_metric(self, metric: MetricValue) -> tuple[str, ...]:
        """The files behind a metric: the kinds of the controls that name it, else its family's kinds."""
        kinds = {k for c in self.assessment.controls if metric.id in c.metrics for k in c.evidence_kinds}
        return self.refs_for_kinds(kinds or FAMILY_KINDS.get(metric.family, ()))

    def family(self, prefix: str) -> list[ControlResult]:
        """Control results of one family, in id order."""
        return [c for c in self.assessment.controls if c.family == prefix]

    def metric_family(self, prefix: str) -> list[MetricValue]:
        """Metrics of one family, in the assessment's order."""
        return [m for m in self.assessment.metrics if m.family == prefix]

    def metric_display(self, metric_id: str) -> str:
        """A metric's printed value, or why it has none."""
        metric = self.metrics.get(metric_id)
        if metric is None:
            return "n/a (not in this assessment)"
        if metric.measure is None:
            return "not measurable"
        return metric.measure.display


def control_table(
    ctx: Ctx,
    table_id: str,
    caption: str,
    controls: Sequence[ControlResult],
    empty: str = "No control of this family is in the library.",
) -> Table:
    """Controls with status (word and glyph), measure, reason, gaps and the evidence files read."""
    cols = (
        Col("Control", 22),
        Col("Status", 14),
        Col("Result and reason", 35),
        Col("Gaps", 7, "r"),
        Col("Severity", 10),
        Col("Evidence", 12),
    )
    rows = tuple(
        (
            Cell(c.control_id, kind="mono", note=c.title),
            Cell(kind="status", badge=fmt.badge(c.status.value), note=deviation_text(c)),
            Cell(c.measure.display, note=c.reason),
            Cell(
                fmt.count(c.gap_total),
                kind="num",
                note=f"{fmt.count(c.gaps_excepted)} excepted" if c.gaps_excepted else "",
            ),
            Cell(c.severity),
            Cell(kind="refs", refs=ctx.refs_for_kinds(c.evidence_kinds)),
        )
        for c in controls
    )
    return Table(table_id, caption, cols, rows, empty=empty)


def metric_table(
    ctx: Ctx,
    table_id: str,
    caption: str,
    metrics: Sequence[MetricValue],
    empty: str = "No metric of this family is in this assessment.",
) -> Table:
    """Metrics with value (or why not measurable), unit of count, threshold and evidence."""
    cols = (Col("Metric", 24), Col("Value", 34), Col("Threshold", 29), Col("Evidence", 13))
    rows = tuple(
        (
            Cell(m.id, kind="mono", note=m.title),
            Cell(
                m.measure.display if m.measure else "not measurable",
                note=f"counted per {m.unit_of_count}" if m.measurable else (m.reason or ""),
            ),
            Cell(m.threshold or fmt.DASH),
            Cell(kind="refs", refs=ctx.refs_for_metric(m)),
        )
        for m in metrics
    )
    return Table(table_id, caption, cols, rows, empty=empty)


def gap_status(gap: Gap) -> str:
    """How the CSV names a gap's state: gap, undecided (unknown certainty) or excepted."""
    if gap.excepted_by:
        return "excepted"
    return "undecided" if gap.certainty.value == "unknown" else "gap"


def gap_location(ctx: Ctx, gap: Gap) -> tuple[tuple[str, ...], str]:
    """(citation labels, where in the file) for a gap."""
    ref = ctx.by_path.get(gap.source)
    where = f"line {gap.line}" if gap.line is not None else f"record {gap.record}" if gap.record is not None else ""
    if ref is None:
        return (), f"{gap.source} {where}".strip()
    return (ref,), where


RISK_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


def gap_risk(gap: Gap) -> str:
    """A gap's risk level (docs/report.md, "Gap risk"); the control's severity for results without one."""
    return gap.risk.level if gap.risk else gap.severity


def risk_facts(gap: Gap) -> str:
    """What a gap's risk rests on, in a few words: 'critical vulnerability, KEV, internet-facing, high
    importance asset, 587 days overdue'; 'control severity high, admin identity'."""
    r = gap.risk
    if r is None:
        return "control severity"
    base = f"{r.vuln_severity} vulnerability" if r.basis == "finding" else f"control severity {gap.severity}"
    facts = [base]
    facts += ["KEV" if r.kev else "", "internet-facing" if r.internet_facing else ""]
    if r.asset_importance:
        facts.append(f"{r.asset_importance} importance asset")
    facts.append("admin identity" if r.identity_privileged else "")
    facts.append(f"{fmt.plural(r.days_overdue, 'day')} overdue" if r.days_overdue else "")
    facts.append("closed at as-of" if r.open_at_as_of is False else "")
    return ", ".join(f for f in facts if f)


def gap_rows(ctx: Ctx, gaps: Sequence[Gap]) -> tuple[tuple[Cell, ...], ...]:
    """One row per gap: record, what is wrong, its risk and what that rests on, state and the evidence."""
    rows = []
    for gap in gaps:
        refs, where = gap_location(ctx, gap)
        state = gap_status(gap)
        rows.append(
            (
                Cell(gap.record_id, kind="mono", note=fmt.words(gap.kind)),
                Cell(
                    gap.message,
                    note=f"asset {gap.asset_id}" if gap.asset_id and gap.asset_id not in gap.message else "",
                ),
                Cell(gap_risk(gap), note=risk_facts(gap)),
                Cell(state, note=f"by {gap.excepted_by}" if gap.excepted_by else ""),
                Cell(kind="refs", refs=refs, note=where),
            )
        )
    return tuple(rows)


GAP_COLS = (Col("Record", 15), Col("Finding", 44), Col("Risk", 16), Col("State", 12), Col("Evidence", 13))


@dataclass(frozen=True)
class ControlRisk:
    """The risk of a control's unexcepted gaps: `top` from the gaps results.json lists (unexcepted and
    riskiest first, so it is exact even when the list is capped), the counts of those still open at
    as-of from the engine's `open_by_risk`, counted over every gap."""

    top: str
    counts: dict[str, int]

    @property
    def rank(self) -> int:
        """The highest risk level as a number (critical 4 … info 0)."""
        return RISK_RANK.get(self.top, 0)


def control_risk(control: ControlResult) -> ControlRisk:
    """Highest risk level and counts per level of a control's unexcepted gaps that are open at as-of
    (a gap about a finding-instance closed at as-of is not counted; other gaps are current)."""
    open_ = [g for g in control.gaps if g.excepted_by is None]
    top = max((gap_risk(g) for g in open_), key=lambda level: RISK_RANK.get(level, 0), default="info")
    counts = {level: control.open_by_risk[level] for level in RISK_RANK if control.open_by_risk.get(level)}
    return ControlRisk(top, counts)


def deviation_text(control: ControlResult) -> str:
    """'3 of 1,666 deviate (0.18 %; tolerable 0 %)', or '' when nothing deviates or there is no population
    (docs/controls.md, "Deviation and tolerable rate")."""
    d = control.deviation
    if d is None or not d.deviations:
        return ""
    rate = rate_text(d.rate or 0.0)
    tolerated = ", within tolerance" if d.within_tolerance else ""
    return (
        f"{fmt.count(d.deviations)} of {fmt.count(d.population)} deviate ({rate}; tolerable "
        f"{rate_text(d.tolerable_rate)}{tolerated})"
    )


def risk_counts_text(risk: ControlRisk, levels: Iterable[str] = ("critical", "high")) -> str:
    """'2 critical, 14 high open at as-of'."""
    parts = [f"{fmt.count(risk.counts[level])} {level}" for level in levels if risk.counts.get(level)]
    return f"{', '.join(parts)} open at as-of" if parts else ""


def gap_table(ctx: Ctx, table_id: str, caption: str, control: ControlResult | None, limit: int) -> Table:
    """A control's listed gaps, capped, saying how many more exist and where they are."""
    if control is None:
        return Table(table_id, caption, GAP_COLS, (), empty="The control is not in the library.")
    shown = control.gaps[:limit]
    return Table(
        table_id,
        caption,
        GAP_COLS,
        gap_rows(ctx, shown),
        more=more_text(ctx, len(shown), control),
        empty=_no_gaps(control),
    )


def _no_gaps(control: ControlResult) -> str:
    if control.status.value in ("error", "insufficient_evidence", "not_applicable"):
        return f"No gaps listed: the control's status is {fmt.badge(control.status.value).label.lower()}."
    return "No gaps."


def findings_where(ctx: Ctx) -> str:
    """Where findings.csv is, for a sentence: attached to the PDF (up to the attachment cap) and next to it."""
    if findings_attached(ctx.inputs):
        return "attached to the PDF and written next to it"
    # the gaps, not the file's size: the PDF may begin before findings.csv is written (D110)
    gaps = sum(control.gap_total for control in ctx.inputs.assessment.controls)
    cap = ctx.inputs.limits.attach_max_bytes
    return (
        f"written next to the report; with {fmt.count(gaps)} gaps it is over the "
        f"{fmt.count(cap // MIB)} MiB cap for PDF attachments"
    )


def more_text(ctx: Ctx, shown: int, control: ControlResult) -> str:
    """'Showing 200 of 1,234 gaps; …' or empty when everything is shown."""
    if shown >= control.gap_total:
        return ""
    listed = len(control.gaps)
    results = (
        "results.json lists all of them"
        if listed >= control.gap_total
        else f"results.json lists the first {fmt.count(listed)}"
    )
    return (
        f"Showing {fmt.count(shown)} of {fmt.count(control.gap_total)} gaps of {control.control_id}; "
        f"{results}, and findings.csv ({findings_where(ctx)}) lists every one."
    )


def breakdown_tables(prefix: str, metrics: Sequence[MetricValue]) -> list[Table]:
    """The metrics' breakdowns as one table, a row per breakdown entry with its content as text (a row
    per leaf value would multiply the PDF's rendering time; results.json keeps the structure)."""
    rows: list[tuple[Cell, ...]] = []
    for metric in metrics:
        for n, (key, value) in enumerate(metric.breakdown.items()):
            rows.append(
                (
                    Cell(metric.id if n == 0 else "", kind="mono", note=metric.title if n == 0 else ""),
                    Cell(fmt.words(str(key))),
                    Cell(inline(value)),
                )
            )
    if not rows:
        return []
    return [
        Table(
            f"{prefix}-{metrics[0].family.lower()}",
            "Breakdowns",
            (Col("Metric", 20), Col("Entry", 18), Col("Values", 62)),
            tuple(rows),
            compact=True,
        )
    ]


INLINE_ITEMS = 40


def inline(value: Any) -> str:
    """A breakdown entry as one line: 'failed 46, partial 9'; 'server: assets 115, covered 114'."""
    if isinstance(value, dict):
        parts = [_pair(k, v) for k, v in value.items()]
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        parts = [_record(v) for v in value]
    elif isinstance(value, list):
        parts = [scalar(v) for v in value]
    else:
        return scalar(value)
    text = (
        "; ".join(parts[:INLINE_ITEMS])
        if any(isinstance(v, dict | list) for v in _values(value))
        else ", ".join(parts[:INLINE_ITEMS])
    )
    return text + (
        f" … ({fmt.count(len(parts) - INLINE_ITEMS)} more in results.json)" if len(parts) > INLINE_ITEMS else ""
    )


def _values(value: Any) -> list[Any]:
    return list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, list) else []


def _pair(key: str, value: Any) -> str:
    if isinstance(value, dict):
        return f"{fmt.words(str(key))}: " + ", ".join(_pair(k, v) for k, v in value.items())
    if isinstance(value, list):
        return f"{fmt.words(str(key))}: " + ", ".join(scalar(v) for v in value[:20])
    return f"{fmt.words(str(key))} {scalar(value)}"


def _record(record: Mapping[str, Any]) -> str:
    """A flat record: its text values name it, its numbers follow ('critical × high: targeted 70')."""
    names = [str(v) for v in record.values() if isinstance(v, str)]
    numbers = [_pair(k, v) for k, v in record.items() if not isinstance(v, str)]
    return f"{' × '.join(names)}: {', '.join(numbers)}" if names else ", ".join(numbers)


def scalar(value: Any) -> str:
    """A breakdown value as printed: counts with separators, decimals to one place."""
    if value is None:
        return fmt.DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return fmt.count(value)
    if isinstance(value, float):
        return fmt.number(value, 3 if abs(value) < 1 else 1)
    if isinstance(value, dict):
        return "; ".join(f"{fmt.words(str(k))}: {scalar(v)}" for k, v in value.items())
    return str(value)
