"""Work side by side on the store (reporter/store/parallel.py): results in the order of the input,
the first failure raised and no further work handed out, every connection closed on every path."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from reporter.store import parallel
from reporter.store.store import EvidenceStore


@pytest.fixture
def store() -> Iterator[EvidenceStore]:
    store = EvidenceStore.create()
    store.con.execute("CREATE TABLE t AS SELECT range AS n FROM range(1000)")
    yield store
    store.close()


def test_results_come_in_the_order_of_the_items(store: EvidenceStore) -> None:
    items = list(range(40))

    def task(con: duckdb.DuckDBPyConnection, item: int) -> int:
        row = con.execute("SELECT count(*) FROM t WHERE n % 40 = $i", {"i": (item * 7) % 40}).fetchone()
        assert row is not None
        return int(row[0]) * 1000 + item

    assert parallel.in_order(store.con, items, task, 2) == [25_000 + i for i in items]


def test_a_failure_is_raised_and_stops_the_hand_out(store: EvidenceStore) -> None:
    done: list[int] = []

    def task(con: duckdb.DuckDBPyConnection, item: int) -> int:
        if item == 0:
            raise ValueError("item 0")
        done.append(item)
        con.execute("SELECT sum(n) FROM t, range(200)").fetchall()  # slow enough for the stop to count
        return item

    with pytest.raises(ValueError, match="item 0"):
        parallel.in_order(store.con, list(range(100)), task, 2)
    assert len(done) < 99


def test_sessions_are_closed_when_opening_one_fails(store: EvidenceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[duckdb.DuckDBPyConnection] = []
    real = parallel.session

    def second_fails(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        if opened:
            raise duckdb.IOException("cannot open")
        opened.append(real(con))
        return opened[-1]

    monkeypatch.setattr(parallel, "session", second_fails)
    with pytest.raises(duckdb.IOException), parallel.sessions(store.con, 2):
        pytest.fail("no sessions should be yielded")
    assert len(opened) == 1
    with pytest.raises(duckdb.ConnectionException):
        opened[0].execute("SELECT 1")
    assert store.con.execute("SELECT count(*) FROM t").fetchone() == (1000,)  # the store's own stays open


def test_one_worker_is_the_store_connection_itself(store: EvidenceStore) -> None:
    with parallel.sessions(store.con, 1) as connections:
        assert connections == [store.con]
    assert store.con.execute("SELECT 1").fetchone() == (1,)
