"""The overall conclusion: one of four outcomes derived from the results by a fixed, documented
rule (docs/report.md, "Overall conclusion"). The tool's reading of the evidence, not an opinion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reporter.models.results import Assessment, ControlResult, Measure
from reporter.models.status import Status
from reporter.report import fmt

EFFECTIVE = "effective"
WITH_EXCEPTIONS = "effective with exceptions"
NOT_EFFECTIVE = "not effective"
CANNOT_CONCLUDE = "cannot conclude"

# The thresholds of the rule; docs/report.md states them and tests/report/test_conclusion.py pins them.
MAX_INSUFFICIENT_SHARE = 0.25  # at or above: too little of the programme could be assessed
MIN_SCAN_COVERAGE = 0.80  # V5 below: the scans do not see enough of the estate to speak for it
MAX_FAIL_SHARE = 0.25  # at or above: failures are pervasive
MIN_VERIFIED_REDUCTION = 0.50  # E2 below: most of the patching claimed is not verified
COVERAGE_METRIC = "V5"


@dataclass(frozen=True, slots=True)
class Conclusion:
    """The outcome and every condition of the rule that decided it (none for `effective`)."""

    outcome: str
    reasons: tuple[str, ...]

    @property
    def text(self) -> str:
        """The outcome with its reasons, as one sentence."""
        if not self.reasons:
            return f"{self.outcome.capitalize()}: every applicable control passes."
        return f"{self.outcome.capitalize()}: {'; '.join(self.reasons)}."


def conclusion_of(assessment: Assessment) -> Conclusion:
    """The rule applied to an assessment: control statuses, scan coverage (V5), verified reduction (E2)."""
    coverage = next((m.measure for m in assessment.metrics if m.id == COVERAGE_METRIC and m.measurable), None)
    return conclude(assessment.controls, assessment.headline.verified_removed, coverage)


def conclude(controls: Sequence[ControlResult], verified: Measure, coverage: Measure | None) -> Conclusion:
    """Cannot conclude, else not effective, else effective with exceptions, else effective: the first
    outcome whose conditions hold wins, and each condition that holds is given as a reason."""
    applicable = [c for c in controls if c.status is not Status.NOT_APPLICABLE]
    if not applicable:
        return Conclusion(CANNOT_CONCLUDE, ("no control applies to the evidence",))
    for outcome, reasons in (
        (CANNOT_CONCLUDE, _cannot_conclude(applicable, coverage)),
        (NOT_EFFECTIVE, _not_effective(applicable, verified)),
        (WITH_EXCEPTIONS, _exceptions(applicable)),
    ):
        if reasons:
            return Conclusion(outcome, tuple(reasons))
    return Conclusion(EFFECTIVE, ())


def _pct(threshold: float) -> str:
    return fmt.percent(100.0 * threshold, 0)


def _ids(controls: Sequence[ControlResult]) -> str:
    return ", ".join(c.control_id for c in controls)


def _share(part: int, whole: int) -> str:
    return f"{fmt.count(part)} of {fmt.count(whole)} applicable controls ({fmt.percent(100.0 * part / whole)})"


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
    return reasons
