"""VER: fixes are proven to have taken effect (SP 800-40r4 §2.2 step 3c), not only deployed."""

from __future__ import annotations

from reporter.checks.base import (
    CheckContext,
    CheckOutcome,
    ExceptionScope,
    evaluate,
    ledger_gaps,
    ledger_unit,
    record_gap,
    record_unit,
)
from reporter.checks.registry import register
from reporter.store.sql import Params

_TS = "strftime({0}, '%Y-%m-%d %H:%MZ')"

# A successful deployment as a population unit (one per deployment, whatever its targets).
_DEPLOYMENT = record_unit("d", "deployments", asset_id="d.asset_id")


@register("verification.unverified_success")
def unverified_success(ctx: CheckContext) -> CheckOutcome:
    """A deployment reported successful is activity, not remediation, until a verification of its
    findings on its asset shows the fix took effect (E4). The window is 7 days for urgent exposure
    (KEV, BOD 26-04 3/14-day tiers, internet-facing) and 30 days otherwise; deployments whose window
    is still open at as_of are not yet due. A scan that does not cover the finding (unauthenticated,
    another tool, the component not examined) is inconclusive and verifies nothing; the gap names it.
    Example gap: "deployment d-1 succeeded 2026-07-10; no verification of CVE-2024-6387 on a-web-01
    by 2026-08-09 (scan s-9 (scans/nessus-08.nessus) does not cover it)"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    # a_dep_check (reporter/assess/derive.py): one row per successful deployment and target
    targets = (
        "SELECT id, asset_id, completed_at, vuln_id, urgent, window_end AS deadline, verified, inconclusive "
        "FROM a_dep_check"
    )
    due = f"SELECT * FROM ({targets}) WHERE deadline <= {as_of}"
    population = f"SELECT {_DEPLOYMENT} FROM deployments d WHERE d.id IN (SELECT id FROM ({due}))"
    message = (
        f"'deployment ' || d.id || ' succeeded ' || {_TS.format('d.completed_at')} || '; no verification of ' "
        f"|| u.vulns || ' on ' || d.asset_id || ' by ' || {_TS.format('u.deadline')} "
        "|| COALESCE(' (scan ' || u.uncovering.scan_id || ' (' || u.uncovering.src || ') does not cover it)', '')"
    )
    gaps = f"""
        SELECT {record_gap("d", "deployments", message, asset_id="d.asset_id", vuln_id="u.first_vuln")}
        FROM (SELECT id, string_agg(vuln_id, ', ' ORDER BY vuln_id) AS vulns, min(vuln_id) AS first_vuln,
                     max(deadline) AS deadline, arg_min(inconclusive, vuln_id) AS uncovering
              FROM ({due}) WHERE NOT verified GROUP BY id) u
        JOIN deployments d ON d.id = u.id"""
    return evaluate(
        ctx,
        needs=("deployments", "verifications"),
        population_sql=population,
        gaps_sql=gaps,
        noun="successful deployments past their verification window",
        params=params,
        exceptions=ExceptionScope.FINDINGS,
    )


@register("verification.still_vulnerable")
def still_vulnerable(ctx: CheckContext) -> CheckOutcome:
    """The "false success": a deployment reported successful whose first later conclusive
    verification (clock skew tolerated) finds the asset still vulnerable — pending reboot, wrong
    package, a bundled copy (E3). The verification may be a record of the bundle or a rescan that
    still reports the vulnerability (docs/verification.md). Example gap: "deployment d-7 succeeded
    2026-07-10 but rescan trivy:… (scans/trivy-2026-08-20.json) on 2026-08-20 found CVE-… still
    present on a-db-02"."""
    params = Params()
    first = "SELECT id, asset_id, completed_at, vuln_id, first FROM a_dep_check"
    checked = f"SELECT * FROM ({first}) WHERE first IS NOT NULL"
    population = f"SELECT {_DEPLOYMENT} FROM deployments d WHERE d.id IN (SELECT id FROM ({checked}))"
    message = (
        f"'deployment ' || d.id || ' succeeded ' || {_TS.format('d.completed_at')} || ' but ' "
        "|| CASE WHEN u.first.derived THEN 'rescan ' || u.first.scan_id || ' (' || u.first.src || ')' "
        "ELSE 'verification ' || u.first.vid END "
        f"|| ' on ' || {_TS.format('u.first.at')} || ' found ' || u.vuln_id || ' still present on ' || d.asset_id"
    )
    gaps = f"""
        SELECT {record_gap("d", "deployments", message, asset_id="d.asset_id", vuln_id="u.vuln_id")}
        FROM (SELECT id, min(vuln_id) AS vuln_id, arg_min(first, vuln_id) AS first
              FROM ({checked}) WHERE first.result = 'vulnerable' GROUP BY id) u
        JOIN deployments d ON d.id = u.id"""
    return evaluate(
        ctx,
        needs=("deployments", "verifications"),
        population_sql=population,
        gaps_sql=gaps,
        noun="successful deployments with a later verification",
        params=params,
        exceptions=ExceptionScope.FINDINGS,
    )


@register("verification.closure_evidence")
def closure_evidence(ctx: CheckContext) -> CheckOutcome:
    """A finding the source system closed counts as remediated only with a not-vulnerable
    verification or a recorded retirement (E5). Example gap: "f-123 closed 2026-08-02 without a
    verification or retirement record"."""
    closed = "SELECT * FROM a_ledger WHERE NOT source_open AND NOT not_affected"
    message = (
        "'finding ' || l.finding_id || ' (' || l.vuln_id || ' on ' || l.asset_id || ') closed '"
        f" || COALESCE({_TS.format('l.source_closed_at')}, 'at an unknown time') "
        "|| ' without a not-vulnerable verification or retirement record'"
    )
    gaps = ledger_gaps(message, f"FROM ({closed}) l WHERE l.fix_at IS NULL AND NOT l.retirement_recorded")
    return evaluate(
        ctx,
        needs=("findings", "verifications"),
        population_sql=f"SELECT {ledger_unit('l')} FROM ({closed}) l",
        gaps_sql=gaps,
        noun="closed finding-instances",
        exceptions=ExceptionScope.CONTROL,
    )


@register("verification.fix_without_change")
def fix_without_change(ctx: CheckContext) -> CheckOutcome:
    """A verified fix with no deployment naming it is a change nobody recorded (manual fix, vendor
    side, rebuild): accepted as remediated but a change-management gap. Example gap: "CVE-… on a-app-3
    verified fixed 2026-08-14 with no deployment or change record"."""
    message = (
        "l.vuln_id || ' on ' || l.asset_id || ' verified fixed ' || "
        f"{_TS.format('l.fixed_at')} || ' with no deployment or change record'"
    )
    gaps = ledger_gaps(message, "FROM a_ledger l WHERE l.state = 'fixed_without_change_record'")
    return evaluate(
        ctx,
        needs=("findings", "verifications", "deployments"),
        population_sql=f"SELECT {ledger_unit('l')} FROM a_ledger l WHERE l.is_fixed",
        gaps_sql=gaps,
        noun="verified fixes",
        exceptions=ExceptionScope.CONTROL,
    )


@register("verification.ephemeral_unverified")
def ephemeral_unverified(ctx: CheckContext) -> CheckOutcome:
    """An ephemeral asset (pod, spot instance) that vanished before verification is not remediated:
    its findings close only as `retired` when a retirement record exists (metrics.md §6.1). Example
    gap: "pod a-ctr-17 gone 2026-07-20 with CVE-… unverified and no retirement record"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    vanished = f"SELECT * FROM a_ledger WHERE ephemeral AND gone_at IS NOT NULL AND gone_at <= {as_of}"
    message = (
        "'ephemeral asset ' || l.asset_id || CASE WHEN l.retired_at IS NOT NULL THEN ' terminated ' "
        "ELSE ' last seen ' END || "
        f"{_TS.format('l.gone_at')} || ' with ' || l.vuln_id || ' never verified fixed and no retirement record'"
    )
    gaps = ledger_gaps(
        message, f"FROM ({vanished}) l WHERE NOT l.retirement_recorded AND NOT l.is_fixed AND NOT l.not_affected"
    )
    return evaluate(
        ctx,
        needs=("assets", "findings", "verifications"),
        population_sql=f"SELECT {ledger_unit('l')} FROM ({vanished}) l",
        gaps_sql=gaps,
        noun="finding-instances on vanished ephemeral assets",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )


@register("verification.contradicted_by_scan")
def contradicted_by_scan(ctx: CheckContext) -> CheckOutcome:
    """A verification record saying "not vulnerable" is contradicted when a scan at or after it
    still reports the vulnerability on the asset: the later evidence decides (the instance is not
    fixed) and the record is a gap — a hand-made verification, a check of the wrong package, or a
    fix undone. Population: not-vulnerable verification records (not derived) of instances that
    scans report. Example gap: "verification v-7 (not_vulnerable, 2026-07-20 10:00Z) on a-web-01 is
    contradicted: scan trivy:… (scans/trivy-2026-08-20.json) reports CVE-2019-5094 on
    2026-08-20 09:00Z"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    records = """
        SELECT v.* FROM a_ver v WHERE NOT v.derived AND v.result = 'not_vulnerable'
        AND EXISTS (SELECT 1 FROM a_series x WHERE x.asset_id = v.asset_id AND x.vuln_id = v.i_vuln)"""
    later = f"""
        SELECT v.id, arg_min(struct_pack(scan := w.scan_id, src := w._source, at := w.seen_at),
                             struct_pack(at := w.seen_at, scan := w.scan_id)) AS seen
        FROM ({records}) v JOIN finding_sightings w ON w.asset_id = v.asset_id AND w.vuln_id = v.i_vuln
        WHERE w.seen_at >= v.observed_at AND w.seen_at < {as_of}
        GROUP BY v.id"""
    message = (
        f"'verification ' || v.id || ' (not_vulnerable, ' || {_TS.format('v.observed_at')} || ') on ' || v.asset_id "
        f"|| ' is contradicted: scan ' || c.seen.scan || ' (' || c.seen.src || ') reports ' || v.i_vuln || ' on ' "
        f"|| {_TS.format('c.seen.at')}"
    )
    gaps = f"""
        SELECT {record_gap("v", "verifications", message, asset_id="v.asset_id", vuln_id="v.i_vuln")}
        FROM ({records}) v JOIN ({later}) c ON c.id = v.id"""
    unit = record_unit("v", "verifications", asset_id="v.asset_id", vuln_id="v.i_vuln")
    return evaluate(
        ctx,
        needs=("verifications", "scans", "findings"),
        population_sql=f"SELECT {unit} FROM ({records}) v",
        gaps_sql=gaps,
        noun="not-vulnerable verification records of scanned findings",
        params=params,
        exceptions=ExceptionScope.NONE,
    )
