"""The headline: patching activity and verified risk reduction side by side, broken down by
vulnerability importance × asset importance (SP 800-40r4 §3.6) — never one number alone."""

from __future__ import annotations

from typing import Any

from reporter.checks.base import CheckContext, pct, scalar
from reporter.checks.nhi import leak_closed_at
from reporter.metrics.activity import targeted_instances
from reporter.models.results import ControlResult, Headline, Measure, MetricValue
from reporter.models.status import Status
from reporter.store.sql import Params

# E7, the same filter as the metric (reporter/metrics/activity.py)
EXPOSURE_SQL = "SELECT COALESCE(sum(exposure_seconds), 0) / 86400.0 FROM a_ledger WHERE NOT not_affected"
VULN_IMPORTANCE = ("critical", "high", "medium", "low", "info")
ASSET_IMPORTANCE = ("high", "moderate", "low", "unknown")


def _control_measure(controls: list[ControlResult], control_id: str, *, gaps: bool = False) -> Measure:
    """A control's ratio, or with `gaps` the share of its population flagged."""
    for control in controls:
        if control.control_id == control_id:
            if gaps:
                return pct(control.gap_total, control.population)
            return control.measure
    return Measure(display="n/a (control not in the library)")


def _metric(metrics: list[MetricValue], metric_id: str) -> Measure | None:
    for m in metrics:
        if m.id == metric_id and m.measure is not None:
            return m.measure
    return None


def build_headline(ctx: CheckContext, controls: list[ControlResult], metrics: list[MetricValue]) -> Headline:
    """Assemble the headline from the ledger, the control results and the metrics."""
    params = Params()
    start, as_of = params.add(ctx.period.start_at), params.add(ctx.as_of)
    in_period = f"COALESCE(completed_at, started_at) >= {start} AND COALESCE(completed_at, started_at) < {as_of}"
    attempted = scalar(ctx, f"SELECT count(*) FROM deployments WHERE {in_period}", params)
    succeeded = scalar(ctx, f"SELECT count(*) FROM deployments WHERE status = 'succeeded' AND {in_period}", params)
    targeted_count = scalar(ctx, f"SELECT count(*) FROM ({targeted_instances(start, as_of)})", params)
    by_state, counts = _by_state_and_targeted(ctx, params, start, as_of)
    removed = sum(by_state["verified_removed"].values())
    return Headline(
        deployments_attempted=attempted,
        deployments_succeeded=succeeded,
        activity=_metric(metrics, "E1") or pct(succeeded, attempted),
        targeted_instances=targeted_count,
        verified_removed=_metric(metrics, "E2") or pct(removed, targeted_count),
        verified_by_rescan=counts["by_rescan"],
        verified_by_record=removed - counts["by_rescan"],
        targeted_by_inference=counts["inferred"],
        still_vulnerable=_control_measure(controls, "VER-02", gaps=True),
        unverified=_control_measure(controls, "VER-01", gaps=True),
        sla_met=_control_measure(controls, "PRI-01"),
        exposure_days=round(float(_one(ctx, EXPOSURE_SQL)), 1),
        open_critical_high=scalar(
            ctx, "SELECT count(*) FROM a_ledger WHERE is_open AND asset_active AND severity IN ('critical', 'high')"
        ),
        open_internet_facing=scalar(
            ctx,
            "SELECT count(*) FROM a_ledger WHERE is_open AND asset_active "
            "AND internet_facing AND (kev OR severity = 'critical')",
        ),
        patched_but_exposed=_control_measure(controls, "NHI-14", gaps=True),
        expired_exceptions=next((c.gap_total for c in controls if c.control_id == "EXC-02"), 0),
        leaked_secrets_valid=_leaked_valid(ctx),
        matrix=importance_matrix(ctx),
        reconciliation={
            "by_state": by_state,
            "population": _population(ctx, controls),
            "secrets": _secrets(ctx),
        },
    )


def targeted(start: str) -> str:
    """An a_ledger row the period's successful deployments targeted (`targeted_instances`), as a filter
    on the row itself: its `last_success_at` is the last completion among the successful deployments
    linked to it in a_dep, all of them before as_of (a_dep keeps no later one), so "one completed in
    the period" is "the last one completed at or after its start". No join of the ledger with the
    targeted instances (D111)."""
    return f"last_success_at >= {start}"


def state_figures(start: str, as_of: str) -> dict[str, str]:
    """Each instance figure of the report as a filter on a_ledger (`targeted`: the instance was
    targeted by a successful deployment completed in the period): its per-state split sums to the
    figure. The due cohort is PRI-01's (reporter/checks/priority.py), the denominator of T1."""
    due = f"due_at <= {as_of} AND NOT not_affected AND (due_at >= {start} OR first_detected_at >= {start})"
    closed = "NOT source_open AND NOT not_affected"
    t = targeted(start)
    return {
        "instances": "TRUE",
        "open_critical_high": "is_open AND asset_active AND severity IN ('critical', 'high')",
        "open_internet_facing": "is_open AND asset_active AND internet_facing AND (kev OR severity = 'critical')",
        "open_on_inactive_assets": "is_open AND NOT asset_active",
        "due_in_period": due,
        "due_missed": f"{due} AND sla_status = 'missed'",
        "targeted": t,
        "verified_removed": f"{t} AND is_fixed",
        "verified_fixes": "is_fixed",
        "source_closed": closed,
        "source_closed_evidenced": f"{closed} AND (fix_at IS NOT NULL OR retirement_recorded)",
    }


# Counts over the targeted instances that the headline prints besides the per-state figures (the
# instances verified removed are the figure "verified_removed"): they come from the same pass over the
# ledger (one pass instead of four, D101).
_TARGETED_COUNTS = {
    "by_rescan": "is_fixed AND fix_evidence.derived",
    "inferred": "NOT list_contains(link_rules, 'named')",
}


def _by_state_and_targeted(
    ctx: CheckContext, params: Params, start: str, as_of: str
) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """figure → ledger state → finding-instances (states with none left out); and the targeted
    instances verified by a rescan and linked by inference (_TARGETED_COUNTS). One pass over the
    ledger, which has one row per instance."""
    figures = state_figures(start, as_of)
    t = targeted(start)
    counted = {**figures, **{f"_{name}": f"{t} AND {cond}" for name, cond in _TARGETED_COUNTS.items()}}
    cols = ", ".join(f"count(*) FILTER (WHERE {cond}) AS {name}" for name, cond in counted.items())
    sql = f"SELECT state, {cols} FROM a_ledger GROUP BY state ORDER BY state"
    rows = ctx.con.execute(sql, params.for_sql(sql)).fetchall()
    by_state = {name: {str(row[0]): int(row[n]) for row in rows if row[n]} for n, name in enumerate(figures, start=1)}
    first = len(figures) + 1
    counts = {name: sum(int(row[n]) for row in rows) for n, name in enumerate(_TARGETED_COUNTS, start=first)}
    return by_state, counts


def _control(controls: list[ControlResult], control_id: str) -> ControlResult | None:
    """The control's result when it ran on evidence (else its population is no count of anything)."""
    found = next((c for c in controls if c.control_id == control_id), None)
    return found if found is not None and found.status not in (Status.INSUFFICIENT_EVIDENCE, Status.ERROR) else None


def _population(ctx: CheckContext, controls: list[ControlResult]) -> dict[str, int | None]:
    """Assets from the inventory to the scan, and discovery keys to the inventory (INV-01, INV-03)."""
    if "assets" not in ctx.kinds_present:
        return {}
    discovered, scoped = _control(controls, "INV-01"), _control(controls, "INV-03")
    return {
        "inventory_records": scalar(ctx, "SELECT count(*) FROM a_assets"),
        "active": scalar(ctx, "SELECT count(*) FROM a_assets WHERE active"),
        "active_saas": scalar(ctx, "SELECT count(*) FROM a_assets WHERE active AND type = 'saas'"),
        "in_scan_scope": scoped.population if scoped else None,
        "not_scanned_within_cadence": scoped.gap_total if scoped else None,
        "discovered_keys": discovered.population if discovered else None,
        "discovered_unknown": discovered.gap_total if discovered else None,
    }


def _secrets(ctx: CheckContext) -> dict[str, int]:
    """Detected secret exposures → still valid at as_of, closed later than the policy allows (NHI-02)."""
    if "secret_exposures" not in ctx.kinds_present:
        return {}
    params = Params()
    as_of, hours = params.add(ctx.as_of), params.add(ctx.policy.nhi.leak_revoke_hours)
    detected = (
        f"SELECT {leak_closed_at('x', as_of)} AS closed_at, detected_at FROM secret_exposures x "
        f"WHERE x.detected_at < {as_of}"
    )
    sql = (
        f"SELECT count(*), count(*) FILTER (WHERE closed_at IS NULL), "
        f"count(*) FILTER (WHERE closed_at > detected_at + to_hours({hours})) FROM ({detected})"
    )
    row = ctx.con.execute(sql, params.for_sql(sql)).fetchone() or (0, 0, 0)
    return {"detected": int(row[0]), "still_valid": int(row[1]), "closed_late": int(row[2])}


def _one(ctx: CheckContext, sql: str, params: Params | None = None) -> Any:
    row = ctx.con.execute(sql, (params or Params()).for_sql(sql)).fetchone()
    return row[0] if row else None


def _leaked_valid(ctx: CheckContext) -> int:
    if "secret_exposures" not in ctx.kinds_present:
        return 0
    params = Params()
    as_of = params.add(ctx.as_of)
    return scalar(
        ctx,
        f"SELECT count(*) FROM secret_exposures WHERE detected_at < {as_of} AND "
        f"(revoked_at IS NULL OR revoked_at >= {as_of}) AND "
        f"(verified_invalid_at IS NULL OR verified_invalid_at >= {as_of})",
        params,
    )


def importance_matrix(ctx: CheckContext) -> list[dict[str, Any]]:
    """Per (vulnerability importance, asset importance): the SP 800-40r4 §3.6 measures — share of
    instances due in the period remediated by the deadline, mean and median days to verified fix,
    open instances and exposure-days."""
    params = Params()
    start, as_of = params.add(ctx.period.start_at), params.add(ctx.as_of)
    sql = f"""
        SELECT vuln_importance, asset_importance,
            count(*) FILTER (WHERE due_at >= {start} AND due_at <= {as_of} AND NOT not_affected) AS due,
            count(*) FILTER (WHERE due_at >= {start} AND due_at <= {as_of} AND sla_status IN ('met'
                , 'met_by_exception')) AS met,
            avg(datediff('second', first_detected_at
                , fixed_at)) FILTER (WHERE fixed_at >= {start}) / 86400.0 AS mean_days,
            median(datediff('second', first_detected_at, fixed_at)) FILTER (WHERE fixed_at >= {start}) / 86400.0
                AS median_days,
            count(*) FILTER (WHERE is_open AND asset_active) AS open,
            sum(exposure_seconds) / 86400.0 AS exposure_days
        FROM a_ledger GROUP BY ALL"""
    cells = {(r[0], r[1]): r for r in ctx.con.execute(sql, params.for_sql(sql)).fetchall()}
    out = []
    for vuln in VULN_IMPORTANCE:
        for asset in ASSET_IMPORTANCE:
            row = cells.get((vuln, asset))
            due, met = (row[2], row[3]) if row else (0, 0)
            out.append(
                {
                    "vuln_importance": vuln,
                    "asset_importance": asset,
                    "due": due,
                    "met": met,
                    "met_by_deadline": pct(met, due).model_dump(),
                    "mean_days": round(row[4], 1) if row and row[4] is not None else None,
                    "median_days": round(row[5], 1) if row and row[5] is not None else None,
                    "open": row[6] if row else 0,
                    "exposure_days": round(row[7] or 0.0, 1) if row else 0.0,
                }
            )
    return out


__all__ = ["build_headline", "importance_matrix"]
