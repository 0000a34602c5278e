"""Line numbers for CSV records: DuckDB reports record numbers, and a quoted field may span lines."""

from __future__ import annotations

import csv
from pathlib import Path

from reporter.models.issues import Issue


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
