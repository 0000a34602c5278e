"""Deviation against the tolerable rate (docs/controls.md, "Deviation and tolerable rate"): the rate is
reported for every control with a population; the default 0 fails on the first violation, as before; a
policy rate lets a control with few deviations pass, and the gaps stay listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from support.bundles import BundleBuilder, example, minimal_valid
from support.engine import assess_builder, control, replace_kind

from reporter.catalog.library import Library
from reporter.checks.base import deviation_of
from reporter.models.policy import PolicyFile
from reporter.models.results import Assessment
from reporter.models.status import Status


def _deployments(without_change_ref: int, total: int) -> list[dict[str, Any]]:
    records = []
    for n in range(total):
        change = {"change_ref": None} if n < without_change_ref else {"change_ref": f"CHG{n:05d}"}
        records.append(example("deployments", id="d-000001" if n == total - 1 else f"d-{n:04d}", **change))
    return records


def _estate(root: Path, library: Library, tolerance: dict[str, Any] | None) -> Assessment:
    builder: BundleBuilder = minimal_valid(root)
    replace_kind(builder, "deployments", _deployments(3, 40))
    if tolerance is not None:
        builder.policy = {"policy_version": 1, "tolerance": tolerance}
    return assess_builder(builder, library)


def test_default_rate_fails_on_the_first_deviation_and_reports_the_rate(tmp_path: Path, library: Library) -> None:
    result = control(_estate(tmp_path, library, None), "DEP-02")
    assert result.status is Status.FAIL
    assert result.deviation is not None
    assert (result.deviation.deviations, result.deviation.population) == (3, 40)
    assert result.deviation.rate == 0.075
    assert result.deviation.tolerable_rate == 0.0
    assert result.deviation.within_tolerance is False
    assert result.deviation.display == "7.5 % (3/40) deviate; tolerable 0 %"


def test_a_rate_within_tolerance_passes_and_keeps_its_gaps(tmp_path: Path, library: Library) -> None:
    assessment = _estate(tmp_path, library, {"controls": {"DEP-02": 0.075}})  # 3/40 exactly: the boundary is in
    result = control(assessment, "DEP-02")
    assert result.status is Status.PASS
    assert result.gap_total == 3
    assert len(result.gaps) == 3
    assert result.deviation is not None
    assert result.deviation.within_tolerance
    assert "within the policy's tolerable rate" in result.reason
    assert "7.5 % (3/40) deviate; tolerable 7.5 %" in result.reason
    other = control(assessment, "DEP-01")  # the rate is per control: the default still holds elsewhere
    assert other.deviation is None or other.deviation.tolerable_rate == 0.0


def test_a_rate_below_the_deviation_still_fails(tmp_path: Path, library: Library) -> None:
    result = control(_estate(tmp_path, library, {"default_rate": 0.05}), "DEP-02")
    assert result.status is Status.FAIL
    assert result.deviation is not None
    assert result.deviation.tolerable_rate == 0.05


@pytest.mark.parametrize(
    ("deviations", "population", "tolerable", "within", "shown"),
    [
        (3, 1666, 0.0, False, "0.18 % (3/1,666) deviate; tolerable 0 %"),
        (3, 1666, 0.002, True, "0.18 % (3/1,666) deviate; tolerable 0.2 %"),
        (4, 1666, 0.002, False, "0.24 % (4/1,666) deviate; tolerable 0.2 %"),
        (900, 1666, 0.05, False, "54 % (900/1,666) deviate; tolerable 5 %"),
        (2, 1000, 0.002, True, "0.2 % (2/1,000) deviate; tolerable 0.2 %"),  # exactly at the rate
        (0, 11, 0.0, True, "0 % (0/11) deviate; tolerable 0 %"),
        (5, 3, 0.0, False, "100 % (5/3) deviate; tolerable 0 %"),  # several gaps on one unit: at most 100 %
    ],
)
def test_deviation_rate_and_decision(
    deviations: int, population: int, tolerable: float, within: bool, shown: str
) -> None:
    d = deviation_of(deviations, population, tolerable)
    assert d.within_tolerance is within
    assert d.display == shown


def test_policy_rejects_a_rate_of_one_or_more() -> None:
    with pytest.raises(ValidationError, match="tolerable rate"):
        PolicyFile.model_validate({"policy_version": 1, "tolerance": {"controls": {"VER-02": 1.5}}})
    with pytest.raises(ValidationError):
        PolicyFile.model_validate({"policy_version": 1, "tolerance": {"default_rate": -0.1}})
