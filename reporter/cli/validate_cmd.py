"""`exposure-reporter validate`: is this bundle usable? Exit 0 valid, 3 invalid, 2 not a bundle.
Text for people, JSON for machines, SARIF 2.1.0 for code scanning (reporter/cli/sarif.py)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from enum import StrEnum
from itertools import groupby
from pathlib import Path
from typing import Annotated

import typer

from reporter.bundle.interface import ValidationReport
from reporter.catalog.loader import load_library
from reporter.cli.bundle_options import (
    DEFAULT_MAX_FILE_MIB,
    DEFAULT_MAX_LINE_MIB,
    BundleArg,
    DbOption,
    MaxFileOption,
    MaxLineOption,
    MemoryOption,
    load_options,
    progress_bar,
    refuse_outputs_in_bundle,
)
from reporter.cli.common import MappingsOption, app, echo, guarded
from reporter.cli.key_options import SealKeyOption, seal_key_ids
from reporter.cli.sarif import sarif
from reporter.errors import ExitCode, printable
from reporter.models.issues import Issue, IssueSeverity
from reporter.pipeline import validate_bundle


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


@app.command()
def validate(
    bundle: BundleArg,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", help="text for people, json for machines, sarif (2.1.0) for code scanning."),
    ] = OutputFormat.TEXT,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors and the summary line only.")] = False,
    db: DbOption = None,
    mappings: MappingsOption = None,
    max_file_mib: MaxFileOption = DEFAULT_MAX_FILE_MIB,
    max_line_mib: MaxLineOption = DEFAULT_MAX_LINE_MIB,
    memory_limit: MemoryOption = None,
    seal_key: SealKeyOption = None,
) -> None:
    """Check a bundle: safe to open, files match their hashes, every record valid, every reference
    resolves, the preparer's seal (if any) verifies. Exit 0 valid (warnings allowed), 3 invalid, 2 not
    a bundle."""
    with guarded(), progress_bar(output_format is OutputFormat.TEXT and not quiet) as progress:
        trusted = seal_key_ids(seal_key)
        refuse_outputs_in_bundle(bundle, db=db)
        library = load_library([mappings] if mappings else [])
        options = load_options(db, max_file_mib, max_line_mib, memory_limit, progress)
        options = replace(options, control_ids=frozenset(library.controls), seal_keys=trusted)
        report = validate_bundle(bundle, options)
    if output_format is OutputFormat.JSON:
        echo(report.model_dump_json(indent=2))
    elif output_format is OutputFormat.SARIF:
        log = sarif(report, sarif_base(bundle), archive=bundle.is_file())
        echo(json.dumps(log, indent=2, ensure_ascii=False))
    else:
        echo(render_text(report, quiet=quiet), nl=False)
    raise typer.Exit(int(ExitCode.OK if report.valid else ExitCode.INVALID))


def sarif_base(bundle: Path) -> str:
    """Where code scanning finds the bundle: its path relative to the working directory (the
    repository root in CI), else its file: URI."""
    real = Path(os.path.realpath(bundle))
    try:
        relative = real.relative_to(Path(os.path.realpath(Path.cwd())))
    except ValueError:
        return real.as_uri()
    return "" if str(relative) == "." else relative.as_posix()


def _where(issue: Issue) -> str:
    parts = []
    if issue.line is not None:
        parts.append(f"line {issue.line}")
    elif issue.record is not None:
        parts.append(f"record {issue.record}")
    if issue.field:
        parts.append(f"field {printable(issue.field)}")
    return ", ".join(parts)


def render_text(report: ValidationReport, *, quiet: bool = False) -> str:
    """Issues grouped by file, then one summary line. Evidence text (file names, values quoted in
    messages) is printed with its control characters escaped: it can never move the cursor,
    recolour the terminal or forge a line of its own."""
    lines: list[str] = []
    shown = [i for i in report.issues if not quiet or i.severity is IssueSeverity.ERROR]
    records = {f.path: f for f in report.files}
    for file, group in groupby(shown, key=lambda i: i.file or ""):
        info = records.get(file)
        head = printable(file) or "(bundle)"
        if info is not None:
            noun = "record" if info.records == 1 else "records"
            head += f"  ({info.records} {noun}: {', '.join(info.kinds) or 'no kind read'})"
        lines.append(head)
        for issue in group:
            where = _where(issue)
            message = printable(issue.message)
            lines.append(f"  {issue.severity.value:<8} {issue.code:<28} {where + ': ' if where else ''}{message}")
    verdict = "valid" if report.valid else "INVALID"
    lines.append(
        f"{printable(report.bundle)}: {verdict} — {report.errors} error(s), {report.warnings} warning(s) in "
        f"{len(report.files)} file(s), {report.records} record(s)"
    )
    return "\n".join(lines) + "\n"
