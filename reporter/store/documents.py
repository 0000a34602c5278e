"""Document kinds (exceptions, agents): small files with nested fields, validated per record
with pydantic so each problem names its field path (`compensating_controls[0].verified_at`)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from pydantic import ValidationError

from reporter.bundle.limits import Limits
from reporter.bundle.safetext import allow_csv_fields, load_json, reading
from reporter.bundle.safeyaml import load_yaml
from reporter.errors import EvidenceError, Location
from reporter.models.common import StrictModel
from reporter.models.issues import Issue, IssueSeverity
from reporter.models.plausible import implausible_fields
from reporter.store.columns import ColumnSpec
from reporter.store.messages import field_path, pydantic_issues
from reporter.store.rules import FALSE_WORDS, TRUE_WORDS


@dataclass(frozen=True)
class RawRecord:
    """One record before validation, with where it came from."""

    data: Any
    record: int
    line: int | None
    lines: dict[tuple[str | int, ...], int] | None = None  # YAML: line of each nested field


def _csv_cell(column: ColumnSpec, text: str, where: Location, limits: Limits) -> Any:
    text = text.strip()
    if text == "":
        return None
    if column.scalar == "list":
        if text.startswith("["):
            return load_json(text, where, limits)
        return [part.strip() for part in text.split(";") if part.strip()]
    if column.scalar == "object":
        return load_json(text, where, limits)
    if column.scalar == "boolean":
        low = text.lower()
        return True if low in TRUE_WORDS else False if low in FALSE_WORDS else text
    return text


def _read_csv(path: Path, rel: str, columns: tuple[ColumnSpec, ...], limits: Limits) -> list[RawRecord]:
    allow_csv_fields(limits)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            return list(_csv_records(reader, rel, {c.name: c for c in columns}, limits))
        except (UnicodeDecodeError, csv.Error):
            with reading(rel, reader.line_num + 1):
                raise
    raise AssertionError("unreachable")  # pragma: no cover - `reading` always raises


def _csv_records(
    reader: Iterator[list[str]], rel: str, by_name: dict[str, ColumnSpec], limits: Limits
) -> Iterator[RawRecord]:
    header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
    line = reader.line_num + 1  # type: ignore[attr-defined]
    record = 0
    for row in reader:
        if row:
            if len(row) != len(header):
                raise EvidenceError(
                    f"row has {len(row)} fields, the header has {len(header)}",
                    Location(file=rel, line=line),
                    code="file.bad-syntax",
                )
            data: dict[str, Any] = {}
            for name, text in zip(header, row, strict=True):
                column = by_name.get(name)
                where = Location(file=rel, line=line, field=name[:80])
                data[name] = _csv_cell(column, text, where, limits) if column else text
            record += 1
            yield RawRecord({k: v for k, v in data.items() if v is not None}, record, line)
        line = reader.line_num + 1  # type: ignore[attr-defined]


def read_raw(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    rel: str,
    fmt: str,
    columns: tuple[ColumnSpec, ...],
    limits: Limits,
) -> list[RawRecord]:
    """Records of a document-kind file, in any tabular format."""
    if fmt == "csv":
        return _read_csv(path, rel, columns, limits)
    if fmt == "yaml":
        document = load_yaml(path.read_bytes(), rel, limits)
        if not isinstance(document.data, list):
            raise EvidenceError(
                "must hold a YAML list of records",
                Location(file=rel, line=1),
                code="file.not-a-list",
            )
        return [
            RawRecord(
                item,
                i + 1,
                document.line_of((i,)),
                {k[1:]: v for k, v in document.lines.items() if k[:1] == (i,)},
            )
            for i, item in enumerate(document.data)
        ]
    # JSON shapes reuse the staging readers, which already enforce the limits and line numbers.
    from reporter.store import staging  # noqa: PLC0415

    if fmt == "jsonl":
        staging.stage_jsonl(con, path, rel, limits)
    elif fmt == "json":
        staging.stage_json_array(con, path, rel)
    else:
        staging.stage_parquet(con, path, rel, limits)
    rows = con.execute(f"SELECT _rec, _line, j FROM {staging.JSON_DOCS} ORDER BY _rec").fetchall()
    # Parsed in Python (nested fields): depth, duplicate keys and numbers are checked here.
    return [
        RawRecord(load_json(text, Location(file=rel, line=line, record=int(rec)), limits), int(rec), line)
        for rec, line, text in rows
    ]


def validate_documents(
    model: type[StrictModel], records: list[RawRecord], rel: str
) -> tuple[list[tuple[StrictModel, RawRecord]], list[Issue]]:
    """Validate each record with the kind's model; valid ones come back with their raw record."""
    valid: list[tuple[StrictModel, RawRecord]] = []
    issues: list[Issue] = []
    for raw in records:
        if not isinstance(raw.data, dict):
            issues.append(
                Issue(
                    code="record.not-an-object",
                    severity=IssueSeverity.ERROR,
                    message="must be a mapping of fields",
                    file=rel,
                    line=raw.line,
                    record=raw.record,
                )
            )
            continue
        try:
            model_value = model.model_validate(raw.data)
        except ValidationError as exc:
            issues.extend(pydantic_issues(exc, rel, raw.record, _line_finder(raw)))
            continue
        implausible = _implausible_issues(model_value, raw, rel)
        if implausible:
            issues.extend(implausible)
        else:
            valid.append((model_value, raw))
    return valid, issues


def _line_finder(raw: RawRecord) -> Callable[[tuple[str | int, ...]], int | None]:
    lines = raw.lines or {}

    def line_of(loc: tuple[str | int, ...]) -> int | None:
        for end in range(len(loc), 0, -1):
            if loc[:end] in lines:
                return lines[loc[:end]]
        return raw.line

    return line_of


def _implausible_issues(model: StrictModel, raw: RawRecord, rel: str) -> list[Issue]:
    """Dates and timestamps outside the plausible range (the tabular kinds check them in SQL)."""
    line_of = _line_finder(raw)
    return [
        Issue(
            code="time.implausible",
            severity=IssueSeverity.ERROR,
            message=f"implausible date or time: {problem}",
            file=rel,
            line=line_of(path),
            record=raw.record,
            field=field_path(path),
        )
        for path, problem in implausible_fields(model)
    ]
