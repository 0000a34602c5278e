"""Assessment results: the typed hand-off from the engine to the renderers, and `results.json`.

Versioned with `format_version`; documented in docs/results-format.md with a JSON Schema
(`exposure-reporter schema results`). Everything is sorted by permanent ids; no wall-clock time.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from reporter.models.catalog import FrameworkStatus
from reporter.models.common import StrictModel
from reporter.models.manifest import BundleSeal, Framing
from reporter.models.policy import Policy
from reporter.models.status import Status

RESULTS_FORMAT_VERSION = 1  # the value of Assessment.format_version


class Certainty(StrEnum):
    """A gap is a confirmed violation, or a record the evidence cannot decide (counts as partial)."""

    VIOLATION = "violation"
    UNKNOWN = "unknown"


class GapRisk(StrictModel):
    """The risk of what a gap is about, from the evidence (docs/report.md, "Gap risk")."""

    level: str = Field(description="critical, high, medium, low or info, by the documented rule.")
    basis: str = Field(
        description="What the level rests on: 'finding' (the finding-instance), 'asset', 'identity', or "
        "'control' (nothing else known: the control's severity)."
    )
    vuln_severity: str | None = Field(default=None, description="Severity of the vulnerability (finding basis).")
    kev: bool | None = Field(default=None, description="The vulnerability is in CISA KEV (finding basis).")
    internet_facing: bool | None = Field(default=None, description="The asset is internet-facing.")
    asset_importance: str | None = Field(default=None, description="Asset importance: high, moderate, low, unknown.")
    identity_privileged: bool | None = Field(default=None, description="The identity holds administrative privilege.")
    days_overdue: int | None = Field(
        default=None,
        description="Whole days past the SLA deadline: to as_of while open, else to the fix or retirement; "
        "null without a deadline.",
    )
    open_at_as_of: bool | None = Field(
        default=None, description="The finding-instance is still open at as_of (finding basis; null otherwise)."
    )


class Gap(StrictModel):
    """One record a control flags, with the evidence behind it."""

    control_id: str
    kind: str = Field(description="Record kind of the cited record (or 'sources' for a file).")
    record_id: str
    source: str = Field(description="Evidence file, relative to the bundle root.")
    line: int | None = None
    record: int | None = Field(default=None, description="Record number within the file.")
    sha256: str | None = Field(default=None, description="SHA-256 of the evidence file.")
    message: str
    severity: str = Field(description="The control's severity (the gap's own risk is `risk`).")
    certainty: Certainty = Certainty.VIOLATION
    asset_id: str | None = None
    vuln_id: str | None = None
    identity_id: str | None = None
    risk: GapRisk | None = Field(default=None, description="The risk of what the gap is about; gaps are listed by it.")
    owner: str | None = Field(
        default=None, description="Owner of the identity, asset, exception or agent the gap is about."
    )
    excepted_by: str | None = Field(default=None, description="Valid exception that covers the gap.")


class Measure(StrictModel):
    """A measured value: numerator / denominator (ratio), or a count."""

    numerator: int | None = None
    denominator: int | None = None
    value: float | None = Field(default=None, description="Ratio (0-1), or a count or days.")
    unit: str = "ratio"
    display: str = Field(description="The value as printed: '71.4 % (312/437)', 'n/a (no population)'.")


def rate_text(rate: float) -> str:
    """A rate as printed: '5 %', '7.5 %', and two decimals below 1 % ('0.18 %'), where one decimal would
    print 3/1,666 and 4/1,666 alike; trailing zeros dropped."""
    text = f"{rate * 100:.2f}" if rate < 0.01 else f"{rate * 100:.1f}"
    return text.rstrip("0").rstrip(".") + " %"


class Deviation(StrictModel):
    """How much of a control's population deviates, against the tolerable rate the policy sets
    (docs/controls.md, "Deviation and tolerable rate")."""

    deviations: int = Field(description="Unexcepted violations: confirmed gaps no exception covers.")
    population: int
    rate: float | None = Field(description="deviations / population (null without a population).")
    tolerable_rate: float = Field(description="The policy's tolerable deviation rate for this control.")
    within_tolerance: bool = Field(description="rate <= tolerable_rate: the control does not fail on these deviations.")
    display: str = Field(description="As printed: '0.2 % (3/1,666) deviate; tolerable 0 %'.")


class SampleResult(StrEnum):
    """What the control says of one sampled record."""

    DEVIATION = "deviation"  # an unexcepted violation gap of the control on this record
    EXCEPTED = "excepted"  # gaps on it, each covered by a valid exception
    UNDETERMINED = "undetermined"  # a gap the evidence cannot decide (certainty unknown)
    CONFORMS = "conforms"  # no gap of the control on this record


class SampleRecord(StrictModel):
    """One record of a control's audit sample, with its evidence, for re-performance by hand."""

    kind: str = Field(description="Record kind of the population unit (or 'sources', 'kinds').")
    record_id: str
    asset_id: str | None = None
    vuln_id: str | None = None
    identity_id: str | None = None
    source: str = Field(description="Evidence file, relative to the bundle root ('' when none).")
    line: int | None = None
    record: int | None = Field(default=None, description="Record number within the file.")
    sha256: str | None = Field(default=None, description="SHA-256 of the evidence file.")
    key: str = Field(description="Selection key: kind|record_id|asset_id|vuln_id|identity_id, empty when absent.")
    rank: str = Field(description="sha256(seed + ':' + key), hex: the sample is the population's n lowest ranks.")
    result: SampleResult
    message: str | None = Field(default=None, description="The control's gap on this record, if any.")


class Sample(StrictModel):
    """A control's reproducible random sample of its population (docs/report.md, "Audit samples")."""

    population: int
    confidence: float = Field(description="Confidence level of the sample design.")
    tolerable_rate: float = Field(description="Planned tolerable deviation rate of the sample design.")
    size: int = Field(description="min(population, ceil(ln(1 - confidence) / ln(1 - tolerable_rate)), max_size).")
    seed: str = Field(description="sha256(bundle digest + ':' + control id), hex.")
    method: str = Field(description="How the sample was selected, in words an auditor can follow.")
    deviations: int = Field(description="Sampled records the control flags as deviations.")
    records: list[SampleRecord] = Field(default_factory=list, description="In selection order (rank).")


class ControlResult(StrictModel):
    """The evaluation of one control."""

    control_id: str
    title: str
    family: str
    check: str
    severity: str
    status: Status
    reason: str = Field(description="Why this status: the population and what was found.")
    measure: Measure
    population: int = Field(description="Records the control evaluated.")
    gap_total: int
    gaps_excepted: int = 0
    gaps: list[Gap] = Field(default_factory=list, description="Capped; gap_total is exact.")
    owners: list[str] = Field(default_factory=list, description="Owners named by the unexcepted gaps.")
    evidence_kinds: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    deviation: Deviation | None = Field(
        default=None, description="Deviation rate against the tolerable rate (null when the control has no population)."
    )
    open_by_risk: dict[str, int] = Field(
        default_factory=dict,
        description="Unexcepted gaps still open at as_of, per risk level (exact, however many gaps are listed).",
    )
    sample: Sample | None = Field(
        default=None, description="Audit sample of the population (null when the check could not run)."
    )


# How every summary of durations is computed (reporter/metrics/base.py): the report's methodology
# and docs/metrics.md print it, so that a reader can recompute a median or a P90 from the evidence.
DURATION_SUMMARIES = (
    "Summaries of durations (count, mean, median, P90, max) are over the n values of the population: the "
    "median is the middle value (the mean of the two middle ones when n is even); P90 is the value at "
    "position round(0.9 × (n − 1)) from 0 in ascending order, halves rounded up (the nearest rank); the "
    "mean is the exact sum over n (for durations between two timestamps, the sum of whole microseconds). "
    "Each is printed rounded to 0.1 of its unit (half to even, on the binary value)."
)


class MetricValue(StrictModel):
    """One metric of reference/metrics.md §3."""

    id: str
    title: str
    family: str
    measurable: bool
    reason: str | None = Field(default=None, description="Why it is not measurable.")
    measure: Measure | None = None
    unit_of_count: str = Field(default="finding-instance (asset × vulnerability)")
    formula: str
    source: str
    threshold: str | None = None
    breakdown: dict[str, Any] = Field(default_factory=dict)


class SourceRef(StrictModel):
    """An evidence file, numbered for citation (the evidence index: E1, E2...)."""

    ref: str = Field(description="Citation label, e.g. 'E3'.")
    path: str
    kinds: list[str]
    format: str
    tool: str | None
    collected_at: datetime
    sha256: str
    records: int
    fresh: bool
    hash_declared: bool = Field(
        default=True,
        description="bundle.yaml declares this file's SHA-256, so the hash printed was verified against it; "
        "false: the hash was only computed on load (EVD-03), nothing ties the file to the manifest.",
    )


class BundleInfo(StrictModel):
    """What was assessed."""

    organisation: str
    scope: str
    period_start: date
    period_end: date
    prepared_by: str
    reviewed_by: str | None = None
    classification: str | None = None
    digest: str
    manifest_sha256: str
    seal: BundleSeal | None = Field(default=None, description="The preparer's seal on bundle.yaml, verified on load.")
    sources: list[SourceRef]
    framing: Framing = Field(
        default_factory=Framing,
        description="Audit framing from bundle.yaml and the management responses file: document control, roles, "
        "scope exclusions, management assertions, extraction notes per source, management responses.",
    )


class ToolInfo(StrictModel):
    """Who produced the results."""

    name: str = "exposure-reporter"
    version: str
    catalogs: dict[str, str] = Field(description="Framework id → catalog version.")


class LedgerState(StrEnum):
    """Remediation state of a finding-instance (asset × vulnerability) at as_of."""

    VERIFIED_FIXED = "verified_fixed"
    FIXED_WITHOUT_CHANGE_RECORD = "fixed_without_change_record"
    DEPLOYED_UNVERIFIED = "deployed_unverified"
    DEPLOYED_STILL_VULNERABLE = "deployed_still_vulnerable"
    REOPENED = "reopened"
    RETIRED = "retired"
    NOT_IN_SCAN_SCOPE = "not_in_scan_scope"
    EXCEPTED = "excepted"
    NOT_AFFECTED = "not_affected"
    OPEN = "open"


class Headline(StrictModel):
    """Patching activity versus verified risk reduction, side by side (never one number)."""

    deployments_attempted: int
    deployments_succeeded: int
    activity: Measure = Field(description="E1: deployment success rate (activity only).")
    targeted_instances: int = Field(description="Finding-instances with a successful deployment.")
    verified_removed: Measure = Field(description="E2: targeted instances verified fixed.")
    verified_by_rescan: int = Field(
        default=0, description="Of the targeted instances verified fixed: how many rest on a rescan (derived)."
    )
    verified_by_record: int = Field(
        default=0, description="Of the targeted instances verified fixed: how many rest on a verification record."
    )
    targeted_by_inference: int = Field(
        default=0,
        description="Targeted instances linked to their deployments only by inference (KB, package version, "
        "image), not named by them.",
    )
    still_vulnerable: Measure = Field(description="E3: successes contradicted by a later verification.")
    unverified: Measure = Field(description="E4: successes with no verification in the window.")
    sla_met: Measure = Field(description="T1: instances due in the period remediated by the deadline.")
    exposure_days: float = Field(description="E7: days open within the period, summed.")
    open_critical_high: int = Field(
        description="Finding-instances in an open ledger state, critical or high, on assets active at as_of."
    )
    open_internet_facing: int = Field(description="R2: open KEV/critical on internet-facing assets.")
    patched_but_exposed: Measure = Field(
        description="NHI-14: patched assets using a non-human identity that are exposed through it (N8 has the "
        "same numerator over every patched asset)."
    )
    expired_exceptions: int = Field(
        description="EXC-02: exceptions expired before as_of that still match an open finding-instance (not every "
        "expired exception)."
    )
    leaked_secrets_valid: int = Field(
        description="Secret exposures detected before as_of, neither revoked nor verified invalid by then."
    )
    matrix: list[dict[str, Any]] = Field(
        default_factory=list,
        description="SP 800-40r4 §3.6: per vulnerability importance × asset importance.",
    )
    reconciliation: dict[str, Any] = Field(
        default_factory=dict,
        description="What the headline figures are built from (docs/report.md, Reconciliation): "
        "'by_state' (finding-instances per ledger state in each instance figure), 'population' (assets: "
        "inventory → active → scan scope → scanned; discovery keys → resolved) and 'secrets' (detected → "
        "still valid, closed late).",
    )


class ExceptionEntry(StrictModel):
    """One exception of the register, as the assessment judged it at as_of."""

    id: str
    title: str | None = None
    risk_response: str
    deviation_type: str | None = None
    owner: str | None = None
    approver: str | None = None
    approved_at: datetime | None = None
    expires_at: datetime | None = None
    state: str = Field(description="active, expired, not approved, or no expiry — at as_of.")
    complete: bool = Field(description="Owner, approver, approval, expiry and justification given.")
    valid: bool = Field(description="Complete, time-boxed within the policy, and (mitigation) a verified control.")
    compensating_controls: int
    control_verified_at: datetime | None = None
    covered_instances: int = Field(description="Finding-instances its scope covers.")
    scope: str = Field(description="Assets, tags, vulnerabilities, findings, identities and controls in scope.")
    justification: str | None = None
    source: str
    line: int | None = None
    record: int | None = None


class ComparedPeriod(StrictModel):
    """A baseline the comparison uses: which assessment it was."""

    organisation: str
    period_start: date
    period_end: date
    report_id: str
    digest: str = Field(description="Bundle digest of the baseline.")
    tool_version: str


class MeasureChange(StrictModel):
    """One measure in the baseline and now, and the change with its unit (docs/report.md, Trends)."""

    id: str = Field(description="Metric id (E2), headline field, or normalised measure id.")
    label: str
    unit: str = Field(description="Unit of before/after: 'percent', 'ratio' (a plain quotient), or what is counted.")
    change_unit: str = Field(description="Unit of the change: 'pp' (percentage points) for percentages, else `unit`.")
    before: float | None = Field(description="In `unit` (percentages as 0-100); null when not measurable.")
    after: float | None
    change: float | None = Field(description="after - before in `change_unit`; null when not comparable.")
    before_display: str
    after_display: str
    change_display: str = Field(description="The change as printed, always with its unit: '+3.3 pp', '-2 exceptions'.")
    direction: Literal["better", "worse", "same", "report only", "n/a"] = Field(
        description="'report only' for measures with no better direction; 'n/a' when not comparable."
    )


class TrendPoint(StrictModel):
    """A measure's value in one period."""

    period_end: date
    value: float | None
    display: str


class TrendSeries(StrictModel):
    """A headline or normalised measure over every period given, oldest first, this period last."""

    id: str
    label: str
    unit: str
    points: list[TrendPoint]


class ControlChange(StrictModel):
    """A control's status and gaps in the baseline and now. `new + repeat = gaps_after` and
    `closed + repeat = gaps_before` always; exact only when both gap lists are complete."""

    control_id: str
    title: str
    status_before: str = Field(description="'absent' when the baseline has no such control.")
    status_after: str = Field(description="'absent' when this assessment has no such control.")
    gaps_before: int
    gaps_after: int
    new: int = Field(description="Gaps now whose gap key the baseline does not have (an upper bound unless exact).")
    closed: int = Field(description="Baseline gaps whose key is gone now (an upper bound unless exact).")
    repeat: int = Field(description="Gap keys in both (a lower bound unless exact).")
    exact: bool = Field(description="Both results list every gap of the control (gaps length = gap_total).")
    regression: bool = Field(description="Passed in the baseline, now fails or cannot be shown to pass.")


COMPARISON_FORMAT_VERSION = 1
GAP_KEY = (
    "control_id with asset_id and vuln_id for a gap about a finding-instance; else control_id with identity_id for "
    "a gap about an identity; else control_id, kind and record_id"
)


class Comparison(StrictModel):
    """`comparison`: this assessment against earlier ones given as baselines (absent without one).
    Deltas and control changes are against the latest baseline; the trend spans them all."""

    format_version: Literal[1] = 1
    against: ComparedPeriod = Field(description="The latest baseline by period: every delta is against it.")
    baselines: list[ComparedPeriod] = Field(description="Every baseline given, oldest period first.")
    notes: list[str] = Field(default_factory=list, description="Why a comparison may mislead (other organisation...).")
    gap_key: str = Field(default=GAP_KEY, description="What identifies a gap across periods (new/closed/repeat).")
    headline: list[MeasureChange]
    normalised: list[MeasureChange] = Field(description="Exposure-days per day, per inventory asset, per instance.")
    metrics: list[MeasureChange]
    controls: list[ControlChange] = Field(description="Every control of either assessment, by id.")
    trend: list[TrendSeries]
    regressions: list[str] = Field(description="What --fail-on-regression fails on (empty: no regression).")


class Conclusion(StrictModel):
    """The overall conclusion: one of four outcomes by a fixed rule (docs/report.md, "Overall conclusion")."""

    outcome: Literal["effective", "effective with exceptions", "not effective", "cannot conclude"]
    reasons: list[str] = Field(default_factory=list, description="Every condition of the rule that decided it.")
    text: str = Field(description="The outcome with its reasons, as one sentence.")


class Assessment(StrictModel):
    """`results.json`."""

    format_version: Literal[1] = 1
    tool: ToolInfo
    bundle: BundleInfo
    as_of: datetime
    policy: Policy
    headline: Headline
    status_counts: dict[str, int]
    controls: list[ControlResult]
    metrics: list[MetricValue]
    ledger: dict[str, int] = Field(description="Finding-instances per ledger state.")
    exceptions: list[ExceptionEntry] = Field(default_factory=list, description="The exceptions register, by id.")
    frameworks: FrameworkStatus
    limitations: list[str] = Field(default_factory=list)
    conclusion: Conclusion | None = Field(
        default=None, description="The overall conclusion (absent only in results written before it existed)."
    )
    comparison: Comparison | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="Change against earlier results.json given with --baseline; absent without one.",
    )
