"""Metric registry and helpers. A metric function returns a MetricValue; metadata (title, formula,
source, threshold) is declared once with `@metric` and also feeds docs/metrics.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from reporter.checks.base import CheckContext, missing_kinds
from reporter.models.results import Measure, MetricValue

FAMILY_ORDER = {"V": 0, "T": 1, "E": 2, "X": 3, "R": 4, "N": 5}


@dataclass(frozen=True)
class MetricSpec:
    """A metric's permanent id, documentation, and the function that measures it."""

    id: str
    title: str
    formula: str
    source: str
    threshold: str | None
    needs: tuple[str, ...]
    unit_of_count: str
    func: Callable[[CheckContext], tuple[Measure, dict[str, Any]] | str]

    @property
    def family(self) -> str:
        """V, T, E, X, R or N."""
        return self.id[0]

    def compute(self, ctx: CheckContext) -> MetricValue:
        """Measure it, or say why it cannot be measured."""
        base = {
            "id": self.id,
            "title": self.title,
            "family": self.family,
            "formula": self.formula,
            "source": self.source,
            "threshold": self.threshold,
            "unit_of_count": self.unit_of_count,
        }
        missing = missing_kinds(ctx, self.needs)
        if missing:
            return MetricValue(**base, measurable=False, reason=f"the bundle has no {', '.join(missing)} records")
        try:
            result = self.func(ctx)
        except duckdb.OutOfMemoryException:
            raise  # a resource limit stops the run (exit 7); it says nothing about the metric
        except (duckdb.Error, ValueError, KeyError, TypeError, ZeroDivisionError) as exc:
            result = f"the metric could not be computed: {type(exc).__name__}: {str(exc)[:200]}"
        if isinstance(result, str):
            return MetricValue(**base, measurable=False, reason=result)
        measure, breakdown = result
        return MetricValue(**base, measurable=True, measure=measure, breakdown=breakdown)


_METRICS: dict[str, MetricSpec] = {}


def metric(
    metric_id: str,
    title: str,
    *,
    formula: str,
    source: str,
    threshold: str | None = None,
    needs: tuple[str, ...] = (),
    unit_of_count: str = "finding-instance (asset × vulnerability)",
) -> Callable[[Callable[[CheckContext], tuple[Measure, dict[str, Any]] | str]], Callable[[CheckContext], Any]]:
    """Register a metric function. It returns (measure, breakdown), or a string: why it is not measurable."""

    def decorate(func: Callable[[CheckContext], tuple[Measure, dict[str, Any]] | str]) -> Callable[[CheckContext], Any]:
        if metric_id in _METRICS:
            raise RuntimeError(f"metric registered twice: {metric_id}")
        _METRICS[metric_id] = MetricSpec(metric_id, title, formula, source, threshold, needs, unit_of_count, func)
        return func

    return decorate


def all_metrics() -> list[MetricSpec]:
    """Registered metrics in documented order."""
    return sorted(
        _METRICS.values(),
        key=lambda m: (FAMILY_ORDER.get(m.family, 9), int("".join(c for c in m.id[1:] if c.isdigit()) or 0)),
    )


def rows(ctx: CheckContext, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Query rows."""
    return ctx.con.execute(sql, params or {}).fetchall()


def days_stats(values: list[float]) -> dict[str, float | int | None]:
    """count, mean, median, p90, max of a list of day counts (rounded to 0.1 day)."""
    if not values:
        return {"count": 0, "mean": None, "median": None, "p90": None, "max": None}
    ordered = sorted(values)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    p90 = ordered[min(n - 1, int(0.9 * (n - 1) + 0.5))]
    return {
        "count": n,
        "mean": round(sum(ordered) / n, 1),
        "median": round(median, 1),
        "p90": round(p90, 1),
        "max": round(ordered[-1], 1),
    }
