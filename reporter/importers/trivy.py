"""Trivy JSON (`--format json`): vulnerabilities and VEX-suppressed findings → findings, one scan
per artifact, secrets → secret_exposures. Secret `Match` and `Code` context lines are never read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reporter.importers._common import (
    Where,
    as_list,
    as_obj,
    asset_id,
    compact,
    cvss_score,
    cvss_vector,
    iso,
    load_json,
    opt_float,
    opt_int,
    opt_obj,
    opt_str,
    scan_time,
    secret_location,
    severity_of,
    stable_id,
    start,
    timestamp_at,
    vuln_id,
)
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="trivy-json",
    tool="Trivy",
    kinds=("scans", "findings", "secret_exposures"),
    tested_versions="SchemaVersion 2 golden files (Trivy dev, 2021-2024) incl. "
    "ExperimentalModifiedFindings; legacy pre-0.20 top-level array or null",
    produce_with="trivy image|fs|repo --format json --output trivy.json TARGET",
    notes="Secret Match and Code lines are dropped unread; .trivyignore/VEX suppressions "
    "become findings with a vex_status.",
    extensions=(".json",),
)

_VULNERABILITY_CLASSES = frozenset({"os-pkgs", "lang-pkgs"})
# ExperimentalModifiedFindings.Status; "ignored" (.trivyignore) and "unknown" become `suppressed`:
# a tool ignore rule is not a VEX analysis and not an exception (no owner, no expiry).
_VEX = {
    "not_affected": "not_affected",
    "affected": "affected",
    "fixed": "fixed",
    "under_investigation": "under_investigation",
}
_CVSS_FIELDS = (
    ("V3Vector", "V3Score", None),
    ("V40Vector", "V40Score", "4.0"),
    ("V2Vector", "V2Score", None),
)


@dataclass(frozen=True)
class _Scan:
    """What every record of one report shares."""

    asset: str
    at: datetime


class TrivyImporter:
    """Reads one Trivy JSON report."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield the scan, findings and secret exposures of the report."""
        where = start(context)
        document = load_json(path, context)
        if document is None or isinstance(document, list):  # legacy: a bare array of results
            results_where, results = where, as_list(document, where)
            artifact, created = None, None
        else:
            report = as_obj(document, where)
            if not {"SchemaVersion", "Results", "ArtifactName"} & set(report):
                raise where.error("is not a Trivy JSON report (no SchemaVersion, Results or ArtifactName)")
            results_where = where.at("Results")
            results = as_list(report.get("Results"), results_where)
            artifact = opt_str(report, "ArtifactName", where)
            created = timestamp_at(report, "CreatedAt", where)
        scan = _Scan(
            asset=asset_id(artifact, context, where.at("ArtifactName")),
            at=scan_time(created, context, where.at("CreatedAt"), "the scan time"),
        )
        parsed = [(as_obj(r, results_where.at(i)), results_where.at(i)) for i, r in enumerate(results)]
        if _scanned_for_vulnerabilities({opt_str(r, "Class", w) for r, w in parsed}, len(parsed)):
            yield _scan_record(scan, where)
        for result, result_where in parsed:
            yield from _result_records(result, result_where, scan)


def _scanned_for_vulnerabilities(classes: set[str | None], count: int) -> bool:
    """False only when every result is of another scanner (secret, config, license)."""
    return count == 0 or None in classes or bool(classes & _VULNERABILITY_CLASSES)


def _scan_record(scan: _Scan, where: Where) -> ImportedRecord:
    data = {
        "id": stable_id("trivy", "scan", scan.asset, iso(scan.at)),
        "asset_id": scan.asset,
        "tool": "trivy",
        "authenticated": True,  # reads the artifact's own package databases
        "completed_at": iso(scan.at),
        "status": "completed",
    }
    return ImportedRecord("scans", data, str(where))


def _result_records(result: dict[str, Any], where: Where, scan: _Scan) -> Iterator[ImportedRecord]:
    target = opt_str(result, "Target", where) or ""
    for i, item in enumerate(as_list(result.get("Vulnerabilities"), where.at("Vulnerabilities"))):
        item_where = where.at("Vulnerabilities").at(i)
        yield _finding(as_obj(item, item_where), item_where, scan, target, None)
    modified_where = where.at("ExperimentalModifiedFindings")
    for i, item in enumerate(as_list(result.get("ExperimentalModifiedFindings"), modified_where)):
        item_where = modified_where.at(i)
        modified = as_obj(item, item_where)
        if (opt_str(modified, "Type", item_where) or "vulnerability") != "vulnerability":
            continue  # suppressed secrets/misconfigurations: no canonical kind carries suppression
        vex = _VEX.get(opt_str(modified, "Status", item_where) or "", "suppressed")
        finding = as_obj(modified.get("Finding"), item_where.at("Finding"))
        yield _finding(finding, item_where.at("Finding"), scan, target, vex)
    for i, item in enumerate(as_list(result.get("Secrets"), where.at("Secrets"))):
        item_where = where.at("Secrets").at(i)
        yield _secret(as_obj(item, item_where), item_where, scan, target)


def _finding(vuln: dict[str, Any], where: Where, scan: _Scan, target: str, vex: str | None) -> ImportedRecord:
    raw_id = opt_str(vuln, "VulnerabilityID", where)
    if raw_id is None:
        raise where.at("VulnerabilityID").error("is missing")
    canonical = vuln_id(raw_id, "trivy", where.at("VulnerabilityID"))
    name = opt_str(vuln, "PkgName", where)
    installed = opt_str(vuln, "InstalledVersion", where)
    identifier = opt_obj(vuln, "PkgIdentifier", where)
    package_key = (
        opt_str(vuln, "PkgID", where) or opt_str(identifier, "PURL", where.at("PkgIdentifier")) or f"{name}@{installed}"
    )
    key = (scan.asset, target, package_key, opt_str(vuln, "PkgPath", where), canonical)
    vector, score = _cvss(vuln, where)
    if vex is None and opt_str(vuln, "Status", where) == "not_affected":
        vex = "not_affected"
    data = {
        "id": stable_id("trivy", "finding", *key),
        "asset_id": scan.asset,
        "vuln_id": canonical,
        "package": name,
        "installed_version": installed,
        "fixed_version": opt_str(vuln, "FixedVersion", where),
        "severity": severity_of(vuln.get("Severity")),
        "cvss_vector": vector,
        "cvss_score": score,
        "vex_status": vex,
        "first_detected_at": iso(scan.at),
        "last_seen_at": iso(scan.at),
        "state": "closed" if vex == "fixed" else "open",
        "source": "trivy",
    }
    return ImportedRecord("findings", compact(data), str(where))


def _cvss(vuln: dict[str, Any], where: Where) -> tuple[str | None, float | None]:
    """The severity source's CVSS, else NVD's, else any: v3.x before v4.0 before v2."""
    table_where = where.at("CVSS")
    table = opt_obj(vuln, "CVSS", where)
    preferred = [opt_str(vuln, "SeveritySource", where), "nvd", *sorted(table)]
    for source in dict.fromkeys(s for s in preferred if s and s in table):
        entry = as_obj(table[source], table_where.at(source))
        for vector_key, score_key, version in _CVSS_FIELDS:
            vector = cvss_vector(entry.get(vector_key), version)
            if vector:
                return vector, cvss_score(opt_float(entry, score_key, table_where.at(source)))
    return None, None


def _secret(secret: dict[str, Any], where: Where, scan: _Scan, target: str) -> ImportedRecord:
    """Only RuleID, target and lines are read: Match and Code hold the secret and its context."""
    rule = opt_str(secret, "RuleID", where)
    if rule is None:
        raise where.at("RuleID").error("is missing")
    line = opt_int(secret, "StartLine", where)
    fingerprint = ":".join(str(p) for p in (target, rule, line) if p not in (None, ""))
    data = {
        "id": stable_id("trivy", "secret", scan.asset, fingerprint),
        "asset_id": scan.asset,
        "detector": rule,
        "location": secret_location(scan.asset, None, target, line),
        "fingerprint": fingerprint,
        "detected_at": iso(scan.at),
    }
    return ImportedRecord("secret_exposures", data, str(where))


IMPORTER = TrivyImporter()
