"""The report's own inputs from outside: a baseline results.json, a logo, and the document date.

Each is read once and checked here; a problem is a UsageError (exit 2) with one clear message.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path

from pydantic import ValidationError

from reporter.bundle.safetext import too_deep
from reporter.errors import UsageError, printable
from reporter.models.plausible import implausible
from reporter.models.results import RESULTS_FORMAT_VERSION, Assessment
from reporter.report.interface import DateBasis

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 4096  # per side: a tiny PNG can declare a huge canvas (decompression bomb)
MAX_BASELINE_BYTES = 512 * 1024 * 1024
MAX_BASELINE_DEPTH = 64


def read_baseline(path: Path) -> Assessment:
    """A previous results.json: readable, JSON, this format_version, and a valid Assessment."""
    try:
        if path.stat().st_size > MAX_BASELINE_BYTES:
            raise UsageError(f"--baseline {path}: larger than {MAX_BASELINE_BYTES // (1024 * 1024)} MiB")
        raw = path.read_bytes()
        # results.json nests a few levels; deeper input is refused before the recursive parser
        if too_deep(raw.decode("utf-8", "replace"), MAX_BASELINE_DEPTH):
            raise UsageError(f"--baseline {path}: JSON nested deeper than {MAX_BASELINE_DEPTH} levels")
        data = json.loads(raw)
    except OSError as exc:
        raise UsageError(f"--baseline {path}: cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"--baseline {path}: not a JSON document ({exc})") from None
    return parse_baseline(data, str(path))


def parse_baseline(data: object, name: str) -> Assessment:
    """Validate a decoded results.json as a baseline."""
    if not isinstance(data, dict) or "format_version" not in data:
        raise UsageError(f"--baseline {name}: not a results.json (no format_version)")
    version = data["format_version"]
    if version != RESULTS_FORMAT_VERSION:
        raise UsageError(
            f"--baseline {name}: results format_version {version!r}; this version of exposure-reporter reads "
            f"format_version {RESULTS_FORMAT_VERSION}"
        )
    try:
        return Assessment.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise UsageError(
            f"--baseline {name}: not a valid results.json: {where}: {first['msg']} ({exc.error_count()} problem(s))"
        ) from None


def read_logo(path: Path) -> bytes:
    """A PNG logo of at most 512 KB and 4096 px a side. SVG is refused: it can carry scripts and
    external references, and sanitising it is not worth the risk for a logo."""
    try:
        size = path.stat().st_size
        if size > MAX_LOGO_BYTES:
            raise UsageError(f"--logo {path}: {size:,} bytes; the limit is {MAX_LOGO_BYTES:,} (512 KB)")
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--logo {path}: cannot read it ({exc.strerror or exc})") from None
    check_png(data, str(path))
    return data


def check_png(data: bytes, name: str) -> None:
    """Refuse anything that is not a PNG with a sane image header."""
    if len(data) > MAX_LOGO_BYTES:
        raise UsageError(f"--logo {name}: larger than 512 KB")
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 33:
        raise UsageError(f"--logo {name}: not a PNG file (only PNG logos are accepted)")
    width, height = struct.unpack(">II", data[16:24])
    if not (0 < width <= MAX_LOGO_PIXELS and 0 < height <= MAX_LOGO_PIXELS):
        raise UsageError(f"--logo {name}: {width}×{height} pixels; at most {MAX_LOGO_PIXELS} a side")


def document_date(option: str | None, environ: Mapping[str, str]) -> tuple[datetime, DateBasis] | None:
    """The document date when the user chose one: --generated-at (a date, meaning its start, or an ISO
    timestamp with zone), else SOURCE_DATE_EPOCH (the reproducible-builds convention). None: the
    caller uses the assessment instant. Never the clock."""
    if option is not None:
        return _given_date(option), DateBasis.GIVEN
    raw = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromtimestamp(int(raw), UTC)
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"SOURCE_DATE_EPOCH={raw[:40]!r} is not a number of seconds since 1970") from None
    return moment, DateBasis.EPOCH


def _given_date(text: str) -> datetime:
    shown = repr(printable(text[:40]))
    try:
        moment = (
            datetime.combine(date.fromisoformat(text), time.min, tzinfo=UTC)
            if len(text) == 10
            else datetime.fromisoformat(text)
        )
    except (ValueError, OverflowError):
        raise UsageError(f"--generated-at {shown} is not a date (YYYY-MM-DD) or ISO timestamp") from None
    if moment.tzinfo is None:
        raise UsageError(f"--generated-at {shown} has no time zone; add Z or an offset")
    problem = implausible(moment)
    if problem:
        raise UsageError(f"--generated-at {shown}: {problem}")
    return moment.astimezone(UTC).replace(microsecond=0)
