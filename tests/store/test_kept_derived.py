"""With --db the derived tables the results rest on are kept in the file, and the queries in
docs/evidence-store.md re-derive every headline figure of results.json from them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "evidence-samples" / "northwind-2026-q3"
DOC = ROOT / "docs" / "evidence-store.md"


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("kept")
    db, results = out / "evidence.duckdb", out / "results.json"
    subprocess.run(
        [sys.executable, "-m", "reporter", "assess", str(SAMPLE), "--db", str(db), "-o", str(results)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return db, json.loads(results.read_text())


def _documented_queries() -> dict[str, str]:
    """figure → SQL, from the `-- headline: NAME …` blocks of the document."""
    block = DOC.read_text().split("## Re-deriving the headline", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    queries = {}
    for chunk in block.strip().split("\n\n"):
        name = re.match(r"-- headline: (\w+)", chunk)
        assert name, chunk
        queries[name.group(1)] = chunk
    return queries


def test_derived_tables_are_kept(kept: tuple[Path, dict[str, object]]) -> None:
    db, _ = kept
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        assert {"a_ledger", "a_assets", "a_exc", "a_exc_scope", "a_dep", "a_ver", "a_gaps"} <= tables
        assert "a_instances" in views
        ledger = con.execute("SELECT count(*), count(due_at), count(DISTINCT state) FROM a_ledger").fetchone()
    assert ledger is not None
    assert ledger[0] > 2000  # one row per finding-instance of the sample
    assert ledger[1] > 0  # deadlines are kept with the ledger
    assert ledger[2] >= 5


def test_documented_queries_rederive_the_headline(kept: tuple[Path, dict[str, object]]) -> None:
    db, results = kept
    headline = results["headline"]
    assert isinstance(headline, dict)
    controls = {c["control_id"]: c for c in results["controls"]}  # type: ignore[attr-defined]
    queries = _documented_queries()
    assert set(queries) >= {"activity", "verified_removed", "open_critical_high", "exposure_days"}
    with duckdb.connect(str(db), read_only=True) as con:
        got = {name: con.execute(sql).fetchone() for name, sql in queries.items()}
    assert got["activity"] == (headline["activity"]["numerator"], headline["activity"]["denominator"])
    removed = headline["verified_removed"]
    assert got["verified_removed"] == (removed["numerator"], removed["denominator"], headline["verified_by_rescan"])
    assert got["open_critical_high"] == (headline["open_critical_high"],)
    assert got["open_internet_facing"] == (headline["open_internet_facing"],)
    assert got["exposure_days"] == (headline["exposure_days"],)
    assert got["still_vulnerable"] == (headline["still_vulnerable"]["numerator"],)
    assert got["unverified"] == (headline["unverified"]["numerator"],)
    assert got["expired_exceptions"] == (controls["EXC-02"]["gap_total"],)


def test_every_gap_is_kept(kept: tuple[Path, dict[str, object]]) -> None:
    # Every gap of every control is in the kept file, as many per control as results.json counts.
    db, results = kept
    controls = results["controls"]
    assert isinstance(controls, list)
    with duckdb.connect(str(db), read_only=True) as con:
        stored = dict(con.execute("SELECT control_id, count(*) FROM a_gaps GROUP BY control_id").fetchall())
    totals = {c["control_id"]: c["gap_total"] for c in controls if c["gap_total"]}
    assert len(totals) > 40  # the sample quarter has gaps in most controls
    assert stored == totals


def test_a_small_bundle_keeps_its_identifiers_and_gap_messages_uncompressed(
    kept: tuple[Path, dict[str, object]],
) -> None:
    """The sample quarter is far under a quarter of the memory limit, so its evidence tables and its
    gaps declare their identifiers (and the gaps' messages) uncompressed (D115)."""
    db, _ = kept
    with duckdb.connect(str(db), read_only=True) as con:
        ddl = dict(con.execute("SELECT table_name, sql FROM duckdb_tables()").fetchall())
    plain = "VARCHAR USING COMPRESSION Uncompressed"
    for column in ("id", "asset_id", "vuln_id", "scan_id"):
        assert f"{column} {plain}" in ddl["findings"], column
    assert f"finding_ids {plain.replace('VARCHAR', 'VARCHAR[]')}" in ddl["deployments"]
    assert f"severity {plain}" not in ddl["findings"]  # not an identifier
    for column in ("record_id", "message", "asset_id", "vuln_id", "identity_id"):
        assert f"{column} {plain}" in ddl["a_gaps"], column
    assert f"control_id {plain}" not in ddl["a_gaps"]


def test_a_small_bundle_keeps_its_derived_tables_identifiers_uncompressed(
    kept: tuple[Path, dict[str, object]],
) -> None:
    """So do the derived tables of such a store (D116): the ledger's asset, vulnerability and
    finding ids, the verifications' and deployments' ids; their other text columns as DuckDB chooses."""
    db, _ = kept
    with duckdb.connect(str(db), read_only=True) as con:
        ddl = dict(con.execute("SELECT table_name, sql FROM duckdb_tables()").fetchall())
    plain = "VARCHAR USING COMPRESSION Uncompressed"
    for column in ("asset_id", "vuln_id", "finding_id"):
        assert f"{column} {plain}" in ddl["a_ledger"], column
    assert f"finding_ids {plain.replace('VARCHAR', 'VARCHAR[]')}" in ddl["a_ledger"]
    for column in ("state", "severity", "sla_status"):
        assert f"{column} VARCHAR," in ddl["a_ledger"] or ddl["a_ledger"].endswith(f"{column} VARCHAR)"), column
    assert f"id {plain}" in ddl["a_ver"]
    assert f"id {plain}" in ddl["a_dep"]
