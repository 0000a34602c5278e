"""CycloneDX JSON with vulnerabilities (SBOM + VDR, or a standalone VEX) → findings, one per
(vulnerability, affected ref, version or range, VEX state), with the VEX analysis as vex_status;
a GHSA or vendor id the document links to a CVE (`references`) is reported as that CVE."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote

from reporter.importers._common import (
    Where,
    as_list,
    as_obj,
    asset_id,
    compact,
    cvss_score,
    cvss_vector,
    is_cve,
    iso,
    load_json,
    opt_float,
    opt_obj,
    opt_str,
    scan_time,
    severity_from_score,
    severity_of,
    stable_id,
    start,
    timestamp_at,
    vuln_id,
)
from reporter.importers._packages import clean_purl, not_this_format, unique
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="cyclonedx-json",
    tool="CycloneDX",
    kinds=("findings",),
    tested_versions="spec 1.4-1.6: CISA VEX use case 8 (1.4, no metadata); grype 0.41 and Trivy output; "
    "tools as array (1.4) or object (1.5+)",
    produce_with="trivy image --format cyclonedx --scanners vuln IMAGE, "
    "grype IMAGE -o cyclonedx-json, or a supplier's VEX document",
    notes="Components only name the packages of findings. A VEX without metadata needs asset_id and collected_at.",
    extensions=(".json", ".cdx.json"),
)

_ANALYSIS = {
    "exploitable": "affected",
    "in_triage": "under_investigation",
    "false_positive": "false_positive",
    "not_affected": "not_affected",
    "resolved": "fixed",
    "resolved_with_pedigree": "fixed",
}
_VERSION_STATUS = {"affected": "affected", "unaffected": "not_affected"}
_METHODS = {"CVSSv31": (0, "3.1"), "CVSSv3": (1, "3.0"), "CVSSv4": (2, "4.0"), "CVSSv2": (3, None)}
_BOM_LINK = re.compile(r"urn:cdx:([^/#]+)/\d+#(.+)")
_FIXED_VERSIONS = "grype:fixed_versions"  # grype 0.41-0.7x wrote the fix versions as a property


class _Component(NamedTuple):
    name: str | None
    version: str | None
    purl: str | None


@dataclass(frozen=True)
class _Bom:
    """What the findings of one document share."""

    asset: str
    at: datetime
    source: str
    serial: str  # the uuid of serialNumber, to tell local BOM-Links from foreign ones
    components: dict[str, _Component]  # bom-ref → the component


class CycloneDxImporter:
    """Reads one CycloneDX JSON document."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield the findings of its vulnerabilities."""
        where = start(context)
        document = load_json(path, context)
        if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
            raise where.at("bomFormat").error(not_this_format("a CycloneDX JSON document", document, "not 'CycloneDX'"))
        vulns_where = where.at("vulnerabilities")
        vulnerabilities = as_list(document.get("vulnerabilities"), vulns_where)
        if not vulnerabilities:
            return
        bom = _bom(document, where, context)
        yield from _merged(
            finding
            for i, item in enumerate(vulnerabilities)
            for finding in _findings(as_obj(item, vulns_where.at(i)), vulns_where.at(i), bom)
        )


def _merged(findings: Iterable[tuple[bool, ImportedRecord]]) -> Iterator[ImportedRecord]:
    """One finding per CVE and affected version: an object listed under its own CVE id wins over
    one that names the CVE as a reference (a GHSA), and takes from it what it lacks (severity,
    CVSS, fixed version). Two CVE statements that disagree are both passed on: `collect` refuses them."""
    kept: dict[str, tuple[bool, ImportedRecord]] = {}
    for direct, record in findings:
        previous = kept.get(record.data["id"])
        if previous is None:
            kept[record.data["id"]] = (direct, record)
        elif direct and not previous[0]:
            kept[record.data["id"]] = (direct, _filled(record, previous[1]))
        elif not direct and previous[0]:
            kept[record.data["id"]] = (True, _filled(previous[1], record))
        elif direct and previous[1].data != record.data:
            yield previous[1]
            kept[record.data["id"]] = (direct, record)
    yield from (record for _, record in kept.values())


def _filled(own: ImportedRecord, alias: ImportedRecord) -> ImportedRecord:
    data = dict(own.data)
    if data.get("severity") == "unknown":
        data["severity"] = alias.data.get("severity", "unknown")
    if "cvss_vector" not in data and "cvss_vector" in alias.data:
        data.update({k: alias.data[k] for k in ("cvss_vector", "cvss_score") if k in alias.data})
    if "fixed_version" not in data and "fixed_version" in alias.data:
        data["fixed_version"] = alias.data["fixed_version"]
    return ImportedRecord(own.kind, data, own.location)


def _bom(document: dict[str, Any], where: Where, context: ImportContext) -> _Bom:
    meta_where = where.at("metadata")
    metadata = opt_obj(document, "metadata", where)
    subject = opt_obj(metadata, "component", meta_where)
    components: dict[str, _Component] = {}
    _index(subject, meta_where.at("component"), components)
    _index_all(document.get("components"), where.at("components"), components)
    return _Bom(
        asset=asset_id(opt_str(subject, "name", meta_where), context, meta_where.at("component.name")),
        at=scan_time(
            timestamp_at(metadata, "timestamp", meta_where),
            context,
            meta_where.at("timestamp"),
            "the BOM time",
        ),
        source=_producer(metadata, meta_where),
        serial=(opt_str(document, "serialNumber", where) or "").removeprefix("urn:uuid:"),
        components=components,
    )


def _index(component: dict[str, Any], where: Where, out: dict[str, _Component]) -> None:
    ref = opt_str(component, "bom-ref", where)
    if ref:
        purl = clean_purl(opt_str(component, "purl", where))
        out.setdefault(ref, _Component(opt_str(component, "name", where), opt_str(component, "version", where), purl))
    _index_all(component.get("components"), where.at("components"), out)


def _index_all(items: Any, where: Where, out: dict[str, _Component]) -> None:
    for i, item in enumerate(as_list(items, where)):
        _index(as_obj(item, where.at(i)), where.at(i), out)


def _producer(metadata: dict[str, Any], where: Where) -> str:
    """The first tool's name: `tools` is an array in 1.4 and {components, services} in 1.5+."""
    tools = metadata.get("tools")
    if isinstance(tools, dict):
        tools = as_list(tools.get("components"), where.at("tools.components")) + as_list(
            tools.get("services"), where.at("tools.services")
        )
    for i, tool in enumerate(as_list(tools, where.at("tools"))):
        name = opt_str(as_obj(tool, where.at("tools").at(i)), "name", where.at("tools").at(i))
        if name:
            return name.lower()
    return "cyclonedx"


def _findings(vuln: dict[str, Any], where: Where, bom: _Bom) -> Iterator[tuple[bool, ImportedRecord]]:
    """(whether the object is the CVE's own, record) per CVE the object stands for and affected
    version."""
    raw_id = opt_str(vuln, "id", where)
    if raw_id is None:
        raise where.at("id").error("is missing")
    own = vuln_id(raw_id, "cyclonedx", where.at("id"))
    analysis = opt_obj(vuln, "analysis", where)
    state = opt_str(analysis, "state", where.at("analysis"))
    common = {
        "asset_id": bom.asset,
        **_rating(vuln, where),
        "fixed_version": _fixed_versions(vuln, where),
        "first_detected_at": iso(bom.at),
        "last_seen_at": iso(bom.at),
        "source": bom.source,
    }
    for canonical in _aliases(own, vuln, where):
        for ref, version, status, at in _affected(vuln, where):
            vex = _ANALYSIS.get(state or "") or _VERSION_STATUS.get(status or "")
            component = _component(ref, bom)
            data = common | {
                "id": stable_id("cyclonedx", bom.asset, canonical, ref, version, state or status),
                "vuln_id": canonical,
                "package": component.name,
                "installed_version": version or component.version,
                "purl": component.purl,
                "vex_status": vex,
                "state": "closed" if vex == "fixed" else "open",
            }
            if vex == "fixed":
                closed = timestamp_at(analysis, "lastUpdated", where.at("analysis")) or timestamp_at(
                    analysis, "firstIssued", where.at("analysis")
                )
                data["closed_at"] = iso(closed)
            yield canonical == own, ImportedRecord("findings", compact(data), str(at))


def _aliases(own: str, vuln: dict[str, Any], where: Where) -> list[str]:
    """The CVEs a vulnerability object stands for: its own id if a CVE, else the CVEs its
    `references` name (the same flaw under another id), else its own id."""
    if is_cve(own):
        return [own]
    refs_where = where.at("references")
    named = [
        (opt_str(as_obj(item, refs_where.at(i)), "id", refs_where.at(i)) or "").strip().upper()
        for i, item in enumerate(as_list(vuln.get("references"), refs_where))
    ]
    return sorted({cve for cve in named if is_cve(cve)}) or [own]


def _fixed_versions(vuln: dict[str, Any], where: Where) -> str | None:
    """grype's `grype:fixed_versions` property (comma-separated), joined with ", "."""
    props_where = where.at("properties")
    for i, item in enumerate(as_list(vuln.get("properties"), props_where)):
        prop = as_obj(item, props_where.at(i))
        if opt_str(prop, "name", props_where.at(i)) == _FIXED_VERSIONS:
            value = opt_str(prop, "value", props_where.at(i)) or ""
            return ", ".join(unique(v.strip() for v in value.split(","))) or None
    return None


def _affected(vuln: dict[str, Any], where: Where) -> Iterator[tuple[str, str | None, str | None, Where]]:
    """(ref, version or vers: range, version status, position) per affected version; a ref
    without versions, or a vulnerability without `affects` (the BOM's subject), gives one."""
    affects_where = where.at("affects")
    affects = as_list(vuln.get("affects"), affects_where)
    if not affects:
        yield "", None, None, where
    for i, item in enumerate(affects):
        entry_where = affects_where.at(i)
        entry = as_obj(item, entry_where)
        ref = opt_str(entry, "ref", entry_where)
        if ref is None:
            raise entry_where.at("ref").error("is missing")
        versions = as_list(entry.get("versions"), entry_where.at("versions"))
        if not versions:
            yield ref, None, None, entry_where
        for j, version_item in enumerate(versions):
            version_where = entry_where.at("versions").at(j)
            version = as_obj(version_item, version_where)
            exact = opt_str(version, "version", version_where) or opt_str(version, "range", version_where)
            yield ref, exact, opt_str(version, "status", version_where), version_where


def _component(ref: str, bom: _Bom) -> _Component:
    """The component a ref names: a local one, else the BOM-Link's bom-ref fragment."""
    if ref in bom.components:
        return bom.components[ref]
    link = _BOM_LINK.fullmatch(ref)
    if link is None:
        return _Component(ref or None, None, clean_purl(ref))
    fragment = unquote(link[2])
    if link[1] == bom.serial and fragment in bom.components:
        return bom.components[fragment]
    return _Component(fragment, None, None)


def _rating(vuln: dict[str, Any], where: Where) -> dict[str, Any]:
    """Severity, vector and score of the preferred rating: CVSS v3.1, v3.0, v4, v2, then other."""
    ratings_where = where.at("ratings")
    best: tuple[tuple[int, int], dict[str, Any], Where] | None = None
    for i, item in enumerate(as_list(vuln.get("ratings"), ratings_where)):
        rating = as_obj(item, ratings_where.at(i))
        rank = _METHODS.get(opt_str(rating, "method", ratings_where.at(i)) or "", (4, None))[0]
        if best is None or (rank, i) < best[0]:
            best = ((rank, i), rating, ratings_where.at(i))
    if best is None:
        return {"severity": "unknown"}
    _, rating, rating_where = best
    method = _METHODS.get(opt_str(rating, "method", rating_where) or "")
    score = cvss_score(opt_float(rating, "score", rating_where)) if method else None
    word = opt_str(rating, "severity", rating_where)
    return {
        "severity": severity_of(word) if word else severity_from_score(score),
        "cvss_vector": cvss_vector(rating.get("vector"), method[1]) if method else None,
        "cvss_score": score,
    }


IMPORTER = CycloneDxImporter()
