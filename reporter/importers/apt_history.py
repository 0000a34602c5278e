"""Debian/Ubuntu APT history log (`/var/log/apt/history.log`, rotated `.gz` files) → deployments:
one per upgraded package (and one `rolled_back` per downgraded package). The log names neither the
host nor the time zone: both come from the source (asset_id, timezone). Parsing is line-exact."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reporter.importers._common import Where, iso, iter_lines, stable_id, start
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="apt-history-log",
    tool="APT (Debian, Ubuntu)",
    kinds=("deployments",),
    tested_versions="apt 1.4 history.log (Debian 9, plaso test data); hand-made apt 2.x blocks; gzip-rotated",
    produce_with="cp /var/log/apt/history.log . (or zcat -f /var/log/apt/history.log.N.gz; rotated .gz files "
    "are read as they are)",
    notes="Needs asset_id; times are local: set timezone (default UTC).",
    extensions=(".log", ".gz"),
    utf8_text=False,  # rotated logs are gzip-compressed: iter_lines checks size, lines and UTF-8 itself
)

TOOL = "apt"

# Every key apt writes (apt-pkg/deb/dpkgpm.cc, OpenLog and CloseLog), in the order it writes them.
_KEYS = (
    "Start-Date",
    "Commandline",
    "Requested-By",
    "Comment",
    "Install",
    "Reinstall",
    "Upgrade",
    "Downgrade",
    "Remove",
    "Purge",
    "Disappeared",
    "Error",
    "End-Date",
)
_PACKAGE_LISTS = frozenset(_KEYS[4:11])

_LINE = re.compile(r"([A-Z][A-Za-z-]{0,30}): (.+)")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2}) {1,2}(\d{2}):(\d{2}):(\d{2})")

# dpkg's rules: a name is alphanumerics and + - . (apt writes it with `:arch`); a version is
# [epoch:]upstream[-revision] of alphanumerics and . + ~ - (and : after an epoch).
_NAME = r"[A-Za-z0-9][A-Za-z0-9+._-]*"
_ARCH = r"[a-z0-9][a-z0-9-]*"
_VERSION = r"[0-9]+:[A-Za-z0-9][A-Za-z0-9.+~:-]*|[A-Za-z0-9][A-Za-z0-9.+~-]*"
_ITEM = re.compile(rf"({_NAME})(?::({_ARCH}))?(?: \(({_VERSION})(?:, ({_VERSION}))?\))?")
# What the parentheses hold, per key: versions, and whether `, automatic` may follow.
_SHAPE = {
    "Install": "(version) or (version, automatic)",
    "Reinstall": "(version)",
    "Upgrade": "(old version, new version)",
    "Downgrade": "(old version, new version)",
    "Remove": "(version)",
    "Purge": "(version)",
    "Disappeared": "name or name (version)",
}


@dataclass(frozen=True)
class Package:
    """One entry of a package list: `name:arch (version[, version | , automatic])`."""

    name: str
    arch: str | None
    versions: tuple[str, ...]
    automatic: bool = False


@dataclass
class _Block:
    """One transaction: Start-Date … End-Date, with the line of each key."""

    start_line: int
    started: datetime
    values: dict[str, tuple[int, str]] = field(default_factory=dict)
    ended: datetime | None = None


class AptHistoryImporter:
    """Reads history.log blocks (plain or gzip) line by line."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield a deployment per upgraded or downgraded package of each block."""
        where = start(context)
        if not context.asset_id:
            raise where.error("does not name the host: set asset_id (--asset-id) to its inventory asset")
        zone = local_zone(context.timezone, where)
        for block in _blocks(iter_lines(path, where, context.limits), where, zone):
            yield from _deployments(block, where, context.asset_id)


def _blocks(lines: Iterator[tuple[int, str]], where: Where, zone: ZoneInfo) -> Iterator[_Block]:
    """The blocks of the log; a blank line (or the end of the file) closes a block."""
    block: _Block | None = None
    for number, raw in lines:
        text = raw.rstrip("\n").removesuffix("\r")
        here = where.on_line(number)
        if not text.strip():
            if block is not None:
                yield block
            block = None
            continue
        key, value = _split(text, here)
        if block is None:
            if key != "Start-Date":
                raise here.error("is outside a block: every block starts with a Start-Date line")
            block = _Block(number, local_instant(_date(value, here.at(key)), zone, here.at(key)))
        else:
            _add(block, key, value, here, zone)
    if block is not None:
        yield block


def _split(text: str, here: Where) -> tuple[str, str]:
    match = _LINE.fullmatch(text)
    if match is None or match[1] not in _KEYS:
        raise here.error(f"is not a history.log line (`Key: value` with a key of {', '.join(_KEYS)})")
    if not match[2].strip():
        raise here.error(f"has no value after {match[1]}:")
    return match[1], match[2]


def _add(block: _Block, key: str, value: str, here: Where, zone: ZoneInfo) -> None:
    if block.ended is not None:
        raise here.error("follows End-Date: a blank line must end a block")
    if key in block.values or key == "Start-Date":
        raise here.error(f"repeats {key} in one block (a blank line must separate blocks)")
    block.values[key] = (here.line or 0, value)
    if key == "End-Date":
        ended = local_instant(_date(value, here.at(key)), zone, here.at(key))
        if ended < block.started:  # a local time repeated when clocks go back: the later reading
            ended = local_instant(_date(value, here.at(key)), zone, here.at(key), fold=1)
        if ended < block.started:
            raise here.at(key).error(f"is before the Start-Date of line {block.start_line}")
        block.ended = ended
    elif key in _PACKAGE_LISTS:
        parse_packages(value, key, here.at(key))  # validated even when it yields no deployment


def _date(value: str, where: Where) -> datetime:
    """`YYYY-MM-DD  HH:MM:SS` (two spaces, as apt writes it; one is accepted), without zone."""
    match = _DATE.fullmatch(value)
    if match is None:
        raise where.error("is not a time of the form YYYY-MM-DD  HH:MM:SS")
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, second)  # wall-clock time: the zone comes later
    except ValueError:
        raise where.error("is not a valid date and time") from None


def parse_packages(text: str, key: str, where: Where) -> list[Package]:
    """The entries of a package list line; an entry not of the key's shape is an error naming it."""
    packages: list[Package] = []
    position = 0
    while True:
        match = _ITEM.match(text, position)
        package = _package(match, key) if match else None
        if match is None or package is None:
            raise where.error(f"entry {len(packages) + 1} is not of the form name:arch {_SHAPE[key]}")
        packages.append(package)
        position = match.end()
        if position == len(text):
            return packages
        if not text.startswith(", ", position):
            raise where.error(f"entry {len(packages)} is not followed by ', ' or the end of the line")
        position += 2


def _package(match: re.Match[str], key: str) -> Package | None:
    """The entry if its parenthesised part has the shape `key` requires, else None."""
    name, arch, first, second = match.groups()
    if key == "Disappeared":
        return None if second is not None else Package(name, arch, (first,) if first else ())
    if first is None:
        return None
    if key in ("Upgrade", "Downgrade"):
        return Package(name, arch, (first, second)) if second is not None else None
    if key == "Install" and second == "automatic":
        return Package(name, arch, (first,), automatic=True)
    return Package(name, arch, (first,)) if second is None else None


def _deployments(block: _Block, where: Where, asset: str) -> Iterator[ImportedRecord]:
    """Upgrade: the new version deployed. Downgrade: the version left behind, rolled back.

    A block with an Error line or without End-Date (apt was interrupted) failed for all its
    packages: apt does not say which of them dpkg had already configured."""
    failed = "Error" in block.values or block.ended is None
    times = (iso(block.started), iso(block.ended))  # once per block: a block can hold hundreds of packages
    for key, action in (("Upgrade", "upgrade"), ("Downgrade", "downgrade")):
        if key not in block.values:
            continue
        line, text = block.values[key]
        here = where.on_line(line).at(key)
        for package in parse_packages(text, key, here):
            if action == "upgrade":
                patch_id, status = f"{package.name}={package.versions[1]}", "failed" if failed else "succeeded"
            else:
                patch_id, status = f"{package.name}={package.versions[0]}", "rolled_back"
            yield _record(times, here, asset, patch_id, status, action)


def _record(
    times: tuple[str | None, str | None], here: Where, asset: str, patch_id: str, status: str, action: str
) -> ImportedRecord:
    started, completed = times
    data = {
        "id": stable_id("apt", TOOL, asset, patch_id, started, action),
        "asset_id": asset,
        "patch_id": patch_id,
        "started_at": started,
        "completed_at": completed,
        "status": status,
        "tool": TOOL,
    }
    return ImportedRecord("deployments", {k: v for k, v in data.items() if v is not None}, str(here))


# ---------------------------------------------------------------------------------------------
# Local times (also used by the Get-HotFix importer)


def local_zone(name: str | None, where: Where) -> ZoneInfo:
    """The source's time zone (UTC when none is set); an unknown name is an error."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise where.error("has an unknown timezone: give an IANA name such as Europe/Berlin") from None


def local_instant(moment: datetime, zone: ZoneInfo, where: Where, fold: int = 0) -> datetime:
    """A wall-clock time in `zone` as an instant in UTC. A time repeated when clocks go back is
    read as its first occurrence (fold 0) unless `fold` says otherwise; a time skipped when
    clocks go forward is read with the offset before the change."""
    try:
        return moment.replace(tzinfo=zone, fold=fold).astimezone(UTC)
    except (OverflowError, ValueError):
        raise where.error("is a time out of the supported range") from None


IMPORTER = AptHistoryImporter()
