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
from reporter.models.policy import Policy
from reporter.models.status import Status

RESULTS_FORMAT_VERSION = 1  # the value of Assessment.format_version


class Certainty(StrEnum):
    """A gap is a confirmed violation, or a record the evidence cannot decide (counts as partial)."""

    VIOLATION = "violation"
    UNKNOWN = "unknown"


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
    severity: str
    certainty: Certainty = Certainty.VIOLATION
    asset_id: str | None = None
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
    sources: list[SourceRef]


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
    open_critical_high: int
    open_internet_facing: int = Field(description="R2: open KEV/critical on internet-facing assets.")
    patched_but_exposed: Measure = Field(description="N8.")
    expired_exceptions: int
    leaked_secrets_valid: int
    matrix: list[dict[str, Any]] = Field(
        default_factory=list,
        description="SP 800-40r4 §3.6: per vulnerability importance × asset importance.",
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
