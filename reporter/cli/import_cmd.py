"""`exposure-reporter import`: one native tool file → canonical records-jsonl (each line one record
with its `kind` first), written atomically; `--list` shows the formats."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from reporter.cli.common import app, echo, guarded
from reporter.errors import ImportFormatError, UsageError, printable
from reporter.importers._common import Where, parse_timestamp
from reporter.importers.interface import ImportContext
from reporter.importers.registry import IMPORTERS, get_importer, importer_formats
from reporter.importers.run import collect_all, records_jsonl_line
from reporter.models.common import ID_PATTERN
from reporter.models.manifest import is_time_zone
from reporter.output import open_output, same_as_stdout

LIST_FORMAT_VERSION = 1
DATE_ORDERS = ("mdy", "dmy", "ymd")


@app.command("import")
def import_command(
    *,
    format_name: Annotated[str | None, typer.Argument(metavar="FORMAT", help="Import format (see --list).")] = None,
    file: Annotated[Path | None, typer.Argument(metavar="FILE", help="Native tool output.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="records-jsonl file to write.")] = None,
    asset_id: Annotated[
        str | None,
        typer.Option("--asset-id", help="Asset the file is about, for formats that do not name it."),
    ] = None,
    collected_at: Annotated[
        str | None,
        typer.Option(
            "--collected-at",
            help="When the file was produced (RFC 3339), when it carries no scan time.",
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="IANA time zone of times the file writes without one (default UTC)."),
    ] = None,
    date_order: Annotated[
        str | None,
        typer.Option("--date-order", help="mdy, dmy or ymd: order of locale-formatted dates (default mdy)."),
    ] = None,
    list_formats: Annotated[bool, typer.Option("--list", help="List the import formats.")] = False,
    list_as: Annotated[str, typer.Option("--format", help="Output of --list: text or json.")] = "text",
) -> None:
    """Convert a native tool file (Trivy, Grype, Gitleaks, ...) into canonical records."""
    with guarded():
        if list_formats:
            echo(_listing(list_as), nl=False)
            return
        if format_name is None or file is None or output is None:
            raise UsageError("usage: exposure-reporter import FORMAT FILE --output FILE (or --list)")
        importer = get_importer(format_name)
        context = _context(file, output, asset_id, collected_at)
        context = replace(context, timezone=_zone(timezone), date_order=_date_order(date_order))
        records, notes = collect_all(importer, file, context)
        _write_atomically(output, (records_jsonl_line(r) for r in records))
        for note in notes:  # what the records cannot prove (e.g. a scan that examined nothing)
            where = f"{note.location}: " if note.location else ""
            echo(f"warning: {file}: {printable(where + note.message)}", err=True)
        counts = Counter(r.kind for r in records)
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "no records"
        echo(f"{output}: {summary}", err=same_as_stdout(output))  # `-o /dev/stdout`: records alone there


def _context(file: Path, output: Path, asset_id: str | None, collected_at: str | None) -> ImportContext:
    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    if os.path.realpath(output) == os.path.realpath(file):
        raise UsageError("--output must not be the input file: evidence is never modified")
    if asset_id is not None and not re.fullmatch(ID_PATTERN, asset_id):
        raise UsageError("--asset-id: not a valid identifier (letters, digits and ._:/@#+=~-)")
    moment = None
    if collected_at is not None:
        try:
            moment = parse_timestamp(collected_at, Where("--collected-at"))
        except ImportFormatError as exc:
            raise UsageError(f"--collected-at {exc.message}") from None
    return ImportContext(source_path=str(file), asset_id=asset_id, collected_at=moment)


def _zone(name: str | None) -> str | None:
    if name is not None and not is_time_zone(name):
        raise UsageError("--timezone: not an IANA time zone name (e.g. UTC, Europe/Berlin, America/New_York)")
    return name


def _date_order(order: str | None) -> str | None:
    if order is not None and order not in DATE_ORDERS:
        raise UsageError("--date-order must be one of: " + ", ".join(DATE_ORDERS))
    return order


def _write_atomically(target: Path, lines: Iterable[str]) -> None:
    """Never a half-written output, never a replaced device, FIFO or link (reporter.output)."""
    with open_output(target) as handle:
        for line in lines:
            handle.write(line.encode("utf-8") + b"\n")


def _listing(list_as: str) -> str:
    """The formats as a text table or as versioned JSON."""
    infos = [IMPORTERS[name].info for name in importer_formats()]
    if list_as == "json":
        body = {
            "format_version": LIST_FORMAT_VERSION,
            "importers": [
                {
                    "format": i.format,
                    "tool": i.tool,
                    "kinds": list(i.kinds),
                    "tested_versions": i.tested_versions,
                    "produce_with": i.produce_with,
                    "notes": i.notes,
                    "extensions": list(i.extensions),
                }
                for i in infos
            ],
        }
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    if list_as != "text":
        raise UsageError("--format must be text or json")
    rows = [("FORMAT", "TOOL", "KINDS", "TESTED WITH")]
    rows += [(i.format, i.tool, ", ".join(i.kinds), i.tested_versions) for i in infos]
    widths = [max(len(row[c]) for row in rows) for c in range(3)]
    return "".join(
        "  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row[:3])) + "  " + row[3] + "\n" for row in rows
    )
