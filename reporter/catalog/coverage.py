"""Mapping coverage: for each framework, the items some control addresses and those it does not.

Pure functions of the library; `mappings coverage` prints them and framework status builds on them.
"""

from __future__ import annotations

from collections.abc import Iterable

from reporter.catalog.library import Library
from reporter.errors import MappingsError
from reporter.models.catalog import ControlLink, FrameworkCoverage, ItemCoverage


def item_links(library: Library, framework_id: str, item_id: str) -> tuple[ControlLink, ...]:
    """Controls addressing an item: its own references, then crosswalks to other frameworks.

    Only direct mappings of the crosswalk's target travel through it, and what arrives is inferred;
    a scoped reference keeps its scope (`applies_when`) through the crosswalk.
    """
    links = [
        ControlLink(
            control_id=m.control.id,
            relationship=m.reference.relationship,
            rationale=m.reference.rationale,
            direct=m.reference.relationship.direct,
            legacy_id=m.reference.legacy_id,
            applies_when=m.reference.applies_when,
        )
        for m in library.mappings_to(framework_id, item_id)
    ]
    for crosswalk in library.crosswalks_from(framework_id, item_id):
        links.extend(
            ControlLink(
                control_id=m.control.id,
                relationship=crosswalk.relationship,
                rationale=crosswalk.rationale,
                direct=False,
                via=f"{crosswalk.framework}:{crosswalk.target}",
                applies_when=m.reference.applies_when,
            )
            for m in library.mappings_to(crosswalk.framework, crosswalk.target)
            if m.reference.relationship.direct
        )
    return tuple(links)


def framework_coverage(library: Library, framework_id: str) -> FrameworkCoverage:
    """One framework's assessable items with the controls that address each."""
    framework = library.frameworks.get(framework_id)
    if framework is None:
        known = ", ".join(library.frameworks)
        raise MappingsError(f"unknown framework '{framework_id}' (known: {known})")
    items = tuple(
        ItemCoverage(
            id=item.id,
            kind=item.kind,
            label=item.label,
            links=item_links(library, framework_id, item.id),
        )
        for item in framework.assessed_items()
    )
    return FrameworkCoverage(
        framework=framework.id,
        name=framework.meta.name,
        version=framework.meta.version,
        assessed_kinds=tuple(framework.meta.assessed_kinds),
        total=len(items),
        addressed=sum(1 for i in items if i.addressed),
        addressed_directly=sum(1 for i in items if i.addressed_directly),
        items=items,
    )


def coverage(library: Library, framework_ids: Iterable[str] | None = None) -> list[FrameworkCoverage]:
    """Coverage of each framework (default: all, in library order)."""
    ids = list(framework_ids) if framework_ids is not None else list(library.frameworks)
    return [framework_coverage(library, fid) for fid in ids]
