"""Duration statistics summarised in the store (`duration_stats`) against the Python summary
(`days_stats`) they replaced for populations as large as the findings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.interface import LoadedBundle, LoadOptions
from reporter.bundle.load import load_bundle
from reporter.catalog.library import Library
from reporter.catalog.loader import load_library
from reporter.checks.base import CheckContext
from reporter.metrics.base import days_stats, duration_stats, p90_index
from reporter.models.manifest import Period
from reporter.models.results import Assessment
from reporter.policy import default_policy
from reporter.store.sql import Params

SAMPLE = Path(__file__).resolve().parents[2] / "evidence-samples" / "northwind-2026-q3"
DAY_US = 86_400 * 1_000_000


def test_the_p90_position_is_the_nearest_rank_python_computed_in_floats() -> None:
    for n in range(1, 200_001):
        assert p90_index(n) == min(n - 1, int(0.9 * (n - 1) + 0.5)), n


def _context(con: duckdb.DuckDBPyConnection) -> CheckContext:
    moment = datetime(2026, 10, 1, tzinfo=UTC)
    period = Period.model_validate({"start": "2026-07-01", "end": "2026-09-30"})
    return CheckContext(con, default_policy(), period, moment, frozenset())


durations = st.lists(
    st.tuples(st.sampled_from(["a", "b", None]), st.integers(min_value=0, max_value=400 * DAY_US)), max_size=60
)


@settings(max_examples=150, deadline=None)
@given(durations)
def test_each_group_is_summarised_as_the_python_summary_of_its_values(values: list[tuple[str | None, int]]) -> None:
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (g VARCHAR, us BIGINT)")
        if values:
            con.executemany("INSERT INTO t VALUES (?, ?)", values)
        found = duration_stats(_context(con), "SELECT g, us / 86400e6 AS v, us FROM t", Params(), 86_400)
        days = dict(con.execute("SELECT g, list(us / 86400e6) FROM t GROUP BY g").fetchall())
    finally:
        con.close()
    groups = sorted({g for g, _ in values}, key=lambda g: (g is None, g or ""))
    assert list(found) == groups  # in order, the group without a name last
    for group in groups:
        expected = days_stats([float(v) for v in days[group]])
        total = sum(us for g, us in values if g == group)
        got = found[group]
        assert got.total_us == total
        # the mean from the exact sum of microseconds; everything else as the Python summary gives it
        assert got.stats == {**expected, "mean": round(total / (expected["count"] * DAY_US), 1)}  # type: ignore[operator]


def test_no_values_no_groups() -> None:
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (g VARCHAR, v DOUBLE, us BIGINT)")
        con.execute("INSERT INTO t VALUES ('a', NULL, NULL)")
        assert duration_stats(_context(con), "SELECT * FROM t", Params(), 86_400) == {}
    finally:
        con.close()


# --- the metrics on a sample quarter, against the Python summaries they were computed with before ---


@pytest.fixture(scope="module")
def assessed() -> Iterator[tuple[LoadedBundle, Assessment]]:
    library: Library = load_library()
    loaded = load_bundle(SAMPLE, LoadOptions(control_ids=frozenset(library.controls)))
    try:
        yield loaded, assess(loaded, library, AssessOptions())
    finally:
        loaded.close()


def _period(loaded: LoadedBundle) -> Period:
    assert loaded.manifest is not None
    return loaded.manifest.period


def _breakdown(assessment: Assessment, metric_id: str) -> dict[str, Any]:
    found = next(m for m in assessment.metrics if m.id == metric_id)
    assert found.measurable, found.reason
    return found.breakdown


def _lists(loaded: LoadedBundle, sql: str, params: dict[str, Any]) -> dict[str, list[float]]:
    return {str(k): [float(x) for x in v] for k, v in loaded.store.con.execute(sql, params).fetchall()}


def _fixed_in_period(loaded: LoadedBundle, group: str, since: str, where: str = "") -> dict[str, list[float]]:
    """Days from `since` to the verified fix of the instances fixed in the period, per `group`."""
    return _lists(
        loaded,
        f"SELECT {group}, list(epoch(fixed_at - {since}) / 86400.0) FROM a_ledger "
        f"WHERE fixed_at >= $start AND fixed_at < $as_of {where} GROUP BY ALL ORDER BY ALL",
        {"start": _period(loaded).start_at, "as_of": _as_of(loaded)},
    )


def _as_of(loaded: LoadedBundle) -> datetime:
    return _period(loaded).end_at


def test_time_to_remediate_is_the_python_summary_of_the_ledger(assessed: tuple[LoadedBundle, Assessment]) -> None:
    loaded, assessment = assessed
    assert assessment.as_of == _as_of(loaded)
    groups = _fixed_in_period(loaded, "vuln_importance", "first_detected_at")
    everything = [x for v in groups.values() for x in v]
    assert len(everything) > 100
    breakdown = _breakdown(assessment, "T2")
    assert breakdown["all"] == days_stats(everything)
    assert breakdown["by_vuln_importance"] == {k: days_stats(v) for k, v in groups.items()}


def test_time_to_patch_from_release_is_the_python_summary(assessed: tuple[LoadedBundle, Assessment]) -> None:
    loaded, assessment = assessed
    values = _fixed_in_period(loaded, "0", "patch_released_at", "AND patch_released_at IS NOT NULL")["0"]
    assert len(values) > 100
    assert _breakdown(assessment, "T3") == {"all": days_stats(values)}


def test_overdue_backlog_is_the_python_summary(assessed: tuple[LoadedBundle, Assessment]) -> None:
    loaded, assessment = assessed
    groups = _lists(
        loaded,
        "SELECT bod_outcome, list(epoch($as_of - due_at) / 86400.0) FROM a_ledger WHERE is_open AND asset_active "
        "AND state <> 'excepted' AND due_at < $as_of GROUP BY ALL ORDER BY ALL",
        {"as_of": assessment.as_of},
    )
    overdue = [x for v in groups.values() for x in v]
    assert overdue
    assert _breakdown(assessment, "T5") == {
        "days_overdue": days_stats(overdue),
        "by_bod2604_tier": {k: len(v) for k, v in groups.items()},
        "overdue_days_total": round(sum(overdue), 1),
    }


def test_inventory_completeness_counts_each_missing_field(assessed: tuple[LoadedBundle, Assessment]) -> None:
    loaded, assessment = assessed
    fields = loaded.policy.inventory.required_fields
    active = loaded.store.con.execute(f"SELECT {', '.join(fields)} FROM a_assets WHERE active").fetchall()
    missing = [
        [f for f, v in zip(fields, row, strict=True) if v is None or str(v).strip() in ("", "[]")] for row in active
    ]
    breakdown = _breakdown(assessment, "V2")
    assert breakdown["assets_missing_each_field"] == {f: sum(f in m for m in missing) for f in fields}
    assert sum(breakdown["assets_missing_each_field"].values()) > 0
    measure = next(m for m in assessment.metrics if m.id == "V2").measure
    assert measure is not None
    assert (measure.numerator, measure.denominator) == (sum(not m for m in missing), len(active))
