"""The instances are computed in the ledger's statement, not written as a table of their own (D102). Two
things rest on that and are checked here, each against the query as it was written before: the exception
scope reads the instances' (asset, vulnerability) pairs from the findings, and the deadlines of the
instances exceptions cover are computed for those instances alone (`_instances(..., among=...)`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.engine import assessed_in_store

from reporter.assess import derive
from reporter.bundle.interface import LoadedBundle
from reporter.models.results import Assessment
from reporter.store.sql import Params

SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"

# a_exc_scope as it was built from the table of instances (a view over the ledger now), tags and all
_SCOPE_FROM_INSTANCES = """
SELECT DISTINCT exception_id, asset_id, vuln_id FROM (
    SELECT e.id AS exception_id, f.asset_id, f.vuln_id
    FROM (SELECT id, unnest(finding_ids) AS finding_id FROM a_exc) e JOIN findings f ON f.id = e.finding_id
    WHERE f.first_detected_at < $as_of
    UNION ALL
    SELECT e.id, i.asset_id, i.vuln_id
    FROM (SELECT id, asset_ids, asset_tags, unnest(vuln_ids) AS vuln_id FROM a_exc) e
    JOIN a_instances i ON i.vuln_id = e.vuln_id
    WHERE (len(e.asset_ids) = 0 AND len(e.asset_tags) = 0) OR list_contains(e.asset_ids, i.asset_id)
        OR list_has_any(e.asset_tags, i.tags)
    UNION ALL
    SELECT e.id, i.asset_id, i.vuln_id
    FROM (SELECT id, unnest(asset_ids) AS asset_id FROM a_exc WHERE len(vuln_ids) = 0 AND len(finding_ids) = 0
          AND len(control_ids) = 0 AND len(identity_ids) = 0) e
    JOIN a_instances i ON i.asset_id = e.asset_id
    UNION ALL
    SELECT e.id, i.asset_id, i.vuln_id
    FROM (SELECT id, unnest(asset_tags) AS tag FROM a_exc WHERE len(vuln_ids) = 0 AND len(finding_ids) = 0
          AND len(control_ids) = 0 AND len(identity_ids) = 0) e
    JOIN (SELECT id, unnest(tags) AS tag FROM assets) a ON a.tag = e.tag
    JOIN a_instances i ON i.asset_id = a.id
)"""


@pytest.fixture(scope="module", params=["northwind-2026-q3", "kestrel-2026-q3"])
def assessed(request: pytest.FixtureRequest) -> Iterator[tuple[LoadedBundle, Assessment]]:
    with assessed_in_store(SAMPLES / request.param) as pair:
        yield pair


def _rows(loaded: LoadedBundle, sql: str, params: dict[str, object]) -> list[tuple[object, ...]]:
    return sorted(loaded.store.con.execute(sql, params).fetchall(), key=repr)


def test_the_exception_scope_is_the_one_read_from_the_instances(assessed: tuple[LoadedBundle, Assessment]) -> None:
    loaded, assessment = assessed
    scope = _rows(loaded, "SELECT exception_id, asset_id, vuln_id FROM a_exc_scope", {})
    assert len(scope) > 0  # the sample's exceptions cover instances: an empty scope would prove nothing
    assert scope == _rows(loaded, _SCOPE_FROM_INSTANCES, {"as_of": assessment.as_of})


def test_an_instance_computed_alone_is_the_instance_computed_with_all(
    assessed: tuple[LoadedBundle, Assessment],
) -> None:
    loaded, assessment = assessed
    # the instances exceptions cover, and those merged from several findings (aggregated, not taken as they are)
    among = (
        "SELECT asset_id, vuln_id FROM a_exc_scope UNION SELECT asset_id, vuln_id FROM findings "
        "GROUP BY asset_id, vuln_id HAVING count(*) > 1"
    )
    p = Params()
    as_of = p.add(assessment.as_of)
    alone = f"SELECT * FROM ({derive._instances(as_of, loaded.policy, p, among=among)})"
    every = (
        f"SELECT * FROM ({derive._instances(as_of, loaded.policy, p)}) SEMI JOIN ({among}) k USING (asset_id, vuln_id)"
    )
    rows = _rows(loaded, alone, p.for_sql(alone))
    assert len(rows) > 1
    assert rows == _rows(loaded, every, p.for_sql(every))
    # and they are the ledger's instances: the deadline the ledger carries is the one computed alone
    due = _rows(loaded, f"SELECT asset_id, vuln_id, due_at FROM ({alone})", p.for_sql(alone))
    ledger = _rows(
        loaded,
        f"SELECT l.asset_id, l.vuln_id, l.due_at FROM a_ledger l SEMI JOIN ({among}) k USING (asset_id, vuln_id)",
        {},
    )
    assert due == ledger


def test_a_vulnerability_exception_limited_to_asset_tags_covers_the_tagged_instances() -> None:
    # no sample exception names vulnerabilities and asset tags together: add one, from an instance whose asset
    # has tags, beside an instance of the same vulnerability on an asset without that tag
    with assessed_in_store(SAMPLES / "kestrel-2026-q3") as (loaded, assessment):
        con = loaded.store.con
        row = con.execute(
            "SELECT l.vuln_id, a.tags[1] FROM a_ledger l JOIN assets a ON a.id = l.asset_id WHERE len(a.tags) > 0 "
            "AND EXISTS (SELECT 1 FROM a_ledger o JOIN assets b ON b.id = o.asset_id WHERE o.vuln_id = l.vuln_id "
            "AND NOT list_contains(b.tags, a.tags[1])) ORDER BY l.vuln_id, l.asset_id LIMIT 1"
        ).fetchone()
        assert row is not None  # the sample has such a pair: without it this test would prove nothing
        con.execute(
            "INSERT INTO a_exc SELECT * REPLACE ('x-tagged' AS id, [$vuln] AS vuln_ids, []::VARCHAR[] AS asset_ids, "
            "[$tag] AS asset_tags, []::VARCHAR[] AS finding_ids) FROM a_exc ORDER BY id LIMIT 1",
            {"vuln": row[0], "tag": row[1]},
        )
        p = Params()
        as_of = p.add(assessment.as_of)
        scope_sql = derive._exception_scope(as_of)
        con.execute(scope_sql, p.for_sql(scope_sql))
        tagged = _rows(loaded, "SELECT asset_id, vuln_id FROM a_exc_scope WHERE exception_id = 'x-tagged'", {})
        expected = _rows(
            loaded,
            "SELECT l.asset_id, l.vuln_id FROM a_ledger l JOIN assets a ON a.id = l.asset_id "
            "WHERE l.vuln_id = $vuln AND list_contains(a.tags, $tag)",
            {"vuln": row[0], "tag": row[1]},
        )
        assert tagged == expected
        assert _rows(loaded, "SELECT exception_id, asset_id, vuln_id FROM a_exc_scope", {}) == _rows(
            loaded, _SCOPE_FROM_INSTANCES, {"as_of": assessment.as_of}
        )
