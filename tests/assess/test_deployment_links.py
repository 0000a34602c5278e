"""`a_dep` links each deployment record to the instances it targets, once per (record, vulnerability,
rule) (D108): its rows must be those of a DISTINCT over every column of the links, on sample quarters
where deployments name findings, name vulnerabilities and are linked by inference."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.bundles import example, minimal_valid
from support.engine import assessed_in_store

SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"

_COLUMNS = "d.id, d.asset_id, {v} AS i_vuln, d.status, d.completed_at, d.started_at, d.change_ref, d.patch_id, "
_COLUMNS += "d._source, d._rec, d._line, {rule} AS link_rule"
_WHEN = "COALESCE(d.completed_at, d.started_at) < $as_of"
# every link with every column, duplicates kept: the reference a_dep must equal once made distinct
LINKS = f"""
    SELECT {_COLUMNS.format(v="f.vuln_id", rule="'named'")}
    FROM (SELECT *, unnest(finding_ids) AS fid FROM deployments) d JOIN findings f ON f.id = d.fid WHERE {_WHEN}
    UNION ALL
    SELECT {_COLUMNS.format(v="d.vid", rule="'named'")}
    FROM (SELECT *, unnest(vuln_ids) AS vid FROM deployments) d WHERE {_WHEN}
    UNION ALL
    SELECT {_COLUMNS.format(v="l.vuln_id", rule="l.rule")}
    FROM deployments d JOIN (SELECT DISTINCT deployment_id, vuln_id, rule FROM a_dep_link) l
        ON l.deployment_id = d.id"""


@pytest.mark.parametrize("sample", ["kestrel-2026-q3", "larkspur-2026-q3", "northwind-2026-q3"])
def test_deployment_links_are_the_distinct_links(sample: str) -> None:
    with assessed_in_store(SAMPLES / sample) as (loaded, _):
        assert loaded.manifest is not None
        con, when = loaded.store.con, {"as_of": loaded.manifest.period.end_at}

        def count(sql: str) -> int:
            row = con.execute(f"SELECT count(*) FROM ({sql})", when if "$as_of" in sql else {}).fetchone()
            assert row is not None
            return int(row[0])

        links, rows = count(LINKS), count("SELECT * FROM a_dep")
        missing = count(f"SELECT DISTINCT * FROM ({LINKS}) EXCEPT ALL SELECT * FROM a_dep")
        extra = count(f"SELECT * FROM a_dep EXCEPT ALL SELECT DISTINCT * FROM ({LINKS})")
    assert rows > 0
    assert (missing, extra) == (0, 0)
    assert links >= rows


def test_a_record_reaching_an_instance_twice_is_one_link(tmp_path: Path) -> None:
    """d-000001 names the finding and its vulnerability, d-000002 names the finding twice: one link each."""
    builder = minimal_valid(tmp_path / "b")
    builder.sources = [s for s in builder.sources if s["kind"] != "deployments"]
    builder.add(
        "deployments",
        [
            example("deployments", vuln_ids=["CVE-2024-6387"]),
            example("deployments", id="d-000002", finding_ids=["f-000001", "f-000001"], change_ref=None),
        ],
    )
    with assessed_in_store(builder.write()) as (loaded, _):
        assert loaded.manifest is not None
        con = loaded.store.con
        every = con.execute(f"SELECT count(*) FROM ({LINKS})", {"as_of": loaded.manifest.period.end_at}).fetchone()
        rows = con.execute("SELECT id, i_vuln, link_rule, change_ref FROM a_dep ORDER BY id").fetchall()
    assert every == (4,)
    assert rows == [
        ("d-000001", "CVE-2024-6387", "named", "CHG0041234"),
        ("d-000002", "CVE-2024-6387", "named", None),
    ]
