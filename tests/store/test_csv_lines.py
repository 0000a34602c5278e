"""Every CSV record keeps the line it starts on (issue 10 item 17): gaps from CSV evidence cite file
and line like every other line-oriented format, also when quoted fields span lines."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from support.bundles import minimal_valid
from support.engine import assess_builder, control

from reporter.bundle.limits import Limits
from reporter.bundle.prescan import prescan
from reporter.catalog.library import Library
from reporter.catalog.loader import load_library
from reporter.store.columns import ColumnSpec
from reporter.store.csvlines import physical_lines, record_lines
from reporter.store.staging import stage_csv

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


def _python_lines(path: Path) -> list[int]:
    """The line each record starts on, by Python's csv module."""
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
    return expected


def _staged_lines(path: Path, counted: int | None = None) -> list[int | None]:
    con = _con()
    header = path.read_text().splitlines()[0].split(",")
    columns = tuple(ColumnSpec(name=name, scalar="string", required=False, nullable=True) for name in header)
    stage_csv(con, path, path.name, columns, Limits(), (lambda: counted) if counted is not None else None)
    return [r[0] for r in con.execute("SELECT _line FROM _stg ORDER BY _rec").fetchall()]


@pytest.mark.parametrize("text", [MULTILINE, "id,name\r\na1,x\r\na2,y\r\n", "id,name\na1,x\na2,y"])
def test_staged_lines_match_pythons_csv_reader(tmp_path: Path, text: str) -> None:
    """The set-based lines (one line per record, or the map) agree with Python's csv module."""
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode())
    assert _staged_lines(path) == _python_lines(path)


@pytest.mark.parametrize("text", [MULTILINE, "id,name\na1,x\na2,y\n"])
def test_staged_lines_use_the_prescans_count(tmp_path: Path, text: str) -> None:
    """With the line count the prescan gives, the file is not read again for it: the same lines."""
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode())
    counted = prescan(path, "x.csv", Limits(), text=True).lines
    assert counted == physical_lines(path)
    assert _staged_lines(path, counted) == _python_lines(path)


def test_a_wrong_count_never_numbers_lines_as_records(tmp_path: Path) -> None:
    """The count decides between numbering lines as records and mapping them: a count that makes
    a multi-line file look like one line per record would misplace lines, so the test can fail."""
    path = tmp_path / "x.csv"
    path.write_bytes(MULTILINE.encode())
    assert _staged_lines(path, 5) != _python_lines(path)  # 4 records + header: taken as one line each
    assert _staged_lines(path, 9) == _python_lines(path)


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
