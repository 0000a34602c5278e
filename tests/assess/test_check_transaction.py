"""The checks run in one transaction per worker (D98, D103: two side by side on two cores), and a check
that fails inside one is still only that control's `error` result: every transaction is rolled back
and the checks run again one by one, so every other control's result is the one it has when nothing
fails. Side by side or one after the other, the results and the stored gaps are the same."""

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


WORKERS = pytest.mark.parametrize("workers", [1, 2])


def _assess(stored: dict[str, int] | None = None, workers: int = 2, rows: list[Any] | None = None) -> Assessment:
    loaded = load_bundle(SAMPLE)
    try:
        result = assess(loaded, load_library(), AssessOptions(check_workers=workers))
        con = loaded.store.con
        if stored is not None:
            counts = con.execute("SELECT control_id, count(*) FROM a_gaps GROUP BY ALL").fetchall()
            stored.update({str(control): int(n) for control, n in counts})
        if rows is not None:
            rows += con.execute("SELECT * FROM a_gaps ORDER BY ALL").fetchall()
            rows += con.execute("SELECT * FROM a_sample ORDER BY ALL").fetchall()
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


def _txid(ctx: CheckContext) -> int:
    row = ctx.con.execute("SELECT txid_current()").fetchone()
    assert row is not None
    return int(row[0])


def _recording(transactions: dict[str, tuple[int, int]]) -> Callable[[str], Callable[..., Any]]:
    def lookup(name: str) -> Callable[..., Any]:
        check = get_check(name)

        def recorded(ctx: CheckContext) -> Any:
            before = _txid(ctx)
            outcome = check(ctx)
            transactions[ctx.control_id] = (before, _txid(ctx))
            return outcome

        return recorded

    return lookup


@WORKERS
def test_the_checks_run_in_one_transaction_per_worker(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    transactions: dict[str, tuple[int, int]] = {}
    monkeypatch.setattr(engine, "get_check", _recording(transactions))
    result = _assess(workers=workers)
    assert len(transactions) == len(result.controls) > 40
    # committed statement by statement, every statement would have a transaction of its own
    assert all(before == after for before, after in transactions.values())
    assert 1 <= len({before for before, _ in transactions.values()}) <= workers


def test_side_by_side_and_one_after_the_other_give_the_same_results_and_stored_rows() -> None:
    rows: dict[int, list[Any]] = {1: [], 2: []}
    alone, side_by_side = _assess(workers=1, rows=rows[1]), _assess(workers=2, rows=rows[2])
    assert side_by_side == alone
    assert rows[2] == rows[1]  # every gap and every audit-sample row
    assert len(rows[1]) > 1000


@WORKERS
def test_a_check_failing_inside_the_transaction_is_that_controls_error_alone(
    monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    expected_gaps: dict[str, int] = {}
    expected = _assess(expected_gaps, workers=1)
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
    result = _assess(gaps, workers=workers)

    _assert_broken_alone(result, expected)
    assert BROKEN not in gaps  # its gaps went with it
    assert gaps == {c: n for c, n in expected_gaps.items() if c != BROKEN}
    # the checks ran in the transactions, handed out in the library's order, until the broken one
    # failed (side by side, the other worker ran on meanwhile), then all of them again, one by one
    order = list(load_library().controls)
    again, first_pass = calls[-len(order) :], calls[: -len(order)]
    assert again == order
    assert sorted(first_pass, key=order.index) == order[: len(first_pass)]  # each once, none skipped
    assert BROKEN in first_pass
    if workers == 1:
        assert first_pass[-1] == BROKEN


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
