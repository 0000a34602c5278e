"""The assessment policy: SLA rule library, NHI limits, exception, verification and freshness windows.

Defaults ship in `mappings/policy/default.yaml`, each with its source (reference: metrics.md §4).
A bundle's `policy.yaml` is a `PolicyFile`: it overrides values and adds, replaces or disables
SLA rules by id. `reporter.policy.resolve_policy` merges the two into a `Policy`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from reporter.models.common import StrictModel
from reporter.models.evidence import Criticality, Severity, TechnicalImpact

RULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class ClockStart(StrEnum):
    """When an SLA clock starts."""

    FIRST_DETECTED = "first_detected"
    PATCH_RELEASED = "patch_released"
    EARLIER_OF_KEV_AND_DETECTION = "earlier_of_kev_and_detection"


class Bod2604Outcome(StrEnum):
    """BOD 26-04 Table 1 outcomes (CERT/CC SSVC cisa:BOD2604:1.0.0)."""

    D3_TRIAGE = "3DF"  # 3 days and forensic triage
    D3 = "3D"
    D14 = "14D"
    D60 = "60D"
    FSU = "FSU"  # fix on system upgrade


class RuleMatch(StrictModel):
    """Conditions a finding must meet for a rule to apply; every given condition must hold."""

    kev: bool | None = Field(default=None, description="Finding is (or is not) in KEV.")
    internet_facing: bool | None = Field(default=None, description="Asset is internet-facing.")
    severity: list[Severity] = Field(default_factory=list, description="Any of these severities.")
    compliance_scope: str | None = Field(default=None, description="Asset is in this scope.")
    asset_criticality: list[Criticality] = Field(default_factory=list)
    bod2604_outcome: list[Bod2604Outcome] = Field(
        default_factory=list, description="Finding's BOD 26-04 outcome is one of these."
    )


class SlaRule(StrictModel):
    """One remediation deadline rule. The strictest applicable deadline wins."""

    id: str = Field(pattern=RULE_ID_PATTERN)
    title: str
    source: str = Field(description="Citation of the authority that sets this deadline.")
    effective_from: date | None = None
    effective_to: date | None = Field(default=None, description="Last day the rule applies.")
    enabled: bool = True
    match: RuleMatch = Field(default_factory=RuleMatch)
    deadline: Literal["days", "kev_due_date"] = Field(
        default="days", description="kev_due_date: the KEV due date as published."
    )
    days: int | None = Field(default=None, ge=0, description="Calendar days after clock_start.")
    clock_start: ClockStart = ClockStart.FIRST_DETECTED
    forensic_triage: bool = Field(default=False, description="Also requires forensic triage.")

    @model_validator(mode="after")
    def _days_given(self) -> SlaRule:
        if self.deadline == "days" and self.days is None:
            raise ValueError("a rule with deadline 'days' needs 'days'")
        return self


class Bod2604Row(StrictModel):
    """One row of the BOD 26-04 decision table."""

    kev: bool
    exposed: bool
    automatable: bool
    technical_impact: TechnicalImpact
    outcome: Bod2604Outcome


class SlaPolicy(StrictModel):
    """The rule library in force."""

    rules: list[SlaRule]
    bod2604_table: list[Bod2604Row] = Field(min_length=16, max_length=16)
    missing_automatable: bool = Field(default=False, description="BOD 26-04 default when SSVC Automatable is unknown.")
    missing_technical_impact: TechnicalImpact = Field(
        default=TechnicalImpact.TOTAL, description="BOD 26-04 default when impact is unknown."
    )


class NhiPolicy(StrictModel):
    """Limits for non-human identities."""

    rotation_max_days: int = Field(default=90, ge=1, description="CIS AWS 2.12 / AWS Config.")
    dormant_days: int = Field(default=45, ge=1, description="CIS Controls 5.3; CIS AWS 2.11.")
    review_max_days: int = Field(default=90, ge=1, description="CIS Controls 5.5 (quarterly).")
    max_lifetime_days: int = Field(
        default=365, ge=1, description="Longest acceptable expiry for a static secret (OWASP NHI7)."
    )
    leak_revoke_hours: int = Field(default=24, ge=1, description="Organisation target [O].")


class ExceptionPolicy(StrictModel):
    """Rules for risk acceptances."""

    max_duration_days: int = Field(default=92, ge=1, description="One quarter per approval [O].")
    control_verification_max_days: int = Field(
        default=90, ge=1, description="Compensating-control verification freshness [O]."
    )


class VerificationPolicy(StrictModel):
    """How fast a deployment must be verified, and how much clock skew is tolerated."""

    window_days_urgent: int = Field(default=7, ge=0, description="KEV, 3- and 14-day tiers, internet-facing [O].")
    window_days_default: int = Field(default=30, ge=0, description="Next scan cycle [O].")
    clock_skew_minutes: int = Field(default=15, ge=0)


class RolloutPolicy(StrictModel):
    """How fast exposure must be reassessed after a change event."""

    reassessment_hours_urgent: int = Field(default=24, ge=1)
    reassessment_hours_default: int = Field(default=72, ge=1)


class ScanPolicy(StrictModel):
    """Scan cadence."""

    internal_cadence_days: int = Field(default=90, ge=1, description="CIS 7.5; PCI 11.3.1.")
    external_cadence_days: int = Field(default=30, ge=1, description="CIS 7.6.")


class InventoryPolicy(StrictModel):
    """Inventory reconciliation."""

    unknown_asset_max_days: int = Field(default=7, ge=0, description="CIS 1.2 (weekly).")
    ephemeral_gone_days: int = Field(
        default=7, ge=1, description="An ephemeral asset not observed for this long before as_of has vanished [O]."
    )
    required_fields: list[str] = Field(
        default_factory=lambda: ["owner", "criticality", "internet_facing", "environment"],
        description="Asset fields every active asset must have (INV-02, V2).",
    )

    @field_validator("required_fields")
    @classmethod
    def _known_fields(cls, value: list[str]) -> list[str]:
        from reporter.models.evidence import Asset  # noqa: PLC0415

        unknown = [name for name in value if name not in Asset.model_fields]
        if unknown:
            raise ValueError(f"not asset fields: {', '.join(unknown)}")
        return value


class FreshnessPolicy(StrictModel):
    """How recent each source must be relative to the period end."""

    max_age_days: int = Field(default=14, ge=0, description="collected_at no earlier than period end minus this.")
    max_lag_days: int = Field(default=45, ge=0, description="collected_at later than period end plus this: warning.")
    per_kind: dict[str, int] = Field(default_factory=dict, description="max_age_days per kind.")


class TolerancePolicy(StrictModel):
    """Tolerable deviation rates: the share of a control's population that may deviate before the
    control fails (docs/controls.md, "Deviation and tolerable rate"). The default 0 fails a control on
    its first unexcepted violation."""

    default_rate: float = Field(
        default=0.0, ge=0.0, lt=1.0, description="Tolerable deviation rate of every control (0 = none tolerated)."
    )
    controls: dict[str, float] = Field(
        default_factory=dict, description="Tolerable deviation rate per control id, overriding the default."
    )

    @field_validator("controls")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [f"{k}: {v}" for k, v in value.items() if not 0.0 <= v < 1.0]
        if bad:
            raise ValueError(f"a tolerable rate is at least 0 and below 1 ({', '.join(bad)})")
        return value

    def rate_for(self, control_id: str) -> float:
        """The tolerable deviation rate of one control."""
        return self.controls.get(control_id, self.default_rate)


class SamplingPolicy(StrictModel):
    """Audit samples (docs/report.md, "Audit samples"): the attribute-sampling design that sizes each
    control's reproducible sample of its population, for an auditor to re-perform the check by hand.
    Size n = ceil(ln(1 - confidence) / ln(1 - tolerable_rate)), zero deviations expected (the
    zero-deviation column of the AICPA attribute sampling tables; AU-C 530; ISACA ITAF 2208)."""

    confidence: float = Field(
        default=0.95, gt=0.0, lt=1.0, description="Confidence of the audit sample design (AU-C 530; ISACA ITAF 2208)."
    )
    tolerable_rate: float = Field(
        default=0.05,
        gt=0.0,
        lt=1.0,
        description="Deviation rate the audit sample is sized for, 0.95/0.05 → 59 records (docs/report.md, "
        "Audit samples); a control's own tolerable rate is `tolerance`.",
    )
    max_size: int | None = Field(default=None, ge=1, description="Upper bound on every control's sample size [O].")


class Policy(StrictModel):
    """The resolved policy in force for an assessment."""

    policy_version: Literal[1] = 1
    name: str = "exposure-reporter default policy"
    sla: SlaPolicy
    nhi: NhiPolicy = Field(default_factory=NhiPolicy)
    exceptions: ExceptionPolicy = Field(default_factory=ExceptionPolicy)
    verification: VerificationPolicy = Field(default_factory=VerificationPolicy)
    rollout: RolloutPolicy = Field(default_factory=RolloutPolicy)
    scans: ScanPolicy = Field(default_factory=ScanPolicy)
    inventory: InventoryPolicy = Field(default_factory=InventoryPolicy)
    freshness: FreshnessPolicy = Field(default_factory=FreshnessPolicy)
    tolerance: TolerancePolicy = Field(default_factory=TolerancePolicy)
    sampling: SamplingPolicy = Field(default_factory=SamplingPolicy)


class SlaOverrides(StrictModel):
    """SLA changes a bundle's policy makes to the default rule library."""

    rules: list[SlaRule] = Field(
        default_factory=list, description="Rules to add; a rule with an existing id replaces it."
    )
    enable: list[str] = Field(default_factory=list, description="Rule ids to switch on.")
    disable: list[str] = Field(default_factory=list, description="Rule ids to switch off.")


class PolicyFile(StrictModel):
    """A bundle's `policy.yaml`: every section optional, merged over the defaults."""

    policy_version: Literal[1] = 1
    name: str | None = None
    sla: SlaOverrides | None = None
    nhi: NhiPolicy | None = None
    exceptions: ExceptionPolicy | None = None
    verification: VerificationPolicy | None = None
    rollout: RolloutPolicy | None = None
    scans: ScanPolicy | None = None
    inventory: InventoryPolicy | None = None
    freshness: FreshnessPolicy | None = None
    tolerance: TolerancePolicy | None = None
    sampling: SamplingPolicy | None = None
