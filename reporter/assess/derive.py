"""Derived tables every check and metric reads, built once per assessment in the evidence store.

- `a_asset_keys`  every key an asset is known by (id, name, aliases) → asset id
- `a_obs`         discovery sightings with the inventory asset they resolve to
- `a_assets`      inventory with `active` at as_of, last sighting, vanishing and retirement records
- `a_instances`   finding-instances: one per (asset, vulnerability), duplicates from several
                  scanners merged, enriched with KEV/EPSS catalogs, importance, BOD 26-04 outcome and
                  the strictest applicable SLA deadline: a view over the ledger, whose statement
                  computes them (`_instances`, D102)
- `a_exc`         exceptions with completeness, soundness and compensating-control evidence
- `a_exc_scope`   which instances each exception covers
- `a_ver`, `a_dep`, `a_rollback`  verifications (each with a row number `vrow`), deployments and
                  rollbacks linked to instances
- `a_identity_users`, `a_agent_identities`  which assets and agents use each identity, which
                  identities each AI agent holds (one row per pair)
- `a_dep_check`   per successful deployment and target: its verification window and first verification
- `a_ledger`      the remediation ledger: state, fix time, due date, SLA outcome, exposure

Only records with timestamps before `as_of` take part: evidence from after the assessment instant
is ignored. Policy values travel as bound parameters.

Sizes: every join between two large tables is an equi-join on ids (list columns are unnested
first; `list_contains` in a join condition compares every pair), and the "first verification" of an
instance or deployment is chosen by row number and joined back once, so aggregates carry integers,
not the evidence itself (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb

from reporter.assess import versions
from reporter.models.manifest import Period
from reporter.models.policy import Policy
from reporter.store.compression import create_table_as
from reporter.store.coverage import covers
from reporter.store.sql import Params


@dataclass(frozen=True)
class DeriveInput:
    """Everything the derived tables depend on."""

    policy: Policy
    period: Period
    as_of: datetime
    plain_ids: bool = False  # the store keeps identifiers uncompressed: so do the derived tables (D116)


SEVERITY_RANK = "CASE {0} WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END"
RANK_SEVERITY = (
    "CASE {0} WHEN 4 THEN 'critical' WHEN 3 THEN 'high' WHEN 2 THEN 'medium' WHEN 1 THEN 'low' ELSE 'info' END"
)


Step = Callable[[duckdb.DuckDBPyConnection], None]


def _sql(builder: Callable[[Params], str | tuple[str, ...]], plain: bool) -> Step:
    """A step that runs one SQL statement (or several, in order), its policy values and instants
    bound as parameters; `plain`: the tables it writes keep their identifiers uncompressed
    (store.compression, D116)."""

    def run(con: duckdb.DuckDBPyConnection) -> None:
        params = Params()
        built = builder(params)
        for sql in (built,) if isinstance(built, str) else built:
            create_table_as(con, sql, params.for_sql(sql), plain=plain)

    return run


def build(
    con: duckdb.DuckDBPyConnection, data: DeriveInput, progress: Callable[[int, int], None] | None = None
) -> None:
    """Create every derived table (replacing earlier ones); `progress(done, total)` after each."""
    _policy_tables(con, data.policy)
    steps = _steps(data)
    for done, step in enumerate(steps, start=1):
        step(con)
        if progress:
            progress(done, len(steps))


def _steps(data: DeriveInput) -> tuple[Step, ...]:
    policy, as_of = data.policy, data.as_of
    skew = policy.verification.clock_skew_minutes

    def sql(builder: Callable[[Params], str | tuple[str, ...]]) -> Step:
        return _sql(builder, data.plain_ids)

    return (
        sql(lambda p: _ASSET_KEYS),
        sql(lambda p: _OBSERVATIONS),
        sql(lambda p: _assets(p.add(as_of), p.add(policy.inventory.ephemeral_gone_days))),
        sql(
            lambda p: _exceptions(
                p.add(as_of),
                p.add(policy.exceptions.control_verification_max_days),
                p.add(policy.exceptions.max_duration_days),
            )
        ),
        sql(lambda p: _exception_scope(p.add(as_of))),
        sql(lambda p: _IDENTITY_USERS),
        sql(lambda p: _AGENT_IDENTITIES),
        sql(lambda p: _series(p.add(as_of))),
        sql(lambda p: _inferred_links(p.add(as_of))),
        lambda con: _package_links(con, as_of),
        sql(lambda p: _deployments(p.add(as_of))),
        sql(lambda p: _scan_verifications(p.add(as_of))),
        sql(lambda p: _verifications(p.add(as_of))),
        sql(lambda p: _rollbacks(p.add(as_of))),
        sql(lambda p: _ledger(p.add(as_of), p.add(data.period.start_at), p.add(skew), policy, p)),
        sql(
            lambda p: _deployment_checks(
                p.add(as_of),
                p.add(policy.verification.window_days_urgent),
                p.add(policy.verification.window_days_default),
                p.add(policy.verification.clock_skew_minutes),
            )
        ),
    )


def _policy_tables(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    con.execute(
        "CREATE OR REPLACE TABLE a_bod "
        "(kev BOOLEAN, exposed BOOLEAN, automatable BOOLEAN, impact VARCHAR, outcome VARCHAR)"
    )
    for r in policy.sla.bod2604_table:
        con.execute(
            "INSERT INTO a_bod VALUES (?, ?, ?, ?, ?)",
            [r.kev, r.exposed, r.automatable, r.technical_impact.value, r.outcome.value],
        )
    con.execute(
        "CREATE OR REPLACE TABLE a_bod_defaults AS SELECT ?::BOOLEAN AS automatable, ?::VARCHAR AS impact",
        [policy.sla.missing_automatable, policy.sla.missing_technical_impact.value],
    )


# Every key an asset is known by (id, name, aliases), for resolving what discovery saw. Hash joins
# on this table replace OR/list_contains join conditions, which would compare every pair.
_ASSET_KEYS = """
    CREATE OR REPLACE TABLE a_asset_keys AS
    SELECT key, min(id) AS asset_id FROM (SELECT id, unnest(list_distinct([id, name] || aliases)) AS key FROM assets)
    GROUP BY key"""

# Sightings with the inventory asset they resolve to: by asset_id, else by key (NULL: unknown).
_OBSERVATIONS = """
    CREATE OR REPLACE TABLE a_obs AS
    SELECT o.*, COALESCE(a.id, k.asset_id) AS resolved_id
    FROM observations o LEFT JOIN assets a ON a.id = o.asset_id LEFT JOIN a_asset_keys k ON k.key = o.asset_key"""


def _assets(as_of: str, gone_days: str) -> str:
    return f"""
    CREATE OR REPLACE TABLE a_assets AS
    WITH seen AS (
        SELECT resolved_id AS id, max(observed_at) AS last_observed_at FROM a_obs
        WHERE observed_at < {as_of} AND resolved_id IS NOT NULL GROUP BY resolved_id
    ),
    -- retirement records: the first retirement event naming each asset
    ret AS (
        SELECT asset_id, min(occurred_at) AS retired_by_event_at FROM (
            SELECT unnest(asset_ids) AS asset_id, occurred_at FROM rollout_events
            WHERE type = 'retirement' AND occurred_at <= {as_of}
        ) GROUP BY asset_id
    )
    SELECT a.*, seen.last_observed_at,
        -- an ephemeral asset has vanished once terminated, or once discovery stopped seeing it
        CASE WHEN a.retired_at IS NOT NULL AND a.retired_at <= {as_of} THEN a.retired_at
             WHEN a.ephemeral AND seen.last_observed_at < {as_of} - to_days({gone_days}) THEN seen.last_observed_at
        END AS gone_at,
        (a.lifecycle <> 'retired' AND (a.retired_at IS NULL OR a.retired_at > {as_of})
         AND (a.first_seen_at IS NULL OR a.first_seen_at < {as_of})) AS active,
        COALESCE(a.criticality, 'unknown') AS importance,
        (a.lifecycle = 'retired' AND a.retired_at IS NOT NULL AND a.retired_at <= {as_of})
         OR ret.asset_id IS NOT NULL AS retirement_recorded,
        COALESCE(ret.retired_by_event_at, a.retired_at) AS retired_effective_at
    FROM assets a LEFT JOIN seen ON seen.id = a.id LEFT JOIN ret ON ret.asset_id = a.id"""


def _instances(as_of: str, policy: Policy, p: Params, *, among: str = "") -> str:
    """The finding-instances (a query) with their strictest SLA deadline (`_deadline_columns`);
    `among`: a query of (asset_id, vuln_id) pairs, to compute only those instances (each instance
    depends on its own findings only, so its row is the same either way)."""
    rank = SEVERITY_RANK.format("COALESCE(f.risk_rank, f.severity)")
    columns, names, due, rule = _deadline_columns(policy, p)
    only = f"SEMI JOIN ({among}) k ON k.asset_id = findings.asset_id AND k.vuln_id = findings.vuln_id " if among else ""
    # Most instances are one finding record: only (asset, vulnerability) pairs reported more than
    # once are aggregated; the others are taken as they are (same columns, same meaning). The
    # findings before as_of are read three times rather than copied once (NOT MATERIALIZED).
    return f"""
    WITH f AS NOT MATERIALIZED (SELECT * FROM findings {only}WHERE first_detected_at < {as_of}),
    dup AS (SELECT asset_id, vuln_id FROM f GROUP BY asset_id, vuln_id HAVING count(*) > 1),
    single AS NOT MATERIALIZED (
        SELECT f.asset_id, f.vuln_id, [f.id] AS finding_ids, f.id AS finding_id, f._source, f._rec, f._line,
            f.first_detected_at, f.last_seen_at, f.patch_released_at, f.state = 'open' AS source_open,
            f.closed_at AS source_closed_at, {rank} AS severity_rank, COALESCE(f.kev, FALSE) AS kev_flag,
            f.kev_date_added AS f_kev_added, f.kev_due_date AS f_kev_due, f.epss AS f_epss, f.ssvc_exploitation,
            f.ssvc_automatable, f.ssvc_technical_impact,
            f.vex_status IS NOT NULL AND f.vex_status IN ('not_affected', 'false_positive') AS not_affected,
            f.cvss_score, 1::BIGINT AS records,
            CASE WHEN f.source IS NULL THEN []::VARCHAR[] ELSE [f.source] END AS scanners
        FROM f ANTI JOIN dup ON dup.asset_id = f.asset_id AND dup.vuln_id = f.vuln_id
    ),
    grouped AS NOT MATERIALIZED (
        SELECT * FROM single
        UNION ALL BY NAME
        SELECT f.asset_id, f.vuln_id,
            list(f.id ORDER BY f.id) AS finding_ids, min(f.id) AS finding_id,
            arg_min(f._source, f.id) AS _source, arg_min(f._rec, f.id) AS _rec, arg_min(f._line, f.id) AS _line,
            min(f.first_detected_at) AS first_detected_at, max(f.last_seen_at) AS last_seen_at,
            min(f.patch_released_at) AS patch_released_at,
            bool_or(f.state = 'open') AS source_open, max(f.closed_at) AS source_closed_at,
            max({rank}) AS severity_rank,
            bool_or(COALESCE(f.kev, FALSE)) AS kev_flag, min(f.kev_date_added) AS f_kev_added,
            min(f.kev_due_date) AS f_kev_due, max(f.epss) AS f_epss,
            max(f.ssvc_exploitation) AS ssvc_exploitation, max(f.ssvc_automatable) AS ssvc_automatable,
            max(f.ssvc_technical_impact) AS ssvc_technical_impact,
            bool_and(f.vex_status IS NOT NULL AND f.vex_status IN ('not_affected', 'false_positive')) AS not_affected,
            max(f.cvss_score) AS cvss_score, count(*) AS records,
            list(DISTINCT f.source ORDER BY f.source) FILTER (WHERE f.source IS NOT NULL) AS scanners
        FROM f SEMI JOIN dup ON dup.asset_id = f.asset_id AND dup.vuln_id = f.vuln_id
        GROUP BY f.asset_id, f.vuln_id
    ),
    enriched AS NOT MATERIALIZED (
        SELECT g.*,
            g.kev_flag OR k.id IS NOT NULL AS kev,
            COALESCE(k.date_added, g.f_kev_added) AS kev_date_added,
            COALESCE(k.due_date, g.f_kev_due) AS kev_due_date,
            k.known_ransomware,
            COALESCE(g.f_epss, e.epss) AS epss,
            {RANK_SEVERITY.format("g.severity_rank")} AS severity,
            a.criticality, a.importance AS asset_importance, COALESCE(a.internet_facing, FALSE) AS internet_facing,
            a.ephemeral, a.type AS asset_type, a.compliance_scopes, a.tags, a.environment, a.owner AS asset_owner,
            a.active AS asset_active, a.retirement_recorded, a.retired_effective_at, a.retired_at, a.gone_at,
            a.last_observed_at
        FROM grouped g
        LEFT JOIN kev_entries k ON k.id = g.vuln_id
        LEFT JOIN epss_scores e ON e.id = g.vuln_id
        LEFT JOIN a_assets a ON a.id = g.asset_id
    ),
    i AS NOT MATERIALIZED (
        SELECT x.*,
            COALESCE(b.outcome, 'FSU') AS bod_outcome,
            CASE WHEN x.kev OR COALESCE(b.outcome, 'FSU') IN ('3DF', '3D') THEN 'critical' ELSE x.severity END
                AS vuln_importance,
            (x.kev OR COALESCE(b.outcome, 'FSU') IN ('3DF', '3D', '14D') OR x.ssvc_exploitation = 'active')
                AS high_risk,
            (x.kev OR COALESCE(b.outcome, 'FSU') IN ('3DF', '3D', '14D') OR x.internet_facing) AS urgent
        FROM enriched x, a_bod_defaults d
        LEFT JOIN a_bod b ON b.kev = x.kev AND b.exposed = x.internet_facing
            AND b.automatable = COALESCE(x.ssvc_automatable = 'yes', d.automatable)
            AND b.impact = COALESCE(x.ssvc_technical_impact, d.impact)
    )
    SELECT * EXCLUDE ({names}, {_INSTANCE_WORKING_COLUMNS}), {rule} AS sla_rule FROM (
        SELECT *, {due} AS due_at FROM (SELECT i.*, {columns} FROM i))"""


# Columns the instances' query works with (to merge records, to match SLA rules) but the ledger does
# not carry, as it leaves out its own working columns (D90): the query ends without them.
_INSTANCE_WORKING_COLUMNS = ", ".join(
    (
        "compliance_scopes",
        "scanners",
        "severity_rank",
        "kev_flag",
        "f_kev_added",
        "f_kev_due",
        "f_epss",
        "asset_type",
        "last_observed_at",
    )
)


def _deadline_columns(policy: Policy, p: Params) -> tuple[str, str, str, str]:
    """The strictest deadline per instance: every enabled rule is one CASE column of the pass that
    builds the instances (no instance × rule join, no second table), and least() picks the earliest;
    ties go to the earlier rule in the library. Returns (the rule columns `… AS d0, …`, their names,
    the deadline, the rule that sets it)."""
    candidates: list[tuple[str, str]] = []
    for rule in (r for r in policy.sla.rules if r.enabled):
        m = rule.match
        conditions = [
            f"i.kev = {p.add(m.kev)}" if m.kev is not None else "",
            f"i.internet_facing = {p.add(m.internet_facing)}" if m.internet_facing is not None else "",
            f"list_contains({p.add([v.value for v in m.severity])}, i.severity)" if m.severity else "",
            f"list_contains(i.compliance_scopes, {p.add(m.compliance_scope)})" if m.compliance_scope else "",
            f"list_contains({p.add([v.value for v in m.asset_criticality])}, i.criticality)"
            if m.asset_criticality
            else "",
            f"list_contains({p.add([v.value for v in m.bod2604_outcome])}, i.bod_outcome)" if m.bod2604_outcome else "",
            f"i.first_detected_at::DATE >= {p.add(rule.effective_from)}" if rule.effective_from else "",
            f"i.first_detected_at::DATE <= {p.add(rule.effective_to)}" if rule.effective_to else "",
        ]
        when = " AND ".join(c for c in conditions if c) or "TRUE"
        if rule.deadline == "kev_due_date":
            deadline = "(i.kev_due_date + 1)::TIMESTAMPTZ"  # the end of the published due day, UTC
        else:
            clock = {
                "first_detected": "i.first_detected_at",
                "patch_released": "i.patch_released_at",
                "earlier_of_kev_and_detection": "least(i.first_detected_at, i.kev_date_added::TIMESTAMPTZ)",
            }[rule.clock_start.value]
            deadline = f"{clock} + to_days({p.add(rule.days)})"
        candidates.append((p.add(rule.id), f"CASE WHEN {when} THEN {deadline} END"))
    if not candidates:
        return "NULL AS _none", "_none", "NULL::TIMESTAMPTZ", "NULL::VARCHAR"
    columns = ", ".join(f"{expr} AS d{n}" for n, (_, expr) in enumerate(candidates))
    names = ", ".join(f"d{n}" for n in range(len(candidates)))
    which = " ".join(f"WHEN d{n} = due_at THEN {rule_id}" for n, (rule_id, _) in enumerate(candidates))
    return columns, names, f"least({names})", f"CASE {which} END"


def _exceptions(as_of: str, max_days: str, max_duration: str) -> str:
    # `last` is the last moment an exception can cover anything: as_of, or its expiry when earlier.
    # A mitigation is sound only if a compensating control was verified within the policy window
    # before that moment: at as_of, the freshness EXC-03 demands (an exception EXC-03 finds stale
    # excepts nothing); for an exception that lapsed earlier, the freshness it had while in force.
    last = f"least({as_of}, COALESCE(e.expires_at, {as_of}))"
    inline_at = "TRY_CAST(json_extract_string(c.value, '$.verified_at') AS TIMESTAMPTZ)"
    return f"""
    CREATE OR REPLACE TABLE a_exc AS
    WITH ctl AS (
        SELECT e.id, max({inline_at}) FILTER (WHERE {inline_at} < {as_of}) AS inline_verified,
               max({inline_at}) FILTER (WHERE {inline_at} < {last}) AS inline_verified_last,
               count(c.value) AS inline_count
        FROM exceptions e LEFT JOIN LATERAL (SELECT unnest(CAST(e.compensating_controls AS JSON[])) AS value) c ON TRUE
        GROUP BY e.id
    ),
    ref AS (
        SELECT e.id, max(cc.verified_at) FILTER (WHERE cc.verified_at < {as_of}) AS ref_verified,
               max(cc.verified_at) FILTER (WHERE cc.verified_at < {last}) AS ref_verified_last,
               count(cc.id) AS ref_count
        FROM exceptions e
        LEFT JOIN (SELECT DISTINCT id, unnest(compensating_control_ids) AS control_id FROM exceptions) n ON n.id = e.id
        LEFT JOIN compensating_controls cc ON cc.id = n.control_id
        GROUP BY e.id
    )
    SELECT e.*,
        (e.owner IS NOT NULL AND e.approver IS NOT NULL AND e.approved_at IS NOT NULL
         AND e.expires_at IS NOT NULL AND e.justification IS NOT NULL) AS complete,
        COALESCE(ctl.inline_count, 0) + COALESCE(ref.ref_count, 0) AS control_count,
        greatest(ctl.inline_verified, ref.ref_verified) AS control_verified_at,
        greatest(ctl.inline_verified, ref.ref_verified) >= {as_of} - to_days({max_days}) AS control_fresh,
        -- sound: complete, time-boxed within the policy, and a mitigation backed by a fresh control
        (e.owner IS NOT NULL AND e.approver IS NOT NULL AND e.approved_at IS NOT NULL
         AND e.expires_at IS NOT NULL AND e.justification IS NOT NULL
         AND e.expires_at <= e.approved_at + to_days({max_duration})
         AND (e.risk_response <> 'mitigate' OR COALESCE(
              greatest(ctl.inline_verified_last, ref.ref_verified_last) >= {last} - to_days({max_days}), FALSE)))
        AS sound
    FROM exceptions e LEFT JOIN ctl ON ctl.id = e.id LEFT JOIN ref ON ref.id = e.id"""


def _exception_scope(as_of: str) -> str:
    # An exception covers: listed findings; listed vulnerabilities (on listed assets or tags when
    # given, anywhere otherwise); with no finding criteria at all, everything on listed assets/tags.
    # Each criterion is an equi-join on its unnested list: exceptions × instances would compare
    # every pair (a thousand exceptions and a million instances: a billion list lookups). An instance
    # is an (asset, vulnerability) pair of the findings before as_of: `i` is read from the findings
    # (the instances' own columns are computed with the ledger), a pair once per finding, which the
    # DISTINCT makes one.
    asset_only = "len(vuln_ids) = 0 AND len(finding_ids) = 0 AND len(control_ids) = 0 AND len(identity_ids) = 0"
    return f"""
    CREATE OR REPLACE TABLE a_exc_scope AS
    WITH i AS NOT MATERIALIZED (SELECT asset_id, vuln_id FROM findings WHERE first_detected_at < {as_of})
    SELECT DISTINCT exception_id, asset_id, vuln_id FROM (
        SELECT e.id AS exception_id, f.asset_id, f.vuln_id
        FROM (SELECT id, unnest(finding_ids) AS finding_id FROM a_exc) e JOIN findings f ON f.id = e.finding_id
        WHERE f.first_detected_at < {as_of}
        UNION ALL
        SELECT e.id, i.asset_id, i.vuln_id
        FROM (SELECT id, asset_ids, asset_tags, unnest(vuln_ids) AS vuln_id FROM a_exc) e
        JOIN i ON i.vuln_id = e.vuln_id LEFT JOIN a_assets a ON a.id = i.asset_id
        WHERE (len(e.asset_ids) = 0 AND len(e.asset_tags) = 0) OR list_contains(e.asset_ids, i.asset_id)
            OR list_has_any(e.asset_tags, a.tags)
        UNION ALL
        SELECT e.id, i.asset_id, i.vuln_id
        FROM (SELECT id, unnest(asset_ids) AS asset_id FROM a_exc WHERE {asset_only}) e
        JOIN i ON i.asset_id = e.asset_id
        UNION ALL
        SELECT e.id, i.asset_id, i.vuln_id
        FROM (SELECT id, unnest(asset_tags) AS tag FROM a_exc WHERE {asset_only}) e
        JOIN (SELECT id, unnest(tags) AS tag FROM assets) a ON a.tag = e.tag
        JOIN i ON i.asset_id = a.id
    )"""


# Which assets and agents use each identity (used_by), and which identities each AI agent holds
# (its identity_ids, or an identity whose used_by names it): one row per pair, for equi-joins.
_IDENTITY_USERS = """
    CREATE OR REPLACE TABLE a_identity_users AS
    SELECT DISTINCT id AS identity_id, unnest(used_by) AS user_id FROM identities"""
_AGENT_IDENTITIES = """
    CREATE OR REPLACE TABLE a_agent_identities AS
    SELECT DISTINCT agent_id, identity_id FROM (
        SELECT id AS agent_id, unnest(identity_ids) AS identity_id FROM agents
        UNION ALL
        SELECT g.id, u.identity_id FROM agents g JOIN a_identity_users u ON u.user_id = g.id
    )"""


def _package_links(con: duckdb.DuckDBPyConnection, as_of: datetime) -> None:
    """Inferred links by package version: candidate pairs are selected in SQL; univers decides, for
    each distinct (ecosystem, deployed version, fixed version), whether the version fixes it
    (docs/verification.md); the accepted triples join back in SQL."""
    con.execute(
        f"""CREATE OR REPLACE TABLE _pkg AS
        SELECT d.id AS deployment_id, f.asset_id, f.vuln_id, f.id AS finding_id,
            lower(regexp_extract(f.purl, '^pkg:([A-Za-z][A-Za-z0-9.+-]*)/', 1)) AS eco,
            {_PACKAGE_VERSION} AS version, f.fixed_version AS fixed
        FROM deployments d JOIN findings f ON f.asset_id = d.asset_id AND lower(f.package) = {_PACKAGE_NAME}
        WHERE len(d.finding_ids) = 0 AND len(d.vuln_ids) = 0 AND d.patch_id IS NOT NULL AND {_PACKAGE}
        AND COALESCE(d.completed_at, d.started_at) < $as_of
        AND f.first_detected_at <= COALESCE(d.completed_at, d.started_at)
        AND f.fixed_version IS NOT NULL AND f.purl IS NOT NULL""",
        {"as_of": as_of},
    )
    triples = con.execute("SELECT DISTINCT eco, version, fixed FROM _pkg ORDER BY ALL").fetchall()
    accepted = [t for t in triples if versions.fixes_in(*t)]
    if accepted:
        eco, version, fixed = (list(c) for c in zip(*accepted, strict=True))
        con.execute(
            "INSERT INTO a_dep_link SELECT p.deployment_id, p.asset_id, p.vuln_id, p.finding_id, 'package-version' "
            "FROM _pkg p JOIN (SELECT unnest($e) AS eco, unnest($v) AS version, unnest($f) AS fixed) ok "
            "USING (eco, version, fixed)",
            {"e": eco, "v": version, "f": fixed},
        )
    con.execute("DROP TABLE _pkg")


def _series(as_of: str) -> str:
    """Scan series: one row per finding that scans reported (sightings before as_of), with the tool
    that saw it, its scope keys and its first and last sighting."""
    return f"""
    CREATE OR REPLACE TABLE a_series AS
    SELECT g.finding_id, f.asset_id, f.vuln_id, f.scope_keys, g.tool, g.first_seen, g.last_seen, g.sightings
    FROM (
        SELECT x.finding_id, lower(min(s.tool)) AS tool, min(x.seen_at) AS first_seen, max(x.seen_at) AS last_seen,
               count(*) AS sightings
        FROM finding_sightings x JOIN scans s ON s.id = x.scan_id
        WHERE x.seen_at < {as_of} GROUP BY x.finding_id
    ) g JOIN findings f ON f.id = g.finding_id"""


# A deployment's patch_id, read by the documented grammar (docs/verification.md): a KB number, a
# package version `name=version` (an `:arch` suffix on the name is dropped), or an image digest/tag.
_KB = "regexp_full_match(upper(d.patch_id), 'KB[0-9]{4,}')"
_PACKAGE = "(strpos(d.patch_id, '=') > 1 AND NOT " + _KB + ")"
_PACKAGE_NAME = "lower(regexp_replace(split_part(d.patch_id, '=', 1), ':[A-Za-z0-9_]+$', ''))"
_PACKAGE_VERSION = "trim(substr(d.patch_id, strpos(d.patch_id, '=') + 1))"
_IMAGE = (
    "(regexp_matches(d.patch_id, '(^|@)sha256:[0-9a-f]{64}$') OR (a.type IN ('container_image', "
    "'container_runtime', 'serverless') AND strpos(d.patch_id, '=') = 0 AND NOT " + _KB + "))"
)


def _inferred_links(as_of: str) -> str:
    """Deployments that name no finding and no vulnerability, linked through their patch_id to the
    findings on their asset, detected by the time of the deployment, that the patch fixes: a KB the
    scanner lists in fix_refs; a package version at or above the finding's fixed version (univers,
    per ecosystem: `_package_links`); an image replacement (every fixable finding of the image)."""
    return f"""
    CREATE OR REPLACE TABLE a_dep_link AS
    WITH d AS (
        SELECT d.*, COALESCE(d.completed_at, d.started_at) AS at, a.type AS asset_type FROM deployments d
        JOIN assets a ON a.id = d.asset_id
        WHERE len(d.finding_ids) = 0 AND len(d.vuln_ids) = 0 AND d.patch_id IS NOT NULL
        AND COALESCE(d.completed_at, d.started_at) < {as_of}
    ),
    f AS (SELECT id, asset_id, vuln_id, package, fixed_version, purl, fix_refs, first_detected_at FROM findings)
    SELECT d.id AS deployment_id, f.asset_id, f.vuln_id, f.id AS finding_id, 'kb-reference' AS rule
    FROM d JOIN f ON f.asset_id = d.asset_id AND list_contains(f.fix_refs, upper(d.patch_id))
    WHERE {_KB} AND f.first_detected_at <= d.at

    UNION ALL
    SELECT d.id, f.asset_id, f.vuln_id, f.id, 'image-replacement'
    FROM d JOIN f ON f.asset_id = d.asset_id
    WHERE {_IMAGE.replace("a.type", "d.asset_type")} AND NOT {_PACKAGE} AND f.first_detected_at <= d.at
    AND f.fixed_version IS NOT NULL"""


def _deployments(as_of: str) -> str:
    """Deployments linked to the instances they target: named findings, named vulnerabilities,
    and the inferred links (`link_rule` says which). A deployment record may reach one instance
    several ways (a finding and its vulnerability both named): the links are made distinct as
    (record, vulnerability, rule), the record by its row in `deployments`, and the record's columns
    joined on afterwards, which gives the rows a DISTINCT over every column gave, with three columns
    to compare instead of twelve (D108)."""
    when = f"COALESCE(completed_at, started_at) < {as_of}"
    return f"""
    CREATE OR REPLACE TABLE a_dep AS
    WITH links AS (
        SELECT DISTINCT * FROM (
            SELECT d.rid, f.vuln_id AS i_vuln, 'named' AS link_rule
            FROM (SELECT rowid AS rid, unnest(finding_ids) AS fid FROM deployments WHERE {when}) d
                JOIN findings f ON f.id = d.fid
            UNION ALL
            SELECT rowid, unnest(vuln_ids), 'named' FROM deployments WHERE {when}
            UNION ALL
            SELECT d.rowid, l.vuln_id, l.rule
            FROM deployments d JOIN (SELECT DISTINCT deployment_id, vuln_id, rule FROM a_dep_link) l
                ON l.deployment_id = d.id
        )
    )
    SELECT d.id, d.asset_id, k.i_vuln, d.status, d.completed_at, d.started_at, d.change_ref, d.patch_id,
        d._source, d._rec, d._line, k.link_rule
    FROM links k JOIN deployments d ON d.rowid = k.rid"""


def _scan_verifications(as_of: str) -> str:
    """Verifications derived from rescans (docs/verification.md), each citing the scan it rests on:

    - `rescan-absent` (not_vulnerable): the first scan after a finding's last sighting that covers it
      no longer reports it — with or without a deployment;
    - `rescan-after-deployment` (vulnerable / not_vulnerable): for every successful deployment
      targeting an instance, the first later scan covering each of its series reports it or not;
    - `rescan-not-covering` (inconclusive): a successful deployment followed by scans of the asset,
      none of which covers the finding (unauthenticated, another tool, the component not examined).
    """
    method = (
        "CASE WHEN a.type = 'container_image' THEN 'image_rescan' WHEN s.authenticated THEN 'authenticated_rescan' "
        "ELSE 'unauthenticated_rescan' END"
    )
    return f"""
    CREATE OR REPLACE TABLE a_scan_ver AS
    WITH
    -- the completed scans in time order (then by id): "the first scan" is the smallest sord, so the
    -- aggregates below keep one integer per group, not the scan itself
    so AS (
        SELECT id AS scan_id, row_number() OVER (ORDER BY completed_at, id) AS sord FROM scans
        WHERE status = 'completed' AND completed_at < {as_of}
    ),
    -- every scan of a series' asset from its first sighting on, once: does it cover the series, and
    -- does it report it (a sighting of the series in that scan)?
    sx AS (
        SELECT x.finding_id, x.asset_id, x.vuln_id, x.last_seen, so.sord, s.completed_at AS scan_at,
            {covers("s", "x")} AS covering, w.finding_id IS NOT NULL AS present
        FROM a_series x JOIN scans s ON s.asset_id = x.asset_id
            AND s.completed_at >= x.first_seen AND s.completed_at < {as_of} AND s.status = 'completed'
        JOIN so ON so.scan_id = s.id
        LEFT JOIN finding_sightings w ON w.finding_id = x.finding_id AND w.scan_id = s.id
    ),
    gone AS (
        SELECT finding_id, any_value(asset_id) AS asset_id, any_value(vuln_id) AS vuln_id, min(sord) AS sord
        FROM sx WHERE covering AND scan_at > last_seen GROUP BY finding_id
    ),
    dt AS (
        SELECT DISTINCT id AS deployment_id, asset_id, i_vuln, completed_at FROM a_dep
        WHERE status = 'succeeded' AND completed_at IS NOT NULL AND completed_at < {as_of}
    ),
    answers AS (
        SELECT dt.deployment_id, sx.finding_id, dt.asset_id, dt.i_vuln AS vuln_id,
            -- the first covering scan and whether it reports the finding (present depends only on the
            -- finding and the scan), as one integer: 2 × sord + (0 when present, 1 when not)
            min(2 * sx.sord + CASE WHEN sx.present THEN 0 ELSE 1 END) FILTER (WHERE sx.covering) AS covered,
            min(sx.sord) AS any_sord
        FROM dt JOIN sx ON sx.asset_id = dt.asset_id AND sx.vuln_id = dt.i_vuln AND sx.scan_at > dt.completed_at
        GROUP BY ALL
    ),
    rows AS (
        SELECT r.* EXCLUDE (sord), so.scan_id FROM (
            SELECT 'rescan-absent' AS rule, finding_id, asset_id, vuln_id, sord, NULL::VARCHAR AS deployment_id,
                   FALSE AS present
            FROM gone
            UNION ALL
            SELECT 'rescan-after-deployment', finding_id, asset_id, vuln_id, covered // 2, deployment_id,
                covered % 2 = 0
            FROM answers WHERE covered IS NOT NULL
            UNION ALL
            SELECT 'rescan-not-covering', finding_id, asset_id, vuln_id, any_sord, deployment_id, NULL
            FROM answers WHERE covered IS NULL
        ) r JOIN so ON so.sord = r.sord
    )
    SELECT r.rule || ':' || r.scan_id || ':' || COALESCE(r.deployment_id, r.finding_id) AS id,
        r.asset_id, r.finding_id, r.vuln_id, r.deployment_id, {method} AS method,
        CASE WHEN r.present IS NULL THEN 'inconclusive' WHEN r.present THEN 'vulnerable' ELSE 'not_vulnerable' END
            AS result,
        s.completed_at AS observed_at, r.scan_id AS evidence_ref,
        -- the record the result rests on: the sighting in that scan when it reports the finding, else the scan
        COALESCE(w._source, s._source) AS _source, COALESCE(w._rec, s._rec) AS _rec,
        COALESCE(w._line, s._line) AS _line,
        r.vuln_id AS i_vuln, TRUE AS derived, r.rule, r.scan_id
    FROM rows r JOIN scans s ON s.id = r.scan_id LEFT JOIN assets a ON a.id = r.asset_id
    LEFT JOIN finding_sightings w ON r.present AND w.finding_id = r.finding_id AND w.scan_id = r.scan_id"""


def _verifications(as_of: str) -> str:
    """Every verification before as_of: the records of the bundle and those derived from rescans."""
    rows = f"""
        SELECT v.*, COALESCE(f.vuln_id, v.vuln_id) AS i_vuln, FALSE AS derived, NULL::VARCHAR AS rule,
            NULL::VARCHAR AS scan_id
        FROM verifications v LEFT JOIN findings f ON f.id = v.finding_id
        WHERE v.observed_at < {as_of} AND COALESCE(f.vuln_id, v.vuln_id) IS NOT NULL
        UNION ALL BY NAME
        SELECT * FROM a_scan_ver"""
    return f"CREATE OR REPLACE TABLE a_ver AS {in_evidence_order(rows)}"


def in_evidence_order(rows: str) -> str:
    """The verification rows of the query `rows`, each with `vrow`, its position in evidence order
    (_EVIDENCE_ORDER_BY): "the first verification" of a group is its smallest vrow, an aggregate of
    one integer (min), and the row is joined back afterwards. One ordered window over every row
    numbers them on one thread; here the rows are numbered within each hour of observation (`_b`, a
    partition each, numbered side by side), after the rows of every earlier hour (`_off`). The hour
    follows the order's first key, observed_at (a row without one comes last in both): the same
    numbers as row_number() OVER (ORDER BY _EVIDENCE_ORDER_BY) (D107)."""
    order = _EVIDENCE_ORDER_BY.format("x")
    return f"""
    WITH x AS NOT MATERIALIZED (SELECT *, epoch(observed_at) // 3600 AS _b FROM ({rows})),
    hours AS (
        SELECT _b, (sum(n) OVER (ORDER BY _b) - n)::BIGINT AS _off FROM (SELECT _b, count(*) AS n FROM x GROUP BY _b)
    )
    SELECT x.* EXCLUDE (_b), hours._off + row_number() OVER (PARTITION BY x._b ORDER BY {order}) AS vrow
    FROM x JOIN hours ON hours._b IS NOT DISTINCT FROM x._b"""


def _rollbacks(as_of: str) -> str:
    """Instances each rollback affects: the targets of its deployments, its findings, and, when it
    names neither, the targets of deployments on its assets completed by the rollback."""
    return f"""
    CREATE OR REPLACE TABLE a_rollback AS
    WITH r AS (SELECT * FROM rollout_events WHERE type = 'rollback' AND occurred_at < {as_of})
    SELECT DISTINCT id, occurred_at, asset_id, i_vuln FROM (
        SELECT r.id, r.occurred_at, d.asset_id, d.i_vuln
        FROM (SELECT id, occurred_at, unnest(deployment_ids) AS deployment_id FROM r) r
        JOIN a_dep d ON d.id = r.deployment_id
        UNION ALL
        SELECT r.id, r.occurred_at, f.asset_id, f.vuln_id
        FROM (SELECT id, occurred_at, unnest(finding_ids) AS finding_id FROM r) r JOIN findings f ON f.id = r.finding_id
        UNION ALL
        SELECT r.id, r.occurred_at, d.asset_id, d.i_vuln
        FROM (SELECT id, occurred_at, unnest(asset_ids) AS asset_id FROM r
              WHERE len(deployment_ids) = 0 AND len(finding_ids) = 0) r
        JOIN a_dep d ON d.asset_id = r.asset_id AND d.completed_at <= r.occurred_at
    )"""


# The verification a ledger state rests on, as cited in ledger.csv and the report (a_ver row {0});
# NULL when there is none.
_EVIDENCE = (
    "CASE WHEN {0}.vrow IS NOT NULL THEN struct_pack(id := {0}.id, result := {0}.result, at := {0}.observed_at, "
    "derived := {0}.derived, rule := {0}.rule, scan_id := {0}.scan_id, src := {0}._source, rec := {0}._rec, "
    "line := {0}._line) END"
)
# Order among results at one instant: vulnerable first; then verification records, the rescan that
# answers a deployment, other rescans; then the id; then the record cited and the finding (D93: one
# rescan answering a deployment for two findings of an instance gives two rows with one id, which
# may cite two sightings). a_ver numbers its rows in this order (vrow), so the first verification
# of a group is min(vrow): fixed-size aggregate state, which DuckDB can spill.
_EVIDENCE_ORDER_BY = (
    "{0}.observed_at, CASE {0}.result WHEN 'vulnerable' THEN 0 ELSE 1 END, "
    "CASE WHEN NOT {0}.derived THEN 0 WHEN {0}.rule = 'rescan-after-deployment' THEN 1 ELSE 2 END, {0}.id, "
    "{0}._source, {0}._rec, {0}.finding_id"
)


def _deployment_checks(as_of: str, urgent: str, default: str, skew: str) -> tuple[str, ...]:
    """Per successful deployment and target: its verification window and the first conclusive
    verification after it (clock skew tolerated for verification records; derived rescans are always
    after the deployment). VER-01, VER-02, E3 and E4 read this instead of each matching deployments
    to verifications again. "Verified in the window" is "the first conclusive verification after the
    deployment falls in the window", by the target (asset, vulnerability) or by deployment_id. At one
    instant a vulnerable result comes before a clean one: when evidence disagrees, it is not fixed.

    Three statements, not one: the targets and their first verifications are tables of their own, so
    the joins back to a_ver never wait beside the aggregate (one statement ran out of memory at ten
    million findings; docs/performance.md)."""
    first = (
        "CASE WHEN {0}.vrow IS NOT NULL THEN struct_pack(result := {0}.result, vid := {0}.id, at := {0}.observed_at, "
        "derived := {0}.derived, rule := {0}.rule, scan_id := {0}.scan_id, src := {0}._source, rec := {0}._rec, "
        "line := {0}._line) END"
    )
    targets = f"""
    CREATE OR REPLACE TABLE _dc_t AS
        SELECT d.id, d.asset_id, d.completed_at, d.i_vuln AS vuln_id, d.link_rule, COALESCE(i.urgent, FALSE) AS urgent,
            d.completed_at + to_days(CASE WHEN i.urgent THEN {urgent} ELSE {default} END) AS window_end
        FROM a_dep d LEFT JOIN a_instances i ON i.asset_id = d.asset_id AND i.vuln_id = d.i_vuln
        WHERE d.status = 'succeeded' AND d.completed_at IS NOT NULL AND d.completed_at < {as_of}"""
    by_target = f"""
    CREATE OR REPLACE TABLE _dc_b AS
        SELECT t.id, t.vuln_id,
            min(v.vrow) FILTER (WHERE v.result <> 'inconclusive') AS first_row,
            min(v.vrow) FILTER (WHERE v.result = 'inconclusive') AS inconclusive_row
        FROM _dc_t t JOIN a_ver v ON v.asset_id = t.asset_id AND v.i_vuln = t.vuln_id
        WHERE v.observed_at >= t.completed_at - to_minutes({skew})
        GROUP BY t.id, t.vuln_id"""
    checks = f"""
    CREATE OR REPLACE TABLE a_dep_check AS
    WITH by_deployment AS (
        SELECT d.id, min(v.observed_at) AS first_at
        FROM deployments d JOIN a_ver v ON v.deployment_id = d.id
        WHERE v.observed_at >= d.completed_at - to_minutes({skew}) AND v.result <> 'inconclusive'
        GROUP BY d.id
    )
    SELECT t.*, {first.format("f")} AS first, f.observed_at AS first_at, {first.format("n")} AS inconclusive,
        COALESCE(f.observed_at <= t.window_end, FALSE) OR COALESCE(x.first_at <= t.window_end, FALSE) AS verified
    FROM _dc_t t LEFT JOIN _dc_b b ON b.id = t.id AND b.vuln_id = t.vuln_id
    LEFT JOIN a_ver f ON f.vrow = b.first_row
    LEFT JOIN a_ver n ON n.vrow = b.inconclusive_row
    LEFT JOIN by_deployment x ON x.id = t.id"""
    return targets, by_target, checks, "DROP TABLE _dc_t", "DROP TABLE _dc_b"


# Columns the ledger's own statement works with but no reader of a_ledger (checks, metrics, exports,
# the report, docs/evidence-store.md) does: the table leaves them out, which makes it a fifth narrower
# and cheaper to write (D90). Their facts stay in the ledger's documented columns (severity, kev,
# state, sla_status, exposure_seconds...) and in the evidence tables.
_WORKING_COLUMNS = ", ".join(
    (
        "has_change_ref",
        "has_change",
        "first_clean_at",
        "clean_after_rollback_at",
        "first_result_after_success",
        "verified_ever",
        "scanned_after",
        "in_series",
        "excepted_at_due_by",
    )
)


def _ledger(as_of: str, period_start: str, skew: str, policy: Policy, p: Params) -> tuple[str, ...]:
    """The ledger in five statements: deployments and rollbacks per instance, verification times per
    instance with the evidence they rest on, the deadlines of the instances exceptions cover, then
    the ledger itself, which computes every instance's columns as it goes (`_instances`): they are
    written once, into the ledger (D102). One statement held every hash table at once (two of them
    over every verification, to join the chosen rows back): at ten million findings it took 103 s
    within a 2 GB limit. `a_instances` is then a view over the ledger."""
    fix = "a.result = 'not_vulnerable' AND (v1.last_vulnerable_at IS NULL OR a.observed_at > v1.last_vulnerable_at)"
    has_scans = "EXISTS (SELECT 1 FROM scans)"
    deployed = """
    CREATE OR REPLACE TABLE _l_d AS
        SELECT asset_id, i_vuln AS vuln_id, count(DISTINCT id) AS deployments,
            max(completed_at) FILTER (WHERE status = 'succeeded') AS last_success_at,
            bool_or(change_ref IS NOT NULL) AS has_change_ref,
            list(DISTINCT link_rule ORDER BY link_rule) AS link_rules
        FROM a_dep GROUP BY asset_id, i_vuln"""
    rolled_back = """
    CREATE OR REPLACE TABLE _l_rb AS
        SELECT asset_id, i_vuln AS vuln_id, max(occurred_at) AS rollback_at FROM a_rollback GROUP BY ALL"""
    verified = f"""
    CREATE OR REPLACE TABLE _l_v AS
    WITH
    -- verification times per instance, as filtered aggregates (no per-instance lists): phase 1 finds
    -- the last vulnerable result, phase 2 the first clean result after it, after the rollback, and the
    -- first result at or after the last successful deployment (clock skew tolerated)
    -- a scan that reports the finding is vulnerable evidence at that time: the last sighting of
    -- every series counts with the vulnerable verifications
    v1 AS (
        SELECT asset_id, vuln_id, max(seen) AS last_vulnerable_at FROM (
            SELECT asset_id, i_vuln AS vuln_id, observed_at AS seen FROM a_ver WHERE result = 'vulnerable'
            UNION ALL SELECT asset_id, vuln_id, last_seen FROM a_series
        ) GROUP BY ALL
    ),
    v AS (
        SELECT a.asset_id, a.i_vuln AS vuln_id,
            min(a.observed_at) FILTER (WHERE {fix}) AS fix_at,
            min(a.vrow) FILTER (WHERE {fix}) AS fix_row,
            min(a.observed_at) FILTER (WHERE a.result = 'not_vulnerable') AS first_clean_at,
            min(a.observed_at) FILTER (WHERE a.result = 'not_vulnerable' AND a.observed_at > rb.rollback_at)
                AS clean_after_rollback_at,
            min(a.vrow) FILTER (WHERE a.result <> 'inconclusive'
                AND a.observed_at >= d.last_success_at - to_minutes({skew})) AS after_row
        FROM a_ver a LEFT JOIN v1 ON v1.asset_id = a.asset_id AND v1.vuln_id = a.i_vuln
        LEFT JOIN _l_d d ON d.asset_id = a.asset_id AND d.vuln_id = a.i_vuln
        LEFT JOIN _l_rb rb ON rb.asset_id = a.asset_id AND rb.vuln_id = a.i_vuln
        GROUP BY a.asset_id, a.i_vuln
    )
    SELECT v.*, {_EVIDENCE.format("fe")} AS fix_evidence, {_EVIDENCE.format("ae")} AS after_success,
        ae.result AS first_result_after_success
    FROM v LEFT JOIN a_ver fe ON fe.vrow = v.fix_row LEFT JOIN a_ver ae ON ae.vrow = v.after_row"""
    # "met by exception" asks for an exception in force at the instance's deadline: the deadlines of
    # the few instances some exception covers, computed alone
    covered = "SELECT DISTINCT asset_id, vuln_id FROM a_exc_scope"
    due = f"""
    CREATE OR REPLACE TABLE _l_due AS
        SELECT asset_id, vuln_id, due_at FROM ({_instances(as_of, policy, p, among=covered)})"""
    ledger = f"""
    CREATE OR REPLACE TABLE a_ledger AS
    WITH
    -- emergency changes with a change record that name the finding also count as a change record
    chg AS (
        SELECT DISTINCT f.asset_id, f.vuln_id
            FROM (SELECT unnest(finding_ids) AS fid FROM rollout_events
                  WHERE change_ref IS NOT NULL AND type IN ('emergency_mitigation', 'emergency_bypass')
                  AND occurred_at < {as_of}) r JOIN findings f ON f.id = r.fid
    ),
    -- latest completed scan per asset: "a scan after the deployment" is "the latest scan is after it"
    sc AS (
        SELECT asset_id, max(completed_at) AS last_scan_at FROM scans
        WHERE status = 'completed' AND completed_at < {as_of} GROUP BY asset_id
    ),
    sr AS (SELECT DISTINCT asset_id, vuln_id FROM a_series),
    -- exceptions accepting an instance as a whole (no control restriction), in force at as_of
    exc_now AS (
        SELECT s.asset_id, s.vuln_id, min(e.id) AS exception_id FROM a_exc_scope s JOIN a_exc e ON e.id = s.exception_id
        WHERE e.sound AND len(e.control_ids) = 0 AND e.approved_at <= {as_of} AND {as_of} < e.expires_at
        GROUP BY ALL
    ),
    exc_due AS (
        SELECT s.asset_id, s.vuln_id, min(e.id) AS exception_id
        FROM a_exc_scope s JOIN a_exc e ON e.id = s.exception_id
        JOIN _l_due due ON due.asset_id = s.asset_id AND due.vuln_id = s.vuln_id
        WHERE e.sound AND len(e.control_ids) = 0 AND e.approved_at <= due.due_at AND due.due_at < e.expires_at
        GROUP BY ALL
    ),
    base AS (
        -- every instance column, the deadline and its rule after the deployment facts
        SELECT i.* EXCLUDE (due_at, sla_rule), d.deployments, d.last_success_at,
            d.has_change_ref, d.link_rules, rb.rollback_at,
            COALESCE(d.deployments, 0) > 0 OR chg.asset_id IS NOT NULL AS has_change,
            i.due_at, i.sla_rule,
            -- fix_at: the first clean verification after the last vulnerable one (when the fix took effect)
            v.fix_at, v.fix_evidence, v.first_clean_at, v.clean_after_rollback_at,
            v.after_success, v.first_result_after_success,
            v.vuln_id IS NOT NULL AS verified_ever,
            COALESCE(sc.last_scan_at >= COALESCE(d.last_success_at, sc.last_scan_at), FALSE) AS scanned_after,
            sr.vuln_id IS NOT NULL AS in_series,
            exc_now.exception_id AS excepted_by,
            exc_due.exception_id AS excepted_at_due_by
        FROM ({_instances(as_of, policy, p)}) i
        LEFT JOIN _l_v v ON v.asset_id = i.asset_id AND v.vuln_id = i.vuln_id
        LEFT JOIN _l_d d ON d.asset_id = i.asset_id AND d.vuln_id = i.vuln_id
        LEFT JOIN _l_rb rb ON rb.asset_id = i.asset_id AND rb.vuln_id = i.vuln_id
        LEFT JOIN chg ON chg.asset_id = i.asset_id AND chg.vuln_id = i.vuln_id
        LEFT JOIN sc ON sc.asset_id = i.asset_id
        LEFT JOIN sr ON sr.asset_id = i.asset_id AND sr.vuln_id = i.vuln_id
        LEFT JOIN exc_now ON exc_now.asset_id = i.asset_id AND exc_now.vuln_id = i.vuln_id
        LEFT JOIN exc_due ON exc_due.asset_id = i.asset_id AND exc_due.vuln_id = i.vuln_id
    ),
    fixed AS (
        SELECT *,
            -- a rollback after a verified fix re-opens it until a clean verification after the rollback
            -- (and a later vulnerable rescan keeps it open: fix_at is then NULL)
            CASE WHEN fix_at IS NULL THEN NULL
                 WHEN rollback_at IS NOT NULL AND fix_at < rollback_at THEN clean_after_rollback_at
                 ELSE fix_at END AS fixed_at,
            rollback_at IS NOT NULL AND first_clean_at < rollback_at AS undone
        FROM base
    ),
    fixed2 AS (SELECT *, undone AND fixed_at IS NULL AS reopened FROM fixed),
    state AS (
        SELECT *,
            CASE
                WHEN not_affected THEN 'not_affected'
                WHEN fixed_at IS NOT NULL AND has_change THEN 'verified_fixed'
                WHEN fixed_at IS NOT NULL THEN 'fixed_without_change_record'
                WHEN reopened THEN 'reopened'
                WHEN retirement_recorded THEN 'retired'
                WHEN excepted_by IS NOT NULL THEN 'excepted'
                WHEN last_success_at IS NOT NULL AND first_result_after_success = 'vulnerable'
                    THEN 'deployed_still_vulnerable'
                -- deployed, no conclusive result since: outside scan coverage when the bundle has scans
                -- but none after the deployment (or, for scan series, none covering the finding)
                WHEN last_success_at IS NOT NULL AND first_result_after_success IS NULL AND {has_scans}
                    AND (NOT scanned_after OR in_series) THEN 'not_in_scan_scope'
                WHEN last_success_at IS NOT NULL AND first_result_after_success IS NULL THEN 'deployed_unverified'
                ELSE 'open'
            END AS state
        FROM fixed2
    )
    SELECT * EXCLUDE ({_WORKING_COLUMNS}), exposure_seconds / 86400.0 AS exposure_days FROM (
    SELECT *,
        state IN ('verified_fixed', 'fixed_without_change_record') AS is_fixed,
        state NOT IN ('verified_fixed', 'fixed_without_change_record', 'retired', 'not_affected') AS is_open,
        CASE
            WHEN not_affected OR due_at IS NULL THEN 'no_deadline'
            WHEN fixed_at IS NOT NULL AND fixed_at <= due_at THEN 'met'
            WHEN state = 'retired' AND retired_effective_at <= due_at THEN 'met'
            WHEN excepted_at_due_by IS NOT NULL THEN 'met_by_exception'
            WHEN due_at <= {as_of} THEN 'missed'
            ELSE 'pending'
        END AS sla_status,
        -- seconds open within the period: [detection, first fix) and, after a rollback, [rollback, re-fix).
        -- Integers, so that sums are exact in any aggregation order (byte-identical results).
        greatest(0, datediff('second', greatest(first_detected_at, {period_start}),
            least(CASE WHEN undone THEN first_clean_at
                       ELSE COALESCE(fixed_at, CASE WHEN state = 'retired' THEN retired_effective_at END, {as_of}) END,
                  {as_of})))
        + CASE WHEN undone THEN greatest(0, datediff('second', greatest(rollback_at, {period_start}),
                    least(COALESCE(fixed_at, {as_of}), {as_of}))) ELSE 0 END AS exposure_seconds
    FROM state)"""
    drops = tuple(f"DROP TABLE {name}" for name in ("_l_v", "_l_rb", "_l_d", "_l_due"))
    view = "CREATE OR REPLACE VIEW a_instances AS SELECT * FROM a_ledger"
    return deployed, rolled_back, verified, due, ledger, *drops, view
