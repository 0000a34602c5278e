"""Metric registry and helpers. A metric function returns a MetricValue; metadata (title, formula,
source, threshold) is declared once with `@metric` and also feeds docs/metrics.md."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from reporter.checks.base import CheckContext, missing_kinds
from reporter.models.results import Measure, MetricValue
from reporter.store.sql import Params

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


Stats = dict[str, float | int | None]
NO_VALUES: Stats = {"count": 0, "mean": None, "median": None, "p90": None, "max": None}


def p90_index(n: int) -> int:
    """The position (from 0) of the P90 value among n ordered values: the nearest rank,
    round(0.9 × (n − 1)) with halves up. In integers, so that Python and SQL agree exactly."""
    return min(n - 1, (9 * (n - 1) + 5) // 10)


def _stats(n: int, mean: float, low: float, high: float, p90: float, top: float) -> Stats:
    """The summary of n ordered values, rounded to 0.1 of their unit: `low` and `high` are the
    middle two (the same value when n is odd), whose mean is the median."""
    median = high if n % 2 else (low + high) / 2
    return {"count": n, "mean": round(mean, 1), "median": round(median, 1), "p90": round(p90, 1), "max": round(top, 1)}


def days_stats(values: list[float]) -> Stats:
    """count, mean, median, p90, max of a list of day counts (rounded to 0.1 day), for lists that are
    small by nature (identities, exceptions, unknown asset keys). The sum is correctly rounded
    (`math.fsum`): the built-in sum of floats differs between Python 3.11 and 3.12."""
    if not values:
        return dict(NO_VALUES)
    ordered = sorted(values)
    n = len(ordered)
    mean = math.fsum(ordered) / n
    return _stats(n, mean, ordered[(n - 1) // 2], ordered[n // 2], ordered[p90_index(n)], ordered[-1])


@dataclass(frozen=True)
class Durations:
    """One group of durations summarised in the store: `stats` as `days_stats` gives them, and their
    exact sum in whole microseconds."""

    stats: Stats
    total_us: int

    @property
    def count(self) -> int:
        """How many durations."""
        return int(self.stats["count"] or 0)


# p90_index in SQL, over a window's row count n
_P90_ROW = "least(n - 1, (9 * (n - 1) + 5) // 10)"


def duration_stats(ctx: CheckContext, durations: str, params: Params, unit_seconds: int) -> dict[Any, Durations]:
    """The `days_stats` of durations summarised in the store, per group, for populations as large as
    the findings: their values never become Python objects (as one list, T2's added 97 MiB to the
    process at three million findings, beyond the store's memory limit). `durations` selects `g`
    (the group), `v` (the duration in its unit, a DOUBLE: median, P90 and maximum are its values)
    and `us` (the same duration in whole microseconds: the mean is their exact sum over the count).
    Groups in order."""
    unit = unit_seconds * 1_000_000
    sql = f"""
        WITH d AS (SELECT g, v, us FROM ({durations}) WHERE v IS NOT NULL),
        r AS (SELECT g, v, us, row_number() OVER (PARTITION BY g ORDER BY v) - 1 AS i,
                count(*) OVER (PARTITION BY g) AS n FROM d)
        SELECT g, any_value(n), sum(us), max(v),
            any_value(v) FILTER (WHERE i = (n - 1) // 2), any_value(v) FILTER (WHERE i = n // 2),
            any_value(v) FILTER (WHERE i = {_P90_ROW})
        FROM r GROUP BY g ORDER BY g"""
    found: dict[Any, Durations] = {}
    for group, n, total, top, low, high, p90 in rows(ctx, sql, params.for_sql(sql)):
        stats = _stats(int(n), int(total) / (int(n) * unit), float(low), float(high), float(p90), float(top))
        found[group] = Durations(stats, int(total))
    return found
