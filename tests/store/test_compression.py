"""How the store compresses identifier columns (D115, D116, D117): uncompressed while the evidence is
under half of the memory limit, DuckDB's own choice (dict_fsst) beyond it and when the size is not
known. Only the storage differs: the values read back are the same."""

from __future__ import annotations

import duckdb
import pytest

from reporter.checks.base import GAPS_DDL, gaps_ddl
from reporter.store.compression import create_table_as
from reporter.store.store import SMALL_SHARE, EvidenceStore

_ROWS = 20_000


def _text_compressions(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, set[str]]:
    """Each text column of `table` → the compressions of its segments, once written (a checkpoint)."""
    con.execute("CHECKPOINT")
    found: dict[str, set[str]] = {}
    for column, compression in con.execute(
        "SELECT column_name, compression FROM pragma_storage_info($t) WHERE segment_type = 'VARCHAR'", {"t": table}
    ).fetchall():
        found.setdefault(str(column), set()).add(str(compression))
    return found


def _compressions(evidence_bytes: int | None) -> tuple[dict[str, set[str]], tuple[int, int]]:
    store = EvidenceStore.create(memory_limit="1GB", evidence_bytes=evidence_bytes)
    try:
        con = store.con
        con.execute(gaps_ddl(plain=store.small))  # the assessment's gaps follow the store (D115)
        gaps = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'a_gaps'").fetchone()
        assert gaps is not None
        assert ("message VARCHAR USING COMPRESSION Uncompressed" in gaps[0]) is store.small
        con.execute(
            "INSERT INTO findings (id, asset_id, vuln_id, title, severity, _source, _rec) "
            "SELECT 'F-' || lpad(i::VARCHAR, 7, '0'), 'A-' || lpad((i % 500)::VARCHAR, 6, '0'), "
            "'CVE-2026-' || (i % 90 + 1000), 'title ' || (i % 7), 'high', 'findings.csv', i "
            f"FROM range({_ROWS}) t(i)"
        )
        found = _text_compressions(con, "findings")
        read = con.execute("SELECT count(DISTINCT id), count(DISTINCT asset_id) FROM findings").fetchone()
    finally:
        store.close()
    assert read is not None
    return found, (int(read[0]), int(read[1]))


def test_small_evidence_keeps_its_identifiers_uncompressed() -> None:
    small = int(10**9 * SMALL_SHARE) // 2
    found, read = _compressions(small)
    assert found["id"] == {"Uncompressed"}
    assert found["asset_id"] == {"Uncompressed"}
    assert found["vuln_id"] == {"Uncompressed"}
    assert found["severity"] != {"Uncompressed"}  # not an identifier: compressed as before
    assert read == (_ROWS, 500)


@pytest.mark.parametrize("evidence_bytes", [None, 10**9])
def test_large_or_unknown_evidence_lets_duckdb_compress_them(evidence_bytes: int | None) -> None:
    found, read = _compressions(evidence_bytes)
    assert "Uncompressed" not in found["asset_id"]
    assert "Uncompressed" not in found["id"]
    assert read == (_ROWS, 500)


def test_the_gaps_table_is_the_same_but_for_its_storage() -> None:
    assert gaps_ddl(plain=False) == GAPS_DDL
    plain = gaps_ddl(plain=True)
    assert plain.count("USING COMPRESSION uncompressed") == 5
    assert plain.replace(" USING COMPRESSION uncompressed", "") == GAPS_DDL


_DERIVED = (
    "CREATE OR REPLACE TABLE d AS SELECT 'F-' || i AS finding_id, ['A-' || i] AS asset_ids, "
    "'high' AS severity, {'id': 'V-' || i, 'n': i} AS evidence, i * $k AS n FROM range(3000) t(i)"
)


def _derived(*, plain: bool) -> tuple[str, dict[str, set[str]], list[tuple[object, ...]]]:
    store = EvidenceStore.create(memory_limit="1GB")
    try:
        con = store.con
        create_table_as(con, _DERIVED, {"k": 2}, plain=plain)
        found = _text_compressions(con, "d")
        row = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'd'").fetchone()
        assert row is not None
        rows = con.execute("SELECT * FROM d ORDER BY n").fetchall()
    finally:
        store.close()
    return str(row[0]), found, rows


def test_a_plain_derived_table_declares_its_text_identifiers_uncompressed() -> None:
    """A derived table of a plain store (D116): `finding_id` and `asset_ids` uncompressed; the
    severity and the struct's fields as DuckDB chooses; the same columns, types and rows."""
    ddl, found, rows = _derived(plain=True)
    assert "finding_id VARCHAR USING COMPRESSION Uncompressed" in ddl
    assert "asset_ids VARCHAR[] USING COMPRESSION Uncompressed" in ddl
    assert "severity VARCHAR," in ddl  # not an identifier
    assert found["finding_id"] == {"Uncompressed"}
    assert found["severity"] != {"Uncompressed"}
    ddl_as_is, _, rows_as_is = _derived(plain=False)
    assert "Uncompressed" not in ddl_as_is
    assert ddl.replace(" USING COMPRESSION Uncompressed", "") == ddl_as_is
    assert rows == rows_as_is
    assert rows[2] == ("F-2", ["A-2"], "high", {"id": "V-2", "n": 2}, 4)


def test_other_statements_run_as_they_are() -> None:
    store = EvidenceStore.create(memory_limit="1GB")
    try:
        con = store.con
        create_table_as(con, "CREATE TABLE t (finding_id VARCHAR)", {}, plain=True)
        create_table_as(con, "INSERT INTO t VALUES ($v)", {"v": "F-1"}, plain=True)
        create_table_as(con, "CREATE OR REPLACE VIEW v AS SELECT * FROM t", {}, plain=True)
        row = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 't'").fetchone()
        assert con.execute("SELECT * FROM v").fetchall() == [("F-1",)]
    finally:
        store.close()
    assert row is not None
    assert "Uncompressed" not in row[0]
