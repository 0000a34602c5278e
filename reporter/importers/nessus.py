"""Nessus v2 XML (`.nessus`), streamed with defusedxml iterparse: the Policy → the plugin families
and plugins every host's scan covered; each ReportHost → one observation and one scan; each
ReportItem of severity ≥ 1 → one finding per CVE (or per plugin), and per package when a Linux
local check names the packages."""

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
    first_char,
    iso,
    parse_timestamp,
    scan_time,
    severity_of,
    stable_id,
    start,
    vuln_id,
)
from reporter.importers._packages import add_sighting, build_purl, fix_ref, fix_refs_in, package_key, unique
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="nessus-xml",
    tool="Tenable Nessus",
    kinds=("observations", "scans", "findings"),
    tested_versions="NessusClientData_v2 (Nessus 5.2-10.x exports: DefectDojo, python-libnessus, "
    "pyTenable samples; HOST_*_TIMESTAMP and cvss3 tags)",
    produce_with="Nessus UI or API: export the scan as 'Nessus' (.nessus)",
    notes="asset_id is the ReportHost name: list it (or use it) in the inventory. HOST_START/"
    "HOST_END without a zone are read as UTC.",
    extensions=(".nessus", ".xml"),
)

_ROOT = "NessusClientData_v2"
_OTHER_ROOTS = {
    "NessusClientData": "a Nessus v1 (.nessus v1) file; export as 'Nessus' (v2)",
    "report": "an OpenVAS/Greenbone report",
    "get_reports_response": "an OpenVAS/Greenbone GMP response",
    "nmaprun": "an Nmap XML report",
    "bom": "a CycloneDX XML document",
}
_CREDENTIALED = re.compile(r"Credentialed checks\s*:\s*(yes|no)", re.IGNORECASE)
_VALUE = r"\s*:\s*(\S.{0,199}?)\s*$"
_INSTALLED = re.compile(rf"^\s*(?:Installed|Remote) version{_VALUE}", re.MULTILINE | re.IGNORECASE)
_FIXED = re.compile(rf"^\s*(?:Fixed version|Should be){_VALUE}", re.MULTILINE | re.IGNORECASE)
_PRODUCT = re.compile(rf"^\s*(?:Product|Path){_VALUE}", re.MULTILINE)
_KB_IN_OUTPUT = re.compile(r"\bKB\s*:?\s*(\d{6,7})\b")
# Linux local checks: Debian and RPM plugins write "Remote package installed : X / Should be : Y",
# Ubuntu plugins "- Installed package : X / - Fixed package : Y" (Tenable's debian_package.inc, rpm.inc).
_PACKAGE_PAIR = re.compile(
    r"^[ \t]*-?[ \t]*(?:Remote package installed|Installed package)[ \t]*:[ \t]*(\S{1,200})[ \t]*\r?\n"
    r"[ \t]*-?[ \t]*(?:Should be|Fixed package)[ \t]*:[ \t]*(\S{1,200})",
    re.MULTILINE,
)
# Plugin family → (purl type, namespace): deb packages are written name_version, rpms name-version-release.
_PACKAGE_FAMILIES: dict[str, tuple[str, str | None]] = {
    "Debian Local Security Checks": ("deb", "debian"),
    "Ubuntu Local Security Checks": ("deb", "ubuntu"),
    "Red Hat Local Security Checks": ("rpm", "redhat"),
    "CentOS Local Security Checks": ("rpm", "centos"),
    "Oracle Linux Local Security Checks": ("rpm", "oracle"),
    "Fedora Local Security Checks": ("rpm", "fedora"),
    "Amazon Linux Local Security Checks": ("rpm", "amazon"),
    "Alma Linux Local Security Checks": ("rpm", "alma"),
    "Rocky Linux Local Security Checks": ("rpm", "rocky"),
    "Scientific Linux Local Security Checks": ("rpm", None),
    "SuSE Local Security Checks": ("rpm", None),  # SUSE and openSUSE share the family
}
# xref types whose values are vendor fix ids (ALAS is left out: Tenable writes Amazon Linux 2's
# ALAS2-… advisories as ALAS too).
_XREF_FIXES = {
    "MSFT": "{}",
    **{kind: f"{kind}-{{}}" for kind in ("RHSA", "CESA", "ELSA", "ALSA", "RLSA", "USN", "DSA", "DLA")},
}
_SCAN_INFO_PLUGIN = "19506"  # "Nessus Scan Information": says whether checks were credentialed


@dataclass(frozen=True)
class _Host:
    """What the records of one ReportHost share."""

    name: str
    asset: str
    at: datetime
    scan_id: str


@dataclass(frozen=True)
class _Package:
    """A package a Linux local check names: installed and fixed version, and its purl."""

    name: str
    installed: str | None
    fixed: str | None
    ecosystem: str
    purl: str | None


class NessusImporter:
    """Reads one .nessus file host by host."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield, per host, its observation, its scan and its findings."""
        where = start(context)
        check_size(path, where, context.limits.max_bytes)
        if first_char(path, where) in ("{", "["):
            raise where.error("is JSON, not a Nessus v2 XML file (export the scan as 'Nessus')")
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
    """Stream the document: the Policy's selection is kept as a short list of scope keys, and
    each ReportHost is mapped, then cleared, so that memory stays flat."""
    resolve = AssetResolver(context)
    hosts = 0
    root_checked = False
    scope_keys: set[str] = set()
    for event, element in iterparse(handle, events=("start", "end"), forbid_dtd=True):
        if event == "start":
            if not root_checked and element.tag != _ROOT:
                seen = _OTHER_ROOTS.get(element.tag)
                raise where.error(
                    f"is not a Nessus v2 file: it looks like {seen}"
                    if seen
                    else f"is not a Nessus v2 file (the root element is not {_ROOT})"
                )
            root_checked = True
        elif element.tag == "ReportHost":
            yield from _host(element, where.at("ReportHost").at(hosts), context, resolve, sorted(scope_keys))
            hosts += 1
            element.clear()
        elif element.tag in ("FamilyItem", "PluginItem"):
            scope_keys.update(_selected(element))
            element.clear()
        elif element.tag in ("Policy", "preference", "item"):
            element.clear()  # scan settings and plugin preferences (most of a policy): not kept


def _selected(element: Element) -> list[str]:
    """The scope key of an enabled plugin family or individually enabled plugin of the Policy."""
    if (element.findtext("Status") or "").strip().lower() != "enabled":
        return []
    if element.tag == "FamilyItem":
        family = (element.findtext("FamilyName") or "").strip()
        return [f"nessus-family:{family}"] if family else []
    plugin = (element.findtext("PluginId") or "").strip()
    return [f"nessus-plugin:{plugin}"] if plugin.isdigit() else []


def _reason(exc: ParseError) -> str:
    """Expat's message without its position suffix (the line is reported separately)."""
    return str(exc).split(":")[0]


def _host(
    element: Element, where: Where, context: ImportContext, resolve: AssetResolver, scope_keys: list[str]
) -> Iterator[ImportedRecord]:
    name = (element.get("name") or "").strip()
    if not name:
        raise where.error("has no name attribute")
    tags = _properties(element)
    asset, at = resolve(name, where), _host_time(tags, where, context)
    host = _Host(name, asset, at, stable_id("nessus", "scan", asset, iso(at)))
    yield ImportedRecord("observations", _observation(host, context), str(where))
    yield ImportedRecord("scans", _scan(host, _authenticated(element, tags), scope_keys), str(where))
    kept: dict[str, ImportedRecord] = {}
    for i, item in enumerate(element.findall("ReportItem")):
        for record in _findings(item, where.at("ReportItem").at(i), host):
            add_sighting(kept, record.data["id"], record)  # one plugin, one port, two PHP installs
    yield from kept.values()


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


def _scan(host: _Host, authenticated: bool, scope_keys: list[str]) -> dict[str, Any]:
    data = {
        "id": host.scan_id,
        "asset_id": host.asset,
        "tool": "nessus",
        "authenticated": authenticated,
        "completed_at": iso(host.at),
        "status": "completed",
        "target": host.name,
        "scope_keys": scope_keys,
    }
    return compact(data)


def _findings(item: Element, where: Where, host: _Host) -> Iterator[ImportedRecord]:
    level = (item.get("severity") or "").strip()
    if level not in ("0", "1", "2", "3", "4"):
        raise where.error("has a severity attribute that is not 0-4")
    if level == "0":
        return  # informational plugins report no vulnerability
    plugin = (item.get("pluginID") or "").strip()
    plugin_id = vuln_id(f"nessus:{plugin}", "nessus", where.at("pluginID"))
    port, protocol = item.get("port") or "", item.get("protocol") or ""
    family = (item.get("pluginFamily") or "").strip()
    cves = sorted({vuln_id(c.text or "", "nessus", where.at("cve")) for c in item.findall("cve")})
    output = item.findtext("plugin_output") or ""
    common = {
        "asset_id": host.asset,
        **_versions(output),
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
        "scan_id": host.scan_id,
        "scope_keys": unique([f"nessus-family:{family}" if family else None, f"nessus-plugin:{plugin}"]),
        "fix_refs": _fix_refs(item, output),
    }
    components = _components(_packages(output, family))
    for vuln in cves or [plugin_id]:
        for component_key, fields in components:
            key = (host.asset, plugin, port, protocol, vuln, *component_key)
            data = common | fields | {"id": stable_id("nessus", "finding", *key), "vuln_id": vuln}
            yield ImportedRecord("findings", compact(data), str(where))


def _components(packages: list[_Package]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """(id key part, fields) per finding of one CVE: one per named package, each with its own
    versions and purl; without packages one, keyed as before packages were read."""
    if not packages:
        return [((), {})]
    return [
        (
            (package_key(p.name, p.ecosystem),),
            {"package": p.name, "installed_version": p.installed, "fixed_version": p.fixed, "purl": p.purl},
        )
        for p in packages
    ]


def _versions(output: str) -> dict[str, Any]:
    """Installed and fixed versions written in the plugin output ("Installed version :",
    "Remote version :", "Fixed version :", "Should be :"), every distinct one in order, joined
    with ", "; the product (or path) when the output names a single one."""
    installed = unique(m[1] for m in _INSTALLED.finditer(output))
    products = unique(m[1] for m in _PRODUCT.finditer(output))
    return {
        "package": products[0] if len(products) == 1 else None,
        "installed_version": ", ".join(installed) or None,
        "fixed_version": ", ".join(unique(m[1] for m in _FIXED.finditer(output))) if installed else None,
    }


def _packages(output: str, family: str) -> list[_Package]:
    """The packages a Linux local check of a known family names, in order, each once."""
    ecosystem = _PACKAGE_FAMILIES.get(family)
    if ecosystem is None:
        return []
    found: dict[str, _Package] = {}
    for match in _PACKAGE_PAIR.finditer(output):
        package = _package(match[1], match[2], *ecosystem)
        if package is not None:
            found.setdefault(package.name, package)
    return list(found.values())


def _package(installed: str, fixed: str, kind: str, namespace: str | None) -> _Package | None:
    """`libssl3_3.0.2-0ubuntu1.10` (deb) or `openssh-5.3p1-81.el6` (rpm) → name and versions."""
    name, installed_version = _split_package(installed, kind)
    if not name or not installed_version:
        return None
    fixed_version = _split_package(fixed, kind)[1]
    purl = build_purl(kind, namespace, name, installed_version)
    return _Package(name, installed_version, fixed_version, kind, purl)


def _split_package(text: str, kind: str) -> tuple[str | None, str | None]:
    if kind == "deb":
        name, _, version = text.partition("_")
        return (name, version) if name and version else (None, None)
    parts = text.rsplit("-", 2)  # name-version-release; names may contain hyphens
    if len(parts) != 3 or not all(parts):
        return None, None
    return parts[0], f"{parts[1]}-{parts[2]}"


def _fix_refs(item: Element, output: str) -> list[str]:
    """KB numbers and bulletins (`<xref>MSKB:…`, `<mskb>`, `<msft>`, else `KB : NNN` in the output)
    and vendor advisories (RHSA, USN, DSA… in xref or see_also)."""
    refs = [fix_ref((e.text or "").strip(), kb_digits=True) for e in item.findall("mskb")]
    refs += [fix_ref(e.text) for e in item.findall("msft")]
    for xref in item.findall("xref"):
        kind, _, value = (xref.text or "").strip().partition(":")
        if kind == "MSKB":
            refs.append(fix_ref(value, kb_digits=True))
        elif kind in _XREF_FIXES:
            refs.append(fix_ref(_XREF_FIXES[kind].format(value.strip())))
    for see_also in item.findall("see_also"):
        refs += fix_refs_in(see_also.text)
    if not any(ref and ref.startswith("KB") for ref in refs):
        refs += [fix_ref(m[1], kb_digits=True) for m in _KB_IN_OUTPUT.finditer(output)]
    return unique(refs)


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
