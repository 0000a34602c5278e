"""`a_ver` numbers the verifications in evidence order (`vrow`): the rows are sorted, then numbered by
a window with an empty OVER clause, which keeps the order of its input (D105). The numbers must be
those of row_number() OVER (ORDER BY the evidence order): on a sample quarter, and on enough rows
that DuckDB sorts them on several threads."""

from __future__ import annotations

from pathlib import Path

import duckdb
from support.engine import assessed_in_store

from reporter.assess.derive import _EVIDENCE_ORDER_BY

SAMPLE = Path(__file__).resolve().parents[2] / "evidence-samples" / "kestrel-2026-q3"


def _misnumbered(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """(rows, rows whose vrow is not their position in evidence order)."""
    order = _EVIDENCE_ORDER_BY.format("x")
    row = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE vrow <> expected) "
        f"FROM (SELECT vrow, row_number() OVER (ORDER BY {order}) AS expected FROM {table} x)"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_the_sample_verifications_are_numbered_in_evidence_order() -> None:
    with assessed_in_store(SAMPLE) as (loaded, _):
        rows, wrong = _misnumbered(loaded.store.con, "a_ver")
    assert rows > 100  # records and rescans: both parts of the union
    assert wrong == 0


def test_sorted_then_numbered_is_numbered_in_order_on_many_rows() -> None:
    # The pattern `_verifications` relies on, on 400,000 rows in shuffled order with ties in the first
    # keys, in a database with two threads: a DuckDB that stopped keeping the order would fail here.
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET preserve_insertion_order = true")
    con.execute(
        "CREATE TABLE v AS SELECT TIMESTAMP '2026-07-01' + to_minutes((hash(i) % 5000)::BIGINT) AS observed_at, "
        "CASE WHEN hash(i * 3) % 2 = 0 THEN 'vulnerable' ELSE 'fixed' END AS result, hash(i * 7) % 3 = 0 AS derived, "
        "'rescan-after-deployment' AS rule, 'v-' || (hash(i * 5) % 100000)::VARCHAR AS id, 'f.csv' AS _source, "
        "i AS _rec, 'finding-' || i::VARCHAR AS finding_id FROM range(400000) t(i) ORDER BY hash(i * 11)"
    )
    order = _EVIDENCE_ORDER_BY.format("x")
    con.execute(f"CREATE TABLE a AS SELECT *, row_number() OVER () AS vrow FROM (SELECT * FROM v x ORDER BY {order})")
    assert _misnumbered(con, "a") == (400_000, 0)
