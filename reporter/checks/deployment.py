"""DEP: patching activity, reported as activity only (E1): failures followed up, changes recorded."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckOutcome, ExceptionScope, evaluate, record_gap, record_unit
from reporter.checks.registry import register
from reporter.store.sql import Params

UNSUCCESSFUL = ("failed", "partial", "pending_reboot")


@register("deployment.unresolved_failures")
def unresolved_failures(ctx: CheckContext) -> CheckOutcome:
    """A failed, partial or pending-reboot deployment leaves the exposure in place (a pending
    reboot has not "taken effect", SP 800-40r4 3c) until a later successful deployment or a
    not-vulnerable verification resolves each target. Example gap: "deployment d-44 pending_reboot
    2026-08-01; CVE-… on a-srv-9 not resolved by a later success or verification". Verifications
    are read when the bundle has them; without them a failure counts as followed up only by a later
    successful deployment, so missing verification evidence can flag, never pass, a failure.
    Evidence: deployments (verifications when present)."""
    params = Params()
    as_of, statuses = params.add(ctx.as_of), params.add(list(UNSUCCESSFUL))
    failed = (
        f"SELECT * FROM deployments WHERE list_contains({statuses}, status) "
        f"AND COALESCE(completed_at, started_at) < {as_of}"
    )
    targets = f"""
        SELECT d.id, t.i_vuln AS vuln_id, d.asset_id,
            EXISTS (SELECT 1 FROM a_dep s WHERE s.asset_id = d.asset_id AND s.i_vuln = t.i_vuln
                    AND s.status = 'succeeded' AND s.completed_at > COALESCE(d.completed_at, d.started_at))
            OR EXISTS (SELECT 1 FROM a_ver v WHERE v.asset_id = d.asset_id AND v.i_vuln = t.i_vuln
                    AND v.result = 'not_vulnerable' AND v.observed_at > COALESCE(d.completed_at, d.started_at))
            OR EXISTS (SELECT 1 FROM a_ledger l WHERE l.asset_id = d.asset_id AND l.vuln_id = t.i_vuln
                    AND l.state IN ('retired', 'not_affected')) AS resolved
        FROM ({failed}) d JOIN a_dep t ON t.id = d.id"""
    untargeted = f"""
        SELECT d.id, NULL AS vuln_id, d.asset_id,
            EXISTS (SELECT 1 FROM deployments s WHERE s.asset_id = d.asset_id AND s.status = 'succeeded'
                    AND s.patch_id IS NOT DISTINCT FROM d.patch_id
                    AND s.completed_at > COALESCE(d.completed_at, d.started_at)
                        AND s.completed_at < {as_of}) AS resolved
        FROM ({failed}) d WHERE d.id NOT IN (SELECT id FROM a_dep)"""
    message = (
        "'deployment ' || d.id || ' ' || d.status || ' ' || COALESCE(strftime(COALESCE(d.completed_at, d.started_at), "
        "'%Y-%m-%d'), '') || '; ' || COALESCE(u.vulns, d.patch_id, 'the patch') || ' on ' || d.asset_id || "
        "' not resolved by a later successful deployment or verification'"
    )
    gaps = f"""
        SELECT {record_gap("d", "deployments", message, asset_id="d.asset_id", vuln_id="u.first_vuln")}
        FROM (SELECT id, string_agg(vuln_id, ', ' ORDER BY vuln_id) AS vulns, min(vuln_id) AS first_vuln
              FROM ({targets} UNION ALL {untargeted}) WHERE NOT resolved GROUP BY id) u
        JOIN deployments d ON d.id = u.id"""
    return evaluate(
        ctx,
        needs=("deployments",),
        population_sql=f"SELECT {record_unit('d', 'deployments', asset_id='d.asset_id')} FROM ({failed}) d",
        gaps_sql=gaps,
        noun="failed, partial or pending-reboot deployments",
        params=params,
        exceptions=ExceptionScope.FINDINGS,
    )


@register("deployment.change_record")
def change_record(ctx: CheckContext) -> CheckOutcome:
    """Every deployment names its change record, so a reviewer can trace who approved the change.
    Example gap: "deployment d-81 on a-web-02 has no change_ref"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    done = f"SELECT * FROM deployments WHERE COALESCE(completed_at, started_at) < {as_of}"
    message = (
        "'deployment ' || d.id || ' (' || d.status || ') on ' || d.asset_id || ' has no change record (change_ref)'"
    )
    gap = record_gap("d", "deployments", message, asset_id="d.asset_id")
    gaps = f"SELECT {gap} FROM ({done}) d WHERE d.change_ref IS NULL"
    return evaluate(
        ctx,
        needs=("deployments",),
        population_sql=f"SELECT {record_unit('d', 'deployments', asset_id='d.asset_id')} FROM ({done}) d",
        gaps_sql=gaps,
        noun="deployments",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )
