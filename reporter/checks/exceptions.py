"""EXC: exceptions are evaluated as controls, never trusted as metadata — owned, approved,
time-boxed, specific, compensated, and never left to lapse over open exposure (metrics.md §3.4).

Exceptions cannot cover the gaps of these controls (ExceptionScope.NONE)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckOutcome, ExceptionScope, evaluate, record_gap, record_unit
from reporter.checks.registry import register
from reporter.store.sql import Params

_DAY = "strftime({0}, '%Y-%m-%d')"


def recorded(as_of: str) -> str:
    """Exceptions (alias e) recorded before as_of: approved, or requested, before it (undated ones count)."""
    return f"(COALESCE(e.approved_at, e.requested_at) IS NULL OR COALESCE(e.approved_at, e.requested_at) < {as_of})"


def in_force(as_of: str) -> str:
    """Exceptions (alias e) active at as_of: recorded before it and not expired (no expiry = still active)."""
    return f"({recorded(as_of)} AND (e.expires_at IS NULL OR e.expires_at > {as_of}))"


def control_evidence(as_of: str) -> str:
    """Per exception: how many compensating controls it names (inline or by id) and when one of them
    was last verified before as_of. Columns: id, controls, verified_at."""
    by_id = f"""
        SELECT n.id, max(cc.verified_at) AS verified_at
        FROM (SELECT DISTINCT id, unnest(compensating_control_ids) AS control_id FROM exceptions) n
        JOIN compensating_controls cc ON cc.id = n.control_id WHERE cc.verified_at < {as_of} GROUP BY n.id"""
    return f"""
        SELECT e.id,
            COALESCE(json_array_length(e.compensating_controls), 0) + len(e.compensating_control_ids) AS controls,
            greatest(
                (SELECT max(t) FROM (SELECT TRY_CAST(unnest(json_extract_string(e.compensating_controls,
                    '$[*].verified_at')) AS TIMESTAMPTZ) AS t) WHERE t < {as_of}),
                r.verified_at
            ) AS verified_at
        FROM exceptions e LEFT JOIN ({by_id}) r ON r.id = e.id"""


def _label() -> str:
    return "'exception ' || e.id || COALESCE(' (' || e.title || ')', '')"


def active_with_missing(as_of: str) -> str:
    """Active exceptions (recorded before as_of, not expired) with `missing`: the list of what EXC-01
    and X1 require and they lack."""
    missing = (
        "list_filter(["
        "CASE WHEN NULLIF(trim(e.owner), '') IS NULL THEN 'no owner' END, "
        "CASE WHEN NULLIF(trim(e.approver), '') IS NULL THEN 'no approver' END, "
        "CASE WHEN e.approved_at IS NULL THEN 'no approval date' END, "
        "CASE WHEN e.expires_at IS NULL THEN 'no expiry date' END, "
        "CASE WHEN NULLIF(trim(e.justification), '') IS NULL THEN 'no justification' END, "
        "CASE WHEN e.risk_response = 'mitigate' AND c.controls = 0 THEN 'risk response mitigate but no compensating "
        "control' END], lambda x: x IS NOT NULL)"
    )
    return (
        f"SELECT e.*, {missing} AS missing FROM exceptions e JOIN ({control_evidence(as_of)}) c ON c.id = e.id "
        f"WHERE {in_force(as_of)}"
    )


@register("exceptions.completeness")
def completeness(ctx: CheckContext) -> CheckOutcome:
    """X1: an active exception is a risk decision someone can be held to — it names an accountable
    owner, an approver, the approval and expiry dates and a justification (SP 800-40r4 risk
    responses; FedRAMP deviation requests), and one whose response is `mitigate` names at least one
    compensating control (PCI DSS compensating-controls worksheet). Active: recorded before as_of and
    not expired. Evidence: exceptions. Example gap: "exception EXC-2026-012 (…) has no owner"."""
    params = Params()
    active = active_with_missing(params.add(ctx.as_of))
    message = f"{_label()} || ' has ' || array_to_string(e.missing, ', ')"
    gaps = f"SELECT {record_gap('e', 'exceptions', message)} FROM ({active}) e WHERE len(e.missing) > 0"
    return evaluate(
        ctx,
        needs=("exceptions",),
        population_sql=f"SELECT {record_unit('e', 'exceptions')} FROM ({active}) e",
        gaps_sql=gaps,
        noun="active exceptions",
        params=params,
        exceptions=ExceptionScope.NONE,
    )


def expired_open(as_of: str) -> str:
    """Per exception expired before as_of: the open finding-instances its scope still matches and no
    other valid exception covers now (an explicit renewal is not a lapse). Columns: exception_id,
    expires_at, asset_id, vuln_id, finding_id, state."""
    return f"""
        SELECT sc.exception_id, e.expires_at, l.asset_id, l.vuln_id, l.finding_id, l.state
        FROM exceptions e JOIN a_exc_scope sc ON sc.exception_id = e.id
        JOIN a_ledger l ON l.asset_id = sc.asset_id AND l.vuln_id = sc.vuln_id
        WHERE e.expires_at < {as_of} AND {recorded(as_of)} AND l.is_open AND l.excepted_by IS NULL"""


@register("exceptions.expired")
def expired(ctx: CheckContext) -> CheckOutcome:
    """X2: on expiry the finding reverts to overdue immediately and no renewal is silent (metrics.md
    §6.6). An exception that expired before as_of while its scope still matches an open
    finding-instance (not verified fixed, retired or not affected, and not covered by another valid
    exception, such as a recorded renewal) leaves exposure open. Evidence: exceptions, findings (with
    verifications deciding "open"). Example gap: "exception EXC-2026-015 expired 2026-07-11, 82 days
    before as_of; still open: CVE-2024-33599 on a-srv-087 (open)"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    lapsed = f"SELECT * FROM exceptions e WHERE e.expires_at < {as_of} AND {recorded(as_of)}"
    per_exception = f"""
        SELECT exception_id, count(*) AS instances, min(asset_id) AS asset_id,
            string_agg(vuln_id || ' on ' || asset_id || ' (' || state || ')', ', ' ORDER BY asset_id, vuln_id) AS open
        FROM ({expired_open(as_of)}) GROUP BY exception_id"""
    message = (
        f"{_label()} || ' expired ' || {_DAY.format('e.expires_at')} || ', ' "
        f"|| floor(epoch({as_of} - e.expires_at) / 86400)::INTEGER || ' days before as_of; still open: ' || o.open"
    )
    gaps = f"""
        SELECT {record_gap("e", "exceptions", message, asset_id="o.asset_id")}
        FROM ({lapsed}) e JOIN ({per_exception}) o ON o.exception_id = e.id"""
    return evaluate(
        ctx,
        needs=("exceptions", "findings"),
        population_sql=f"SELECT {record_unit('e', 'exceptions')} FROM ({lapsed}) e",
        gaps_sql=gaps,
        noun="exceptions expired before as_of",
        params=params,
        exceptions=ExceptionScope.NONE,
    )


def urgent_cover(as_of: str) -> str:
    """Per active exception covering at least one urgent finding-instance (KEV, BOD 26-04 3DF/3D/14D,
    internet-facing): the instances and why each is urgent. Columns: exception_id, instances, asset_id,
    urgent (text)."""
    why = (
        "CASE WHEN i.kev THEN 'KEV' WHEN i.internet_facing THEN 'internet-facing' "
        "ELSE 'BOD 26-04 ' || i.bod_outcome END"
    )
    return f"""
        SELECT sc.exception_id, count(*) AS instances, min(i.asset_id) AS asset_id,
            string_agg(i.vuln_id || ' on ' || i.asset_id || ' (' || {why} || ')', ', '
                       ORDER BY i.asset_id, i.vuln_id) AS urgent
        FROM exceptions e JOIN a_exc_scope sc ON sc.exception_id = e.id
        JOIN a_instances i ON i.asset_id = sc.asset_id AND i.vuln_id = sc.vuln_id
        WHERE i.urgent AND {in_force(as_of)} GROUP BY sc.exception_id"""


@register("exceptions.compensating_controls")
def compensating_controls(ctx: CheckContext) -> CheckOutcome:
    """X3/X6: accepting urgent exposure (KEV, BOD 26-04 3DF/3D/14D tier, internet-facing) is only
    defensible behind a compensating control that demonstrably operates: every active exception
    covering an urgent finding-instance names a compensating control (inline or by id) verified
    within policy.exceptions.control_verification_max_days (default 90) before as_of. Verification
    dates after as_of do not count. A control written inside the exception is evidence of its own:
    the check needs no compensating_controls file, which it reads for controls named by id. An
    exception that fails this rule excepts nothing when it is a mitigation (docs/decisions.md D17).
    Evidence: exceptions, findings (compensating_controls when named by id). Example gap: "exception
    EXC-2026-020 covers CVE-2026-41668 on a-srv-091 (internet-facing); its compensating control was
    last verified 2025-11-03, 332 days before as_of (limit 90)"."""
    params = Params()
    as_of, limit = params.add(ctx.as_of), params.add(ctx.policy.exceptions.control_verification_max_days)
    covering = f"""
        SELECT e.*, u.urgent, u.asset_id AS urgent_asset, c.controls, c.verified_at
        FROM exceptions e JOIN ({urgent_cover(as_of)}) u ON u.exception_id = e.id
        JOIN ({control_evidence(as_of)}) c ON c.id = e.id"""
    state = (
        "CASE WHEN e.controls = 0 THEN 'names no compensating control' "
        "WHEN e.verified_at IS NULL THEN 'its compensating control was never verified' "
        f"ELSE 'its compensating control was last verified ' || {_DAY.format('e.verified_at')} || ', ' "
        f"|| floor(epoch({as_of} - e.verified_at) / 86400)::INTEGER || ' days before as_of (limit ' || {limit} "
        "|| ' days)' END"
    )
    message = f"{_label()} || ' covers ' || e.urgent || '; ' || {state}"
    gaps = f"""
        SELECT {record_gap("e", "exceptions", message, asset_id="e.urgent_asset")}
        FROM ({covering}) e WHERE e.verified_at IS NULL OR e.verified_at < {as_of} - to_days({limit})"""
    return evaluate(
        ctx,
        needs=("exceptions", "findings"),
        population_sql=f"SELECT {record_unit('e', 'exceptions')} FROM ({covering}) e",
        gaps_sql=gaps,
        noun="active exceptions covering urgent exposure",
        params=params,
        exceptions=ExceptionScope.NONE,
    )


def duration_days() -> str:
    """Approved duration of an exception (alias e) in days, NULL when a date is missing."""
    return "(epoch(e.expires_at) - epoch(e.approved_at)) / 86400.0"


@register("exceptions.duration")
def duration(ctx: CheckContext) -> CheckOutcome:
    """X5: an expiry is what forces the accepted risk to be reviewed again (CSF ID.RA-07), so every
    exception expires no later than policy.exceptions.max_duration_days (default 92, one quarter per
    approval [O]) after its approval. No expiry date is a violation; an expiry without an approval
    date cannot be measured (undecidable). Evidence: exceptions. Example gap: "exception EXC-2026-024
    approved 2026-06-01, expires 2026-12-31: 213 days (limit 92)"."""
    params = Params()
    as_of, limit = params.add(ctx.as_of), params.add(ctx.policy.exceptions.max_duration_days)
    known = f"SELECT * FROM exceptions e WHERE {recorded(as_of)}"
    state = (
        "CASE WHEN e.expires_at IS NULL THEN ' has no expiry date' "
        f"WHEN e.approved_at IS NULL THEN ' expires ' || {_DAY.format('e.expires_at')} "
        "|| ' but has no approval date: its duration cannot be measured' "
        f"ELSE ' approved ' || {_DAY.format('e.approved_at')} || ', expires ' || {_DAY.format('e.expires_at')} "
        f"|| ': ' || round({duration_days()})::INTEGER || ' days' END"
    )
    message = f"{_label()} || {state} || ' (limit ' || {limit} || ' days)'"
    certainty = "CASE WHEN e.expires_at IS NOT NULL AND e.approved_at IS NULL THEN 'unknown' ELSE 'violation' END"
    gaps = f"""
        SELECT {record_gap("e", "exceptions", message, certainty=certainty)}
        FROM ({known}) e WHERE e.expires_at IS NULL OR e.approved_at IS NULL OR {duration_days()} > {limit}"""
    return evaluate(
        ctx,
        needs=("exceptions",),
        population_sql=f"SELECT {record_unit('e', 'exceptions')} FROM ({known}) e",
        gaps_sql=gaps,
        noun="exceptions",
        params=params,
        exceptions=ExceptionScope.NONE,
    )


def scope_matches(as_of: str) -> str:
    """Per exception (alias e in `scope`): whether its asset criterion matches an inventory asset
    (`assets`: a listed id, or a listed tag some asset has), whether a finding detected before as_of
    matches its vulnerabilities or findings on its assets (`findings`; any asset when it names
    none), and whether one of its identities is inventoried (`identities`). Each list is unnested
    and joined: an exception × findings comparison would cost a lookup per pair."""
    on_asset = "(list_contains(e.asset_ids, a.id) OR list_has_any(e.asset_tags, a.tags))"
    named_assets = "(len(e.asset_ids) > 0 OR len(e.asset_tags) > 0)"
    finding_pairs = f"""
        SELECT e.id, f.asset_id FROM (SELECT id, unnest(vuln_ids) AS vuln_id FROM exceptions) e
        JOIN findings f ON f.vuln_id = e.vuln_id WHERE f.first_detected_at < {as_of}
        UNION ALL
        SELECT e.id, f.asset_id FROM (SELECT id, unnest(finding_ids) AS finding_id FROM exceptions) e
        JOIN findings f ON f.id = e.finding_id WHERE f.first_detected_at < {as_of}"""
    return f"""
        SELECT e.id,
            e.id IN (SELECT n.id FROM (SELECT id, unnest(asset_ids) AS asset_id FROM exceptions) n
                     JOIN a_assets a ON a.id = n.asset_id
                     UNION ALL
                     SELECT n.id FROM (SELECT id, unnest(asset_tags) AS tag FROM exceptions) n
                     WHERE n.tag IN (SELECT unnest(tags) FROM a_assets)) AS assets,
            e.id IN (SELECT p.id FROM ({finding_pairs}) p JOIN exceptions e ON e.id = p.id
                     JOIN a_assets a ON a.id = p.asset_id WHERE NOT {named_assets} OR {on_asset}) AS findings,
            e.id IN (SELECT n.id FROM (SELECT id, unnest(identity_ids) AS identity_id FROM exceptions) n
                     JOIN identities i ON i.id = n.identity_id) AS identities
        FROM exceptions e"""


@register("exceptions.scope")
def scope(ctx: CheckContext) -> CheckOutcome:
    """An exception scoped to everything, or to nothing the evidence holds, cannot be assessed for
    risk impact (CSF ID.RA-07). Every exception names what it covers — assets or asset tags,
    findings, identities, or controls — and each criterion matches the evidence: named assets (ids or
    tags) exist in the inventory; named vulnerabilities or findings match at least one finding
    detected before as_of (on the named assets, when it names some); named identities include an
    inventoried one. Vulnerabilities named without assets or tags cover them on every asset, which is
    flagged. A scope of findings, identities or controls alone is specific and needs no asset.
    Evidence: exceptions, assets, findings, identities. Example gaps: "exception EXC-2026-026 (…): its
    asset criterion (tags legacy-fax) matches no inventory asset"; "exception EXC-2026-027 (…): its
    vulnerabilities (CVE-2024-6387) are not limited to assets or tags: it covers them on every asset"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    named_assets = "(len(e.asset_ids) > 0 OR len(e.asset_tags) > 0)"
    matched = scope_matches(as_of)
    assets, findings, identities = "m.assets", "m.findings", "m.identities"
    criterion = (
        "array_to_string(list_filter([CASE WHEN len(e.asset_ids) > 0 THEN 'assets ' || array_to_string(e.asset_ids, "
        "', ') END, CASE WHEN len(e.asset_tags) > 0 THEN 'tags ' || array_to_string(e.asset_tags, ', ') END], "
        "lambda x: x IS NOT NULL), '; ')"
    )
    on_assets = f"CASE WHEN {named_assets} THEN ' on its assets (' || {criterion} || ')' ELSE '' END"
    nothing = "len(e.asset_ids) + len(e.asset_tags) + len(e.vuln_ids) + len(e.finding_ids) + len(e.identity_ids) "
    nothing += "+ len(e.control_ids) = 0"
    problem = f"""CASE
        WHEN {nothing} THEN 'names nothing it covers (no asset, tag, vulnerability, finding, identity or control)'
        WHEN NOT {named_assets} AND len(e.vuln_ids) > 0
            THEN 'its vulnerabilities (' || array_to_string(e.vuln_ids, ', ')
            || ') are not limited to assets or tags: it covers them on every asset'
        WHEN {named_assets} AND NOT {assets}
            THEN 'its asset criterion (' || {criterion} || ') matches no inventory asset'
        WHEN len(e.vuln_ids) + len(e.finding_ids) > 0 AND NOT {findings}
            THEN 'no finding' || {on_assets} || ' matches its vulnerabilities or findings'
        WHEN len(e.identity_ids) > 0 AND NOT {identities}
            THEN 'none of its identities (' || array_to_string(e.identity_ids, ', ') || ') is inventoried'
        END"""
    known = (
        f"SELECT e.*, {problem} AS problem FROM exceptions e JOIN ({matched}) m ON m.id = e.id WHERE {recorded(as_of)}"
    )
    message = f"{_label()} || ': ' || e.problem"
    gaps = f"SELECT {record_gap('e', 'exceptions', message)} FROM ({known}) e WHERE e.problem IS NOT NULL"
    return evaluate(
        ctx,
        needs=("exceptions", "assets", "findings", "identities"),
        population_sql=f"SELECT {record_unit('e', 'exceptions')} FROM ({known}) e",
        gaps_sql=gaps,
        noun="exceptions",
        params=params,
        exceptions=ExceptionScope.NONE,
    )
