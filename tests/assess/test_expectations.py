"""Every situation planted in the sample quarter is caught by the control meant to catch it, and
no other record is flagged (evidence-samples/expectations/northwind-2026-q3.yaml).

"Flagged" means a gap no valid exception covers: excepted gaps stay listed in the results (with
`excepted_by`) so an auditor sees what each exception covers, but they are not failures.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import SAMPLES

from reporter.models.results import Assessment

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
