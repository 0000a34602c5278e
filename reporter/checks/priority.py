"""PRI: the exposures that matter most (KEV, internet-facing, critical) are fixed first and in SLA."""

from __future__ import annotations

from dataclasses import replace

from reporter.checks.base import (
    CheckContext,
    CheckOutcome,
    ExceptionScope,
    evaluate,
    insufficient,
    ledger_gaps,
    ledger_unit,
    missing_kinds,
    scalar,
)
from reporter.checks.registry import register
from reporter.store.sql import Params

_DUE = "strftime({0}, '%Y-%m-%d')"


@register("priority.sla_compliance")
def sla_compliance(ctx: CheckContext) -> CheckOutcome:
    """T1: of the finding-instances whose deadline fell in the period (up to as_of), those verified
    fixed by the deadline, or covered at the deadline by a valid exception. An exception approved
    after the deadline does not cover it; a rollback keeps the original clock. Example gap: "CVE-… on
    a-web-01 due 2026-08-01 (rule BOD2604-14D), still open"."""
    params = Params()
    start, as_of = params.add(ctx.period.start_at), params.add(ctx.as_of)
    # Due in the period; or detected in the period already past due (a KEV due date, or BOD 26-04's
    # "earlier of KEV addition and detection" clock, can precede the detection itself).
    cohort = (
        f"SELECT * FROM a_ledger WHERE due_at <= {as_of} AND NOT not_affected "
        f"AND (due_at >= {start} OR first_detected_at >= {start})"
    )
    message = (
        f"l.vuln_id || ' on ' || l.asset_id || ' due ' || {_DUE.format('l.due_at')} || ' (rule ' || l.sla_rule || '), '"
        " || CASE WHEN l.fixed_at IS NOT NULL THEN 'verified fixed only ' || "
        f"{_DUE.format('l.fixed_at')} ELSE l.state END"
    )
    gaps = ledger_gaps(message, f"FROM ({cohort}) l WHERE l.sla_status = 'missed'")
    return evaluate(
        ctx,
        needs=("findings", "verifications"),
        population_sql=f"SELECT {ledger_unit('l')} FROM ({cohort}) l",
        gaps_sql=gaps,
        noun="finding-instances due in the period",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )


NO_KEV_STATUS = (
    "the bundle has no KEV catalog (kev_entries) and no finding records its KEV status (kev, kev_due_date); "
    "known exploitation cannot be told from its absence, so this cannot be assessed"
)


def kev_status_known(ctx: CheckContext) -> bool:
    """Whether the bundle says which vulnerabilities are known exploited: a KEV catalog, or findings
    that record their KEV status (scanners such as Tenable do). Without either, "no KEV finding" is
    not evidence of anything."""
    if "kev_entries" in ctx.kinds_present:
        return True
    return bool(scalar(ctx, "SELECT count(*) FROM findings WHERE kev IS NOT NULL OR kev_due_date IS NOT NULL"))


@register("priority.kev_compliance")
def kev_compliance(ctx: CheckContext) -> CheckOutcome:
    """T6: KEV finding-instances fixed by the KEV due date as published (never recomputed; a date
    means the end of that day, UTC). Instances due before the period count when still open at its
    start. KEV status comes from the KEV catalog (kev_entries) or from the findings themselves (kev,
    kev_due_date); with neither, the control is insufficient_evidence. Evidence: findings and
    verifications (the ledger), kev_entries when present. Example gap: "CVE-2024-3400 (KEV) on
    a-fw-01 due 2026-07-19, still open"."""
    if not missing_kinds(ctx, ("findings",)) and not kev_status_known(ctx):
        return replace(insufficient(["kev_entries"]), reason=NO_KEV_STATUS)
    params = Params()
    start, as_of = params.add(ctx.period.start_at), params.add(ctx.as_of)
    due = "(l.kev_due_date + 1)::TIMESTAMPTZ"
    cohort = f"""SELECT * FROM a_ledger l WHERE l.kev AND l.kev_due_date IS NOT NULL AND {due} <= {as_of}
        AND NOT l.not_affected AND ({due} >= {start} OR l.fixed_at IS NULL OR l.fixed_at >= {start})"""
    fixed_in_time = (
        f"(l.fixed_at IS NOT NULL AND l.fixed_at <= {due}) "
        f"OR (l.state = 'retired' AND l.retired_effective_at <= {due}) "
        "OR EXISTS (SELECT 1 FROM a_exc_scope sc JOIN a_exc e ON e.id = sc.exception_id "
        "WHERE sc.asset_id = l.asset_id "
        f"AND sc.vuln_id = l.vuln_id AND e.sound AND len(e.control_ids) = 0 AND e.approved_at <= {due} "
        f"AND {due} < e.expires_at)"
    )
    message = (
        f"l.vuln_id || ' (KEV) on ' || l.asset_id || ' due ' || strftime(l.kev_due_date, '%Y-%m-%d') || ', '"
        " || CASE WHEN l.fixed_at IS NOT NULL THEN 'verified fixed only ' || "
        f"{_DUE.format('l.fixed_at')} ELSE l.state END"
    )
    gaps = ledger_gaps(message, f"FROM ({cohort}) l WHERE NOT ({fixed_in_time})")
    return evaluate(
        ctx,
        needs=("findings", "verifications"),
        population_sql=f"SELECT {ledger_unit('l')} FROM ({cohort}) l",
        gaps_sql=gaps,
        noun="KEV finding-instances past their due date",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )


@register("priority.internet_facing_overdue")
def internet_facing_overdue(ctx: CheckContext) -> CheckOutcome:
    """R2: no open critical, high or KEV finding-instance on an internet-facing asset is past its
    deadline at as_of. Example gap: "CVE-… (critical) on internet-facing a-vpn-01 overdue since
    2026-07-22"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    exposed = (
        "SELECT * FROM a_ledger WHERE is_open AND internet_facing AND asset_active "
        "AND (kev OR severity IN ('critical', 'high'))"
    )
    message = (
        "l.vuln_id || ' (' || CASE WHEN l.kev THEN 'KEV, ' ELSE '' END || l.severity || ') on internet-facing ' "
        f"|| l.asset_id || ' overdue since ' || {_DUE.format('l.due_at')} || ' (' || l.state || ')'"
    )
    gaps = ledger_gaps(message, f"FROM ({exposed}) l WHERE l.due_at < {as_of}")
    return evaluate(
        ctx,
        needs=("findings", "assets"),
        population_sql=f"SELECT {ledger_unit('l')} FROM ({exposed}) l",
        gaps_sql=gaps,
        noun="open critical/high/KEV instances on internet-facing assets",
        params=params,
        exceptions=ExceptionScope.FINDINGS,
    )


@register("priority.overdue_backlog")
def overdue_backlog(ctx: CheckContext) -> CheckOutcome:
    """T5: no open finding-instance is past its deadline at as_of unless a valid exception covers
    it (an expired exception reverts immediately). Example gap: "CVE-… on a-db-02 overdue since
    2026-06-30 (open)"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    backlog = "SELECT * FROM a_ledger WHERE is_open AND due_at IS NOT NULL AND asset_active"
    message = (
        f"l.vuln_id || ' on ' || l.asset_id || ' overdue since ' || {_DUE.format('l.due_at')} || ' (' || l.state || ')'"
    )
    gaps = ledger_gaps(message, f"FROM ({backlog}) l WHERE l.due_at < {as_of}")
    return evaluate(
        ctx,
        needs=("findings",),
        population_sql=f"SELECT {ledger_unit('l')} FROM ({backlog}) l",
        gaps_sql=gaps,
        noun="open finding-instances with a deadline",
        params=params,
        exceptions=ExceptionScope.FINDINGS,
    )
