"""The row groups of a store whose evidence is under SMALL_ROWS_SHARE of its memory limit hold
SMALL_ROW_GROUP rows, a larger store's DuckDB's 122,880 (D120): DuckDB splits a scan among its threads
by row group, so a table of 100,000 rows in one row group was read on one thread. The row group size
is an option of ATTACH, so the store's file is attached and made the default database of every
connection to it, the sessions' too; a kept file (`--db`) reads as any DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from reporter.store.store import SMALL_ROW_GROUP, SMALL_ROWS_SHARE, STORE_CATALOG, EvidenceStore, session

_ROWS = 40_000  # three row groups of 16,384 rows or fewer; one of DuckDB's


def _row_groups(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('{table}')").fetchone()
    return int(row[0]) if row else 0


def _filled(store: EvidenceStore) -> int:
    try:
        store.con.execute(f"CREATE TABLE t AS SELECT range AS n FROM range({_ROWS})")
        store.con.execute("CHECKPOINT")
        return _row_groups(store.con, "t")
    finally:
        store.close()


def test_a_small_store_writes_small_row_groups() -> None:
    small = EvidenceStore.create(memory_limit="2GiB", evidence_bytes=2**20)
    assert small.small
    assert SMALL_ROW_GROUP == 16_384
    assert _filled(small) == -(-_ROWS // SMALL_ROW_GROUP) == 3


def test_a_larger_store_keeps_duckdbs_row_groups() -> None:
    between = EvidenceStore.create(memory_limit="2GiB", evidence_bytes=int(0.3 * 2**31))  # over a quarter
    assert SMALL_ROWS_SHARE == 0.25
    assert between.small  # under half the limit (D117), but not under a quarter
    assert _filled(between) == 1
    large = EvidenceStore.create(memory_limit="2GiB", evidence_bytes=2**30)  # over half the limit
    assert not large.small
    assert _filled(large) == 1
    unknown = EvidenceStore.create(memory_limit="2GiB")  # evidence of unknown size: not small
    assert not unknown.small
    assert _filled(unknown) == 1


def test_every_connection_works_in_the_store_file() -> None:
    store = EvidenceStore.create(memory_limit="2GiB", evidence_bytes=2**20)
    other = session(store.con)
    try:
        other.execute("CREATE TABLE from_session AS SELECT count(*) AS n FROM findings")
        tables = store.con.execute(
            "SELECT database_name, table_name FROM duckdb_tables() WHERE NOT temporary AND table_name = 'from_session'"
        ).fetchall()
        assert tables == [(STORE_CATALOG, "from_session")]
        assert other.execute("SELECT current_database()").fetchone() == (STORE_CATALOG,)
    finally:
        other.close()
        store.close()


def test_a_kept_small_store_reads_as_any_duckdb_file(tmp_path: Path) -> None:
    database = tmp_path / "it's kept" / "the auditor's.duckdb"  # quotes in the path: a bound parameter
    database.parent.mkdir()
    store = EvidenceStore.create(database, memory_limit="2GiB", evidence_bytes=2**20)
    store.con.execute(f"CREATE TABLE t AS SELECT range AS n FROM range({_ROWS})")
    store.close()
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*), sum(n) FROM t").fetchone() == (_ROWS, _ROWS * (_ROWS - 1) // 2)
        assert _row_groups(con, "t") == 3
        assert "findings" in {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
