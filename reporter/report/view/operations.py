"""The remediation loop sections: coverage, patching activity, verified remediation and the gap,
timeliness, exploited and internet-facing exposure, and change events."""

from __future__ import annotations

from reporter.report import charts, fmt
from reporter.report.view.common import (
    Ctx,
    breakdown_tables,
    control_table,
    gap_table,
    metric_table,
)
from reporter.report.view.model import Block, Cell, Col, Figure, Figures, KeyFigure, Para, Table
from reporter.report.view.summary import matrix_axes, matrix_cells, matrix_table

Section = tuple[str, tuple[Block, ...]]


def coverage_section(ctx: Ctx) -> Section:
    """Inventory and scan coverage: the denominators of everything else."""
    ledger = ctx.assessment.ledger
    intro = (
        "Whether every asset and identity is known and scanned. An asset outside scan coverage is unknown "
        "exposure, not zero exposure."
    )
    blocks: list[Block] = [
        Para("Counted per asset (the population reconciliation walks inventory → scan scope → scanned):"),
        Figures(
            (
                KeyFigure(
                    "Inventory accuracy (V1)",
                    ctx.metric_display("V1"),
                    "of distinct asset keys observed by discovery, found in the inventory",
                    _metric_refs(ctx, "V1"),
                ),
                KeyFigure(
                    "Scan coverage (V5)",
                    ctx.metric_display("V5"),
                    "of active assets in scan scope, scanned within their cadence",
                    _metric_refs(ctx, "V5"),
                ),
            )
        ),
        Para("Counted per finding-instance (asset × vulnerability):"),
        Figures(
            (
                KeyFigure(
                    "Finding-instances not in scan scope",
                    fmt.count(ledger.get("not_in_scan_scope", 0)),
                    "deployed, but no later scan covers them: exposure unknown",
                    ctx.refs_for_kinds(["scans", "assets"]),
                ),
            )
        ),
        control_table(ctx, "tbl-inv", "Inventory and coverage controls (INV)", ctx.family("INV")),
        metric_table(ctx, "tbl-v", "Visibility and coverage metrics (V)", ctx.metric_family("V")),
        *breakdown_tables("bd", ctx.metric_family("V")),
    ]
    return intro, tuple(blocks)


def _metric_refs(ctx: Ctx, metric_id: str) -> tuple[str, ...]:
    metric = ctx.metrics.get(metric_id)
    return ctx.refs_for_metric(metric) if metric else ()


def activity_section(ctx: Ctx) -> Section:
    """Deployments by outcome: reported as activity, never as risk reduction."""
    h = ctx.assessment.headline
    e1 = ctx.metrics.get("E1")
    by_status = e1.breakdown.get("by_status", {}) if e1 else {}
    total = sum(int(v) for v in by_status.values())
    bars = [
        charts.Bar(
            fmt.words(status),
            fmt.fraction(int(n), total),
            f"{fmt.count(n)} ({fmt.percent(100.0 * fmt.fraction(int(n), total))})",
            _outcome_tone(status),
        )
        for status, n in sorted(by_status.items(), key=lambda kv: (-int(kv[1]), kv[0]))
    ]
    refs = ctx.refs_for_kinds(["deployments"])
    intro = (
        f"{fmt.count(h.deployments_attempted)} deployments were attempted in the period; {h.activity.display} were "
        "reported successful by the deployment tools. This is activity: whether a fix took effect is section "
        "“Verified remediation and the gap”."
    )
    blocks: list[Block] = []
    if bars:
        desc = "; ".join(f"{b.label}: {b.display}" for b in bars)
        chart = charts.bar_chart("chart-deploy", "Deployments by reported outcome", desc, bars)
        rows = tuple((Cell(b.label), Cell(b.display, kind="num")) for b in bars)
        blocks.append(
            Figure(
                chart,
                "Deployment outcomes as reported by the tools (E1 breakdown). Evidence: " + ", ".join(refs) + ".",
                Table(
                    "tbl-deploy",
                    "Deployments by outcome",
                    (Col("Outcome", 50), Col("Deployments", 50, "r")),
                    rows,
                    compact=True,
                ),
            )
        )
    else:
        blocks.append(Para("The assessment has no deployment outcome breakdown (E1 not measurable).", refs))
    blocks += [
        control_table(ctx, "tbl-dep", "Deployment controls (DEP)", ctx.family("DEP")),
        metric_table(ctx, "tbl-e-activity", "Activity metric", [m for m in ctx.metric_family("E") if m.id == "E1"]),
    ]
    return intro, tuple(blocks)


def _outcome_tone(status: str) -> str:
    if status == "succeeded":
        return "green"
    return "red" if status in ("failed", "rolled_back") else "orange"


# How a verification was established (ledger.csv `verification_rule`; docs/verification.md).
VERIFICATION_BASIS = {
    "verification record": "a verification record of the bundle (method and evidence as recorded)",
    "rescan-after-deployment": "the first scan after the deployment that covers the component no longer "
    "reports the finding (derived)",
    "rescan-absent": "a scan covering the component, after the last one that reported the finding, no "
    "longer reports it (derived; with no deployment it is a fix without change record)",
}


def _verification_basis(ctx: Ctx) -> Table:
    """Verified removal (E2) split by what it rests on: rescans (derived, each citing its scan) or
    verification records."""
    e2 = ctx.metrics.get("E2")
    basis = e2.breakdown.get("verified_by_rule", {}) if e2 else {}
    rows = tuple(
        (
            Cell(fmt.words(rule) if rule == "verification record" else rule, kind="mono"),
            Cell(fmt.count(int(n)), kind="num"),
            Cell(VERIFICATION_BASIS.get(rule, "")),
        )
        for rule, n in sorted(basis.items())
    )
    return Table(
        "tbl-ver-basis",
        "What verified removal (E2) rests on",
        (Col("Basis", 24), Col("Instances", 12, "r"), Col("Meaning", 64)),
        rows,
        empty="No targeted instance was verified removed.",
        compact=True,
    )


def verification_section(ctx: Ctx) -> Section:
    """Verified outcome, and the list of deployments reported successful but still vulnerable."""
    h = ctx.assessment.headline
    refs = ctx.refs_for_kinds(["deployments", "verifications", "findings"])
    intro = (
        f"Of {fmt.count(h.targeted_instances)} finding-instances targeted by a successful deployment, "
        f"{h.verified_removed.display} were verified removed: {fmt.count(h.verified_by_rescan)} on a rescan that "
        f"covers the component and no longer reports it, {fmt.count(h.verified_by_record)} on a verification record. "
        f"{h.still_vulnerable.display} of successful deployments with a later verification were contradicted by "
        f"it, and {h.unverified.display} of successes were never verified within the window."
        + (
            f" {fmt.count(h.targeted_by_inference)} targeted instances were linked to their deployment by inference "
            "(a KB number, a package version or an image), not named by it."
            if h.targeted_by_inference
            else ""
        )
    )
    ver02 = ctx.controls.get("VER-02")
    blocks: list[Block] = [
        _verification_basis(ctx),
        Para("Counted per finding-instance (asset × vulnerability); each is a different population:"),
        Figures(
            (
                KeyFigure(
                    "Verified removed (E2)",
                    h.verified_removed.display,
                    "of finding-instances targeted by a successful deployment in the period",
                    refs,
                    "good",
                ),
                KeyFigure(
                    "Closures with verification evidence (E5)",
                    ctx.metric_display("E5"),
                    "of finding-instances the source system closed (any date)",
                    refs,
                ),
                KeyFigure(
                    "Re-opened after verified fix (E6)",
                    ctx.metric_display("E6"),
                    "of closures with verification evidence",
                    refs,
                ),
            )
        ),
        Para("Counted per deployment:"),
        Figures(
            (
                KeyFigure(
                    "Reported successful but still vulnerable (E3)",
                    h.still_vulnerable.display,
                    "of successful deployments with a later verification",
                    refs,
                    "bad",
                ),
                KeyFigure(
                    "Never verified (E4)",
                    h.unverified.display,
                    "of successful deployments whose verification window ended by the as-of time",
                    refs,
                    "warn",
                ),
            )
        ),
        control_table(ctx, "tbl-ver", "Verification controls (VER)", ctx.family("VER")),
        gap_table(ctx, "tbl-ver02", "Reported successful but still vulnerable (VER-02 gaps)", ver02, ctx.rows),
        metric_table(
            ctx,
            "tbl-e-outcome",
            "Outcome metrics (E2–E10)",
            [m for m in ctx.metric_family("E") if m.id not in ("E1", "E11", "E12")],
        ),
        *breakdown_tables("bd", [m for m in ctx.metric_family("E") if m.id not in ("E1", "E11", "E12")]),
    ]
    return intro, tuple(blocks)


def timeliness_section(ctx: Ctx) -> Section:
    """SP 800-40r4 matrix with % by deadline, mean and median; T metrics; the overdue backlog."""
    cells = matrix_cells(ctx)
    rows, cols = matrix_axes(cells)
    intro = (
        f"Remediation against deadlines. {ctx.assessment.headline.sla_met.display} of finding-instances due in the "
        "period were remediated by their deadline (T1). The matrix gives % by deadline, mean and median time per "
        "vulnerability importance × asset importance, as SP 800-40r4 §3.6 asks: a single number is not actionable."
    )
    t = ctx.metric_family("T")
    blocks: list[Block] = [
        matrix_table("tbl-matrix", rows, cols, cells),
        Para(
            "Matrix evidence: findings, deployments, verifications and assets.",
            ctx.refs_for_kinds(["findings", "deployments", "verifications", "assets"]),
        ),
        metric_table(ctx, "tbl-t", "Timeliness metrics (T)", t),
        *breakdown_tables("bd", t),
        control_table(
            ctx,
            "tbl-pri-time",
            "Deadline controls",
            [c for c in ctx.family("PRI") if c.control_id in ("PRI-01", "PRI-04")],
        ),
        gap_table(
            ctx,
            "tbl-overdue",
            "Overdue backlog: open finding-instances past their deadline (PRI-04 gaps)",
            ctx.controls.get("PRI-04"),
            ctx.gap_rows,
        ),
    ]
    return intro, tuple(blocks)


def exposure_section(ctx: Ctx) -> Section:
    """KEV / BOD 26-04 tiers and internet-facing exposure."""
    h = ctx.assessment.headline
    intro = (
        f"Known-exploited and internet-facing exposure: {fmt.count(h.open_internet_facing)} open KEV or critical "
        "finding-instances on internet-facing assets at the as-of time (R2)."
    )
    metrics = [m for m in ctx.assessment.metrics if m.family == "R" or m.id == "T6"]
    others = [c for c in ctx.family("PRI") if c.control_id not in ("PRI-01", "PRI-04")]
    blocks: list[Block] = [
        metric_table(ctx, "tbl-r", "Risk and exploitation metrics (R1–R3, T6)", metrics),
        *breakdown_tables("bd-x", [m for m in metrics if m.family == "R"]),
        control_table(ctx, "tbl-pri", "Prioritisation controls", others),
    ]
    for control in others:
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


def change_events_section(ctx: Ctx) -> Section:
    """Failed rollouts, rollbacks, emergency bypasses and mitigations with their reassessment."""
    intro = (
        "Failed rollouts, rollbacks, emergency bypasses and emergency mitigations. A rollback re-opens the fixes it "
        "undid; every event needs a reassessment of the affected assets within the window."
    )
    metrics = [m for m in ctx.metric_family("E") if m.id in ("E11", "E12")]
    blocks: list[Block] = [
        control_table(ctx, "tbl-rlb", "Rollout-event controls (RLB)", ctx.family("RLB")),
        metric_table(ctx, "tbl-e-events", "Change-event metrics (E11, E12)", metrics),
    ]
    for control in ctx.family("RLB"):
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
