"""The importer contract: a native tool file in, canonical evidence records out.

Importers never judge (no statuses, no gaps) and never write: they parse, redact and map.
Raw secret values must never leave an importer: drop them or replace them by a fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from reporter.errors import UsageError


@dataclass(frozen=True)
class ImportLimits:
    """Sanity limits on untrusted input; a file beyond them is refused, never half-read."""

    max_bytes: int = 512 * 1024 * 1024  # on disk, and after decompression (gzip EPSS)
    max_json_bytes: int = 256 * 1024 * 1024  # a JSON document parsed as a whole
    max_json_depth: int = 64  # nesting of arrays and objects
    max_record_bytes: int = 16 * 1024 * 1024  # one JSON Lines object or one CSV line


@dataclass(frozen=True)
class ImportContext:
    """What the bundle manifest knows about the file being imported."""

    source_path: str  # path relative to the bundle root (for messages)
    asset_id: str | None = None  # manifest's asset_id for formats that do not name the asset
    collected_at: datetime | None = None
    limits: ImportLimits = field(default_factory=ImportLimits)
    timezone: str | None = None  # IANA zone of times written without one (apt history, Get-HotFix); None: UTC
    date_order: str | None = None  # "mdy", "dmy" or "ymd" for locale-formatted dates (Get-HotFix); None: mdy


@dataclass(frozen=True)
class ImportedRecord:
    """One canonical record produced by an importer."""

    kind: str  # a record kind of reporter.models.kinds
    data: dict[str, Any]  # JSON-compatible field values of that kind's model
    location: str = ""  # position in the native file, e.g. "line 12" or "Results[0].Secrets[1]"


@dataclass(frozen=True)
class ImportNote:
    """A warning an importer gives next to its records: they are valid but say less than they
    seem to (a scan that examined nothing). Never quotes an evidence value."""

    message: str
    location: str = ""  # position in the native file, as for ImportedRecord


@dataclass(frozen=True)
class ImporterInfo:
    """What `exposure-reporter import --list` shows."""

    format: str  # e.g. "trivy-json"
    tool: str  # e.g. "Trivy"
    kinds: tuple[str, ...]  # kinds it can produce
    tested_versions: str  # e.g. "0.50-0.67 (SchemaVersion 2), legacy pre-0.20 array"
    produce_with: str  # command that produces the input
    notes: str = ""
    extensions: tuple[str, ...] = field(default_factory=tuple)
    utf8_text: bool = True  # False: the importer decodes gzip or UTF-16 itself; the bundle prescan only hashes it


class Importer(Protocol):
    """A module per format implements this.

    `read` may yield an identical record twice (a VEX document repeating a statement, a host or
    a page listed twice): `reporter.importers.run.collect` validates every record against its
    kind's model, merges repeats, refuses two different records with one id and sorts them.
    Callers use `collect` (or `collect_all`, which also returns the notes) rather than `read`."""

    info: ImporterInfo

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord | ImportNote]:
        """Yield canonical records and notes; raise ImportFormatError (with a position) on garbage."""
        ...


class UnknownFormatError(UsageError):
    """An import format name that no importer handles (exit 2; the message lists the known ones)."""
