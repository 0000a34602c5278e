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
from reporter.store.exports import _copy

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
    data = _copy(con, "SELECT 'Müller, Zoë' AS owner, 'first\nsecond' AS note, NULL AS empty", {})
    assert check_rfc4180(data) == [["owner", "note", "empty"], ["Müller, Zoë", "first\nsecond", ""]]
    assert data.count(b"\r\n") == 2  # the line break inside the quoted cell is kept as written


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
