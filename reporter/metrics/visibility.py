"""V1–V8: visibility and coverage — what is known, described, scanned and patched automatically
(metrics.md §3.1; the CIS Controls Assessment Specification formulas of §1.3)."""

from __future__ import annotations

from typing import Any

from reporter.checks.base import CheckContext, count, pct
from reporter.checks.inventory import (
    AUTHENTICATED_SCAN_TYPES,
    identity_gaps_sql,
    missing_fields_sql,
    observed_units,
    resolved_observations,
    scan_coverage_gap,
    unknown_since,
)
from reporter.metrics.base import days_stats, metric, rows
from reporter.models.results import Measure
from reporter.store.sql import Params

Result = tuple[Measure, dict[str, Any]]


@metric(
    "V1",
    "Inventory accuracy",
    formula="|inventory ∩ observed| / |observed|, observed = distinct assets seen by any discovery source "
    "(EDR, cloud API, Kubernetes, network scan) in the period up to as_of, an observation counting as "
    "inventoried when its asset_id, or its key as an asset id, name or alias, resolves to an inventory asset; "
    "unresolved keys count once each",
    source="CIS Controls Assessment Specification 1.1 (Accuracy); CIS Controls v8 1.2",
    threshold="100 %; any unknown asset resolved within 7 days (CIS 1.2 weekly)",
    needs=("observations", "assets"),
    unit_of_count="asset (distinct observed key)",
)
def v1(ctx: CheckContext) -> Result | str:
    p = Params()
    units = observed_units(ctx, p)
    total, known = rows(ctx, f"SELECT count(*), count(asset_id) FROM ({units})", p.for_sql(units))[0]
    if not total:
        return "no discovery source observed any asset in the period"
    per_source = _per_source(ctx)
    return pct(int(known), int(total)), {"by_discovery_source": per_source}


def _per_source(ctx: CheckContext) -> dict[str, dict[str, int]]:
    """Observed and unresolved assets per discovery source."""
    p = Params()
    sql = f"""
        SELECT source, count(DISTINCT COALESCE(resolved_id, 'key:' || asset_key)),
            count(DISTINCT asset_key) FILTER (WHERE resolved_id IS NULL)
        FROM ({resolved_observations(ctx, p)}) GROUP BY source ORDER BY source"""
    return {str(s): {"observed": int(n), "not_in_inventory": int(u)} for s, n, u in rows(ctx, sql, p.for_sql(sql))}


@metric(
    "V2",
    "Inventory completeness",
    formula="active assets (not retired at as_of) carrying every attribute of policy.inventory.required_fields "
    "(default owner, criticality, internet_facing, environment) / active assets",
    source="CIS Controls Assessment Specification 1.1 (Completeness); NIST SP 800-40r4 §3.2, §3.4",
    threshold="100 % [O]; inventory reviewed at least every 6 months (CIS 1.1)",
    needs=("assets",),
    unit_of_count="asset",
)
def v2(ctx: CheckContext) -> Result | str:
    fields = ctx.policy.inventory.required_fields
    try:
        active = f"SELECT {missing_fields_sql(fields)} AS m FROM a_assets a WHERE a.active"
    except ValueError as exc:
        return str(exc)
    # counted in the store, not as one Python list per active asset (60 MB more at three million findings)
    p = Params()
    each = "".join(f", count(*) FILTER (WHERE list_contains(m, {p.add(f)}))" for f in fields)
    sql = f"SELECT count(*), count(*) FILTER (WHERE len(m) = 0){each} FROM ({active})"
    total, complete, *missing = rows(ctx, sql, p.for_sql(sql))[0]
    if not total:
        return "the inventory has no active asset"
    return pct(int(complete), int(total)), {
        "required_fields": list(fields),
        "assets_missing_each_field": dict(zip(fields, map(int, missing), strict=True)),
    }


@metric(
    "V3",
    "Unresolved unknown assets",
    formula="keys observed by discovery in the period that resolve to no inventory asset at as_of: count; age = "
    "as_of − first sighting before as_of, in days (mean, median, P90, max); and how many are older than "
    "policy.inventory.unknown_asset_max_days",
    source="CIS Controls v8 1.2 (address unauthorised assets weekly)",
    threshold="0 older than 7 days (CIS 1.2)",
    needs=("observations", "assets"),
    unit_of_count="asset key",
)
def v3(ctx: CheckContext) -> Result | str:
    p = Params()
    units, as_of = observed_units(ctx, p), p.add(ctx.as_of)
    sql = f"""
        SELECT u.asset_key, epoch({as_of} - {unknown_since("u.asset_key", as_of)}) / 86400.0
        FROM ({units}) u WHERE u.asset_id IS NULL ORDER BY u.asset_key"""
    ages = {str(k): float(a) for k, a in rows(ctx, sql, p.for_sql(sql))}
    limit = ctx.policy.inventory.unknown_asset_max_days
    older = sorted(k for k, a in ages.items() if a > limit)
    stats = days_stats(list(ages.values()))
    return count(len(ages), "asset keys"), {
        "age_days": stats,
        "limit_days": limit,
        "older_than_limit": len(older),
        "keys_older_than_limit": older,
    }


@metric(
    "V4",
    "Discovery freshness",
    formula="max gap between consecutive discovery runs per network segment or cloud account in the period",
    source="CIS Controls v8 1.3 (active discovery daily); ASD Essential Eight (fortnightly)",
    threshold="≤ 24 h (CIS 1.3)",
    needs=("observations",),
    unit_of_count="network segment or cloud account",
)
def v4(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of = p.add(ctx.as_of)
    sql = (
        f"SELECT source, strftime(max(observed_at), '%Y-%m-%d %H:%MZ') FROM observations WHERE observed_at < {as_of} "
        "GROUP BY source ORDER BY source"
    )
    latest = ", ".join(f"{s} {t}" for s, t in rows(ctx, sql, p.for_sql(sql)))
    return (
        "observations are per-asset sightings with no network segment, cloud account or discovery-run identifier, "
        "so the interval between discovery runs cannot be derived (absence of a sighting is not absence of a run); "
        f"latest sighting per source: {latest or 'none'}"
    )


def _coverage(ctx: CheckContext, scoped: str, gap: str, params: Params, split: str) -> Result | str:
    """Share of `scoped` assets (alias a) without `gap`, broken down by the SQL label `split`."""
    sql = f"SELECT {split}, count(*), count(*) FILTER (WHERE NOT ({gap})) FROM ({scoped}) a GROUP BY ALL ORDER BY ALL"
    groups = {str(k): (int(n), int(c)) for k, n, c in rows(ctx, sql, params.for_sql(sql))}
    total, covered = sum(n for n, _ in groups.values()), sum(c for _, c in groups.values())
    if not total:
        return "the inventory has no active asset in scope"
    breakdown = {k: {"assets": n, "covered": c, "coverage": pct(c, n).display} for k, (n, c) in groups.items()}
    return pct(covered, total), breakdown


@metric(
    "V5",
    "Vulnerability-scan coverage (internal / external)",
    formula="active assets other than SaaS with ≥ 1 completed scan within their cadence before as_of / such "
    "assets, split by exposure: internet-facing assets need an external-scope scan within "
    "policy.scans.external_cadence_days (30), others any scan within internal_cadence_days (90); failed and "
    "partial scans do not count (same population and test as INV-03)",
    source="CIS Controls Assessment Specification 7.5 / 7.6 (Coverage); PCI DSS v4.0.1 11.3.1",
    threshold="100 %; internal ≤ 90 days (CIS 7.5, PCI 11.3.1), external ≤ 30 days (CIS 7.6)",
    needs=("assets", "scans"),
    unit_of_count="asset",
)
def v5(ctx: CheckContext) -> Result | str:
    p = Params()
    gap = scan_coverage_gap(ctx, p, authenticated=False)
    scoped = "SELECT * FROM a_assets WHERE active AND type <> 'saas'"
    split = "CASE WHEN a.internet_facing THEN 'external (internet-facing)' ELSE 'internal' END"
    result = _coverage(ctx, scoped, gap, p, split)
    return result if isinstance(result, str) else (result[0], {"by_exposure": result[1]})


@metric(
    "V6",
    "Authenticated-scan coverage",
    formula="active servers, endpoints, cloud workloads and container images with ≥ 1 completed authenticated "
    "scan or agent inventory within their cadence (30 days internet-facing, 90 otherwise) before as_of / such "
    "assets (same population and test as INV-04)",
    source="CIS Controls Assessment Specification 7.5 (Authenticated coverage); PCI DSS v4.0.1 11.3.1.2",
    threshold="100 % where technically possible (PCI DSS 11.3.1.2)",
    needs=("assets", "scans"),
    unit_of_count="asset",
)
def v6(ctx: CheckContext) -> Result | str:
    p = Params()
    gap = scan_coverage_gap(ctx, p, authenticated=True)
    scoped = f"SELECT * FROM a_assets WHERE active AND list_contains({p.add(list(AUTHENTICATED_SCAN_TYPES))}, type)"
    result = _coverage(ctx, scoped, gap, p, "a.type")
    return result if isinstance(result, str) else (result[0], {"by_asset_type": result[1]})


@metric(
    "V7",
    "Patch-automation coverage",
    formula="active assets with patch_automation = true / active assets; a missing value counts as not enrolled "
    "and is reported separately",
    source="CIS Controls Assessment Specification 7.3 / 7.4 (Coverage of automation)",
    threshold="100 % [CIS intent]; report exclusions",
    needs=("assets",),
    unit_of_count="asset",
)
def v7(ctx: CheckContext) -> Result | str:
    sql = (
        "SELECT type, count(*), count(*) FILTER (WHERE patch_automation), count(*) FILTER (WHERE patch_automation "
        "IS NULL) FROM a_assets WHERE active GROUP BY ALL ORDER BY ALL"
    )
    groups = {str(t): (int(n), int(e), int(u)) for t, n, e, u in rows(ctx, sql)}
    total, enrolled = sum(g[0] for g in groups.values()), sum(g[1] for g in groups.values())
    if not total:
        return "the inventory has no active asset"
    by_type = {t: {"assets": n, "enrolled": e, "unknown": u} for t, (n, e, u) in groups.items()}
    return pct(enrolled, total), {"by_asset_type": by_type, "unknown": sum(g[2] for g in groups.values())}


@metric(
    "V8",
    "NHI inventory coverage",
    formula="non-human identities in the inventory with owner, purpose and a review date / discovered non-human "
    "identities = inventoried identities existing before as_of + distinct leaked secrets (by fingerprint) a "
    "secret scanner found before as_of that map to no inventoried identity",
    source="CIS Controls v8 5.1 / 5.5; OWASP Non-Human Identities Top 10 (2025) NHI1",
    threshold="100 %; service accounts reviewed at least quarterly (CIS 5.5)",
    needs=("identities", "secret_exposures"),
    unit_of_count="non-human identity",
)
def v8(ctx: CheckContext) -> Result | str:
    p = Params()
    as_of = p.add(ctx.as_of)
    sql = f"SELECT type, count(*), count(*) FILTER (WHERE len(missing) = 0) FROM ({identity_gaps_sql(as_of)}) i "
    sql += "GROUP BY ALL ORDER BY ALL"
    groups = {str(t): (int(n), int(c)) for t, n, c in rows(ctx, sql, p.for_sql(sql))}
    unlinked_sql = (
        f"SELECT count(DISTINCT fingerprint) FROM secret_exposures WHERE identity_id IS NULL AND detected_at < {as_of}"
    )
    unlinked = int(rows(ctx, unlinked_sql, p.for_sql(unlinked_sql))[0][0])
    inventoried, complete = sum(n for n, _ in groups.values()), sum(c for _, c in groups.values())
    if not inventoried + unlinked:
        return "neither the inventory nor a secret scanner holds a non-human identity"
    by_type = {t: {"identities": n, "owner_purpose_review": c} for t, (n, c) in groups.items()}
    return pct(complete, inventoried + unlinked), {
        "by_identity_type": by_type,
        "discovered_not_inventoried": unlinked,
    }
