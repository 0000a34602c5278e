"""Every situation planted in the sample quarter is caught by the control meant to catch it, and
no other record is flagged (evidence-samples/expectations/northwind-2026-q3.yaml).

"Flagged" means a gap no valid exception covers: excepted gaps stay listed in the results (with
`excepted_by`) so an auditor sees what each exception covers, but they are not failures.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.models.results import Assessment

# the sample quarters (defined here: `from conftest import` is ambiguous when pytest collects
# several test directories, each with its own conftest.py)
SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"

EXPECTED: dict[str, Any] = yaml.safe_load((SAMPLES / "expectations" / "northwind-2026-q3.yaml").read_text())


def _flagged(q3: Assessment, control_id: str) -> set[tuple[str, str]]:
    control = next(c for c in q3.controls if c.control_id == control_id)
    assert control.gap_total == len(control.gaps), "gaps were capped in the test run"
    return {(g.kind, g.record_id) for g in control.gaps if g.excepted_by is None}


@pytest.mark.parametrize("control_id", sorted(EXPECTED["controls"]))
def test_control_flags_exactly_the_planted_records(q3: Assessment, control_id: str) -> None:
    expected = {(item["kind"], str(item["id"])) for item in EXPECTED["controls"][control_id]["flagged"]}
    flagged = _flagged(q3, control_id)
    missed, extra = expected - flagged, flagged - expected
    assert not missed, f"{control_id} missed {sorted(missed)[:10]}"
    assert not extra, f"{control_id} flagged clean records {sorted(extra)[:10]}"


def test_clean_counter_examples_are_not_flagged(q3: Assessment) -> None:
    wrong = [
        (item["control"], item["id"], item["why"])
        for item in EXPECTED["clean"]
        if (item["kind"], str(item["id"])) in _flagged(q3, item["control"])
    ]
    assert wrong == []


def test_every_control_of_the_library_has_expectations(q3: Assessment) -> None:
    assert {c.control_id for c in q3.controls} == set(EXPECTED["controls"])


def _readme_row(label: str) -> dict[str, tuple[int, int]]:
    """'1,283 of 1,809 (71 %)' cells of the sample README's headline row, per quarter."""
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith(f"| {label} |"))
    cells = [c.strip() for c in row.strip("|").split("|")][1:]
    parsed = [re.fullmatch(r"([\d,]+) of ([\d,]+) \(\d+ %\)", c) for c in cells]
    return {
        quarter: (int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")))
        for quarter, m in zip(("northwind-2026-q2", "northwind-2026-q3"), parsed, strict=True)
        if m is not None
    }


@pytest.fixture(scope="module")
def q2() -> Assessment:
    """The 2026-Q2 sample, assessed (its metrics only are read)."""
    loaded = load_bundle(SAMPLES / "northwind-2026-q2")
    try:
        return assess(loaded, load_library(), AssessOptions(gap_cap=10))
    finally:
        loaded.close()


@pytest.mark.parametrize(
    ("label", "metric_id"),
    [
        ("deployments reported successful (E1, activity)", "E1"),
        ("finding-instances with a successful deployment verified fixed (E2, outcome)", "E2"),
    ],
)
def test_readme_headline_figures_are_the_engines(q2: Assessment, q3: Assessment, label: str, metric_id: str) -> None:
    """The README's figures come from the generator's oracle; they must equal what the tool prints
    (item 18: E2 read 1,284/1,810 in the README and 1,283/1,809 in the output)."""
    figures = _readme_row(label)
    assert set(figures) == {"northwind-2026-q2", "northwind-2026-q3"}
    for name, result in (("northwind-2026-q2", q2), ("northwind-2026-q3", q3)):
        measure = next(m for m in result.metrics if m.id == metric_id).measure
        assert measure is not None
        assert figures[name] == (measure.numerator, measure.denominator), name
