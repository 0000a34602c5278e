"""The bundle manifest (`bundle.yaml`): who, what period, and every evidence source with its hash."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import PurePosixPath
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, Field, field_validator, model_validator

from reporter.attest.keys import parse_public
from reporter.models.catalog import ControlId
from reporter.models.common import StrictModel
from reporter.models.evidence import SHA256_PATTERN
from reporter.models.plausible import check_plausible

# Dates and timestamps of the manifest must be plausible (reporter/models/plausible.py): a period
# ending 9999-12-31 or a collection time in year 0 is refused with its field and line.
PlausibleDate = Annotated[date, AfterValidator(check_plausible)]
PlausibleDatetime = Annotated[AwareDatetime, AfterValidator(check_plausible)]

TABULAR_FORMATS = ("csv", "jsonl", "json", "yaml", "parquet")
EXTENSION_FORMATS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".parquet": "parquet",
}


def is_time_zone(name: str) -> bool:
    """An IANA time zone name that this machine's tz database (or the tzdata package) knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # not a key ("../x"), a directory ("Europe")
        return False
    return True


class Period(StrictModel):
    """The reporting period: inclusive dates, interpreted in UTC."""

    start: PlausibleDate = Field(description="First day of the period (inclusive, UTC).")
    end: PlausibleDate = Field(description="Last day of the period (inclusive, UTC).")

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError("period.end is before period.start")
        return self

    @property
    def start_at(self) -> datetime:
        """The first instant of the period."""
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        """The first instant *after* the period (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)


class Person(StrictModel):
    """Someone named on the report."""

    name: str = Field(min_length=1)
    role: str | None = None
    email: str | None = None


class Preparer(Person):
    """Who prepared the bundle; with a public key, the one who seals it."""

    public_key: str | None = Field(
        default=None,
        description="Ed25519 public key of the preparer: PEM, an OpenSSH `ssh-ed25519 …` line, or the base64 "
        "of its DER form (`exposure-reporter keygen` prints it). With a key, the bundle must carry bundle.seal.json "
        "signed with the matching private key (`exposure-reporter seal`); it is checked on every load.",
    )

    @field_validator("public_key")
    @classmethod
    def _ed25519(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parse_public(value)  # ValueError with the reason
        return value.strip()


class BundleSeal(StrictModel):
    """A verified seal: bundle.yaml signed by its preparer (bundle.seal.json)."""

    signer: str = Field(description="prepared_by.name of the sealed bundle.yaml.")
    key_id: str = Field(description="SHA-256 of the Ed25519 public key (DER), hex.")
    algorithm: Literal["ed25519"] = "ed25519"
    sealed_at: AwareDatetime = Field(description="When the preparer sealed the bundle (from the signed seal).")


ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=2000)]


class Extraction(StrictModel):
    """How one source export was produced and checked for completeness (printed in the scope section)."""

    method: LongText = Field(description="How the export was produced: the report, API call or job that wrote it.")
    by: ShortText | None = Field(default=None, description="Who ran the export (name or role).")
    query: LongText | None = Field(default=None, description="The query, filter or saved report used.")
    tool_version: ShortText | None = Field(default=None, description="Version of the system or exporter.")
    completeness: LongText | None = Field(
        default=None,
        description="How the export was checked to be complete, e.g. a row count compared with the system's own "
        "total. Without it the report says that completeness was not documented.",
    )


class ScopeExclusion(StrictModel):
    """Something deliberately left out of the scope, and why."""

    item: ShortText = Field(description="What is excluded (systems, networks, accounts, asset classes).")
    reason: LongText = Field(description="Why it is excluded.")
    approved_by: ShortText | None = Field(default=None, description="Who agreed to the exclusion.")


class Assertion(StrictModel):
    """A statement management makes about the evidence or the programme (printed before the sign-off)."""

    statement: LongText
    by: ShortText | None = Field(default=None, description="Who asserts it (default: management).")


class Recipient(StrictModel):
    """One entry of the distribution list."""

    name: ShortText
    role: ShortText | None = None


class DocumentInfo(StrictModel):
    """Document control: version, status and distribution of the report."""

    version: Annotated[str, Field(min_length=1, max_length=40)] = Field(description="Document version, e.g. '1.0'.")
    status: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        default=None, description="e.g. draft, final."
    )
    distribution: list[Recipient] = Field(default_factory=list, description="Who receives the report.")


class Source(StrictModel):
    """One evidence file of the bundle."""

    path: str = Field(description="Path relative to the bundle root, with forward slashes.")
    kind: str | None = Field(
        default=None,
        description="Record kind (assets, findings...). Required for canonical formats; for "
        "tool formats the importer decides which kinds the file yields.",
    )
    format: str | None = Field(
        default=None,
        description="csv, jsonl, json, yaml, parquet, records-jsonl, or a tool format such as "
        "trivy-json. Default: from the file extension.",
    )
    collected_at: PlausibleDatetime = Field(description="When the evidence was exported.")
    tool: str | None = Field(default=None, description="System that produced the file.")
    sha256: str | None = Field(default=None, pattern=SHA256_PATTERN, description="SHA-256 of the file, lower-case hex.")
    description: str | None = None
    asset_id: str | None = Field(
        default=None,
        description="For tool files of one asset that do not name it the way the inventory does (gitleaks, "
        "trufflehog, apt history, SSM instance patches; trivy/grype image reports when the image is not "
        "listed by that name): the inventory asset the file describes. Files naming several hosts resolve "
        "their names through asset aliases instead (docs/verification.md).",
    )
    timezone: str | None = Field(
        default=None,
        description="IANA time zone (Europe/Berlin) of the times a tool format writes without one "
        "(apt history logs, Get-HotFix InstalledOn). Default: UTC.",
    )
    date_order: Literal["mdy", "dmy", "ymd"] | None = Field(
        default=None,
        description="Order of locale-formatted dates (Get-HotFix InstalledOn: 3/12/2024 is mdy in en-US, "
        "dmy in en-GB). Default: mdy.",
    )
    extraction: Extraction | None = Field(
        default=None,
        description="How the export was produced and checked for completeness: `method`, `by`, `query`, "
        "`tool_version`, `completeness` (Audit framing, below).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not is_time_zone(value):
            raise ValueError("must be an IANA time zone name such as UTC or Europe/Berlin")
        return value

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        path = PurePosixPath(value)
        if not value or "\\" in value or path.is_absolute() or ".." in path.parts:
            raise ValueError("must be a relative path inside the bundle, with '/' separators")
        return str(path)

    @property
    def effective_format(self) -> str:
        """The declared format, or the one implied by the file extension."""
        if self.format:
            return self.format
        suffix = PurePosixPath(self.path).suffix.lower()
        return EXTENSION_FORMATS.get(suffix, suffix.lstrip(".") or "unknown")


class Manifest(StrictModel):
    """`bundle.yaml`."""

    bundle_version: Literal[1] = Field(description="Format version of the bundle; always 1.")
    organisation: str = Field(min_length=1)
    scope: str = Field(min_length=1, description="What the evidence covers.")
    period: Period
    prepared_by: Preparer = Field(
        description="Who prepared the bundle: `name`, optional `role` and `email`, and optional `public_key` — the "
        "Ed25519 key that seals the bundle (bundle.seal.json must then be present and signed with it)."
    )
    reviewed_by: Person | None = None
    approved_by: Person | None = Field(
        default=None, description="Who approves the report for management (signs the management attestation)."
    )
    document: DocumentInfo | None = Field(default=None, description="Document control: version and distribution.")
    scope_exclusions: list[ScopeExclusion] = Field(
        default_factory=list, description="What the scope deliberately leaves out, with the reason."
    )
    assertions: list[Assertion] = Field(default_factory=list, description="Management assertions.")
    management_responses: str | None = Field(
        default=None,
        description="Path of the management responses file (owner, target date and response per plan item).",
    )
    management_responses_sha256: str | None = Field(
        default=None, pattern=SHA256_PATTERN, description="SHA-256 of the management responses file, lower-case hex."
    )
    classification: str | None = Field(default=None, description="Printed in the report header, e.g. 'Confidential'.")
    policy: str | None = Field(default=None, description="Path of the policy file; built-in defaults apply otherwise.")
    policy_sha256: str | None = Field(
        default=None,
        pattern=SHA256_PATTERN,
        description="SHA-256 of the policy file, lower-case hex: checked like a source's, and without it the "
        "policy's integrity cannot be checked (policy.no-hash).",
    )
    sources: list[Source] = Field(min_length=1)

    @field_validator("policy", "management_responses")
    @classmethod
    def _policy_relative(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = PurePosixPath(value)
        if not value or "\\" in value or path.is_absolute() or ".." in path.parts:
            raise ValueError("must be a relative path inside the bundle, with '/' separators")
        return str(path)

    @model_validator(mode="after")
    def _unique_paths(self) -> Manifest:
        seen: set[str] = set()
        for source in self.sources:
            if source.path in seen:
                raise ValueError(f"source path listed twice: {source.path}")
            seen.add(source.path)
        if self.policy_sha256 is not None and self.policy is None:
            raise ValueError("policy_sha256 is given but no policy file")
        if self.management_responses_sha256 is not None and self.management_responses is None:
            raise ValueError("management_responses_sha256 is given but no management_responses file")
        if self.management_responses is not None and self.management_responses in {*seen, self.policy or ""}:
            raise ValueError("management_responses names a file already listed as a source or the policy")
        return self


ResponseStatus = Literal["agreed", "in-progress", "completed", "risk-accepted", "disagreed"]


class ManagementResponse(StrictModel):
    """Management's response to one remediation-plan item (a control with open gaps)."""

    control: ControlId = Field(description="Control id of the plan item, e.g. VER-02.")
    owner: ShortText = Field(description="Who owns the remediation (name and role, or a team).")
    target_date: PlausibleDate = Field(description="When the remediation is due.")
    status: ResponseStatus = Field(
        default="agreed", description="agreed, in-progress, completed, risk-accepted, disagreed."
    )
    response: LongText | None = Field(default=None, description="Management's response in its own words.")


class ResponsesFile(StrictModel):
    """The management responses file named by `management_responses` in bundle.yaml."""

    responses_version: Literal[1] = Field(description="Format version of the file; always 1.")
    responses: list[ManagementResponse] = Field(default_factory=list)


class Roles(StrictModel):
    """Who prepared, reviewed and approved the report, with their role titles."""

    preparer: Person
    reviewer: Person | None = None
    approver: Person | None = None


class Framing(StrictModel):
    """The audit framing of a report, from bundle.yaml and the management responses file; carried
    into results.json so a report can be re-rendered from it."""

    document: DocumentInfo | None = None
    roles: Roles | None = None
    scope_exclusions: list[ScopeExclusion] = Field(default_factory=list)
    assertions: list[Assertion] = Field(default_factory=list)
    extraction: dict[str, Extraction] = Field(default_factory=dict, description="Source path → extraction notes.")
    responses_file: str | None = Field(default=None, description="The management responses file, when given.")
    responses: list[ManagementResponse] = Field(default_factory=list, description="By control id.")


def framing_of(manifest: Manifest, responses: list[ManagementResponse]) -> Framing:
    """The framing a manifest and its (already validated) responses give."""
    preparer = Person(name=manifest.prepared_by.name, role=manifest.prepared_by.role, email=manifest.prepared_by.email)
    return Framing(
        document=manifest.document,
        roles=Roles(preparer=preparer, reviewer=manifest.reviewed_by, approver=manifest.approved_by),
        scope_exclusions=manifest.scope_exclusions,
        assertions=manifest.assertions,
        extraction={s.path: s.extraction for s in sorted(manifest.sources, key=lambda s: s.path) if s.extraction},
        responses_file=manifest.management_responses,
        responses=sorted(responses, key=lambda r: r.control),
    )
