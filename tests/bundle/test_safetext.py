"""The reader wrapper: JSON nesting, duplicate keys and numbers; encodings; CSV fields."""

from __future__ import annotations

import csv
import io

import pytest

from reporter.bundle.limits import Limits
from reporter.bundle.safetext import allow_csv_fields, load_json, reading, too_deep
from reporter.errors import EvidenceError, Location

WHERE = Location(file="f.jsonl", line=7)


def test_load_json_reads_ordinary_values() -> None:
    assert load_json('{"a": [1, {"b": "[[[["}], "c": null}', WHERE, Limits()) == {"a": [1, {"b": "[[[["}], "c": None}


@pytest.mark.parametrize("levels", [65, 1000, 100_000])
def test_deep_json_is_refused_before_the_parser_recurses(levels: int) -> None:
    with pytest.raises(EvidenceError, match="nested deeper than 64 levels") as info:
        load_json("[" * levels + "]" * levels, WHERE, Limits())
    assert (info.value.code, info.value.location.line) == ("file.json-limit", 7)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = '{"a": "' + "[" * 500 + '", "b": "\\"{{{{"}'
    assert not too_deep(text, 64)
    assert load_json(text, WHERE, Limits())["a"] == "[" * 500


def test_64_levels_are_allowed() -> None:
    assert not too_deep("[" * 64 + "]" * 64, 64)
    assert too_deep("[" * 65 + "]" * 65, 64)
    assert load_json("[" * 64 + "]" * 64, WHERE, Limits()) is not None


@pytest.mark.parametrize(("text", "key"), [('{"a": 1, "a": 2}', "a"), ('[{"x": {"k": 1, "k": 1}}]', "k")])
def test_duplicate_keys_are_refused_at_any_depth(text: str, key: str) -> None:
    with pytest.raises(EvidenceError, match=f"key '{key}' appears twice") as info:
        load_json(text, WHERE, Limits())
    assert (info.value.code, info.value.location.field) == ("file.duplicate-key", key)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": ' + "9" * 5000 + "}", "Exceeds the limit"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ('{"a": 1', "not valid JSON"),
    ],
)
def test_numbers_python_will_not_build_are_invalid_json(text: str, message: str) -> None:
    with pytest.raises(EvidenceError, match=message) as info:
        load_json(text, WHERE, Limits())
    assert info.value.code == "record.invalid-json"
    assert "99999" not in str(info.value)


def test_reading_turns_decode_and_csv_errors_into_located_evidence_errors() -> None:
    expected = "not valid UTF-8 at byte 1: invalid start byte"
    with pytest.raises(EvidenceError, match=expected) as info, reading("f.csv", 3):
        b"a\xffb".decode("utf-8")
    assert (info.value.code, info.value.location.line) == ("file.bad-encoding", 3)
    with pytest.raises(EvidenceError, match="not valid CSV") as info, reading("f.csv", 2):
        raise csv.Error("field larger than field limit (131072)")
    assert info.value.code == "file.bad-syntax"


def test_csv_fields_may_be_as_long_as_a_line() -> None:
    allow_csv_fields(Limits())
    row = next(csv.reader(io.StringIO("a," + "x" * 200_000 + "\n")))
    assert len(row[1]) == 200_000
