"""Nessus v2 XML (`.nessus`), streamed with defusedxml iterparse: each ReportHost → one
observation and one scan; each ReportItem of severity ≥ 1 → one finding per CVE (or per plugin)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from reporter.importers._common import (
    AssetResolver,
    Where,
    check_size,
    compact,
    cvss_score,
    cvss_vector,
    iso,
    parse_timestamp,
    scan_time,
    severity_of,
    stable_id,
    start,
    vuln_id,
)
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="nessus-xml",
    tool="Tenable Nessus",
    kinds=("observations", "scans", "findings"),
    tested_versions="NessusClientData_v2 (Nessus 5.2 export; newer HOST_*_TIMESTAMP and cvss3 tags)",
    produce_with="Nessus UI or API: export the scan as 'Nessus' (.nessus)",
    notes="asset_id is the ReportHost name: list it (or use it) in the inventory. HOST_START/"
    "HOST_END without a zone are read as UTC.",
    extensions=(".nessus", ".xml"),
)

_ROOT = "NessusClientData_v2"
_CREDENTIALED = re.compile(r"Credentialed checks\s*:\s*(yes|no)", re.IGNORECASE)
_INSTALLED = re.compile(r"^\s*Installed version\s*:\s*(\S.{0,199}?)\s*$", re.MULTILINE)
_FIXED = re.compile(r"^\s*Fixed version\s*:\s*(\S.{0,199}?)\s*$", re.MULTILINE)
_SCAN_INFO_PLUGIN = "19506"  # "Nessus Scan Information": says whether checks were credentialed


@dataclass(frozen=True)
class _Host:
    """What the records of one ReportHost share."""

    name: str
    asset: str
    at: datetime


class NessusImporter:
    """Reads one .nessus file host by host."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield, per host, its observation, its scan and its findings."""
        where = start(context)
        check_size(path, where, context.limits.max_bytes)
        try:
            with path.open("rb") as handle:
                yield from _hosts(handle, where, context)
        except ParseError as exc:
            line, _ = exc.position
            raise where.on_line(line).error(f"is not well-formed XML ({_reason(exc)})") from None
        except DefusedXmlException:
            raise where.error("uses a DTD or entities, which are refused in evidence") from None
        except OSError as exc:
            raise where.error(f"cannot be read ({type(exc).__name__})") from None


def _hosts(handle: IO[bytes], where: Where, context: ImportContext) -> Iterator[ImportedRecord]:
    """Stream the document: each ReportHost is mapped, then cleared to keep memory flat."""
    resolve = AssetResolver(context)
    hosts = 0
    root_checked = False
    for event, element in iterparse(handle, events=("start", "end"), forbid_dtd=True):
        if event == "start":
            if not root_checked and element.tag != _ROOT:
                raise where.error(f"is not a Nessus v2 file (the root element is not {_ROOT})")
            root_checked = True
        elif element.tag == "ReportHost":
            yield from _host(element, where.at("ReportHost").at(hosts), context, resolve)
            hosts += 1
            element.clear()
        elif element.tag == "Policy":
            element.clear()  # scan settings: nothing for the evidence


def _reason(exc: ParseError) -> str:
    """Expat's message without its position suffix (the line is reported separately)."""
    return str(exc).split(":")[0]


def _host(element: Element, where: Where, context: ImportContext, resolve: AssetResolver) -> Iterator[ImportedRecord]:
    name = (element.get("name") or "").strip()
    if not name:
        raise where.error("has no name attribute")
    tags = _properties(element)
    host = _Host(name, resolve(name, where), _host_time(tags, where, context))
    yield ImportedRecord("observations", _observation(host, context), str(where))
    yield ImportedRecord("scans", _scan(host, _authenticated(element, tags)), str(where))
    for i, item in enumerate(element.findall("ReportItem")):
        yield from _findings(item, where.at("ReportItem").at(i), host)


def _properties(element: Element) -> dict[str, str]:
    properties = element.find("HostProperties")
    if properties is None:
        return {}
    return {t.get("name") or "": (t.text or "").strip() for t in properties.findall("tag")}


def _host_time(tags: dict[str, str], where: Where, context: ImportContext) -> datetime:
    """End of the host scan: the epoch tags of newer files first (they carry no zone doubt),
    then the ctime strings, which have no zone and are read as UTC."""
    for key in ("HOST_END_TIMESTAMP", "HOST_END", "HOST_START_TIMESTAMP", "HOST_START"):
        moment = parse_timestamp(tags.get(key), where.at(f"HostProperties.{key}"))
        if moment:
            return moment
    return scan_time(None, context, where.at("HostProperties.HOST_END"), "the host scan time")


def _authenticated(element: Element, tags: dict[str, str]) -> bool:
    """Credentialed_Scan, else plugin 19506's "Credentialed checks" line; unknown counts as not."""
    if "Credentialed_Scan" in tags:
        return tags["Credentialed_Scan"].lower() == "true"
    for item in element.findall("ReportItem"):
        if item.get("pluginID") == _SCAN_INFO_PLUGIN:
            match = _CREDENTIALED.search(item.findtext("plugin_output") or "")
            return bool(match and match[1].lower() == "yes")
    return False


def _observation(host: _Host, context: ImportContext) -> dict[str, Any]:
    data = {
        "id": stable_id("nessus", "observation", host.name, iso(host.at)),
        "asset_key": host.name,
        "asset_id": context.asset_id,
        "source": "nessus",
        "source_type": "scanner",
        "observed_at": iso(host.at),
    }
    return compact(data)


def _scan(host: _Host, authenticated: bool) -> dict[str, Any]:
    return {
        "id": stable_id("nessus", "scan", host.asset, iso(host.at)),
        "asset_id": host.asset,
        "tool": "nessus",
        "authenticated": authenticated,
        "completed_at": iso(host.at),
        "status": "completed",
    }


def _findings(item: Element, where: Where, host: _Host) -> Iterator[ImportedRecord]:
    level = (item.get("severity") or "").strip()
    if level not in ("0", "1", "2", "3", "4"):
        raise where.error("has a severity attribute that is not 0-4")
    if level == "0":
        return  # informational plugins report no vulnerability
    plugin = (item.get("pluginID") or "").strip()
    plugin_id = vuln_id(f"nessus:{plugin}", "nessus", where.at("pluginID"))
    port, protocol = item.get("port") or "", item.get("protocol") or ""
    cves = sorted({vuln_id(c.text or "", "nessus", where.at("cve")) for c in item.findall("cve")})
    output = item.findtext("plugin_output") or ""
    common = {
        "asset_id": host.asset,
        "installed_version": _first(_INSTALLED, output),
        "fixed_version": _first(_FIXED, output),
        "severity": severity_of(int(level)),
        **_cvss(item),
        **_exploitation(item),
        "patch_released_at": iso(
            parse_timestamp(item.findtext("patch_publication_date"), where.at("patch_publication_date"))
        ),
        "first_detected_at": iso(host.at),
        "last_seen_at": iso(host.at),
        "state": "open",
        "source": "nessus",
    }
    for vuln in cves or [plugin_id]:
        data = common | {
            "id": stable_id("nessus", "finding", host.asset, plugin, port, protocol, vuln),
            "vuln_id": vuln,
        }
        yield ImportedRecord("findings", compact(data), str(where))


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match[1] if match else None


def _cvss(item: Element) -> dict[str, Any]:
    """CVSS v3 when given (a vector without prefix is taken as 3.0), else v2 (`CVSS2#` removed)."""
    for vector_tag, score_tag, version in (
        ("cvss3_vector", "cvss3_base_score", "3.0"),
        ("cvss_vector", "cvss_base_score", None),
    ):
        vector = cvss_vector(item.findtext(vector_tag), version)
        if vector:
            return {
                "cvss_vector": vector,
                "cvss_score": cvss_score(_number(item.findtext(score_tag))),
            }
    return {}


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text and re.fullmatch(r"\s*\d{1,2}(\.\d+)?\s*", text) else None
    except ValueError:
        return None


def _exploitation(item: Element) -> dict[str, Any]:
    """exploited_by_malware → SSVC active; exploit_available → poc; otherwise unknown (no claim)."""
    if (item.findtext("exploited_by_malware") or "").strip().lower() == "true":
        return {"ssvc_exploitation": "active"}
    if (item.findtext("exploit_available") or "").strip().lower() == "true":
        return {"ssvc_exploitation": "poc"}
    return {}


IMPORTER = NessusImporter()
