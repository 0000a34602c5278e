"""T1–T8: how fast exposures are removed, against their deadlines (metrics.md §3.2)."""

from __future__ import annotations

from typing import Any

from reporter.checks.base import CheckContext, count, pct
from reporter.checks.priority import NO_KEV_STATUS, kev_status_known
from reporter.metrics.base import NO_VALUES, Durations, duration_stats, metric, rows
from reporter.models.results import Measure
from reporter.store.sql import Params

Result = tuple[Measure, dict[str, Any]]
DAY = 86_400  # seconds


def _days(end: str, start: str) -> str:
    """A duration's two columns for `duration_stats`: in days (`v`, as the metrics always computed it)
    and in whole microseconds (`us`)."""
    return f"epoch({end} - {start}) / {DAY}.0 AS v, epoch_us({end}) - epoch_us({start}) AS us"


def _cohort(start: str, as_of: str) -> str:
    # Same cohort as PRI-01: due in the period, or detected in it already past due.
    return (
        f"SELECT * FROM a_ledger WHERE due_at <= {as_of} AND NOT not_affected "
        f"AND (due_at >= {start} OR first_detected_at >= {start})"
    )


@metric(
    "T1",
    "SLA compliance (% remediated by the deadline)",
    formula="cohort = finding-instances due in the period up to as_of (or detected in it already past due); met = "
    "verified fixed by the deadline, retired by it, or covered at the deadline by a valid exception (an exception "
    "approved later does not count; a rollback keeps the original clock); open and overdue counts as a miss",
    source="NIST SP 800-40r4 §3.6 '% patched by the deadline'; SP 800-53 SI-2(3)(b)",
    threshold="100 % for mandated tiers (BOD/PCI/FedRAMP deadlines are requirements); otherwise ≥ 95 % [O]",
    needs=("findings",),
)
def t1(ctx: CheckContext) -> Result | str:
    p = Params()
    start, as_of = p.add(ctx.period.start_at), p.add(ctx.as_of)
    sql = (
        f"SELECT sla_rule, count(*), count(*) FILTER (WHERE sla_status IN ('met', 'met_by_exception')) "
        f"FROM ({_cohort(start, as_of)}) GROUP BY ALL ORDER BY ALL"
    )
    by_rule = {str(r): {"due": int(n), "met": int(m)} for r, n, m in rows(ctx, sql, p.for_sql(sql))}
    due = sum(v["due"] for v in by_rule.values())
    met = sum(v["met"] for v in by_rule.values())
    return pct(met, due), {"by_sla_rule": by_rule}


@metric(
    "T2",
    "Time to remediate (verified)",
    formula="over finding-instances verified fixed in the period: verified fix time − first detection, in calendar "
    "days; mean, median and P90, per vulnerability importance",
    source="NIST SP 800-40r4 §3.6 (mean and median time to patch); SP 800-53 SI-2(3)(a)",
    threshold="median within the tier SLA",
    needs=("findings", "verifications"),
    unit_of_count="finding-instance",
)
def t2(ctx: CheckContext) -> Result | str:
    p = Params()
    start, as_of = p.add(ctx.period.start_at), p.add(ctx.as_of)

    def durations(group: str) -> str:
        return (
            f"SELECT {group} AS g, {_days('fixed_at', 'first_detected_at')} FROM a_ledger "
            f"WHERE fixed_at >= {start} AND fixed_at < {as_of}"
        )

    found = duration_stats(ctx, durations("NULL"), p, DAY).get(None)
    if found is None:
        return "no finding-instance was verified fixed in the period"
    stats, n = found.stats, found.count
    groups = duration_stats(ctx, durations("vuln_importance"), p, DAY)
    measure = Measure(
        value=stats["median"],
        unit="days",
        numerator=n,
        display=f"median {stats['median']} d, mean {stats['mean']} d, P90 {stats['p90']} d (n={n:,})",
    )
    return measure, {"all": stats, "by_vuln_importance": {str(k): v.stats for k, v in groups.items()}}


@metric(
    "T3",
    "Time to patch from release",
    formula="over finding-instances verified fixed in the period with a known patch release time: verified fix "
    "time − patch release, in calendar days",
    source="PCI DSS v4.0.1 6.3.3 (clock starts at release); SP 800-40 v2 'patch response time'",
    threshold="≤ 30 days for critical/high (PCI DSS 6.3.3)",
    needs=("findings", "verifications"),
)
def t3(ctx: CheckContext) -> Result | str:
    p = Params()
    start, as_of = p.add(ctx.period.start_at), p.add(ctx.as_of)
    durations = (
        f"SELECT NULL AS g, {_days('fixed_at', 'patch_released_at')} FROM a_ledger WHERE fixed_at >= {start} "
        f"AND fixed_at < {as_of} AND patch_released_at IS NOT NULL"
    )
    found = duration_stats(ctx, durations, p, DAY).get(None)
    if found is None:
        return "no finding records a patch release time (patch_released_at)"
    stats, n = found.stats, found.count
    return Measure(
        value=stats["median"],
        unit="days",
        numerator=n,
        display=f"median {stats['median']} d (n={n:,})",
    ), {"all": stats}


@metric(
    "T4",
    "Survival-adjusted time to remediate",
    formula="Kaplan–Meier estimate over finding-instances first detected in the 365 days before as_of: event = "
    "verified fix, open instances right-censored at as_of (retired ones at retirement); median survival and "
    "the share still open after 30, 90 and 365 days",
    source="Cyentia 'Why your MTTR is probably bogus'; Elastic Security Labs survival analysis (metrics.md §1.4)",
    threshold="report only; trend quarter on quarter",
    needs=("findings", "verifications"),
)
def t4(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of = p.add(ctx.as_of)
    sql = f"""
        SELECT floor(epoch(COALESCE(fixed_at, CASE WHEN state = 'retired' THEN retired_effective_at END, {as_of})
                    - first_detected_at) / 86400.0)::INTEGER AS day,
               count(*) FILTER (WHERE fixed_at IS NOT NULL) AS events, count(*) AS exits
        FROM a_ledger WHERE first_detected_at >= {as_of} - to_days(365) AND NOT not_affected
        GROUP BY day ORDER BY day"""
    table = [(int(d), int(e), int(x)) for d, e, x in rows(ctx, sql, p.for_sql(sql))]
    if not table:
        return "no finding-instance was detected in the 365 days before as_of"
    at_risk = sum(x for _, _, x in table)
    survival, curve, median = 1.0, {}, None
    for day, events, exits in table:
        if events:
            survival *= 1 - events / at_risk
        curve[day] = survival
        if median is None and survival <= 0.5:
            median = day
        at_risk -= exits

    def s_at(t: int) -> float:
        value = 1.0
        for day, s in curve.items():
            if day <= t:
                value = s
        return round(value, 3)

    points = {"S(30)": s_at(30), "S(90)": s_at(90), "S(365)": s_at(365)}
    display = (
        f"median {median} d" if median is not None else "median not reached"
    ) + f"; still open after 30 d: {points['S(30)'] * 100:.0f} %, 90 d: {points['S(90)'] * 100:.0f} %"
    return Measure(value=None if median is None else float(median), unit="days", display=display), {
        "median_days": median,
        **points,
        "instances": sum(x for _, _, x in table),
    }


@metric(
    "T5",
    "Overdue backlog and age",
    formula="open finding-instances (not verified fixed, retired or excepted) on active assets with a deadline "
    "before as_of: count, days overdue (as_of − deadline) P50/P90/max, and overdue exposure-days",
    source="NIST SP 800-40r4; Kenna 'open > 1 year' (metrics.md §3.2)",
    threshold="0 overdue in the 3- and 14-day tiers (BOD 26-04)",
    needs=("findings",),
)
def t5(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of = p.add(ctx.as_of)

    def overdue(group: str) -> str:
        return (
            f"SELECT {group} AS g, {_days(as_of, 'due_at')} FROM a_ledger WHERE is_open AND asset_active "
            f"AND state <> 'excepted' AND due_at < {as_of}"
        )

    found = duration_stats(ctx, overdue("NULL"), p, DAY).get(None, Durations(dict(NO_VALUES), 0))
    sql = f"SELECT g, count(*) FROM ({overdue('bod_outcome')}) GROUP BY ALL ORDER BY ALL"
    tiers = {str(k): int(n) for k, n in rows(ctx, sql, p.for_sql(sql))}
    return count(found.count, "finding-instances"), {
        "days_overdue": found.stats,
        "by_bod2604_tier": tiers,
        # a sum of no days is the integer 0, as it always printed
        "overdue_days_total": round(found.total_us / (DAY * 1_000_000), 1) if found.count else 0,
    }


@metric(
    "T6",
    "KEV remediation compliance",
    formula="KEV finding-instances whose published KEV due date (end of day, UTC) passed by as_of — due in the period, "
    "or still open at its start — verified fixed, retired or validly excepted by that date / such instances; plus "
    "KEV instances open on internet-facing assets at as_of",
    source="CISA BOD 22-01 and the KEV catalog dueDate; BOD 26-04",
    threshold="100 %; 0 open exposed KEV past 3 days",
    needs=("findings",),
)
def t6(ctx: CheckContext) -> Result | str:
    if not kev_status_known(ctx):
        return NO_KEV_STATUS
    p = Params()
    start, as_of = p.add(ctx.period.start_at), p.add(ctx.as_of)
    due = "(kev_due_date + 1)::TIMESTAMPTZ"
    sql = f"""SELECT count(*) FILTER (WHERE (fixed_at IS NOT NULL AND fixed_at <= {due})
                  OR (state = 'retired' AND retired_effective_at <= {due}) OR sla_status = 'met_by_exception'),
                  count(*) FROM a_ledger WHERE kev AND kev_due_date IS NOT NULL AND {due} <= {as_of}
                      AND NOT not_affected
                  AND ({due} >= {start} OR fixed_at IS NULL OR fixed_at >= {start})"""
    met, total = rows(ctx, sql, p.for_sql(sql))[0]
    exposed_sql = "SELECT count(*) FROM a_ledger WHERE kev AND is_open AND internet_facing AND asset_active"
    exposed = rows(ctx, exposed_sql)[0][0]
    return pct(int(met or 0), int(total or 0)), {"kev_open_on_internet_facing": int(exposed or 0)}


@metric(
    "T7",
    "Forensic-triage compliance",
    formula="3DF-tier finding-instances with a recorded triage outcome / 3DF-tier finding-instances",
    source="CISA BOD 26-04 (forensic triage for the top tier)",
    threshold="100 % within 72 h [S]",
)
def t7(ctx: CheckContext) -> Result | str:
    return (
        "bundle format 1 has no record kind for forensic-triage outcomes; the 3DF tier is counted in R1 "
        "but its triage cannot be verified"
    )


@metric(
    "T8",
    "Scan-to-ticket latency",
    formula="ticket created − first detection",
    source="SP 800-40 v2 'triage response time'",
    threshold="[O]",
)
def t8(ctx: CheckContext) -> Result | str:
    return "bundle format 1 carries no ticket creation times (deployments name a change record, not when it was raised)"
