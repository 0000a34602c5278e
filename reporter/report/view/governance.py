"""Exceptions register, non-human identities and AI agents."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from reporter.models.catalog import ItemStatus
from reporter.models.results import ControlResult, ExceptionEntry
from reporter.report import charts, fmt
from reporter.report.view.common import Ctx, breakdown_tables, control_table, gap_table, metric_table
from reporter.report.view.model import Block, Cell, Col, Figure, Para, Table
from reporter.report.view.reconciliation import integrity_note, with_mark

Section = tuple[str, tuple[Block, ...]]
AGEING = (
    ("expired", "Expired", "red"),
    ("not approved", "Not approved", "purple"),
    ("no expiry", "No expiry date", "orange"),
    ("30", "Expires within 30 days", "yellow"),
    ("90", "Expires in 31–90 days", "sky"),
    ("later", "Expires after 90 days", "blue"),
)
STATE_BADGE = {
    "active": fmt.Badge("pass", "✓", "active"),
    "expired": fmt.Badge("fail", "✗", "expired"),
    "no expiry": fmt.Badge("partial", "◐", "no expiry"),
    "not approved": fmt.Badge("insufficient_evidence", "?", "not approved"),
}


def ageing_bucket(entry: ExceptionEntry, as_of: datetime) -> str:
    """Which ageing bar an exception belongs to at the as-of time."""
    if entry.state in ("expired", "not approved", "no expiry"):
        return entry.state
    if entry.expires_at is None:
        return "no expiry"
    days_left = (entry.expires_at - as_of).total_seconds() / 86400
    return "30" if days_left <= 30 else "90" if days_left <= 90 else "later"


def exceptions_section(ctx: Ctx) -> Section:
    """The register (results.json `exceptions`), its ageing, and the exception controls and metrics."""
    records = ctx.assessment.exceptions
    intro = (
        "Every risk acceptance or deviation in the bundle, its state at the as-of time and whether it is valid: an "
        "exception counts only with an owner, an approver, an expiry within the policy's maximum that has not "
        "passed, and — for a mitigation — a verified compensating control. exceptions.csv holds the same register."
    )
    x = ctx.metric_family("X")
    blocks: list[Block] = [
        _ageing_figure(ctx, records),
        _register(ctx, records),
        control_table(ctx, "tbl-exc", "Exception controls (EXC)", ctx.family("EXC")),
        metric_table(ctx, "tbl-x", "Exception metrics (X)", x),
        *breakdown_tables("bd", x),
    ]
    return intro, tuple(blocks)


def _ageing_figure(ctx: Ctx, records: list[ExceptionEntry]) -> Figure:
    as_of = ctx.assessment.as_of
    counts = Counter(ageing_bucket(r, as_of) for r in records)
    total = len(records)
    if not total:
        chart = charts.empty("chart-exc-ageing", "Exception ageing", "The bundle holds no exceptions.")
        return Figure(chart, "No exceptions to age.")
    bars = [
        charts.Bar(label, fmt.fraction(counts[key], total), fmt.count(counts[key]), tone) for key, label, tone in AGEING
    ]
    desc = "; ".join(f"{b.label}: {b.display}" for b in bars)
    chart = charts.bar_chart("chart-exc-ageing", f"Exception ageing at {fmt.moment(as_of)}", desc, bars)
    rows = tuple((Cell(b.label), Cell(b.display, kind="num")) for b in bars)
    table = Table(
        "tbl-exc-ageing",
        "Exceptions by time to expiry",
        (Col("State", 60), Col("Exceptions", 40, "r")),
        rows,
        compact=True,
    )
    refs = ctx.refs_for_kinds(["exceptions"])
    return Figure(
        chart,
        f"{fmt.plural(total, 'exception')} by state and time left to expiry. Evidence: "
        + (", ".join(refs) or "none")
        + ".",
        table,
    )


def _register(ctx: Ctx, records: list[ExceptionEntry]) -> Table:
    shown = records[: ctx.rows]
    rows = tuple(_register_row(ctx, r) for r in shown)
    cols = (
        Col("Exception", 17),
        Col("Response", 11),
        Col("Owner / approver", 15),
        Col("Approved / expires", 14),
        Col("State", 11),
        Col("Compensating controls", 12),
        Col("Covers", 8, "r"),
        Col("Evidence", 12),
    )
    more = (
        f"Showing {fmt.count(len(shown))} of {fmt.count(len(records))} exceptions; exceptions.csv lists every one."
        if len(records) > len(shown)
        else ""
    )
    return Table(
        "tbl-exc-register", "Exceptions register", cols, rows, more=more, empty="The bundle holds no exceptions."
    )


def _register_row(ctx: Ctx, e: ExceptionEntry) -> tuple[Cell, ...]:
    ref = ctx.by_path.get(e.source)
    # validity rests on the register's own file and, with compensating controls, on their verification records
    controls = ctx.refs_for_kinds(["compensating_controls"]) if e.compensating_controls else ()
    relied = ((ref,) if ref else ()) + controls
    validity = with_mark("valid" if e.valid else "not valid", integrity_note(ctx, relied))
    return (
        Cell(e.id, kind="mono", note=e.title or ""),
        Cell(fmt.words(e.risk_response) or fmt.DASH, note=fmt.words(e.deviation_type or "")),
        Cell(e.owner or "no owner", note=f"approver: {e.approver or 'none'}"),
        Cell(_date(e.approved_at), note=f"expires {_date(e.expires_at)}"),
        Cell(kind="status", badge=STATE_BADGE.get(e.state, fmt.badge(e.state)), note=validity),
        Cell(
            str(e.compensating_controls),
            note=f"verified {_date(e.control_verified_at)}" if e.control_verified_at else "",
        ),
        Cell(str(e.covered_instances), kind="num"),
        Cell(kind="refs", refs=(ref,) if ref else (), note=f"line {e.line}" if e.line is not None else e.source),
    )


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else fmt.DASH


def nhi_section(ctx: Ctx) -> Section:
    """NHI controls (OWASP NHI Top 10), N metrics, credential age, and the critical gaps."""
    intro = (
        "Service accounts, API keys, tokens, certificates and agent credentials. A patched host stays exposed "
        "through a leaked or unrotated key, so these controls sit beside the patching figures."
    )
    n = ctx.metric_family("N")
    blocks: list[Block] = [
        control_table(ctx, "tbl-nhi", "Non-human identity controls (NHI)", ctx.family("NHI")),
        _credential_age(ctx),
        metric_table(ctx, "tbl-n", "Identity metrics (N)", n),
        *breakdown_tables("bd", n),
    ]
    for control in ctx.family("NHI"):
        if control.gap_total and control.severity == "critical":
            blocks.append(
                gap_table(
                    ctx,
                    f"tbl-gaps-{control.control_id.lower()}",
                    f"{control.control_id} {control.title}: gaps",
                    control,
                    ctx.gap_rows,
                )
            )
    return intro, tuple(blocks)


def _credential_age(ctx: Ctx) -> Figure:
    """Age of current static secrets (N2 breakdown age_days: median, P90, max) against the rotation limit."""
    limit = float(ctx.assessment.policy.nhi.rotation_max_days)
    metric = ctx.metrics.get("N2")
    title = "Credential age against the rotation limit"
    ages = metric.breakdown.get("age_days") if metric is not None and metric.measurable else None
    if metric is None or not isinstance(ages, dict) or not ages.get("count"):
        why = metric.reason if metric is not None and metric.reason else "no credential ages in this assessment (N2)"
        return Figure(
            charts.empty("chart-cred-age", title, f"Not available: {why}"[:110]),
            "Credential age could not be shown: " + why,
        )
    points = [
        (label, _number(ages.get(key)))
        for label, key in (("Median age", "median"), ("90th percentile", "p90"), ("Oldest", "max"))
    ]
    points.append(("Rotation limit (policy)", limit))
    scale = max([v for _, v in points if v is not None] + [1.0])
    bars = [charts.Bar(label, (v or 0.0) / scale, fmt.days(v), _age_tone(label, v, limit)) for label, v in points]
    count = fmt.count(ages.get("count"))
    desc = f"{count} static credentials; " + "; ".join(f"{b.label}: {b.display}" for b in bars)
    rows = tuple((Cell(b.label), Cell(b.display, kind="num")) for b in bars)
    table = Table(
        "tbl-cred-age",
        "Credential age (days since the current secret was issued)",
        (Col("Measure", 60), Col("Days", 40, "r")),
        rows,
        compact=True,
    )
    compliance = metric.measure.display if metric.measure else fmt.DASH
    caption = (
        f"N2 over {count} enabled long-lived credentials; red bars exceed the {limit:g}-day rotation limit. "
        f"Compliance: {compliance}. Evidence: " + ", ".join(ctx.refs_for_metric(metric)) + "."
    )
    return Figure(charts.bar_chart("chart-cred-age", title, desc, bars), caption, table)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _age_tone(label: str, value: float | None, limit: float) -> str:
    if label.startswith("Rotation"):
        return "grey"
    return "red" if value is not None and value > limit else "green"


def agents_section(ctx: Ctx) -> Section:
    """AI agents: AGT controls and the ATLAS / AI RMF items they speak for, with those items' status."""
    intro = (
        "AI agent workloads: inventoried and owned, short-lived scoped credentials, human approval for consequential "
        "tools. Only the ATLAS mitigations whose text the evidence actually shows are mapped."
    )
    agt = ctx.family("AGT")
    blocks: list[Block] = [control_table(ctx, "tbl-agt", "AI agent controls (AGT)", agt), _agent_items(ctx, agt)]
    for control in agt:
        if control.gap_total:
            blocks.append(
                gap_table(
                    ctx,
                    f"tbl-gaps-{control.control_id.lower()}",
                    f"{control.control_id} {control.title}: gaps",
                    control,
                    ctx.gap_rows,
                )
            )
    return intro, tuple(blocks)


def _item_status(ctx: Ctx, framework: str, item_id: str) -> ItemStatus | None:
    for result in ctx.assessment.frameworks.frameworks:
        if result.framework == framework:
            return next((i for i in result.items if i.item_id == item_id), None)
    return None


def _agent_items(ctx: Ctx, agt: list[ControlResult]) -> Table | Para:
    rows = []
    for result in agt:
        control = ctx.library.controls.get(result.control_id)
        if control is None:
            continue
        for ref in control.references:
            if ref.framework not in ("mitre-atlas", "nist-ai-rmf-1.0"):
                continue
            item = ctx.library.item(ref.framework, ref.id)
            status = _item_status(ctx, ref.framework, ref.id)
            rows.append(
                (
                    Cell(control.id, kind="mono"),
                    Cell(ref.id, kind="mono", note=item.label if item else ""),
                    Cell(item.kind if item else "", note="ATLAS" if ref.framework == "mitre-atlas" else "AI RMF"),
                    Cell(ref.relationship.value, note="direct" if ref.relationship.direct else "inferred (supports)"),
                    Cell(kind="status", badge=fmt.badge(status.status.value if status else "not_assessed")),
                )
            )
    if not rows:
        return Para("No AI agent control maps to MITRE ATLAS or the NIST AI RMF in this library.")
    cols = (
        Col("Control", 12),
        Col("Framework item", 40),
        Col("Kind", 16),
        Col("Relationship", 16),
        Col("Item status", 16),
    )
    return Table(
        "tbl-agt-items",
        "ATLAS techniques and mitigations, and AI RMF subcategories, the agent controls speak for",
        cols,
        tuple(rows),
    )
