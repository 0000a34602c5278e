"""Reading one evidence file into a staging table of text values, keeping record and line numbers.

Two shapes come out: delimited (CSV: one VARCHAR column per known header field) and JSON (one
JSON document per record: JSON Lines, JSON arrays, YAML lists, Parquet rows, importer output).
Nothing here judges values: `reporter.store.rules` does, set-based, on the staging table.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from reporter.bundle.limits import DEFAULT_LIMITS, Limits
from reporter.bundle.safetext import allow_csv_fields, reading
from reporter.bundle.safeyaml import load_yaml
from reporter.errors import EvidenceError, Location
from reporter.models.plausible import END_MOMENT, FIRST_DAY, FIRST_MOMENT, LAST_DAY, MAX_OFFSET
from reporter.store.columns import ColumnSpec
from reporter.store.csvlines import fill_record_lines, one_line_per_record
from reporter.store.rules import has_typed_column, normalise, typed_expression
from reporter.store.sql import Params, ident

STAGING = "_stg"  # staging view: every field's text and typed value, with _rec/_line/_loc
_STAGED = "_stg_data"  # the table behind it
JSON_DOCS = "_stg_json"  # JSON-shaped staging (rec, line, loc, j)
_LINES = "_stg_lines"  # JSON Lines, one row per physical line
# DuckDB keeps insertion order (preserve_insertion_order), so a table's rowid is the record's
# position in the file: record numbers cost nothing (a window function costs seconds per million).
_RECORD_FROM_ROWID = f"CREATE OR REPLACE TEMP VIEW {STAGING} AS SELECT rowid + 1 AS _rec, * FROM {_STAGED}"
# ... and when every CSV record is one line, the line too: record n is on line n + 1 (the header is line 1)
_RECORD_AND_LINE_FROM_ROWID = (
    f"CREATE OR REPLACE TEMP VIEW {STAGING} AS SELECT rowid + 1 AS _rec, * REPLACE (rowid + 2 AS _line) FROM {_STAGED}"
)
_RECORD_FROM_COLUMN = f"CREATE OR REPLACE TEMP VIEW {STAGING} AS SELECT * FROM {_STAGED}"


@dataclass(frozen=True)
class Staged:
    """What a reader produced: the staging table shape and the problems it saw in the header."""

    shape: str  # "csv" or "json"
    present: frozenset[str]  # model fields that the file provides (CSV header); all for JSON
    unknown: tuple[str, ...] = ()  # CSV header names that are not fields of the kind
    records: int = 0


def _duck_error(exc: duckdb.Error, rel: str) -> EvidenceError:
    if isinstance(exc, duckdb.OutOfMemoryException):
        raise exc  # the store's memory limit, not a fault of the file: exit 7 names the limit
    text = str(exc)
    line = None
    for marker in ("Line: ", "line "):
        if marker in text:
            digits = text.split(marker, 1)[1].split(maxsplit=1)[0].rstrip(".:,")
            if digits.isdigit():
                line = int(digits)
                break
    summary = text.split("\n", 1)[0].replace("Invalid Input Error: ", "")
    if "Expected Number of Columns" in text:
        found = text.split("Expected Number of Columns:", 1)[1].split("\n", 1)[0].strip()
        summary = f"row does not have the header's number of fields (expected {found})"
    return EvidenceError(f"cannot read: {summary[:300]}", Location(file=rel, line=line), code="file.bad-syntax")


def _header(path: Path, rel: str) -> list[str]:
    with reading(rel, 1), path.open(newline="", encoding="utf-8") as handle:
        try:
            row = next(csv.reader(handle), None)
        except csv.Error as exc:
            raise EvidenceError(f"bad CSV header: {exc}", Location(file=rel, line=1), code="file.bad-syntax") from None
    if not row:
        raise EvidenceError("CSV file has no header row", Location(file=rel, line=1), code="file.bad-syntax")
    names = [name.strip().lstrip("\ufeff") for name in row]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise EvidenceError(
                f"column '{name[:80]}' appears twice",
                Location(file=rel, line=1),
                code="file.duplicate-column",
            )
        seen.add(name)
    return names


def stage_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    rel: str,
    columns: tuple[ColumnSpec, ...],
    limits: Limits,
    lines: Callable[[], int | None] | None = None,
) -> Staged:
    """RFC 4180 CSV (comma, double quotes, UTF-8, header row) → one VARCHAR column per field.
    `lines()`: the file's line count, asked once the file is staged (the prescan counts them while
    DuckDB reads it); None, or no `lines`, and the file is read again for it."""
    allow_csv_fields(limits)  # later readers of this file (record lines) use Python's csv module
    header = _header(path, rel)
    fields = {c.name for c in columns}
    positions = {name: i for i, name in enumerate(header) if name in fields}
    params = Params()
    csv_columns = {f"c{i}": "VARCHAR" for i in range(len(header))}
    select = ", ".join(
        f"{normalise(f'c{positions[c.name]}')} AS {ident(c.name)}"
        if c.name in positions
        else f"NULL::VARCHAR AS {ident(c.name)}"
        for c in columns
    )
    source = (
        f"SELECT NULL::BIGINT AS _line, NULL::VARCHAR AS _loc, {select} "
        f"FROM read_csv({params.add(str(path))}, header=false, skip=1, delim=',', quote='\"', escape='\"', "
        f"auto_detect=false, strict_mode=true, max_line_size={int(limits.max_line_bytes) + 2}, "
        f"columns={params.add(csv_columns)})"
    )
    sql = f"CREATE OR REPLACE TEMP TABLE {_STAGED} AS SELECT *, {_typed_columns(columns)} FROM ({source})"
    try:
        con.execute(sql, params.values)
    except duckdb.Error as exc:
        raise _duck_error(exc, rel) from None
    count = con.execute(f"SELECT count(*) FROM {_STAGED}").fetchone()
    records = int(count[0]) if count else 0
    # Every record keeps the line it starts on, like JSON Lines: gaps and issues cite file and line.
    # Mostly one line per record, and the view numbers the lines as it numbers the records.
    if one_line_per_record(path, records, lines() if lines else None):
        con.execute(_RECORD_AND_LINE_FROM_ROWID)
    else:
        con.execute(_RECORD_FROM_ROWID)
        fill_record_lines(con, path, _STAGED, records, limits.max_line_bytes)
    unknown = tuple(name for name in header if name not in fields)
    return Staged("csv", frozenset(positions), unknown, records)


def stage_jsonl(con: duckdb.DuckDBPyConnection, path: Path, rel: str, limits: Limits) -> Staged:
    """JSON Lines: each non-blank line one JSON document; the line number is kept exactly."""
    params = Params()
    lines = (
        f"CREATE OR REPLACE TEMP TABLE {_LINES} AS SELECT j FROM read_csv({params.add(str(path))}, "
        f"columns={{'j': 'VARCHAR'}}, header=false, delim='\\x01', quote='', escape='', auto_detect=false, "
        f"max_line_size={int(limits.max_line_bytes) + 2})"
    )
    try:
        con.execute(lines, params.values)
    except duckdb.Error as exc:
        raise _duck_error(exc, rel) from None
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {JSON_DOCS} AS SELECT rowid + 1 AS _rec, rowid + 1 AS _line, "
        f"NULL::VARCHAR AS _loc, j FROM {_LINES} WHERE j IS NOT NULL AND trim(j) <> ''"
    )
    con.execute(f"DROP TABLE {_LINES}")
    _refuse_duplicate_keys(con, rel)
    return _json_staged(con)


def _first_char(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return chr(head[0]) if head else ""


def stage_json_array(con: duckdb.DuckDBPyConnection, path: Path, rel: str) -> Staged:
    """A JSON file holding one array of records."""
    first = _first_char(path)
    if first != "[":
        what = "an object" if first == "{" else "empty" if not first else "not an array"
        raise EvidenceError(
            f"must hold a JSON array of records; it is {what}",
            Location(file=rel, line=1),
            code="file.not-a-list",
        )
    params = Params()
    sql = (
        f"CREATE OR REPLACE TEMP TABLE {JSON_DOCS} AS SELECT row_number() OVER () AS _rec, "
        f"NULL::BIGINT AS _line, NULL::VARCHAR AS _loc, json::VARCHAR AS j "
        f"FROM read_json_objects({params.add(str(path))}, format='array')"
    )
    try:
        con.execute(sql, params.values)
    except duckdb.Error as exc:
        raise _duck_error(exc, rel) from None
    _refuse_duplicate_keys(con, rel)
    return _json_staged(con)


def _refuse_duplicate_keys(con: duckdb.DuckDBPyConnection, rel: str) -> None:
    """A record giving a field twice is refused: DuckDB would keep the first value, silently. (Table
    kinds have no nested objects; the document kinds check nested keys in Python.)"""
    row = con.execute(
        f"SELECT _rec, _line, json_keys(j) FROM {JSON_DOCS} WHERE json_valid(j) AND json_type(j) = 'OBJECT' "
        "AND len(json_keys(j)) <> len(list_distinct(json_keys(j))) ORDER BY _rec LIMIT 1"
    ).fetchone()
    if row is None:
        return
    rec, line, keys = row
    key = next(k for i, k in enumerate(keys) if k in keys[:i])
    raise EvidenceError(
        f"key '{str(key)[:80]}' appears twice in record {rec}; remove one of them",
        Location(file=rel, line=line, record=None if line else int(rec), field=str(key)[:80]),
        code="file.duplicate-key",
    )


def stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, rel: str, limits: Limits = DEFAULT_LIMITS) -> Staged:
    """Parquet rows, turned into JSON documents so typed and untyped inputs share one path."""
    _check_parquet(con, path, rel, limits)
    params = Params()
    sql = (
        f"CREATE OR REPLACE TEMP TABLE {JSON_DOCS} AS SELECT row_number() OVER () AS _rec, "
        f"NULL::BIGINT AS _line, NULL::VARCHAR AS _loc, to_json(t)::VARCHAR AS j "
        f"FROM read_parquet({params.add(str(path))}) t"
    )
    try:
        con.execute(sql, params.values)
    except duckdb.Error as exc:
        raise _duck_error(exc, rel) from None
    return _json_staged(con)


def _check_parquet(con: duckdb.DuckDBPyConnection, path: Path, rel: str, limits: Limits) -> None:
    """Parquet's run-length and dictionary encodings let a few kilobytes declare millions of rows,
    and its pages can inflate like a zip: refuse, from the footer alone, a file that declares more
    rows or columns than its size could hold or pages that expand beyond the archive ratio."""
    params = Params()
    file = params.add(str(path))
    try:
        rows_row = con.execute(f"SELECT sum(num_rows) FROM parquet_file_metadata({file})", params.values).fetchone()
        page_row = con.execute(
            f"SELECT sum(total_uncompressed_size), count(DISTINCT path_in_schema) FROM parquet_metadata({file})",
            params.values,
        ).fetchone()
    except duckdb.Error as exc:
        raise _duck_error(exc, rel) from None
    size = path.stat().st_size
    rows = int(rows_row[0] or 0) if rows_row else 0
    expanded, columns = (int(page_row[0] or 0), int(page_row[1] or 0)) if page_row else (0, 0)
    allowed_rows = size * limits.max_parquet_rows_per_byte + limits.parquet_rows_grace
    problem = None
    if rows > allowed_rows:
        problem = f"declares {rows:,} rows in {size:,} bytes (at most {allowed_rows:,} for a file of this size)"
    elif columns > limits.max_parquet_columns:
        problem = f"has {columns:,} columns (at most {limits.max_parquet_columns:,})"
    elif expanded > limits.ratio_grace_bytes and expanded > size * limits.max_compression_ratio:
        problem = f"pages expand to {expanded:,} bytes from {size:,} (more than {limits.max_compression_ratio}:1)"
    if problem:
        raise EvidenceError(
            f"Parquet file {problem}; refusing a likely decompression bomb",
            Location(file=rel),
            code="file.parquet-limit",
        )


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot represent a YAML {type(value).__name__} in evidence")


def stage_yaml(con: duckdb.DuckDBPyConnection, path: Path, rel: str, limits: Limits) -> Staged:
    """A YAML file holding one list of records (safe loader, bounded aliases)."""
    document = load_yaml(path.read_bytes(), rel, limits)
    if not isinstance(document.data, list):
        raise EvidenceError("must hold a YAML list of records", Location(file=rel, line=1), code="file.not-a-list")
    docs: list[str] = []
    lines: list[int | None] = []
    for i, item in enumerate(document.data):
        try:
            docs.append(json.dumps(item, default=_json_default))
        except (TypeError, ValueError) as exc:
            raise EvidenceError(str(exc), Location(file=rel, line=document.line_of((i,)))) from None
        lines.append(document.line_of((i,)))
    return stage_documents(con, docs, lines, [None] * len(docs))


def stage_documents(
    con: duckdb.DuckDBPyConnection,
    docs: list[str],
    lines: list[int | None],
    locations: list[str | None],
    records: list[int] | None = None,
) -> Staged:
    """Records already held in memory as JSON text (YAML lists, importer output, validated
    documents); `records` gives their record numbers when they are not simply 1..n."""
    params = Params()
    numbers = params.add(records if records is not None else list(range(1, len(docs) + 1)))
    sql = (
        f"CREATE OR REPLACE TEMP TABLE {JSON_DOCS} AS SELECT ({numbers}::BIGINT[])[i] AS _rec, "
        f"({params.add(lines)}::BIGINT[])[i] AS _line, ({params.add(locations)}::VARCHAR[])[i] AS _loc, "
        f"j FROM (SELECT unnest({params.add(docs)}::VARCHAR[]) AS j, "
        f"generate_subscripts({params.add(docs)}::VARCHAR[], 1) AS i)"
    )
    con.execute(sql, params.values)
    return _json_staged(con)


def drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Free the staging tables once a file is in the store (they hold a copy of it)."""
    con.execute(f"DROP VIEW IF EXISTS {STAGING}")
    con.execute(f"DROP TABLE IF EXISTS {_STAGED}")
    con.execute(f"DROP TABLE IF EXISTS {JSON_DOCS}")


def _json_staged(con: duckdb.DuckDBPyConnection) -> Staged:
    count = con.execute(f"SELECT count(*) FROM {JSON_DOCS}").fetchone()
    return Staged("json", frozenset(), (), int(count[0]) if count else 0)


def _typed_columns(columns: tuple[ColumnSpec, ...]) -> str:
    """Each field parsed once, next to its text: `f__v` (the rules and the final insert read it). A
    date or timestamp outside the plausible range does not parse (reporter/models/plausible.py)."""
    parsed = [c for c in columns if has_typed_column(c)]
    return (
        ", ".join(f"{_plausible(c, typed_expression(c, ident(c.name)))} AS {ident(c.name + '__v')}" for c in parsed)
        or "NULL AS _none"
    )


# The UTC offset written after a time of day (not the day of a date such as 2026-07-31).
_OFFSET_RE = r"[Tt ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*[+-](\d{2}):?(\d{2})?$"


def _plausible(column: ColumnSpec, typed: str) -> str:
    if column.scalar == "date":
        return f"(CASE WHEN {typed} BETWEEN DATE '{FIRST_DAY}' AND DATE '{LAST_DAY}' THEN {typed} END)"
    if column.scalar != "datetime":
        return typed
    text = ident(column.name)
    hours = f"COALESCE(TRY_CAST(regexp_extract({text}, '{_OFFSET_RE}', 1) AS INTEGER), 0)"
    minutes = f"COALESCE(TRY_CAST(NULLIF(regexp_extract({text}, '{_OFFSET_RE}', 2), '') AS INTEGER), 0)"
    limit = int(MAX_OFFSET.total_seconds()) // 60
    first, end = FIRST_MOMENT.isoformat(sep=" "), END_MOMENT.isoformat(sep=" ")
    # a value ending in Z has no offset to check: the two regular expressions are skipped (performance.md)
    return (
        f"(CASE WHEN {typed} >= TIMESTAMPTZ '{first}' AND {typed} < TIMESTAMPTZ '{end}' "
        f"AND (right({text}, 1) IN ('Z', 'z') OR {hours} * 60 + {minutes} <= {limit}) THEN {typed} END)"
    )


def extract_json_fields(con: duckdb.DuckDBPyConnection, columns: tuple[ColumnSpec, ...]) -> None:
    """JSON documents → staging with one text column and one JSON-type column per field."""
    params = Params()
    paths = params.add([f"$.{c.name}" for c in columns])
    names = params.add([c.name for c in columns])
    # json_extract_string returns scalars as text and arrays/objects as their JSON text.
    values = ", ".join(
        f"{normalise(f'_v[{i}]')} AS {ident(c.name)}, _t[{i}] AS {ident(c.name + '__t')}"
        for i, c in enumerate(columns, start=1)
    )
    sql = (
        f"CREATE OR REPLACE TEMP TABLE {_STAGED} AS SELECT *, {_typed_columns(columns)} FROM ("
        f"SELECT _rec, _line, _loc, _doc, _unknown, {values} "
        f"FROM (SELECT _rec, _line, _loc, j, _doc, "
        f"CASE WHEN _doc = 'OBJECT' THEN json_extract_string(j, {paths}) END AS _v, "
        f"CASE WHEN _doc = 'OBJECT' THEN json_type(j, {paths}) END AS _t, "
        f"CASE WHEN _doc = 'OBJECT' THEN list_filter(json_keys(j), lambda k: NOT list_contains({names}, k)) "
        f"END AS _unknown FROM (SELECT *, CASE WHEN json_valid(j) THEN json_type(j) ELSE 'INVALID' END "
        f"AS _doc FROM {JSON_DOCS})))"
    )
    con.execute(sql, params.values)
    con.execute(_RECORD_FROM_COLUMN)
