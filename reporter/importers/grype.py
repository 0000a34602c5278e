"""Grype JSON (`-o json`): matches and ignoredMatches → findings (with KEV, EPSS and a VEX status
for ignored ones) and one scan of the source; a non-CVE id is replaced by its related CVEs."""

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
    day_iso,
    is_cve,
    iso,
    load_json,
    opt_float,
    opt_obj,
    opt_str,
    parse_day,
    probability,
    scan_time,
    severity_of,
    stable_id,
    start,
    timestamp_at,
    vuln_id,
)
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="grype-json",
    tool="Grype",
    kinds=("scans", "findings"),
    tested_versions="JSON presenter golden file (knownExploited, epss, risk; grype 0.8x+); "
    "older output without enrichment",
    produce_with="grype IMAGE_OR_DIR -o json --file grype.json",
    notes="ignoredMatches become findings with a vex_status; descriptor.timestamp is the scan time.",
    extensions=(".json",),
)

_VEX = {
    "not_affected": "not_affected",
    "fixed": "fixed",
    "affected": "affected",
    "under_investigation": "under_investigation",
}
_CVSS_RANK = {"3.1": 0, "3.0": 1, "4.0": 2, "2.0": 3}


@dataclass(frozen=True)
class _Scan:
    asset: str
    at: datetime


@dataclass(frozen=True)
class _Package:
    key: str
    name: str | None
    version: str | None


class GrypeImporter:
    """Reads one Grype JSON report."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield the scan and one finding per (package, CVE) match."""
        where = start(context)
        report = as_obj(load_json(path, context), where)
        if "matches" not in report:
            raise where.error("is not a Grype JSON report (no 'matches')")
        descriptor = opt_obj(report, "descriptor", where)
        scan = _Scan(
            asset=asset_id(_source_name(report, where), context, where.at("source.target")),
            at=scan_time(
                timestamp_at(descriptor, "timestamp", where.at("descriptor")),
                context,
                where.at("descriptor.timestamp"),
                "the scan time",
            ),
        )
        yield ImportedRecord("scans", _scan_data(scan), str(where))
        yield from _deduplicated(report, where, scan)


def _source_name(report: dict[str, Any], where: Where) -> str | None:
    source = opt_obj(report, "source", where)
    target = source.get("target")
    if isinstance(target, dict):
        return opt_str(target, "userInput", where.at("source.target"))
    return opt_str(source, "target", where.at("source"))


def _scan_data(scan: _Scan) -> dict[str, Any]:
    return {
        "id": stable_id("grype", "scan", scan.asset, iso(scan.at)),
        "asset_id": scan.asset,
        "tool": "grype",
        "authenticated": True,  # reads the artifact's own package databases
        "completed_at": iso(scan.at),
        "status": "completed",
    }


def _deduplicated(report: dict[str, Any], where: Where, scan: _Scan) -> Iterator[ImportedRecord]:
    """A CVE reached both directly and through a GHSA/distro advisory is one finding: the direct
    match wins, as it carries the CVE's own severity."""
    kept: dict[str, tuple[bool, ImportedRecord]] = {}
    for section in ("matches", "ignoredMatches"):
        section_where = where.at(section)
        for i, item in enumerate(as_list(report.get(section), section_where)):
            match = as_obj(item, section_where.at(i))
            for direct, record in _findings(match, section_where.at(i), scan, section):
                previous = kept.get(record.data["id"])
                if previous is None or (direct and not previous[0]):
                    kept[record.data["id"]] = (direct, record)
    for _, record in kept.values():
        yield record


def _findings(match: dict[str, Any], where: Where, scan: _Scan, section: str) -> Iterator[tuple[bool, ImportedRecord]]:
    vuln_where = where.at("vulnerability")
    vuln = as_obj(match.get("vulnerability"), vuln_where)
    raw_id = opt_str(vuln, "id", vuln_where)
    if raw_id is None:
        raise vuln_where.at("id").error("is missing")
    package = _package(opt_obj(match, "artifact", where), where.at("artifact"))
    vex = _vex(match, where) if section == "ignoredMatches" else None
    for cve, details, details_where in _targets(raw_id, vuln, match, where):
        canonical = vuln_id(cve, "grype", details_where.at("id"))
        data = {
            "id": stable_id("grype", "finding", scan.asset, package.key, canonical),
            "asset_id": scan.asset,
            "vuln_id": canonical,
            "package": package.name,
            "installed_version": package.version,
            "fixed_version": _fixed_version(vuln, vuln_where),
            "severity": severity_of(vuln.get("severity") or details.get("severity")),
            "vex_status": vex,
            "first_detected_at": iso(scan.at),
            "last_seen_at": iso(scan.at),
            "state": "closed" if vex == "fixed" else "open",
            "source": "grype",
        }
        data.update(_cvss(vuln, vuln_where) or _cvss(details, details_where) or {})
        data.update(_epss(vuln, canonical, vuln_where))
        data.update(_kev(vuln, canonical, vuln_where))
        yield details is vuln, ImportedRecord("findings", compact(data), str(where))


def _targets(
    raw_id: str, vuln: dict[str, Any], match: dict[str, Any], where: Where
) -> list[tuple[str, dict[str, Any], Where]]:
    """The CVE ids a match stands for: its own id if a CVE, else the related CVEs, else the id."""
    if is_cve(raw_id.upper()):
        return [(raw_id, vuln, where.at("vulnerability"))]
    related_where = where.at("relatedVulnerabilities")
    found: dict[str, tuple[str, dict[str, Any], Where]] = {}
    for i, item in enumerate(as_list(match.get("relatedVulnerabilities"), related_where)):
        related = as_obj(item, related_where.at(i))
        related_id = (opt_str(related, "id", related_where.at(i)) or "").upper()
        if is_cve(related_id):
            found.setdefault(related_id, (related_id, related, related_where.at(i)))
    return [found[k] for k in sorted(found)] or [(raw_id, vuln, where.at("vulnerability"))]


def _package(artifact: dict[str, Any], where: Where) -> _Package:
    name = opt_str(artifact, "name", where)
    version = opt_str(artifact, "version", where)
    purl = opt_str(artifact, "purl", where)
    kind = opt_str(artifact, "type", where)
    paths = sorted(
        opt_str(as_obj(item, where.at("locations").at(i)), "path", where) or ""
        for i, item in enumerate(as_list(artifact.get("locations"), where.at("locations")))
    )
    key = purl or f"{kind}:{name}@{version}"
    return _Package(f"{key}|{'|'.join(paths)}", name, version)


def _fixed_version(vuln: dict[str, Any], where: Where) -> str | None:
    fix = opt_obj(vuln, "fix", where)
    versions_where = where.at("fix.versions")
    versions = [as_str(v, versions_where.at(i)) for i, v in enumerate(as_list(fix.get("versions"), versions_where))]
    return ", ".join(v for v in versions if v) or None


def _vex(match: dict[str, Any], where: Where) -> str:
    """The applied ignore rule's vex-status, else `suppressed` (an ignore rule is not an analysis)."""
    rules_where = where.at("appliedIgnoreRules")
    for i, item in enumerate(as_list(match.get("appliedIgnoreRules"), rules_where)):
        status = opt_str(as_obj(item, rules_where.at(i)), "vex-status", rules_where.at(i))
        if status in _VEX:
            return _VEX[status]
    return "suppressed"


def _cvss(vuln: dict[str, Any], where: Where) -> dict[str, Any] | None:
    """v3.1, then v3.0, v4.0, v2; NVD's first among equals."""
    candidates = []
    for i, item in enumerate(as_list(vuln.get("cvss"), where.at("cvss"))):
        entry_where = where.at("cvss").at(i)
        entry = as_obj(item, entry_where)
        version = opt_str(entry, "version", entry_where)
        vector = cvss_vector(entry.get("vector"), version)
        if vector:
            score = opt_float(opt_obj(entry, "metrics", entry_where), "baseScore", entry_where)
            rank = (_CVSS_RANK.get(version or "", 9), entry.get("source") != "nvd", i)
            candidates.append((rank, vector, cvss_score(score)))
    if not candidates:
        return None
    _, vector, score = min(candidates)
    return {"cvss_vector": vector, "cvss_score": score}


def _entries_for(vuln: dict[str, Any], key: str, cve: str, where: Where) -> list[tuple[dict[str, Any], Where]]:
    found = []
    for i, item in enumerate(as_list(vuln.get(key), where.at(key))):
        entry = as_obj(item, where.at(key).at(i))
        named = (opt_str(entry, "cve", where.at(key).at(i)) or cve).upper()
        if named == cve:
            found.append((entry, where.at(key).at(i)))
    return found


def _epss(vuln: dict[str, Any], cve: str, where: Where) -> dict[str, Any]:
    for entry, entry_where in _entries_for(vuln, "epss", cve, where)[:1]:
        return {
            "epss": probability(opt_float(entry, "epss", entry_where), entry_where.at("epss")),
            "epss_percentile": probability(opt_float(entry, "percentile", entry_where), entry_where.at("percentile")),
            "epss_date": day_iso(parse_day(entry.get("date"), entry_where.at("date"))),
        }
    return {}


def _kev(vuln: dict[str, Any], cve: str, where: Where) -> dict[str, Any]:
    for entry, entry_where in _entries_for(vuln, "knownExploited", cve, where)[:1]:
        return {
            "kev": True,
            "kev_date_added": day_iso(parse_day(entry.get("dateAdded"), entry_where.at("dateAdded"))),
            "kev_due_date": day_iso(parse_day(entry.get("dueDate"), entry_where.at("dueDate"))),
        }
    return {}


IMPORTER = GrypeImporter()
