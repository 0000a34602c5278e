"""E1–E12: patching activity against verified outcome — the core thesis (metrics.md §3.3)."""

from __future__ import annotations

from typing import Any

from reporter.checks.base import CheckContext, count, pct, scalar
from reporter.metrics.base import metric, rows
from reporter.models.results import Measure
from reporter.store.sql import Params

Result = tuple[Measure, dict[str, Any]]
_IN_Q = "{col} >= {start} AND {col} < {as_of}"


def _window(ctx: CheckContext, p: Params) -> tuple[str, str]:
    return p.add(ctx.period.start_at), p.add(ctx.as_of)


def _in_q(col: str, start: str, as_of: str) -> str:
    return _IN_Q.format(col=col, start=start, as_of=as_of)


@metric(
    "E1",
    "Deployment success rate (activity)",
    formula="deployments with status=succeeded completed in the period / deployments attempted in the period "
    "(completed, or started when no completion time)",
    source="Patch-tool status; SP 800-40r4 §2.2 step 3b 'implement'. Reported as activity, never as risk reduction.",
    threshold="report only",
    needs=("deployments",),
    unit_of_count="deployment",
)
def e1(ctx: CheckContext) -> Result | str:
    p = Params()
    start, as_of = _window(ctx, p)
    sql = (
        f"SELECT status, count(*) FROM deployments WHERE {_in_q('COALESCE(completed_at, started_at)', start, as_of)} "
        "GROUP BY status ORDER BY status"
    )
    by_status = {str(s): int(n) for s, n in rows(ctx, sql, p.for_sql(sql))}
    return pct(by_status.get("succeeded", 0), sum(by_status.values())), {"by_status": by_status}


def targeted_instances(start: str, as_of: str) -> str:
    """The finding-instances (asset_id, i_vuln) that a successful deployment completed in the period
    targeted: E2's denominator and the headline's."""
    return (
        f"SELECT DISTINCT asset_id, i_vuln FROM a_dep WHERE status = 'succeeded' "
        f"AND {_in_q('completed_at', start, as_of)}"
    )


@metric(
    "E2",
    "Verified remediation rate (outcome)",
    formula="finding-instances verified fixed by as_of / finding-instances with ≥1 successful deployment in the "
    "period; verified fixed = a not_vulnerable verification (a record, or derived from a covering rescan that no "
    "longer reports it) after the last vulnerable one (a record, or the last scan reporting it), not undone by a "
    "rollback; the breakdown says how many rest on rescans and how many on verification records",
    source="SP 800-40r4 §2.2 step 3c 'installed and has taken effect'; PCI DSS 11.3.1 'rescans confirm'; CIS CAS 7.7",
    threshold="100 % of successful deployments verified (PCI DSS 11.3.1 for high/critical)",
    needs=("deployments", "verifications", "findings"),
)
def e2(ctx: CheckContext) -> Result | str:
    p = Params()
    start, as_of = _window(ctx, p)
    # one join, two groupings: the matrix by (vulnerability, asset) importance, and the basis of each
    # verified fix (GROUPING(basis) is 1 on the matrix's rows)
    sql = (
        "SELECT GROUPING(basis), vi, ai, basis, count(*), count(*) FILTER (WHERE fixed) FROM ("
        "SELECT l.vuln_importance AS vi, l.asset_importance AS ai, l.is_fixed AS fixed, "
        "COALESCE(l.fix_evidence.rule, 'verification record') AS basis "
        f"FROM ({targeted_instances(start, as_of)}) t JOIN a_ledger l ON l.asset_id = t.asset_id "
        "AND l.vuln_id = t.i_vuln) GROUP BY GROUPING SETS ((vi, ai), (basis)) ORDER BY ALL"
    )
    grouped = rows(ctx, sql, p.for_sql(sql))
    cells = [(v, a, int(n), int(f)) for on_cells, v, a, _, n, f in grouped if on_cells]
    total = sum(n for _, _, n, _ in cells)
    fixed = sum(f for _, _, _, f in cells)
    matrix = [{"vuln_importance": v, "asset_importance": a, "targeted": n, "verified_fixed": f} for v, a, n, f in cells]
    basis = {str(b): int(f) for on_cells, _, _, b, _, f in grouped if not on_cells and f}
    rescans = sum(n for b, n in basis.items() if b != "verification record")
    return pct(fixed, total), {
        "matrix": matrix,
        "verified_by": {"rescan": rescans, "verification_record": basis.get("verification record", 0)},
        "verified_by_rule": basis,
    }


@metric(
    "E3",
    "Deployment–verification gap (false success)",
    formula="successful deployments in the period whose first later verification (clock skew tolerated) is "
    "'vulnerable' / successful deployments in the period with a later verification",
    source="Derived from E1/E2 (metrics.md §3.3); SP 800-40r4 §2.2 step 3c",
    threshold="0 % [O]",
    needs=("deployments", "verifications"),
    unit_of_count="deployment",
)
def e3(ctx: CheckContext) -> Result | str:
    p = Params()
    start, as_of = _window(ctx, p)
    sql = f"""SELECT count(*) FILTER (WHERE contradicted), count(*) FILTER (WHERE checked) FROM (
        SELECT id, bool_or(first.result = 'vulnerable') AS contradicted, bool_or(first IS NOT NULL) AS checked
        FROM a_dep_check WHERE {_in_q("completed_at", start, as_of)} GROUP BY id)"""
    bad, checked = rows(ctx, sql, p.for_sql(sql))[0]
    return pct(int(bad or 0), int(checked or 0)), {}


@metric(
    "E4",
    "Unverified success",
    formula="successful deployments completed in the period with no conclusive verification of their targets "
    "within the window (7 days urgent, 30 days otherwise) / successful deployments completed in the period whose "
    "window has ended; only deployments linked to a finding-instance (named, or inferred from a KB, package version "
    "or image) have targets to verify",
    source="SP 800-40r4 §2.2 step 3c; PCI DSS 11.3.1; windows [O] anchored to CIS 7.5/7.6",
    threshold="0 % [O]",
    needs=("deployments", "verifications"),
    unit_of_count="deployment",
)
def e4(ctx: CheckContext) -> Result | str:
    p = Params()
    start, as_of = _window(ctx, p)
    sql = f"""SELECT count(*) FILTER (WHERE NOT verified), count(*) FROM (
        SELECT id, bool_and(verified) AS verified, max(window_end) AS deadline FROM a_dep_check
        WHERE {_in_q("completed_at", start, as_of)} GROUP BY id) WHERE deadline <= {as_of}"""
    bad, total = rows(ctx, sql, p.for_sql(sql))[0]
    return pct(int(bad or 0), int(total or 0)), {}


@metric(
    "E5",
    "Closure-evidence rate",
    formula="finding-instances closed in the source system that have a not_vulnerable verification or a retirement "
    "record / finding-instances closed in the source system",
    source="ISO/IEC 27002:2022 8.8 (audit log); PCI ROC evidence references",
    threshold="100 %",
    needs=("findings", "verifications"),
)
def e5(ctx: CheckContext) -> Result | str:
    sql = (
        "SELECT count(*) FILTER (WHERE fix_at IS NOT NULL OR retirement_recorded), count(*) FROM a_ledger "
        "WHERE NOT source_open AND NOT not_affected"
    )
    good, total = rows(ctx, sql)[0]
    return pct(int(good or 0), int(total or 0)), {}


@metric(
    "E6",
    "Regression / reopen rate",
    formula="finding-instances re-opened in the period by a rollback after a verified fix / finding-instances "
    "verified fixed in the period or the two quarters before",
    source="SP 800-40r4 §2.2 step 3d 'continuously monitor the risk response'",
    threshold="report; each case tied to a rollout event [O]",
    needs=("findings", "verifications", "rollout_events"),
)
def e6(ctx: CheckContext) -> Result | str:
    p = Params()
    start, as_of = _window(ctx, p)
    sql = (
        f"SELECT count(*) FILTER (WHERE rollback_at > fix_at AND {_in_q('rollback_at', start, as_of)}), "
        f"count(*) FILTER (WHERE fix_at >= {start} - to_days(182) AND fix_at < {as_of}) FROM a_ledger"
    )
    reopened, fixed = rows(ctx, sql, p.for_sql(sql))[0]
    return pct(int(reopened or 0), int(fixed or 0)), {}


TIER_WEIGHTS = {"3DF": 16, "3D": 8, "14D": 4, "60D": 2, "FSU": 1}


@metric(
    "E7",
    "Exposure-days",
    formula="Σ over finding-instances of days within the period (up to as_of) during which the instance was open: "
    "[detection, verified fix) plus, after a rollback, [rollback, re-fix); retirement ends exposure",
    source="SP 800-40r4 life cycle; 'vulnerability exposure time' (metrics.md §3.3)",
    threshold="trend down quarter on quarter [O]",
    needs=("findings",),
    unit_of_count="instance-days",
)
def e7(ctx: CheckContext) -> Result | str:
    sql = "SELECT bod_outcome, sum(exposure_seconds) FROM a_ledger WHERE NOT not_affected GROUP BY ALL ORDER BY ALL"
    seconds = {str(t): int(s or 0) for t, s in rows(ctx, sql)}
    by_tier = {t: round(s / 86400.0, 1) for t, s in seconds.items()}
    # the total from the exact seconds, not from the rounded tiers (it must equal the headline's E7)
    total = round(sum(seconds.values()) / 86400.0, 1)
    weighted = round(sum(TIER_WEIGHTS.get(t, 1) * d for t, d in by_tier.items()), 1)
    measure = Measure(value=total, unit="days", display=f"{total:,.1f} instance-days")
    return measure, {"by_bod2604_tier": by_tier, "tier_weighted": weighted, "tier_weights": TIER_WEIGHTS}


@metric(
    "E8",
    "Remediation coverage",
    formula="high-risk finding-instances verified fixed in the period / high-risk finding-instances open at any time "
    "in the period; high-risk = KEV, SSVC exploitation active, or BOD 26-04 tier 3DF/3D/14D",
    source="FIRST EPSS / Kenna 'coverage' (metrics.md §1.4)",
    threshold="report; 70 % typical (Cyentia) is context only",
    needs=("findings", "verifications"),
)
def e8(ctx: CheckContext) -> Result | str:
    p = Params()
    start, as_of = _window(ctx, p)
    open_in_q = f"high_risk AND first_detected_at < {as_of} AND (fixed_at IS NULL OR fixed_at >= {start})"
    sql = f"SELECT count(*) FILTER (WHERE {_in_q('fixed_at', start, as_of)}), count(*) FROM a_ledger WHERE {open_in_q}"
    fixed, total = rows(ctx, sql, p.for_sql(sql))[0]
    return pct(int(fixed or 0), int(total or 0)), {}


@metric(
    "E9",
    "Remediation efficiency",
    formula="verified fixes in the period of high-risk finding-instances / all verified fixes in the period",
    source="FIRST EPSS / Kenna 'efficiency' (metrics.md §1.4)",
    threshold="report; 16 % typical (Cyentia) is context only",
    needs=("findings", "verifications"),
)
def e9(ctx: CheckContext) -> Result | str:
    p = Params()
    start, as_of = _window(ctx, p)
    sql = f"SELECT count(*) FILTER (WHERE high_risk), count(*) FROM a_ledger WHERE {_in_q('fixed_at', start, as_of)}"
    high, total = rows(ctx, sql, p.for_sql(sql))[0]
    return pct(int(high or 0), int(total or 0)), {}


@metric(
    "E10",
    "Remediation capacity and burndown",
    formula="verified fixes in the period / finding-instances first detected in the period; net backlog change = "
    "open at as_of − open at the period start",
    source="Kenna 'capacity'; Elastic arrival/burndown (metrics.md §1.4)",
    threshold="≥ 1.0 for high-risk tiers [O]",
    needs=("findings", "verifications"),
)
def e10(ctx: CheckContext) -> Result | str:
    p = Params()
    start, as_of = _window(ctx, p)
    sql = f"""SELECT count(*) FILTER (WHERE {_in_q("fixed_at", start, as_of)}),
        count(*) FILTER (WHERE {_in_q("first_detected_at", start, as_of)}),
        count(*) FILTER (WHERE first_detected_at < {start} AND (fixed_at IS NULL OR fixed_at >= {start})
                         AND NOT not_affected),
        count(*) FILTER (WHERE is_open)
        FROM a_ledger"""
    fixed, new, open_start, open_end = (int(x or 0) for x in rows(ctx, sql, p.for_sql(sql))[0])
    ratio = round(fixed / new, 3) if new else None
    measure = Measure(
        numerator=fixed,
        denominator=new,
        value=ratio,
        unit="ratio",
        display=f"{ratio:.2f} ({fixed:,} fixed / {new:,} new)" if new else "n/a (no new findings)",
    )
    return measure, {
        "open_at_start": open_start,
        "open_at_as_of": open_end,
        "net_backlog_change": open_end - open_start,
    }


@metric(
    "E11",
    "Post-event reassessment",
    formula="failed rollouts, rollbacks, emergency bypasses and emergency mitigations in the period reassessed within "
    "the window (24 h when they touch internet-facing assets or urgent findings, 72 h otherwise) / such events",
    source="SP 800-40r4 §2.2 step 3d and §3.1; the seed's control loop",
    threshold="100 % [O]",
    needs=("rollout_events",),
    unit_of_count="rollout event",
)
def e11(ctx: CheckContext) -> Result | str:
    p = Params()
    start, as_of = _window(ctx, p)
    urgent, default = (
        p.add(ctx.policy.rollout.reassessment_hours_urgent),
        p.add(ctx.policy.rollout.reassessment_hours_default),
    )
    sql = f"""
        SELECT count(*) FILTER (WHERE reassessed_at IS NOT NULL AND reassessed_at < {as_of}
                AND reassessed_at <= occurred_at + to_hours(CASE WHEN urgent THEN {urgent} ELSE {default} END)),
               count(*)
        FROM (SELECT r.*, r.id IN (
                SELECT n.id FROM (SELECT id, unnest(asset_ids) AS asset_id FROM rollout_events) n
                JOIN a_assets a ON a.id = n.asset_id WHERE a.internet_facing
                UNION ALL
                SELECT n.id FROM (SELECT id, unnest(finding_ids) AS finding_id FROM rollout_events) n
                JOIN findings f ON f.id = n.finding_id
                JOIN a_instances i ON i.asset_id = f.asset_id AND i.vuln_id = f.vuln_id WHERE i.urgent) AS urgent
              FROM rollout_events r WHERE r.type IN ('failed_rollout', 'rollback', 'emergency_bypass'
                  , 'emergency_mitigation')
              AND {_in_q("r.occurred_at", start, as_of)})"""
    good, total = rows(ctx, sql, p.for_sql(sql))[0]
    return pct(int(good or 0), int(total or 0)), {}


@metric(
    "E12",
    "Emergency mitigations not yet replaced",
    formula="emergency mitigations before as_of with no permanent_fix_ref and no later not_vulnerable verification "
    "of every finding they name",
    source="SP 800-40r4 §3.5 'replace emergency mitigations with permanent fixes'",
    threshold="0 older than the tier SLA [O]",
    needs=("rollout_events",),
    unit_of_count="rollout event",
)
def e12(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of = p.add(ctx.as_of)
    sql = f"""SELECT count(*) FROM rollout_events r WHERE r.type = 'emergency_mitigation' AND r.occurred_at < {as_of}
        AND r.permanent_fix_ref IS NULL AND (len(r.finding_ids) = 0 OR r.id IN (
            SELECT n.id FROM (SELECT id, occurred_at, unnest(finding_ids) AS finding_id FROM rollout_events) n
            JOIN findings f ON f.id = n.finding_id WHERE NOT EXISTS (
                SELECT 1 FROM a_ver v WHERE v.asset_id = f.asset_id AND v.i_vuln = f.vuln_id
                AND v.result = 'not_vulnerable' AND v.observed_at > n.occurred_at)))"""
    return count(scalar(ctx, sql, p)), {}
