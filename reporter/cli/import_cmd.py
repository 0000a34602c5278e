"""`exposure-reporter import`: one native tool file → canonical records-jsonl (each line one record
with its `kind` first), written atomically; `--list` shows the formats."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from reporter.cli.common import app, guarded
from reporter.errors import ImportFormatError, OutputError, UsageError
from reporter.importers._common import Where, parse_timestamp
from reporter.importers.interface import ImportContext
from reporter.importers.registry import IMPORTERS, get_importer, importer_formats
from reporter.importers.run import collect, records_jsonl_line
from reporter.models.common import ID_PATTERN

LIST_FORMAT_VERSION = 1


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
    list_formats: Annotated[bool, typer.Option("--list", help="List the import formats.")] = False,
    list_as: Annotated[str, typer.Option("--format", help="Output of --list: text or json.")] = "text",
) -> None:
    """Convert a native tool file (Trivy, Grype, Gitleaks, ...) into canonical records."""
    with guarded():
        if list_formats:
            typer.echo(_listing(list_as), nl=False)
            return
        if format_name is None or file is None or output is None:
            raise UsageError("usage: exposure-reporter import FORMAT FILE --output FILE (or --list)")
        importer = get_importer(format_name)
        context = _context(file, output, asset_id, collected_at)
        records = collect(importer, file, context)
        _write_atomically(output, (records_jsonl_line(r) for r in records))
        counts = Counter(r.kind for r in records)
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "no records"
        typer.echo(f"{output}: {summary}")


def _context(file: Path, output: Path, asset_id: str | None, collected_at: str | None) -> ImportContext:
    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    if output.exists() and output.resolve() == file.resolve():
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


def _write_atomically(target: Path, lines: Iterable[str]) -> None:
    """Temp file in the target's directory, then os.replace: never a half-written output."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"{target}: cannot be written ({type(exc).__name__})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            for line in lines:
                stream.write(line + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise OutputError(f"{target}: cannot be written ({type(exc).__name__})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


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
