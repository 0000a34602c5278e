"""The metrics only read the store, so a small store computes two at a time, each on its own
connection (D116); a large one, one after the other (its peak is near its target). Either way the
metrics come back in their documented order with the same values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.checks.base import CheckContext
from reporter.metrics.base import MetricSpec, all_metrics
from reporter.models.results import Assessment

SAMPLE = Path(__file__).resolve().parents[2] / "evidence-samples" / "kestrel-2026-q3"
COMPUTE = MetricSpec.compute


def _assess(monkeypatch: pytest.MonkeyPatch, *, small: bool, workers: int) -> tuple[Assessment, set[int]]:
    connections: set[int] = set()

    def recorded(self: MetricSpec, ctx: CheckContext) -> Any:
        connections.add(id(ctx.con))
        return COMPUTE(self, ctx)

    monkeypatch.setattr(MetricSpec, "compute", recorded)
    loaded = load_bundle(SAMPLE)
    try:
        assert loaded.store.small  # the sample quarter is a small store
        loaded.store.small = small
        return assess(loaded, load_library(), AssessOptions(check_workers=workers)), connections
    finally:
        loaded.close()


def test_a_small_store_computes_two_metrics_at_a_time_with_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    side_by_side, used = _assess(monkeypatch, small=True, workers=2)
    alone, used_alone = _assess(monkeypatch, small=True, workers=1)
    assert len(used) == 2
    assert len(used_alone) == 1
    assert side_by_side.metrics == alone.metrics
    assert [m.id for m in side_by_side.metrics] == [m.id for m in all_metrics()]
    assert sum(m.measurable for m in side_by_side.metrics) > 20


def test_a_large_store_computes_them_one_after_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    _, used = _assess(monkeypatch, small=False, workers=2)
    assert len(used) == 1
