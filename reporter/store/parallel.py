"""Work run side by side on the evidence store: one thread per worker, each on its own connection
(`store.session`). The loading of evidence files (D104) and the checks (D103) use it; both hand out
their work from a queue of their own and keep their results in the order of their input, so what
they write does not depend on which worker did what."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

import duckdb

from reporter.store.store import session

# Two workers use the core that one statement of ours leaves idle; each statement already uses every
# core DuckDB has, so more workers would share the same cores (measured on two cores only:
# docs/performance.md).
MAX_WORKERS = 2

Connection = duckdb.DuckDBPyConnection
T = TypeVar("T")
R = TypeVar("R")


def default_workers(con: Connection) -> int:
    """How many workers run side by side by default: two when DuckDB has two threads or more, else one."""
    row = con.execute("SELECT current_setting('threads')").fetchone()
    return max(1, min(MAX_WORKERS, int(row[0]) if row else 1))


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


def in_order(con: Connection, items: Sequence[T], task: Callable[[Connection, T], R], workers: int) -> list[R]:
    """`task(connection, item)` for every item, `workers` side by side (items handed out in order to
    whichever worker is free); the results in the order of `items`. For read-only work in autocommit."""
    results: dict[int, R] = {}
    handed = iter(enumerate(items))
    lock = threading.Lock()
    stopped = threading.Event()

    def work(connection: Connection) -> None:
        while not stopped.is_set():
            with lock:
                item = next(handed, None)
            if item is None:
                return
            try:
                results[item[0]] = task(connection, item[1])
            except BaseException:
                stopped.set()  # the other workers take no further item
                raise

    with sessions(con, min(workers, len(items))) as connections:
        side_by_side(work, connections, stopped.set)
    return [results[i] for i in range(len(items))]
