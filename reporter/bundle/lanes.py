"""Which evidence file loads next, when two load side by side (D104).

A file may start once no file before it in the manifest that writes one of the same kinds is still
waiting or loading: each kind's table then receives its files in the manifest's order, one after
the other, exactly as when every file loads on one connection (rows keep the order they were read
in, and record numbers and "the first" of anything are taken in that order). Among the files that
may start, the largest goes first, so a large file listed last does not leave one worker alone
with it at the end.

A large file loads alone (`alone_above`: the loader passes the store's memory limit divided by
ALONE_FRACTION): its staging table alone fills much of the limit, and DuckDB already reads a file
that large on every core, so a second file beside it only makes both spill (ten million findings
loaded in 76.8 and 86.5 s side by side against 73.4 s one after the other; docs/performance.md).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from reporter.bundle.interface import Progress
from reporter.models.kinds import KINDS
from reporter.models.manifest import TABULAR_FORMATS, Source

# A file larger than this fraction of the store's memory limit loads alone.
ALONE_FRACTION = 8


def kinds_written(source: Source) -> frozenset[str]:
    """The kinds whose tables loading `source` may write: its kind, an importer's kinds, or any kind
    for `exposure-reporter import` output."""
    fmt = source.effective_format
    if fmt in TABULAR_FORMATS and source.kind is not None:
        return frozenset({source.kind})
    from reporter.importers.registry import IMPORTERS  # noqa: PLC0415

    importer = IMPORTERS.get(fmt)
    return frozenset(importer.info.kinds) if importer is not None else frozenset(KINDS)


class Lanes:
    """The files still to load, handed out to whichever worker asks; each hand-out is that file's
    progress line. Thread-safe."""

    def __init__(
        self,
        sources: Sequence[Source],
        sizes: Sequence[int],
        progress: Progress | None,
        alone_above: int | None = None,
    ) -> None:
        pairs = enumerate(zip(sources, sizes, strict=True))
        self._waiting = [(i, source, kinds_written(source), size) for i, (source, size) in pairs]
        self._alone_above = alone_above
        self._loading: dict[int, frozenset[str]] = {}
        self._alone = False  # a file that loads alone is loading
        self._total, self._handed, self._progress = len(sources), 0, progress
        self._changed = threading.Condition()
        self._stopped = False

    def next(self) -> tuple[int, Source] | None:
        """The next file (its position in the manifest and its source), waiting while every file left
        waits on one still loading; None when none is left or the load stopped."""
        with self._changed:
            while True:
                if self._stopped or not self._waiting:
                    return None
                pick = self._ready()
                if pick is not None:
                    break
                self._changed.wait()
            i, source, kinds, size = self._waiting.pop(pick)
            self._loading[i] = kinds
            self._alone = self._is_large(size)
            if self._progress:
                self._progress(f"loading {source.path}", self._handed, self._total)
            self._handed += 1
            return i, source

    def done(self, i: int) -> None:
        """The file at position `i` is in the store: the files after it of its kinds may start."""
        with self._changed:
            self._loading.pop(i, None)
            self._alone = self._alone and bool(self._loading)
            self._changed.notify_all()

    def stop(self) -> None:
        """Hand out no further file (a worker failed or the run was interrupted)."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    def _is_large(self, size: int) -> bool:
        return self._alone_above is not None and size > self._alone_above

    def _ready(self) -> int | None:
        """The index in `_waiting` of the largest file that may start, the earliest of equals."""
        if self._alone:
            return None
        blocked: set[str] = set().union(*self._loading.values())
        best: int | None = None
        for index, (_, _, kinds, size) in enumerate(self._waiting):
            free = not kinds & blocked and not (self._loading and self._is_large(size))
            if free and (best is None or size > self._waiting[best][3]):
                best = index
            blocked |= kinds
        return best
