"""Shared importer helpers: timestamps, severities, CVSS, ids, JSON limits, repeated keys, streams,
the linear bracket scanner and credential scrubbing of locations."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reporter.errors import ImportFormatError
from reporter.importers import _common
from reporter.importers._common import (
    Where,
    bracket_delta,
    cvss_vector,
    iter_json_stream,
    load_json,
    opt_line,
    parse_day,
    parse_timestamp,
    scrub_location,
    secret_location,
    severity_of,
    stable_id,
    strip_userinfo,
    vuln_id,
)
from reporter.importers.interface import ImportContext, ImportLimits
from reporter.importers.registry import IMPORTERS

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
    assert secret_location("r", "abc", "https://u:p@h/f?token=t", 3) == "r@abc:https://h/f:3"


REDACTED = re.compile(r"<redacted-url:[0-9a-f]{8}>")


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("https://github.com/o/r", "https://github.com/o/r"),
        ("https://bot:tok@git.example/o/r.git", "https://git.example/o/r.git"),
        ("https://ghp_tok@github.com/o/r", "https://github.com/o/r"),  # a token as the user name
        ("ssh://git@host.example:2222/o/r", "ssh://host.example:2222/o/r"),
        ("https://host.example/o/r?access_token=t#frag", "https://host.example/o/r"),
        ("postgres://jack:secret@pg.example.com:5432", "postgres://pg.example.com:5432"),
        ("https://[::1]:8080/x", "https://[::1]:8080/x"),
        ("git@github.com:o/r.git", "github.com:o/r.git"),  # scp-style remote
        ("user:secret@host.example:o/r", "host.example:o/r"),
        ("tok@github.com/o/r?token=t", "github.com/o/r"),
        ("node_modules/@types/node/index.d.ts", "node_modules/@types/node/index.d.ts"),
        ("alpine:3.19@sha256:" + "a" * 64, "alpine:3.19@sha256:" + "a" * 64),  # an image digest
        ("registry.example:5000/team/img@sha256:" + "b" * 64, "registry.example:5000/team/img@sha256:" + "b" * 64),
        ("C:\\Users\\me@corp\\app.config", "C:\\Users\\me@corp\\app.config"),
        ("lodash@4.17.21/index.js", "lodash@4.17.21/index.js"),  # a version, not a host
        ("0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567"),
        ("config/app.env", "config/app.env"),
    ],
)
def test_scrubbed_locations_keep_the_place(raw: str, kept: str) -> None:
    assert scrub_location(raw) == kept


@pytest.mark.parametrize(
    "raw",
    [
        "https://user:abc/DEF+ghi@host.example/o/r",  # '/' in the password: host "user", port "abc"
        "https://u:p@TAIL@host.example/r",  # which '@' ends the userinfo?
        "https://ab/cd@host.example/o/r",  # '@' in the path
        "https://h.example:99999/x",  # port out of range
        "https://u:p@h.example/r\\@x",  # backslash: WHATWG reads it as '/'
        "https://u:p@h.example/r x",  # whitespace
        "https:/u:p@h.example/r",  # one slash: not a URL to urllib, userinfo to a browser
        "jdbc:postgresql://u:p@h.example/db",  # a URL after other text
        "user:pw@tcp(db.example:3306)/app",  # a Go DSN
        "u:p@TAIL@host:o/r",
        "u@TAIL@host.example/r",
    ],
)
def test_ambiguous_locations_are_replaced_whole(raw: str) -> None:
    scrubbed = scrub_location(raw)
    assert REDACTED.fullmatch(scrubbed)
    assert scrubbed == scrub_location(raw)  # stable
    assert scrubbed != scrub_location(raw + "x")  # distinguishable


def test_line_numbers_are_integers() -> None:
    assert opt_line({"line": 4}, "line", HERE) == 4
    assert opt_line({"line": "12"}, "line", HERE) == 12
    assert opt_line({"line": None}, "line", HERE) is None
    for bad in ("4; rm -rf", 4.5, -1, True, [4], "https://u:p@h/"):
        with pytest.raises(ImportFormatError) as caught:
            opt_line({"line": bad}, "line", HERE)
        assert caught.value.location.field == "line"
        assert "rm -rf" not in str(caught.value)


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


# ---------------------------------------------------------------------------------------------
# The bracket scanner: linear, and exact on valid JSON


def _reference_scan(text: str) -> tuple[int, int]:
    """Character by character: the obvious, slow definition the scanner must agree with."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return depth, deepest


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "}{]["}',
        '["\\\\", [1]]',  # an escaped backslash ends the string
        '["\\"", ["x"]]',  # an escaped quote does not
        '{"k": "\\u005b"}',
        '[[[["\\\\\\"]"]]]]',
        '"[" [ "]"',
        "[" * 70 + '"' + '\\"' * 1000,  # the hang of issue 11, small
        "",
    ],
)
def test_bracket_scanner_matches_the_reference(text: str) -> None:
    assert bracket_delta(text) == _reference_scan(text)


class _RecordingStrings:
    """Stands in for the string pattern and records the span of every string it removes."""

    def __init__(self, pattern: re.Pattern[str], spans: list[tuple[int, int]]) -> None:
        self.pattern, self.spans = pattern, spans

    def sub(self, replacement: str, text: str) -> str:
        def record(found: re.Match[str]) -> str:
            self.spans.append(found.span())
            return replacement

        return self.pattern.sub(record, text)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 70 + '"' + '\\"' * 5_000,  # issue 11's escaped quotes (400 KB below, in a subprocess)
        "[" * 70 + '"' + '\\"' * 5_000 + "\\",  # ... ending in a lone backslash
        '["' + "\\\\" * 100_000 + '"]',
        json.dumps([{"k": "v" * 10, "l": [1, 2, "]["]}] * 5_000),
    ],
    ids=["escaped-quotes", "lone-backslash", "escaped-backslashes", "ordinary"],
)
def test_bracket_scanner_reads_each_character_once(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    # The pattern starts with a quote, so the engine only tries it at quotes; a try that failed
    # would be retried from the next quote inside the same string (the quadratic case). Here every
    # quote lies inside a removed string that began at the first quote not inside an earlier one:
    # no try fails, and the strings removed are disjoint, so each character is read once.
    spans: list[tuple[int, int]] = []
    monkeypatch.setattr(_common, "_STRINGS", _RecordingStrings(_common._STRINGS, spans))
    assert bracket_delta(text) == _reference_scan(text)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    past_the_end = (len(text) + 1, len(text) + 1)
    covered = iter(spans)
    span = next(covered, past_the_end)
    for quote in (i for i, char in enumerate(text) if char == '"'):
        while quote >= span[1]:
            span = next(covered, past_the_end)
        assert span[0] <= quote, "a quote outside every removed string: a failed try"


HANG = "[" * 70 + '"' + '\\"' * 200_000  # 400 KB: hung `import trivy-json` past 5 minutes
# The JSON formats at the time of issue 11; formats added since only have to finish.
JSON_FORMATS = {"trivy-json", "grype-json", "gitleaks-json", "trufflehog-jsonl", "kev-json", "cyclonedx-json"}
RUN_EVERY_IMPORTER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from reporter.errors import ImportFormatError
from reporter.importers.interface import ImportContext
from reporter.importers.registry import IMPORTERS
from reporter.importers.run import collect

context = ImportContext("hang.json", asset_id="asset-1", collected_at=datetime(2026, 1, 5, tzinfo=UTC))
for name in sorted(IMPORTERS):
    try:
        collect(IMPORTERS[name], Path(sys.argv[1]), context)
        print(name, "ACCEPTED")
    except ImportFormatError as error:
        print(name, error.message)
    except Exception as error:  # asserted below: no importer may crash on it
        print(name, "CRASHED", type(error).__name__)
"""


@pytest.mark.parametrize(("nesting", "message"), [(70, "nested deeper than 64"), (10, "not valid JSON")])
def test_escaped_quote_file_is_refused_by_every_json_importer(tmp_path: Path, nesting: int, message: str) -> None:
    path = tmp_path / "hang.json"
    path.write_text("[" * nesting + HANG[70:])
    # The timeout only guards the test run; what is asserted is each importer's outcome.
    done = subprocess.run(
        [sys.executable, "-c", RUN_EVERY_IMPORTER, str(path)], capture_output=True, text=True, timeout=20, check=True
    )
    outcomes = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert set(outcomes) == set(IMPORTERS), "every importer finished within the guard"
    assert [name for name, outcome in outcomes.items() if outcome.startswith("CRASHED")] == []
    for name in JSON_FORMATS:
        assert message in outcomes[name], (name, outcomes[name])


def test_stream_lines_are_scanned_on_their_own(tmp_path: Path) -> None:
    # Strings never span lines in valid JSON, so each line starts outside a string: brackets,
    # escaped quotes and backslashes inside strings of a pretty-printed object do not count.
    value = {"a": '}{"][\\', "b": ["\\", '"'], "c": {"d": "x\\ny"}}
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(value, indent=2) + "\n" + json.dumps(value) + "\n")
    assert [v for _, v in iter_json_stream(path, _context(tmp_path))] == [value, value]


def test_a_raw_newline_in_a_stream_string_is_an_error_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"a": 1}\n{"b": "x\ny"}\n{"c": 3}\n')
    with pytest.raises(ImportFormatError, match="not valid JSON") as caught:
        list(iter_json_stream(path, _context(tmp_path)))
    assert caught.value.location.line == 2


# ---------------------------------------------------------------------------------------------
# Repeated keys


def _refused(tmp_path: Path, text: str, stream: bool = False) -> ImportFormatError:
    path = tmp_path / "dup.json"
    path.write_text(text)
    context = _context(tmp_path)
    read = (lambda: list(iter_json_stream(path, context))) if stream else (lambda: load_json(path, context))
    with pytest.raises(ImportFormatError) as caught:
        read()
    return caught.value


def test_a_repeated_key_is_refused_with_its_line_and_path(tmp_path: Path) -> None:
    document = '{\n "Results": [\n  {"Target": "a"},\n  {"Target": "b",\n   "Target": "c"}\n ]\n}\n'
    error = _refused(tmp_path, document)
    assert "repeats the key 'Target'" in error.message
    assert (error.location.line, error.location.field) == (5, "Results[1]")


def test_keys_equal_after_unescaping_are_the_same_key(tmp_path: Path) -> None:
    error = _refused(tmp_path, '{"a": 1, "\\u0061": 2}')
    assert "repeats the key 'a'" in error.message


def test_a_repeated_key_in_a_stream_names_its_line(tmp_path: Path) -> None:
    error = _refused(tmp_path, '{"a": 1}\n{"b": {"c": 1, "c": 2}}\n', stream=True)
    assert (error.location.line, error.location.field) == (2, "b")


def test_map_keys_from_the_data_are_never_printed(tmp_path: Path) -> None:
    secret = "PLANTED-0f9e8d7c6b5a-Secret"
    error = _refused(tmp_path, json.dumps({"ExtraData": {secret: {"x": 1}}})[:-3] + ', "x": 2}}}')
    assert secret not in str(error)
    assert error.location.field == "ExtraData.?"
    error = _refused(tmp_path, f'{{"{secret}": 1, "{secret}": 2}}')
    assert secret not in str(error)
    assert "repeats a key" in error.message


def test_repeats_across_objects_and_in_arrays_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    value: Any = [{"a": 1}, {"a": 1}, [1, 1], {"b": {"a": 1}, "a": 2}]
    path.write_text(json.dumps(value))
    assert load_json(path, _context(tmp_path)) == value


def test_several_documents_in_one_json_file_name_the_first(tmp_path: Path) -> None:
    finding = {"SourceMetadata": {"Data": {}}, "DetectorName": "AWS", "DetectorType": 2}
    error = _refused(tmp_path, json.dumps(finding) + "\n" + json.dumps(finding) + "\n")
    assert "several JSON values" in error.message
    assert "second starts on line 2" in error.message
    assert "TruffleHog" in error.message
