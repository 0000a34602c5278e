"""What every check shares: the context it reads, the outcome it returns, and `evaluate`, which
turns a population query (one row per population unit, POPULATION_COLUMNS) and a gap query into an
honest status, and draws the control's audit sample from the population (docs/report.md, "Audit samples").

A check is a pure function of the evidence store (read through the derived `a_*` tables), the
policy and the assessment instant. It never writes, never prints, and never sees the clock.

Status rules, in order (docs/controls.md):
1. a needed record kind has no record in the bundle        → insufficient_evidence
2. the population is empty                                 → not_applicable (with the reason)
3. a gap that is a violation and not covered by an exception → fail
4. gaps the evidence cannot decide (missing fields)         → partial
5. every gap covered by a valid exception                   → excepted
6. otherwise                                                → pass
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import duckdb

from reporter.checks.sampling import SAMPLE_KEY, planned_size, sample_seed
from reporter.models.catalog import Condition
from reporter.models.manifest import Period
from reporter.models.policy import Policy
from reporter.models.results import Certainty, Deviation, Gap, GapRisk, Measure, rate_text
from reporter.models.status import Status
from reporter.store.compression import UNCOMPRESSED
from reporter.store.sql import Params

GAP_COLUMNS = (
    "kind",
    "record_id",
    "_source",
    "_rec",
    "_line",
    "message",
    "certainty",
    "asset_id",
    "vuln_id",
    "identity_id",
)
# A population query yields one row per population unit: the record that unit is, in the columns of a
# gap (without message and certainty). A gap belongs to the unit with its kind and record_id whose
# asset_id, vuln_id and identity_id are each NULL or equal to the gap's (checks/sampling.py).
DRAW_IN_ONE_PASS = 10_000  # samples up to this size are drawn in the pass that counts (`_population`)
POPULATION_COLUMNS = ("kind", "record_id", "_source", "_rec", "_line", "asset_id", "vuln_id", "identity_id")
# Gaps in risk order (docs/report.md, "Gap risk"): unexcepted first, riskiest first, then a total
# order on the cited record, so that the first N listed are the riskiest and the output is stable.
_IMPORTANCE_RANK = "CASE {0} WHEN 'high' THEN 3 WHEN 'moderate' THEN 2 WHEN 'low' THEN 1 ELSE 0 END"
_SEVERITY_RANK = "CASE {0} WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END"
GAP_ORDER = (
    "excepted_by IS NOT NULL, risk_rank DESC, open_at_as_of IS FALSE, kev IS NOT TRUE, internet_facing IS NOT TRUE, "
    f"days_overdue DESC NULLS LAST, {_IMPORTANCE_RANK.format('asset_importance')} DESC, "
    f"{_SEVERITY_RANK.format('vuln_severity')} DESC, _source, _rec, record_id, message, asset_id, vuln_id, identity_id"
)
# The gaps table's columns: what `evaluate` inserts, then the risk it ranks and names.
_GAP_TABLE = (
    ("control_id", "VARCHAR"),
    ("severity", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("record_id", "VARCHAR"),
    ("_source", "VARCHAR"),
    ("_rec", "BIGINT"),
    ("_line", "BIGINT"),
    ("message", "VARCHAR"),
    ("certainty", "VARCHAR"),
    ("asset_id", "VARCHAR"),
    ("vuln_id", "VARCHAR"),
    ("identity_id", "VARCHAR"),
    ("sha256", "VARCHAR"),
    ("excepted_by", "VARCHAR"),
    ("owner", "VARCHAR"),
    ("risk_basis", "VARCHAR"),
    ("vuln_severity", "VARCHAR"),
    ("kev", "BOOLEAN"),
    ("internet_facing", "BOOLEAN"),
    ("asset_importance", "VARCHAR"),
    ("identity_privileged", "BOOLEAN"),
    ("days_overdue", "INTEGER"),
    ("open_at_as_of", "BOOLEAN"),
    ("risk_rank", "INTEGER"),
    ("risk", "VARCHAR"),
)


# The gaps' mostly distinct strings, stored uncompressed where the store keeps its identifiers so (D115);
# not control_id, which has one value per control.
_PLAIN_GAP_COLUMNS = frozenset(("record_id", "message", "asset_id", "vuln_id", "identity_id"))


def gaps_ddl(*, plain: bool) -> str:
    """The gaps table; with `plain`, its identifiers and messages are not compressed (D115): at a
    million findings the checks write 1.3 million gaps, and compressing these columns as they are
    written cost about a second of the assessment's 22 s."""
    columns = ", ".join(
        f"{name} {kind}" + (f" {UNCOMPRESSED}" if plain and name in _PLAIN_GAP_COLUMNS else "")
        for name, kind in _GAP_TABLE
    )
    return f"CREATE OR REPLACE TABLE a_gaps ({columns})"


GAPS_DDL = gaps_ddl(plain=False)


# Each control's audit sample: the population units with the lowest ranks (checks/sampling.py).
SAMPLE_DDL = """
CREATE OR REPLACE TABLE a_sample (
    control_id VARCHAR, kind VARCHAR, record_id VARCHAR, _source VARCHAR, _rec BIGINT, _line BIGINT,
    asset_id VARCHAR, vuln_id VARCHAR, identity_id VARCHAR, key VARCHAR, rank VARCHAR
)"""


class ExceptionScope(StrEnum):
    """Which exceptions may cover a control's gaps (exceptions never cover EXC or EVD controls)."""

    NONE = "none"  # exceptions cannot cover these gaps
    CONTROL = "control"  # only exceptions naming the control in control_ids
    FINDINGS = "findings"  # also exceptions covering the gap's (asset, vulnerability)
    IDENTITIES = "identities"  # also exceptions naming the gap's identity


@dataclass(frozen=True)
class CheckContext:
    """What a check may read."""

    con: duckdb.DuckDBPyConnection
    policy: Policy
    period: Period
    as_of: datetime
    kinds_present: frozenset[str]  # kinds with at least one record (or derivable from others), not merely listed
    gap_cap: int = 1000
    control_id: str = ""
    severity: str = "medium"
    digest: str = ""  # the bundle digest: it seeds every control's audit sample

    def for_control(self, control_id: str, severity: str) -> CheckContext:
        """The same context, evaluating one control."""
        return replace(self, control_id=control_id, severity=severity)


@dataclass(frozen=True)
class CheckOutcome:
    """What a check returns."""

    status: Status
    reason: str
    measure: Measure
    population: int
    gap_total: int
    gaps_excepted: int
    gaps: list[Gap]
    owners: tuple[str, ...] = ()
    deviation: Deviation | None = None
    open_by_risk: dict[str, int] = field(default_factory=dict)

    @classmethod
    def unevaluated(cls, status: Status, reason: str, measure: Measure) -> CheckOutcome:
        """An outcome with no population and no gaps: missing evidence, nothing to evaluate, an error."""
        return cls(status=status, reason=reason, measure=measure, population=0, gap_total=0, gaps_excepted=0, gaps=[])


def gap_select(
    *,
    kind: str,
    record_id: str,
    source: str,
    message: str,
    rec: str = "NULL",
    line: str = "NULL",
    certainty: str = "'violation'",
    asset_id: str = "NULL",
    vuln_id: str = "NULL",
    identity_id: str = "NULL",
) -> str:
    """The SELECT list of a gap query, in the column order `evaluate` expects."""
    return (
        f"'{kind}' AS kind, ({record_id})::VARCHAR AS record_id, ({source})::VARCHAR AS _source, "
        f"({rec})::BIGINT AS _rec, ({line})::BIGINT AS _line, ({message})::VARCHAR AS message, "
        f"({certainty})::VARCHAR AS certainty, ({asset_id})::VARCHAR AS asset_id, "
        f"({vuln_id})::VARCHAR AS vuln_id, ({identity_id})::VARCHAR AS identity_id"
    )


def record_gap(alias: str, kind: str, message: str, **extra: str) -> str:
    """`gap_select` for a gap that cites a record of a store table aliased `alias`."""
    return gap_select(
        kind=kind,
        record_id=f"{alias}.id",
        source=f"{alias}._source",
        rec=f"{alias}._rec",
        line=f"{alias}._line",
        message=message,
        **extra,
    )


# What a gap about a finding-instance needs from its ledger row to rank its risk (`_risk_facts`).
_LEDGER_FACTS = (
    "severity",
    "kev",
    "internet_facing",
    "asset_importance",
    "asset_owner",
    "due_at",
    "not_affected",
    "is_open",
    "fixed_at",
    "retired_effective_at",
    "ssvc_exploitation",
)


@dataclass(frozen=True)
class LedgerGaps:
    """A gap query whose rows are ledger rows (finding-instances), each carrying the facts its risk
    rests on (`_gl_*` columns): `evaluate` then reads them from the row instead of joining every gap
    back to the ledger and the inventory, which at ten million findings held millions of gaps in a
    hash table. Build it with `ledger_gaps`."""

    sql: str


def ledger_gaps(message: str, source: str, *, alias: str = "l", certainty: str = "'violation'") -> LedgerGaps:
    """Gaps that are the ledger rows `alias` of `source` (a FROM … WHERE … tail over a_ledger or
    a_instances), one gap per row, about that row's finding-instance."""
    select = gap_select(
        kind="findings",
        record_id=f"{alias}.finding_id",
        source=f"{alias}._source",
        rec=f"{alias}._rec",
        line=f"{alias}._line",
        message=message,
        certainty=certainty,
        asset_id=f"{alias}.asset_id",
        vuln_id=f"{alias}.vuln_id",
    )
    facts = ", ".join(f"{alias}.{name} AS _gl_{name}" for name in _LEDGER_FACTS)
    return LedgerGaps(f"SELECT {select}, {facts} {source}")


def unit_select(
    *,
    kind: str,
    record_id: str,
    source: str,
    rec: str = "NULL",
    line: str = "NULL",
    asset_id: str = "NULL",
    vuln_id: str = "NULL",
    identity_id: str = "NULL",
) -> str:
    """The SELECT list of a population query (POPULATION_COLUMNS): the record a population unit is.
    Give asset, vulnerability or identity ids only where they tell apart units sharing a record."""
    return (
        f"'{kind}' AS kind, ({record_id})::VARCHAR AS record_id, ({source})::VARCHAR AS _source, "
        f"({rec})::BIGINT AS _rec, ({line})::BIGINT AS _line, ({asset_id})::VARCHAR AS asset_id, "
        f"({vuln_id})::VARCHAR AS vuln_id, ({identity_id})::VARCHAR AS identity_id"
    )


def record_unit(alias: str, kind: str, **extra: str) -> str:
    """`unit_select` for a population unit that is a record of a store table aliased `alias`."""
    source, rec, line = f"{alias}._source", f"{alias}._rec", f"{alias}._line"
    return unit_select(kind=kind, record_id=f"{alias}.id", source=source, rec=rec, line=line, **extra)


def ledger_unit(alias: str = "l") -> str:
    """`unit_select` for a finding-instance of the ledger (or a_instances) aliased `alias`."""
    return unit_select(
        kind="findings",
        record_id=f"{alias}.finding_id",
        source=f"{alias}._source",
        rec=f"{alias}._rec",
        line=f"{alias}._line",
        asset_id=f"{alias}.asset_id",
        vuln_id=f"{alias}.vuln_id",
    )


def pct(numerator: int, denominator: int) -> Measure:
    """A ratio measure; a zero denominator prints n/a, never 100 %."""
    if denominator == 0:
        return Measure(numerator=numerator, denominator=0, value=None, display="n/a (no population)")
    ratio = numerator / denominator
    return Measure(
        numerator=numerator,
        denominator=denominator,
        value=round(ratio, 6),
        display=f"{ratio * 100:.1f} % ({numerator:,}/{denominator:,})",
    )


def count(value: int, unit: str = "count") -> Measure:
    """A count measure."""
    return Measure(numerator=value, value=float(value), unit=unit, display=f"{value:,}")


def scalar(ctx: CheckContext, sql: str, params: Params | None = None) -> int:
    """One integer from a query (0 when NULL)."""
    row = ctx.con.execute(sql, (params or Params()).for_sql(sql)).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def missing_kinds(ctx: CheckContext, needs: Iterable[str]) -> list[str]:
    """Needed kinds the bundle holds no record of: no source lists them, or every file that lists
    them is empty (`kinds_present` counts only kinds with records). An empty file is not evidence:
    it would let a control pass on nothing."""
    return [k for k in needs if k not in ctx.kinds_present]


def bundle_conditions(ctx: CheckContext) -> frozenset[Condition]:
    """The scope conditions (`applies_when` of references) this bundle meets."""
    held = set()
    if not missing_kinds(ctx, ("agents",)):
        held.add(Condition.AGENTS_PRESENT)
    return frozenset(held)


def insufficient(missing: list[str]) -> CheckOutcome:
    """The outcome when needed evidence is absent or empty: never a pass."""
    return CheckOutcome.unevaluated(
        Status.INSUFFICIENT_EVIDENCE,
        f"the bundle has no {', '.join(missing)} records; this control cannot be assessed",
        Measure(display="n/a (no evidence)"),
    )


def _exceptions_apply(ctx: CheckContext, scope: ExceptionScope) -> bool:
    """Whether any valid exception in force at as_of could cover this control's gaps under `scope`
    (the exceptions `_exception_tables` reads: naming the control, or, for finding and identity
    scopes, naming no control)."""
    if scope is ExceptionScope.NONE:
        return False
    params = Params()
    control, as_of = params.add(ctx.control_id), params.add(ctx.as_of)
    names = f"list_contains(control_ids, {control})"
    which = names if scope is ExceptionScope.CONTROL else f"(len(control_ids) = 0 OR {names})"
    sql = f"SELECT count(*) FROM a_exc WHERE sound AND approved_at <= {as_of} AND {as_of} < expires_at AND {which}"
    return scalar(ctx, sql, params) > 0


def _exception_tables(scope: ExceptionScope, control: str, as_of: str) -> tuple[str, str, str]:
    """(CTEs, joins, expression) giving the valid exception (in force at as_of) that covers a gap `g`.

    An exception covers a control's gaps only as far as its scope reaches: naming the control alone
    covers all its gaps; naming the control and assets (or tags) covers the gaps on those assets;
    a finding or identity scope covers the gaps on those findings or identities, for every control
    when it names none, else only for the controls it names. Exceptions are few and gaps can be
    millions: each kind of match is a small keyed table, hash-joined to the gaps."""
    if scope is ExceptionScope.NONE:
        return "", "", "NULL"
    names = f"list_contains(control_ids, {control})"
    for_control = f"(len(control_ids) = 0 OR {names})"
    asset_only = "len(vuln_ids) = 0 AND len(finding_ids) = 0 AND len(identity_ids) = 0"
    ctes = [
        f"ex AS (SELECT * FROM a_exc WHERE sound AND approved_at <= {as_of} AND {as_of} < expires_at)",
        f"xc AS (SELECT min(id) AS id FROM ex WHERE {names} AND {asset_only} AND len(asset_ids) = 0 "
        "AND len(asset_tags) = 0)",
        f"xa AS (SELECT asset_id, min(id) AS id FROM (SELECT unnest(asset_ids) AS asset_id, id FROM ex "
        f"WHERE {names} AND {asset_only} UNION ALL SELECT a.id, e.id FROM ex e JOIN assets a "
        f"ON list_has_any(e.asset_tags, a.tags) WHERE list_contains(e.control_ids, {control}) "
        f"AND len(e.vuln_ids) = 0 AND len(e.finding_ids) = 0 AND len(e.identity_ids) = 0) GROUP BY asset_id)",
    ]
    joins = ["LEFT JOIN xa ON xa.asset_id = g.asset_id"]
    parts = ["(SELECT id FROM xc)", "xa.id"]
    if scope is ExceptionScope.FINDINGS:
        ctes.append(
            "xf AS (SELECT s.asset_id, s.vuln_id, min(e.id) AS id FROM a_exc_scope s "
            "JOIN ex e ON e.id = s.exception_id "
            f"WHERE (len(e.control_ids) = 0 OR list_contains(e.control_ids, {control})) GROUP BY ALL)"
        )
        joins.append("LEFT JOIN xf ON xf.asset_id = g.asset_id AND xf.vuln_id = g.vuln_id")
        parts.append("xf.id")
    if scope is ExceptionScope.IDENTITIES:
        ctes.append(
            "xi AS (SELECT identity_id, min(id) AS id FROM (SELECT unnest(identity_ids) AS identity_id, id FROM ex "
            f"WHERE {for_control}) GROUP BY identity_id)"
        )
        joins.append("LEFT JOIN xi ON xi.identity_id = g.identity_id")
        parts.append("xi.id")
    return ", ".join(ctes) + ", ", " ".join(joins), f"least({', '.join(parts)})"


# Who should act on a gap: the owner of the identity, asset, exception or agent it is about.
_OWNER = "COALESCE(gi.owner, ga.owner, ge.owner, gg.owner)"
_OWNER_JOINS = (
    "LEFT JOIN identities gi ON gi.id = g.identity_id LEFT JOIN a_assets ga ON ga.id = g.asset_id "
    "LEFT JOIN exceptions ge ON g.kind = 'exceptions' AND ge.id = g.record_id "
    "LEFT JOIN agents gg ON g.kind = 'agents' AND gg.id = g.record_id "
    # the finding-instance the gap is about (one ledger row per asset × vulnerability: an equi-join).
    # Only the ledger rows some gap names are joined: a plain LEFT JOIN read the whole ledger for
    # every check, even one whose gaps name no vulnerability (identities, exceptions, agents); the
    # semi-join stops reading it after one vector when no gap names a vulnerability (D92)
    "LEFT JOIN (SELECT l.* FROM a_ledger l SEMI JOIN g ON l.asset_id = g.asset_id AND l.vuln_id = g.vuln_id) gl "
    "ON gl.asset_id = g.asset_id AND gl.vuln_id = g.vuln_id"
)


def _risk_facts(control_severity: str, as_of: str, *, on_ledger: bool = False) -> str:
    """What the evidence says about the thing a gap is about (docs/report.md, "Gap risk"): the
    finding-instance (ledger), else the asset, else the identity; and the parts of the risk rule.
    `_adj` is the net raise or lowering by exposure and importance, capped at one level.

    `on_ledger`: the gaps are ledger rows carrying their facts (`LedgerGaps`), so the finding-instance
    is always there and no asset or identity is joined (the ledger's asset facts are the inventory's)."""
    gl = "g._gl_" if on_ledger else "gl."
    found = "TRUE" if on_ledger else "gl.asset_id IS NOT NULL"
    exposed = f"{gl}internet_facing" if on_ledger else "COALESCE(gl.internet_facing, ga.internet_facing)"
    importance = f"{gl}asset_importance" if on_ledger else "COALESCE(gl.asset_importance, ga.importance)"
    privileged, disabled = ("NULL::BOOLEAN", "FALSE") if on_ledger else ("gi.privilege_admin", "NOT gi.enabled")
    basis = (
        "'finding'"
        if on_ledger
        else "CASE WHEN gl.asset_id IS NOT NULL THEN 'finding' WHEN ga.id IS NOT NULL THEN 'asset' "
        "WHEN gi.id IS NOT NULL THEN 'identity' ELSE 'control' END"
    )
    closed_at = f"CASE WHEN {gl}is_open THEN {{0}} ELSE COALESCE({gl}fixed_at, {gl}retired_effective_at, {{0}}) END"
    late_until = f"least({closed_at.format(as_of)}, {as_of})"
    adj = (
        f"COALESCE({exposed}, FALSE)::INT "
        f"+ COALESCE({importance} = 'high', FALSE)::INT "
        f"- COALESCE({importance} = 'low', FALSE)::INT "
        f"+ COALESCE({privileged}, FALSE)::INT - COALESCE({disabled}, FALSE)::INT"
    )
    return (
        f"{basis} AS risk_basis, "
        f"{gl}severity AS vuln_severity, {gl}kev AS kev, "
        f"{exposed} AS internet_facing, "
        f"{importance} AS asset_importance, {privileged} AS identity_privileged, "
        f"CASE WHEN {gl}due_at IS NOT NULL AND NOT {gl}not_affected THEN "
        f"greatest(0, floor((epoch({late_until}) - epoch({gl}due_at)) / 86400))::INTEGER END AS days_overdue, "
        f"{gl}is_open AS open_at_as_of, "
        f"{found} AS _finding, "
        f"COALESCE({gl}kev OR {gl}ssvc_exploitation = 'active', FALSE) AS _exploited, "
        f"{_SEVERITY_RANK.format(gl + 'severity')} AS _vuln_rank, "
        f"{_SEVERITY_RANK.format(control_severity)} AS _control_rank, "
        f"greatest(-1, least(1, {adj})) AS _adj"
    )


# The risk rule (docs/report.md, "Gap risk"), on the facts above. A gap about a finding-instance:
# KEV or actively exploited → critical; else its vulnerability severity moved by `_adj`, reaching
# critical only from critical; at most low once the instance is no longer open at as_of. Any other
# gap: the control's severity moved by `_adj`.
_FINDING_RANK = (
    "CASE WHEN _exploited THEN 4 WHEN _vuln_rank = 0 THEN 0 "
    "ELSE greatest(1, least(_vuln_rank + _adj, CASE WHEN _vuln_rank = 4 THEN 4 ELSE 3 END)) END"
)
_RISK_RANK = (
    "CASE WHEN NOT _finding THEN greatest(1, least(4, _control_rank + _adj)) "
    f"WHEN open_at_as_of THEN {_FINDING_RANK} ELSE least(1, {_FINDING_RANK}) END"
)
RISK_LEVELS = ("critical", "high", "medium", "low", "info")
_RISK_NAME = "CASE {0} WHEN 4 THEN 'critical' WHEN 3 THEN 'high' WHEN 2 THEN 'medium' WHEN 1 THEN 'low' ELSE 'info' END"
_GAP_TABLE_COLUMNS = ", ".join(name for name, _ in _GAP_TABLE[:-2])  # risk_rank and risk come after


def evaluate(
    ctx: CheckContext,
    *,
    needs: Iterable[str],
    population_sql: str,
    gaps_sql: str | LedgerGaps,
    noun: str,
    exceptions: ExceptionScope = ExceptionScope.CONTROL,
    params: Params | None = None,
) -> CheckOutcome:
    """Run a check defined by a population query (one row per unit, columns: POPULATION_COLUMNS)
    and a gap query (columns: GAP_COLUMNS; or ledger rows with their facts, `ledger_gaps`)."""
    missing = missing_kinds(ctx, needs)
    if missing:
        return insufficient(missing)
    params = params or Params()
    population = _population(ctx, population_sql, params)
    if population == 0:
        return CheckOutcome.unevaluated(Status.NOT_APPLICABLE, f"no {noun} to evaluate in the bundle", pct(0, 0))
    control, severity = params.add(ctx.control_id), params.add(ctx.severity)
    if not _exceptions_apply(ctx, exceptions):
        exceptions = ExceptionScope.NONE  # no exception in force can cover this control: skip the joins
    ctes, joins, covering = _exception_tables(exceptions, control, params.add(ctx.as_of))
    # Every gap goes into a_gaps (complete: findings.csv, SQL users); the results list the first ones.
    # Each gap's risk is computed here, once, from the ledger, asset and identity it is about.
    on_ledger = isinstance(gaps_sql, LedgerGaps)
    facts = _risk_facts(severity, params.add(ctx.as_of), on_ledger=on_ledger)
    owner, owner_joins = ("g._gl_asset_owner", "") if on_ledger else (_OWNER, _OWNER_JOINS)
    query = gaps_sql.sql if isinstance(gaps_sql, LedgerGaps) else gaps_sql
    insert = (
        f"INSERT INTO a_gaps WITH {ctes}g AS ({query}), "
        f"f AS (SELECT {control} AS control_id, {severity} AS severity, g.kind, g.record_id, g._source, g._rec, "
        "g._line, g.message, g.certainty, g.asset_id, g.vuln_id, g.identity_id, "
        f"s.sha256, {covering} AS excepted_by, {owner} AS owner, {facts} "
        f"FROM g LEFT JOIN sources s ON s.path = g._source {joins} {owner_joins}) "
        f"SELECT {_GAP_TABLE_COLUMNS}, risk_rank, {_RISK_NAME.format('risk_rank')} "
        f"FROM (SELECT *, {_RISK_RANK} AS risk_rank FROM f)"
    )
    ctx.con.execute(insert, params.for_sql(insert))
    # Two queries: exact counts, then the first gaps (a top-N sort). Window counts over the whole
    # group next to ORDER BY … LIMIT cost seconds per hundred thousand gaps.
    mine = {"c": ctx.control_id}
    # and the unexcepted gaps still open at as-of per risk level (a gap about a closed instance is not current)
    by_level = ", ".join(
        f"count(*) FILTER (WHERE excepted_by IS NULL AND open_at_as_of IS NOT FALSE AND risk = '{level}')"
        for level in RISK_LEVELS
    )
    counts = ctx.con.execute(
        "SELECT count(*), count(excepted_by), count(*) FILTER (WHERE excepted_by IS NULL AND certainty = 'violation'), "
        f"{by_level} FROM a_gaps WHERE control_id = $c",
        mine,
    ).fetchone()
    total, excepted, violations = (int(v) for v in counts[:3]) if counts else (0, 0, 0)
    open_by_risk = {level: int(n) for level, n in zip(RISK_LEVELS, counts[3:] if counts else (), strict=True) if n}
    sql = (
        "SELECT kind, record_id, _source, _rec, _line, message, certainty, asset_id, vuln_id, identity_id, sha256, "
        "excepted_by, owner, risk, risk_basis, vuln_severity, kev, internet_facing, asset_importance, "
        f"identity_privileged, days_overdue, open_at_as_of FROM a_gaps WHERE control_id = $c ORDER BY {GAP_ORDER} "
        f"LIMIT {int(ctx.gap_cap)}"
    )
    gaps = [_gap(ctx, row) for row in ctx.con.execute(sql, mine).fetchall()]
    owners = [
        str(r[0])
        for r in ctx.con.execute(
            "SELECT DISTINCT owner FROM a_gaps WHERE control_id = $c AND excepted_by IS NULL AND owner IS NOT NULL "
            "ORDER BY owner",
            mine,
        ).fetchall()
    ]
    deviation = deviation_of(violations, population, ctx.policy.tolerance.rate_for(ctx.control_id))
    return CheckOutcome(
        status=_status(total, excepted, violations, tolerated=deviation.within_tolerance),
        reason=_reason(population, noun, total, excepted, violations) + _tolerance_note(deviation),
        measure=pct(max(population - total, 0), population),
        population=population,
        gap_total=total,
        gaps_excepted=excepted,
        gaps=gaps,
        owners=tuple(owners),
        deviation=deviation,
        open_by_risk=open_by_risk,
    )


def deviation_of(deviations: int, population: int, tolerable_rate: float) -> Deviation:
    """The deviation rate against the tolerable rate. Compared in whole parts per million, so that
    the rate printed and the decision agree exactly (no float rounding at the boundary)."""
    tolerable_ppm = round(tolerable_rate * 1_000_000)
    within = population > 0 and deviations * 1_000_000 <= tolerable_ppm * population
    rate = min(deviations, population) / population if population else None  # a unit may carry several gaps
    shown = "n/a (no population)" if rate is None else f"{rate_text(rate)} ({deviations:,}/{population:,})"
    return Deviation(
        deviations=deviations,
        population=population,
        rate=round(rate, 6) if rate is not None else None,
        tolerable_rate=tolerable_rate,
        within_tolerance=within,
        display=f"{shown} deviate; tolerable {rate_text(tolerable_rate)}",
    )


def _tolerance_note(deviation: Deviation) -> str:
    """What the reason adds when deviations are tolerated: the rate and the policy that allows it."""
    if not deviation.deviations or not deviation.within_tolerance:
        return ""
    return f"; {deviation.display}: within the policy's tolerable rate, so the control does not fail on them"


def _population(ctx: CheckContext, population_sql: str, params: Params) -> int:
    """Count the population and store its audit sample in a_sample: the `sample_size` units with the
    lowest rank sha256(seed || ':' || key), seed = sample_seed(digest, control), in the order
    rank, _source, _rec. Up to DRAW_IN_ONE_PASS units, one pass over the population does both: the
    count and the lowest `size` units (`min_by` with a count keeps them in that order, NULLs last as
    ORDER BY puts them), where a count and then a sorted draw evaluated the population query twice
    (0.7 s of the checks' 9 s at a million findings, one check at a time). Larger designs (a policy
    that samples nearly everything) count, then sort."""
    units = f"SELECT {', '.join(POPULATION_COLUMNS)} FROM ({population_sql})"
    size = planned_size(ctx.policy.sampling)  # a smaller population is taken whole
    population = scalar(ctx, f"SELECT count(*) FROM ({units})", params) if size > DRAW_IN_ONE_PASS else None
    if population == 0:
        return 0
    # the engine creates a_sample afresh per assessment; a check run on its own creates it here
    ctx.con.execute(SAMPLE_DDL.replace("CREATE OR REPLACE TABLE", "CREATE TABLE IF NOT EXISTS"))
    seed = params.add(sample_seed(ctx.digest, ctx.control_id))
    ranked = f"SELECT *, sha256({seed} || ':' || key) AS rank FROM (SELECT *, {SAMPLE_KEY} AS key FROM ({units}))"
    if population is not None:
        control = params.add(ctx.control_id)
        insert = f"INSERT INTO a_sample SELECT {control}, * FROM ({ranked}) ORDER BY rank, _source, _rec LIMIT {size}"
        ctx.con.execute(insert, params.for_sql(insert))
        return population
    fields = ", ".join(f"{c} := {c}" for c in (*POPULATION_COLUMNS, "key", "rank"))
    lowest = f"min_by(struct_pack({fields}), struct_pack(rank := rank, _source := _source, _rec := _rec), {size})"
    draw = f"CREATE OR REPLACE TEMP TABLE _draw AS SELECT count(*) AS population, {lowest} AS drawn FROM ({ranked})"
    ctx.con.execute(draw, params.for_sql(draw))
    ctx.con.execute(
        "INSERT INTO a_sample SELECT $c, unnest(drawn, recursive := true) FROM _draw", {"c": ctx.control_id}
    )
    row = ctx.con.execute("SELECT population FROM _draw").fetchone()
    ctx.con.execute("DROP TABLE _draw")
    return int(row[0]) if row else 0


def _gap(ctx: CheckContext, row: tuple[Any, ...]) -> Gap:
    kind, record_id, source, rec, line, message, certainty, asset_id, vuln_id, identity_id, sha256, excepted, owner = (
        row[:13]
    )
    level, basis, vuln_severity, kev, internet_facing, importance, privileged, overdue, open_ = row[13:22]
    risk = GapRisk(
        level=str(level),
        basis=str(basis),
        vuln_severity=vuln_severity,
        kev=kev,
        internet_facing=internet_facing,
        asset_importance=importance,
        identity_privileged=privileged,
        days_overdue=overdue,
        open_at_as_of=open_,
    )
    return Gap(
        control_id=ctx.control_id,
        kind=str(kind),
        record_id=str(record_id),
        source=str(source or ""),
        record=rec,
        line=line,
        sha256=sha256,
        message=str(message),
        severity=ctx.severity,
        certainty=Certainty(str(certainty)),
        asset_id=asset_id,
        vuln_id=vuln_id,
        identity_id=identity_id,
        risk=risk,
        excepted_by=excepted,
        owner=owner,
    )


def _status(total: int, excepted: int, violations: int, *, tolerated: bool) -> Status:
    """Rules 3-6 of the module docstring; violations within the tolerable rate do not fail the control."""
    if violations and not tolerated:
        return Status.FAIL
    if total - excepted - violations > 0:
        return Status.PARTIAL
    if total and excepted == total:
        return Status.EXCEPTED
    return Status.PASS


def _reason(population: int, noun: str, total: int, excepted: int, violations: int) -> str:
    if total == 0:
        return f"all {population:,} {noun} meet the control"
    parts = [f"{total:,} of {population:,} {noun} flagged"]
    if violations:
        parts.append(f"{violations:,} violation(s)")
    undecided = total - excepted - violations
    if undecided:
        parts.append(f"{undecided:,} undecidable from the evidence")
    if excepted:
        parts.append(f"{excepted:,} covered by a valid exception")
    return "; ".join(parts)
