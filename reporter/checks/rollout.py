"""RLB: changes that undo or bypass a fix — failed rollouts, rollbacks, emergency changes — are
reassessed, re-open the fixes they undo, and end in permanent fixes (SP 800-40r4 §3.1, §3.5, 3d)."""

from __future__ import annotations

from reporter.checks.base import (
    CheckContext,
    CheckOutcome,
    ExceptionScope,
    evaluate,
    ledger_gaps,
    record_gap,
    record_unit,
    unit_select,
)
from reporter.checks.registry import register
from reporter.store.sql import Params

_TS = "strftime({0}, '%Y-%m-%d %H:%MZ')"
_DAY = "strftime({0}, '%Y-%m-%d')"
# Events after which exposure must be reassessed (E11); retirements are not.
REASSESSED_TYPES = ("failed_rollout", "rollback", "emergency_bypass", "emergency_mitigation")


def event_instances(as_of: str) -> str:
    """Finding-instances each rollout event (alias r) affects: its findings, and the targets of its
    deployments. Columns: event_id, asset_id, vuln_id."""
    return f"""
        SELECT r.id AS event_id, f.asset_id, f.vuln_id
        FROM (SELECT id, unnest(finding_ids) AS finding_id FROM rollout_events WHERE occurred_at < {as_of}) r
        JOIN findings f ON f.id = r.finding_id
        UNION
        SELECT r.id, d.asset_id, d.i_vuln
        FROM (SELECT id, unnest(deployment_ids) AS deployment_id FROM rollout_events WHERE occurred_at < {as_of}) r
        JOIN a_dep d ON d.id = r.deployment_id"""


def _urgent_event(as_of: str) -> str:
    """Whether an event (alias r) touches urgent exposure: an internet-facing asset it names, or an
    urgent finding-instance it affects (KEV, BOD 26-04 3DF/3D/14D, internet-facing)."""
    assets = """
        SELECT id, unnest(asset_ids) AS asset_id FROM rollout_events
        UNION ALL
        SELECT r.id, d.asset_id FROM (SELECT id, unnest(deployment_ids) AS deployment_id FROM rollout_events) r
        JOIN deployments d ON d.id = r.deployment_id"""
    return f"""r.id IN (
        SELECT u.id FROM ({assets}) u JOIN a_assets a ON a.id = u.asset_id WHERE a.internet_facing
        UNION ALL
        SELECT t.event_id FROM ({event_instances(as_of)}) t JOIN a_instances i
        ON i.asset_id = t.asset_id AND i.vuln_id = t.vuln_id WHERE i.urgent)"""


def reassessment_due(ctx: CheckContext, params: Params) -> str:
    """Rollout events that needed a reassessment and whose window closed by as_of, or that were
    reassessed before it. Columns: rollout_events.*, urgent, window_hours, deadline, on_time."""
    as_of, types = params.add(ctx.as_of), params.add(list(REASSESSED_TYPES))
    rollout = ctx.policy.rollout
    urgent_h, default_h = params.add(rollout.reassessment_hours_urgent), params.add(rollout.reassessment_hours_default)
    events = f"""
        SELECT r.*, {_urgent_event(as_of)} AS urgent FROM rollout_events r
        WHERE list_contains({types}, r.type) AND r.occurred_at < {as_of}"""
    timed = f"""
        SELECT e.*, CASE WHEN e.urgent THEN {urgent_h} ELSE {default_h} END AS window_hours,
            e.occurred_at + to_hours(CASE WHEN e.urgent THEN {urgent_h} ELSE {default_h} END) AS deadline,
            CASE WHEN e.reassessed_at < {as_of} THEN e.reassessed_at END AS reassessed
        FROM ({events}) e"""
    return f"""
        SELECT t.*, t.reassessed IS NOT NULL AND t.reassessed <= t.deadline AS on_time
        FROM ({timed}) t WHERE t.deadline <= {as_of} OR t.reassessed IS NOT NULL"""


@register("rollout.reassessment")
def reassessment(ctx: CheckContext) -> CheckOutcome:
    """E11: problems with a rollout are inevitable (SP 800-40r4 §3.1); what matters is that exposure
    is reassessed promptly afterwards. Every failed rollout, rollback, emergency bypass and emergency
    mitigation is reassessed (reassessed_at) within 24 hours when it touches urgent exposure
    (internet-facing asset, KEV or BOD 26-04 3DF/3D/14D finding) and within 72 hours otherwise
    (policy.rollout). Events whose window is still open at as_of are not yet due. Evidence:
    rollout_events (with assets and findings for urgency). Example gap: "rollback r-0036 at
    2026-08-03 10:00Z (urgent) reassessed after 40 hours (window 24 hours)"."""
    params = Params()
    due = reassessment_due(ctx, params)
    message = (
        f"replace(r.type, '_', ' ') || ' ' || r.id || ' at ' || {_TS.format('r.occurred_at')} || ' on ' "
        "|| COALESCE(NULLIF(array_to_string(r.asset_ids, ', '), ''), 'unnamed assets') "
        "|| CASE WHEN r.urgent THEN ' (urgent exposure)' ELSE '' END || CASE WHEN r.reassessed IS NULL "
        "THEN ' never reassessed' ELSE ' reassessed after ' "
        "|| round(epoch(r.reassessed - r.occurred_at) / 3600.0, 1) || ' hours' END "
        "|| ' (window ' || r.window_hours || ' hours)'"
    )
    gaps = f"SELECT {record_gap('r', 'rollout_events', message)} FROM ({due}) r WHERE NOT r.on_time"
    return evaluate(
        ctx,
        needs=("rollout_events",),
        population_sql=f"SELECT {record_unit('r', 'rollout_events')} FROM ({due}) r",
        gaps_sql=gaps,
        noun="failed rollouts, rollbacks and emergency changes due for reassessment",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )


def undone_fixes() -> str:
    """Finding-instances whose verified fix a rollback undid: a not-vulnerable verification before
    the rollback. Per instance, the latest such rollback. Columns: asset_id, vuln_id, rollback_id,
    rollback_at, fixed_before, clean_after, last_after (result and time of the latest verification
    after the rollback)."""
    clean_before = (
        "SELECT max(v.observed_at) FROM a_ver v WHERE v.asset_id = rb.asset_id AND v.i_vuln = rb.i_vuln "
        "AND v.result = 'not_vulnerable' AND v.observed_at < rb.occurred_at"
    )
    undone = f"SELECT rb.*, ({clean_before}) AS fixed_before FROM a_rollback rb"
    latest = f"""
        SELECT asset_id, i_vuln AS vuln_id, arg_max(id, (occurred_at, id)) AS rollback_id,
            max(occurred_at) AS rollback_at, arg_max(fixed_before, (occurred_at, id)) AS fixed_before
        FROM ({undone}) WHERE fixed_before IS NOT NULL GROUP BY ALL"""
    return f"""
        SELECT u.*,
            (SELECT min(v.observed_at) FROM a_ver v WHERE v.asset_id = u.asset_id AND v.i_vuln = u.vuln_id
             AND v.result = 'not_vulnerable' AND v.observed_at > u.rollback_at) AS clean_after,
            (SELECT arg_max(v.result || ' ' || {_DAY.format("v.observed_at")}, v.observed_at) FROM a_ver v
             WHERE v.asset_id = u.asset_id AND v.i_vuln = u.vuln_id AND v.observed_at > u.rollback_at) AS last_after
        FROM ({latest}) u"""


@register("rollout.rollback_reopened")
def rollback_reopened(ctx: CheckContext) -> CheckOutcome:
    """E6: a rollback re-opens every fix it undoes, from the rollback, with the original detection
    time and deadline (metrics.md §6.4): the earlier verification no longer holds. A finding-instance
    verified not vulnerable before a rollback that affected it (its deployment, the finding, or a
    deployment on the named asset) needs a new not-vulnerable verification after the rollback; one
    gap per re-opened instance, naming the latest rollback. Evidence: rollout_events, deployments,
    verifications. Example gap: "CVE-2025-48211 on a-srv-102 verified fixed 2026-07-22, rolled back by
    r-0038 on 2026-07-26 14:00Z; no not-vulnerable verification since (last: vulnerable 2026-07-26)"."""
    undone = undone_fixes()
    message = (
        f"i.vuln_id || ' on ' || i.asset_id || ' verified fixed ' || {_DAY.format('u.fixed_before')} "
        f"|| ', rolled back by ' || u.rollback_id || ' on ' || {_TS.format('u.rollback_at')} "
        "|| '; no not-vulnerable verification since (last: ' || COALESCE(u.last_after, 'none') || ')'"
    )
    gaps = ledger_gaps(
        message,
        f"FROM ({undone}) u JOIN a_instances i ON i.asset_id = u.asset_id AND i.vuln_id = u.vuln_id "
        "WHERE u.clean_after IS NULL",
        alias="i",
    )
    # the instance a rolled-back fix is about, even when no finding record names it
    unit = unit_select(
        kind="findings", record_id="i.finding_id", source="i._source", rec="i._rec", line="i._line",
        asset_id="u.asset_id", vuln_id="u.vuln_id",
    )  # fmt: skip
    return evaluate(
        ctx,
        needs=("rollout_events", "deployments", "verifications"),
        population_sql=f"SELECT {unit} FROM ({undone}) u LEFT JOIN a_instances i USING (asset_id, vuln_id)",
        gaps_sql=gaps,
        noun="verified fixes undone by a rollback",
        exceptions=ExceptionScope.FINDINGS,
    )


def unreplaced_mitigations(as_of: str) -> str:
    """Emergency mitigations before as_of with, per event, its affected instances and those not
    verified not vulnerable after it. Columns: rollout_events.*, instances, unverified (text),
    first_asset, first_vuln (of the first unverified instance)."""
    verified_after = (
        "EXISTS (SELECT 1 FROM a_ver v WHERE v.asset_id = t.asset_id AND v.i_vuln = t.vuln_id "
        "AND v.result = 'not_vulnerable' AND v.observed_at > r.occurred_at)"
    )
    per_event = f"""
        SELECT t.event_id, count(*) AS instances,
            string_agg(t.vuln_id || ' on ' || t.asset_id, ', ' ORDER BY t.asset_id, t.vuln_id)
                FILTER (WHERE NOT {verified_after}) AS unverified,
            min((t.asset_id, t.vuln_id)) FILTER (WHERE NOT {verified_after}) AS first
        FROM ({event_instances(as_of)}) t JOIN rollout_events r ON r.id = t.event_id GROUP BY t.event_id"""
    return f"""
        SELECT r.*, COALESCE(p.instances, 0) AS instances, p.unverified,
            p.first[1] AS first_asset, p.first[2] AS first_vuln
        FROM rollout_events r LEFT JOIN ({per_event}) p ON p.event_id = r.id
        WHERE r.type = 'emergency_mitigation' AND r.occurred_at < {as_of}"""


@register("rollout.emergency_mitigation_replaced")
def emergency_mitigation_replaced(ctx: CheckContext) -> CheckOutcome:
    """E12: an emergency mitigation (a disabled feature, a firewall rule) is a stop-gap; SP 800-40r4
    §3.5 asks that it be replaced by a permanent fix. Every emergency mitigation before as_of either
    records the permanent fix (permanent_fix_ref) or every finding-instance it covers was verified
    not vulnerable after it; a mitigation naming no finding or deployment cannot show the latter.
    A valid exception covering the exposure may cover the gap. Evidence: rollout_events,
    verifications. Example gap: "emergency mitigation r-0031 at 2026-07-07 13:00Z: no permanent fix
    recorded, and CVE-2025-22457 on a-net-019 not verified fixed since"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    events = unreplaced_mitigations(as_of)
    message = (
        f"'emergency mitigation ' || r.id || ' at ' || {_TS.format('r.occurred_at')} || ': no permanent fix recorded, "
        "and ' || CASE WHEN r.instances = 0 THEN 'it names no finding or deployment to verify' "
        "ELSE r.unverified || ' not verified fixed since' END"
    )
    gaps = f"""
        SELECT {record_gap("r", "rollout_events", message, asset_id="r.first_asset", vuln_id="r.first_vuln")}
        FROM ({events}) r
        WHERE NULLIF(trim(r.permanent_fix_ref), '') IS NULL AND (r.instances = 0 OR r.unverified IS NOT NULL)"""
    return evaluate(
        ctx,
        needs=("rollout_events", "verifications"),
        population_sql=f"SELECT {record_unit('r', 'rollout_events')} FROM ({events}) r",
        gaps_sql=gaps,
        noun="emergency mitigations",
        params=params,
        exceptions=ExceptionScope.FINDINGS,
    )
