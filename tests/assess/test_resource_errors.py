"""The store's memory limit is a resource limit of the run (exit 7 at the command line), never an
`error` status of one control or metric, nor a syntax error of the file being loaded."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from reporter.assess import engine
from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.metrics import base as metrics_base
from reporter.store import staging

MINIMAL = Path(__file__).resolve().parents[2] / "evidence-samples" / "minimal"


def _out_of_memory(*_: object) -> None:
    raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block (1.9 GiB/1.9 GiB used)")


def _assessing_runs_out_of_memory() -> None:
    loaded = load_bundle(MINIMAL)
    try:
        with pytest.raises(duckdb.OutOfMemoryException):
            assess(loaded, load_library(), AssessOptions())
    finally:
        loaded.close()


def test_a_check_reaching_the_limit_stops_the_assessment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "get_check", lambda name: _out_of_memory)
    _assessing_runs_out_of_memory()


def test_a_check_failing_otherwise_is_an_error_result(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise duckdb.BinderException("no such column")

    monkeypatch.setattr(engine, "get_check", lambda name: broken)
    loaded = load_bundle(MINIMAL)
    try:
        result = assess(loaded, load_library(), AssessOptions())
    finally:
        loaded.close()
    assert {c.status.value for c in result.controls} == {"error"}


def test_a_metric_reaching_the_limit_stops_the_assessment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, spec in list(metrics_base._METRICS.items()):
        monkeypatch.setitem(metrics_base._METRICS, key, replace(spec, func=_out_of_memory))
    _assessing_runs_out_of_memory()


def test_loading_reaching_the_limit_is_not_a_fault_of_the_file() -> None:
    with pytest.raises(duckdb.OutOfMemoryException):
        staging._duck_error(duckdb.OutOfMemoryException("Out of Memory Error"), "findings.csv")
    error = staging._duck_error(duckdb.InvalidInputException("Invalid Input Error: bad value Line: 7"), "a.csv")
    assert error.location.line == 7
