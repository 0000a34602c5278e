"""Trivy JSON (`--format json`): vulnerabilities and VEX-suppressed findings → findings (sightings
of the report's one scan, ids stable across rescans and upgrades), secrets → secret_exposures.
Secret `Match` and `Code` context lines are never read.
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
    as_str,
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
from reporter.importers._packages import (
    OS_FAMILIES,
    add_sighting,
    clean_purl,
    fix_ref,
    language_purl,
    not_this_format,
    os_family,
    os_purl,
    package_key,
    purl_arch,
    unique,
    versionless,
)
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo, ImportNote

INFO = ImporterInfo(
    format="trivy-json",
    tool="Trivy",
    kinds=("scans", "findings", "secret_exposures"),
    tested_versions="SchemaVersion 2 (Trivy 0.2x-0.6x golden files and DefectDojo samples) incl. "
    "ExperimentalModifiedFindings; legacy pre-0.20 top-level array or null",
    produce_with="trivy image|fs|repo --format json --output trivy.json TARGET",
    notes="Secret Match and Code lines are dropped unread; .trivyignore/VEX suppressions "
    "become findings with a vex_status. A report that scanned no packages proves nothing absent.",
    extensions=(".json",),
)

WHAT = "a Trivy JSON report"
_VULNERABILITY_CLASSES = ("os-pkgs", "lang-pkgs")
# Keys a Result has had in any Trivy version: a legacy array of anything else is not Trivy's.
_RESULT_KEYS = frozenset(
    {
        "Target",
        "Class",
        "Type",
        "Vulnerabilities",
        "Misconfigurations",
        "MisconfSummary",
        "Secrets",
        "Packages",
        "Licenses",
        "CustomResources",
        "ExperimentalModifiedFindings",
        "ModifiedFindings",
    }
)
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
class _Report:
    """The parts of a report (modern or legacy) the records are made from."""

    artifact: str | None
    created: datetime | None
    results: list[tuple[dict[str, Any], Where]]
    metadata: dict[str, Any]
    legacy_null: bool = False


@dataclass(frozen=True)
class _Scan:
    """What every record of one report shares."""

    asset: str
    at: datetime
    id: str | None  # the scan record's id, when the report has one
    os_family: str | None  # Metadata.OS.Family, for purls of results without a Type


class TrivyImporter:
    """Reads one Trivy JSON report."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord | ImportNote]:
        """Yield the scan, findings and secret exposures of the report, and notes on what the
        scan cannot prove."""
        where = start(context)
        report = _report(load_json(path, context), where)
        asset = asset_id(report.artifact, context, where.at("ArtifactName"))
        at = scan_time(report.created, context, where.at("CreatedAt"), "the scan time")
        meta_where = where.at("Metadata")
        family = os_family(opt_str(opt_obj(report.metadata, "OS", meta_where), "Family", meta_where.at("OS")))
        scanned = (
            report.legacy_null or not report.results or any(_is_vulnerability_result(r) for r, _ in report.results)
        )
        scan = _Scan(asset, at, stable_id("trivy", "scan", asset, iso(at)) if scanned else None, family)
        if scan.id:
            yield from _scan_records(report, scan, where)
        yield from _deduplicated(report, scan)


def _report(document: Any, where: Where) -> _Report:
    """A modern report, a legacy array of results, or a legacy `null`; anything else is refused."""
    if document is None:  # Trivy before 0.20 wrote `null` when it found nothing
        return _Report(None, None, [], {}, legacy_null=True)
    if isinstance(document, list):
        return _Report(None, None, _legacy_results(document, where), {})
    if not isinstance(document, dict) or "SchemaVersion" not in document:
        raise where.error(not_this_format(WHAT, document, "no SchemaVersion"))
    if document["SchemaVersion"] != 2:
        raise where.at("SchemaVersion").error("is not 2, the only Trivy JSON schema version known (tested)")
    results_where = where.at("Results")
    results = as_list(document.get("Results"), results_where)
    return _Report(
        artifact=opt_str(document, "ArtifactName", where),
        created=timestamp_at(document, "CreatedAt", where),
        results=[(as_obj(r, results_where.at(i)), results_where.at(i)) for i, r in enumerate(results)],
        metadata=opt_obj(document, "Metadata", where),
    )


def _legacy_results(document: list[Any], where: Where) -> list[tuple[dict[str, Any], Where]]:
    """A pre-0.20 report: only an array of Result objects (each with a Target) is one."""
    if not document:
        raise where.error(
            "is an empty JSON array, which is not a Trivy report (legacy Trivy wrote null when it found "
            "nothing; an empty Gitleaks report is also [])"
        )
    if not all(isinstance(r, dict) and "Target" in r and set(r) <= _RESULT_KEYS for r in document):
        raise where.error(not_this_format(WHAT, document, "a JSON array whose entries are not Trivy results"))
    return [(r, where.at(i)) for i, r in enumerate(document)]


# --- the scan --------------------------------------------------------------------------------


def _is_vulnerability_result(result: dict[str, Any]) -> bool:
    """A result of the vulnerability scanner: os-pkgs or lang-pkgs, or legacy (no Class)."""
    return result.get("Class") in (*_VULNERABILITY_CLASSES, None) or bool(result.get("Vulnerabilities"))


def _scope_key(result: dict[str, Any], where: Where) -> str:
    """`os-pkgs:<family>` or `lang-pkgs:<type>:<target>`; a legacy result (no Class) is os-pkgs
    when its Type is an OS family, else lang-pkgs."""
    kind = opt_str(result, "Type", where) or ""
    target = opt_str(result, "Target", where) or ""
    if _result_class(result, where) == "os-pkgs":
        return f"os-pkgs:{os_family(kind) or 'unknown'}"
    return f"lang-pkgs:{kind.lower()}:{target}"


def _result_class(result: dict[str, Any], where: Where) -> str:
    declared = opt_str(result, "Class", where)
    if declared in _VULNERABILITY_CLASSES:
        return declared
    return "os-pkgs" if os_family(opt_str(result, "Type", where)) in OS_FAMILIES else "lang-pkgs"


def _scan_records(report: _Report, scan: _Scan, where: Where) -> Iterator[ImportedRecord | ImportNote]:
    keys = sorted({_scope_key(r, w) for r, w in report.results if _is_vulnerability_result(r)})
    blind = scan.os_family == "none"  # Trivy found no OS (e.g. --skip-dirs /etc): OS packages unscanned
    data = {
        "id": scan.id,
        "asset_id": scan.asset,
        "tool": "trivy",
        "authenticated": True,  # reads the artifact's own package databases
        "completed_at": iso(scan.at),
        "status": "partial" if blind else "completed",
        "target": _target(report, where),
        "scope_keys": keys,
    }
    yield ImportedRecord("scans", compact(data), str(where))
    if blind:
        yield ImportNote(
            "Trivy detected no operating system (Metadata.OS.Family is none): OS packages were not "
            "scanned; the scan is recorded as partial",
            "Metadata.OS.Family",
        )
    if not keys:
        what = "is a legacy null report" if report.legacy_null else "has no package results"
        yield ImportNote(
            f"{what}: it does not say what was scanned, so its scan proves no finding absent",
            "" if report.legacy_null else "Results",
        )


def _target(report: _Report, where: Where) -> str | None:
    """ArtifactName plus the image digest (a repo digest, else the image id) when Metadata has one."""
    meta_where = where.at("Metadata")
    digests = [
        as_str(d, meta_where.at("RepoDigests").at(i))
        for i, d in enumerate(as_list(report.metadata.get("RepoDigests"), meta_where.at("RepoDigests")))
    ]
    digest = next((d.rpartition("@")[2] for d in digests if d and "@" in d), None)
    digest = digest or opt_str(report.metadata, "ImageID", meta_where)
    name = report.artifact
    if name and digest and "@" not in name:
        return f"{name}@{digest}"
    return name or digest


# --- findings --------------------------------------------------------------------------------


def _deduplicated(report: _Report, scan: _Scan) -> Iterator[ImportedRecord]:
    """Records in file order; two sightings of one finding (a package in two versions in one
    lockfile) become one finding with both versions."""
    kept: dict[tuple[str, str], ImportedRecord] = {}
    for result, result_where in report.results:
        for record in _result_records(result, result_where, scan):
            add_sighting(kept, (record.kind, record.data["id"]), record)
    yield from kept.values()


def _result_records(result: dict[str, Any], where: Where, scan: _Scan) -> Iterator[ImportedRecord]:
    target = opt_str(result, "Target", where) or ""
    component = _Component(result, where, scan)
    for i, item in enumerate(as_list(result.get("Vulnerabilities"), where.at("Vulnerabilities"))):
        item_where = where.at("Vulnerabilities").at(i)
        yield _finding(as_obj(item, item_where), item_where, component, None)
    modified_where = where.at("ExperimentalModifiedFindings")
    for i, item in enumerate(as_list(result.get("ExperimentalModifiedFindings"), modified_where)):
        item_where = modified_where.at(i)
        modified = as_obj(item, item_where)
        if (opt_str(modified, "Type", item_where) or "vulnerability") != "vulnerability":
            continue  # suppressed secrets/misconfigurations: no canonical kind carries suppression
        vex = _VEX.get(opt_str(modified, "Status", item_where) or "", "suppressed")
        finding = as_obj(modified.get("Finding"), item_where.at("Finding"))
        yield _finding(finding, item_where.at("Finding"), component, vex)
    for i, item in enumerate(as_list(result.get("Secrets"), where.at("Secrets"))):
        item_where = where.at("Secrets").at(i)
        yield _secret(as_obj(item, item_where), item_where, scan, target)


class _Component:
    """How the findings of one result name their component: the identity that survives an
    upgrade in place (an OS package by name and arch; a language package by name and where it
    is: target and path without the version), its purl and its scope key."""

    def __init__(self, result: dict[str, Any], where: Where, scan: _Scan) -> None:
        self.scan = scan
        self.target = opt_str(result, "Target", where) or ""
        self.type = opt_str(result, "Type", where)
        self.kind = _result_class(result, where)
        self.scope_key = _scope_key(result, where)

    def key(self, name: str, version: str | None, path: str | None, purl: str | None) -> tuple[Any, ...]:
        """The component part of a finding's natural key."""
        if self.kind == "os-pkgs":
            ecosystem = OS_FAMILIES.get(os_family(self.type) or self.scan.os_family or "")
            return ("os-pkgs", package_key(name, ecosystem), purl_arch(purl))
        return ("lang-pkgs", versionless(self.target, version), name, versionless(path, version))

    def purl(self, given: str | None, name: str | None, version: str | None) -> str | None:
        """Trivy's own PURL, else one built from the result type (none when the type is unknown)."""
        if given:
            return clean_purl(given)
        if self.kind == "os-pkgs":
            return os_purl(self.type or self.scan.os_family, name, version)
        return language_purl(self.type, name, version)


def _finding(vuln: dict[str, Any], where: Where, component: _Component, vex: str | None) -> ImportedRecord:
    raw_id = opt_str(vuln, "VulnerabilityID", where)
    if raw_id is None:
        raise where.at("VulnerabilityID").error("is missing")
    canonical = vuln_id(raw_id, "trivy", where.at("VulnerabilityID"))
    name = opt_str(vuln, "PkgName", where)
    installed = opt_str(vuln, "InstalledVersion", where)
    identifier = opt_obj(vuln, "PkgIdentifier", where)
    purl = component.purl(opt_str(identifier, "PURL", where.at("PkgIdentifier")), name, installed)
    key = component.key(name or "", installed, opt_str(vuln, "PkgPath", where), purl)
    scan = component.scan
    vector, score = _cvss(vuln, where)
    if vex is None and opt_str(vuln, "Status", where) == "not_affected":
        vex = "not_affected"
    data = {
        "id": stable_id("trivy", "finding", scan.asset, *key, canonical),
        "asset_id": scan.asset,
        "vuln_id": canonical,
        "package": name,
        "installed_version": installed,
        "fixed_version": opt_str(vuln, "FixedVersion", where),
        "purl": purl,
        "severity": severity_of(vuln.get("Severity")),
        "cvss_vector": vector,
        "cvss_score": score,
        "vex_status": vex,
        "first_detected_at": iso(scan.at),
        "last_seen_at": iso(scan.at),
        "state": "closed" if vex == "fixed" else "open",
        "source": "trivy",
        "scan_id": scan.id,
        "scope_keys": [component.scope_key],
        "fix_refs": _fix_refs(vuln, where),
    }
    return ImportedRecord("findings", compact(data), str(where))


def _fix_refs(vuln: dict[str, Any], where: Where) -> list[str]:
    """Vendor advisories of `VendorIDs` (DSA, RHSA, USN, ALAS...); GHSA aliases are not fixes."""
    ids_where = where.at("VendorIDs")
    return unique(fix_ref(as_str(v, ids_where.at(i))) for i, v in enumerate(as_list(vuln.get("VendorIDs"), ids_where)))


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
