"""Writing outputs: every file appears whole or not at all, at the path the user named, and a report
set changes in one step.

- A regular file (or a new path) is written to a temporary file beside it and renamed onto it; a
  symbolic link is written through (its target is replaced, the link stays).
- A character device or FIFO (`/dev/null`, `/dev/stdout`, a named pipe) is written directly: it is
  never replaced by a file. Anything else (a directory, block device, socket) is refused (exit 4).
- The evidence store (`--db`) only ever replaces an earlier evidence store, and is checked to be
  complete before it does (a full disk leaves DuckDB's checkpoint unwritten, silently).
- A report set is written to a staging directory and switched in with one atomic exchange of
  directories when the output directory holds only report files, else file by file with a rollback;
  either way under a lock, so two runs never mix their files.

Temporary paths are registered while they exist, so a run stopped by a signal can remove them.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from reporter.errors import OutputError

# A file's content: in memory, or spooled to a file on disk (the exports of a large bundle, which
# would not fit in memory). A spooled file is read in chunks, never whole, and never modified.
Payload = bytes | Path
_CHUNK = 1 << 20

LOCK_TIMEOUT_S = 120.0  # a report set switch takes milliseconds; waiting longer means a stuck writer
_STAGE_PREFIX = ".exposure-reporter-"
_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of a DuckDB database file
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100

_pending: set[Path] = set()  # temporary files and directories that exist right now
_pending_lock = threading.Lock()
SWITCH_LOCK = threading.RLock()  # held while a report set is being switched in


def _default_mode(base: int = 0o666) -> int:
    """Permissions under the process umask (mkstemp would give 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def _register(path: Path) -> None:
    with _pending_lock:
        _pending.add(path)


def _forget(path: Path) -> None:
    with _pending_lock:
        _pending.discard(path)


def remove_pending() -> None:
    """Remove every temporary output that still exists (a run stopped by a signal)."""
    with _pending_lock:
        paths = sorted(_pending, key=lambda p: len(p.parts), reverse=True)
        _pending.clear()
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()


def _cannot(path: Path, exc: OSError | str) -> OutputError:
    reason = exc if isinstance(exc, str) else (exc.strerror or str(exc))
    return OutputError(f"cannot write {path}: {reason}")


# --- single files --------------------------------------------------------------------------------


def _is_stream(path: Path, info: os.stat_result) -> bool:
    # /dev/stdout, /dev/fd/N, /proc/self/fd/N name whatever the descriptor is: write it, never replace it.
    special_dir = str(path).startswith(("/dev/", "/proc/"))
    return stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode) or (special_dir and stat.S_ISREG(info.st_mode))


def _target(path: Path) -> tuple[Path, os.stat_result | None]:
    """Where a file output goes, and what is there now (None: nothing). OutputError for anything
    that must not be replaced."""
    try:
        info = os.stat(path)  # follows links: a link is written through
    except FileNotFoundError:
        if os.path.lexists(path):
            raise _cannot(path, "it is a symbolic link to a missing file; refusing to replace the link") from None
        return path, None
    except OSError as exc:
        raise _cannot(path, exc) from None
    if _is_stream(path, info):
        return path, info
    if stat.S_ISDIR(info.st_mode):
        raise _cannot(path, "it is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise _cannot(path, "it is neither a regular file, a character device nor a FIFO; refusing to replace it")
    return Path(os.path.realpath(path)), info


def same_as_stdout(path: Path) -> bool:
    """Whether `path` names the file standard output writes to (then nothing else should go there)."""
    try:
        out, target = os.fstat(1), os.stat(path)
    except OSError:
        return False
    return (out.st_dev, out.st_ino) == (target.st_dev, target.st_ino)


@contextmanager
def open_output(path: Path) -> Iterator[BinaryIO]:
    """A binary handle whose content replaces `path` when the block succeeds (or, for a device or
    FIFO, is written to it directly). OutputError (exit 4) when it cannot be written."""
    real, info = _target(path)
    if info is not None and _is_stream(path, info):
        with _stream(path) as handle:
            yield handle
        return
    mode = stat.S_IMODE(info.st_mode) if info is not None else _default_mode()
    with _staged(real, path, mode, os.replace) as handle:
        yield handle


@contextmanager
def _staged(real: Path, shown: Path, mode: int, publish: Callable[[Path, Path], None]) -> Iterator[BinaryIO]:
    """A temporary file beside `real` (created 0600), written by the block, synced, given `mode` and
    published with `publish(temporary, real)`; removed whatever happens. Errors name `shown`."""
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    except OSError as exc:
        raise _cannot(shown, exc) from None
    temporary = Path(name)
    _register(temporary)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        publish(temporary, real)
    except FileExistsError:
        raise _cannot(shown, "it exists; refusing to overwrite it") from None
    except OSError as exc:
        raise _cannot(shown, exc) from None
    finally:
        temporary.unlink(missing_ok=True)
        _forget(temporary)


@contextmanager
def _stream(path: Path) -> Iterator[BinaryIO]:
    try:
        # O_APPEND: /dev/stdout redirected to a file keeps what the process already wrote there.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise _cannot(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
    except BrokenPipeError:
        return  # the reader of a pipe went away: that is its choice, not a failure
    except OSError as exc:
        raise _cannot(path, exc) from None


def payload_size(payload: Payload) -> int:
    """The content's size in bytes, without reading a spooled file."""
    return len(payload) if isinstance(payload, bytes) else payload.stat().st_size


def payload_bytes(payload: Payload) -> bytes:
    """The content in memory (only for contents known to be small)."""
    return payload if isinstance(payload, bytes) else payload.read_bytes()


def payload_sha256(payload: Payload) -> str:
    """The content's SHA-256 (hex), a spooled file read in chunks."""
    if isinstance(payload, bytes):
        return hashlib.sha256(payload).hexdigest()
    digest = hashlib.sha256()
    with payload.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_payload(handle: BinaryIO, payload: Payload) -> None:
    """Write the content to an open binary handle, a spooled file in chunks."""
    if isinstance(payload, bytes):
        handle.write(payload)
        return
    with payload.open("rb") as source:
        shutil.copyfileobj(source, handle, _CHUNK)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` (see open_output)."""
    with open_output(path) as handle:
        handle.write(data)


def write_private(path: Path, data: bytes, *, mode: int = 0o600, overwrite: bool = False) -> None:
    """Write a file that must not be readable by others (a private key): created with `mode` from the
    start, complete before it appears, and — unless `overwrite` — never replacing an existing file."""
    if os.path.lexists(path) and not overwrite:
        raise _cannot(path, "it exists; refusing to overwrite it")
    # os.link fails if the path appeared meanwhile: never replace
    with _staged(path, path, mode, os.replace if overwrite else os.link) as handle:
        handle.write(data)


# --- the evidence store --------------------------------------------------------------------------


def is_store(path: Path) -> bool:
    """Whether `path` is a regular file holding a DuckDB database."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return False
    return head[8:12] == _DUCKDB_MAGIC


@contextmanager
def staged_file(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` for the evidence store (DuckDB); renamed onto `path` when the
    block succeeds and the store is complete. Only an earlier store is ever replaced."""
    real, info = _target(path)
    if info is not None and (_is_stream(path, info) or not is_store(real)):
        raise _cannot(path, "it exists and is not an evidence store (DuckDB file); refusing to replace it")
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
        os.close(fd)
        os.unlink(name)  # DuckDB creates the file itself
    except OSError as exc:
        raise _cannot(path, exc) from None
    temporary, wal = Path(name), Path(name + ".wal")
    _register(temporary)
    _register(wal)
    try:
        yield temporary
        if temporary.exists():  # no store when the bundle could not even be opened
            _check_store(temporary, wal, path)
            os.chmod(temporary, stat.S_IMODE(info.st_mode) if info is not None else _default_mode())
            os.replace(temporary, real)
    except OSError as exc:
        raise _cannot(path, exc) from None
    finally:
        for item in (temporary, wal):
            item.unlink(missing_ok=True)
            _forget(item)


def _check_store(temporary: Path, wal: Path, path: Path) -> None:
    # A store whose checkpoint failed (disk full, file size limit) has no tables, or a WAL left behind.
    import duckdb  # noqa: PLC0415 - only needed with --db

    incomplete = _cannot(path, "the evidence store was not written completely (is the disk full?)")
    if wal.exists():
        raise incomplete
    try:
        con = duckdb.connect(str(temporary), read_only=True)
        try:
            row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'bundle'").fetchone()
        finally:
            con.close()
    except duckdb.Error:
        raise incomplete from None
    if not row or row[0] != 1:
        raise incomplete


# --- report sets ---------------------------------------------------------------------------------


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on the directory that holds the output directory (its parent), so
    concurrent runs writing the same report directory take turns."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError as exc:
        raise _cannot(directory, exc) from None
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise _cannot(directory, "another run holds its lock") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def prepare_directory(directory: Path) -> Path:
    """Create the output directory if missing and check it can take a report set (exit 4 early)."""
    real = Path(os.path.realpath(directory))
    try:
        real.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkdtemp(prefix=_STAGE_PREFIX, dir=real))
        # Gone already when another run switched its report set in meanwhile: the probe went with
        # the directory it replaced, and the one now at this path is as writable.
        with contextlib.suppress(FileNotFoundError):
            probe.rmdir()
    except OSError as exc:
        raise _cannot(directory, exc) from None
    return real


def write_set(directory: Path, files: Mapping[str, Payload], owned: frozenset[str] = frozenset()) -> list[Path]:
    """Write several outputs into `directory` as one set: all of them, or none and the previous set
    untouched. `owned` names the files a report set consists of: those of a previous set that this
    set does not write are removed in the same step, so the directory never mixes two runs."""
    real = prepare_directory(directory)
    owned = owned | frozenset(files)
    with _locked(real.parent), SWITCH_LOCK:
        stage = None
        if _dedicated(real, owned):  # stage beside it, then exchange the two directories
            with contextlib.suppress(OutputError):
                stage = _stage(real.parent, f".{real.name}{_STAGE_PREFIX}", files)
        if stage is None:
            stage = _stage(real, _STAGE_PREFIX, files)
        try:
            with _switching():
                beside = stage.parent == real.parent
                if not (beside and _exchange(stage, real)):  # one step; else (mount point...) file by file
                    stage = _move_into(stage, real) if beside else stage
                    _switch_files(stage, real, files, owned)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
            _forget(stage)
    return [real / name for name in files]


_deferred: list[Callable[[], None]] = []
_in_switch = False


def defer_if_switching(action: Callable[[], None]) -> bool:
    """Called by a signal handler: while a report set is being switched in, postpone `action`
    (stopping the run) until the switch is complete, so no signal leaves a mixed directory."""
    if _in_switch:
        _deferred.append(action)
        return True
    return False


@contextmanager
def _switching() -> Iterator[None]:
    global _in_switch  # noqa: PLW0603 - one process-wide switch, read by signal handlers
    _in_switch = True
    try:
        yield
    finally:
        _in_switch = False
        actions = list(_deferred)
        _deferred.clear()
        for action in actions:
            action()


def _dedicated(directory: Path, owned: frozenset[str]) -> bool:
    """Whether the directory holds nothing but a report set (then it can be exchanged whole). Not
    the working directory: a shell sitting in it would be left in the replaced one."""
    if os.path.ismount(directory) or directory == Path.cwd():
        return False
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return False
    return all(
        (e.name in owned and e.is_file(follow_symlinks=False)) or e.name.startswith(_STAGE_PREFIX) for e in entries
    )


def _stage(parent: Path, prefix: str, files: Mapping[str, Payload]) -> Path:
    """A staging directory in `parent` holding every file, flushed to disk."""
    try:
        stage = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    except OSError as exc:
        raise _cannot(parent, exc) from None
    _register(stage)
    try:
        mode = _default_mode()
        for file_name, data in files.items():
            target = stage / file_name
            if isinstance(data, Path) and _link(data, target):  # a spooled export: no copy of gigabytes
                with target.open("rb") as handle:
                    os.fsync(handle.fileno())
            else:
                with target.open("wb") as handle:
                    write_payload(handle, data)
                    handle.flush()
                    os.fsync(handle.fileno())
            os.chmod(target, mode)
        os.chmod(stage, _default_mode(0o777))
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        _forget(stage)
        raise _cannot(parent, exc) from None
    return stage


def _link(spooled: Path, target: Path) -> bool:
    """Give a spooled file (the run's own, never written again) a second name in the stage: done at
    once on the same file system; False (then it is copied) across file systems or where links are
    not supported."""
    try:
        os.link(spooled, target)
    except OSError:
        return False
    return True


def _exchange(stage: Path, directory: Path) -> bool:
    """Atomically swap two directories (Linux renameat2 RENAME_EXCHANGE). False if unavailable."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(stage), _AT_FDCWD, os.fsencode(directory), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.EBUSY, errno.EPERM, errno.ENOTSUP):
        return False
    raise _cannot(directory, os.strerror(code))


def _move_into(stage: Path, directory: Path) -> Path:
    inside = directory / f"{_STAGE_PREFIX}{stage.name}"
    try:
        os.rename(stage, inside)
    except OSError as exc:
        raise _cannot(directory, exc) from None
    _forget(stage)
    _register(inside)
    return inside


def _switch_files(stage: Path, directory: Path, files: Mapping[str, Payload], owned: frozenset[str]) -> None:
    """Move each staged file into place, keeping what it replaces in the stage until all succeed;
    on any failure, move everything back."""
    previous = stage / ".previous"
    moves: list[tuple[Path, Path]] = []  # (from, to), in the order done
    try:
        previous.mkdir()
        stale = sorted(n for n in owned - set(files) if (directory / n).is_file())
        for name in [*stale, *files]:
            if os.path.lexists(directory / name):
                os.rename(directory / name, previous / name)
                moves.append((directory / name, previous / name))
            if name in files:
                os.rename(stage / name, directory / name)
                moves.append((stage / name, directory / name))
    except OSError as exc:
        for origin, moved in reversed(moves):
            with contextlib.suppress(OSError):
                os.rename(moved, origin)
        raise _cannot(directory, exc) from None
