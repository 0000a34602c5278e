"""When the evidence store writes checkpoints (D91): at a 256 MiB write-ahead log, not DuckDB's
16 MiB; on closing a `--db` file, so the user's file holds everything; never on closing the run's
temporary file, which is removed with its directory."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from reporter.store.store import CHECKPOINT_THRESHOLD, EvidenceStore


def _wal(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def test_the_store_checkpoints_at_its_own_threshold() -> None:
    store = EvidenceStore.create()
    try:
        setting = store.con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()
        default = duckdb.connect().execute("SELECT current_setting('checkpoint_threshold')").fetchone()
    finally:
        store.close()
    assert CHECKPOINT_THRESHOLD == "256MiB"
    assert setting == ("256.0 MiB",)
    assert setting != default  # DuckDB's own default is 16 MiB


def test_a_db_file_is_checkpointed_on_close(tmp_path: Path) -> None:
    database = tmp_path / "evidence.duckdb"
    store = EvidenceStore.create(database)
    store.con.execute("CREATE TABLE kept AS SELECT range AS n FROM range(1000)")
    assert _wal(database).exists()  # below the threshold: the rows are in the log
    store.close()
    assert not _wal(database).exists()  # folded into the file
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*), sum(n) FROM kept").fetchone() == (1000, 499500)


def test_the_temporary_file_is_not_checkpointed_on_close(monkeypatch: pytest.MonkeyPatch) -> None:
    store = EvidenceStore.create()
    assert store._spill is not None
    directory = Path(store._spill.name)
    monkeypatch.setattr(store._spill, "cleanup", lambda: None)  # keep the files to look at them
    try:
        store.con.execute("CREATE TABLE scratch AS SELECT range AS n FROM range(1000)")
        database = directory / "evidence.duckdb"
        assert _wal(database).exists()
        store.close()
        # the log was not folded into the file: closing wrote nothing the run would delete anyway
        assert _wal(database).exists()
    finally:
        for path in sorted(directory.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        directory.rmdir()


def test_closing_twice_is_harmless() -> None:
    store = EvidenceStore.create()
    store.close()
    store.close()
