"""What signing and verification exchange: the DSSE envelope, the in-toto Statement (v1), the two
predicates this tool signs — a report set's attestation and a bundle's seal — and the outcome of
verifying a report set. The wire names (`payloadType`, `_type`, `predicateType`) are the specs'."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reporter.models.common import StrictModel
from reporter.models.manifest import BundleSeal

PAYLOAD_TYPE = "application/vnd.in-toto+json"  # DSSE payload type of an in-toto Statement
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
REPORT_PREDICATE_TYPE = "https://exposure-reporter.dev/attestation/report/v1"
SEAL_PREDICATE_TYPE = "https://exposure-reporter.dev/attestation/bundle-seal/v1"
ATTESTATION_FILE = "attestation.intoto.jsonl"  # in a report set: one DSSE envelope on one line
SEAL_FILE = "bundle.seal.json"  # beside bundle.yaml: the preparer's DSSE envelope over it
ATTESTATION_FORMAT_VERSION: Literal[1] = 1


class WireModel(BaseModel):
    """Frozen, unknown fields refused, spec names through aliases."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Signature(WireModel):
    """One DSSE signature: the key id and the base64 signature over PAE(payloadType, payload)."""

    keyid: str = ""
    sig: str = Field(min_length=1)


class Envelope(WireModel):
    """A DSSE envelope (https://github.com/secure-systems-lab/dsse, protocol v1)."""

    payload: str = Field(description="base64 of the signed bytes")
    payload_type: str = Field(alias="payloadType", min_length=1)
    signatures: tuple[Signature, ...] = Field(min_length=1)


class Subject(WireModel):
    """An artifact the statement is about: its name and digests."""

    name: str = Field(min_length=1)
    digest: dict[str, str] = Field(min_length=1)


class Statement(WireModel):
    """An in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md)."""

    type: Literal["https://in-toto.io/Statement/v1"] = Field(alias="_type")
    subject: tuple[Subject, ...] = Field(min_length=1)
    predicate_type: str = Field(alias="predicateType", min_length=1)
    predicate: dict[str, Any] = Field(default_factory=dict)


class AttestedTool(StrictModel):
    """The tool that produced and signed the report set."""

    name: str
    version: str


class AttestedBundle(StrictModel):
    """The evidence the report set was produced from."""

    organisation: str
    period_start: date
    period_end: date
    digest: str = Field(description="Bundle digest (results.json bundle.digest): the report id's source.")
    manifest_sha256: str
    seal: BundleSeal | None = Field(default=None, description="The preparer's seal, verified when the report was made.")


class AttestedLibrary(StrictModel):
    """The control library the bundle was assessed against."""

    digest: str = Field(description="SHA-256 over the library's frameworks, controls, overrides and packs.")
    catalogs: dict[str, str]
    packs: list[str] = Field(default_factory=list, description="Organisation packs (--mappings), by id.")


class AttestedAssessment(StrictModel):
    """What re-performance needs to repeat the assessment, and what it must reproduce."""

    report_id: str
    as_of: datetime
    max_gaps: int
    results_sha256: str = Field(description="SHA-256 of results.json (also when it was not written).")


class ReportPredicate(StrictModel):
    """The predicate of a report set's attestation (REPORT_PREDICATE_TYPE)."""

    format_version: Literal[1] = ATTESTATION_FORMAT_VERSION
    tool: AttestedTool
    bundle: AttestedBundle
    control_library: AttestedLibrary
    assessment: AttestedAssessment
    headline: dict[str, Any] = Field(description="results.json headline figures (without the matrix).")
    status_counts: dict[str, int]
    document_date: datetime = Field(description="The date printed in the documents (deterministic).")
    signed_at: datetime = Field(description="Wall-clock time of signing: the only clock time in a report set.")


class SealPredicate(StrictModel):
    """The predicate of a bundle seal (SEAL_PREDICATE_TYPE): who sealed which bundle, when."""

    format_version: Literal[1] = ATTESTATION_FORMAT_VERSION
    organisation: str
    period_start: date
    period_end: date
    preparer: str
    sealed_at: datetime


FileStatus = Literal["ok", "changed", "missing", "unattested"]


class FileCheck(StrictModel):
    """One file of a report set against the attestation."""

    name: str
    status: FileStatus
    attested_sha256: str | None = None
    sha256: str | None = None


class Verification(StrictModel):
    """The outcome of `exposure-reporter verify` (its `--format json` output)."""

    format_version: Literal[1] = ATTESTATION_FORMAT_VERSION
    directory: str
    verified: bool
    key_id: str
    signed_at: datetime | None = None
    report_id: str | None = None
    files: list[FileCheck] = Field(default_factory=list)
    reperformed: bool | None = Field(default=None, description="None: no --bundle given.")
    problems: list[str] = Field(default_factory=list)
