"""The CSV exports are RFC 4180 (CRLF after every record, quoted cells keep their own line breaks) in
UTF-8 with a byte order mark, the encoding spreadsheet programs detect when a file is opened directly."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import duckdb
import pytest

from reporter.assess.engine import AssessOptions
from reporter.bundle.limits import DEFAULT_LIMITS
from reporter.catalog.loader import load_library
from reporter.pipeline import LoadOptions, assess_bundle
from reporter.store.exports import UTF8_BOM, _copy

SAMPLE = Path(__file__).resolve().parents[2] / "evidence-samples" / "northwind-2026-q3"

QUOTED = re.compile(r'"(?:[^"]|"")*"')


def check_rfc4180(data: bytes) -> list[list[str]]:
    """The rows, after checking the BOM and that outside quoted cells there are only commas and CRLFs."""
    assert data.startswith(codecs.BOM_UTF8)
    text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
    assert not text.startswith("\ufeff")  # one mark, not two
    skeleton = QUOTED.sub("", text)
    assert set(skeleton) <= {",", "\r", "\n"}
    assert skeleton.count("\n") == skeleton.count("\r\n")
    assert skeleton.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert skeleton.count("\r\n") == len(rows)
    return rows


def test_cells_with_line_breaks_and_non_ascii_text() -> None:
    con = duckdb.connect()
    data = _copy(con, "SELECT 'Müller, Zoë' AS owner, 'first\nsecond' AS note, NULL AS empty", {}, None)
    assert isinstance(data, bytes)
    assert check_rfc4180(data) == [["owner", "note", "empty"], ["Müller, Zoë", "first\nsecond", ""]]
    assert data.count(b"\r\n") == 2  # the line break inside the quoted cell is kept as written


@pytest.mark.parametrize("where", ["", " WHERE false", " WHERE x = 1"])
def test_a_spooled_export_is_the_in_memory_one_byte_for_byte(tmp_path: Path, where: str) -> None:
    """The mark, the header and the CRLF after the last record come from DuckDB itself (PREFIX and
    SUFFIX) whether the CSV goes to a file or into memory; with no row it is the header alone."""
    con = duckdb.connect()
    query = f"SELECT * FROM (VALUES (1, 'a'), (2, '=b')) t(x, y){where} ORDER BY x"
    memory = _copy(con, query, {}, None)
    spooled = _copy(con, query, {}, tmp_path / "out.csv")
    assert spooled == tmp_path / "out.csv"
    assert isinstance(memory, bytes)
    assert spooled.read_bytes() == memory
    rows = {"": 3, " WHERE false": 1, " WHERE x = 1": 2}[where]
    assert memory.startswith(UTF8_BOM + b'"x","y"\r\n')
    assert memory.endswith(b"\r\n")
    assert memory.count(b"\r\n") == rows


@pytest.fixture(scope="module")
def exports() -> dict[str, bytes]:
    run = assess_bundle(SAMPLE, LoadOptions(limits=DEFAULT_LIMITS), load_library(), AssessOptions(), exports=True)
    return run.exports


@pytest.mark.parametrize("name", ["findings.csv", "ledger.csv", "exceptions.csv"])
def test_every_export_is_rfc4180_with_a_bom(exports: dict[str, bytes], name: str) -> None:
    rows = check_rfc4180(exports[name])
    assert len(rows) > 1
    assert all(len(row) == len(rows[0]) for row in rows)
    assert rows[0][0].isascii()  # the header's first name is clean
    assert rows[0][0].isidentifier()
