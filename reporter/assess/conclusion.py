"""The overall conclusion: one of four outcomes derived from the control results by a fixed, documented
rule (docs/report.md, "Overall conclusion"). The tool's reading of the evidence, not an opinion; it is
part of results.json, and the reports print it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from reporter.models.results import Conclusion, ControlResult, Measure, MetricValue
from reporter.models.status import Status

Outcome = Literal["effective", "effective with exceptions", "not effective", "cannot conclude"]
EFFECTIVE: Outcome = "effective"
WITH_EXCEPTIONS: Outcome = "effective with exceptions"
NOT_EFFECTIVE: Outcome = "not effective"
CANNOT_CONCLUDE: Outcome = "cannot conclude"

# The thresholds of the rule; docs/report.md states them and tests/report/test_conclusion.py pins them.
MAX_INSUFFICIENT_SHARE = 0.25  # at or above: too little of the programme could be assessed
MIN_SCAN_COVERAGE = 0.80  # V5 below: the scans do not see enough of the estate to speak for it
MAX_FAIL_SHARE = 0.25  # at or above: failures are pervasive
MIN_VERIFIED_REDUCTION = 0.50  # E2 below: most of the patching claimed is not verified
COVERAGE_METRIC = "V5"


def _conclusion(outcome: Outcome, reasons: Sequence[str]) -> Conclusion:
    """The outcome and every condition of the rule that decided it (none for `effective`)."""
    if not reasons:
        text = f"{outcome.capitalize()}: every applicable control passes."
    else:
        text = f"{outcome.capitalize()}: {'; '.join(reasons)}."
    return Conclusion(outcome=outcome, reasons=list(reasons), text=text)


def conclusion_of(controls: Sequence[ControlResult], metrics: Sequence[MetricValue], verified: Measure) -> Conclusion:
    """The rule applied to an assessment's results: control statuses, scan coverage (V5), verified reduction (E2)."""
    coverage = next((m.measure for m in metrics if m.id == COVERAGE_METRIC and m.measurable), None)
    return conclude(controls, verified, coverage)


def conclude(controls: Sequence[ControlResult], verified: Measure, coverage: Measure | None) -> Conclusion:
    """Cannot conclude, else not effective, else effective with exceptions, else effective: the first
    outcome whose conditions hold wins, and each condition that holds is given as a reason."""
    applicable = [c for c in controls if c.status is not Status.NOT_APPLICABLE]
    if not applicable:
        return _conclusion(CANNOT_CONCLUDE, ("no control applies to the evidence",))
    outcomes: tuple[tuple[Outcome, list[str]], ...] = (
        (CANNOT_CONCLUDE, _cannot_conclude(applicable, coverage)),
        (NOT_EFFECTIVE, _not_effective(applicable, verified)),
        (WITH_EXCEPTIONS, _exceptions(applicable)),
    )
    for outcome, reasons in outcomes:
        if reasons:
            return _conclusion(outcome, reasons)
    return _conclusion(EFFECTIVE, ())


def _pct(threshold: float) -> str:
    return f"{100.0 * threshold:.0f} %"


def _ids(controls: Sequence[ControlResult]) -> str:
    return ", ".join(c.control_id for c in controls)


def _share(part: int, whole: int) -> str:
    return f"{part:,} of {whole:,} applicable controls ({100.0 * part / whole:.1f} %)"


def _cannot_conclude(applicable: list[ControlResult], coverage: Measure | None) -> list[str]:
    reasons = []
    errors = [c for c in applicable if c.status is Status.ERROR]
    if errors:
        reasons.append(f"the check of {_ids(errors)} could not run")
    insufficient = [c for c in applicable if c.status is Status.INSUFFICIENT_EVIDENCE]
    if len(insufficient) / len(applicable) >= MAX_INSUFFICIENT_SHARE:
        reasons.append(
            f"{_share(len(insufficient), len(applicable))} lack the evidence to be assessed "
            f"(limit: under {_pct(MAX_INSUFFICIENT_SHARE)})"
        )
    if coverage is not None and coverage.value is not None and coverage.value < MIN_SCAN_COVERAGE:
        reasons.append(f"scan coverage (V5) is {coverage.display}, below {_pct(MIN_SCAN_COVERAGE)}")
    return reasons


def _not_effective(applicable: list[ControlResult], verified: Measure) -> list[str]:
    reasons = []
    critical = [c for c in applicable if c.status is Status.FAIL and c.severity == "critical"]
    if critical:
        reasons.append(f"critical controls fail ({_ids(critical)})")
    failed = [c for c in applicable if c.status is Status.FAIL]
    if len(failed) / len(applicable) >= MAX_FAIL_SHARE:
        reasons.append(f"{_share(len(failed), len(applicable))} fail (limit: under {_pct(MAX_FAIL_SHARE)})")
    if verified.value is not None and verified.value < MIN_VERIFIED_REDUCTION:
        reasons.append(
            f"verified risk reduction (E2) is {verified.display}, below {_pct(MIN_VERIFIED_REDUCTION)} "
            "of the targeted finding-instances"
        )
    return reasons


def _exceptions(applicable: list[ControlResult]) -> list[str]:
    reasons = []
    for status, what in (
        (Status.FAIL, "fail"),
        (Status.PARTIAL, "are partial (records the evidence cannot decide)"),
        (Status.EXCEPTED, "rest on valid exceptions"),
        (Status.INSUFFICIENT_EVIDENCE, "lack the evidence to be assessed"),
    ):
        found = [c for c in applicable if c.status is status]
        if found:
            reasons.append(f"{_ids(found)} {what}")
    tolerated = [c for c in applicable if c.status is Status.PASS and c.deviation and c.deviation.deviations]
    if tolerated:
        reasons.append(f"{_ids(tolerated)} pass with deviations within the policy's tolerable rate")
    return reasons
