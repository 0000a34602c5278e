"""A resource limit that trips is one clear message naming the limit and the option that raises it,
exit 7, and no output file: never "internal error … this is a bug"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from reporter.cli.common import resource_error, store_write_error
from reporter.errors import ExitCode
from reporter.store import store

SAMPLE = Path(__file__).resolve().parents[2] / "evidence-samples" / "northwind-2026-q3"


def test_store_memory_limit_exits_7_naming_the_option(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "reporter", "assess", str(SAMPLE), "--memory-limit", "4MB", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == ExitCode.RESOURCE == 7
    assert "reached its memory limit" in run.stderr
    assert "--memory-limit" in run.stderr
    assert "this is a bug" not in run.stderr
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_messages_carry_duckdb_figures_and_machine_advice() -> None:
    oom = duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate (953.9 MiB/953.6 MiB used)")
    assert "(953.9 MiB/953.6 MiB used)" in str(resource_error(oom))
    assert resource_error(oom).exit_code == ExitCode.RESOURCE
    machine = str(resource_error(MemoryError()))
    assert "ran out of memory" in machine
    assert "--memory-limit" in machine


def test_default_memory_limit_follows_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    # an eighth of the machine, at least 1 GB, at most 2 GB (D95): the 24 GB benchmark machine gets 2 GB
    gigabytes = {None: "1GB", 4: "1GB", 12: "1GB", 16: "2GB", 24: "2GB", 64: "2GB"}
    for size, expected in gigabytes.items():
        machine = None if size is None else size * 10**9
        monkeypatch.setattr(store, "_machine_memory", lambda m=machine: m)
        assert store.default_memory_limit() == expected


def test_the_store_makes_room_for_another_process_but_keeps_half_its_limit() -> None:
    # D97: while the PDF renders in its own process, the store lowers its limit by the renderer's share
    gib = 2**30
    evidence = store.EvidenceStore.create(memory_limit="2GiB")
    try:
        assert evidence.memory_limit() == 2 * gib
        assert evidence.make_room(0) == 2 * gib  # nothing asked: nothing changes
        assert evidence.make_room(gib // 2) == gib + gib // 2
        assert evidence.con.execute("SELECT current_setting('memory_limit')").fetchone() == ("1.5 GiB",)
        assert evidence.make_room(10 * gib) == gib - gib // 4  # never below half of the limit it had
    finally:
        evidence.close()


def test_the_store_takes_back_a_share_of_the_room_it_made() -> None:
    # D114: once the renderer has exited, the store raises its limit again by a share of the room it
    # made, counted from the limits it set itself, not from DuckDB's rounded report of them
    evidence = store.EvidenceStore.create(memory_limit="2GB")  # DuckDB reports 1.8 GiB for 2e9 bytes
    try:
        reported = evidence.memory_limit()
        assert evidence.take_back(0.5) == reported  # no room made: nothing to take back
        lowered = evidence.make_room(768 * 2**20)
        assert lowered == reported - 768 * 2**20  # exact, though DuckDB reports it as 1.0 GiB
        assert evidence.take_back(0.0) == lowered
        assert evidence.take_back(0.5) == lowered + 384 * 2**20  # 1,530,082,099 bytes: 1.4 GiB, not 1.3
        assert evidence.con.execute("SELECT current_setting('memory_limit')").fetchone() == ("1.4 GiB",)
        assert evidence.take_back(0.5) == 1530082099  # the other half stays lent
    finally:
        evidence.close()


def test_the_store_gives_up_threads_for_another_process_and_takes_them_back() -> None:
    # D118: while the PDF renders on one core, a small store's DuckDB works on one thread fewer, never
    # on none; once the renderer has exited, every thread comes back, whatever share of the memory does
    evidence = store.EvidenceStore.create(memory_limit="2GiB", evidence_bytes=2**20)
    try:
        assert evidence.small
        evidence.con.execute("SET threads = 2")
        assert evidence.threads() == 2
        assert evidence.make_room(0) == 2 * 2**30  # no threads asked: none given up
        assert evidence.threads() == 2
        evidence.make_room(2**29, threads=1)
        assert evidence.threads() == 1
        evidence.make_room(0, threads=1)
        assert evidence.threads() == 1  # never below one
        assert evidence.take_back(0.5) == 2 * 2**30 - 2**28
        assert evidence.threads() == 2
        evidence.take_back(0.5)
        assert evidence.threads() == 2  # nothing more to take back
        evidence.con.execute("SET threads = 1")
        evidence.make_room(0, threads=1)
        evidence.take_back(0.5)
        assert evidence.threads() == 1  # one thread: nothing given up, nothing taken back
    finally:
        evidence.close()
    large = store.EvidenceStore.create(memory_limit="2GiB", evidence_bytes=2**30)  # over half the limit
    try:
        assert not large.small
        large.con.execute("SET threads = 2")
        large.make_room(2**29, threads=1)
        assert large.threads() == 2  # its exports outlast the renderer: it keeps its threads
    finally:
        large.close()


class _FullStore:
    """A connection whose store cannot free enough memory for a lower limit."""

    def __init__(self, setting: str) -> None:
        self.setting, self.sets = setting, 0

    def execute(self, sql: str, params: object = None) -> _FullStore:
        if sql.startswith("SET"):
            self.sets += 1
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not free up enough memory")
        return self

    def fetchone(self) -> tuple[str]:
        return (self.setting,)


def test_the_store_keeps_its_limit_when_it_cannot_make_room() -> None:
    full = _FullStore("1.5 GiB")
    evidence = store.EvidenceStore(full)  # type: ignore[arg-type]
    assert evidence.make_room(2**29) == 3 * 2**29
    assert full.sets == 1
    unknown = _FullStore("unlimited")
    assert store.EvidenceStore(unknown).make_room(2**29) is None  # type: ignore[arg-type]
    assert unknown.sets == 0  # a limit it cannot read is left alone


def test_only_a_failed_write_of_the_store_is_an_output_error() -> None:
    full = duckdb.IOException('IO Error: Could not write file "/tmp/x/evidence.duckdb": No space left on device')
    written = store_write_error(full)
    assert written is not None
    assert written.exit_code == ExitCode.OUTPUT == 4
    assert "No space left on device" in str(written)
    assert store_write_error(duckdb.IOException("IO Error: No files found that match the pattern")) is None
