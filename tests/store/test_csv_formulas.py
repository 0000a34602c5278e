"""The CSV exports neutralise spreadsheet formulas (CWE-1236) in SQL: the prefilter on a value's first
character (D94) must never change which values the pattern neutralises."""

from __future__ import annotations

import re

import duckdb

from reporter.store.exports import _text

# What the SQL does, in Python: RE2's \s is [\t\n\f\r ], which Python's re spells out.
FORMULA = re.compile(r"^[\t\n\f\r ]*[=+\-@\t\r\x00]")


def reference(value: str) -> str:
    return "'" + value if FORMULA.match(value) else value


def test_the_prefilter_neutralises_exactly_what_the_pattern_does() -> None:
    # every leading character class: the trigger characters, each whitespace RE2 knows and those it
    # does not (vertical tab, no-break space), letters, digits, non-ASCII, empty, and runs of blanks
    starts = "=+-@\t\r\x00\n\f \v\u00a0\u3000aZ0é'"
    values = [""] + [s + rest for s in starts for rest in ("", "SUM(A1)", "=1", " =1", "\n@x", "x=1")]
    values += [" \n\f =cmd", "\n\nok", "\v=1", " \v=1", "\u00a0=1", "\t", "  ", "a\t=1"]
    con = duckdb.connect()
    rows = con.execute(f"SELECT v, {_text('v')} FROM unnest($v::VARCHAR[]) AS t(v)", {"v": values}).fetchall()
    assert len(rows) == len(values)
    wrong = [(v, out) for v, out in rows if out != reference(v)]
    assert wrong == []
    expected = [("=SUM(A1)", "'=SUM(A1)"), ("\n=1", "'\n=1"), ("\n\nok", "\n\nok"), ("\v=1", "\v=1")]
    assert [pair for pair in expected if pair not in rows] == []
    assert con.execute(f"SELECT {_text('NULL')}").fetchone() == (None,)
