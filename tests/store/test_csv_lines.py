"""Every CSV record keeps the line it starts on (issue 10 item 17): gaps from CSV evidence cite file
and line like every other line-oriented format, also when quoted fields span lines."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from support.bundles import minimal_valid
from support.engine import assess_builder, control

from reporter.catalog.library import Library
from reporter.catalog.loader import load_library
from reporter.store.csvlines import fill_record_lines, physical_lines, record_lines

MULTILINE = (
    "id,name,note\n"
    'a1,alpha,"multi\nline"\n'  # record 1: lines 2-3
    "\n"  # a blank line between records is not a record
    "a2,beta,plain\n"  # record 2: line 5
    'a3,"ga""mma","x\n\ny"\n'  # record 3: lines 6-8, an escaped quote and a blank line inside quotes
    "a4,d,e"  # record 4: line 9, no final newline
)


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    return con


def test_record_lines_follow_quoted_newlines_and_skip_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(MULTILINE)
    con = _con()
    record_lines(con, path, "m", 1 << 20)
    assert con.execute("SELECT rec, line FROM m ORDER BY rec").fetchall() == [(1, 2), (2, 5), (3, 6), (4, 9)]
    assert physical_lines(path) == 9


@pytest.mark.parametrize("text", [MULTILINE, "id,name\r\na1,x\r\na2,y\r\n", "id,name\na1,x\na2,y"])
def test_staged_lines_match_pythons_csv_reader(tmp_path: Path, text: str) -> None:
    """The set-based lines (fast path or map) agree with Python's csv module on the same file."""
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode())
    expected, record = [], 0
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        start = reader.line_num + 1
        for row in reader:
            if row:
                record += 1
                expected.append(start)
            start = reader.line_num + 1
    con = _con()
    width = len(text.split("\n", 1)[0].split(","))
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    con.execute(
        f"CREATE TABLE s AS SELECT NULL::BIGINT AS _line, * FROM read_csv('{path}', header=false, skip=1, "
        f"delim=',', quote='\"', escape='\"', auto_detect=false, columns={columns})"
    )
    fill_record_lines(con, path, "s", record, 1 << 20)
    assert [r[0] for r in con.execute("SELECT _line FROM s ORDER BY rowid").fetchall()] == expected


def _assets_csv(tmp_path: Path, library: Library, text: str) -> list[tuple[str, int | None, int | None]]:
    builder = minimal_valid(tmp_path)
    builder.sources = [s for s in builder.sources if s.get("kind") != "assets"]
    builder.add_raw("inventory/assets.csv", text.encode(), kind="assets")
    gaps = control(assess_builder(builder, library), "INV-02").gaps
    return sorted((g.record_id, g.record, g.line) for g in gaps)


HEADER = "id,name,type,owner,criticality,internet_facing,environment,aliases\n"
WEB = "a-web-01,web-01,server,team-web,high,true,production,10.0.4.11;i-0abc123\n"
ERP = "a-erp-01,erp-01,server,,moderate,false,production,\n"  # no owner: an INV-02 gap
BATCH = "a-batch-02,batch-02,server,team-batch,low,false,production,\n"


def test_gap_from_a_single_line_csv_cites_its_line(tmp_path: Path) -> None:
    library = load_library()
    assert _assets_csv(tmp_path, library, HEADER + WEB + ERP + BATCH) == [("a-erp-01", 2, 3)]


def test_gap_after_a_multiline_record_cites_the_line_it_starts_on(tmp_path: Path) -> None:
    library = load_library()
    web = WEB.replace(",web-01,", ',"web-01\nfront end",', 1)  # a quoted newline: record 1 spans lines 2-3
    assert _assets_csv(tmp_path, library, HEADER + web + "\n" + ERP + BATCH) == [("a-erp-01", 2, 5)]
