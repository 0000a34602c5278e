"""Shared importer helpers: timestamps, severities, CVSS, ids, JSON limits and streams."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reporter.errors import ImportFormatError
from reporter.importers._common import (
    Where,
    cvss_vector,
    iter_json_stream,
    load_json,
    parse_day,
    parse_timestamp,
    secret_location,
    severity_of,
    stable_id,
    strip_userinfo,
    vuln_id,
)
from reporter.importers.interface import ImportContext, ImportLimits

HERE = Where("test")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2021-08-25T12:20:30Z", "2021-08-25T12:20:30+00:00"),  # RFC 3339 Z
        ("2021-05-03T11:00:56-07:00", "2021-05-03T18:00:56+00:00"),  # offset
        ("2021-08-25T12:20:30.000000005Z", "2021-08-25T12:20:30+00:00"),  # 9 fractional digits
        ("2025-08-25T17:04:19.9796Z", "2025-08-25T17:04:19.979600+00:00"),  # 4 digits
        ("2026-01-02T00:00:00+0000", "2026-01-02T00:00:00+00:00"),  # offset without colon
        (1704067200.5, "2024-01-01T00:00:00.500000+00:00"),  # epoch seconds, float
        (1704067200000, "2024-01-01T00:00:00+00:00"),  # epoch milliseconds
        ("1727769600", "2024-10-01T08:00:00+00:00"),  # epoch seconds as text (Nessus tags)
        ("Thu Mar 20 01:07:03 2014", "2014-03-20T01:07:03+00:00"),  # ctime, no zone: UTC
        ("Tue Oct  1 07:40:00 2024", "2024-10-01T07:40:00+00:00"),  # double space
        ("2024/07/01", "2024-07-01T00:00:00+00:00"),  # Nessus dates
        ("10-19-2003", "2003-10-19T00:00:00+00:00"),  # gitleaks golden
        ("2022-06-16 10:17:40 -0700 PDT", "2022-06-16T17:17:40+00:00"),  # Go with zone name
        ("2022-06-16 10:17:40 -0700 -0700", "2022-06-16T17:17:40+00:00"),
        ("2024-05-06", "2024-05-06T00:00:00+00:00"),
    ],
)
def test_timestamp_styles(raw: object, expected: str) -> None:
    parsed = parse_timestamp(raw, HERE)
    assert parsed is not None
    assert parsed.isoformat() == expected


@pytest.mark.parametrize("raw", [None, "", "  ", "0001-01-01T00:00:00Z"])
def test_unset_timestamps(raw: object) -> None:
    assert parse_timestamp(raw, HERE) is None


@pytest.mark.parametrize(
    "raw",
    ["2021-08-046T11:00:56-07:00", "yesterday", "2026", True, [], "9" * 20, 1e300, "Foo Mar 2"],
)
def test_bad_timestamps_are_errors_without_the_value(raw: object) -> None:
    with pytest.raises(ImportFormatError) as caught:
        parse_timestamp(raw, HERE.at("Date"))
    assert caught.value.location.field == "Date"
    if isinstance(raw, str) and raw:
        assert raw not in str(caught.value)


def test_day_keeps_the_written_offset() -> None:
    assert str(parse_day("2026-01-02T00:30:00+02:00", HERE)) == "2026-01-02"
    assert parse_day("0001-01-01", HERE) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CRITICAL", "critical"),
        ("Important", "high"),
        ("moderate", "medium"),
        ("Negligible", "info"),
        ("none", "info"),
        ("INFORMATIONAL", "info"),
        ("UNSPECIFIED", "unknown"),
        ("whatever", "unknown"),
        (None, "unknown"),
        (4, "critical"),
        (0, "info"),
        ("3", "high"),
    ],
)
def test_severity_vocabularies(raw: object, expected: str) -> None:
    assert severity_of(raw) == expected


@pytest.mark.parametrize(
    ("raw", "version", "expected"),
    [
        ("CVSS2#AV:N/AC:L/Au:N/C:P/I:P/A:P", None, "AV:N/AC:L/Au:N/C:P/I:P/A:P"),
        ("(AV:N/AC:L/Au:N/C:P/I:P/A:P)", None, "AV:N/AC:L/Au:N/C:P/I:P/A:P"),
        (
            "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "3.1",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", None, None),  # v3 without version: unknowable
        (
            "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "3.1",
            "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ),
        ("garbage", "3.1", None),
        (7, None, None),
    ],
)
def test_cvss_vectors(raw: object, version: str | None, expected: str | None) -> None:
    assert cvss_vector(raw, version) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("cve-2021-44228", "CVE-2021-44228"),
        ("GHSA-C2QF-RXJJ-QQGW", "GHSA-c2qf-rxjj-qqgw"),
        ("RHSA-2024:1234", "RHSA-2024:1234"),
        ("ALAS2-2023-1234", "ALAS2-2023-1234"),
        ("MAL123", "trivy:MAL123"),
    ],
)
def test_vuln_ids(raw: str, expected: str) -> None:
    assert vuln_id(raw, "trivy", HERE) == expected


@pytest.mark.parametrize("raw", ["CVE-21-1", "GHSA-zzzz-zzzz-zzzz", "has space", ""])
def test_bad_vuln_ids(raw: str) -> None:
    with pytest.raises(ImportFormatError):
        vuln_id(raw, "trivy", HERE)


def test_stable_ids_separate_their_parts() -> None:
    assert stable_id("x", "a", "b") == stable_id("x", "a", "b")
    assert stable_id("x", "a", "b") != stable_id("x", "a,b")
    assert len(stable_id("trivy", "k").split(":")[1]) == 16


def test_credentials_are_stripped_from_locations() -> None:
    assert strip_userinfo("https://bot:tok@git.example/r") == "https://git.example/r"
    assert secret_location("https://u:p@h/r", "abc", "f.py", 3) == "https://h/r@abc:f.py:3"
    assert secret_location(None, None, None, None) == "unknown"


def _context(tmp_path: Path, **limits: int) -> ImportContext:
    return ImportContext(source_path="f.json", limits=ImportLimits(**limits))


def test_json_deeper_than_64_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 65 + "]" * 65)
    with pytest.raises(ImportFormatError, match="deeper than 64"):
        load_json(path, _context(tmp_path))
    path.write_text("[" * 64 + "]" * 64)
    assert load_json(path, _context(tmp_path)) is not None
    path.write_text(json.dumps({"k": "[" * 500}))  # brackets inside strings do not count
    assert load_json(path, _context(tmp_path)) == {"k": "[" * 500}


def test_recursion_bomb_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "bomb.json"
    path.write_text("[" * 1_000_000)
    with pytest.raises(ImportFormatError, match="deeper than"):
        load_json(path, _context(tmp_path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"a": NaN}', "not valid JSON"),
        (b'{"a": 1e999}', "not valid JSON"),
        (b"\xff\xfe{\x00}\x00", "UTF-16"),
        (b'{"a": "\xff"}', "not valid UTF-8"),
        (b"", "empty"),
        (b'{"a": 1', "not valid JSON"),
    ],
)
def test_bad_json_documents(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ImportFormatError, match=message):
        load_json(path, _context(tmp_path))


def test_bom_is_accepted_and_size_is_limited(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"a": 1}')
    assert load_json(path, _context(tmp_path)) == {"a": 1}
    with pytest.raises(ImportFormatError, match="import limit"):
        load_json(path, _context(tmp_path, max_json_bytes=5))


def test_json_stream_framings(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    pretty = json.dumps({"b": [1, 2]}, indent=2)
    path.write_text('{"a": "}{"}\n\n' + pretty + '\n{"c": 3}{"d": 4}\n{"e": 5}')
    values = list(iter_json_stream(path, _context(tmp_path)))
    assert [line for line, _ in values] == [1, 3, 9, 9, 10]
    assert values[0][1] == {"a": "}{"}


def test_json_stream_record_limit(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"a":\n' + '"x",' * 100 + '"y"}\n')
    with pytest.raises(ImportFormatError, match="longer than the limit"):
        list(iter_json_stream(path, _context(tmp_path, max_record_bytes=100)))


def test_timestamps_are_aware_utc() -> None:
    parsed = parse_timestamp("2024-01-01T00:00:00+05:00", HERE)
    assert parsed == datetime(2023, 12, 31, 19, tzinfo=UTC)
