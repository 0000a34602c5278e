"""Running an importer: each record validated against its kind's model, repeated records merged,
a deterministic order (kind, then id), and the records-jsonl line the bundle loader reads."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import NamedTuple

from pydantic import ValidationError

from reporter.errors import ImportFormatError, Location
from reporter.importers.interface import ImportContext, ImportedRecord, Importer, ImportNote
from reporter.models.kinds import KINDS, kind_names

logger = logging.getLogger(__name__)

_KIND_ORDER = {name: index for index, name in enumerate(kind_names())}


def records_jsonl_line(record: ImportedRecord) -> str:
    """One records-jsonl line: `kind` first, then the fields in name order (no newline)."""
    body = {"kind": record.kind, **dict(sorted(record.data.items()))}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def validate_record(record: ImportedRecord, context: ImportContext) -> None:
    """Raise ImportFormatError when the record does not fit its kind's model (values not quoted)."""
    try:
        KINDS[record.kind].model.model_validate(record.data)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ImportFormatError(
            f"{record.location or 'a record'} cannot become a {record.kind} record: {field}: {first['msg']}",
            Location(file=context.source_path),
        ) from None


class Collected(NamedTuple):
    """What an import gives: the records, and the warnings to show the user next to them."""

    records: list[ImportedRecord]
    notes: list[ImportNote]


def collect(importer: Importer, path: Path, context: ImportContext) -> list[ImportedRecord]:
    """The records of `collect_all`, for callers that show no warnings (tests, sample generator)."""
    return collect_all(importer, path, context).records


def collect_all(importer: Importer, path: Path, context: ImportContext) -> Collected:
    """All records of a file, validated, sorted by (kind order, id), exact repeats dropped, and
    the importer's notes in the order given.

    Two different records with the same kind and id are an error: the natural key of a record
    must identify it, and silently keeping one of two disagreeing records would hide evidence."""
    kept: dict[tuple[int, str], ImportedRecord] = {}
    notes: list[ImportNote] = []
    for record in importer.read(path, context):
        if isinstance(record, ImportNote):
            notes.append(record)
            continue
        validate_record(record, context)
        key = (_KIND_ORDER[record.kind], str(record.data["id"]))
        previous = kept.setdefault(key, record)
        if previous.data != record.data:
            raise ImportFormatError(
                f"{previous.location or 'a record'} and {record.location or 'another record'} "
                f"describe the same {record.kind} record ({key[1]}) differently",
                Location(file=context.source_path),
            )
    logger.debug("%s: %d records from %s", importer.info.format, len(kept), context.source_path)
    return Collected([kept[key] for key in sorted(kept)], notes)
