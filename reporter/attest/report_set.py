"""The signed attestation of a report set (attestation.intoto.jsonl): an in-toto Statement whose
subjects are every file of the set with its SHA-256, and whose predicate names the evidence (bundle
and manifest digests, the preparer's seal), the control library (its digest), the assessment options
re-performance needs, the headline figures and the signing time; signed into a DSSE envelope."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from reporter.attest import dsse
from reporter.attest.interface import (
    REPORT_PREDICATE_TYPE,
    AttestedAssessment,
    AttestedBundle,
    AttestedLibrary,
    AttestedTool,
    ReportPredicate,
)
from reporter.attest.intoto import canonical, sha256, sign_statement
from reporter.attest.keys import Ed25519PrivateKey
from reporter.catalog.library import Library
from reporter.models.results import Assessment
from reporter.output import Payload, payload_sha256
from reporter.report.baseline import report_id


def library_digest(library: Library) -> str:
    """SHA-256 over the library's content — frameworks (meta, items, legacy ids, crosswalks), controls
    in library order, applied overrides and packs — as canonical JSON: independent of where its files
    lie, and changed by any edit that could change an assessment."""
    content: dict[str, Any] = {
        "frameworks": {
            fid: {
                "meta": fw.meta.model_dump(mode="json"),
                "items": [item.model_dump(mode="json") for item in fw.items.values()],
                "legacy": [entry.model_dump(mode="json") for entry in fw.legacy.values()],
                "crosswalks": [c.model_dump(mode="json") for c in fw.crosswalks],
            }
            for fid, fw in sorted(library.frameworks.items())
        },
        "controls": [c.model_dump(mode="json") for c in library.controls.values()],
        "overrides": [{"pack": o.pack, "override": o.override.model_dump(mode="json")} for o in library.overrides],
        "packs": pack_ids(library),
    }
    return sha256(canonical(content))


def pack_ids(library: Library) -> list[str]:
    """The organisation packs of a library, as 'name version'."""
    return [f"{p.name} {p.version}" for p in library.packs]


def predicate(
    assessment: Assessment,
    library: Library,
    *,
    max_gaps: int,
    results_sha256: str,
    document_date: datetime,
    signed_at: datetime,
) -> ReportPredicate:
    """The predicate for a report set made from this assessment."""
    b = assessment.bundle
    return ReportPredicate(
        tool=AttestedTool(name=assessment.tool.name, version=assessment.tool.version),
        bundle=AttestedBundle(
            organisation=b.organisation,
            period_start=b.period_start,
            period_end=b.period_end,
            digest=b.digest,
            manifest_sha256=b.manifest_sha256,
            seal=b.seal,
        ),
        control_library=AttestedLibrary(
            digest=library_digest(library), catalogs=dict(assessment.tool.catalogs), packs=pack_ids(library)
        ),
        assessment=AttestedAssessment(
            report_id=report_id(b.digest), as_of=assessment.as_of, max_gaps=max_gaps, results_sha256=results_sha256
        ),
        headline=assessment.headline.model_dump(mode="json", exclude={"matrix"}),
        status_counts=dict(assessment.status_counts),
        document_date=document_date,
        signed_at=signed_at,
    )


def attest(files: Mapping[str, Payload], statement_predicate: ReportPredicate, key: Ed25519PrivateKey) -> bytes:
    """attestation.intoto.jsonl: one DSSE envelope line over every file of the set."""
    digests = {name: payload_sha256(data) for name, data in files.items()}
    envelope = sign_statement(digests, REPORT_PREDICATE_TYPE, statement_predicate.model_dump(mode="json"), key)
    return dsse.dumps(envelope)
