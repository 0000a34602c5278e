"""Metrics of reference/metrics.md §3 (V, T, E, X, R, N), each computed set-based over the derived
tables, or reported "not measurable" with the reason. One module per family registers its metrics."""

from __future__ import annotations

import importlib

from reporter.checks.base import CheckContext
from reporter.metrics.base import all_metrics
from reporter.models.results import MetricValue

METRIC_MODULES: tuple[str, ...] = ("visibility", "timeliness", "activity", "exceptions", "risk", "identities")


def load_metrics() -> None:
    """Import every metric module so that it registers its metrics (idempotent)."""
    for name in METRIC_MODULES:
        importlib.import_module(f"reporter.metrics.{name}")


def compute_metrics(ctx: CheckContext) -> list[MetricValue]:
    """Every registered metric, in id order (V, T, E, X, R, N, then number)."""
    load_metrics()
    return [spec.compute(ctx) for spec in all_metrics()]
