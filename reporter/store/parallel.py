"""Work run side by side on the evidence store: one thread per worker, each on its own connection
(`store.session`). The checks (D103), the loading of evidence files and the cross-file rules (D104)
use it; each keeps its results in the order of its input, so what they write does not depend on
which worker did what."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Generic, TypeVar

import duckdb

from reporter.store.store import duckdb_threads, session

# Two workers use the core that one statement of ours leaves idle; each statement already uses every
# core DuckDB has, so more workers would share the same cores (measured on two cores only:
# docs/performance.md).
MAX_WORKERS = 2

Connection = duckdb.DuckDBPyConnection
T = TypeVar("T")
R = TypeVar("R")


def default_workers(con: Connection) -> int:
    """How many workers run side by side by default: two when DuckDB has two threads or more, else one."""
    return min(MAX_WORKERS, duckdb_threads(con))


@contextmanager
def sessions(con: Connection, workers: int) -> Iterator[list[Connection]]:
    """`workers` connections to the store: `con` itself for one worker, else as many new sessions,
    closed on every exit path (also when opening one of them fails)."""
    if workers <= 1:
        yield [con]
        return
    opened: list[Connection] = []
    try:
        for _ in range(workers):
            opened.append(session(con))
        yield opened
    finally:
        for other in opened:
            other.close()


def side_by_side(
    work: Callable[[Connection], None],
    connections: list[Connection],
    stop: Callable[[], None],
    minor: tuple[type[BaseException], ...] = (),
) -> None:
    """Run `work` on each connection in its own thread (on the caller's thread for one connection)
    and raise what a worker raised. `stop` tells the workers to take no further work: called on
    Ctrl-C, which also interrupts their queries. Errors of a `minor` type are raised only when no
    worker raised another (a resource limit or an interruption wins over them)."""
    if len(connections) == 1:
        work(connections[0])
        return
    with ThreadPoolExecutor(len(connections), thread_name_prefix="store") as pool:
        futures = [pool.submit(work, con) for con in connections]
        try:
            wait(futures)
        except BaseException:  # Ctrl-C while waiting: stop the workers' queries too
            stop()
            for con in connections:
                con.interrupt()
            raise
    errors = [error for future in futures if (error := future.exception()) is not None]
    errors.sort(key=lambda error: isinstance(error, minor))
    if errors:
        raise errors[0]


class Handout(Generic[T]):
    """Items handed out in order, with their position, to whichever worker asks, until they run out or
    `stop` is called. `on_hand_out(position, item)` runs under the lock, so its calls (progress lines)
    come in order. Thread-safe."""

    def __init__(self, items: Sequence[T], on_hand_out: Callable[[int, T], None] | None = None) -> None:
        self._items: Iterator[tuple[int, T]] = enumerate(items)
        self._on_hand_out = on_hand_out
        self._lock = threading.Lock()
        self._stopped = False

    def next(self) -> tuple[int, T] | None:
        """The next item and its position; None when none is left or the work stopped."""
        with self._lock:
            item = None if self._stopped else next(self._items, None)
            if item is not None and self._on_hand_out is not None:
                self._on_hand_out(*item)
            return item

    def stop(self) -> None:
        """Hand out no further item (a worker failed or the run was interrupted)."""
        with self._lock:
            self._stopped = True


def in_order(con: Connection, items: Sequence[T], task: Callable[[Connection, T], R], workers: int) -> list[R]:
    """`task(connection, item)` for every item, `workers` side by side (items handed out in order to
    whichever worker is free); the results in the order of `items`. For read-only work in autocommit."""
    results: dict[int, R] = {}
    handout = Handout(items)

    def work(connection: Connection) -> None:
        while (item := handout.next()) is not None:
            try:
                results[item[0]] = task(connection, item[1])
            except BaseException:
                handout.stop()  # the other workers take no further item
                raise

    with sessions(con, min(workers, len(items))) as connections:
        side_by_side(work, connections, handout.stop)
    return [results[i] for i in range(len(items))]
