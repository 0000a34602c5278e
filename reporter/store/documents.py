"""Document kinds (exceptions, agents): small files with nested fields, validated per record
with pydantic so each problem names its field path (`compensating_controls[0].verified_at`)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from pydantic import ValidationError

from reporter.bundle.limits import Limits
from reporter.bundle.safeyaml import load_yaml
from reporter.errors import EvidenceError, Location
from reporter.models.common import StrictModel
from reporter.models.issues import Issue, IssueSeverity
from reporter.store.columns import ColumnSpec
from reporter.store.messages import pydantic_issues
from reporter.store.rules import FALSE_WORDS, TRUE_WORDS


@dataclass(frozen=True)
class RawRecord:
    """One record before validation, with where it came from."""

    data: Any
    record: int
    line: int | None
    lines: dict[tuple[str | int, ...], int] | None = None  # YAML: line of each nested field


def _csv_cell(column: ColumnSpec, text: str) -> Any:
    text = text.strip()
    if text == "":
        return None
    if column.scalar == "list":
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(";") if part.strip()]
    if column.scalar == "object":
        return json.loads(text)
    if column.scalar == "boolean":
        low = text.lower()
        return True if low in TRUE_WORDS else False if low in FALSE_WORDS else text
    return text


def _read_csv(path: Path, rel: str, columns: tuple[ColumnSpec, ...]) -> list[RawRecord]:
    by_name = {c.name: c for c in columns}
    out: list[RawRecord] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
        line = reader.line_num + 1
        for row in reader:
            if not row:
                line = reader.line_num + 1
                continue
            if len(row) != len(header):
                raise EvidenceError(
                    f"row has {len(row)} fields, the header has {len(header)}",
                    Location(file=rel, line=line),
                    code="file.bad-syntax",
                )
            data: dict[str, Any] = {}
            for name, text in zip(header, row, strict=True):
                column = by_name.get(name)
                try:
                    data[name] = _csv_cell(column, text) if column else text
                except json.JSONDecodeError:
                    raise EvidenceError(
                        "cell is not valid JSON",
                        Location(file=rel, line=line, field=name),
                        code="record.bad-type",
                    ) from None
            out.append(RawRecord({k: v for k, v in data.items() if v is not None}, len(out) + 1, line))
            line = reader.line_num + 1
    return out


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
        return _read_csv(path, rel, columns)
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
        staging.stage_parquet(con, path, rel)
    rows = con.execute(f"SELECT _rec, _line, j FROM {staging.JSON_DOCS} ORDER BY _rec").fetchall()
    out = []
    for rec, line, text in rows:
        try:
            out.append(RawRecord(json.loads(text), int(rec), line))
        except json.JSONDecodeError:
            raise EvidenceError(
                "is not valid JSON",
                Location(file=rel, line=line, record=int(rec)),
                code="record.invalid-json",
            ) from None
    return out


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
            valid.append((model.model_validate(raw.data), raw))
        except ValidationError as exc:
            lines = raw.lines or {}

            def line_of(
                loc: tuple[str | int, ...],
                lines: dict[tuple[str | int, ...], int] = lines,
                default: int | None = raw.line,
            ) -> int | None:
                for end in range(len(loc), 0, -1):
                    if loc[:end] in lines:
                        return lines[loc[:end]]
                return default

            issues.extend(pydantic_issues(exc, rel, raw.record, line_of))
    return valid, issues
