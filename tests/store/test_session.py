"""Another connection to the store (`session`, for the checks run side by side, D103) has every
setting of the store's own connection, including the ones DuckDB keeps per connection: a plain
cursor would read timestamps in the machine's time zone."""

from __future__ import annotations

from datetime import date

import pytest

from reporter.store.store import EvidenceStore, session

_SETTINGS = "SELECT name, value FROM duckdb_settings() ORDER BY name"


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> EvidenceStore:
    # a machine whose own zone is not UTC: DuckDB takes a new connection's zone from it
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    return EvidenceStore.create()


def test_a_session_has_every_setting_of_the_store(store: EvidenceStore) -> None:
    other = session(store.con)
    try:
        plain = store.con.cursor()
        assert plain.execute("SELECT current_setting('TimeZone')").fetchone() != ("UTC",)  # what `session` fixes
        plain.close()
        assert other.execute(_SETTINGS).fetchall() == store.con.execute(_SETTINGS).fetchall()
        day = "SELECT TIMESTAMPTZ '2026-09-30 20:00:00+00'::DATE"
        assert other.execute(day).fetchall() == store.con.execute(day).fetchall() == [(date(2026, 9, 30),)]
    finally:
        other.close()
        store.close()


def test_a_session_sees_what_the_store_wrote_and_writes_to_it(store: EvidenceStore) -> None:
    store.con.execute("CREATE TABLE t AS SELECT 1 AS n")
    other = session(store.con)
    try:
        other.execute("INSERT INTO t VALUES (2)")
        assert store.con.execute("SELECT sum(n) FROM t").fetchone() == (3,)
    finally:
        other.close()
        store.close()
