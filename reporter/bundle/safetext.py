"""Reading untrusted text: the one place where decoding, nesting, duplicate-key, number and CSV-size
errors become EvidenceErrors that name the file, line (or record) and what is accepted.

Readers call `load_json` for every JSON value they parse in Python, `encoding_error` for bytes that
are not UTF-8, and wrap their work in `reading(rel)` so that nothing but an EvidenceError escapes.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reporter.bundle.limits import Limits
from reporter.errors import EvidenceError, Location
from reporter.importers._common import bracket_delta, safe_key

ACCEPTED_ENCODING = "evidence files must be UTF-8 (a UTF-8 byte-order mark is allowed)"
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)


def foreign_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark at the start of a file announces, if it is not UTF-8."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def encoding_error(rel: str, line: int, byte: int, reason: str = "", head: bytes = b"") -> EvidenceError:
    """A file that is not UTF-8: where (line, byte offset from 0), why, and what is accepted."""
    announced = foreign_encoding(head)
    if announced:
        message = f"is {announced} (it starts with that byte-order mark); {ACCEPTED_ENCODING}: re-encode it"
        return EvidenceError(message, Location(file=rel, line=1), code="file.bad-encoding")
    why = f": {reason}" if reason else ""
    return EvidenceError(
        f"not valid UTF-8 at byte {byte}{why}; {ACCEPTED_ENCODING}: re-encode it (e.g. iconv -t UTF-8)",
        Location(file=rel, line=line),
        code="file.bad-encoding",
    )


def decode_reason(exc: UnicodeDecodeError) -> str:
    """Python's reason for a decoding error, in words an exporter can act on."""
    bad = exc.object[exc.start : exc.start + 1]
    if bad and bad[0] in (0xC0, 0xC1):
        return "an overlong encoding"
    if bad == b"\xed":
        return "an encoded surrogate (UTF-16 leaking into UTF-8)"
    return exc.reason


def too_deep(text: str, limit: int) -> bool:
    """Whether a JSON text nests arrays and objects deeper than `limit` (brackets inside strings do
    not count). Cheap for ordinary records: they hold fewer brackets than the limit. The scan is the
    importers' linear one (a string pattern that can fail from a quote is quadratic)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    return bracket_delta(text)[1] > limit


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(text: str, location: Location, limits: Limits) -> Any:
    """One JSON value from untrusted text. EvidenceError (at `location`) when it is not valid JSON,
    nests deeper than the limit, gives a key twice, or holds a number Python will not build."""
    if too_deep(text, limits.max_nesting_depth):
        raise EvidenceError(
            f"JSON nested deeper than {limits.max_nesting_depth} levels; refusing it",
            location,
            code="file.json-limit",
        )
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_no_constant)
    except _DuplicateKeyError as exc:
        field = safe_key(exc.key)  # a map key of the data may hold anything: printed only when name-like
        raise EvidenceError(
            f"key '{field}' appears twice in one JSON object; remove one of them",
            Location(location.file, location.line, location.record, location.field or field),
            code="file.duplicate-key",
        ) from None
    except json.JSONDecodeError as exc:
        raise EvidenceError(f"not valid JSON: {exc.msg}", location, code="record.invalid-json") from None
    except (ValueError, RecursionError) as exc:  # a 5000-digit integer, NaN, or nesting Python cannot follow
        reason = str(exc).split(";")[0][:120] if isinstance(exc, ValueError) else "nested too deeply"
        raise EvidenceError(f"not valid JSON: {reason}", location, code="record.invalid-json") from None


def allow_csv_fields(limits: Limits) -> None:
    """Python's csv module refuses fields over 128 KiB; DuckDB allows a whole line. Same limit for both."""
    wanted = limits.max_line_bytes + 2
    if csv.field_size_limit() < wanted:
        csv.field_size_limit(wanted)


@contextmanager
def reading(rel: str, line: int | None = None) -> Iterator[None]:
    """Turn what a reader can still raise on hostile text into an EvidenceError naming the file."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise encoding_error(rel, line or 1, exc.start, decode_reason(exc), exc.object[:4]) from None
    except csv.Error as exc:
        raise EvidenceError(f"not valid CSV: {exc}", Location(file=rel, line=line), code="file.bad-syntax") from None
    except RecursionError:
        raise EvidenceError(
            "nested too deeply to read", Location(file=rel, line=line), code="file.json-limit"
        ) from None
