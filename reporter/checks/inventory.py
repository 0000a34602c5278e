"""INV: every asset and non-human identity is known, described, scanned and patched automatically
(CIS Controls v8 safeguards 1.1, 1.2, 5.1, 5.5, 7.3–7.6)."""

from __future__ import annotations

from reporter.checks.base import (
    CheckContext,
    CheckOutcome,
    ExceptionScope,
    evaluate,
    gap_select,
    record_gap,
    record_unit,
    unit_select,
)
from reporter.checks.registry import register
from reporter.models.evidence import Asset
from reporter.store.sql import Params, ident, literal

_DAY = "strftime({0}, '%Y-%m-%d')"
# Asset types an authenticated scan or agent inventory can see inside (INV-04, CIS 7.5, PCI DSS 11.3.1.2).
AUTHENTICATED_SCAN_TYPES = ("server", "endpoint", "cloud_workload", "container_image")


def cadence(alias: str, ctx: CheckContext, params: Params) -> str:
    """Scan cadence in days of an asset: external for internet-facing ones, internal otherwise.
    An asset whose exposure is unknown is held to the internal cadence (INV-02 flags the gap)."""
    scans = ctx.policy.scans
    external, internal = params.add(scans.external_cadence_days), params.add(scans.internal_cadence_days)
    return f"(CASE WHEN {alias}.internet_facing THEN {external} ELSE {internal} END)"


def scanned_within(asset: str, days: str, as_of: str, condition: str = "TRUE") -> str:
    """A completed scan of `asset` in the `days` before as_of, meeting `condition` (on alias s)."""
    return (
        f"EXISTS (SELECT 1 FROM scans s WHERE s.asset_id = {asset} AND s.status = 'completed' "
        f"AND s.completed_at < {as_of} AND s.completed_at >= {as_of} - to_days({days}) AND {condition})"
    )


def last_scan(asset: str, as_of: str, condition: str = "TRUE") -> str:
    """When `asset` last had a completed scan before as_of meeting `condition`, as a date or 'never'."""
    latest = (
        f"(SELECT max(s.completed_at) FROM scans s WHERE s.asset_id = {asset} AND s.status = 'completed' "
        f"AND s.completed_at < {as_of} AND {condition})"
    )
    return f"COALESCE('last ' || {_DAY.format(latest)}, 'never')"


def scan_coverage_gap(ctx: CheckContext, params: Params, *, authenticated: bool) -> str:
    """SQL condition on asset alias `a`: no qualifying scan within its cadence (INV-03, INV-04, V5, V6).
    Internet-facing assets need an external-scope scan within the external cadence (CIS 7.6)."""
    as_of, days = params.add(ctx.as_of), cadence("a", ctx, params)
    if authenticated:
        return f"NOT {scanned_within('a.id', days, as_of, 's.authenticated')}"
    external = "(s.scope = 'external' OR NOT COALESCE(a.internet_facing, FALSE))"
    return f"NOT {scanned_within('a.id', days, as_of, external)}"


def resolved_observations(ctx: CheckContext, params: Params) -> str:
    """Observations in the period up to as_of with `resolved_id`: the inventory asset they name by
    asset_id or, failing that, whose id, name or alias is their key (NULL: unknown to the inventory)."""
    start, as_of = params.add(ctx.period.start_at), params.add(ctx.as_of)
    # a_obs (reporter/assess/derive.py) holds the resolution, computed once with hash joins.
    return f"SELECT * FROM a_obs o WHERE o.observed_at >= {start} AND o.observed_at < {as_of}"


def observed_units(ctx: CheckContext, params: Params) -> str:
    """Distinct assets discovery observed in the period up to as_of: an inventory asset or, when none
    matches, the raw key. Columns: unit, asset_id (NULL = unknown), asset_key, first_id, first_at,
    last_at, sightings, sources, plus the first observation's _source/_rec/_line."""
    return f"""
        SELECT COALESCE(resolved_id, 'key:' || asset_key) AS unit, resolved_id AS asset_id, min(asset_key) AS asset_key,
            arg_min(id, (observed_at, id)) AS first_id, min(observed_at) AS first_at, max(observed_at) AS last_at,
            count(*) AS sightings, string_agg(DISTINCT source, ', ' ORDER BY source) AS sources,
            arg_min(_source, (observed_at, id)) AS _source, arg_min(_rec, (observed_at, id)) AS _rec,
            arg_min(_line, (observed_at, id)) AS _line
        FROM ({resolved_observations(ctx, params)}) GROUP BY ALL"""


def unknown_since(key: str, as_of: str) -> str:
    """SQL: when an unresolved asset key was first seen, before as_of and in any period (INV-01, V3)."""
    return (
        f"(SELECT min(o.observed_at) FROM a_obs o WHERE o.asset_key = {key} AND o.resolved_id IS NULL "
        f"AND o.observed_at < {as_of})"
    )


@register("inventory.discovered_not_inventoried")
def discovered_not_inventoried(ctx: CheckContext) -> CheckOutcome:
    """What discovery sees must be a subset of the inventory (CIS 1.1 accuracy, 1.2 unauthorised
    assets): every key a discovery source (EDR, cloud API, Kubernetes, network scan) observed in the
    period must resolve to an inventory asset by the observation's asset_id, or by the asset's id,
    name or one of its aliases. One gap per unknown key, citing its first observation; the message
    gives every source and the age — since the key was first seen, in this period or before, as V3
    counts it — against the CIS 1.2 weekly handling window. Evidence: observations, assets. Example
    gap: "asset key 10.30.8.77 seen 1 time(s) by runzero 2026-08-10 … 2026-08-10, resolves to no
    inventory asset (unknown for 51.4 days, past the CIS 1.2 handling window of 7 days)"."""
    params = Params()
    as_of, limit = params.add(ctx.as_of), params.add(ctx.policy.inventory.unknown_asset_max_days)
    units = observed_units(ctx, params)
    age = f"(epoch({as_of} - {unknown_since('u.asset_key', as_of)}) / 86400.0)"
    message = (
        f"'asset key ' || u.asset_key || ' seen ' || u.sightings || ' time(s) by ' || u.sources || ' ' "
        f"|| {_DAY.format('u.first_at')} || ' … ' || {_DAY.format('u.last_at')} || ', resolves to no inventory asset "
        f"(unknown for ' || printf('%.1f', {age}) || ' days, ' || CASE WHEN {age} > {limit} THEN 'past' "
        f"ELSE 'within' END || ' the CIS 1.2 handling window of ' || {limit} || ' days)'"
    )
    gaps = f"""
        SELECT {
        gap_select(
            kind="observations",
            record_id="u.first_id",
            source="u._source",
            rec="u._rec",
            line="u._line",
            message=message,
        )
    }
        FROM ({units}) u WHERE u.asset_id IS NULL"""
    unit = unit_select(kind="observations", record_id="u.first_id", source="u._source", rec="u._rec", line="u._line")
    return evaluate(
        ctx,
        needs=("observations", "assets"),
        population_sql=f"SELECT {unit} FROM ({units}) u",
        gaps_sql=gaps,
        noun="assets observed by discovery in the period",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )


def missing_fields_sql(fields: list[str]) -> str:
    """SQL list of the names of `fields` an asset (alias a) leaves empty; refuses non-asset fields."""
    unknown = [f for f in fields if f not in Asset.model_fields]
    if unknown:
        raise ValueError(f"policy inventory.required_fields names fields assets do not have: {', '.join(unknown)}")
    items = [
        f"CASE WHEN a.{ident(f)} IS NULL OR trim(a.{ident(f)}::VARCHAR) IN ('', '[]') THEN {literal(f)} END"
        for f in fields
    ]
    return f"list_filter([{', '.join(items)}]::VARCHAR[], lambda x: x IS NOT NULL)" if items else "[]::VARCHAR[]"


@register("inventory.record_completeness")
def record_completeness(ctx: CheckContext) -> CheckOutcome:
    """Every active asset carries the attributes the policy requires (default: owner, criticality,
    internet_facing, environment) — the CIS 1.1 "required details" and the inputs of the SP 800-40r4
    §3.6 prioritisation matrix. Without them, SLA rules, urgency and accountability cannot be decided.
    Evidence: assets. Example gap: "asset a-srv-052 (edi-02) has no owner"."""
    missing = missing_fields_sql(ctx.policy.inventory.required_fields)
    message = "'asset ' || a.id || ' (' || a.name || ') has no ' || array_to_string(a.missing, ', ')"
    active = f"SELECT a.*, {missing} AS missing FROM a_assets a WHERE a.active"
    gaps = f"SELECT {record_gap('a', 'assets', message, asset_id='a.id')} FROM ({active}) a WHERE len(a.missing) > 0"
    return evaluate(
        ctx,
        needs=("assets",),
        population_sql=f"SELECT {record_unit('a', 'assets', asset_id='a.id')} FROM a_assets a WHERE a.active",
        gaps_sql=gaps,
        noun="active assets",
        exceptions=ExceptionScope.CONTROL,
    )


@register("inventory.scan_coverage")
def scan_coverage(ctx: CheckContext) -> CheckOutcome:
    """Not scanned is not "not vulnerable" (metrics.md §6.16): every active asset other than SaaS
    has a completed vulnerability scan within its cadence before as_of — an external-scope scan
    within 30 days for internet-facing assets (CIS 7.6), any scan within 90 days otherwise (CIS 7.5,
    PCI DSS 11.3.1). Failed and partial scans do not count. Evidence: assets, scans. Example gap:
    "internet-facing a-net-015 (edge-rtr-02): no completed external scan in the 30 days before
    2026-10-01 (last 2026-08-17)"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    gap = scan_coverage_gap(ctx, params, authenticated=False)
    external = "(s.scope = 'external' OR NOT COALESCE(a.internet_facing, FALSE))"
    message = (
        "CASE WHEN a.internet_facing THEN 'internet-facing ' ELSE '' END || a.id || ' (' || a.name || '): "
        "no completed ' || CASE WHEN a.internet_facing THEN 'external ' ELSE '' END || 'scan in the ' "
        f"|| {cadence('a', ctx, params)} || ' days before ' || {_DAY.format(as_of)} "
        f"|| ' (' || {last_scan('a.id', as_of, external)} || ')'"
    )
    scoped = "SELECT * FROM a_assets WHERE active AND type <> 'saas'"
    gaps = f"SELECT {record_gap('a', 'assets', message, asset_id='a.id')} FROM ({scoped}) a WHERE {gap}"
    return evaluate(
        ctx,
        needs=("assets", "scans"),
        population_sql=f"SELECT {record_unit('a', 'assets', asset_id='a.id')} FROM ({scoped}) a",
        gaps_sql=gaps,
        noun="active assets in scan scope",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )


@register("inventory.authenticated_scan_coverage")
def authenticated_scan_coverage(ctx: CheckContext) -> CheckOutcome:
    """Unauthenticated scans under-report (metrics.md §6.16): every active server, endpoint, cloud
    workload and container image has an authenticated scan or agent inventory completed within its
    cadence (30 days internet-facing, 90 days otherwise) — CIS 7.5, PCI DSS 11.3.1.2. Evidence:
    assets, scans. Example gap: "a-srv-054 (edi-03): no completed authenticated scan in the 90 days
    before 2026-10-01 (last never)"."""
    params = Params()
    as_of, types = params.add(ctx.as_of), params.add(list(AUTHENTICATED_SCAN_TYPES))
    gap = scan_coverage_gap(ctx, params, authenticated=True)
    message = (
        "a.id || ' (' || a.name || ', ' || a.type || '): no completed authenticated scan in the ' "
        f"|| {cadence('a', ctx, params)} || ' days before ' || {_DAY.format(as_of)} "
        f"|| ' (' || {last_scan('a.id', as_of, 's.authenticated')} || ')'"
    )
    scoped = f"SELECT * FROM a_assets WHERE active AND list_contains({types}, type)"
    gaps = f"SELECT {record_gap('a', 'assets', message, asset_id='a.id')} FROM ({scoped}) a WHERE {gap}"
    return evaluate(
        ctx,
        needs=("assets", "scans"),
        population_sql=f"SELECT {record_unit('a', 'assets', asset_id='a.id')} FROM ({scoped}) a",
        gaps_sql=gaps,
        noun="active servers, endpoints, cloud workloads and container images",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )


@register("inventory.patch_automation_coverage")
def patch_automation_coverage(ctx: CheckContext) -> CheckOutcome:
    """Every active asset is enrolled in an automated patch or image pipeline (CIS 7.3/7.4 "coverage
    of automation"). patch_automation=false is a violation; a missing value cannot show enrolment and
    is reported as undecidable (partial). Evidence: assets. Example gap: "a-ot-012 (hmi-02) is not
    enrolled in automated patching (patch_automation=false)"."""
    message = (
        "a.id || ' (' || a.name || ') ' || CASE WHEN a.patch_automation IS NULL "
        "THEN 'does not record enrolment in automated patching (patch_automation missing)' "
        "ELSE 'is not enrolled in automated patching (patch_automation=false)' END"
    )
    certainty = "CASE WHEN a.patch_automation IS NULL THEN 'unknown' ELSE 'violation' END"
    gaps = (
        f"SELECT {record_gap('a', 'assets', message, asset_id='a.id', certainty=certainty)} "
        "FROM a_assets a WHERE a.active AND a.patch_automation IS NOT TRUE"
    )
    return evaluate(
        ctx,
        needs=("assets",),
        population_sql=f"SELECT {record_unit('a', 'assets', asset_id='a.id')} FROM a_assets a WHERE a.active",
        gaps_sql=gaps,
        noun="active assets",
        exceptions=ExceptionScope.CONTROL,
    )


@register("inventory.third_party_assets")
def third_party_assets(ctx: CheckContext) -> CheckOutcome:
    """Assets a third party or vendor patches are still the organisation's exposure (CSF GV.SC-07):
    each active one has an internal owner, and was scanned (a completed scan) or verified in the
    period. Evidence: assets, scans, verifications. Example gap: "vendor-managed a-saas-008
    (edi-portal): no completed scan and no verification between 2026-07-01 and 2026-09-30"."""
    params = Params()
    start, as_of = params.add(ctx.period.start_at), params.add(ctx.as_of)
    seen = (
        f"(EXISTS (SELECT 1 FROM scans s WHERE s.asset_id = a.id AND s.status = 'completed' "
        f"AND s.completed_at >= {start} AND s.completed_at < {as_of}) "
        f"OR EXISTS (SELECT 1 FROM verifications v WHERE v.asset_id = a.id "
        f"AND v.observed_at >= {start} AND v.observed_at < {as_of}))"
    )
    scoped = f"SELECT a.*, {seen} AS seen FROM a_assets a WHERE a.active AND a.managed_by <> 'internal'"
    message = (
        "replace(a.managed_by, '_', '-') || '-managed ' || a.id || ' (' || a.name || '): ' || "
        "array_to_string(list_filter([CASE WHEN NULLIF(trim(a.owner), '') IS NULL THEN 'no internal owner' END, "
        f"CASE WHEN NOT a.seen THEN 'no completed scan and no verification between ' || {_DAY.format(start)} "
        f"|| ' and ' || {_DAY.format(f'{as_of} - INTERVAL 1 DAY')} END], lambda x: x IS NOT NULL), '; ')"
    )
    gaps = (
        f"SELECT {record_gap('a', 'assets', message, asset_id='a.id')} FROM ({scoped}) a "
        "WHERE NULLIF(trim(a.owner), '') IS NULL OR NOT a.seen"
    )
    return evaluate(
        ctx,
        needs=("assets", "scans", "verifications"),
        population_sql=f"SELECT {record_unit('a', 'assets', asset_id='a.id')} FROM ({scoped}) a",
        gaps_sql=gaps,
        noun="active third-party and vendor-managed assets",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )


def identity_gaps_sql(as_of: str) -> str:
    """Identities (alias i) existing before as_of with their missing inventory attributes (`missing`)."""
    missing = (
        "list_filter([CASE WHEN NULLIF(trim(i.owner), '') IS NULL THEN 'owner' END, "
        "CASE WHEN NULLIF(trim(i.purpose), '') IS NULL THEN 'purpose' END, "
        f"CASE WHEN i.last_reviewed_at IS NULL OR i.last_reviewed_at >= {as_of} THEN 'review date' END], "
        "lambda x: x IS NOT NULL)"
    )
    return f"SELECT i.*, {missing} AS missing FROM identities i WHERE i.created_at IS NULL OR i.created_at < {as_of}"


@register("inventory.nhi_inventory")
def nhi_inventory(ctx: CheckContext) -> CheckOutcome:
    """Non-human identities are inventoried like assets (CIS 5.1/5.5, OWASP NHI1): every identity,
    enabled or not, records an owner, a purpose and a last review date; and every secret a scanner
    found leaked traces to an inventoried identity (identity_id), so someone can revoke it. One gap
    per identity or unlinked exposure. Evidence: identities, secret_exposures. Example gaps:
    "identity nhi-0070 (billing-api-key, api_key) has no purpose"; "secret exposure sx-0011
    (generic-api-key in github.com/…) maps to no inventoried identity"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    identities = identity_gaps_sql(as_of)
    exposures = f"SELECT * FROM secret_exposures WHERE detected_at < {as_of}"
    id_message = (
        "'identity ' || i.id || ' (' || i.name || ', ' || i.type || CASE WHEN i.enabled THEN '' ELSE ', disabled' END "
        "|| ') has no ' || array_to_string(i.missing, ', ')"
    )
    x_message = (
        "'secret exposure ' || x.id || ' (' || x.detector || ' in ' || x.location || ', detected ' "
        f"|| {_DAY.format('x.detected_at')} || ') maps to no inventoried identity'"
    )
    gaps = f"""
        SELECT {record_gap("i", "identities", id_message, identity_id="i.id")}
        FROM ({identities}) i WHERE len(i.missing) > 0
        UNION ALL
        SELECT {record_gap("x", "secret_exposures", x_message, asset_id="x.asset_id")}
        FROM ({exposures}) x WHERE x.identity_id IS NULL"""
    population = (
        f"SELECT {record_unit('i', 'identities', identity_id='i.id')} FROM ({identities}) i UNION ALL "
        f"SELECT {record_unit('x', 'secret_exposures', asset_id='x.asset_id')} FROM ({exposures}) x"
    )
    return evaluate(
        ctx,
        needs=("identities", "secret_exposures"),
        population_sql=population,
        gaps_sql=gaps,
        noun="identities and secret exposures",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )


@register("inventory.container_coverage")
def container_coverage(ctx: CheckContext) -> CheckOutcome:
    """A running container is only as patched as its image (metrics.md §6.1): every active
    container_runtime names its image (parent_image_id), the image is in the inventory, and the
    image had a completed scan within its cadence before as_of. Evidence: assets, scans. Example
    gap: "container a-pod-0031 runs image a-img-009, whose last completed scan was 2026-05-24 (cadence
    90 days)"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    days = cadence("img", ctx, params)
    scoped = "SELECT * FROM a_assets WHERE active AND type = 'container_runtime'"
    message = (
        "'container ' || a.id || ' (' || a.name || ') ' || CASE "
        "WHEN a.parent_image_id IS NULL THEN 'names no image (parent_image_id)' "
        "WHEN img.id IS NULL THEN 'runs image ' || a.parent_image_id || ', which is not in the inventory' "
        f"ELSE 'runs image ' || img.id || ' with no completed scan in the ' || {days} || ' days before ' "
        f"|| {_DAY.format(as_of)} || ' (' || {last_scan('img.id', as_of)} || ')' END"
    )
    gaps = f"""
        SELECT {record_gap("a", "assets", message, asset_id="a.id")}
        FROM ({scoped}) a LEFT JOIN a_assets img ON img.id = a.parent_image_id
        WHERE img.id IS NULL OR NOT {scanned_within("img.id", days, as_of)}"""
    return evaluate(
        ctx,
        needs=("assets", "scans"),
        population_sql=f"SELECT {record_unit('a', 'assets', asset_id='a.id')} FROM ({scoped}) a",
        gaps_sql=gaps,
        noun="running containers",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )
