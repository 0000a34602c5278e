"""Core of the sample-bundle generator: the period clock, id counters, the bundle under construction
and the Plant registry that both writes planted records and produces the expectations.

Everything here is deterministic: no wall clock, every random draw comes from a seeded
`random.Random` handed in by the caller.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

Record = dict[str, Any]

# Every control id of the control library (mappings/controls/, docs/controls.md), in library order.
CONTROL_IDS: tuple[str, ...] = (
    *(f"INV-0{i}" for i in range(1, 9)),
    *(f"PRI-0{i}" for i in range(1, 5)),
    "DEP-01",
    "DEP-02",
    *(f"VER-0{i}" for i in range(1, 7)),
    *(f"EXC-0{i}" for i in range(1, 6)),
    *(f"RLB-0{i}" for i in range(1, 4)),
    *(f"NHI-{i:02d}" for i in range(1, 16)),
    *(f"AGT-0{i}" for i in range(1, 4)),
    *(f"EVD-0{i}" for i in range(1, 4)),
)

CHECK_IDS: dict[str, str] = {
    "INV-01": "inventory.discovered_not_inventoried",
    "INV-02": "inventory.record_completeness",
    "INV-03": "inventory.scan_coverage",
    "INV-04": "inventory.authenticated_scan_coverage",
    "INV-05": "inventory.patch_automation_coverage",
    "INV-06": "inventory.third_party_assets",
    "INV-07": "inventory.nhi_inventory",
    "INV-08": "inventory.container_coverage",
    "PRI-01": "priority.sla_compliance",
    "PRI-02": "priority.kev_compliance",
    "PRI-03": "priority.internet_facing_overdue",
    "PRI-04": "priority.overdue_backlog",
    "DEP-01": "deployment.unresolved_failures",
    "DEP-02": "deployment.change_record",
    "VER-01": "verification.unverified_success",
    "VER-02": "verification.still_vulnerable",
    "VER-03": "verification.closure_evidence",
    "VER-04": "verification.fix_without_change",
    "VER-05": "verification.ephemeral_unverified",
    "VER-06": "verification.contradicted_by_scan",
    "EXC-01": "exceptions.completeness",
    "EXC-02": "exceptions.expired",
    "EXC-03": "exceptions.compensating_controls",
    "EXC-04": "exceptions.duration",
    "EXC-05": "exceptions.scope",
    "RLB-01": "rollout.reassessment",
    "RLB-02": "rollout.rollback_reopened",
    "RLB-03": "rollout.emergency_mitigation_replaced",
    "NHI-01": "nhi.orphaned",
    "NHI-02": "nhi.leaked_secret_valid",
    "NHI-03": "nhi.third_party",
    "NHI-04": "nhi.insecure_authentication",
    "NHI-05": "nhi.overprivileged",
    "NHI-06": "nhi.insecure_storage",
    "NHI-07": "nhi.rotation",
    "NHI-08": "nhi.environment_isolation",
    "NHI-09": "nhi.reuse",
    "NHI-10": "nhi.human_use",
    "NHI-11": "nhi.long_lived",
    "NHI-12": "nhi.dormant",
    "NHI-13": "nhi.review",
    "NHI-14": "nhi.patched_but_exposed",
    "NHI-15": "nhi.post_patch_rotation",
    "AGT-01": "agents.inventory",
    "AGT-02": "agents.credentials",
    "AGT-03": "agents.tool_approval",
    "EVD-01": "evidence.completeness",
    "EVD-02": "evidence.freshness",
    "EVD-03": "evidence.integrity",
}


def seeded(seed: str) -> random.Random:
    """A reproducible random stream (sample data, never secrets)."""
    return random.Random(seed)  # noqa: S311


# ---------------------------------------------------------------------------------------------
# Time


@dataclass(frozen=True)
class Clock:
    """The reporting period. Day 0 is the first day; `as_of` is the first instant after the end."""

    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def as_of(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days + 1

    def at(self, day: float, hour: int = 0, minute: int = 0) -> datetime:
        """An instant `day` days (may be fractional or negative) after the period start."""
        moment = self.start_at + timedelta(days=day, hours=hour, minutes=minute)
        return moment.replace(microsecond=0)

    def day_of(self, moment: datetime) -> float:
        """Days since the period start."""
        return (moment - self.start_at).total_seconds() / 86400


def fmt_ts(moment: datetime, zone: tzinfo = UTC) -> str:
    """ISO-8601 with a zone: `Z` for UTC, the offset otherwise."""
    local = moment.astimezone(zone)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    offset = local.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        return text + "Z"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def jitter(rng: random.Random, moment: datetime, max_hours: float) -> datetime:
    """`moment` plus a random whole number of minutes up to `max_hours`."""
    return moment + timedelta(minutes=rng.randint(0, int(max_hours * 60)))


# ---------------------------------------------------------------------------------------------
# Ids


class Ids:
    """Deterministic id counters per prefix: f-000001, d-000001..."""

    def __init__(self, width: int = 6) -> None:
        self._next: dict[str, int] = {}
        self._width = width

    def new(self, prefix: str, width: int | None = None) -> str:
        number = self._next.get(prefix, 0) + 1
        self._next[prefix] = number
        return f"{prefix}-{number:0{width or self._width}d}"


# ---------------------------------------------------------------------------------------------
# Bundle under construction


# Formats the bundle reads itself; any other format is a tool's own output, read by its importer.
CANONICAL_FORMATS = ("csv", "jsonl", "json", "yaml", "parquet")


@dataclass
class SourceSpec:
    """One evidence file of a bundle and the records it will hold.

    A canonical file (csv, jsonl, ...) is written from `records`. A tool file (kev-json, trivy-json,
    ...) is written as the tool writes it (`native`, the exact bytes) and holds what the format's
    importer yields from those bytes (`imported`, by kind): the same records the engine loads.
    `kind` is then the kind of the canonical `records` the file is made from (KEV, EPSS), or None
    when the generator builds the tool document directly (Trivy, Gitleaks)."""

    path: str
    kind: str | None
    format: str
    tool: str
    collected_at: datetime
    description: str | None = None
    with_sha: bool = True
    zone: tzinfo = UTC
    records: list[Record] = field(default_factory=list)
    asset_id: str | None = None  # manifest asset_id of a tool file
    native: bytes | None = None
    imported: dict[str, list[Record]] | None = None

    @property
    def is_tool(self) -> bool:
        """A tool's own output format, read through an importer."""
        return self.format not in CANONICAL_FORMATS

    def kinds(self) -> list[str]:
        """Record kinds the file provides."""
        if self.imported is not None:
            return list(self.imported)  # the importer's order: kinds in schema order
        return [self.kind] if self.kind else []

    def of_kind(self, kind: str) -> list[Record]:
        """The file's records of one kind (what the importer yields, for a tool file)."""
        if self.imported is not None:
            return self.imported.get(kind, [])
        return self.records if self.kind == kind else []


@dataclass
class Meta:
    """What goes into `bundle.yaml` besides the sources."""

    organisation: str
    scope: str
    prepared_by: dict[str, str]
    reviewed_by: dict[str, str] | None = None
    classification: str | None = "Confidential"
    policy: dict[str, Any] | None = None  # the PolicyFile content, written to policy.yaml


class Bundle:
    """Records by kind and by source file, in insertion order."""

    def __init__(self, name: str, clock: Clock, meta: Meta) -> None:
        self.name = name
        self.clock = clock
        self.meta = meta
        self.sources: dict[str, SourceSpec] = {}
        self._default: dict[str, str] = {}
        self.extra_files: dict[str, bytes] = {}

    def source(self, spec: SourceSpec, default: bool = False) -> SourceSpec:
        """Register a source file; the first one of a kind (or `default`) receives `add` calls."""
        self.sources[spec.path] = spec
        if spec.kind is not None and (default or spec.kind not in self._default):
            self._default[spec.kind] = spec.path
        return spec

    def add(self, kind: str, record: Record, path: str | None = None) -> Record:
        """Append a record to the kind's default source (or to `path`)."""
        target = self.sources[path or self._default[kind]]
        if target.kind != kind:
            raise ValueError(f"{target.path} holds {target.kind}, not {kind}")
        target.records.append(record)
        return record

    def records(self, kind: str) -> Iterator[Record]:
        for spec in self.sources.values():
            yield from spec.of_kind(kind)

    def kinds(self) -> set[str]:
        """Every record kind some file provides."""
        return {kind for spec in self.sources.values() for kind in spec.kinds()}

    def index(self, kind: str) -> dict[str, Record]:
        return {r["id"]: r for r in self.records(kind)}

    def get(self, kind: str, record_id: str) -> Record:
        for record in self.records(kind):
            if record["id"] == record_id:
                return record
        raise KeyError(f"{kind} {record_id}")


# ---------------------------------------------------------------------------------------------
# The Plant registry


@dataclass(frozen=True)
class Flag:
    """A record that one control must flag."""

    control: str
    kind: str
    id: str
    situation: str
    extra: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Clean:
    """A counter-example: a record that one control must NOT flag."""

    control: str
    kind: str
    id: str
    why: str


class Plants:
    """Registry of planted gaps and clean counter-examples: the single source of the expectations."""

    def __init__(self) -> None:
        self.flags: list[Flag] = []
        self.cleans: list[Clean] = []

    def flag(
        self,
        controls: str | Iterable[str],
        kind: str,
        record_id: str,
        situation: str,
        **extra: Any,
    ) -> None:
        """Register that every control in `controls` must flag this record."""
        for control in [controls] if isinstance(controls, str) else controls:
            if control not in CHECK_IDS:
                raise ValueError(f"unknown control {control}")
            self.flags.append(Flag(control, kind, record_id, situation, tuple(extra.items())))

    def clean(self, controls: str | Iterable[str], kind: str, record_id: str, why: str) -> None:
        """Register that no control in `controls` may flag this record."""
        for control in [controls] if isinstance(controls, str) else controls:
            if control not in CHECK_IDS:
                raise ValueError(f"unknown control {control}")
            self.cleans.append(Clean(control, kind, record_id, why))

    def flagged(self, control: str) -> set[tuple[str, str]]:
        """(kind, id) pairs registered for a control."""
        return {(f.kind, f.id) for f in self.flags if f.control == control}

    def counts(self) -> dict[str, int]:
        """Distinct flagged records per control, in plan order."""
        return {c: len(self.flagged(c)) for c in CONTROL_IDS}
