"""The overall-conclusion rule (docs/report.md, "Overall conclusion") on hand-built results."""

from __future__ import annotations

import pytest

from reporter.assess import conclusion
from reporter.assess.conclusion import CANNOT_CONCLUDE, EFFECTIVE, NOT_EFFECTIVE, WITH_EXCEPTIONS, conclude
from reporter.checks.base import deviation_of
from reporter.models.results import ControlResult, Measure
from reporter.models.status import Status


def _control(n: int, status: Status, severity: str = "high") -> ControlResult:
    return ControlResult(
        control_id=f"TST-{n:02d}",
        title=f"Test control {n}",
        family="TST",
        check="test",
        severity=severity,
        status=status,
        reason="hand-built",
        measure=Measure(display="n/a"),
        population=10,
        gap_total=0 if status is Status.PASS else 1,
    )


def _ratio(part: int, whole: int) -> Measure:
    return Measure(numerator=part, denominator=whole, value=part / whole, display=f"{part}/{whole}")


def _controls(*statuses: Status, severity: str = "high") -> list[ControlResult]:
    return [_control(n, s, severity) for n, s in enumerate(statuses, start=1)]


GOOD_E2 = _ratio(90, 100)
GOOD_V5 = _ratio(98, 100)
PASSES = [Status.PASS] * 8


def test_every_applicable_control_passing_is_effective() -> None:
    found = conclude(_controls(*PASSES, Status.NOT_APPLICABLE), GOOD_E2, GOOD_V5)
    assert (found.outcome, found.reasons) == (EFFECTIVE, [])
    assert found.text == "Effective: every applicable control passes."


def test_a_minor_failure_or_exception_is_effective_with_exceptions() -> None:
    found = conclude(_controls(*PASSES[:7], Status.FAIL), GOOD_E2, GOOD_V5)
    assert found.outcome == WITH_EXCEPTIONS
    assert tuple(found.reasons) == ("TST-08 fail",)
    found = conclude(_controls(*PASSES[:6], Status.EXCEPTED, Status.PARTIAL), GOOD_E2, GOOD_V5)
    assert found.outcome == WITH_EXCEPTIONS
    assert tuple(found.reasons) == (
        "TST-08 are partial (records the evidence cannot decide)",
        "TST-07 rest on valid exceptions",
    )


def test_a_failing_critical_control_is_not_effective() -> None:
    controls = [*_controls(*PASSES[:7]), _control(9, Status.FAIL, "critical")]
    found = conclude(controls, GOOD_E2, GOOD_V5)
    assert found.outcome == NOT_EFFECTIVE
    assert tuple(found.reasons) == ("critical controls fail (TST-09)",)


def test_pervasive_failure_is_not_effective_at_the_threshold() -> None:
    below = conclude(_controls(*PASSES[:7], Status.FAIL, Status.FAIL), GOOD_E2, GOOD_V5)  # 2 of 9: 22 %
    assert below.outcome == WITH_EXCEPTIONS
    at = conclude(_controls(*PASSES[:6], Status.FAIL, Status.FAIL), GOOD_E2, GOOD_V5)  # 2 of 8: 25 %
    assert at.outcome == NOT_EFFECTIVE
    assert tuple(at.reasons) == ("2 of 8 applicable controls (25.0 %) fail (limit: under 25 %)",)


def test_low_verified_reduction_is_not_effective_even_when_controls_pass() -> None:
    found = conclude(_controls(*PASSES), _ratio(49, 100), GOOD_V5)
    assert found.outcome == NOT_EFFECTIVE
    assert "verified risk reduction (E2) is 49/100, below 50 %" in found.reasons[0]
    assert conclude(_controls(*PASSES), _ratio(50, 100), GOOD_V5).outcome == EFFECTIVE
    no_population = Measure(display="n/a (no population)")
    assert conclude(_controls(*PASSES), no_population, GOOD_V5).outcome == EFFECTIVE


@pytest.mark.parametrize(
    ("statuses", "coverage", "reason"),
    [
        ([*PASSES[:6], Status.ERROR], GOOD_V5, "the check of TST-07 could not run"),
        (
            [*PASSES[:5], Status.INSUFFICIENT_EVIDENCE, Status.INSUFFICIENT_EVIDENCE],
            GOOD_V5,
            "2 of 8 applicable controls (25.0 %) lack the evidence to be assessed (limit: under 25 %)",
        ),
        (PASSES[:7], _ratio(79, 100), "scan coverage (V5) is 79/100, below 80 %"),
    ],
    ids=["error", "insufficient", "coverage"],
)
def test_cannot_conclude_wins_over_every_other_outcome(statuses: list[Status], coverage: Measure, reason: str) -> None:
    # a failing critical control and a low E2 do not change it: too little was assessed to say
    controls = [*_controls(*statuses), _control(99, Status.FAIL, "critical")]
    found = conclude(controls, _ratio(10, 100), coverage)
    assert found.outcome == CANNOT_CONCLUDE
    assert tuple(found.reasons) == (reason,)


def test_nothing_applicable_cannot_conclude() -> None:
    found = conclude(_controls(Status.NOT_APPLICABLE), GOOD_E2, GOOD_V5)
    assert (found.outcome, found.reasons) == (CANNOT_CONCLUDE, ["no control applies to the evidence"])


def test_a_few_insufficient_controls_are_exceptions_not_a_blocker() -> None:
    found = conclude(_controls(*PASSES[:7], Status.INSUFFICIENT_EVIDENCE), GOOD_E2, GOOD_V5)  # 1 of 8
    assert found.outcome == WITH_EXCEPTIONS
    assert tuple(found.reasons) == ("TST-08 lack the evidence to be assessed",)


def test_the_documented_thresholds() -> None:
    # docs/report.md states these numbers; change both together
    assert (
        conclusion.MAX_INSUFFICIENT_SHARE,
        conclusion.MIN_SCAN_COVERAGE,
        conclusion.MAX_FAIL_SHARE,
        conclusion.MIN_VERIFIED_REDUCTION,
    ) == (0.25, 0.80, 0.25, 0.50)


def test_deviations_within_tolerance_are_named_as_exceptions() -> None:
    controls = _controls(*PASSES)
    tolerated = controls[0].model_copy(update={"deviation": deviation_of(3, 1666, 0.002)})
    found = conclude([tolerated, *controls[1:]], GOOD_E2, GOOD_V5)
    assert found.outcome == WITH_EXCEPTIONS
    assert found.reasons == [f"{tolerated.control_id} pass with deviations within the policy's tolerable rate"]
    assert found.text.startswith("Effective with exceptions: ")
