"""Options shared by the commands that read a bundle (validate, assess, report)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from reporter.bundle.interface import LoadOptions, Progress
from reporter.bundle.limits import DEFAULT_LIMITS, MIB, Limits
from reporter.cli.common import stderr_is_terminal
from reporter.errors import OutputError
from reporter.store.store import MAX_DEFAULT_GB

BundleArg = Annotated[
    Path,
    typer.Argument(
        metavar="BUNDLE", help="Bundle: a directory, .zip or .tar.gz with bundle.yaml at its top.", show_default=False
    ),
]
DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Keep the evidence store as a DuckDB file at this path (query it with SQL: docs/evidence-store.md).",
        dir_okay=False,
    ),
]
MaxFileOption = Annotated[int, typer.Option("--max-file-mib", help="Refuse evidence files larger than this.", min=1)]
MaxLineOption = Annotated[int, typer.Option("--max-line-mib", help="Refuse text lines longer than this.", min=1)]
MemoryOption = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        help=f"Evidence store memory limit, e.g. 4GB (default: 1/8 of memory, 1-{MAX_DEFAULT_GB}GB; spills beyond).",
    ),
]


def limits_from(max_file_mib: int, max_line_mib: int) -> Limits:
    """Limits with the command-line overrides applied."""
    return Limits(
        max_file_bytes=max_file_mib * MIB,
        max_line_bytes=max_line_mib * MIB,
        max_total_bytes=max(DEFAULT_LIMITS.max_total_bytes, max_file_mib * MIB),
    )


DEFAULT_MAX_FILE_MIB = DEFAULT_LIMITS.max_file_bytes // MIB
DEFAULT_MAX_LINE_MIB = DEFAULT_LIMITS.max_line_bytes // MIB


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress | None]:
    """A progress bar on standard error when a person is watching; nothing otherwise."""
    if not enabled or not stderr_is_terminal():
        yield None
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import Progress as RichProgress  # noqa: PLC0415

    # On standard error: standard output carries machine-readable results and is never mixed with it.
    with RichProgress(console=Console(stderr=True), transient=True, redirect_stdout=False) as bar:
        task = bar.add_task("loading evidence", total=None)

        def update(current: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=current[:60])

        yield update


def refuse_outputs_in_bundle(bundle: Path, **outputs: Path | None) -> None:
    """Evidence is never modified: no output (file, directory or evidence store) may be the bundle
    or lie inside a directory bundle (exit 4)."""
    root = Path(os.path.realpath(bundle))
    for option, path in outputs.items():
        if path is None:
            continue
        real = Path(os.path.realpath(path))
        if real == root or (root.is_dir() and real.is_relative_to(root)):
            name = "--" + option.replace("_", "-")
            raise OutputError(f"{name} {path}: refusing to write inside the bundle (evidence is never modified)")


def load_options(
    db: Path | None,
    max_file_mib: int,
    max_line_mib: int,
    memory_limit: str | None,
    progress: Progress | None,
) -> LoadOptions:
    """LoadOptions from the shared command-line options."""
    return LoadOptions(
        limits=limits_from(max_file_mib, max_line_mib),
        database=db,
        memory_limit=memory_limit,
        progress=progress,
    )
