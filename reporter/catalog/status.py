"""Framework status: control results turned into a status per framework item, with coverage.

Worst result wins (fail first); no result is `not_assessed`, never `pass`; direct mappings decide,
else the status is inferred from crosswalks and 'supports' mappings, and marked so. A 'supports'
mapping is evidence for an item without assessing it: an item reached only through such mappings
is never `pass` (all passing gives `supported`) and never counts as assessed with evidence.
References scoped to a condition the bundle does not meet (`applies_when`) are listed, not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reporter.catalog.coverage import item_links
from reporter.catalog.library import Framework, Library
from reporter.models.catalog import (
    Condition,
    ControlLink,
    Coverage,
    FrameworkResult,
    FrameworkStatus,
    ItemStatus,
    ItemStatusValue,
    StatusBasis,
    percent,
)
from reporter.models.status import Status

# Worst first: the first status present among an item's results is the item's status.
PRECEDENCE: tuple[ItemStatusValue, ...] = (
    ItemStatusValue.FAIL,
    ItemStatusValue.PARTIAL,
    ItemStatusValue.ERROR,
    ItemStatusValue.INSUFFICIENT_EVIDENCE,
    ItemStatusValue.EXCEPTED,
    ItemStatusValue.PASS,
    ItemStatusValue.NOT_APPLICABLE,
)

# Statuses that rest on evidence actually examined: the numerator of "assessed with evidence".
ASSESSED = frozenset({ItemStatusValue.FAIL, ItemStatusValue.PARTIAL, ItemStatusValue.EXCEPTED, ItemStatusValue.PASS})


def combine(statuses: Iterable[Status]) -> ItemStatusValue:
    """The worst of several control statuses; `not_assessed` when there are none."""
    present = {ItemStatusValue(s.value) for s in statuses}
    return next((s for s in PRECEDENCE if s in present), ItemStatusValue.NOT_ASSESSED)


def applies(link: ControlLink, conditions: frozenset[Condition] | None) -> bool:
    """Whether a link counts for this bundle: unscoped, or its condition holds (None: every condition)."""
    return link.applies_when is None or conditions is None or link.applies_when in conditions


def _basis(link: ControlLink, status: Status) -> StatusBasis:
    return StatusBasis(
        control_id=link.control_id,
        control_status=status,
        relationship=link.relationship,
        direct=link.direct,
        via=link.via,
        legacy_id=link.legacy_id,
        applies_when=link.applies_when,
    )


def _item_status(
    library: Library,
    framework: Framework,
    item_id: str,
    kind: str,
    results: Mapping[str, Status],
    conditions: frozenset[Condition] | None,
) -> ItemStatus:
    links = [link for link in item_links(library, framework.id, item_id) if link.control_id in results]
    basis = tuple(_basis(link, results[link.control_id]) for link in links if applies(link, conditions))
    out_of_scope = tuple(_basis(link, results[link.control_id]) for link in links if not applies(link, conditions))
    deciding = [b for b in basis if b.direct] or [b for b in basis if b.relationship.direct] or list(basis)
    status = combine(b.control_status for b in deciding)
    if status is ItemStatusValue.PASS and not any(b.relationship.direct for b in deciding):
        status = ItemStatusValue.SUPPORTED  # evidence for the item, which no control assesses
    return ItemStatus(
        framework=framework.id,
        item_id=item_id,
        kind=kind,
        status=status,
        direct=any(b.direct for b in basis),
        basis=basis,
        out_of_scope=out_of_scope,
    )


def _result(
    library: Library, framework: Framework, items: tuple[ItemStatus, ...], conditions: frozenset[Condition] | None
) -> FrameworkResult:
    total = len(items)
    with_control = sum(
        1 for i in items if any(applies(link, conditions) for link in item_links(library, framework.id, i.item_id))
    )
    assessed = sum(1 for i in items if i.status in ASSESSED and not i.supports_only)
    passed = sum(1 for i in items if i.status is ItemStatusValue.PASS)
    counts = {value: sum(1 for i in items if i.status is value) for value in ItemStatusValue}
    return FrameworkResult(
        framework=framework.id,
        name=framework.meta.name,
        version=framework.meta.version,
        coverage=Coverage(
            total=total,
            with_control=with_control,
            assessed_with_evidence=assessed,
            with_control_pct=percent(with_control, total),
            assessed_pct=percent(assessed, total),
        ),
        counts=counts,
        score_pct=percent(passed, assessed) if assessed else None,
        items=items,
    )


def framework_status(
    library: Library,
    control_statuses: Mapping[str, Status],
    frameworks: Iterable[str] | None = None,
    *,
    conditions: Iterable[Condition] | None = None,
) -> FrameworkStatus:
    """Status of every assessable item of each framework (default: all) from control results.

    `control_statuses` maps control id to the status its check returned; controls absent from it
    were not assessed. `conditions` are the scope conditions the assessed bundle meets (None: treat
    every scoped reference as applying, e.g. without a bundle). Pure: no I/O, no clock.
    """
    held = frozenset(conditions) if conditions is not None else None
    selected = list(frameworks) if frameworks is not None else list(library.frameworks)
    results = []
    for framework_id in selected:
        framework = library.frameworks[framework_id]
        items = tuple(
            _item_status(library, framework, item.id, item.kind, control_statuses, held)
            for item in framework.assessed_items()
        )
        results.append(_result(library, framework, items, held))
    return FrameworkStatus(frameworks=tuple(results))
