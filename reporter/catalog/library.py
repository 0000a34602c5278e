"""The loaded control library: frameworks, controls and the index from framework items to controls.

Built by `reporter.catalog.loader`; read by the CLI, the engine, framework status and reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from reporter.catalog.resolver import Resolution, Resolver
from reporter.models.catalog import (
    Control,
    ControlOverride,
    Crosswalk,
    Family,
    FrameworkItem,
    FrameworkMeta,
    LegacyEntry,
    PackManifest,
    Reference,
)


@dataclass(frozen=True)
class Framework:
    """One framework catalog as loaded."""

    meta: FrameworkMeta
    items: Mapping[str, FrameworkItem]  # in file order
    legacy: Mapping[str, LegacyEntry] = field(default_factory=dict)
    crosswalks: tuple[Crosswalk, ...] = ()
    file: str = ""
    origin: str = "shipped"

    @property
    def id(self) -> str:
        """The framework id (nist-csf-2.0)."""
        return self.meta.id

    def is_assessed_kind(self, kind: str) -> bool:
        """True when coverage and status count items of this kind."""
        return not self.meta.assessed_kinds or kind in self.meta.assessed_kinds

    def assessed_items(self) -> list[FrameworkItem]:
        """The items coverage and status count (e.g. CSF subcategories), in file order."""
        return [item for item in self.items.values() if self.is_assessed_kind(item.kind)]


@dataclass(frozen=True)
class AppliedOverride:
    """An organisation pack's override as applied, for reports and `mappings show`."""

    pack: str
    file: str
    override: ControlOverride


@dataclass(frozen=True)
class ControlReference:
    """One control's reference to a framework item."""

    control: Control
    reference: Reference


@dataclass(frozen=True)
class Library:
    """Frameworks, controls, and which controls map to which items."""

    frameworks: Mapping[str, Framework]
    controls: Mapping[str, Control]  # in library order (family files, then pack controls)
    families: Mapping[str, Family] = field(default_factory=dict)
    control_files: Mapping[str, str] = field(default_factory=dict)
    control_origin: Mapping[str, str] = field(default_factory=dict)
    overrides: tuple[AppliedOverride, ...] = ()
    packs: tuple[PackManifest, ...] = ()

    @cached_property
    def resolver(self) -> Resolver:
        """Resolves ids as written (legacy, non-canonical) in every framework of the library."""
        return Resolver(
            {fid: fw.items.values() for fid, fw in self.frameworks.items()},
            {fid: fw.legacy.values() for fid, fw in self.frameworks.items()},
        )

    @cached_property
    def _by_item(self) -> dict[tuple[str, str], tuple[ControlReference, ...]]:
        index: dict[tuple[str, str], list[ControlReference]] = {}
        for control in self.controls.values():
            for reference in control.references:
                index.setdefault(reference.key, []).append(ControlReference(control, reference))
        return {key: tuple(value) for key, value in index.items()}

    def item(self, framework_id: str, item_id: str) -> FrameworkItem | None:
        """An item by canonical id, or None."""
        framework = self.frameworks.get(framework_id)
        return framework.items.get(item_id) if framework else None

    def mappings_to(self, framework_id: str, item_id: str) -> tuple[ControlReference, ...]:
        """Every control reference to one item, in library order."""
        return self._by_item.get((framework_id, item_id), ())

    def crosswalks_from(self, framework_id: str, item_id: str) -> tuple[Crosswalk, ...]:
        """Crosswalks that infer this item's status from items of other frameworks."""
        framework = self.frameworks.get(framework_id)
        if framework is None:
            return ()
        return tuple(c for c in framework.crosswalks if c.item == item_id)

    def crosswalks_to(self, framework_id: str, item_id: str) -> tuple[tuple[str, Crosswalk], ...]:
        """(source framework, crosswalk) pairs whose target is this item."""
        return tuple(
            (fw.id, c)
            for fw in self.frameworks.values()
            for c in fw.crosswalks
            if c.framework == framework_id and c.target == item_id
        )

    def resolve(self, raw: str, framework_id: str | None = None) -> list[Resolution]:
        """What an id as written names: see `Resolver.resolve`."""
        return self.resolver.resolve(raw, framework_id)

    def overrides_of(self, control_id: str) -> tuple[AppliedOverride, ...]:
        """Pack overrides applied to one control, in order."""
        return tuple(o for o in self.overrides if o.override.control == control_id)


def resolve_id(library: Library, raw: str, framework_id: str | None = None) -> list[tuple[str, str, str | None]]:
    """(framework, canonical id, id as written when it differs) for every item `raw` names.

    The function reports call to show a pack's legacy id next to the canonical one.
    """
    return [
        (r.framework, canonical, written)
        for r in library.resolve(raw, framework_id)
        for canonical, written in r.pairs()
    ]
