"""Shared command-line plumbing: the Typer app, global options, and turning errors into exit codes."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from reporter import __version__
from reporter.errors import ExitCode, ReporterError

app = typer.Typer(
    name="exposure-reporter",
    help="Check security evidence bundles against a control library and write audit-grade gap "
    "reports: patching activity versus verified risk reduction.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # rich tracebacks print local variables, i.e. evidence
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _State:
    debug: bool = False


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
        typer.echo(f"exposure-reporter {__version__}")
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


def err(message: str) -> None:
    """Write one line to standard error."""
    sys.stderr.write(message.rstrip("\n") + "\n")


def fail(error: ReporterError) -> NoReturn:
    """Print an error as one clear line and exit with its code."""
    if state.debug:
        traceback.print_exception(error, limit=20)
    err(f"error: {error}")
    raise typer.Exit(int(error.exit_code))


def report_internal_error(exc: BaseException) -> None:
    """An unexpected exception: a bug. One line, plus a traceback only with --debug."""
    if state.debug:
        traceback.print_exception(exc, limit=30)
    err(
        f"internal error: {type(exc).__name__}: {exc}. This is a bug in exposure-reporter; "
        "run again with --debug for a traceback and report it."
    )


@contextmanager
def guarded() -> Iterator[None]:
    """Run a command body: ReporterError → its exit code, anything else → internal error (5)."""
    try:
        yield
    except typer.Exit:
        raise
    except ReporterError as error:
        fail(error)
    except MemoryError as exc:
        report_internal_error(exc)
        raise typer.Exit(int(ExitCode.INTERNAL)) from None
    except Exception as exc:
        report_internal_error(exc)
        raise typer.Exit(int(ExitCode.INTERNAL)) from None


def stderr_is_terminal() -> bool:
    """Progress bars only when a person is watching."""
    return sys.stderr.isatty()


__all__ = [
    "ExitCode",
    "MappingsOption",
    "app",
    "err",
    "fail",
    "guarded",
    "report_internal_error",
    "state",
    "stderr_is_terminal",
]
