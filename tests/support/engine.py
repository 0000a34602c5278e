"""Running the assessment engine on small inline bundles in tests, and reading its results."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.interface import LoadedBundle
from reporter.bundle.load import load_bundle
from reporter.catalog.library import Library
from reporter.catalog.loader import load_library
from reporter.models.results import Assessment, ControlResult, MetricValue
from support.bundles import BundleBuilder


def assess_builder(builder: BundleBuilder, library: Library) -> Assessment:
    """Write the bundle, check it is valid, and assess it."""
    loaded = load_bundle(builder.write())
    try:
        assert [i for i in loaded.issues if i.severity == "error"] == []
        return assess(loaded, library, AssessOptions())
    finally:
        loaded.close()


@contextmanager
def assessed_in_store(path: Path) -> Iterator[tuple[LoadedBundle, Assessment]]:
    """Load and assess a bundle directory, its evidence store (and derived tables) open until the end
    of the block, for tests that query the store beside the results."""
    loaded = load_bundle(path)
    try:
        yield loaded, assess(loaded, load_library(), AssessOptions())
    finally:
        loaded.close()


def control(result: Assessment, control_id: str) -> ControlResult:
    """One control's result."""
    return next(c for c in result.controls if c.control_id == control_id)


def metric(result: Assessment, metric_id: str) -> MetricValue:
    """One metric's value."""
    return next(m for m in result.metrics if m.id == metric_id)


def gap_messages(result: Assessment, control_id: str) -> dict[str, str]:
    """Unexcepted gaps of a control: record id → message."""
    return {g.record_id: g.message for g in control(result, control_id).gaps if g.excepted_by is None}


def flagged_ids(result: Assessment, control_id: str) -> set[str]:
    """Record ids of a control's unexcepted gaps."""
    return set(gap_messages(result, control_id))


def replace_kind(builder: BundleBuilder, kind: str, records: list[dict[str, Any]], fmt: str = "jsonl") -> None:
    """Replace every source of a kind by one file of these records."""
    builder.sources = [s for s in builder.sources if s.get("kind") != kind]
    builder.add(kind, records, fmt)
