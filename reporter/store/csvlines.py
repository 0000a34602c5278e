"""Line numbers for CSV records. DuckDB numbers records, and a quoted field may span lines, so the
line a record starts on is computed from the file's physical lines: a line starts a record when an
even number of double quotes precedes it (RFC 4180 escapes a quote by doubling it) and it is not
blank (DuckDB skips blank lines between records). Set-based, one extra read of the file."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from reporter.models.issues import Issue
from reporter.store.sql import Params, ident

_LINES = "_csv_lines"


def physical_lines(path: Path) -> int:
    """Lines in a file as DuckDB reads them: newlines, plus a last line without one."""
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def one_line_per_record(path: Path, records: int, lines: int | None = None) -> bool:
    """Whether a CSV file with `records` data records has exactly one line per record plus the
    header (no quoted newline, no blank line): then record n is on line n + 1. `lines` is the
    file's line count when already known (the prescan counts them), else the file is read."""
    return records > 0 and (physical_lines(path) if lines is None else lines) == records + 1


def fill_record_lines(
    con: duckdb.DuckDBPyConnection, path: Path, table: str, records: int, max_line_bytes: int
) -> None:
    """Set `_line` of a staged CSV table (one row per data record, rowid + 1 = record number) to the
    line each record starts on, from `record_lines`: for a file where a record may span lines or
    blank lines come between records (`one_line_per_record` is false)."""
    if records == 0:
        return
    try:
        record_lines(con, path, "_csv_record_lines", max_line_bytes)
    except duckdb.Error:
        return  # e.g. a control character the line reader splits on: lines stay unknown, records are cited
    found = con.execute("SELECT count(*) FROM _csv_record_lines").fetchone()
    if found and int(found[0]) == records:  # a different count would misplace every line: cite records only
        con.execute(
            f"UPDATE {ident(table)} SET _line = m.line FROM _csv_record_lines m WHERE {ident(table)}.rowid + 1 = m.rec"
        )
    con.execute("DROP TABLE _csv_record_lines")


def record_lines(con: duckdb.DuckDBPyConnection, path: Path, table: str, max_line_bytes: int) -> None:
    """Create temp table `table` (rec, line): the physical line each data record of a CSV file starts
    on, record 1 being the first record after the header."""
    params = Params()
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_LINES} AS SELECT l FROM read_csv({params.add(str(path))}, "
        "columns={'l': 'VARCHAR'}, header=false, delim='\\x01', quote='', escape='', auto_detect=false, "
        f"max_line_size={int(max_line_bytes) + 2})",
        params.values,
    )
    # rowid is the physical line - 1 (blank lines read as NULL rows, insertion order kept).
    parity = f"SELECT rowid + 1 AS line, l, (length(l) - length(replace(l, '\"', ''))) % 2 AS q FROM {_LINES}"
    inside = (
        "SELECT line, l, COALESCE(sum(q) OVER (ORDER BY line ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) "
        f"% 2 AS inside FROM ({parity})"
    )
    starts = (
        f"SELECT line, row_number() OVER (ORDER BY line) - 1 AS rec FROM ({inside}) WHERE inside = 0 AND l IS NOT NULL"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ident(table)} AS SELECT rec, line FROM ({starts}) WHERE rec > 0")
    con.execute(f"DROP TABLE {_LINES}")


def with_csv_lines(path: Path, issues: list[Issue]) -> list[Issue]:
    """CSV records can span lines (quoted newlines): map record numbers to their first line."""
    wanted = {i.record for i in issues if i.record is not None and i.line is None}
    if not wanted:
        return issues
    lines: dict[int, int] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        start, record = reader.line_num + 1, 0
        for row in reader:
            if row:
                record += 1
                if record in wanted:
                    lines[record] = start
                    if len(lines) == len(wanted):
                        break
            start = reader.line_num + 1
    return [i.model_copy(update={"line": lines.get(i.record)}) if i.record in lines else i for i in issues]
