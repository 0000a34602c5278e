"""NHI: non-human identities are owned, revoked when leaked, rotated, least-privileged, isolated, and
never leave a patched asset exposed (OWASP NHI Top 10 2025; metrics.md §3.6 and §6.21).

The SQL builders without a leading underscore are shared with the N1–N10 metrics, so a metric and
the control it backs read the evidence the same way.
"""

from __future__ import annotations

from reporter.checks.base import (
    CheckContext,
    CheckOutcome,
    ExceptionScope,
    evaluate,
    gap_select,
    ledger_unit,
    record_gap,
    record_unit,
)
from reporter.checks.registry import register
from reporter.store.sql import Params

INSECURE_AUTH = ("password", "basic", "none")
INSECURE_STORAGE = ("code", "plaintext", "config_file", "ci_variable")
PRODUCTION = ("production", "prod", "prd")
NON_PRODUCTION = ("staging", "stage", "development", "dev", "test", "testing", "qa", "uat", "sandbox")
# Severity and urgency of the finding-instances whose verified fix makes an asset "patched" (NHI-14).
PATCHED_SCOPE = "(l.urgent OR l.severity IN ('critical', 'high'))"
# Credential-exposing classes the bundle can show: KEV, and BOD 26-04 "3 days and forensic triage".
CREDENTIAL_EXPOSING = "(l.kev OR l.bod_outcome = '3DF')"

_TS = "strftime({0}, '%Y-%m-%d %H:%MZ')"
_DAY = "strftime({0}, '%Y-%m-%d')"
_LABEL = "{0}.id || ' (' || {0}.name || ')'"


def before(column: str, as_of: str) -> str:
    """A timestamp only when it precedes as_of: evidence from after the assessment does not count."""
    return f"CASE WHEN {column} < {as_of} THEN {column} END"


def days_to(column: str, as_of: str) -> str:
    """Whole days from a timestamp to as_of."""
    return f"floor(epoch({as_of} - {column}) / 86400)::BIGINT"


def existing_identities(as_of: str) -> str:
    """Identities that existed before as_of (creation unknown counts as existing)."""
    return f"SELECT * FROM identities WHERE created_at IS NULL OR created_at < {as_of}"


def leak_closed_at(alias: str, as_of: str) -> str:
    """When a leaked secret stopped working: the earlier of revocation and a failed re-test, before as_of."""
    return f"least({before(f'{alias}.revoked_at', as_of)}, {before(f'{alias}.verified_invalid_at', as_of)})"


def identity_state(as_of: str, rotation_days: str) -> str:
    """Every identity existing at as_of with its rotation reading and its leaked secrets still valid.

    `rotation_base` is when the current secret was issued: the later of creation and the last rotation,
    except that a rotation which left the previous secret valid is no rotation (metrics.md §6.21).
    Rotation is assessed for enabled identities that are not short-lived (those are excluded from
    rotation age); `rotation_breach` is NULL when no date is known.
    """
    rotated = before("i.last_rotated_at", as_of)
    base = f"CASE WHEN i.prior_secret_valid THEN i.created_at ELSE greatest({rotated}, i.created_at) END"
    return f"""
        SELECT i.*, {rotated} AS rotated_at, {base} AS rotation_base,
            (i.enabled AND NOT i.short_lived) AS static_secret,
            CASE WHEN NOT i.enabled OR i.short_lived THEN FALSE
                 WHEN i.prior_secret_valid THEN TRUE
                 ELSE {base} < {as_of} - to_days({rotation_days}) END AS rotation_breach,
            (SELECT string_agg(x.id, ', ' ORDER BY x.id) FROM secret_exposures x WHERE x.identity_id = i.id
              AND x.detected_at < {as_of} AND {leak_closed_at("x", as_of)} IS NULL) AS open_leaks
        FROM ({existing_identities(as_of)}) i"""


def rotation_reading(alias: str, as_of: str) -> str:
    """Why an identity's rotation is in breach, in words."""
    rotated, created = _DAY.format(f"{alias}.rotated_at"), _DAY.format(f"{alias}.created_at")
    age = f"' (' || {days_to(f'{alias}.rotation_base', as_of)} || ' days)'"
    return (
        f"CASE WHEN {alias}.prior_secret_valid THEN 'rotated ' || COALESCE({rotated}, 'at an unknown time') "
        "|| ' but the previous secret still authenticates (rotation without revocation)' "
        f"WHEN {alias}.rotated_at IS NULL OR {alias}.rotated_at < {alias}.created_at "
        f"THEN 'never rotated since creation ' || {created} || {age} "
        f"ELSE 'last rotated ' || {rotated} || {age} END"
    )


def identity_environments(as_of: str, production: str, non_production: str) -> str:
    """(identity_id, environment, tier, via): environments an identity declares, and those of the
    assets and agents that use it; tier is production, non-production or NULL (unclassified)."""
    rows = f"""
        SELECT i.id AS identity_id, lower(unnest(i.environments)) AS environment, 'declared' AS via
        FROM ({existing_identities(as_of)}) i
        UNION SELECT i.id, lower(a.environment), a.id FROM ({existing_identities(as_of)}) i
        JOIN a_identity_users u ON u.identity_id = i.id JOIN assets a ON a.id = u.user_id
        WHERE a.environment IS NOT NULL
        UNION SELECT i.id, lower(g.environment), g.id FROM ({existing_identities(as_of)}) i
        JOIN a_agent_identities h ON h.identity_id = i.id JOIN agents g ON g.id = h.agent_id
        WHERE g.environment IS NOT NULL"""
    return f"""
        SELECT *, CASE WHEN list_contains({production}, environment) THEN 'production'
                       WHEN list_contains({non_production}, environment) THEN 'non-production' END AS tier
        FROM ({rows})"""


def environment_spans(envs: str) -> str:
    """Per identity of `identity_environments`: `mixed` (production and non-production) and a detail."""
    per_env = (
        "SELECT identity_id, environment, any_value(tier) AS tier, string_agg(via, ', ' ORDER BY via) AS via "
        f"FROM ({envs}) GROUP BY identity_id, environment"
    )
    return f"""
        SELECT identity_id, bool_or(tier = 'production') AND bool_or(tier = 'non-production') AS mixed,
            string_agg(environment || ' (' || via || ')', ', ' ORDER BY environment) AS detail
        FROM ({per_env}) GROUP BY identity_id"""


def identity_holders(as_of: str) -> str:
    """(identity_id, holder, holder_kind, owner): the assets and AI agents that use each identity."""
    return f"""
        SELECT i.id AS identity_id, a.id AS holder, 'asset' AS holder_kind, a.owner
        FROM ({existing_identities(as_of)}) i JOIN a_identity_users u ON u.identity_id = i.id
        JOIN assets a ON a.id = u.user_id
        UNION SELECT i.id, g.id, 'agent', g.owner FROM ({existing_identities(as_of)}) i
        JOIN a_agent_identities h ON h.identity_id = i.id JOIN agents g ON g.id = h.agent_id"""


def reused_identities(as_of: str) -> str:
    """Per identity with a holder: owners, whether agents and other workloads share it, and `reused`."""
    return f"""
        SELECT identity_id, count(DISTINCT owner) AS owners,
            bool_or(holder_kind = 'asset') AND bool_or(holder_kind = 'agent') AS agent_and_asset,
            count(DISTINCT owner) > 1 OR (bool_or(holder_kind = 'asset') AND bool_or(holder_kind = 'agent')) AS reused,
            string_agg(holder_kind || ' ' || holder || COALESCE(' (' || owner || ')', ''), ', ' ORDER BY holder)
                AS holders
        FROM ({identity_holders(as_of)}) GROUP BY identity_id"""


def patched_assets() -> str:
    """Active assets with at least one urgent, critical or high finding-instance, every one verified fixed."""
    return f"""
        SELECT l.asset_id, count(*) AS fixed_instances, max(l.fixed_at) AS last_fixed_at
        FROM a_ledger l WHERE l.asset_active AND NOT l.not_affected AND {PATCHED_SCOPE}
        GROUP BY l.asset_id HAVING bool_and(l.is_fixed)"""


def credentialed_patched_assets(as_of: str) -> str:
    """Patched assets (`patched_assets`) that use at least one enabled identity existing at as_of: the
    assets whose exposure through credentials the evidence can show (NHI-14's population)."""
    used = f"SELECT DISTINCT unnest(used_by) AS asset_id FROM ({existing_identities(as_of)}) WHERE enabled"
    return f"SELECT p.* FROM ({patched_assets()}) p WHERE p.asset_id IN ({used})"


def exposed_links(as_of: str, rotation_days: str) -> str:
    """(asset_id, identity_id, reason): enabled identities an asset uses whose leaked secret is still
    valid or whose rotation is in breach. A shared credential links every asset that uses it."""
    reason = (
        "concat_ws(' and ', "
        "CASE WHEN s.open_leaks IS NOT NULL THEN 'leaked secret ' || s.open_leaks || ' still valid' END, "
        f"CASE WHEN s.rotation_breach THEN 'rotation in breach, ' || {rotation_reading('s', as_of)} END)"
    )
    return f"""
        SELECT u.asset_id, s.id AS identity_id, s.name, s.open_leaks, s.rotation_breach, {reason} AS reason
        FROM (SELECT id, unnest(used_by) AS asset_id FROM ({existing_identities(as_of)})) u
        JOIN ({identity_state(as_of, rotation_days)}) s ON s.id = u.id
        WHERE s.enabled AND (s.open_leaks IS NOT NULL OR s.rotation_breach)"""


def post_patch_links(as_of: str) -> str:
    """Credential-exposing finding-instances verified fixed × the enabled, static identities their asset
    uses, with `rotated_after`: the secret was reissued after the fix and the old one revoked."""
    rotated = before("i.last_rotated_at", as_of)
    return f"""
        SELECT l.finding_id, l.asset_id, l.vuln_id, l.kev, l.bod_outcome, l.fixed_at, l._source, l._rec, l._line,
            i.id AS identity_id, i.name, {rotated} AS rotated_at,
            greatest({rotated}, i.created_at) > l.fixed_at AND i.prior_secret_valid IS NOT TRUE AS rotated_after
        FROM a_ledger l JOIN a_identity_users u ON u.user_id = l.asset_id
        JOIN ({existing_identities(as_of)}) i ON i.id = u.identity_id
        WHERE {CREDENTIAL_EXPOSING} AND l.is_fixed AND i.enabled AND NOT i.short_lived"""


def identity_exceptions(control: str, as_of: str) -> str:
    """(identity_id, exception_id): the valid exception (sound, in force at as_of, the first by id)
    naming each identity, for this control or all."""
    return f"""
        SELECT identity_id, min(id) AS exception_id FROM (
            SELECT e.id, unnest(e.identity_ids) AS identity_id FROM a_exc e
            WHERE e.sound AND e.approved_at <= {as_of} AND {as_of} < e.expires_at
            AND (len(e.control_ids) = 0 OR list_contains(e.control_ids, {control}))
        ) GROUP BY identity_id"""


def _gap(message: str, certainty: str = "'violation'") -> str:
    return record_gap("i", "identities", message, identity_id="i.id", certainty=certainty)


def _unit() -> str:
    return record_unit("i", "identities", identity_id="i.id")


def _identities(
    ctx: CheckContext,
    params: Params,
    scope: str,
    gaps_where: str,
    message: str,
    noun: str,
    certainty: str = "'violation'",
) -> CheckOutcome:
    """An identity check: population `scope` (SQL over identities aliased i), gaps where `gaps_where`."""
    gaps = f"SELECT {_gap(message, certainty)} FROM ({scope}) i WHERE {gaps_where}"
    return evaluate(
        ctx,
        needs=("identities",),
        population_sql=f"SELECT {_unit()} FROM ({scope}) i",
        gaps_sql=gaps,
        noun=noun,
        params=params,
        exceptions=ExceptionScope.IDENTITIES,
    )


@register("nhi.orphaned")
def orphaned(ctx: CheckContext) -> CheckOutcome:
    """NHI1 improper offboarding: an enabled identity nobody owns, or whose owner has left, is not
    managed and keeps working unwatched. An owner whose activity is unknown (often a team) is not
    an orphan; a disabled identity cannot authenticate. Evidence: identities (owner, owner_active,
    enabled). Example gap: "nhi-0073 (svc-old-reporting), enabled, is owned by
    j.devries@northwind.example, who is no longer active"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    scope = f"SELECT * FROM ({existing_identities(as_of)}) WHERE enabled"
    message = (
        f"{_LABEL.format('i')} || ', enabled, ' || CASE WHEN i.owner IS NULL THEN 'has no owner' "
        "ELSE 'is owned by ' || i.owner || ', who is no longer active' END"
    )
    return _identities(
        ctx, params, scope, "i.owner IS NULL OR i.owner_active IS FALSE", message, "enabled non-human identities"
    )


@register("nhi.leaked_secret_valid")
def leaked_secret_valid(ctx: CheckContext) -> CheckOutcome:
    """NHI2 secret leakage: every secret a scanner found exposed is revoked (or re-tested dead) before
    as_of and within policy.nhi.leak_revoke_hours of detection. Deleting the file or the commit does
    not close it; revocation does (metrics.md §6.21). Evidence: secret_exposures (detected_at,
    revoked_at, verified_invalid_at). Only an exception naming NHI-02 covers a gap: an exception
    about the identity's privileges is not a licence to leave its leaked secret valid. Example gap:
    "secret of nhi-0077 (slack-bot-token) detected 2026-09-09 15:00Z in public location github.com/…:
    neither revoked nor verified invalid by as_of"."""
    params = Params()
    as_of, hours = params.add(ctx.as_of), params.add(ctx.policy.nhi.leak_revoke_hours)
    detected = (
        f"SELECT *, {leak_closed_at('x', as_of)} AS closed_at FROM secret_exposures x WHERE x.detected_at < {as_of}"
    )
    owner = "COALESCE(x.identity_id, 'an uninventoried identity')"
    message = (
        f"'secret of ' || {owner} || ' (' || x.detector || ') detected ' || {_TS.format('x.detected_at')} || "
        "CASE WHEN x.public THEN ' in public location ' ELSE ' at ' END || x.location || ': ' || "
        "CASE WHEN x.closed_at IS NULL THEN 'neither revoked nor verified invalid by as_of' "
        f"ELSE 'revoked only ' || {_TS.format('x.closed_at')} || ' (' || "
        f"round(epoch(x.closed_at - x.detected_at) / 3600, 1) || ' h; target ' || {hours} || ' h)' END"
    )
    late = f"x.closed_at IS NULL OR x.closed_at > x.detected_at + to_hours({hours})"
    gap = record_gap("x", "secret_exposures", message, identity_id="x.identity_id")
    gaps = f"SELECT {gap} FROM ({detected}) x WHERE {late}"
    unit = record_unit("x", "secret_exposures", identity_id="x.identity_id")
    return evaluate(
        ctx,
        needs=("secret_exposures",),
        population_sql=f"SELECT {unit} FROM ({detected}) x",
        gaps_sql=gaps,
        noun="detected secret exposures",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )


@register("nhi.third_party")
def third_party(ctx: CheckContext) -> CheckOutcome:
    """NHI3 vulnerable third-party NHI: an identity issued to or held by a vendor names the vendor,
    holds no admin privilege, and was reviewed within policy.nhi.review_max_days; a compromised
    vendor otherwise inherits unreviewed, unattributed or unlimited access. Evidence: identities
    (third_party, third_party_vendor, privilege_admin, last_reviewed_at). Example gap: "third-party
    nhi-0083 (customs-broker-api): last reviewed 2026-02-01 (242 days before as_of; limit 90)"."""
    params = Params()
    as_of, review = params.add(ctx.as_of), params.add(ctx.policy.nhi.review_max_days)
    reviewed = before("i.last_reviewed_at", as_of)
    scope = f"SELECT * FROM ({existing_identities(as_of)}) WHERE third_party"
    stale = f"({reviewed} IS NULL OR {reviewed} < {as_of} - to_days({review}))"
    problems = (
        "concat_ws('; ', CASE WHEN i.third_party_vendor IS NULL THEN 'no vendor recorded' END, "
        "CASE WHEN i.privilege_admin THEN 'holds admin privilege' END, "
        f"CASE WHEN {reviewed} IS NULL THEN 'never reviewed' WHEN {stale} THEN 'last reviewed ' || "
        f"{_DAY.format(reviewed)} || ' (' || {days_to(reviewed, as_of)} || ' days before as_of; limit ' || "
        f"{review} || ')' END)"
    )
    message = f"'third-party ' || i.type || ' ' || {_LABEL.format('i')} || ': ' || {problems}"
    where = f"i.third_party_vendor IS NULL OR i.privilege_admin OR {stale}"
    return _identities(ctx, params, scope, where, message, "third-party non-human identities")


@register("nhi.insecure_authentication")
def insecure_authentication(ctx: CheckContext) -> CheckOutcome:
    """NHI4 insecure authentication: no enabled identity authenticates with a password, basic
    authentication or nothing at all; federation, OIDC, mTLS, key pairs or client credentials are
    expected. An identity with no recorded auth_method cannot be decided (partial). Evidence:
    identities (auth_method, enabled). Example gap: "nhi-0084 (svc-wms-legacy), enabled,
    authenticates with password"."""
    params = Params()
    as_of, weak = params.add(ctx.as_of), params.add(list(INSECURE_AUTH))
    scope = f"SELECT * FROM ({existing_identities(as_of)}) WHERE enabled"
    message = (
        f"{_LABEL.format('i')} || ', enabled, ' || CASE WHEN i.auth_method IS NULL "
        "THEN 'has no recorded authentication method' ELSE 'authenticates with ' || i.auth_method END"
    )
    certainty = "CASE WHEN i.auth_method IS NULL THEN 'unknown' ELSE 'violation' END"
    where = f"i.auth_method IS NULL OR list_contains({weak}, i.auth_method)"
    return _identities(ctx, params, scope, where, message, "enabled non-human identities", certainty)


@register("nhi.overprivileged")
def overprivileged(ctx: CheckContext) -> CheckOutcome:
    """NHI5 overprivileged NHI: no enabled identity holds admin privilege, unless a valid exception
    naming the identity (for this control, or for every control) accepts it, and none holds
    permissions the IAM analyser saw unused. The plan makes the exception part of the rule for admin
    privilege only: unused permissions are removed, not excepted. An exception that names the control
    for one identity does not cover the others. Evidence: identities (privilege_admin,
    privilege_scopes, unused_permissions), exceptions. Example gap: "nhi-0088 (svc-ci-admin), enabled:
    admin privilege (granted: AdministratorAccess) with no exception"."""
    params = Params()
    as_of, control = params.add(ctx.as_of), params.add(ctx.control_id)
    excepted = identity_exceptions(control, as_of)
    scope = (
        f"SELECT x.*, e.exception_id AS excepted_by FROM ({existing_identities(as_of)}) x "
        f"LEFT JOIN ({excepted}) e ON e.identity_id = x.id WHERE x.enabled"
    )
    admin = "(i.privilege_admin AND i.excepted_by IS NULL)"
    unused = "COALESCE(i.unused_permissions, 0) > 0"
    problems = (
        f"concat_ws('; ', CASE WHEN {admin} THEN 'admin privilege' || COALESCE(' (granted: ' || "
        "NULLIF(array_to_string(i.privilege_scopes, ', '), '') || ')', '') || ' with no exception' END, "
        f"CASE WHEN {unused} THEN i.unused_permissions || ' granted permissions unused in the analyser window' END)"
    )
    message = f"{_LABEL.format('i')} || ', enabled: ' || {problems}"
    gaps = f"SELECT {_gap(message)} FROM ({scope}) i WHERE {admin} OR {unused}"
    # Exceptions are read inside the rule above: with ExceptionScope.CONTROL or IDENTITIES, an
    # exception naming this control for one identity would cover every identity's gap.
    return evaluate(
        ctx,
        needs=("identities",),
        population_sql=f"SELECT {_unit()} FROM ({scope}) i",
        gaps_sql=gaps,
        noun="enabled non-human identities",
        params=params,
        exceptions=ExceptionScope.NONE,
    )


@register("nhi.insecure_storage")
def insecure_storage(ctx: CheckContext) -> CheckOutcome:
    """NHI6 insecure deployment configuration: no enabled long-lived secret sits in code, plaintext,
    a configuration file or a CI variable, where it leaks with the repository or the build log.
    Short-lived tokens (an OIDC token in a CI variable) expire before they are worth stealing and
    are not evaluated. No recorded storage cannot be decided (partial). Evidence: identities
    (storage, short_lived, enabled). Example gap: "nhi-0093 (geo-api-key-hardcoded), a static api_key,
    is stored in code"."""
    params = Params()
    as_of, weak = params.add(ctx.as_of), params.add(list(INSECURE_STORAGE))
    scope = f"SELECT * FROM ({existing_identities(as_of)}) WHERE enabled AND NOT short_lived"
    message = (
        f"{_LABEL.format('i')} || ', a static ' || i.type || ', ' || CASE WHEN i.storage IS NULL "
        "THEN 'has no recorded secret storage' ELSE 'is stored in ' || replace(i.storage, '_', ' ') END"
    )
    certainty = "CASE WHEN i.storage IS NULL THEN 'unknown' ELSE 'violation' END"
    where = f"i.storage IS NULL OR list_contains({weak}, i.storage)"
    return _identities(ctx, params, scope, where, message, "enabled long-lived secrets", certainty)


@register("nhi.rotation")
def rotation(ctx: CheckContext) -> CheckOutcome:
    """NHI7 long-lived secrets: every enabled static secret was issued (created or rotated) within
    policy.nhi.rotation_max_days of as_of (CIS AWS 2.12, AWS Config default 90 days), and its last
    rotation revoked the previous secret: rotation without revocation is not rotation (metrics.md
    §6.21). Short-lived tokens are excluded from rotation age. With neither a creation nor a rotation
    date the age cannot be decided (partial). Evidence: identities (created_at, last_rotated_at,
    prior_secret_valid). Example gap: "nhi-0096 (svc-payments-settlement): last rotated 2026-05-02
    (152 days); limit 90 days"."""
    params = Params()
    as_of, days = params.add(ctx.as_of), params.add(ctx.policy.nhi.rotation_max_days)
    scope = f"SELECT * FROM ({identity_state(as_of, days)}) WHERE static_secret"
    message = (
        f"{_LABEL.format('i')} || ': ' || CASE WHEN i.rotation_breach IS NULL "
        f"THEN 'no creation or rotation date: rotation age unknown' ELSE {rotation_reading('i', as_of)} || "
        f"CASE WHEN i.prior_secret_valid THEN '' ELSE '; limit ' || {days} || ' days' END END"
    )
    certainty = "CASE WHEN i.rotation_breach IS NULL THEN 'unknown' ELSE 'violation' END"
    where = "i.rotation_breach IS NOT FALSE"
    return _identities(ctx, params, scope, where, message, "enabled long-lived secrets", certainty)


@register("nhi.environment_isolation")
def environment_isolation(ctx: CheckContext) -> CheckOutcome:
    """NHI8 environment isolation: no identity is used both in production and in a non-production
    environment (staging, development, test, QA, UAT, sandbox), so a leak from a test system does not
    open production. Environments are those the identity declares and those of the assets and agents
    that use it; other names (e.g. corporate) are neither. Identities with no known environment are
    not evaluated. Evidence: identities (environments, used_by), assets and agents (environment).
    Example gap: "nhi-0100 (svc-quotes-db) spans production and non-production: production (declared,
    a-srv-1), staging (a-srv-2)"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    envs = identity_environments(as_of, params.add(list(PRODUCTION)), params.add(list(NON_PRODUCTION)))
    spans = environment_spans(envs)
    message = f"{_LABEL.format('i')} || ' spans production and non-production: ' || e.detail"
    gaps = (
        f"SELECT {_gap(message)} FROM ({existing_identities(as_of)}) i "
        f"JOIN ({spans}) e ON e.identity_id = i.id WHERE e.mixed"
    )
    return evaluate(
        ctx,
        needs=("identities", "assets"),
        population_sql=f"SELECT {_unit()} FROM ({existing_identities(as_of)}) i "
        f"WHERE i.id IN (SELECT identity_id FROM ({envs}))",
        gaps_sql=gaps,
        noun="non-human identities with a known environment",
        params=params,
        exceptions=ExceptionScope.IDENTITIES,
    )


@register("nhi.reuse")
def reuse(ctx: CheckContext) -> CheckOutcome:
    """NHI9 NHI reuse: an identity serves the workloads of one owner, and never both an AI agent and a
    non-agent workload, so one compromise does not spread across teams and an agent's credential is
    its own. Holders are the assets and agents in the identity's used_by, and the agents listing it
    in identity_ids. Identities nobody uses are not evaluated. Evidence: identities (used_by), assets
    and agents (owner, identity_ids). Example gap: "nhi-0101 (svc-shared-smtp) is used by workloads
    of 2 owners: asset a-srv-1 (team-fleet), asset a-srv-2 (team-payments)"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    reused = reused_identities(as_of)
    why = (
        "concat_ws(' and ', CASE WHEN r.owners > 1 THEN 'workloads of ' || r.owners || ' owners' END, "
        "CASE WHEN r.agent_and_asset THEN 'an AI agent and a non-agent workload' END)"
    )
    message = f"{_LABEL.format('i')} || ' is used by ' || {why} || ': ' || r.holders"
    gaps = (
        f"SELECT {_gap(message)} FROM ({existing_identities(as_of)}) i "
        f"JOIN ({reused}) r ON r.identity_id = i.id WHERE r.reused"
    )
    return evaluate(
        ctx,
        needs=("identities", "assets", "agents"),
        population_sql=f"SELECT {_unit()} FROM ({existing_identities(as_of)}) i "
        f"JOIN ({reused}) r ON r.identity_id = i.id",
        gaps_sql=gaps,
        noun="non-human identities in use by a workload",
        params=params,
        exceptions=ExceptionScope.IDENTITIES,
    )


@register("nhi.human_use")
def human_use(ctx: CheckContext) -> CheckOutcome:
    """NHI10 human use of NHI: people log in with their own identities; interactive use of a service
    identity hides who acted and bypasses human MFA and offboarding. Evidence: identities
    (interactive_use). Example gap: "nhi-0103 (svc-erp-integration) has been used interactively by
    people"."""
    params = Params()
    scope = existing_identities(params.add(ctx.as_of))
    message = f"{_LABEL.format('i')} || ', a ' || i.type || ', has been used interactively by people'"
    return _identities(ctx, params, scope, "i.interactive_use", message, "non-human identities")


@register("nhi.long_lived")
def long_lived(ctx: CheckContext) -> CheckOutcome:
    """NHI7 long-lived secrets: every enabled static secret expires, no later than
    policy.nhi.max_lifetime_days after creation; OWASP NHI7 names secrets "that don't expire at all"
    or expire too far ahead. Short-lived tokens are not evaluated; an expiry without a creation date
    cannot be decided (partial). Evidence: identities (created_at, expires_at). Example gap:
    "nhi-0106 (cert-partner-mtls) is valid for 1095 days (2026-03-23 to 2029-03-22; limit 365)"."""
    params = Params()
    as_of, limit = params.add(ctx.as_of), params.add(ctx.policy.nhi.max_lifetime_days)
    scope = f"SELECT * FROM ({existing_identities(as_of)}) WHERE enabled AND NOT short_lived"
    message = (
        f"{_LABEL.format('i')} || CASE WHEN i.expires_at IS NULL THEN ' never expires' "
        "WHEN i.created_at IS NULL THEN ' expires ' || strftime(i.expires_at, '%Y-%m-%d') || ' but its creation "
        "date is unknown: lifetime undecidable' "
        f"ELSE ' is valid for ' || {days_to('i.created_at', 'i.expires_at')} || ' days (' || "
        f"{_DAY.format('i.created_at')} || ' to ' || {_DAY.format('i.expires_at')} || '; limit ' || {limit} || ')' END"
    )
    certainty = "CASE WHEN i.expires_at IS NOT NULL AND i.created_at IS NULL THEN 'unknown' ELSE 'violation' END"
    where = f"i.expires_at IS NULL OR i.created_at IS NULL OR i.expires_at > i.created_at + to_days({limit})"
    return _identities(ctx, params, scope, where, message, "enabled long-lived secrets", certainty)


@register("nhi.dormant")
def dormant(ctx: CheckContext) -> CheckOutcome:
    """NHI1 improper offboarding: an enabled identity unused for policy.nhi.dormant_days (CIS
    Controls 5.3; CIS AWS 2.11: 45 days) is no longer needed and should be disabled. A missing
    last_used_at is unknown, not dormant (metrics.md §6.21): the bundle format cannot say "never
    used". Like a missing auth_method (NHI-04) or storage (NHI-06), it is reported as undecidable
    (partial), unless the identity was created within the dormancy period and so cannot be dormant
    yet. Evidence: identities (last_used_at, created_at, enabled). Example gaps: "nhi-0107
    (svc-old-sftp-import), enabled, last used 2026-06-11 (112 days before as_of; limit 45)";
    "nhi-0108 (svc-batch-export), enabled, has no recorded last use: dormancy undecidable (limit 45)"."""
    params = Params()
    as_of, days = params.add(ctx.as_of), params.add(ctx.policy.nhi.dormant_days)
    used = before("last_used_at", as_of)
    scope = f"SELECT *, {used} AS used_at FROM ({existing_identities(as_of)}) WHERE enabled"
    limit = f"{as_of} - to_days({days})"
    message = (
        f"{_LABEL.format('i')} || ', enabled, ' || CASE WHEN i.used_at IS NULL "
        f"THEN 'has no recorded last use: dormancy undecidable (limit ' || {days} || ')' "
        f"ELSE 'last used ' || {_DAY.format('i.used_at')} || ' (' || {days_to('i.used_at', as_of)} || "
        f"' days before as_of; limit ' || {days} || ')' END"
    )
    certainty = "CASE WHEN i.used_at IS NULL THEN 'unknown' ELSE 'violation' END"
    where = f"i.used_at < {limit} OR (i.used_at IS NULL AND (i.created_at IS NULL OR i.created_at < {limit}))"
    return _identities(ctx, params, scope, where, message, "enabled non-human identities", certainty)


@register("nhi.review")
def review(ctx: CheckContext) -> CheckOutcome:
    """Service accounts are reviewed at least quarterly (CIS Controls v8 5.5): every service account
    has a review within policy.nhi.review_max_days of as_of; the review is where identities no longer
    needed are found. Evidence: identities (type, last_reviewed_at). Example gap: "nhi-0110
    (svc-hr-export) last reviewed 2026-05-02 (152 days before as_of; limit 90)"."""
    params = Params()
    as_of, days = params.add(ctx.as_of), params.add(ctx.policy.nhi.review_max_days)
    reviewed = before("i.last_reviewed_at", as_of)
    scope = f"SELECT * FROM ({existing_identities(as_of)}) WHERE type = 'service_account'"
    message = (
        f"{_LABEL.format('i')} || CASE WHEN {reviewed} IS NULL THEN ' has never been reviewed' "
        f"ELSE ' last reviewed ' || {_DAY.format(reviewed)} || ' (' || {days_to(reviewed, as_of)} || "
        f"' days before as_of; limit ' || {days} || ')' END"
    )
    where = f"{reviewed} IS NULL OR {reviewed} < {as_of} - to_days({days})"
    return _identities(ctx, params, scope, where, message, "service accounts")


@register("nhi.patched_but_exposed")
def patched_but_exposed(ctx: CheckContext) -> CheckOutcome:
    """N8, the seed thesis: an asset whose urgent, critical and high finding-instances are all verified
    fixed is "patched", yet stays exposed when it uses an enabled identity whose leaked secret is still
    valid or whose rotation is in breach (NHI-07's reading); a credential shared by several assets
    exposes each of them (metrics.md §6.21). CISA ED 24-01 SD V1 required reissuing keys and
    service-account passwords after rebuilding Ivanti gateways for this reason. One gap per patched
    asset; only an exception naming NHI-14 covers it. The population is the patched assets that use
    at least one enabled identity: an asset no identity lists in used_by cannot be shown exposed or
    clean through credentials, so a bundle whose inventory links no patched asset is not_applicable,
    never a pass. Evidence: findings and verifications (the ledger), assets, identities (used_by),
    secret_exposures. Example gap: "a-srv-105 (2
    urgent/critical/high instance(s) verified fixed, last 2026-07-31) uses nhi-0077 (slack-bot-ops):
    leaked secret sx-0013 still valid"."""
    params = Params()
    as_of, days = params.add(ctx.as_of), params.add(ctx.policy.nhi.rotation_max_days)
    links = (
        "SELECT asset_id, min(identity_id) AS identity_id, "
        "string_agg(identity_id || ' (' || name || '): ' || reason, '; ' ORDER BY identity_id) AS reasons "
        f"FROM ({exposed_links(as_of, days)}) GROUP BY asset_id"
    )
    message = (
        "a.id || ' (' || p.fixed_instances || ' urgent/critical/high instance(s) verified fixed, last ' || "
        f"{_DAY.format('p.last_fixed_at')} || ') uses ' || x.reasons"
    )
    gaps = f"""
        SELECT {record_gap("a", "assets", message, asset_id="a.id", identity_id="x.identity_id")}
        FROM ({patched_assets()}) p JOIN assets a ON a.id = p.asset_id JOIN ({links}) x ON x.asset_id = p.asset_id"""
    return evaluate(
        ctx,
        needs=("assets", "findings", "verifications", "identities", "secret_exposures"),
        population_sql=f"SELECT {record_unit('a', 'assets', asset_id='a.id')} "
        f"FROM ({credentialed_patched_assets(as_of)}) p JOIN assets a ON a.id = p.asset_id",
        gaps_sql=gaps,
        noun="patched assets using a non-human identity (urgent, critical and high instances all verified fixed)",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )


@register("nhi.post_patch_rotation")
def post_patch_rotation(ctx: CheckContext) -> CheckOutcome:
    """N7: after a credential-exposing vulnerability is verified fixed — KEV, or BOD 26-04's "3 days
    and forensic triage" tier — every enabled static identity its asset uses is reissued after the
    fix and its old secret revoked; the fix does not undo what was stolen before it (CISA ED 24-01
    SD V1; PCI DSS 8.6.3 "upon suspicion of compromise"). A credential created after the fix
    counts as reissued; short-lived and disabled identities need nothing. Instances whose asset uses
    no such identity are not evaluated. Evidence: findings and verifications (the ledger), identities
    (used_by, last_rotated_at, prior_secret_valid). Example gap: "CVE-2026-22119 (KEV) on a-srv-113
    verified fixed 2026-07-31 13:14Z; not reissued since: nhi-0113 (last rotated 2026-07-13)"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    links = post_patch_links(as_of)
    stale = (
        "SELECT finding_id, min(identity_id) AS identity_id, string_agg(identity_id || ' (' || "
        "COALESCE('last rotated ' || strftime(rotated_at, '%Y-%m-%d'), 'never rotated') || ')', ', ' "
        f"ORDER BY identity_id) AS identities FROM ({links}) WHERE NOT rotated_after GROUP BY finding_id"
    )
    message = (
        "l.vuln_id || ' (' || CASE WHEN l.kev THEN 'KEV' ELSE 'BOD 26-04 3DF' END || ') on ' || l.asset_id || "
        f"' verified fixed ' || {_TS.format('l.fixed_at')} || '; not reissued since: ' || s.identities"
    )
    gap = gap_select(
        kind="findings", record_id="l.finding_id", source="l._source", rec="l._rec", line="l._line",
        message=message, asset_id="l.asset_id", vuln_id="l.vuln_id", identity_id="s.identity_id",
    )  # fmt: skip
    instances = f"SELECT DISTINCT finding_id, asset_id, vuln_id, kev, fixed_at, _source, _rec, _line FROM ({links})"
    gaps = f"SELECT {gap} FROM ({instances}) l JOIN ({stale}) s ON s.finding_id = l.finding_id"
    return evaluate(
        ctx,
        needs=("findings", "verifications", "identities"),
        population_sql=f"SELECT DISTINCT {ledger_unit('l')} FROM ({links}) l",
        gaps_sql=gaps,
        noun="credential-exposing instances verified fixed on assets with static credentials",
        params=params,
        exceptions=ExceptionScope.FINDINGS,
    )
