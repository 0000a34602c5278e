"""`a_ver` numbers the verifications in evidence order (`vrow`): within each hour of observation,
after the rows of every earlier hour (D107). The numbers must be those of row_number() OVER (ORDER BY
the evidence order): on a sample quarter, and on enough rows, with ties and rows without a time, that
DuckDB numbers them on several threads."""

from __future__ import annotations

from pathlib import Path

import duckdb
from support.engine import assessed_in_store

from reporter.assess.derive import _EVIDENCE_ORDER_BY, in_evidence_order

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


def test_numbered_by_hour_is_numbered_in_order_on_many_rows() -> None:
    # `in_evidence_order` on 400,000 rows in shuffled order: ties in the first keys, hours holding many
    # rows and hours holding one, and rows without an observation time, in a database with two threads.
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(
        "CREATE TABLE v AS SELECT CASE WHEN i % 997 = 0 THEN NULL WHEN i % 10 = 0 "
        "THEN TIMESTAMP '2026-07-01' + to_minutes((hash(i) % 500000)::BIGINT) "
        "ELSE TIMESTAMP '2026-07-01' + to_minutes((hash(i) % 5000)::BIGINT) END AS observed_at, "
        "CASE WHEN hash(i * 3) % 2 = 0 THEN 'vulnerable' ELSE 'fixed' END AS result, hash(i * 7) % 3 = 0 AS derived, "
        "'rescan-after-deployment' AS rule, 'v-' || (hash(i * 5) % 100000)::VARCHAR AS id, 'f.csv' AS _source, "
        "i AS _rec, 'finding-' || i::VARCHAR AS finding_id FROM range(400000) t(i) ORDER BY hash(i * 11)"
    )
    con.execute(f"CREATE TABLE a AS {in_evidence_order('SELECT * FROM v')}")
    nulls_and_type = "SELECT count(*) FILTER (WHERE observed_at IS NULL), typeof(any_value(vrow)) FROM a"
    assert con.execute(nulls_and_type).fetchone() == (402, "BIGINT")
    assert _misnumbered(con, "a") == (400_000, 0)
