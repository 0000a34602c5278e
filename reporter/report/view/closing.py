"""Trends against the baseline, findings and remediation actions, limitations and the sign-off."""

from __future__ import annotations

from reporter.models.results import ControlResult, MetricValue
from reporter.report import charts, fmt
from reporter.report.baseline import SHORT, Comparison, Delta
from reporter.report.view.common import Ctx, gap_rows
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
ACTION_BLANK = "to be assigned"


def trends_section(ctx: Ctx, comparison: Comparison | None) -> Section:
    """Headline and metric deltas, the trend chart and control status transitions."""
    if comparison is None:
        chart = charts.empty("chart-trend", "Trend against the baseline", "No baseline given: no trend to draw.")
        return (
            "Change against a previous period needs its results.json (report --baseline).",
            (
                Notice(
                    "No baseline",
                    "No baseline was given, so no change against a previous period is shown. Pass the "
                    "previous quarter's results.json with --baseline to add headline deltas, metric deltas and "
                    "control status transitions.",
                ),
                Figure(chart, "No baseline given."),
            ),
        )
    intro = f"This period against the baseline {comparison.label}."
    blocks: list[Block] = [Notice("About the baseline", n, "warn") for n in comparison.notes]
    blocks += [
        _trend_chart(comparison),
        _delta_table("tbl-trend-counts", "Headline counts", comparison.counts),
        _transitions(comparison),
        _delta_table("tbl-trend-metrics", "Metrics", comparison.metrics),
    ]
    return intro, tuple(blocks)


def _trend_chart(comparison: Comparison) -> Figure:
    pairs = [
        charts.Pair(
            SHORT.get(d.label[:2], d.label),
            (d.before_value or 0.0) / 100.0,
            (d.after_value or 0.0) / 100.0,
            d.before,
            d.after,
        )
        for d in comparison.ratios
        if d.before_value is not None and d.after_value is not None
    ]
    desc = "; ".join(f"{d.label}: {d.before} → {d.after} ({d.change})" for d in comparison.ratios)
    chart = charts.paired_bars("chart-trend", "Headline ratios: baseline and this period", desc, pairs)
    return Figure(
        chart,
        "Grey: baseline; blue: this period. Percentage-point changes in the table.",
        _delta_table("tbl-trend-ratios", "Headline ratios", comparison.ratios),
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


def actionable(ctx: Ctx) -> list[ControlResult]:
    """Controls with unexcepted gaps, most severe first."""
    open_ = [c for c in ctx.assessment.controls if c.gap_total - c.gaps_excepted > 0]
    return sorted(open_, key=lambda c: (fmt.SEVERITY_ORDER.get(c.severity, 9), c.control_id))


def findings_section(ctx: Ctx) -> Section:
    """A remediation plan row per control with open gaps, then each control's first gaps."""
    controls = actionable(ctx)
    intro = (
        "Control deviations and the remediation action for each. Owners are the owners the evidence names for the "
        "records with open gaps (asset, identity, exception or agent owners); target dates are set at sign-off. "
        "Each control lists its first gaps; findings.csv holds every gap with its owner, evidence file, line and hash."
    )
    rows = []
    for c in controls:
        objective = ctx.library.controls[c.control_id].objective if c.control_id in ctx.library.controls else c.title
        rows.append(
            (
                Cell(c.control_id, kind="mono", note=c.title),
                Cell(c.severity),
                Cell(
                    fmt.count(c.gap_total - c.gaps_excepted),
                    kind="num",
                    note=f"+{fmt.count(c.gaps_excepted)} excepted" if c.gaps_excepted else "",
                ),
                Cell(objective),
                _owners(c),
                Cell(ACTION_BLANK, kind="blank"),
            )
        )
    cols = (
        Col("Control", 18),
        Col("Severity", 9),
        Col("Open gaps", 9, "r"),
        Col("Action: restore the objective", 34),
        Col("Owner", 18),
        Col("Target date", 12),
    )
    blocks: list[Block] = [
        Table("tbl-actions", "Remediation plan (POA&M)", cols, tuple(rows), empty="No control has open gaps.")
    ]
    blocks.append(_first_gaps(ctx, controls))
    return intro, tuple(blocks)


def _owners(control: ControlResult, shown: int = 3) -> Cell:
    """The owners named by a control's open gaps, or a blank to fill at sign-off."""
    if not control.owners:
        return Cell(ACTION_BLANK, kind="blank")
    rest = len(control.owners) - shown
    return Cell(", ".join(control.owners[:shown]), note=f"+{rest} more (findings.csv)" if rest > 0 else "")


def _first_gaps(ctx: Ctx, controls: list[ControlResult]) -> Table:
    """One table: each control's first gaps, and how many more there are."""
    limit = ctx.inputs.limits.gaps_per_control
    rows: list[tuple[Cell, ...]] = []
    for control in controls:
        shown = control.gaps[:limit]
        rest = control.gap_total - len(shown)
        more = f"{control.title} (+{fmt.plural(rest, 'more gap')} in findings.csv)" if rest > 0 else control.title
        for n, row in enumerate(gap_rows(ctx, shown)):
            rows.append((Cell(control.control_id, kind="mono", note=more if n == 0 else ""), *row))
    cols = (
        Col("Control", 13),
        Col("Record", 13),
        Col("Finding", 42),
        Col("Severity", 9),
        Col("State", 11),
        Col("Evidence", 12),
    )
    return Table(
        "tbl-first-gaps",
        f"First {fmt.count(limit)} gaps of each control (findings.csv lists every gap)",
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
        "control; each cut says how many rows it leaves out. results.json and findings.csv (both attached to the PDF) "
        "hold everything.",
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
    """Prepared by, reviewed by and management attestation, with blank signature and date lines."""
    b = ctx.assessment.bundle
    intro = (
        f"Review and sign-off of this report for {b.organisation}, {b.period_start} – {b.period_end} "
        "(PCI DSS 12.4.2.1: results, remediation actions, sign-off by the person responsible for the programme)."
    )
    statement = (
        "Management has read this report, accepts the remediation plan with the owners and target dates recorded "
        "in it, and confirms that the evidence bundle (digest on the cover) is complete for the period to the best "
        "of its knowledge."
    )
    return intro, (
        Signatures(
            (
                Signature(
                    "Prepared by", b.prepared_by, "Prepared this report from the evidence bundle named on the cover."
                ),
                Signature(
                    "Reviewed by (independent of the preparer)",
                    b.reviewed_by or "",
                    "Reviewed the report and re-performed a sample of its figures from the evidence index.",
                ),
                Signature("Management attestation", "", statement),
            )
        ),
    )
