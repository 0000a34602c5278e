"""Trends against the baseline, findings and remediation actions, limitations and the sign-off."""

from __future__ import annotations

from reporter.models.results import ControlResult, MetricValue
from reporter.report import charts, fmt
from reporter.report.baseline import SHORT, Comparison, Delta
from reporter.report.view import framing
from reporter.report.view.common import (
    Ctx,
    control_risk,
    deviation_text,
    findings_where,
    gap_rows,
    risk_counts_text,
)
from reporter.report.view.model import (
    Block,
    Cell,
    Col,
    Figure,
    Notice,
    Signature,
    Signatures,
    Table,
)

Section = tuple[str, tuple[Block, ...]]


def trends_section(ctx: Ctx, comparison: Comparison | None) -> Section:
    """Headline, normalised-exposure and metric deltas with their units, the trend over every
    baseline, per-control new / closed / repeat gaps and status transitions."""
    if comparison is None:
        chart = charts.empty("chart-trend", "Trend against the baseline", "No baseline given: no trend to draw.")
        return (
            "Change against a previous period needs its results.json (report --baseline).",
            (
                Notice(
                    "No baseline",
                    "No baseline was given, so no change against a previous period is shown. Pass the "
                    "previous quarters' results.json with --baseline (repeatable) to add headline deltas, metric "
                    "deltas, new / closed / repeat gaps per control and a trend.",
                ),
                Figure(chart, "No baseline given."),
            ),
        )
    intro = (
        f"This period against the baseline {comparison.label}. Every change carries its unit: percentage points "
        "(pp) for percentages, else what is counted. Measures with no better direction are marked "
        "'report only'; docs/report.md derives each change."
    )
    blocks: list[Block] = [Notice("About the baseline", n, "warn") for n in comparison.notes]
    if comparison.regressions:
        blocks.append(Notice("Regressions (--fail-on-regression)", "; ".join(comparison.regressions) + ".", "warn"))
    blocks.append(_trend_chart(comparison))
    if len(comparison.periods) > 2:
        blocks.append(_trend_table(comparison))
    blocks += [
        _delta_table("tbl-trend-counts", "Headline counts", comparison.counts),
        _delta_table("tbl-trend-normalised", "Exposure-days normalised (E7)", comparison.normalised),
        _transitions(comparison),
        _gap_changes(comparison),
        _delta_table("tbl-trend-metrics", "Metrics", comparison.metrics),
    ]
    return intro, tuple(blocks)


def _trend_chart(comparison: Comparison) -> Figure:
    pairs = [
        charts.Pair(
            SHORT.get(d.label.split(" ")[0], d.label),
            (d.before_value or 0.0) / 100.0,
            (d.after_value or 0.0) / 100.0,
            d.before,
            d.after,
        )
        for d in comparison.ratios
        if d.before_value is not None and d.after_value is not None
    ]
    desc = "; ".join(f"{d.label}: {d.before} → {d.after} ({d.change})" for d in comparison.ratios)
    chart = charts.paired_bars("chart-trend", "Headline ratios: latest baseline and this period", desc, pairs)
    return Figure(
        chart,
        "Grey: latest baseline; blue: this period. Changes in percentage points (pp) in the table.",
        _delta_table("tbl-trend-ratios", "Headline ratios", comparison.ratios),
    )


def _trend_table(comparison: Comparison) -> Table:
    """Every headline and normalised measure in every period given, oldest first."""
    width = max(8, 70 // len(comparison.periods))
    cols = (Col("Measure", 100 - width * len(comparison.periods)), *(Col(p, width, "r") for p in comparison.periods))
    rows = tuple(
        (Cell(s.label, note=s.unit), *(Cell(p.display, kind="num") for p in s.points)) for s in comparison.trend
    )
    return Table(
        "tbl-trend-periods",
        f"Trend over {fmt.plural(len(comparison.periods) - 1, 'baseline')} and this period",
        cols,
        rows,
        compact=True,
    )


def _delta_table(table_id: str, caption: str, deltas: tuple[Delta, ...]) -> Table:
    rows = tuple(
        (
            Cell(d.label),
            Cell(d.before, kind="num"),
            Cell(d.after, kind="num"),
            Cell(d.change, kind="num", note="" if d.direction in ("n/a", "same") else d.direction),
        )
        for d in deltas
    )
    cols = (Col("Measure", 34), Col("Baseline", 22, "r"), Col("This period", 22, "r"), Col("Change", 22, "r"))
    return Table(table_id, caption, cols, rows, compact=True)


def _transitions(comparison: Comparison) -> Table:
    rows = tuple(
        (
            Cell(t.control_id, kind="mono", note=t.title),
            Cell(kind="status", badge=fmt.badge(t.before)) if t.before != "absent" else Cell("not in baseline"),
            Cell(kind="status", badge=fmt.badge(t.after)) if t.after != "absent" else Cell("not in this report"),
        )
        for t in comparison.transitions
    )
    cols = (Col("Control", 46), Col("Baseline", 27), Col("This period", 27))
    return Table(
        "tbl-transitions",
        f"Control status transitions ({fmt.count(len(rows))} changed, "
        f"{fmt.count(comparison.unchanged_controls)} unchanged)",
        cols,
        rows,
        empty="No control changed status.",
    )


def _gap_changes(comparison: Comparison) -> Table:
    """New, closed and repeat gaps per control with gaps on either side (gap key: docs/report.md)."""
    changes = [c for c in comparison.gaps if c.gaps_before or c.gaps_after]
    rows = tuple(
        (
            Cell(c.control_id, kind="mono", note=c.title),
            Cell(fmt.count(c.gaps_before), kind="num"),
            Cell(fmt.count(c.gaps_after), kind="num"),
            Cell(fmt.count(c.new) if c.exact else f"≤ {fmt.count(c.new)}", kind="num"),
            Cell(fmt.count(c.closed) if c.exact else f"≤ {fmt.count(c.closed)}", kind="num"),
            Cell(fmt.count(c.repeat) if c.exact else f"≥ {fmt.count(c.repeat)}", kind="num"),
        )
        for c in changes
    )
    cols = (
        Col("Control", 40),
        Col("Gaps in baseline", 12, "r"),
        Col("Gaps now", 12, "r"),
        Col("New", 12, "r"),
        Col("Closed", 12, "r"),
        Col("Repeat", 12, "r"),
    )
    return Table(
        "tbl-trend-gaps",
        "Gaps per control: new, closed and repeat (new + repeat = gaps now; closed + repeat = gaps in baseline)",
        cols,
        rows,
        empty="No control has gaps in either period.",
    )


def actionable(ctx: Ctx) -> list[ControlResult]:
    """Controls with unexcepted gaps, riskiest first: the highest risk level of their gaps; then their
    riskiest gap's KEV, internet-facing and days overdue; then how many critical and high gaps are
    open at as-of; then the control's severity and id (docs/report.md, "Gap risk")."""
    open_ = [c for c in ctx.assessment.controls if c.gap_total - c.gaps_excepted > 0]
    return sorted(open_, key=plan_key)


def plan_key(control: ControlResult) -> tuple[int, int, int, int, int, int, int, int, str]:
    """Exposure order: the riskiest gap and its KEV, internet-facing and lateness, the open critical and
    high gaps, then how much of the population deviates, the control's severity and id."""
    risk = control_risk(control)
    lead = next((g.risk for g in control.gaps if g.excepted_by is None and g.risk), None)
    return (
        -risk.rank,
        -int(bool(lead and lead.kev)),
        -int(bool(lead and lead.internet_facing)),
        -((lead.days_overdue or 0) if lead else 0),
        -risk.counts.get("critical", 0),
        -risk.counts.get("high", 0),
        -(control.deviation.deviations if control.deviation else 0),
        fmt.SEVERITY_ORDER.get(control.severity, 9),
        control.control_id,
    )


def findings_section(ctx: Ctx) -> Section:
    """A remediation plan row per control with open gaps, riskiest first; the severity × importance of
    the gaps about findings; then each control's riskiest gaps."""
    controls = actionable(ctx)
    intro = (
        "Control deviations and the remediation action for each, riskiest first: by the highest risk of the "
        "control's open gaps (what each gap is about: vulnerability severity, KEV, internet-facing, asset "
        "importance, identity privilege, still open at as-of), then by how many critical and high gaps are open. "
        "Owner and target date come from management's response to the plan item (the bundle's management "
        "responses file); without one, the owners the evidence names for the records with open gaps (asset, "
        "identity, exception or agent owners) are shown and the target date says there is no management response. "
        "Each control lists its riskiest gaps; findings.csv "
        "holds every gap with its risk, owner, evidence file, line and hash."
    )
    rows = []
    for c in controls:
        objective = ctx.library.controls[c.control_id].objective if c.control_id in ctx.library.controls else c.title
        risk = control_risk(c)
        excepted = f"+{fmt.count(c.gaps_excepted)} excepted" if c.gaps_excepted else ""
        rows.append(
            (
                Cell(c.control_id, kind="mono", note=c.title),
                Cell(risk.top, note=f"control severity {c.severity}"),
                Cell(
                    fmt.count(c.gap_total - c.gaps_excepted),
                    kind="num",
                    note="; ".join(x for x in (risk_counts_text(risk), excepted, deviation_text(c)) if x),
                ),
                Cell(objective),
                *framing.plan_cells(ctx, c),
            )
        )
    cols = (
        Col("Control", 16),
        Col("Highest risk", 10),
        Col("Open gaps", 12, "r"),
        Col("Action: restore the objective", 32),
        Col("Owner", 18),
        Col("Target date", 12),
    )
    blocks: list[Block] = [
        Table(
            "tbl-actions",
            "Remediation plan (POA&M), riskiest first",
            cols,
            tuple(rows),
            empty="No control has open gaps.",
        )
    ]
    blocks.append(framing.responses_table(ctx, controls))
    blocks.append(_severity_importance(controls))
    blocks.append(_first_gaps(ctx, controls))
    return intro, tuple(blocks)


_IMPORTANCE = ("high", "moderate", "low", "unknown")


def _severity_importance(controls: list[ControlResult]) -> Table:
    """Per control, its unexcepted gaps about finding-instances counted by vulnerability severity ×
    asset importance, instead of a list of every gap."""
    rows: list[tuple[Cell, ...]] = []
    capped = []
    for control in controls:
        gaps = [g for g in control.gaps if g.excepted_by is None and g.risk and g.risk.basis == "finding"]
        if len(control.gaps) < control.gap_total and gaps:
            capped.append(control.control_id)
        severities = sorted({g.risk.vuln_severity or "info" for g in gaps if g.risk}, key=_severity_order)
        for n, severity in enumerate(severities):
            mine = [g.risk for g in gaps if g.risk and (g.risk.vuln_severity or "info") == severity]
            by_importance = [sum(1 for r in mine if (r.asset_importance or "unknown") == i) for i in _IMPORTANCE]
            exposed = sum(1 for r in mine if r.kev or r.internet_facing)
            closed = sum(1 for r in mine if r.open_at_as_of is False)
            rows.append(
                (
                    Cell(control.control_id if n == 0 else "", kind="mono"),
                    Cell(severity),
                    *(Cell(fmt.count(v), kind="num") for v in by_importance),
                    Cell(fmt.count(exposed), kind="num"),
                    Cell(fmt.count(closed), kind="num"),
                    Cell(fmt.count(len(mine)), kind="num"),
                )
            )
    cols = (
        Col("Control", 13),
        Col("Vulnerability severity", 13),
        *(Col(f"{i.capitalize()} importance asset", 10, "r") for i in _IMPORTANCE),
        Col("KEV or internet-facing", 11, "r"),
        Col("Closed at as-of", 11, "r"),
        Col("Total", 12, "r"),
    )
    more = (
        f"Counted from the gaps results.json lists for {', '.join(capped)} (the riskiest, capped by --max-gaps); "
        "findings.csv has every gap."
        if capped
        else ""
    )
    return Table(
        "tbl-plan-matrix",
        "Open gaps about finding-instances: vulnerability severity × asset importance",
        cols,
        tuple(rows),
        more=more,
        empty="No open gap is about a finding-instance.",
        compact=True,
    )


def _severity_order(severity: str) -> int:
    return fmt.SEVERITY_ORDER.get(severity, 9)


def _first_gaps(ctx: Ctx, controls: list[ControlResult]) -> Table:
    """One table: each control's riskiest gaps (results list them riskiest first), and how many more."""
    limit = ctx.inputs.limits.gaps_per_control
    rows: list[tuple[Cell, ...]] = []
    for control in controls:
        shown = control.gaps[:limit]
        rest = control.gap_total - len(shown)
        more = f"{control.title} (+{fmt.plural(rest, 'more gap')} in findings.csv)" if rest > 0 else control.title
        for n, row in enumerate(gap_rows(ctx, shown)):
            rows.append((Cell(control.control_id, kind="mono", note=more if n == 0 else ""), *row))
    cols = (
        Col("Control", 12),
        Col("Record", 12),
        Col("Finding", 38),
        Col("Risk", 15),
        Col("State", 11),
        Col("Evidence", 12),
    )
    return Table(
        "tbl-first-gaps",
        f"{'Riskiest gap' if limit == 1 else f'Riskiest {fmt.count(limit)} gaps'} of each control (findings.csv lists "
        "every gap, riskiest first; the HTML report's explorer filters them)",
        cols,
        tuple(rows),
        empty="No control has open gaps.",
    )


def limitations_section(ctx: Ctx) -> Section:
    """What could not be assessed, and why; and what the report leaves out by design."""
    a = ctx.assessment
    intro = "What this report cannot say, and why. A limitation is a result, not a pass."
    undecided = [c for c in a.controls if c.status.value in ("error", "insufficient_evidence", "not_applicable")]
    unmeasured = [m for m in a.metrics if not m.measurable]
    stale = [s for s in a.bundle.sources if not s.fresh]
    blocks: list[Block] = [
        Table(
            "tbl-lim-controls",
            "Controls not assessed with evidence",
            (Col("Control", 26), Col("Status", 18), Col("Reason", 56)),
            tuple(
                (
                    Cell(c.control_id, kind="mono", note=c.title),
                    Cell(kind="status", badge=fmt.badge(c.status.value)),
                    Cell(c.reason),
                )
                for c in undecided
            ),
            empty="Every control was assessed with evidence.",
        ),
        Table(
            "tbl-lim-metrics",
            "Metrics not measurable",
            (Col("Metric", 30), Col("Reason", 70)),
            tuple((Cell(m.id, kind="mono", note=m.title), Cell(m.reason or "")) for m in unmeasured),
            empty="Every metric was measurable.",
        ),
        Table(
            "tbl-lim-stale",
            "Stale evidence files",
            (Col("Ref", 10), Col("File", 50), Col("Collected", 40)),
            tuple(
                (Cell(s.ref, kind="mono"), Cell(s.path, kind="mono"), Cell(fmt.moment(s.collected_at))) for s in stale
            ),
            empty="Every evidence file is fresh for the period.",
        ),
    ]
    other = [x for x in a.limitations if not _covered(x, undecided, unmeasured)]
    if other:
        blocks.append(
            Table(
                "tbl-lim-other",
                "Other limitations stated by the assessment",
                (Col("Limitation", 100),),
                tuple((Cell(x),) for x in other),
            )
        )
    blocks.append(_by_design(ctx))
    return intro, tuple(blocks)


def _covered(text: str, controls: list[ControlResult], metrics: list[MetricValue]) -> bool:
    ids = [c.control_id for c in controls] + [m.id for m in metrics]
    return any(text.startswith(f"{i} ") for i in ids)


def _by_design(ctx: Ctx) -> Table:
    limits = ctx.inputs.limits
    items = (
        f"The main detail tables show at most {fmt.count(limits.detail_rows)} rows, other gap lists "
        f"{fmt.count(limits.section_gap_rows)}, and the findings section {fmt.count(limits.gaps_per_control)} gaps per "
        "control; each cut says how many rows it leaves out. results.json (attached to the PDF) and findings.csv "
        f"({findings_where(ctx)}) hold everything.",
        "results.json lists at most the first gaps of each control as assessed; its gap_total is always exact.",
        "Owners come from the evidence (asset, identity, exception or agent owners); where a record names none, and "
        "for every target date, the remediation plan leaves the cell to the sign-off.",
        "Framework items no control maps to are listed as not assessed by this tool; a score speaks only for the "
        "items assessed with evidence.",
        "CSV cells that a spreadsheet would evaluate (starting with = + - @, tab, CR) carry a leading apostrophe.",
    )
    return Table(
        "tbl-lim-design", "Limits of this report by design", (Col("Statement", 100),), tuple((Cell(x),) for x in items)
    )


def signoff_section(ctx: Ctx) -> Section:
    """Document control, management assertions, then prepared by, reviewed by and management
    attestation (names and role titles from bundle.yaml), with blank signature and date lines."""
    b = ctx.assessment.bundle
    intro = (
        f"Review and sign-off of this report for {b.organisation}, {b.period_start} – {b.period_end} "
        "(PCI DSS 12.4.2.1: results, remediation actions, sign-off by the person responsible for the programme)."
    )
    asserted = "makes the assertions listed above, " if b.framing.assertions else ""
    statement = (
        f"Management {asserted}has read this report, accepts the remediation plan with the owners and target dates "
        "recorded in it, and confirms that the evidence bundle (digest on the cover) is complete for the period to "
        "the best of its knowledge."
    )
    signatures = (
        Signature(
            "Prepared by", framing.preparer(ctx), "Prepared this report from the evidence bundle named on the cover."
        ),
        Signature(
            "Reviewed by (independent of the preparer)",
            framing.reviewer(ctx),
            "Reviewed the report and re-performed a sample of its figures from the evidence index.",
        ),
        Signature("Management attestation", framing.approver(ctx), statement),
    )
    return intro, (framing.document_control(ctx), framing.assertions_table(ctx), Signatures(signatures))
