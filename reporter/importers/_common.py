"""Helpers every importer shares: positions and errors, size/depth-limited reading of untrusted
JSON/JSON Lines/text, typed field access, timestamps, severities, CVSS, identifiers and secrets.

Error messages built here never quote a field value: evidence can hold secrets.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
import math
import re
import urllib.parse
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

from reporter.errors import ImportFormatError, Location
from reporter.importers._packages import looks_like
from reporter.importers.interface import ImportContext, ImportLimits
from reporter.models.common import ID_PATTERN
from reporter.models.evidence import (
    CVE_PATTERN,
    CVSS_VECTOR_PATTERN,
    GHSA_PATTERN,
    VULN_ID_PATTERN,
)

# ---------------------------------------------------------------------------------------------
# Positions and errors


class Where(NamedTuple):
    """A position in a native file: the file, optionally a line, and a JSON/XML path inside it.

    A tuple because one is made per field read: a frozen dataclass costs twice as much."""

    file: str
    line: int | None = None
    path: str = ""

    def at(self, part: str | int) -> Where:
        """The position of a child: `Results` then `[0]` gives `Results[0]`."""
        if isinstance(part, int):
            return Where(self.file, self.line, f"{self.path}[{part}]")
        return Where(self.file, self.line, f"{self.path}.{part}" if self.path else part)

    def on_line(self, line: int) -> Where:
        """The same path on another line (JSON Lines, CSV)."""
        return Where(self.file, line, self.path)

    def error(self, message: str) -> ImportFormatError:
        """An ImportFormatError at this position (the caller raises it)."""
        location = Location(file=self.file, line=self.line, field=self.path or None)
        return ImportFormatError(message, location)

    def __str__(self) -> str:  # a NamedTuple's own str would print the tuple
        parts = [f"line {self.line}"] if self.line is not None else []
        if self.path:
            parts.append(self.path)
        return ", ".join(parts)


def start(context: ImportContext) -> Where:
    """The position of a whole file."""
    return Where(context.source_path)


_TYPE_NAMES = (
    (bool, "true/false"),
    (int | float, "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
)


def describe(value: Any) -> str:
    """The JSON type of a value, for messages (never the value itself)."""
    if value is None:
        return "null"
    return next((name for kind, name in _TYPE_NAMES if isinstance(value, kind)), "another value")


# ---------------------------------------------------------------------------------------------
# Reading files within limits


def check_size(path: Path, where: Where, limit: int) -> None:
    """Refuse a file larger than `limit` bytes before reading any of it."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise where.error(f"cannot be read ({type(exc).__name__})") from None
    if size > limit:
        raise where.error(f"is {size} bytes, more than the import limit of {limit} bytes")


def read_bytes(path: Path, where: Where, limit: int) -> bytes:
    """The whole file, refusing one larger than `limit` bytes."""
    check_size(path, where, limit)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise where.error(f"cannot be read ({type(exc).__name__})") from None
    if len(data) > limit:  # grew while we read it
        raise where.error(f"is more than the import limit of {limit} bytes")
    return data


def decode_utf8(data: bytes, where: Where, *, first: bool = True) -> str:
    """UTF-8 text (a leading BOM is dropped); UTF-16 and invalid bytes are refused, with a line."""
    if first and data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise where.error("is UTF-16 encoded (e.g. PowerShell redirection); convert it to UTF-8")
    if first and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = (where.line or 1) + data[: exc.start].count(b"\n")
        raise Where(where.file, line, where.path).error("is not valid UTF-8 text") from None


class _CountingReader:
    """Wraps a (decompressing) stream and refuses to yield more than `limit` bytes."""

    def __init__(self, raw: IO[bytes], limit: int, where: Where) -> None:
        self.raw, self.limit, self.where, self.count = raw, limit, where, 0

    def readline(self, size: int = -1) -> bytes:
        try:
            chunk = self.raw.readline(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise self.where.error(f"is not a valid gzip stream ({type(exc).__name__})") from None
        self.count += len(chunk)
        if self.count > self.limit:
            raise self.where.error(f"expands to more than the import limit of {self.limit} bytes")
        return chunk


def iter_lines(path: Path, where: Where, limits: ImportLimits) -> Iterator[tuple[int, str]]:
    """Stream (line number, text) pairs of a UTF-8 file, gzip-compressed or not, within limits."""
    check_size(path, where, limits.max_bytes)
    try:
        with path.open("rb") as handle:
            compressed = handle.read(2) == b"\x1f\x8b"
            handle.seek(0)
            raw = cast(IO[bytes], gzip.GzipFile(fileobj=handle)) if compressed else handle
            yield from _lines(_CountingReader(raw, limits.max_bytes, where), where, limits)
    except OSError as exc:
        raise where.error(f"cannot be read ({type(exc).__name__})") from None


def _lines(reader: _CountingReader, where: Where, limits: ImportLimits) -> Iterator[tuple[int, str]]:
    number = 0
    while True:
        chunk = reader.readline(limits.max_record_bytes + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > limits.max_record_bytes:
            raise where.on_line(number).error(f"line is longer than the limit of {limits.max_record_bytes} bytes")
        yield number, decode_utf8(chunk, where.on_line(number), first=number == 1)


# ---------------------------------------------------------------------------------------------
# JSON with depth, number and duplicate-key checks

# A JSON string, or an unterminated one running to the end of the text: from every quote it
# matches (possessively, never backtracking), so removing strings never restarts inside one and
# every character is read once. (A pattern that can fail from a quote is quadratic: 400 KB of
# escaped quotes once took over 5 minutes.)
_STRINGS = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_END = "\x00"  # cannot stand outside a string in JSON: still there after stripping = no open string
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class _DuplicateKeyError(ValueError):
    """An object repeats a key (raised while decoding, located afterwards)."""


def _reject_constant(_: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated key is read as its first value by some readers and its last by others (jq,
    # Python), so two tools would see different evidence in one file: refuse it.
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _DuplicateKeyError
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys)


def _scan_brackets(text: str) -> tuple[int, int, bool]:
    """(net change, deepest level, ends inside a string) of JSON nesting in `text`, read from the
    start outside any string, in time linear in its length."""
    bare = _STRINGS.sub("", text + _END)
    brackets = _NOT_BRACKET.sub("", bare)
    levels = accumulate(map(_STEP.__getitem__, brackets))
    change = brackets.count("[") + brackets.count("{") - brackets.count("]") - brackets.count("}")
    return change, max(0, max(levels, default=0)), not bare.endswith(_END)


def bracket_delta(text: str) -> tuple[int, int]:
    """(net change, deepest level) of JSON nesting in `text`, ignoring brackets inside strings."""
    return _scan_brackets(text)[:2]


def check_depth(text: str, where: Where, max_depth: int) -> None:
    """Refuse JSON nested deeper than `max_depth` before the recursive parser sees it."""
    if text.count("[") + text.count("{") <= max_depth:
        return
    if bracket_delta(text)[1] > max_depth:
        raise where.error(f"JSON is nested deeper than {max_depth} levels")


def _skip_blank(text: str, index: int) -> int:
    """The index of the first non-blank character at or after `index`."""
    blank = _WHITESPACE.match(text, index)
    return blank.end() if blank else index


def _decode_error(exc: ValueError, where: Where) -> ImportFormatError:
    if isinstance(exc, json.JSONDecodeError):  # its msg names the syntax problem, not the content
        line = (where.line or 1) + exc.lineno - 1
        return Where(where.file, line, where.path).error(f"is not valid JSON: {exc.msg}")
    return where.error("is not valid JSON: a number is out of range or not finite")


def _decode_at(text: str, index: int, where: Where, max_depth: int) -> tuple[Any, int]:
    """The JSON value starting at `index` and the index after it, every failure an error."""
    try:
        return _DECODER.raw_decode(text, index)
    except RecursionError:
        raise where.error(f"JSON is nested deeper than {max_depth} levels") from None
    except _DuplicateKeyError:
        raise _duplicate_key_error(text, index, where) from None
    except ValueError as exc:
        raise _decode_error(exc, where) from None


def parse_json(text: str, where: Where, max_depth: int) -> Any:
    """One JSON value from text, with the depth check, strict numbers and no repeated keys."""
    check_depth(text, where, max_depth)
    value, end = _decode_at(text, _skip_blank(text, 0), where, max_depth)
    end = _skip_blank(text, end)
    if end < len(text):
        second = (where.line or 1) + text.count("\n", 0, end)
        seen = looks_like_tool(value)
        raise where.error(
            f"holds several JSON values one after another (the second starts on line {second}), "
            "not one JSON document" + (f"; the first looks like {seen}" if seen else "")
        )
    return value


def load_json(path: Path, context: ImportContext) -> Any:
    """A whole JSON document, within the size and depth limits."""
    where = start(context)
    limit = min(context.limits.max_json_bytes, context.limits.max_bytes)
    text = decode_utf8(read_bytes(path, where, limit), where)
    if not text.strip():
        raise where.error("is empty: expected a JSON document")
    return parse_json(text, where, context.limits.max_json_depth)


def first_char(path: Path, where: Where) -> str:
    """The first non-blank character of a file ('' when it is blank), without reading it all."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise where.error(f"cannot be read ({type(exc).__name__})") from None
    head = head.removeprefix(codecs.BOM_UTF8).lstrip()
    return chr(head[0]) if head else ""


def iter_json_stream(path: Path, context: ImportContext) -> Iterator[tuple[int, Any]]:
    """(first line, value) for each JSON value of a stream: one per line (NDJSON), pretty-printed
    objects one after another, several on a line, a last line without newline.

    Lines are counted one by one: a JSON string cannot hold a raw newline, so every line of valid
    JSON starts outside a string, and a line ending inside one is decoded at once for the error."""
    where, limits = start(context), context.limits
    buffer: list[str] = []
    size = depth = begin = 0
    for number, line in iter_lines(path, where, limits):
        if not buffer:
            if not line.strip():
                continue
            if line.lstrip()[0] not in "[{":
                raise where.on_line(number).error(
                    "is not a JSON value (capture the tool's standard output only, not its logs)"
                )
            begin = number
        buffer.append(line)
        size += len(line)
        if size > limits.max_record_bytes:
            raise where.on_line(begin).error(f"JSON value is longer than the limit of {limits.max_record_bytes} bytes")
        change, _, open_string = _scan_brackets(line)
        depth += change
        if depth <= 0 or open_string:
            yield from _decode_values("".join(buffer), where.on_line(begin), limits)
            buffer, size, depth = [], 0, 0
    if buffer:
        raise where.on_line(begin).error("ends inside a JSON value (truncated file?)")


def _decode_values(text: str, where: Where, limits: ImportLimits) -> Iterator[tuple[int, Any]]:
    check_depth(text, where, limits.max_json_depth)
    index = 0
    while True:
        index = _skip_blank(text, index)
        if index == len(text):
            return
        line = (where.line or 1) + text.count("\n", 0, index)
        value, index = _decode_at(text, index, where, limits.max_json_depth)
        yield line, value


# Locating a repeated key: a second, token-level pass, made only when the decoder has found one.

_TOKEN = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[\[\]{}:,]', re.DOTALL)
# A field name, safe to print: a word with at most a two-digit suffix (Git, S3, Results). Any
# other key (a map key from the data, possibly a secret) is printed as `?`.
_NAME_LIKE = re.compile(r"[A-Za-z_][A-Za-z_-]{0,39}[0-9]{0,2}")


def safe_key(key: str) -> str:
    """A key of the data as it may appear in a message: itself when it is a plain field name,
    else `?` (map keys come from the evidence and may hold anything)."""
    return key if _NAME_LIKE.fullmatch(key) else "?"


class _Container:
    """An array or object being scanned: its position for paths, and the keys seen so far."""

    def __init__(self, is_object: bool) -> None:
        self.is_object, self.index, self.key = is_object, 0, ""
        self.keys: set[str] = set()

    def step(self) -> str:
        """This container's part of the path to its current member."""
        if not self.is_object:
            return f"[{self.index}]"
        return f".{safe_key(self.key)}"


def _first_repeated_key(text: str, index: int) -> tuple[int, str, str] | None:
    """(offset, path of its object, key) of the first key repeated in one object after `index`.

    The decoder stopped at the end of the object holding it, and everything before that parsed,
    so this scan never meets invalid JSON before it finds the key."""
    stack: list[_Container] = []
    previous: re.Match[str] | None = None
    for token in _TOKEN.finditer(text, index):
        char = token[0]
        if char in "[{":
            stack.append(_Container(char == "{"))
        elif char in "]}" and stack:
            stack.pop()
        elif char == "," and stack and not stack[-1].is_object:
            stack[-1].index += 1
        elif char == ":" and stack and previous is not None and previous[0][0] == '"':
            container, key = stack[-1], json.loads(previous[0])  # escapes normalised: "\u0061" is "a"
            if key in container.keys:
                return previous.start(), "".join(c.step() for c in stack[:-1]).lstrip("."), key
            container.keys.add(key)
            container.key = key
        previous = token
    return None


def _duplicate_key_error(text: str, index: int, where: Where) -> ImportFormatError:
    found = _first_repeated_key(text, index)
    if found is None:  # not reached: the decoder saw the repeat
        return where.error("has an object with a repeated key")
    offset, path, key = found
    line = (where.line or 1) + text.count("\n", 0, offset)
    full = ".".join(p for p in (where.path, path) if p).replace(".[", "[")
    named = f"the key {key!r}" if safe_key(key) == key else "a key"
    return Where(where.file, line, full).error(
        f"repeats {named} in one object: JSON readers disagree on which value counts, so the file is refused"
    )


# ---------------------------------------------------------------------------------------------
# Typed access to parsed JSON (missing key, null, "" and [] all mean "none")


def as_obj(value: Any, where: Where) -> dict[str, Any]:
    """An object, or an error naming what was found instead."""
    if not isinstance(value, dict):
        raise where.error(f"expected an object, found {describe(value)}")
    return value


def as_list(value: Any, where: Where) -> list[Any]:
    """An array; null means empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error(f"expected an array, found {describe(value)}")
    return value


def opt_obj(data: dict[str, Any], key: str, where: Where) -> dict[str, Any]:
    """A nested object; missing or null means empty."""
    value = data.get(key)
    return {} if value is None else as_obj(value, where.at(key))


def as_str(value: Any, where: Where) -> str | None:
    """A string; numbers are accepted as their text; null and "" mean none."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise where.error(f"expected a string, found {describe(value)}")
    return value.strip() or None


def opt_str(data: dict[str, Any], key: str, where: Where) -> str | None:
    """`as_str` of a field."""
    return as_str(data.get(key), where.at(key))


def opt_int(data: dict[str, Any], key: str, where: Where) -> int | None:
    """An integer field; integral floats and digit strings are accepted."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise where.at(key).error(f"expected an integer, found {describe(value)}")


def opt_float(data: dict[str, Any], key: str, where: Where) -> float | None:
    """A number field; numeric strings are accepted."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}(\.\d{1,18})?([eE][+-]?\d{1,3})?", value):
        value = float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise where.at(key).error("expected a finite number")
        return float(value)
    raise where.at(key).error(f"expected a number, found {describe(value)}")


def opt_bool(data: dict[str, Any], key: str, where: Where) -> bool | None:
    """A boolean field; "true"/"false" strings are accepted."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise where.at(key).error(f"expected true or false, found {describe(value)}")


def probability(value: float | None, where: Where) -> float | None:
    """A probability in [0, 1] (EPSS scores and percentiles)."""
    if value is not None and not 0.0 <= value <= 1.0:
        raise where.error("expected a probability between 0 and 1")
    return value


def compact(data: dict[str, Any]) -> dict[str, Any]:
    """The record without unset fields (the model's defaults apply)."""
    return {key: value for key, value in data.items() if value is not None and value != []}


# ---------------------------------------------------------------------------------------------
# Timestamps: seven styles in, ISO 8601 in UTC out

_MONTHS = {
    month: number
    for number, month in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_GO_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?) ?(Z|[+-]\d{2}:?\d{2})"
    r"(?: [A-Za-z0-9+-]{1,10})?"  # Go's "-0700 PDT" or "-0700 -0700": the name adds nothing
)
_CTIME = re.compile(r"(?:[A-Za-z]{3},? +)?([A-Za-z]{3}) +(\d{1,2}) +(\d{1,2}):(\d{2}):(\d{2}) +(\d{4})")
_SLASH_DATE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
_US_DATE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")
_EPOCH = re.compile(r"\d{9,16}(\.\d{1,9})?")  # a bare year or day number is not an epoch
_EPOCH_MS_THRESHOLD = 100_000_000_000  # 1e11 s is year 5138; as ms it is 1973

TIMESTAMP_STYLES = (
    "RFC 3339 (Z, offset, 1-9 fractional digits), epoch seconds or milliseconds, "
    "ctime without zone (UTC), YYYY/MM/DD, MM-DD-YYYY, Go time with zone name"
)


def _from_epoch(value: float) -> datetime:
    seconds = value / 1000 if abs(value) >= _EPOCH_MS_THRESHOLD else value
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def _from_ctime(match: re.Match[str]) -> datetime:
    month = _MONTHS.get(match[1].lower())
    if month is None:
        raise ValueError("not a month name")
    day, hour, minute, second, year = (int(match[i]) for i in range(2, 7))
    return datetime(year, month, day, hour, minute, second)


_STYLES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], datetime]], ...] = (
    (_EPOCH, lambda m: _from_epoch(float(m[0]))),
    (_GO_TIME, lambda m: datetime.fromisoformat(f"{m[1]}{m[2]}")),
    (_CTIME, _from_ctime),
    (_SLASH_DATE, lambda m: datetime(int(m[1]), int(m[2]), int(m[3]))),
    (_US_DATE, lambda m: datetime(int(m[3]), int(m[1]), int(m[2]))),
)


def _from_text(text: str) -> datetime:
    """Raises ValueError for text in none of the styles."""
    for pattern, build in _STYLES:
        if match := pattern.fullmatch(text):
            return build(match)
    return datetime.fromisoformat(text)  # dates, offsets with seconds, basic format...


def _as_written(value: Any, where: Where) -> datetime | None:
    """A timezone-aware datetime in the offset it was written with (none written: UTC)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            parsed = _from_epoch(float(value))
        elif isinstance(value, str) and len(value) <= 64:
            parsed = _from_text(value.strip())
        else:
            raise ValueError("not a timestamp")
    except (ValueError, OverflowError, OSError):
        raise where.error(f"is not a recognised timestamp (accepted: {TIMESTAMP_STYLES})") from None
    if parsed.year == 1:  # Go's zero time.Time: "not set"
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_timestamp(value: Any, where: Where) -> datetime | None:
    """A timezone-aware instant in UTC; None for null, "" and Go's zero time. No zone means UTC."""
    written = _as_written(value, where)
    try:
        return written.astimezone(UTC) if written else None
    except (ValueError, OverflowError):
        raise where.error("is a timestamp out of the supported range") from None


def timestamp_at(data: dict[str, Any], key: str, where: Where) -> datetime | None:
    """`parse_timestamp` of a field."""
    return parse_timestamp(data.get(key), where.at(key))


def parse_day(value: Any, where: Where) -> date | None:
    """A calendar date as published: YYYY-MM-DD, YYYY/MM/DD, or a timestamp's date in the
    offset it was written with."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise where.error("is not a valid date (YYYY-MM-DD)") from None
        return None if day.year == 1 else day
    moment = _as_written(value, where)
    return moment.date() if moment else None


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with offset, in UTC."""
    return moment.astimezone(UTC).isoformat() if moment else None


def day_iso(day: date | None) -> str | None:
    """YYYY-MM-DD."""
    return day.isoformat() if day else None


def scan_time(native: datetime | None, context: ImportContext, where: Where, what: str) -> datetime:
    """The tool's own scan time, else the manifest's collected_at, else a clear error."""
    moment = native or context.collected_at
    if moment is None:
        raise where.error(f"{what} is unknown: set collected_at for this source (--collected-at on the command line)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# Severity and CVSS

_SEVERITIES = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "negligible": "info",
    "info": "info",
    "informational": "info",
    "none": "info",
    "unknown": "unknown",
    "unspecified": "unknown",
}
_NUMERIC_SEVERITY = ("info", "low", "medium", "high", "critical")  # Nessus 0-4, Trivy 0-4


def severity_of(raw: Any) -> str:
    """A tool's severity word (any case) or 0-4 number, mapped to the canonical enum."""
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 4:
        return _NUMERIC_SEVERITY[raw]
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word.isdigit() and int(word) <= 4:
            return _NUMERIC_SEVERITY[int(word)]
        return _SEVERITIES.get(word, "unknown")
    return "unknown"


def severity_from_score(score: float | None) -> str:
    """CVSS v3 qualitative bands for a score given without a severity."""
    if score is None:
        return "unknown"
    for floor, name in ((9.0, "critical"), (7.0, "high"), (4.0, "medium"), (0.1, "low")):
        if score >= floor:
            return name
    return "info"


def cvss_vector(raw: Any, version: str | None = None) -> str | None:
    """A CVSS vector in canonical form (`CVSS:3.1/...`, bare v2), or None when unusable.

    `version` ("3.0", "3.1", "4.0") supplies the prefix some tools leave out; `CVSS2#` and
    parentheses around v2 vectors are removed."""
    if not isinstance(raw, str):
        return None
    vector = raw.strip().removeprefix("CVSS2#").removeprefix("(").removesuffix(")")
    if not vector.startswith("CVSS:") and "Au:" not in vector and version in ("3.0", "3.1", "4.0"):
        vector = f"CVSS:{version}/{vector}"
    return vector if re.fullmatch(CVSS_VECTOR_PATTERN, vector) else None


def cvss_score(raw: float | None) -> float | None:
    """A CVSS base score within 0-10, else None."""
    return raw if raw is not None and 0.0 <= raw <= 10.0 else None


# ---------------------------------------------------------------------------------------------
# Identifiers

_SAFE_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def digest(*parts: Any) -> str:
    """sha256 hex of the parts (JSON-encoded, so ("a", "b") and ("a,b",) differ)."""
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stable_id(prefix: str, *parts: Any) -> str:
    """`prefix:` + first 16 hex of the natural key's sha256: stable across runs and versions."""
    return f"{prefix}:{digest(*parts)[:16]}"


def is_cve(value: str) -> bool:
    """A well-formed CVE id."""
    return re.fullmatch(CVE_PATTERN, value) is not None


def vuln_id(raw: str, tool: str, where: Where) -> str:
    """A canonical vulnerability id: CVE/GHSA normalised, other advisory ids kept, and a bare
    token without a prefix (e.g. `MAL123`) prefixed with the tool name."""
    value = raw.strip()
    upper = value.upper()
    if upper.startswith("CVE-"):
        value = upper
    elif upper.startswith("GHSA-"):
        value = "GHSA-" + value[5:].lower()
    if re.fullmatch(VULN_ID_PATTERN, value) and (
        not value.startswith(("CVE-", "GHSA-")) or re.fullmatch(CVE_PATTERN, value) or re.fullmatch(GHSA_PATTERN, value)
    ):
        return value
    if not value.startswith(("CVE-", "GHSA-")) and _SAFE_TOKEN.fullmatch(value):
        return f"{tool}:{value}"
    raise where.error("is not a recognised vulnerability identifier (CVE, GHSA or vendor id)")


def asset_id(native: str | None, context: ImportContext, where: Where) -> str:
    """The manifest's asset_id when given, else the tool's own name for the asset."""
    if context.asset_id:
        return context.asset_id
    if not native:
        raise where.error("does not name the scanned asset: set asset_id (--asset-id)")
    if scrub_location(native) != native:  # `trivy repo https://user:token@host/…`: never an id
        raise where.error(
            "names the asset by a URL that may carry a credential, so it is neither used nor quoted: "
            "set asset_id (--asset-id)"
        )
    if re.fullmatch(ID_PATTERN, native):
        return native
    raise where.error(
        f"names the asset {native[:80]!r}, which is not usable as an asset id: "
        "set asset_id (--asset-id) and list the name as an alias of that asset"
    )


class AssetResolver:
    """Asset ids for a file that names its assets itself (Nessus hosts, SSM instances): the
    manifest's asset_id may only stand in for the name in a file that names a single asset."""

    def __init__(self, context: ImportContext) -> None:
        self.context = context
        self.first: str | None = None

    def __call__(self, native: str, where: Where) -> str:
        """The asset id of the asset this file calls `native`."""
        if self.context.asset_id:
            if self.first is None:
                self.first = native
            elif native != self.first:
                raise where.error(
                    "names a second asset, so a single asset_id cannot stand for them: "
                    "leave asset_id unset and list the names as aliases in the inventory"
                )
        return asset_id(native, self.context, where)


# ---------------------------------------------------------------------------------------------
# Secrets: only locations and fingerprints leave an importer
#
# A location names a place (repository URL, scp-style remote, path, image, bucket, link) and may
# carry a credential: userinfo, a token in the query or fragment, or a form parsers read
# differently. URLs are split with urllib.parse (the standard library: maintained with Python's
# security fixes, no dependency to vet) and only scheme, host, port and path are kept; anything
# urllib could read otherwise than git, curl or a browser (an '@' outside one userinfo, a
# non-numeric port, whitespace, control characters or backslashes) is treated as secret whole.

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# user[:secret]@host.example followed by :path (scp-style git remote), /path or nothing
_USER_AT_HOST = re.compile(r"[^@/\\\s]+@(?P<rest>(?:[A-Za-z0-9-]+\.)+[A-Za-z][A-Za-z0-9-]*(?:[:/][^@\s]*)?)")
_IMAGE_DIGEST = re.compile(r"@[A-Za-z0-9+._-]+:[0-9a-fA-F]{32,}")  # alpine:3.19@sha256:…
_DRIVE = re.compile(r"[A-Za-z]:(?=\\)")  # C:\ at the start (C:/ could be the user "C" and a password)
_TWO_AT = re.compile(r"@[^/\\@]*@")  # two '@' in one path segment
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f\\]")


def redacted_location(text: str) -> str:
    """The placeholder of a location that may hide a credential: a short hash keeps two such
    locations apart (a hash, not the text, so the credential is not recoverable from a report)."""
    return f"<redacted-url:{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}>"


def _scrub_url(url: str) -> str:
    if _NOT_IN_URL.search(url):
        return redacted_location(url)
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  # raises ValueError for "user:pa/ss@" read as host:port
    except ValueError:
        return redacted_location(url)
    userinfo, _, host = parts.netloc.rpartition("@")
    if "@" in userinfo or "@" in parts.path:  # which '@' ends the userinfo is a guess
        return redacted_location(url)
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _userinfo_like(text: str) -> bool:
    """`user:pa/ss@…` (a ':' anywhere before the last '@') or two '@' in one path segment: which
    '@' ends a userinfo is a guess. Image digests and a leading drive letter do not count."""
    bare = _IMAGE_DIGEST.sub("", text)
    if drive := _DRIVE.match(bare):
        bare = bare[drive.end() :]
    return ":" in bare[: max(bare.rfind("@"), 0)] or _TWO_AT.search(bare) is not None


def scrub_location(text: str) -> str:
    """A location without credentials: URLs keep scheme://host[:port]/path (userinfo, query and
    fragment dropped), scp-style remotes keep host:path, other text loses a query string; text
    where a credential may hide in a form parsers disagree on becomes `redacted_location`."""
    if _SCHEME.match(text):
        return _scrub_url(text)
    if "://" in text:  # a URL after other text
        return redacted_location(text)
    if remote := _USER_AT_HOST.fullmatch(text):  # user:secret@host.example:owner/repo
        text = remote["rest"]
    elif _userinfo_like(text):
        return redacted_location(text)
    query = text.find("?")
    return text[:query] if query >= 0 and "=" in text[query:] else text


def strip_userinfo(url: str) -> str:
    """A URL without `user:password@`, tokens in its query or fragment, or ambiguous forms
    (`scrub_location`; the name is kept for its callers)."""
    return scrub_location(url)


def secret_location(prefix: str | None, commit: str | None, file: str | None, line: Any) -> str:
    """`prefix@commit:file:line`, leaving out the parts that are unknown; every part is scrubbed."""
    head = scrub_location(prefix) if prefix else ""
    if commit:
        commit = scrub_location(commit)
        head = f"{head}@{commit}" if head else commit
    tail = ":".join(str(p) for p in (scrub_location(file) if file else None, line) if p not in (None, ""))
    location = ":".join(p for p in (head, tail) if p)
    return location or "unknown"


def opt_line(data: dict[str, Any], key: str, where: Where) -> int | None:
    """A line number: an integer of 0 or more (digit strings accepted); anything else is an error
    naming the field, so that no text reaches a location through it."""
    line = opt_int(data, key, where)
    if line is not None and line < 0:
        raise where.at(key).error("expected a line number (0 or more)")
    return line


_SECRET_TOOL_SHAPES: tuple[tuple[Callable[[dict[str, Any]], bool], str], ...] = (
    (
        lambda e: "stringsFound" in e and bool({"reason", "commitHash"} & set(e)),
        "TruffleHog 2.x output (also trufflehog3's legacy format), which is not supported: "
        "run TruffleHog v3 with --json",
    ),
    (
        lambda e: isinstance(e.get("rule"), dict) and bool({"path", "secret"} & set(e)),
        "trufflehog3 output (a different tool from TruffleHog), which is not supported",
    ),
    (
        lambda e: {"level", "msg"} <= set(e) and not {"SourceMetadata", "DetectorName"} & set(e),
        "a TruffleHog log line (capture standard output only: logs go to standard error)",
    ),
)


def looks_like_tool(value: Any) -> str | None:
    """Which tool's output a parsed JSON value (a document, an array entry or a stream line)
    looks like, for refusing it by name; None when unknown."""
    entry = value[0] if isinstance(value, list) and value else value
    if isinstance(entry, dict):
        for test, name in _SECRET_TOOL_SHAPES:
            if test(entry):
                return name
    return looks_like(value) or (looks_like([value]) if isinstance(value, dict) else None)
