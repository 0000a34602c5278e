"""Shared command-line plumbing: the Typer app, global options, turning errors into exit codes,
printing (evidence text escaped; a closed pipe is not an error), and the run scope: a private
temporary directory removed on every exit path, and signals that stop the run cleanly."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn, TextIO

import duckdb
import typer

from reporter import __version__, output
from reporter.errors import ExitCode, OutputError, ReporterError, ResourceError, printable
from reporter.store.store import default_memory_limit

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_GRACE_S = 3.0  # after a signal, how long cleanup may take before the process is ended anyway

app = typer.Typer(
    name="exposure-reporter",
    help="Check security evidence bundles against a control library and write audit-grade gap "
    "reports: patching activity versus verified risk reduction.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # rich tracebacks print local variables, i.e. evidence
    rich_markup_mode=None,  # help text is plain: a docstring's line breaks are not kept, its paragraphs are
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _State:
    debug: bool = False
    stopping: int | None = None  # the signal that is stopping the run
    cleaning: bool = False  # the run is removing its temporary files: a signal must not interrupt that
    run_dir: Path | None = None


state = _State()

MappingsOption = Annotated[
    Path | None,
    typer.Option(
        "--mappings",
        help="Organisation pack directory: adds frameworks, controls and references (docs/mappings.md).",
        exists=True,
        file_okay=False,
        dir_okay=True,
        resolve_path=True,
    ),
]


def _version(value: bool) -> None:
    if value:
        echo(f"exposure-reporter {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a traceback for errors (never evidence values).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    state.debug = debug


def echo(text: str = "", *, nl: bool = True, err: bool = False) -> None:
    """Write to standard output (or error). A reader that went away (`| head -1`) is normal in a
    pipeline: the rest of the output is discarded and the command still ends with its own code."""
    stream = sys.stderr if err else sys.stdout
    try:
        stream.write(text + ("\n" if nl else ""))
        stream.flush()
    except BrokenPipeError:
        discard(stream)


def discard(stream: TextIO) -> None:
    """Send the rest of a closed stream's output to /dev/null (also what is still buffered)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError):  # not a real file (tests capture output in memory)
        pass


def err(message: str) -> None:
    """Write to standard error (the tool's own lines; evidence in them is already escaped)."""
    echo(message.rstrip("\n"), err=True)


def fail(error: ReporterError) -> NoReturn:
    """Print an error as one clear line and exit with its code."""
    if state.debug:
        traceback.print_exception(error, limit=20)
    err(f"error: {printable(str(error))}")
    raise typer.Exit(int(error.exit_code))


def report_internal_error(exc: BaseException) -> None:
    """An unexpected exception: a bug. One line, plus a traceback only with --debug."""
    if state.debug:
        traceback.print_exception(exc, limit=30)
    err(
        f"internal error: {type(exc).__name__}: {printable(str(exc)[:300])}. This is a bug in exposure-reporter; "
        "run again with --debug for a traceback and report it."
    )


def resource_error(exc: BaseException) -> ResourceError:
    """Out of memory: name the limit that tripped and the option that raises it (exit 7)."""
    if isinstance(exc, duckdb.OutOfMemoryException):
        used = re.search(r"\(([^()]*/[^()]*) used\)", str(exc))
        figures = f" ({used.group(1)} used)" if used else ""
        return ResourceError(
            f"the evidence store reached its memory limit{figures}. Raise it with --memory-limit "
            f"(default here {default_memory_limit()}, e.g. --memory-limit 8GB); beyond the limit DuckDB "
            "spills to a temporary directory under TMPDIR, which needs free disk space"
        )
    return ResourceError(
        "the machine ran out of memory. Lower --memory-limit so that the evidence store spills to disk "
        "sooner, or run on a machine with more memory"
    )


# DuckDB's words when the store's file or its spill files cannot be written (disk full, file size limit).
_WRITE_FAILED = ("Could not write file", "No space left on device", "File too large", "Failed to create checkpoint")


def store_write_error(exc: BaseException) -> OutputError | None:
    """When the store's database file (under TMPDIR, or at --db) or its spill files could not be
    written: an output error (exit 4) that says where to make room, not an internal error."""
    text = str(exc)
    if not isinstance(exc, (duckdb.IOException, duckdb.FatalException)) or not any(m in text for m in _WRITE_FAILED):
        return None
    first = printable(text.split("\n", 1)[0][:240])
    return OutputError(
        "the evidence store was not written completely (is the disk full? the store and its spill files "
        f"go under TMPDIR, or to the --db path): {first}"
    )


class Terminated(BaseException):
    """The run was stopped by a signal; it exits with 128 + the signal's number after cleaning up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def guarded() -> Iterator[None]:
    """Run a command body: ReporterError → its exit code, anything else → internal error (5)."""
    try:
        yield
    except typer.Exit:
        raise
    except ReporterError as error:
        fail(error)
    except (duckdb.OutOfMemoryException, MemoryError) as exc:
        if state.stopping is not None:
            raise Terminated(state.stopping) from None
        if state.debug:  # where the limit tripped (fail() below prints only the message)
            traceback.print_exception(exc, limit=30)
        fail(resource_error(exc))
    except Exception as exc:
        if state.stopping is not None:  # e.g. DuckDB reports the signal as "Query interrupted"
            raise Terminated(state.stopping) from None
        written = store_write_error(exc)
        if written is not None:
            fail(written)
        report_internal_error(exc)
        raise typer.Exit(int(ExitCode.INTERNAL)) from None


@contextmanager
def run_scope() -> Iterator[None]:
    """What one command-line run owns: a private temporary directory that every temporary file of
    the run goes into (extraction, the store's spill files, the PDF renderer's fonts), removed on
    every exit path; and handlers for SIGINT, SIGTERM and SIGHUP that stop the run cleanly."""
    try:
        run_dir = Path(tempfile.mkdtemp(prefix="exposure-reporter-run-"))
    except OSError as exc:
        raise OutputError(f"cannot create a temporary directory ({exc.strerror or exc}); set TMPDIR") from None
    saved_dir, saved_env = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir, os.environ["TMPDIR"], state.run_dir = str(run_dir), str(run_dir), run_dir
    handlers = {number: signal.signal(number, _on_signal) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        state.cleaning = True
        output.remove_pending()
        shutil.rmtree(run_dir, ignore_errors=True)
        tempfile.tempdir, state.run_dir = saved_dir, None
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env
        for number, handler in handlers.items():
            signal.signal(number, handler)
        state.cleaning = False


def _on_signal(number: int, frame: FrameType | None) -> None:
    del frame
    if state.stopping is not None or state.cleaning:
        return  # already stopping or cleaning up: let the cleanup finish
    state.stopping = number
    _start_watchdog(number)
    if not output.defer_if_switching(lambda: _stop(number)):  # a report set switch finishes first
        _stop(number)


def _stop(number: int) -> NoReturn:
    raise Terminated(number)


def _start_watchdog(number: int) -> None:
    """Native code (a long DuckDB query) can delay the Python-level stop: end the process anyway
    after a grace period, removing the run's temporary files first (never during a switch)."""

    def watch() -> None:
        time.sleep(STOP_GRACE_S)
        with output.SWITCH_LOCK:
            output.remove_pending()
            if state.run_dir is not None:
                shutil.rmtree(state.run_dir, ignore_errors=True)
            sys.stderr.write(f"stopped by {signal.Signals(number).name}\n")
            os._exit(128 + number)

    threading.Thread(target=watch, name="stop-watchdog", daemon=True).start()


def stderr_is_terminal() -> bool:
    """Progress bars only when a person is watching."""
    return sys.stderr.isatty()


__all__ = [
    "ExitCode",
    "MappingsOption",
    "Terminated",
    "app",
    "discard",
    "echo",
    "err",
    "fail",
    "guarded",
    "report_internal_error",
    "run_scope",
    "state",
    "stderr_is_terminal",
    "store_write_error",
]
