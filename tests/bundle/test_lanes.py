"""Which evidence file loads next when two load side by side (D104): a file waits for every earlier
file that writes one of its kinds, so each kind's table receives its files in the manifest's order;
among the files free to start, the largest goes first."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from reporter.bundle.lanes import Lanes, kinds_written
from reporter.models.kinds import KINDS
from reporter.models.manifest import Source

_AT = datetime(2026, 9, 30, tzinfo=UTC)


def _source(path: str, kind: str | None = None, fmt: str | None = None) -> Source:
    return Source(path=path, kind=kind, format=fmt, collected_at=_AT)


def _drain(lanes: Lanes) -> list[str]:
    """Hand out every file, one worker finishing each file before taking the next."""
    taken = []
    while (item := lanes.next()) is not None:
        taken.append(item[1].path)
        lanes.done(item[0])
    return taken


def test_the_kinds_a_file_may_write() -> None:
    assert kinds_written(_source("f.csv", "findings")) == {"findings"}
    assert kinds_written(_source("t.json", fmt="trivy-json")) == {"scans", "findings", "secret_exposures"}
    assert kinds_written(_source("r.jsonl", fmt="records-jsonl")) == set(KINDS)


def test_one_worker_takes_the_largest_file_first_and_every_file_once() -> None:
    sources = [_source("a.csv", "assets"), _source("f.csv", "findings"), _source("d.csv", "deployments")]
    assert _drain(Lanes(sources, [10, 300, 50], None)) == ["f.csv", "d.csv", "a.csv"]


def _take_in_thread(lanes: Lanes) -> tuple[threading.Thread, list[str | None]]:
    """A second worker asking for a file: the path it got (None: nothing more), once it has one."""
    got: list[str | None] = []
    worker = threading.Thread(target=lambda: got.append(None if (item := lanes.next()) is None else item[1].path))
    worker.start()
    worker.join(0.2)
    return worker, got


def test_a_file_waits_for_the_earlier_files_of_its_kind() -> None:
    sources = [_source("f1.csv", "findings"), _source("f2.csv", "findings"), _source("a.csv", "assets")]
    lanes = Lanes(sources, [10, 500, 1], None)
    first = lanes.next()
    assert first is not None
    assert first[1].path == "f1.csv"  # f2 is larger, but listed after f1
    second = lanes.next()
    assert second is not None
    assert second[1].path == "a.csv"  # f2 must wait for f1
    lanes.done(second[0])
    waiter, got = _take_in_thread(lanes)
    assert waiter.is_alive()  # still waiting: f1 is loading
    assert got == []
    lanes.done(first[0])
    waiter.join(5)
    assert got == ["f2.csv"]


def test_an_import_waits_for_every_earlier_file_of_the_kinds_it_can_write() -> None:
    sources = [_source("f.csv", "findings"), _source("r.jsonl", fmt="records-jsonl"), _source("k.csv", "kev_entries")]
    lanes = Lanes(sources, [1, 1000, 1], None)
    first = lanes.next()
    assert first is not None
    assert first[1].path == "f.csv"
    # records-jsonl may write any kind: it waits for f.csv, and k.csv (listed after it) waits for it
    waiter, got = _take_in_thread(lanes)
    assert waiter.is_alive()
    assert got == []
    lanes.done(first[0])
    waiter.join(5)
    assert got == ["r.jsonl"]


def test_stop_releases_a_waiting_worker_and_hands_out_nothing_more() -> None:
    sources = [_source("f1.csv", "findings"), _source("f2.csv", "findings"), _source("a.csv", "assets")]
    lanes = Lanes(sources, [1, 1, 1], None)
    assert lanes.next() is not None
    assert lanes.next() is not None  # a.csv
    waiter, got = _take_in_thread(lanes)
    assert waiter.is_alive()
    assert got == []
    lanes.stop()
    waiter.join(5)
    assert not waiter.is_alive()
    assert got == [None]


def test_each_hand_out_is_a_progress_line_counting_up() -> None:
    events: list[tuple[str, int, int]] = []
    sources = [_source("a.csv", "assets"), _source("f.csv", "findings")]
    _drain(Lanes(sources, [1, 2], lambda stage, done, total: events.append((stage, done, total))))
    assert events == [("loading f.csv", 0, 2), ("loading a.csv", 1, 2)]
