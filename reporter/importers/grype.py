"""Grype JSON (`-o json`): matches and ignoredMatches → findings (sightings of the report's one
scan, with KEV, EPSS and a VEX status for ignored ones); a non-CVE id is replaced by its related
CVEs, and a CVE without severity or CVSS takes its related advisory's."""

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
from reporter.importers._packages import (
    OS_PACKAGE_TYPES,
    clean_purl,
    fix_ref,
    merge_sighting,
    not_this_format,
    package_key,
    purl_arch,
    purl_type,
    unique,
    versionless,
)
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="grype-json",
    tool="Grype",
    kinds=("scans", "findings"),
    tested_versions="grype 0.7-0.96 (DefectDojo samples), JSON presenter golden files (knownExploited, epss, risk)",
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
    id: str
    distro: str | None  # distro.name, lower case: the OS whose packages were catalogued
    source: str  # source.type: image, directory, file, sbom (unknown when absent)


@dataclass(frozen=True)
class _Package:
    key: tuple[Any, ...]  # what stays the same when the package is upgraded in place
    name: str | None
    version: str | None
    purl: str | None
    scope_key: str


class GrypeImporter:
    """Reads one Grype JSON report."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield the scan and one finding per (package, CVE) match."""
        where = start(context)
        report = _report(load_json(path, context), where)
        descriptor = opt_obj(report, "descriptor", where)
        asset = asset_id(_source_name(report, where), context, where.at("source.target"))
        at = scan_time(
            timestamp_at(descriptor, "timestamp", where.at("descriptor")),
            context,
            where.at("descriptor.timestamp"),
            "the scan time",
        )
        scan = _Scan(
            asset=asset,
            at=at,
            id=stable_id("grype", "scan", asset, iso(at)),
            distro=(opt_str(opt_obj(report, "distro", where), "name", where.at("distro")) or "").lower() or None,
            source=(opt_str(opt_obj(report, "source", where), "type", where.at("source")) or "unknown").lower(),
        )
        yield ImportedRecord("scans", _scan_data(scan, _target(report, where)), str(where))
        yield from _deduplicated(report, where, scan)


def _report(document: Any, where: Where) -> dict[str, Any]:
    """A Grype report: an object whose `matches` are match objects, written by grype."""
    what = "a Grype JSON report"
    if not isinstance(document, dict) or not isinstance(document.get("matches"), list):
        raise where.error(not_this_format(what, document, "no 'matches' array"))
    if not all(isinstance(m, dict) and "vulnerability" in m for m in document["matches"]):
        raise where.error(not_this_format(what, document, "its matches have no 'vulnerability'"))
    tool = opt_str(opt_obj(document, "descriptor", where), "name", where.at("descriptor"))
    if tool and tool.lower() != "grype":
        raise where.at("descriptor.name").error("names another tool than grype")
    return document


def _source_name(report: dict[str, Any], where: Where) -> str | None:
    source = opt_obj(report, "source", where)
    target = source.get("target")
    if isinstance(target, dict):
        return opt_str(target, "userInput", where.at("source.target"))
    return opt_str(source, "target", where.at("source"))


def _target(report: dict[str, Any], where: Where) -> str | None:
    """What was scanned: the user's input plus the image's manifest digest (else its image id)."""
    source = opt_obj(report, "source", where)
    target = source.get("target")
    if not isinstance(target, dict):
        return opt_str(source, "target", where.at("source"))
    target_where = where.at("source.target")
    name = opt_str(target, "userInput", target_where)
    digest = opt_str(target, "manifestDigest", target_where) or opt_str(target, "imageID", target_where)
    if name and digest and "@" not in name:
        return f"{name}@{digest}"
    return name or digest


def _scan_data(scan: _Scan, target: str | None) -> dict[str, Any]:
    keys = [f"os-pkgs:{scan.distro}"] if scan.distro else []
    data = {
        "id": scan.id,
        "asset_id": scan.asset,
        "tool": "grype",
        "authenticated": True,  # reads the artifact's own package databases
        "completed_at": iso(scan.at),
        "status": "completed",
        "target": target,
        "scope_keys": [*keys, f"grype-source:{scan.source}"],
    }
    return compact(data)


def _deduplicated(report: dict[str, Any], where: Where, scan: _Scan) -> Iterator[ImportedRecord]:
    """A CVE reached both directly and through a GHSA/distro advisory is one finding: the direct
    match wins, as it carries the CVE's own severity. Two versions of one package at one place
    (an upgrade seen half done) are one finding with both versions."""
    kept: dict[str, tuple[bool, ImportedRecord]] = {}
    for section in ("matches", "ignoredMatches"):
        section_where = where.at(section)
        for i, item in enumerate(as_list(report.get(section), section_where)):
            match = as_obj(item, section_where.at(i))
            for direct, record in _findings(match, section_where.at(i), scan, section):
                previous = kept.get(record.data["id"])
                if previous is None or (direct and not previous[0]):
                    kept[record.data["id"]] = (direct, record)
                elif previous[1].data.get("installed_version") != record.data.get("installed_version"):
                    merged = merge_sighting(previous[1].data, record.data)
                    kept[record.data["id"]] = (previous[0], ImportedRecord(record.kind, merged, previous[1].location))
    for _, record in kept.values():
        yield record


def _findings(match: dict[str, Any], where: Where, scan: _Scan, section: str) -> Iterator[tuple[bool, ImportedRecord]]:
    vuln_where = where.at("vulnerability")
    vuln = as_obj(match.get("vulnerability"), vuln_where)
    raw_id = opt_str(vuln, "id", vuln_where)
    if raw_id is None:
        raise vuln_where.at("id").error("is missing")
    package = _package(opt_obj(match, "artifact", where), where.at("artifact"), scan)
    vex = _vex(match, where) if section == "ignoredMatches" else None
    related = _related(match, where)
    direct = is_cve(raw_id.upper())
    for cve, cve_where in _targets(raw_id, related, where):
        canonical = vuln_id(cve, "grype", cve_where.at("id"))
        sources = [(vuln, vuln_where), *_first_named(related, cve)]
        data = {
            "id": stable_id("grype", "finding", scan.asset, *package.key, canonical),
            "asset_id": scan.asset,
            "vuln_id": canonical,
            "package": package.name,
            "installed_version": package.version,
            "fixed_version": _fixed_version(vuln, vuln_where),
            "purl": package.purl,
            "severity": _severity(sources),
            "vex_status": vex,
            "first_detected_at": iso(scan.at),
            "last_seen_at": iso(scan.at),
            "state": "closed" if vex == "fixed" else "open",
            "source": "grype",
            "scan_id": scan.id,
            "scope_keys": [package.scope_key],
            "fix_refs": _fix_refs(vuln, vuln_where),
        }
        data.update(next((c for c in (_cvss(s, w) for s, w in sources) if c), {}))
        data.update(_epss(vuln, canonical, vuln_where))
        data.update(_kev(vuln, canonical, vuln_where))
        yield direct, ImportedRecord("findings", compact(data), str(where))


def _related(match: dict[str, Any], where: Where) -> list[tuple[dict[str, Any], Where]]:
    related_where = where.at("relatedVulnerabilities")
    items = as_list(match.get("relatedVulnerabilities"), related_where)
    return [(as_obj(item, related_where.at(i)), related_where.at(i)) for i, item in enumerate(items)]


def _related_id(related: dict[str, Any], where: Where) -> str:
    return (opt_str(related, "id", where) or "").upper()


def _targets(raw_id: str, related: list[tuple[dict[str, Any], Where]], where: Where) -> list[tuple[str, Where]]:
    """The CVE ids a match stands for: its own id if a CVE, else the related CVEs, else the id."""
    if is_cve(raw_id.upper()):
        return [(raw_id, where.at("vulnerability"))]
    found: dict[str, Where] = {}
    for entry, entry_where in related:
        related_id = _related_id(entry, entry_where)
        if is_cve(related_id):
            found.setdefault(related_id, entry_where)
    return sorted(found.items()) or [(raw_id, where.at("vulnerability"))]


def _first_named(related: list[tuple[dict[str, Any], Where]], cve: str) -> list[tuple[dict[str, Any], Where]]:
    """The related records, the one describing `cve` first: where severity and CVSS fall back to."""
    return sorted(related, key=lambda entry: _related_id(*entry) != cve.upper())


def _severity(sources: list[tuple[dict[str, Any], Where]]) -> str:
    """The first known severity: the match's own, else its related records' (a CVE that NVD has
    not rated yet takes the GHSA's)."""
    for record, _ in sources:
        severity = severity_of(record.get("severity"))
        if severity != "unknown":
            return severity
    return "unknown"


def _package(artifact: dict[str, Any], where: Where, scan: _Scan) -> _Package:
    """An OS package is known by name (and arch); any other by name and where it was found,
    with the installed version taken out of its paths."""
    name = opt_str(artifact, "name", where)
    version = opt_str(artifact, "version", where)
    purl = clean_purl(opt_str(artifact, "purl", where))
    kind = (opt_str(artifact, "type", where) or "").lower()
    if kind in OS_PACKAGE_TYPES:
        key: tuple[Any, ...] = ("os-pkgs", package_key(name or "", purl_type(purl) or kind), purl_arch(purl))
        scope = f"os-pkgs:{scan.distro}" if scan.distro else f"grype-source:{scan.source}"
        return _Package(key, name, version, purl, scope)
    paths = sorted(
        versionless(opt_str(as_obj(item, where.at("locations").at(i)), "path", where), version)
        for i, item in enumerate(as_list(artifact.get("locations"), where.at("locations")))
    )
    return _Package(("pkg", name or "", *paths), name, version, purl, f"grype-source:{scan.source}")


def _fix_refs(vuln: dict[str, Any], where: Where) -> list[str]:
    """Vendor advisories of `advisories[].id` (RHSA, USN, DSA...). relatedVulnerabilities are
    aliases of the flaw, not fixes."""
    advisories_where = where.at("advisories")
    items = as_list(vuln.get("advisories"), advisories_where)
    return unique(
        fix_ref(opt_str(as_obj(item, advisories_where.at(i)), "id", advisories_where.at(i)))
        for i, item in enumerate(items)
    )


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
