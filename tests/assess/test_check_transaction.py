"""The checks run in one transaction of the store (D98), and a check that fails inside it is still
only that control's `error` result: the transaction is rolled back and the checks run again one by
one, so every other control's result is the one it has when nothing fails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reporter.assess import engine
from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.checks.base import CheckContext
from reporter.checks.registry import get_check
from reporter.models.results import Assessment

SAMPLE = Path(__file__).resolve().parents[2] / "evidence-samples" / "kestrel-2026-q3"
BROKEN = "VER-01"  # a control with gaps in the sample: they are written before its check fails


def _assess(stored: dict[str, int] | None = None) -> Assessment:
    loaded = load_bundle(SAMPLE)
    try:
        result = assess(loaded, load_library(), AssessOptions())
        if stored is not None:
            rows = loaded.store.con.execute("SELECT control_id, count(*) FROM a_gaps GROUP BY ALL").fetchall()
            stored.update({str(control): int(n) for control, n in rows})
        return result
    finally:
        loaded.close()


def _assert_broken_alone(result: Assessment, expected: Assessment) -> None:
    """BROKEN is `error` (no sample); every other control and every metric is what it is when
    nothing fails."""
    by_id = {c.control_id: c for c in result.controls}
    assert by_id[BROKEN].status.value == "error"
    assert by_id[BROKEN].sample is None
    assert "ConversionException" in by_id[BROKEN].reason
    for control in expected.controls:
        if control.control_id != BROKEN:
            assert by_id[control.control_id] == control, control.control_id
    assert result.metrics == expected.metrics


def _recording(transactions: dict[str, int]) -> Callable[[str], Callable[..., Any]]:
    def lookup(name: str) -> Callable[..., Any]:
        check = get_check(name)

        def recorded(ctx: CheckContext) -> Any:
            row = ctx.con.execute("SELECT txid_current()").fetchone()
            assert row is not None
            transactions[ctx.control_id] = int(row[0])
            return check(ctx)

        return recorded

    return lookup


def test_every_check_runs_in_the_same_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    transactions: dict[str, int] = {}
    monkeypatch.setattr(engine, "get_check", _recording(transactions))
    result = _assess()
    assert len(transactions) == len(result.controls) > 40
    assert len(set(transactions.values())) == 1  # committed statement by statement, each would have its own


def test_a_check_failing_inside_the_transaction_is_that_controls_error_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    expected_gaps: dict[str, int] = {}
    expected = _assess(expected_gaps)
    assert expected_gaps.get(BROKEN, 0) > 0

    calls: list[str] = []

    def lookup(name: str) -> Callable[..., Any]:
        check = get_check(name)

        def maybe_broken(ctx: CheckContext) -> Any:
            calls.append(ctx.control_id)
            outcome = check(ctx)  # its gaps are in a_gaps now
            if ctx.control_id == BROKEN:
                ctx.con.execute("SELECT 'not a number'::INTEGER")  # DuckDB aborts the transaction
            return outcome

        return maybe_broken

    monkeypatch.setattr(engine, "get_check", lookup)
    gaps: dict[str, int] = {}
    result = _assess(gaps)

    _assert_broken_alone(result, expected)
    assert BROKEN not in gaps  # its gaps went with it
    assert gaps == {c: n for c, n in expected_gaps.items() if c != BROKEN}
    # the checks before the broken one ran twice: in the transaction, then one by one
    first = calls.index(BROKEN)
    assert calls[: first + 1] == calls[first + 1 : 2 * first + 2]
    assert len(calls) == first + 1 + len(result.controls)


def test_a_failing_audit_sample_is_that_controls_error_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drawing the sample reads the store too: a failure there is the control's `error` result,
    as a failing check is, not a crash of the run."""
    expected = _assess()
    draw = engine.build_sample

    def maybe_broken(con: Any, control_id: str, *args: Any) -> Any:
        if control_id == BROKEN:
            con.execute("SELECT 'not a number'::INTEGER")
        return draw(con, control_id, *args)

    monkeypatch.setattr(engine, "build_sample", maybe_broken)
    result = _assess()

    _assert_broken_alone(result, expected)
