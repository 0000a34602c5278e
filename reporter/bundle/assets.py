"""Asset keys: tool files name assets as the tool knows them (host names, IPs, instance ids, image
names). Every asset reference that is not an inventory id is resolved, once and deterministically,
through the inventory's names and aliases, then through what discovery sources mapped
(observations with both `asset_key` and `asset_id`). A key that names two assets is an error; a key
that names none is left as it is, for the integrity rules to report as an unknown asset.

Resolved keys are kept in `asset_key_map` (kind, field, key → asset id, and how: `alias`,
`observation`, or `ambiguous` with no asset id), so an auditor can see which records were
attributed through an alias."""

from __future__ import annotations

from reporter.bundle.collect import Collector
from reporter.models.issues import Issue, IssueSeverity
from reporter.store.sql import Params, ident
from reporter.store.store import EvidenceStore

# Scalar asset references, and list references that hold asset ids only.
SCALAR_REFS: tuple[tuple[str, str], ...] = (
    ("findings", "asset_id"),
    ("scans", "asset_id"),
    ("deployments", "asset_id"),
    ("verifications", "asset_id"),
    ("secret_exposures", "asset_id"),
    ("agents", "asset_id"),
)
LIST_REFS: tuple[tuple[str, str], ...] = (
    ("rollout_events", "asset_ids"),
    ("exceptions", "asset_ids"),
)

# Every key an asset may be named by, normalised (trimmed, lower case: host names and image names
# are case-insensitive), with its priority: inventory names and aliases before discovery mappings.
_KEYS = """
CREATE OR REPLACE TEMP TABLE _asset_keys AS
WITH named AS (
    SELECT lower(trim(k)) AS key, id AS asset_id, 'alias' AS via, 1 AS priority
    FROM (SELECT id, unnest(list_distinct([name] || aliases)) AS k FROM assets) WHERE k IS NOT NULL
    UNION ALL
    SELECT lower(trim(o.asset_key)), o.asset_id, 'observation', 2
    FROM observations o JOIN assets a ON a.id = o.asset_id WHERE o.asset_key IS NOT NULL
),
best AS (SELECT key, min(priority) AS priority FROM named GROUP BY key)
SELECT n.key, list(DISTINCT n.asset_id ORDER BY n.asset_id) AS candidates, any_value(n.via) AS via
FROM named n JOIN best b ON b.key = n.key AND b.priority = n.priority
GROUP BY n.key"""

_MAP_DDL = """
CREATE OR REPLACE TABLE asset_key_map (
    kind VARCHAR, field VARCHAR, key VARCHAR, asset_id VARCHAR, via VARCHAR, records BIGINT
)"""


def resolve_asset_keys(store: EvidenceStore, cap: int) -> list[Issue]:
    """Rewrite asset references that are names or aliases to asset ids; report ambiguous keys."""
    con = store.con
    con.execute(_MAP_DDL)
    unresolved = _unresolved_refs(store)
    if not unresolved:
        return []
    con.execute(_KEYS)
    out = Collector(store, cap)
    for kind, field, many in unresolved:
        _ambiguous(out, kind, field, many)
        _rewrite(store, kind, field, many)
    con.execute("DROP TABLE _asset_keys")
    return out.issues


def _unresolved_refs(store: EvidenceStore) -> list[tuple[str, str, bool]]:
    """The reference fields holding at least one value that is not an asset id (cheap anti-joins)."""
    found = []
    for (kind, field), many in [*((r, False) for r in SCALAR_REFS), *((r, True) for r in LIST_REFS)]:
        row = store.con.execute(f"SELECT count(*) FROM ({_values(kind, field, many)})").fetchone()
        if row and row[0]:
            found.append((kind, field, many))
    return found


def _values(kind: str, field: str, many: bool) -> str:
    """(record position, value) of every reference that is not an asset id."""
    value = f"unnest({ident(field)})" if many else ident(field)
    return (
        f"SELECT _source, _rec, _line, v FROM (SELECT _source, _rec, _line, {value} AS v FROM {ident(kind)}) "
        "WHERE v IS NOT NULL AND v NOT IN (SELECT id FROM assets)"
    )


def _ambiguous(out: Collector, kind: str, field: str, many: bool) -> None:
    sql = f"""
        SELECT r._source, r._rec, r._line,
            '''' || left(r.v, 80) || ''' names ' || len(k.candidates) || ' assets ('
            || array_to_string(k.candidates[1:5], ', ') || CASE WHEN len(k.candidates) > 5 THEN ', …' ELSE '' END
            || ')' AS detail
        FROM ({_values(kind, field, many)}) r JOIN _asset_keys k ON k.key = lower(trim(r.v))
        WHERE len(k.candidates) > 1"""
    out.run(
        sql,
        Params(),
        "ref.ambiguous-asset",
        IssueSeverity.ERROR,
        field,
        "{detail} by name, alias or discovery mapping: keep it as the name or alias of one asset only",
    )


def _rewrite(store: EvidenceStore, kind: str, field: str, many: bool) -> None:
    """Record the resolutions, then replace each uniquely resolved key by its asset id."""
    con, table, column = store.con, ident(kind), ident(field)
    params = Params()
    kind_p, field_p = params.add(kind), params.add(field)
    sql = f"""INSERT INTO asset_key_map
        SELECT {kind_p}, {field_p}, r.v, CASE WHEN len(k.candidates) = 1 THEN k.candidates[1] END,
            CASE WHEN len(k.candidates) = 1 THEN k.via ELSE 'ambiguous' END, count(*)
        FROM ({_values(kind, field, many)}) r JOIN _asset_keys k ON k.key = lower(trim(r.v))
        GROUP BY ALL ORDER BY ALL"""
    con.execute(sql, params.values)
    params = Params()
    resolved = (
        f"(SELECT key, asset_id FROM asset_key_map WHERE kind = {params.add(kind)} AND field = {params.add(field)})"
    )
    if many:
        sql = f"""UPDATE {table} SET {column} = s.new FROM (
                SELECT rid, list(COALESCE(m.asset_id, u.v) ORDER BY u.pos) AS new
                FROM (SELECT rowid AS rid, unnest({column}) AS v, generate_subscripts({column}, 1) AS pos
                      FROM {table}) u
                LEFT JOIN {resolved} m ON m.key = u.v GROUP BY rid) s
            WHERE {table}.rowid = s.rid"""
    else:
        sql = f"UPDATE {table} SET {column} = m.asset_id FROM {resolved} m WHERE {table}.{column} = m.key"
    con.execute(sql, params.values)
