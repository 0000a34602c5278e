"""Metrics of reference/metrics.md §3 (V, T, E, X, R, N), each computed set-based over the derived
tables, or reported "not measurable" with the reason. One module per family registers its metrics."""

from __future__ import annotations

import importlib
from dataclasses import replace

from reporter.checks.base import CheckContext
from reporter.metrics.base import all_metrics
from reporter.models.results import MetricValue
from reporter.store.parallel import in_order

METRIC_MODULES: tuple[str, ...] = ("visibility", "timeliness", "activity", "exceptions", "risk", "identities")


def load_metrics() -> None:
    """Import every metric module so that it registers its metrics (idempotent)."""
    for name in METRIC_MODULES:
        importlib.import_module(f"reporter.metrics.{name}")


def compute_metrics(ctx: CheckContext, workers: int = 1) -> list[MetricValue]:
    """Every registered metric, in id order (V, T, E, X, R, N, then number), `workers` side by side,
    each on its own connection (they only read the store; D116)."""
    load_metrics()
    return in_order(ctx.con, all_metrics(), lambda con, spec: spec.compute(replace(ctx, con=con)), workers)
