"""Resolves framework ids as people write them (legacy, unpadded, lower-case) to canonical ids.

`PR.IP-12` (CSF 1.1) → `ID.RA-01`, `PR.PS-02`; `NHI-03` → `NHI3:2025`; `ID.AM-1` → `ID.AM-01`.
Reports show the id as written next to the canonical one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from reporter.models.catalog import FrameworkItem, LegacyEntry
from reporter.models.common import StrictModel

_SEPARATORS = re.compile(r"[\s_-]+")
_DIGITS = re.compile(r"\d+")

How = Literal["exact", "spelling", "legacy"]


def id_key(raw: str) -> str:
    """The spelling-insensitive key of an id: upper case, no separators, no zero padding.

    `NHI-03`, `nhi3` and `NHI3` share the key `NHI3`; `ID.AM-1` and `ID.AM-01` share `ID.AM1`.
    """
    key = _SEPARATORS.sub("", raw.strip().upper())
    return _DIGITS.sub(lambda m: str(int(m.group())), key)


class Resolution(StrictModel):
    """What an id as written stands for in one framework."""

    framework: str
    as_written: str
    canonical_ids: tuple[str, ...]
    how: How
    relation: str | None = None  # for legacy ids: incorporated_into, moved_to, withdrawn, renamed
    legacy_id: str | None = None  # the legacy entry's own id (PR.IP-12 for "PR.IP-12" or "pr.ip-12")
    legacy_text: str | None = None
    see_also: tuple[str, ...] = ()  # legacy children, for withdrawn categories without successors

    @property
    def canonical(self) -> str | None:
        """The single canonical id, when there is exactly one."""
        return self.canonical_ids[0] if len(self.canonical_ids) == 1 else None

    def pairs(self) -> list[tuple[str, str | None]]:
        """(canonical id, id as written when it differs) for each canonical id."""
        written = None if self.how == "exact" else self.as_written
        return [(cid, written) for cid in self.canonical_ids]


@dataclass
class _FrameworkIndex:
    items: set[str] = field(default_factory=set)
    legacy: dict[str, LegacyEntry] = field(default_factory=dict)
    item_keys: dict[str, str] = field(default_factory=dict)  # key -> canonical item id
    legacy_keys: dict[str, str] = field(default_factory=dict)  # key -> legacy id
    ambiguous: dict[str, set[str]] = field(default_factory=dict)  # key -> ids sharing it


class Resolver:
    """Indexes every framework's ids, aliases and legacy ids."""

    def __init__(
        self,
        items: Mapping[str, Iterable[FrameworkItem]],
        legacy: Mapping[str, Iterable[LegacyEntry]],
    ) -> None:
        self._index: dict[str, _FrameworkIndex] = {}
        for framework_id, framework_items in items.items():
            self._index[framework_id] = self._build(framework_items, legacy.get(framework_id, ()))

    @staticmethod
    def _build(items: Iterable[FrameworkItem], legacy: Iterable[LegacyEntry]) -> _FrameworkIndex:
        index = _FrameworkIndex()
        owners: dict[str, set[str]] = {}
        for item in items:
            index.items.add(item.id)
            for spelling in (item.id, *item.aliases):
                owners.setdefault(id_key(spelling), set()).add(item.id)
        for entry in legacy:
            index.legacy[entry.id] = entry
            owners.setdefault(id_key(entry.id), set()).add(entry.id)
        for key, ids in owners.items():
            if len(ids) > 1:
                index.ambiguous[key] = ids
            elif (only := next(iter(ids))) in index.legacy:
                index.legacy_keys[key] = only
            else:
                index.item_keys[key] = only
        return index

    def frameworks(self) -> list[str]:
        """Framework ids known to the resolver."""
        return list(self._index)

    def ambiguous_keys(self, framework_id: str) -> dict[str, set[str]]:
        """Spelling keys shared by more than one id in a framework (a pack error)."""
        return self._index[framework_id].ambiguous

    def resolve(self, raw: str, framework_id: str | None = None) -> list[Resolution]:
        """Every framework in which `raw` names an item, exact matches first."""
        frameworks = [framework_id] if framework_id else list(self._index)
        found = [r for fw in frameworks if fw in self._index for r in self._resolve_in(raw, fw)]
        return sorted(found, key=lambda r: r.how != "exact")

    def resolve_one(self, raw: str, framework_id: str) -> Resolution | None:
        """What `raw` names in one framework, or None."""
        found = self._resolve_in(raw, framework_id) if framework_id in self._index else []
        return found[0] if found else None

    def _resolve_in(self, raw: str, framework_id: str) -> list[Resolution]:
        index = self._index[framework_id]
        written = raw.strip()
        if written in index.items:
            return [Resolution(framework=framework_id, as_written=raw, canonical_ids=(written,), how="exact")]
        key = id_key(written)
        legacy_id = written if written in index.legacy else index.legacy_keys.get(key)
        if legacy_id:
            return [self._legacy(index, raw, framework_id, index.legacy[legacy_id])]
        if key in index.item_keys:
            canonical = index.item_keys[key]
            return [
                Resolution(
                    framework=framework_id,
                    as_written=raw,
                    canonical_ids=(canonical,),
                    how="spelling",
                )
            ]
        return []

    @staticmethod
    def _legacy(index: _FrameworkIndex, raw: str, framework_id: str, entry: LegacyEntry) -> Resolution:
        children: tuple[str, ...] = ()
        if not entry.successors:
            children = tuple(i for i in index.legacy if i.startswith(f"{entry.id}-"))
        return Resolution(
            framework=framework_id,
            as_written=raw,
            canonical_ids=entry.successors,
            how="legacy",
            relation=entry.relation,
            legacy_id=entry.id,
            legacy_text=entry.text,
            see_also=children,
        )


def describe(resolution: Resolution) -> str:
    """One sentence a user can act on: what the id as written is and what to write instead."""
    written = resolution.as_written
    if resolution.how == "exact":
        return f"{written} is a current id"
    if resolution.how == "spelling":
        return f"'{written}' is a non-canonical spelling of {resolution.canonical_ids[0]}"
    where = {
        "incorporated_into": "incorporated into",
        "moved_to": "moved to",
        "renamed": "renamed",
        "withdrawn": "withdrawn",
    }[resolution.relation or "withdrawn"]
    head = f"'{written}' is a withdrawn id"
    if resolution.legacy_id != written.strip():
        head += f" ({resolution.legacy_id})"
    if resolution.canonical_ids:
        return f"{head}, {where} {', '.join(resolution.canonical_ids)}"
    if resolution.see_also:
        return f"{head} with no successor of its own; see {', '.join(resolution.see_also)}"
    return f"{head} with no successor"
