"""Windows installed updates as `Get-HotFix | ConvertTo-Csv` (or Export-Csv) writes them →
deployments, one per row. InstalledOn is a locale-formatted local date: its order (mdy, dmy, ymd)
and zone come from the source (date_order, timezone); a date without time is read as the whole
day, and the deployment completes at the end of it (the conservative instant for verification)."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from reporter.importers._common import AssetResolver, Where, decode_utf8, iso, read_bytes, stable_id, start
from reporter.importers.apt_history import local_instant, local_zone
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="windows-hotfix-csv",
    tool="Windows PowerShell Get-HotFix",
    kinds=("deployments",),
    tested_versions="hand-made only: Windows PowerShell 5.1 (UTF-16, #TYPE) and PowerShell 7 (UTF-8) exports, "
    "en-US, en-GB, de-DE and zh-CN dates",
    produce_with="Get-HotFix | ConvertTo-Csv | Out-File hotfix.csv (or Get-HotFix | Export-Csv hotfix.csv)",
    notes="InstalledOn is local: set timezone and date_order (default UTC, mdy).",
    extensions=(".csv",),
    utf8_text=False,  # Windows PowerShell writes UTF-16: decoded and checked here
)

TOOL = "windows-update"
DATE_ORDERS = ("mdy", "dmy", "ymd")

_KB = re.compile(r"(?i)KB(\d{1,10})")
_INSTALLED_ON = re.compile(
    r"(\d{1,4})([/.-])(\d{1,2})\2(\d{1,4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([AaPp][Mm]))?)?"
)
_LAST_SECOND = time(23, 59, 59)


class Installed(NamedTuple):
    """InstalledOn as written: a wall-clock time, and whether it is a whole day (no time, or midnight)."""

    local: datetime
    whole_day: bool


class WindowsHotfixImporter:
    """Reads a CSV of Win32_QuickFixEngineering objects (UTF-8, or UTF-16 with a byte-order mark)."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield a deployment per row."""
        where = start(context)
        zone = local_zone(context.timezone, where)
        order = context.date_order or "mdy"
        if order not in DATE_ORDERS:
            raise where.error("has an unknown date_order: use mdy, dmy or ymd")
        text, offset = _without_type_line(_decode(read_bytes(path, where, context.limits.max_bytes), where))
        resolve = AssetResolver(context)
        for line, cells in _rows(text, offset, where, context.limits.max_record_bytes):
            yield _deployment(cells, Where(where.file, line), context, resolve, zone, order)


def _decode(data: bytes, where: Where) -> str:
    """UTF-16 (LE or BE) with a byte-order mark, as Out-File and `>` write in Windows PowerShell 5.1;
    UTF-8 with or without one. UTF-16 without a mark is refused: nothing tells it apart reliably."""
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            body = data[len(bom) :]
            try:
                return body.decode(codec)
            except UnicodeDecodeError as exc:
                line = 1 + body[: exc.start].decode(codec, errors="replace").count("\n")
                raise Where(where.file, line).error("is not valid UTF-16 text") from None
    if b"\x00" in data[:4096]:
        raise where.error("has NUL bytes: UTF-16 without a byte-order mark? Save it as UTF-8 or UTF-16 with BOM")
    return decode_utf8(data, where)


def _without_type_line(text: str) -> tuple[str, int]:
    """The CSV without Windows PowerShell's `#TYPE …` first line, and how many lines were removed."""
    if text.startswith("#TYPE "):
        return text.partition("\n")[2], 1
    return text, 0


def _rows(text: str, offset: int, where: Where, max_record: int) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line, cells by lower-case column name) of each data row; the header row decides the
    delimiter (`,`, or `;` / tab from -UseCulture and -Delimiter)."""
    header_line = 1 + offset
    if not text.strip():
        raise where.error("is empty: expected a Get-HotFix CSV with a header line")
    delimiter = _delimiter(text.partition("\n")[0].removesuffix("\r"), Where(where.file, header_line))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] = []
    last = 0
    try:
        for row in reader:
            line, last = last + 1 + offset, reader.line_num
            if not header:
                header = _header(row, Where(where.file, line))
            elif row:
                yield line, _cells(row, header, Where(where.file, line), max_record)
    except csv.Error as exc:  # its message names the syntax problem (quote, NUL), never the text
        raise Where(where.file, last + 1 + offset).error(f"is not valid CSV: {exc}") from None


def _delimiter(header: str, where: Where) -> str:
    for delimiter in (",", ";", "\t"):
        try:
            names = next(csv.reader([header], delimiter=delimiter), [])
        except csv.Error:  # e.g. a field over the csv module's limit: not this delimiter, or not a header
            continue
        if any(name.strip().lower() == "hotfixid" for name in names):
            return delimiter
    raise where.error("has no HotFixID column: expected Get-HotFix output converted with ConvertTo-Csv")


def _header(row: list[str], where: Where) -> list[str]:
    names = [name.strip().lower() for name in row]
    if len(set(names)) != len(names):
        raise where.error("names a column twice")
    return names


def _cells(row: list[str], header: list[str], where: Where, max_record: int) -> dict[str, str]:
    if len(row) != len(header):
        raise where.error(f"has {len(row)} fields, the header has {len(header)}")
    if sum(len(cell) for cell in row) > max_record:
        raise where.error(f"row is longer than the limit of {max_record} characters")
    return {name: cell.strip() for name, cell in zip(header, row, strict=True)}


def _deployment(
    cells: dict[str, str], where: Where, context: ImportContext, resolve: AssetResolver, zone: ZoneInfo, order: str
) -> ImportedRecord:
    asset = _asset(cells, where, context, resolve)
    hotfix = cells.get("hotfixid", "")
    if not hotfix:
        raise where.at("HotFixID").error("is empty")
    patch_id = f"KB{kb[1]}" if (kb := _KB.fullmatch(hotfix)) else hotfix
    installed = parse_installed_on(cells.get("installedon", ""), order, where.at("InstalledOn"))
    started, completed = _window(installed, zone, context, where.at("InstalledOn"))
    wall_clock = None
    if installed:
        wall_clock = installed.local.date().isoformat() if installed.whole_day else installed.local.isoformat()
    data = {
        "id": stable_id("hotfix", TOOL, asset, patch_id, wall_clock),
        "asset_id": asset,
        "patch_id": patch_id,
        "started_at": iso(started),
        "completed_at": iso(completed),
        "status": "succeeded",
        "tool": TOOL,
    }
    return ImportedRecord("deployments", {k: v for k, v in data.items() if v is not None}, str(where))


def _asset(cells: dict[str, str], where: Where, context: ImportContext, resolve: AssetResolver) -> str:
    """CSName (the computer's own name), else PSComputerName (the name it was reached by)."""
    for column, label in (("csname", "CSName"), ("pscomputername", "PSComputerName")):
        if cells.get(column):
            return resolve(cells[column], where.at(label))
    if context.asset_id:
        return context.asset_id
    raise where.error("names no computer (CSName, PSComputerName): set asset_id (--asset-id)")


def _window(
    installed: Installed | None, zone: ZoneInfo, context: ImportContext, where: Where
) -> tuple[datetime | None, datetime | None]:
    """(started, completed). A whole day runs from its first to its last second, local time; the
    export time (collected_at) caps it, as the update was installed when the list was taken."""
    if installed is None:
        return None, None
    if not installed.whole_day:
        return None, local_instant(installed.local, zone, where)
    day = installed.local.date()
    first = local_instant(datetime.combine(day, time.min), zone, where)
    last = local_instant(datetime.combine(day, _LAST_SECOND), zone, where)
    cap = context.collected_at
    if cap is not None and cap.tzinfo is None:
        cap = cap.replace(tzinfo=UTC)
    if cap is not None and first <= cap < last:
        last = cap.astimezone(UTC)
    return first, last


def parse_installed_on(text: str, order: str, where: Where) -> Installed | None:
    """A locale-formatted InstalledOn (`3/12/2024 12:00:00 AM`, `12.03.2024 00:00:00`, `2024/3/12
    0:00:00`); None when empty. A four-digit first number is a year whatever `order` says."""
    if not text:
        return None
    match = _INSTALLED_ON.fullmatch(text)
    if match is None:
        raise where.error("is not a date (d/m/y, m/d/y or y/m/d with an optional h:mm[:ss] [AM|PM])")
    first, _, second, third, hour, minute, second_, meridiem = match.groups()
    year, month, day = _ymd(first, second, third, order, where)
    clock = _clock(int(hour or 0), int(minute or 0), int(second_ or 0), meridiem, where)
    try:
        local = datetime(int(year), int(month), int(day), *clock)  # wall-clock time: the zone comes later
    except ValueError:
        raise where.error(f"is not a valid date when read as {order} (set date_order: mdy, dmy or ymd)") from None
    return Installed(local, clock == (0, 0, 0))


def _ymd(first: str, second: str, third: str, order: str, where: Where) -> tuple[str, str, str]:
    if len(first) == 4:
        return first, second, third
    if len(third) != 4:
        raise where.error("has no four-digit year")
    if order == "ymd":
        raise where.error("does not start with the year, as date_order ymd says")
    return (third, first, second) if order == "mdy" else (third, second, first)


def _clock(hour: int, minute: int, second: int, meridiem: str | None, where: Where) -> tuple[int, int, int]:
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise where.error("has an hour outside 1-12 before AM/PM")
        hour = hour % 12 + (12 if meridiem.lower() == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise where.error("is not a valid time of day")
    return hour, minute, second


IMPORTER = WindowsHotfixImporter()
