"""N1–N10: non-human identities — ownership, rotation, lifetime, dormancy, review, leaks, post-patch
rotation, patched-but-exposed assets, ephemeral credentials, privilege and reuse (metrics.md §3.6).

Each metric reads the evidence through the SQL of the NHI control it backs (reporter.checks.nhi),
so a metric and its control never disagree on which identity is in breach.
"""

from __future__ import annotations

from typing import Any

from reporter.checks.base import CheckContext, count, pct
from reporter.checks.nhi import (
    NON_PRODUCTION,
    PRODUCTION,
    before,
    credentialed_patched_assets,
    environment_spans,
    existing_identities,
    exposed_links,
    identity_environments,
    identity_exceptions,
    identity_state,
    leak_closed_at,
    patched_assets,
    post_patch_links,
    reused_identities,
)
from reporter.metrics.base import days_stats, metric, rows
from reporter.models.results import Measure
from reporter.store.sql import Params

Result = tuple[Measure, dict[str, Any]]
IDENTITY = "non-human identity"


def _query(ctx: CheckContext, sql: str, params: Params) -> list[tuple[Any, ...]]:
    return rows(ctx, sql, params.for_sql(sql))


def _enabled(as_of: str) -> str:
    return f"SELECT * FROM ({existing_identities(as_of)}) WHERE enabled"


@metric(
    "N1",
    "Orphaned NHI rate",
    formula="enabled non-human identities existing at as_of with no owner, or whose owner_active is false / "
    "enabled non-human identities (NHI-01; an owner whose activity is unrecorded, such as a team, is not an orphan)",
    source="OWASP NHI1:2025 Improper Offboarding; NIST SP 800-53 AC-2(3)(b); CIS Controls v8 5.5",
    threshold="0; reassign or disable within the AC-2(3) period [O: 7 days]",
    needs=("identities",),
    unit_of_count=IDENTITY,
)
def n1(ctx: CheckContext) -> Result | str:
    p = Params()
    sql = (
        "SELECT type, count(*), count(*) FILTER (WHERE owner IS NULL), "
        "count(*) FILTER (WHERE owner IS NOT NULL AND owner_active IS FALSE) "
        f"FROM ({_enabled(p.add(ctx.as_of))}) GROUP BY type ORDER BY type"
    )
    by_type = {str(t): (int(n), int(a), int(b)) for t, n, a, b in _query(ctx, sql, p)}
    total = sum(v[0] for v in by_type.values())
    if total == 0:
        return "the bundle lists no enabled non-human identity"
    no_owner, inactive = sum(v[1] for v in by_type.values()), sum(v[2] for v in by_type.values())
    breakdown = {
        "no_owner": no_owner,
        "owner_inactive": inactive,
        "by_type": {t: {"enabled": n, "orphaned": a + b} for t, (n, a, b) in by_type.items()},
    }
    return pct(no_owner + inactive, total), breakdown


@metric(
    "N2",
    "Credential rotation compliance",
    formula="enabled identities that are not short-lived whose current secret was issued (max(last_rotated_at, "
    "created_at), timestamps before as_of) no more than policy.nhi.rotation_max_days before as_of, and whose "
    "last rotation revoked the previous secret / such identities; rotation without revocation (prior_secret_valid "
    "= true) counts as no rotation and its age runs from creation; identities with no date count as non-compliant; "
    "age P50/P90/max in days",
    source="CIS AWS Foundations 2.12 (v1.5–v4 1.14); AWS Config access-keys-rotated default maxAccessKeyAge 90; "
    "PCI DSS v4.0.1 8.6.3",
    threshold="≤ 90 days (CIS AWS / AWS Config); PCI DSS: per targeted risk analysis",
    needs=("identities",),
    unit_of_count=IDENTITY,
)
def n2(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of, days = p.add(ctx.as_of), p.add(ctx.policy.nhi.rotation_max_days)
    state = identity_state(as_of, days)
    sql = (
        f"SELECT rotation_breach, prior_secret_valid IS TRUE, epoch({as_of} - rotation_base) / 86400.0 "
        f"FROM ({state}) WHERE static_secret"
    )
    found = _query(ctx, sql, p)
    if not found:
        return "the bundle lists no enabled identity with a long-lived secret (all are short-lived or disabled)"
    compliant = sum(1 for breach, _, _ in found if breach is False)
    ages = [float(age) for _, _, age in found if age is not None]
    short = _query(ctx, f"SELECT count(*) FROM ({state}) WHERE enabled AND short_lived", p)[0][0]
    breakdown = {
        "age_days": days_stats(ages),
        "rotated_without_revocation": sum(1 for _, prior, _ in found if prior),
        "age_unknown": sum(1 for breach, _, _ in found if breach is None),
        "short_lived_excluded": int(short),
    }
    return pct(compliant, len(found)), breakdown


@metric(
    "N3",
    "Long-lived credential count",
    formula="enabled identities that are not short-lived with no expires_at, or with expires_at − created_at > "
    "policy.nhi.max_lifetime_days (NHI-11); an expiry without a creation date is counted apart as undecidable",
    source="OWASP NHI7:2025 Long-Lived Secrets",
    threshold="0 without exception [O]",
    needs=("identities",),
    unit_of_count=IDENTITY,
)
def n3(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of, limit = p.add(ctx.as_of), p.add(ctx.policy.nhi.max_lifetime_days)
    sql = (
        "SELECT count(*), count(*) FILTER (WHERE expires_at IS NULL), "
        f"count(*) FILTER (WHERE expires_at > created_at + to_days({limit})), "
        "count(*) FILTER (WHERE expires_at IS NOT NULL AND created_at IS NULL), "
        "max(epoch(expires_at - created_at) / 86400.0) "
        f"FROM ({_enabled(as_of)}) WHERE NOT short_lived"
    )
    total, never, over, undecidable, longest = _query(ctx, sql, p)[0]
    if not total:
        return "the bundle lists no enabled identity with a long-lived secret (all are short-lived or disabled)"
    breakdown = {
        "evaluated": int(total),
        "never_expire": int(never),
        "lifetime_over_policy": int(over),
        "undecidable_no_created_at": int(undecidable),
        "longest_lifetime_days": round(float(longest), 1) if longest is not None else None,
        "share": pct(int(never) + int(over), int(total)).display,
    }
    return count(int(never) + int(over), "identities"), breakdown


@metric(
    "N4",
    "Dormant-but-enabled identities",
    formula="enabled identities whose last_used_at (before as_of) is more than policy.nhi.dormant_days before "
    "as_of (NHI-12); identities with no last_used_at are unknown, not dormant, and counted apart",
    source="CIS Controls v8 5.3; CIS AWS Foundations 2.11; AWS Security Hub 90-day unused-access lookback",
    threshold="0 at 45 days (CIS)",
    needs=("identities",),
    unit_of_count=IDENTITY,
)
def n4(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of, days = p.add(ctx.as_of), p.add(ctx.policy.nhi.dormant_days)
    used = before("last_used_at", as_of)
    sql = (
        f"SELECT {used} IS NULL, {used} < {as_of} - to_days({days}), epoch({as_of} - {used}) / 86400.0 "
        f"FROM ({_enabled(as_of)})"
    )
    found = _query(ctx, sql, p)
    if not found:
        return "the bundle lists no enabled non-human identity"
    known = sum(1 for unknown, _, _ in found if not unknown)
    dormant = [float(age) for _, idle, age in found if idle]
    breakdown = {
        "evaluated": known,
        "last_use_unknown": len(found) - known,
        "idle_days_of_dormant": days_stats(dormant),
        "share": pct(len(dormant), known).display,
    }
    return count(len(dormant), "identities"), breakdown


@metric(
    "N5",
    "Service-account review freshness",
    formula="service accounts whose last_reviewed_at (before as_of) is within policy.nhi.review_max_days of as_of "
    "/ service accounts existing at as_of (NHI-13); never reviewed counts as stale",
    source="CIS Controls v8 5.5 (review service accounts at least quarterly)",
    threshold="100 % (quarterly)",
    needs=("identities",),
    unit_of_count=IDENTITY,
)
def n5(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of, days = p.add(ctx.as_of), p.add(ctx.policy.nhi.review_max_days)
    reviewed = before("last_reviewed_at", as_of)
    sql = (
        f"SELECT count(*), count(*) FILTER (WHERE {reviewed} >= {as_of} - to_days({days})), "
        f"count(*) FILTER (WHERE {reviewed} IS NULL) "
        f"FROM ({existing_identities(as_of)}) WHERE type = 'service_account'"
    )
    total, fresh, never = _query(ctx, sql, p)[0]
    if not total:
        return "the bundle lists no service account"
    breakdown = {"never_reviewed": int(never), "review_older_than_policy": int(total) - int(fresh) - int(never)}
    return pct(int(fresh), int(total)), breakdown


@metric(
    "N6",
    "Leaked-secret dwell time",
    formula="over secret exposures detected before as_of: closure = the earlier of revoked_at and "
    "verified_invalid_at before as_of; response = closure − detected_at and exposure window = closure − "
    "exposed_at, in hours (median, P90, max over closed exposures); exposures with no closure are still valid "
    "at as_of (the headline value) and their age since detection is reported apart",
    source="OWASP NHI2:2025 Secret Leakage; GitGuardian State of Secrets Sprawl 2025; PCI DSS v4.0.1 8.6.3",
    threshold="0 valid leaked secrets at as_of; revoke on detection (PCI DSS 8.6.3) [O: ≤ 24 h]",
    needs=("secret_exposures",),
    unit_of_count="secret exposure",
)
def n6(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of = p.add(ctx.as_of)
    closed = leak_closed_at("x", as_of)
    sql = (
        f"SELECT epoch({closed} - x.detected_at) / 3600.0, epoch({closed} - x.exposed_at) / 3600.0, "
        f"epoch({as_of} - x.detected_at) / 3600.0, x.exposed_at IS NULL "
        f"FROM secret_exposures x WHERE x.detected_at < {as_of}"
    )
    found = _query(ctx, sql, p)
    if not found:
        return "no secret exposure was detected before as_of"
    response = [float(r) for r, _, _, _ in found if r is not None]
    window = [float(w) for _, w, _, _ in found if w is not None]
    still_valid = [float(age) for r, _, age, _ in found if r is None]
    late = sum(1 for r in response if r > ctx.policy.nhi.leak_revoke_hours)
    stats = days_stats(response)
    display = f"{len(still_valid):,} of {len(found):,} still valid at as_of"
    if response:
        display += f"; revoked after detection: median {stats['median']} h, P90 {stats['p90']} h, max {stats['max']} h"
    breakdown = {
        "response_hours": stats,
        "exposure_window_hours": days_stats(window),
        "still_valid_hours_since_detection": days_stats(still_valid),
        "revoked_later_than_policy": late,
        "exposed_at_unknown": sum(1 for *_, unknown in found if unknown),
    }
    measure = Measure(
        numerator=len(still_valid),
        denominator=len(found),
        value=float(len(still_valid)),
        unit="exposures",
        display=display,
    )
    return measure, breakdown


@metric(
    "N7",
    "Post-patch credential rotation",
    formula="finding-instances in a credential-exposing class (KEV, or BOD 26-04 outcome 3DF '3 days and forensic "
    "triage') verified fixed before as_of on an asset that uses at least one enabled, not short-lived identity, "
    "whose every such identity was reissued (max(last_rotated_at, created_at)) after the verified fix with the "
    "previous secret revoked / such finding-instances (NHI-15); edge-appliance, CWE and vendor-advisory classes "
    "are not recorded in bundle format 1",
    source="CISA ED 24-01 Supplemental Direction V1; HHS HC3/Citrix on CVE-2023-4966; CISA BOD 26-04 forensic triage",
    threshold="100 % [O window: within the tier SLA]",
    needs=("findings", "verifications", "identities"),
)
def n7(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of = p.add(ctx.as_of)
    fixed = "SELECT count(*) FROM a_ledger l WHERE (l.kev OR l.bod_outcome = '3DF') AND l.is_fixed"
    in_class = int(_query(ctx, fixed, p)[0][0])
    if in_class == 0:
        return "no KEV or BOD 26-04 3DF finding-instance was verified fixed before as_of"
    sql = (
        "SELECT finding_id, bool_and(rotated_after), any_value(kev) "
        f"FROM ({post_patch_links(as_of)}) GROUP BY finding_id ORDER BY finding_id"
    )
    found = _query(ctx, sql, p)
    if not found:
        return (
            f"none of the {in_class:,} credential-exposing instances verified fixed is on an asset that uses an "
            "enabled static identity"
        )
    breakdown = {
        "verified_fixed_in_class": in_class,
        "without_static_identities": in_class - len(found),
        "kev": sum(1 for *_, kev in found if kev),
        "bod2604_3df_only": sum(1 for *_, kev in found if not kev),
        "not_rotated": [str(f) for f, rotated, _ in found if not rotated],
    }
    return pct(sum(1 for _, rotated, _ in found if rotated), len(found)), breakdown


@metric(
    "N8",
    "Patched-but-exposed assets",
    formula="active assets whose urgent, critical and high finding-instances (at least one) are all verified fixed "
    "and that use an enabled identity with a leaked secret still valid at as_of or a rotation breach (N2) / active "
    "assets whose urgent, critical and high finding-instances are all verified fixed (NHI-14); a shared credential "
    "links every asset using it. The breakdown adds assets exposed only through a post-patch rotation miss (N7), "
    "which metrics.md §3.6 also counts",
    source="seed thesis (patched ≠ safe); CISA ED 24-01 Supplemental Direction V1",
    threshold="0 [O]",
    needs=("assets", "findings", "verifications", "identities", "secret_exposures"),
    unit_of_count="asset",
)
def n8(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of, days = p.add(ctx.as_of), p.add(ctx.policy.nhi.rotation_max_days)
    patched = patched_assets()
    total = int(_query(ctx, f"SELECT count(*) FROM ({patched})", p)[0][0])
    if total == 0:
        return "no active asset has all its urgent, critical and high finding-instances verified fixed"
    credentialed = int(_query(ctx, f"SELECT count(*) FROM ({credentialed_patched_assets(as_of)})", p)[0][0])
    if credentialed == 0:
        return (
            "no patched asset uses an enabled non-human identity (used_by): exposure through credentials "
            "cannot be shown either way"
        )
    links = f"SELECT x.* FROM ({exposed_links(as_of, days)}) x JOIN ({patched}) q ON q.asset_id = x.asset_id"
    sql = (
        "SELECT asset_id, bool_or(open_leaks IS NOT NULL), bool_or(rotation_breach), "
        f"string_agg(identity_id, ', ' ORDER BY identity_id) FROM ({links}) GROUP BY asset_id ORDER BY asset_id"
    )
    exposed = _query(ctx, sql, p)
    misses = (
        f"SELECT DISTINCT l.asset_id FROM ({post_patch_links(as_of)}) l JOIN ({patched}) q ON q.asset_id = l.asset_id "
        "WHERE NOT l.rotated_after"
    )
    extra = {str(a) for (a,) in _query(ctx, misses, p)} - {str(a) for a, *_ in exposed}
    breakdown = {
        "through_unrevoked_leak": sum(1 for _, leak, _, _ in exposed if leak),
        "through_rotation_breach": sum(1 for _, _, breach, _ in exposed if breach),
        "assets": {str(a): str(ids) for a, _, _, ids in exposed},
        "also_exposed_by_post_patch_rotation_miss": sorted(extra),
        "with_post_patch_rotation_misses": pct(len(exposed) + len(extra), total).display,
        "patched_assets_using_identities": credentialed,
    }
    return pct(len(exposed), total), breakdown


@metric(
    "N9",
    "Ephemeral-credential adoption",
    formula="enabled identities existing at as_of that are short-lived or authenticate by workload federation / "
    "enabled identities; also for the identities AI agents hold",
    source="OWASP NHI2/NHI6/NHI7:2025 prevention guidance; NIST SP 800-207A",
    threshold="trend ↑ [O]",
    needs=("identities",),
    unit_of_count=IDENTITY,
)
def n9(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of = p.add(ctx.as_of)
    held = (
        "i.id IN (SELECT identity_id FROM a_agent_identities WHERE identity_id IS NOT NULL)"
        if "agents" in ctx.kinds_present
        else "FALSE"
    )
    sql = (
        "SELECT i.type, (i.short_lived OR i.auth_method = 'workload_federation') IS TRUE, "
        f"{held} FROM ({_enabled(as_of)}) i"
    )
    found = _query(ctx, sql, p)
    if not found:
        return "the bundle lists no enabled non-human identity"
    by_type: dict[str, list[int]] = {}
    for kind, ephemeral, _ in found:
        cell = by_type.setdefault(str(kind), [0, 0])
        cell[0] += 1
        cell[1] += int(ephemeral)
    agent_held = [ephemeral for _, ephemeral, is_held in found if is_held]
    breakdown = {
        "by_type": {k: pct(v[1], v[0]).display for k, v in sorted(by_type.items())},
        "agent_held": pct(sum(agent_held), len(agent_held)).display,
    }
    return pct(sum(1 for _, ephemeral, _ in found if ephemeral), len(found)), breakdown


@metric(
    "N10",
    "Overprivileged, reused and human-used identities",
    formula="distinct identities existing at as_of flagged for any of: enabled with admin privilege and no valid "
    "exception naming it, or with unused permissions (NHI-05); used by workloads of more than one owner or by an "
    "AI agent and a non-agent workload (NHI-09); used in production and non-production (NHI-08); used "
    "interactively by people (NHI-10); counts per category in the breakdown",
    source="OWASP NHI5, NHI8, NHI9, NHI10:2025; PCI DSS v4.0.1 8.6.1",
    threshold="0 unexplained [O]",
    needs=("identities", "assets", "agents"),
    unit_of_count=IDENTITY,
)
def n10(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of = p.add(ctx.as_of)
    envs = identity_environments(as_of, p.add(list(PRODUCTION)), p.add(list(NON_PRODUCTION)))
    admin = "i.privilege_admin AND x.exception_id IS NULL"
    sql = f"""
        SELECT i.id,
            i.enabled AND (({admin}) OR COALESCE(i.unused_permissions, 0) > 0) AS overprivileged,
            COALESCE(r.reused, FALSE) AS reused, COALESCE(e.mixed, FALSE) AS cross_environment,
            i.interactive_use AS human_used
        FROM ({existing_identities(as_of)}) i
        LEFT JOIN ({identity_exceptions(p.add("NHI-05"), as_of)}) x ON x.identity_id = i.id
        LEFT JOIN ({reused_identities(as_of)}) r ON r.identity_id = i.id
        LEFT JOIN ({environment_spans(envs)}) e ON e.identity_id = i.id"""
    found = _query(ctx, sql, p)
    if not found:
        return "the bundle lists no non-human identity"
    names = ("overprivileged", "reused_across_workloads", "shared_across_environments", "used_by_humans")
    breakdown: dict[str, Any] = {name: sum(1 for row in found if row[n + 1]) for n, name in enumerate(names)}
    flagged = sum(1 for row in found if any(row[1:]))
    breakdown["share_of_identities"] = pct(flagged, len(found)).display
    return count(flagged, "identities"), breakdown
