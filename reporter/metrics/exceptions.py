"""X1–X6: exceptions and risk responses — complete, in force, compensated and time-boxed
(metrics.md §3.4). Shares its definitions with the EXC checks."""

from __future__ import annotations

from typing import Any

from reporter.checks.base import CheckContext, count, pct
from reporter.checks.exceptions import (
    active_with_missing,
    control_evidence,
    expired_open,
    in_force,
    recorded,
    urgent_cover,
)
from reporter.metrics.base import days_stats, metric, rows
from reporter.models.results import Measure
from reporter.store.sql import Params

Result = tuple[Measure, dict[str, Any]]
# FedRAMP's accepted-vulnerability horizon [S]: an excepted finding open longer is flagged (X5).
LONG_OPEN_DAYS = 192


@metric(
    "X1",
    "Exception completeness",
    formula="active exceptions (recorded before as_of, not expired) with owner, approver, approved_at, expires_at, "
    "risk_response and justification, and ≥ 1 compensating control when risk_response = mitigate / active "
    "exceptions (the EXC-01 test)",
    source="NIST SP 800-40r4 §2.1 risk responses; PCI DSS compensating-controls worksheet; CIS Controls Assessment "
    "Specification 7.3 'documented exception'; FedRAMP deviation requests",
    threshold="100 %",
    needs=("exceptions",),
    unit_of_count="exception",
)
def x1(ctx: CheckContext) -> Result | str:
    p = Params()
    sql = f"SELECT id, missing FROM ({active_with_missing(p.add(ctx.as_of))}) ORDER BY id"
    found = [(str(i), [str(m) for m in missing]) for i, missing in rows(ctx, sql, p.for_sql(sql))]
    if not found:
        return "no exception is active at as_of"
    lacking: dict[str, int] = {}
    for _, missing in found:
        for item in missing:
            lacking[item] = lacking.get(item, 0) + 1
    complete = sum(not missing for _, missing in found)
    return pct(complete, len(found)), {"active": len(found), "incomplete_by_reason": dict(sorted(lacking.items()))}


@metric(
    "X2",
    "Expired-but-open",
    formula="finding-instances an exception expired before as_of still covers by scope that are open at as_of "
    "(not verified fixed, retired or not affected) and not covered by another valid exception; exposure-days "
    "since expiry = Σ (as_of − latest such expiry)",
    source="NIST SP 800-40r4 risk responses; metrics.md §6.6 (an expired exception reverts the finding to "
    "overdue immediately; no silent renewal)",
    threshold="0",
    needs=("exceptions", "findings"),
)
def x2(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of = p.add(ctx.as_of)
    sql = f"""
        SELECT asset_id, vuln_id, epoch({as_of} - max(expires_at)) / 86400.0, list(DISTINCT exception_id ORDER BY
            exception_id) FROM ({expired_open(as_of)}) GROUP BY asset_id, vuln_id ORDER BY asset_id, vuln_id"""
    found = rows(ctx, sql, p.for_sql(sql))
    lapsed = sorted({str(e) for *_, ids in found for e in ids})
    return count(len(found), "finding-instances"), {
        "exposure_days_since_expiry": round(sum(float(d) for _, _, d, _ in found), 1),
        "expired_exceptions": lapsed,
    }


@metric(
    "X3",
    "Unmitigated acceptances",
    formula="active exceptions covering ≥ 1 urgent finding-instance (KEV, BOD 26-04 3DF/3D/14D tier, or on an "
    "internet-facing asset) with no compensating control verified at any time before as_of (none named, or "
    "never verified)",
    source="PCI DSS compensating controls; CISA BOD 26-04; metrics.md §6.7",
    threshold="0 [O]",
    needs=("exceptions", "findings"),
    unit_of_count="exception",
)
def x3(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of = p.add(ctx.as_of)
    sql = f"""
        SELECT u.exception_id, c.controls, c.verified_at IS NOT NULL
        FROM ({urgent_cover(as_of)}) u JOIN ({control_evidence(as_of)}) c ON c.id = u.exception_id
        ORDER BY u.exception_id"""
    found = rows(ctx, sql, p.for_sql(sql))
    unmitigated = [str(i) for i, _, verified in found if not verified]
    return count(len(unmitigated), "exceptions"), {
        "exceptions_on_urgent_exposure": len(found),
        "no_control_named": sum(1 for _, n, _ in found if not n),
        "control_never_verified": sum(1 for _, n, v in found if n and not v),
        "unmitigated": unmitigated,
    }


@metric(
    "X4",
    "Exception rate",
    formula="open finding-instances on active assets at as_of covered by a valid exception (sound, approved, not "
    "expired) / open finding-instances on active assets, per BOD 26-04 tier",
    source="CIS Controls Assessment Specification 7.3 (M4, documented exceptions)",
    threshold="trend; flag > 10 % in any tier [O]",
    needs=("findings", "exceptions"),
)
def x4(ctx: CheckContext) -> Result | str:
    sql = (
        "SELECT bod_outcome, count(*), count(excepted_by) FROM a_ledger WHERE is_open AND asset_active "
        "GROUP BY ALL ORDER BY ALL"
    )
    tiers = {str(t): (int(n), int(x)) for t, n, x in rows(ctx, sql)}
    total, excepted = sum(n for n, _ in tiers.values()), sum(x for _, x in tiers.values())
    if not total:
        return "no finding-instance is open at as_of"
    by_tier = {t: {"open": n, "excepted": x, "rate": pct(x, n).display} for t, (n, x) in tiers.items()}
    flagged = [t for t, (n, x) in tiers.items() if n and x / n > 0.10]
    return pct(excepted, total), {"by_bod2604_tier": by_tier, "tiers_over_10_percent": flagged}


@metric(
    "X5",
    "Exception duration and renewals",
    formula="per exception recorded before as_of with approval and expiry dates: expires_at − approved_at in days "
    "(median, mean, P90, max) against policy.exceptions.max_duration_days; exceptions with no expiry; renewals "
    "(exceptions naming renewal_of) and finding-instances covered by more than one exception; excepted "
    "instances open longer than 192 days",
    source="FedRAMP vulnerability deviation requests (192-day accepted-vulnerability concept) [S]; "
    "organisation policy [O]",
    threshold="≤ 1 quarter per approval, re-approved each quarter [O]; flag findings open > 192 days [S]",
    needs=("exceptions",),
    unit_of_count="exception",
)
def x5(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of = p.add(ctx.as_of)
    sql = f"""
        SELECT (epoch(e.expires_at) - epoch(e.approved_at)) / 86400.0, e.expires_at IS NULL, e.renewal_of IS NOT NULL
        FROM exceptions e WHERE {recorded(as_of)}"""
    found = rows(ctx, sql, p.for_sql(sql))
    if not found:
        return "the bundle records no exception before as_of"
    durations = [float(d) for d, _, _ in found if d is not None]
    stats = days_stats(durations)
    limit = ctx.policy.exceptions.max_duration_days
    breakdown = {
        "duration_days": stats,
        "limit_days": limit,
        "longer_than_limit": sum(d > limit for d in durations),
        "without_expiry": sum(bool(x) for _, x, _ in found),
        "renewals": sum(bool(r) for _, _, r in found),
        **_renewals(ctx),
    }
    if not durations:
        return Measure(display="n/a (no exception has both dates)"), breakdown
    measure = Measure(
        value=stats["median"],
        unit="days",
        numerator=len(durations),
        display=f"median {stats['median']} d, max {stats['max']} d (n={len(durations):,})",
    )
    return measure, breakdown


def _renewals(ctx: CheckContext) -> dict[str, int]:
    """Instances covered by several exceptions, and excepted instances open longer than 192 days."""
    p = Params()
    as_of, long_open = p.add(ctx.as_of), p.add(LONG_OPEN_DAYS)
    sql = f"""
        SELECT count(*) FILTER (WHERE n > 1), count(*) FILTER (WHERE is_open AND excepted AND
            first_detected_at < {as_of} - to_days({long_open}))
        FROM (SELECT l.asset_id, l.vuln_id, count(DISTINCT sc.exception_id) AS n, any_value(l.is_open) AS is_open,
                     any_value(l.excepted_by IS NOT NULL) AS excepted,
                     any_value(l.first_detected_at) AS first_detected_at
              FROM a_exc_scope sc JOIN exceptions e ON e.id = sc.exception_id
              JOIN a_ledger l ON l.asset_id = sc.asset_id AND l.vuln_id = sc.vuln_id
              WHERE {recorded(as_of)} GROUP BY l.asset_id, l.vuln_id)"""
    several, long_open_count = rows(ctx, sql, p.for_sql(sql))[0]
    return {
        "instances_under_several_exceptions": int(several or 0),
        "excepted_open_over_192_days": int(long_open_count or 0),
    }


@metric(
    "X6",
    "Compensating-control verification freshness",
    formula="active exceptions (recorded before as_of, not expired) naming ≥ 1 compensating control, inline or by "
    "id, one of which was verified within policy.exceptions.control_verification_max_days (90) before as_of / "
    "active exceptions naming ≥ 1 compensating control",
    source="PCI DSS compensating-controls worksheet ('validate controls'); organisation policy [O]",
    threshold="100 % verified within 90 days [O]",
    needs=("exceptions",),
    unit_of_count="exception",
)
def x6(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of, days = p.add(ctx.as_of), p.add(ctx.policy.exceptions.control_verification_max_days)
    sql = f"""
        SELECT count(*), count(*) FILTER (WHERE c.verified_at >= {as_of} - to_days({days})),
            count(*) FILTER (WHERE c.verified_at IS NULL)
        FROM exceptions e JOIN ({control_evidence(as_of)}) c ON c.id = e.id
        WHERE {in_force(as_of)} AND c.controls > 0"""
    total, fresh, never = (int(x or 0) for x in rows(ctx, sql, p.for_sql(sql))[0])
    if not total:
        return "no active exception names a compensating control"
    return pct(fresh, total), {"stale": total - fresh - never, "never_verified": never}
