"""The cover and the executive summary: activity and verified reduction side by side, the
importance matrix, top exposures and the change against a baseline."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from reporter.assess.conclusion import EFFECTIVE, WITH_EXCEPTIONS, conclusion_of
from reporter.models.results import Conclusion, Gap, rate_text
from reporter.report import charts, fmt
from reporter.report.baseline import Comparison, report_id
from reporter.report.interface import DateBasis, findings_attached
from reporter.report.view import framing, reconciliation
from reporter.report.view.closing import actionable
from reporter.report.view.common import (
    HEADLINE_KINDS,
    RISK_RANK,
    Ctx,
    control_risk,
    gap_location,
    gap_risk,
    risk_counts_text,
    risk_facts,
)
from reporter.report.view.model import (
    Block,
    Cell,
    Col,
    Compare,
    Cover,
    Figure,
    Figures,
    KeyFigure,
    Notice,
    Para,
    Table,
)

VULN_ORDER = ("critical", "high", "medium", "low", "info")
ASSET_ORDER = ("high", "moderate", "low", "unknown")
DEFAULT_TITLE = "Patching activity and verified risk reduction"
TOP_EXPOSURES = 5
FAILED_SHOWN = 10  # failed controls listed in the executive summary; the plan lists them all


def period_text(ctx: Ctx) -> str:
    """The period as printed."""
    b = ctx.assessment.bundle
    return f"{b.period_start} – {b.period_end}"


def classification(ctx: Ctx) -> str:
    """--classification, else the bundle's, else a plain statement that none was given."""
    return ctx.inputs.options.classification or ctx.assessment.bundle.classification or "Unclassified"


def title(ctx: Ctx) -> str:
    """--title, else the product's headline."""
    return ctx.inputs.options.title or DEFAULT_TITLE


def cover(ctx: Ctx, comparison: Comparison | None) -> Cover:
    """The cover page and its control block."""
    a = ctx.assessment
    logo = ctx.inputs.options.logo_png
    return Cover(
        title=title(ctx),
        organisation=a.bundle.organisation,
        scope=a.bundle.scope,
        period=f"{period_text(ctx)} (UTC, inclusive)",
        as_of=fmt.moment(a.as_of),
        report_id=report_id(a.bundle.digest),
        digest=a.bundle.digest,
        manifest_sha256=a.bundle.manifest_sha256,
        generated_at=fmt.moment_seconds(ctx.inputs.generated_at),
        classification=classification(ctx),
        prepared_by=framing.preparer(ctx),
        reviewed_by=framing.reviewer(ctx) or "not named in the bundle",
        approved_by=framing.approver(ctx),
        version=framing.version_text(ctx),
        conclusion=f"{_conclusion(ctx).outcome.capitalize()} (by the rule in docs/report.md; the executive summary "
        "gives the reasons)",
        tool=f"{a.tool.name} {a.tool.version}",
        catalogs=tuple(
            fmt.catalog_label(ctx.library.frameworks[f].meta.name if f in ctx.library.frameworks else f, v)
            for f, v in sorted(a.tool.catalogs.items())
        ),
        baseline=comparison.label if comparison else "none given",
        findings_in_pdf=findings_attached(ctx.inputs),
        logo_data_uri=f"data:image/png;base64,{base64.b64encode(logo).decode()}" if logo else "",
        has_logo=logo is not None,
        date_note=DATE_NOTES[ctx.inputs.date_basis],
        seal=seal_text(ctx),
    )


DATE_NOTES = {
    DateBasis.AS_OF: "the assessment instant; the same evidence gives the same document",
    DateBasis.GIVEN: "set with --generated-at",
    DateBasis.EPOCH: "from SOURCE_DATE_EPOCH",
}


def seal_text(ctx: Ctx) -> str:
    """The preparer's seal as verified on load, and what it was checked against."""
    seal = ctx.assessment.bundle.seal
    if seal is None:
        return "Not sealed: nothing but this report's digests ties bundle.yaml to its preparer"
    against = (
        "the trusted key given with --seal-key"
        if seal.key_id in ctx.inputs.options.seal_keys
        else "the key bundle.yaml declares (compare the key id with the preparer's published key)"
    )
    return (
        f"Sealed by {seal.signer} on {fmt.moment(seal.sealed_at)} with Ed25519 key {seal.key_id}; "
        f"signature verified against {against}"
    )


def executive_summary(ctx: Ctx, comparison: Comparison | None, trend_anchor: str) -> tuple[str, tuple[Block, ...]]:
    """(intro, blocks) of the executive summary."""
    h = ctx.assessment.headline
    intro = (
        f"{fmt.count(h.deployments_attempted)} deployments were attempted and {h.activity.display} were reported "
        f"successful: that is activity. Of the finding-instances those deployments targeted, "
        f"{h.verified_removed.display} were verified removed by {fmt.moment(ctx.assessment.as_of)}: that is risk "
        "reduction. Neither number stands alone: the matrix below splits them by vulnerability and asset importance."
    )
    blocks: list[Block] = [
        conclusion_notice(ctx),
        _compare(ctx),
        _remaining(ctx),
        _funnel(ctx),
        heat_figure(ctx),
        _status_counts(ctx),
        _failed_by_exposure(ctx),
        _top_exposures(ctx),
    ]
    blocks += _change(comparison, trend_anchor)
    return intro, tuple(blocks)


def _conclusion(ctx: Ctx) -> Conclusion:
    """The assessment's conclusion; results written before it was part of them get it by the same rule."""
    a = ctx.assessment
    return a.conclusion or conclusion_of(a.controls, a.metrics, a.headline.verified_removed)


def conclusion_notice(ctx: Ctx) -> Notice:
    """The overall conclusion with the conditions that decided it."""
    found = _conclusion(ctx)
    tone = "info" if found.outcome in (EFFECTIVE, WITH_EXCEPTIONS) else "warn"
    rule = (
        " Derived from the results by a fixed rule (docs/report.md, Overall conclusion): control statuses, scan "
        "coverage (V5) and verified risk reduction (E2). It is the tool's reading of the evidence, not an audit "
        "opinion."
    )
    return Notice("Overall conclusion", found.text + rule, tone)


def _compare(ctx: Ctx) -> Compare:
    """Activity counted in deployments | verified reduction counted in finding-instances: one unit per side."""
    h = ctx.assessment.headline
    refs = ctx.refs_for_kinds(HEADLINE_KINDS)
    dep_refs = ctx.refs_for_kinds(["deployments"])
    ver_refs = ctx.refs_for_kinds(["deployments", "verifications"])
    e1 = ctx.metrics.get("E1")
    by_status = e1.breakdown.get("by_status", {}) if e1 else {}
    not_ok = ", ".join(f"{fmt.count(n)} {fmt.words(s)}" for s, n in sorted(by_status.items()) if s != "succeeded")
    left = (
        KeyFigure("Deployments attempted", fmt.count(h.deployments_attempted), "deployments in the period", dep_refs),
        KeyFigure(
            "Reported successful (E1)",
            h.activity.display,
            "of deployments attempted; " + (not_ok or "no failed deployments"),
            dep_refs,
        ),
        KeyFigure(
            "Never verified (E4)",
            h.unverified.display,
            "of successful deployments whose verification window ended by the as-of time",
            ver_refs,
            "warn",
        ),
        KeyFigure(
            "Reported successful, still vulnerable (E3)",
            h.still_vulnerable.display,
            "of successful deployments with a later verification",
            ver_refs,
            "bad",
        ),
    )
    right = (
        KeyFigure(
            "Finding-instances targeted",
            fmt.count(h.targeted_instances),
            "asset × vulnerability with a successful deployment in the period",
            refs,
        ),
        KeyFigure(
            "Verified removed (E2)",
            h.verified_removed.display,
            "of targeted finding-instances: a later verification shows it gone",
            refs,
            "good",
        ),
        KeyFigure(
            "Remediated by the deadline (T1)",
            h.sla_met.display,
            "of finding-instances due in the period",
            refs,
        ),
    )
    return Compare(
        "Patching activity (unit: deployment)",
        tuple(_marked(ctx, f) for f in left),
        "Verified risk reduction (unit: finding-instance, asset × vulnerability)",
        tuple(_marked(ctx, f) for f in right),
    )


def _marked(ctx: Ctx, figure: KeyFigure) -> KeyFigure:
    """The figure with an integrity mark when a file it rests on has no manifest hash or is stale."""
    mark = reconciliation.integrity_note(ctx, figure.refs)
    return replace(figure, note=reconciliation.with_mark(figure.note, mark)) if mark else figure


def _remaining(ctx: Ctx) -> Table:
    """What remains, one row per figure with its unit, what it is out of and its evidence."""
    h = ctx.assessment.headline
    rec = h.reconciliation
    f_refs = ctx.refs_for_kinds(["findings", "assets"])
    states = rec.get("by_state", {}).get("open_critical_high", {})
    split = ", ".join(f"{fmt.count(n)} {fmt.words(s)}" for s, n in sorted(states.items(), key=lambda kv: -kv[1]))
    exc02 = ctx.controls.get("EXC-02")
    expired = exc02.population if exc02 else sum(1 for e in ctx.assessment.exceptions if e.state == "expired")
    secrets = rec.get("secrets", {})
    rows = (
        (
            "Open critical/high finding-instances",
            fmt.count(h.open_critical_high),
            "finding-instance",
            f"open at the as-of time on active assets: {split}" if split else "open at the as-of time on active assets",
            f_refs,
        ),
        (
            "Open KEV/critical on internet-facing assets (R2)",
            fmt.count(h.open_internet_facing),
            "finding-instance",
            "open at the as-of time",
            f_refs,
        ),
        (
            "Exposure-days in the period (E7)",
            fmt.number(h.exposure_days),
            "instance-day",
            "days each finding-instance was open within the period, summed",
            f_refs,
        ),
        (
            "Expired exceptions still covering open findings (EXC-02)",
            fmt.count(h.expired_exceptions),
            "exception",
            f"of {fmt.plural(expired, 'exception')} expired by the as-of time",
            ctx.refs_for_kinds(["exceptions"]),
        ),
        (
            "Leaked secrets still valid",
            fmt.count(h.leaked_secrets_valid),
            "secret exposure",
            (
                f"of {fmt.count(secrets['detected'])} detected; NHI-02 flags "
                f"{fmt.count(h.leaked_secrets_valid + secrets['closed_late'])}: these and "
                f"{fmt.count(secrets['closed_late'])} revoked later than the policy allows"
            )
            if secrets
            else "neither revoked nor verified invalid by the as-of time",
            ctx.refs_for_kinds(["secret_exposures", "identities"]),
        ),
        (
            "Patched assets exposed through credentials (NHI-14)",
            h.patched_but_exposed.display,
            "asset",
            "of patched assets that use a non-human identity; N8 is the same count out of every patched asset: "
            + ctx.metric_display("N8"),
            ctx.refs_for_kinds(["identities", "secret_exposures", "assets"]),
        ),
    )
    return Table(
        "tbl-remaining",
        "Remaining exposure at the as-of time: each figure with its unit and what it is out of",
        (
            Col("Figure", 30),
            Col("Value", 14, "r"),
            Col("Unit", 14),
            Col("Out of / counted as", 30),
            Col("Evidence", 12),
        ),
        tuple(
            (Cell(label), Cell(value, kind="num"), Cell(unit), Cell(note), _refs_cell(ctx, refs))
            for label, value, unit, note, refs in rows
        ),
        compact=True,
    )


def _refs_cell(ctx: Ctx, refs: tuple[str, ...]) -> Cell:
    return Cell(kind="refs", refs=refs, note=reconciliation.integrity_note(ctx, refs))


def _funnel(ctx: Ctx) -> Figure:
    """Deployments then finding-instances: two labelled scales, each half against its own first stage."""
    h = ctx.assessment.headline
    removed = h.verified_removed.numerator or 0
    dep_scale = f"deployments (scale: {fmt.count(h.deployments_attempted)})"
    inst_scale = f"finding-instances (scale: {fmt.count(h.targeted_instances)})"
    stages = (
        charts.Stage(
            "Deployments attempted",
            dep_scale,
            1.0 if h.deployments_attempted else 0.0,
            fmt.count(h.deployments_attempted),
            "sky",
        ),
        charts.Stage(
            "Reported successful (E1)",
            dep_scale,
            fmt.fraction(h.deployments_succeeded, h.deployments_attempted),
            fmt.count(h.deployments_succeeded),
            "blue",
        ),
        charts.Stage(
            "Targeted exposure",
            inst_scale,
            1.0 if h.targeted_instances else 0.0,
            fmt.count(h.targeted_instances),
            "orange",
        ),
        charts.Stage(
            "Verified removed (E2)",
            inst_scale,
            fmt.fraction(removed, h.targeted_instances),
            fmt.count(removed),
            "green",
        ),
    )
    desc = (
        f"Two scales. Deployments, full width {fmt.count(h.deployments_attempted)}: attempted "
        f"{fmt.count(h.deployments_attempted)}; reported successful {h.activity.display}. Finding-instances, full "
        f"width {fmt.count(h.targeted_instances)}: targeted by a successful deployment "
        f"{fmt.count(h.targeted_instances)}; verified removed {h.verified_removed.display}."
    )
    chart = charts.funnel("chart-funnel", "From deployments to verified removal", desc, stages)
    scales = (h.deployments_attempted,) * 2 + (h.targeted_instances,) * 2
    rows = tuple(
        (
            Cell(s.label),
            Cell(s.unit.split(" (")[0]),
            Cell(s.display, kind="num"),
            Cell(fmt.count(scale), kind="num"),
            Cell(fmt.percent(100.0 * s.fraction) if scale else fmt.DASH, kind="num"),
        )
        for s, scale in zip(stages, scales, strict=True)
    )
    table = Table(
        "tbl-funnel",
        "Funnel figures: each stage against the full width of its own scale",
        (
            Col("Stage", 30),
            Col("Unit", 22),
            Col("Count", 14, "r"),
            Col("Scale (full width)", 18, "r"),
            Col("Width", 16, "r"),
        ),
        rows,
        compact=True,
    )
    caption = (
        f"Two separately labelled scales: the deployment bars are drawn against the "
        f"{fmt.count(h.deployments_attempted)} deployments attempted, the finding-instance bars against the "
        f"{fmt.count(h.targeted_instances)} finding-instances targeted. A deployment can target several "
        "finding-instances, so bar widths compare only within a scale, never across the two."
    )
    return Figure(chart, caption, table)


def matrix_cells(ctx: Ctx) -> dict[tuple[str, str], dict[str, Any]]:
    """The SP 800-40r4 matrix as (vulnerability importance, asset importance) → cell."""
    return {(str(c.get("vuln_importance")), str(c.get("asset_importance"))): c for c in ctx.assessment.headline.matrix}


def matrix_axes(cells: dict[tuple[str, str], dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Rows and columns that hold anything (an all-empty 'unknown' column is left out)."""

    def used(key: tuple[str, str]) -> bool:
        cell = cells[key]
        return bool(cell.get("due") or cell.get("open"))

    rows = [v for v in VULN_ORDER if any(used(k) for k in cells if k[0] == v)]
    cols = [a for a in ASSET_ORDER if any(used(k) for k in cells if k[1] == a)]
    extra_rows = sorted({k[0] for k in cells if k[0] not in VULN_ORDER and used(k)})
    extra_cols = sorted({k[1] for k in cells if k[1] not in ASSET_ORDER and used(k)})
    return rows + extra_rows, cols + extra_cols


def heat_figure(ctx: Ctx) -> Figure | Notice:
    """Open exposure by vulnerability importance × asset importance, with % met by deadline."""
    cells = matrix_cells(ctx)
    rows, cols = matrix_axes(cells)
    if not rows or not cols:
        return Notice(
            "Importance matrix",
            "The assessment has no finding-instances due or open to place in the "
            "vulnerability importance × asset importance matrix.",
        )
    peak = max((int(cells.get((r, c), {}).get("open") or 0) for r in rows for c in cols), default=0)
    grid = [[_heat_cell(cells.get((r, c)), peak) for c in cols] for r in rows]
    desc = "; ".join(
        f"{r} vulnerability on {c} asset: {grid[i][j].display} open, {grid[i][j].note or 'none due'}"
        for i, r in enumerate(rows)
        for j, c in enumerate(cols)
    )
    chart = charts.heatmap(
        "chart-heat",
        "Open exposure by importance (SP 800-40r4 §3.6)",
        desc,
        [r.capitalize() for r in rows],
        [c.capitalize() for c in cols],
        grid,
        axis=("Vulnerability", "Asset importance"),
    )
    caption = (
        "Each cell: open finding-instances at the as-of time (shade), and the share of instances due in the period "
        "that were remediated by their deadline. Evidence: " + ", ".join(ctx.refs_for_kinds(HEADLINE_KINDS)) + "."
    )
    return Figure(chart, caption, matrix_table("tbl-heat", rows, cols, cells, compact=True))


def _heat_cell(cell: dict[str, Any] | None, peak: int) -> charts.Cell:
    if cell is None:
        return charts.Cell(fmt.DASH, 0.0)
    open_ = int(cell.get("open") or 0)
    met = cell.get("met_by_deadline") or {}
    value = met.get("value")
    note = f"met {fmt.percent(100.0 * value, 0)}" if isinstance(value, int | float) else ""
    return charts.Cell(fmt.count(open_), open_ / peak if peak else 0.0, note)


def matrix_table(
    table_id: str,
    rows: list[str],
    cols: list[str],
    cells: dict[tuple[str, str], dict[str, Any]],
    *,
    compact: bool = False,
) -> Table:
    """The matrix as a table: one row per cell with due, met, mean, median, open and exposure-days."""
    header = (
        Col("Vulnerability × asset", 20),
        Col("Due in period", 11, "r"),
        Col("Met by deadline", 21, "r"),
        Col("Mean days", 11, "r"),
        Col("Median days", 11, "r"),
        Col("Open", 11, "r"),
        Col("Exposure-days", 15, "r"),
    )
    out = []
    for r in rows:
        for c in cols:
            cell = cells.get((r, c), {})
            met = cell.get("met_by_deadline") or {}
            out.append(
                (
                    Cell(f"{r} × {c}"),
                    Cell(fmt.count(cell.get("due")), kind="num"),
                    Cell(str(met.get("display", fmt.DASH)), kind="num"),
                    Cell(fmt.number(cell.get("mean_days")), kind="num"),
                    Cell(fmt.number(cell.get("median_days")), kind="num"),
                    Cell(fmt.count(cell.get("open")), kind="num"),
                    Cell(fmt.number(cell.get("exposure_days")), kind="num"),
                )
            )
    return Table(table_id, "Vulnerability importance × asset importance", header, tuple(out), compact=compact)


def _status_counts(ctx: Ctx) -> Table:
    counts = ctx.assessment.status_counts
    order = [s for s in fmt.STATUS_ORDER if s in counts] + sorted(s for s in counts if s not in fmt.STATUS_ORDER)
    rows = tuple((Cell(kind="status", badge=fmt.badge(s)), Cell(fmt.count(counts[s]), kind="num")) for s in order)
    total = sum(counts.values())
    return Table(
        "tbl-status-counts",
        f"Control outcome: {fmt.count(total)} controls",
        (Col("Status", 60), Col("Controls", 40, "r")),
        rows,
        compact=True,
    )


def _failed_by_exposure(ctx: Ctx) -> Table:
    """Failed and partial controls, most exposed first (the remediation plan's order), each with how much
    of its population deviates against the tolerable rate: 3 of 1,666 reads apart from 900 of 1,666."""
    failed = [c for c in actionable(ctx) if c.status.value in ("fail", "partial")]
    shown = failed[:FAILED_SHOWN]
    rows = []
    for rank, c in enumerate(shown, start=1):
        d = c.deviation
        risk = control_risk(c)
        rows.append(
            (
                Cell(str(rank), kind="num"),
                Cell(c.control_id, kind="mono", note=c.title),
                Cell(kind="status", badge=fmt.badge(c.status.value)),
                Cell(
                    f"{fmt.count(d.deviations)} of {fmt.count(d.population)}" if d else fmt.DASH,
                    kind="num",
                    note=(f"{rate_text(d.rate or 0.0)}; tolerable {rate_text(d.tolerable_rate)}" if d else ""),
                ),
                Cell(risk.top, note=risk_counts_text(risk)),
            )
        )
    more = ""
    if len(failed) > len(shown):
        more = (
            f"{fmt.count(len(failed) - len(shown))} more failed or partial controls, in the same order, are in "
            "the remediation plan (Findings and remediation actions)."
        )
    return Table(
        "tbl-failed",
        "Failed and partial controls by exposure: deviations against the tolerable rate, highest gap risk",
        (Col("#", 5, "r"), Col("Control", 33), Col("Status", 16), Col("Deviate", 24, "r"), Col("Highest risk", 22)),
        tuple(rows),
        more=more,
        empty="No control failed or is partial.",
    )


def top_gaps(ctx: Ctx, limit: int) -> list[Gap]:
    """The riskiest unexcepted gaps of failing controls (docs/report.md, "Gap risk"): risk level,
    still open at as-of, KEV, internet-facing, days overdue, then control severity and id."""
    candidates = []
    for control in ctx.assessment.controls:
        if control.status.value not in ("fail", "partial"):
            continue
        for order, gap in enumerate(control.gaps):
            if gap.excepted_by is None:
                r = gap.risk
                key = (
                    -RISK_RANK.get(gap_risk(gap), 0),
                    r is not None and r.open_at_as_of is False,
                    not (r and r.kev),
                    not (r and r.internet_facing),
                    -((r and r.days_overdue) or 0),
                    fmt.SEVERITY_ORDER.get(control.severity, 9),
                    gap.certainty.value != "violation",
                    control.control_id,
                    order,
                )
                candidates.append((key, gap))
    candidates.sort(key=lambda item: item[0])
    picked: list[Gap] = []
    per_control: dict[str, int] = {}
    for _, gap in candidates:  # at most two per control, so the top list shows different problems
        if per_control.get(gap.control_id, 0) < 2:
            picked.append(gap)
            per_control[gap.control_id] = per_control.get(gap.control_id, 0) + 1
        if len(picked) == limit:
            break
    return picked


def _top_exposures(ctx: Ctx) -> Table:
    rows = []
    for rank, gap in enumerate(top_gaps(ctx, TOP_EXPOSURES), start=1):
        refs, where = gap_location(ctx, gap)
        title = ctx.controls[gap.control_id].title if gap.control_id in ctx.controls else ""
        rows.append(
            (
                Cell(str(rank), kind="num"),
                Cell(gap.control_id, kind="mono", note=title),
                Cell(gap.message, note=f"risk {gap_risk(gap)}: {risk_facts(gap)}; record {gap.record_id}"),
                Cell(kind="refs", refs=refs, note=where),
            )
        )
    return Table(
        "tbl-top",
        f"Top {TOP_EXPOSURES} exposures (riskiest unexcepted gaps, at most two per control)",
        (Col("#", 5, "r"), Col("Control", 22), Col("Gap", 58), Col("Evidence", 15)),
        tuple(rows),
        empty="No unexcepted gap in a failing control.",
    )


def _change(comparison: Comparison | None, trend_anchor: str) -> list[Block]:
    if comparison is None:
        return [
            Notice(
                "Change against a baseline",
                "No baseline was given (report --baseline PREVIOUS_results.json), so this report shows no "
                "change against a previous period.",
            )
        ]
    items = tuple(
        KeyFigure(
            d.label,
            d.after,
            f"{d.change} ({d.direction}) against {d.before}",
            tone={"better": "good", "worse": "bad"}.get(d.direction, ""),
        )
        for d in comparison.ratios[:3] + comparison.counts[1:3]
    )
    return [Para(f"Change against the baseline {comparison.label}; details in section {trend_anchor}."), Figures(items)]
