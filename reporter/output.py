"""Atomic output: every file appears whole or not at all, and a report set is replaced together."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from reporter.errors import OutputError


def _default_mode() -> int:
    """Regular file permissions under the process umask (mkstemp would give 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory, then rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_set(directory: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write several outputs into `directory`: all are written to a staging folder first, then
    renamed into place, so a failure leaves the previous outputs untouched."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".exposure-reporter-", dir=directory))
    except OSError as exc:
        raise OutputError(f"cannot write to {directory}: {exc.strerror or exc}") from None
    try:
        mode = _default_mode()
        for name, data in files.items():
            (staging / name).write_bytes(data)
            os.chmod(staging / name, mode)
        written = []
        for name in files:
            os.replace(staging / name, directory / name)
            written.append(directory / name)
        return written
    except OSError as exc:
        raise OutputError(f"cannot write to {directory}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def staged_file(path: Path) -> Iterator[Path]:
    """A temporary path next to `path` that is renamed onto it when the block succeeds."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        Path(tmp).unlink()
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        yield Path(tmp)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
        Path(tmp + ".wal").unlink(missing_ok=True)
