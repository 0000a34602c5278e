"""The bundle manifest (`bundle.yaml`): who, what period, and every evidence source with its hash."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import PurePosixPath
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, Field, field_validator, model_validator

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
    prepared_by: Person
    reviewed_by: Person | None = None
    classification: str | None = Field(default=None, description="Printed in the report header, e.g. 'Confidential'.")
    policy: str | None = Field(default=None, description="Path of the policy file; built-in defaults apply otherwise.")
    policy_sha256: str | None = Field(
        default=None,
        pattern=SHA256_PATTERN,
        description="SHA-256 of the policy file, lower-case hex: checked like a source's, and without it the "
        "policy's integrity cannot be checked (policy.no-hash).",
    )
    sources: list[Source] = Field(min_length=1)

    @field_validator("policy")
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
        return self
