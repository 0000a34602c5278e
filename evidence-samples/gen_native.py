"""Tool files of a Northwind quarter, written as the tools write them and read through the project's
importers (docs/importers.md), so the quick start exercises the importers as well as the readers:

- `intel/known_exploited_vulnerabilities.json` (kev-json): the CISA KEV catalog slice of the CVEs the
  findings name, dates as published, `count` equal to the entries;
- `intel/epss_scores-<end>.csv` (epss-csv): the FIRST EPSS scores of those CVEs, with the
  `#model_version:…,score_date:…` first line;
- `scans/trivy-<image>.json` (trivy-json): nightly Trivy image scans of two inventoried images (the
  manifest's `asset_id` names the image asset; `ArtifactName` is the image reference). Each yields one
  scan and open findings detected four days before the period end: not yet due under any rule, and on
  vulnerabilities no other record of that image names, so they are clean for every control;
- `secrets/gitleaks-<repo>.json` (gitleaks-json): a scheduled Gitleaks run over one repository. Its
  two leaks are never revoked and the report links no identity: planted NHI-02 and INV-07 gaps.

Record ids are the importers' (`trivy:`/`gitleaks:` + hash): the generator runs the importer on the
exact bytes it writes and plants, checks and documents those records; `gen_writers` reads every tool
file again with the manifest entry as written. The secrets in the Gitleaks report are obvious dummies
(`dummy-not-a-secret-NNNN`); the importer drops them anyway.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gen_catalog import Vuln
from gen_core import Clock, Record, SourceSpec, fmt_ts
from oracle import tool_records

from reporter.models.kinds import get_kind
from reporter.models.manifest import Source

if TYPE_CHECKING:
    from gen_world import World

KEV_PATH = "intel/known_exploited_vulnerabilities.json"
TRIVY_IMAGES = ("payments-api", "notifications")  # apps of inventoried images (a-img-005, a-img-010)
GITLEAKS_REPO = "infra-terraform"  # a-repo-007
EPSS_MODEL = "v2025.03.14"
SEVERITIES = ("critical", "high", "medium", "low")
# (severity, ecosystem: the image's base OS or its language) of what each Trivy report finds.
TRIVY_MIX = {
    "payments-api": (("critical", "lang"), ("high", "lang"), ("medium", "os"), ("low", "os")),
    "notifications": (("high", "lang"), ("medium", "os"), ("medium", "lang")),
}


def tool_note(spec: SourceSpec) -> str:
    """What the README says about a tool file."""
    if spec.format == "kev-json":
        return "CISA feed JSON; `count` = entries"
    if spec.format == "epss-csv":
        return "FIRST daily file with its comment line"
    if spec.format == "trivy-json":
        return f"`asset_id: {spec.asset_id}`; clean"
    if spec.format == "gitleaks-json":
        return f"`asset_id: {spec.asset_id}`; leaks never revoked (NHI-02, INV-07 plant)"
    raise ValueError(f"no note for {spec.format}")


def epss_path(clock: Clock) -> str:
    return f"intel/epss_scores-{clock.end.isoformat()}.csv"


def trivy_path(app: str) -> str:
    return f"scans/trivy-{app}.json"


def gitleaks_path(repo: str) -> str:
    return f"secrets/gitleaks-{repo}.json"


def tool_sources(c: Clock) -> list[tuple[str, str | None, str, str, datetime]]:
    """(path, kind of the canonical records it is made from, format, tool, collected_at) of every
    tool file; KEV and EPSS are built from the intel records, Trivy and Gitleaks directly."""
    exported = c.at(c.days)  # the bundle's export night, like the canonical files
    sources: list[tuple[str, str | None, str, str, datetime]] = [
        (KEV_PATH, "kev_entries", "kev-json", "CISA KEV catalog (feed slice of the CVEs in scope)", exported),
        (epss_path(c), "epss_scores", "epss-csv", "FIRST EPSS daily scores (slice of the CVEs in scope)", exported),
    ]
    sources += [
        (trivy_path(app), None, "trivy-json", "Trivy 0.56 image scan (nightly CI job)", exported + timedelta(hours=1))
        for app in TRIVY_IMAGES
    ]
    sources.append(
        (gitleaks_path(GITLEAKS_REPO), None, "gitleaks-json", "Gitleaks 8.21 scheduled repository scan", _leak_scan(c))
    )
    return sources


def _leak_scan(c: Clock) -> datetime:
    """The Gitleaks run: three days before the period end, well past the 24-hour revocation target."""
    return c.at(c.days - 3, 2, 30)


def _scan_time(c: Clock, n: int) -> str:
    """Trivy's CreatedAt (nanoseconds, as Trivy writes it), four days before the period end."""
    moment = c.at(c.days - 4, 2, 14 + 9 * n) + timedelta(seconds=37 - 21 * n)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{318204561 + 7919 * n:09d}Z"


# ---------------------------------------------------------------------------------------------
# Feeds


def kev_catalog(records: list[Record], released: datetime) -> bytes:
    """The CISA KEV catalog JSON (newest first, like the feed) of the canonical kev_entries."""
    versions = {r["catalog_version"] for r in records}
    if len(versions) != 1:
        raise ValueError(f"KEV slice mixes catalog versions {sorted(versions)}")
    entries = [
        {
            "cveID": r["id"],
            "vendorProject": r["vendor_project"],
            "product": r["product"],
            "vulnerabilityName": r["name"],
            "dateAdded": r["date_added"].isoformat(),
            "shortDescription": f"{r['name']}.",
            "requiredAction": r["required_action"],
            "dueDate": r["due_date"].isoformat(),
            "knownRansomwareCampaignUse": r["known_ransomware"].capitalize(),
            "notes": f"https://nvd.nist.gov/vuln/detail/{r['id']}",
            "cwes": [],
        }
        for r in sorted(records, key=lambda r: (r["date_added"], r["id"]), reverse=True)
    ]
    catalog = {
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": versions.pop(),
        "dateReleased": released.strftime("%Y-%m-%dT%H:%M:%S") + ".4451Z",
        "count": len(entries),
        "vulnerabilities": entries,
    }
    return (json.dumps(catalog, indent=4) + "\n").encode("utf-8")


def epss_file(records: list[Record]) -> bytes:
    """A FIRST EPSS daily file: the comment line, the header, one row per CVE (five decimals)."""
    models = {r["model_version"] for r in records}
    days = {r["score_date"] for r in records}
    if len(models) != 1 or len(days) != 1:
        raise ValueError("EPSS slice mixes model versions or score dates")
    day: date = days.pop()
    buffer = io.StringIO()
    buffer.write(f"#model_version:{models.pop()},score_date:{day.isoformat()}T00:00:00Z\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["cve", "epss", "percentile"])
    for r in sorted(records, key=lambda r: r["id"]):
        writer.writerow([r["id"], f"{r['epss']:.5f}", f"{r['percentile']:.5f}"])
    return buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Trivy

_OS = {"linux": ("debian", "12.7"), "alpine": ("alpine", "3.19.1")}
_LANG = {  # Trivy's result of a language ecosystem inside an image: (Target, Type)
    "maven": ("Java", "jar"),
    "npm": ("Node.js", "node-pkg"),
    "pypi": ("Python", "python-pkg"),
    "go": ("app/server", "gobinary"),
}
_DATA_SOURCES = {
    "debian": {
        "ID": "debian",
        "Name": "Debian Security Tracker",
        "URL": "https://salsa.debian.org/security-tracker-team/security-tracker",
    },
    "alpine": {"ID": "alpine", "Name": "Alpine Secdb", "URL": "https://secdb.alpinelinux.org/"},
    "maven": {
        "ID": "ghsa",
        "Name": "GitHub Security Advisory Maven",
        "URL": "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Amaven",
    },
    "npm": {
        "ID": "ghsa",
        "Name": "GitHub Security Advisory npm",
        "URL": "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Anpm",
    },
    "pypi": {
        "ID": "ghsa",
        "Name": "GitHub Security Advisory pip",
        "URL": "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Apip",
    },
    "go": {"ID": "govulndb", "Name": "The Go Vulnerability Database", "URL": "https://pkg.go.dev/vuln/"},
}


class _Hex:
    """Digests and ids for the tool documents, from the generator's seeded stream."""

    def __init__(self, w: World) -> None:
        self.rng = w.r("tool-files")

    def __call__(self, bits: int) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"


def pick_trivy_vulns(w: World, image: Record, mix: tuple[tuple[str, str], ...]) -> list[Vuln]:
    """CVEs of the image's platform that no record of this image names yet, one package each (no
    kernel: an image ships none)."""
    rng = w.r("tool-files")
    _, base, lang = w.platform[image["id"]].split(":")
    taken = set(w.vulns_on[image["id"]])
    packages: set[str] = set()
    chosen: list[Vuln] = []
    for severity, ecosystem in mix:
        pool = [
            v
            for v in w.cat.pool([base if ecosystem == "os" else lang])
            if v.severity == severity
            and v.vuln_id.startswith("CVE-")
            and v.vuln_id not in taken
            and v.package not in packages
            and not v.package.startswith("linux-")
        ]
        if not pool:
            raise ValueError(f"no {severity} {ecosystem} CVE left for {image['id']}")
        vuln = pool[rng.randrange(len(pool))]
        chosen.append(vuln)
        taken.add(vuln.vuln_id)
        packages.add(vuln.package)
    return chosen


def _purl(vuln: Vuln, os_family: str, os_version: str) -> tuple[str, str]:
    """(PkgID, PURL) the way Trivy writes them for the vulnerability's ecosystem."""
    name, version = vuln.package, vuln.installed
    if vuln.platform == "linux":
        return f"{name}@{version}", f"pkg:deb/debian/{name}@{version}?arch=amd64&distro=debian-{os_version}"
    if vuln.platform == "alpine":
        return f"{name}@{version}", f"pkg:apk/alpine/{name}@{version}?arch=x86_64&distro={os_version}"
    if vuln.platform == "maven":
        group, artifact = name.split(":")
        return f"{name}:{version}", f"pkg:maven/{group}/{artifact}@{version}"
    if vuln.platform == "go":
        return f"{name}@{version}", f"pkg:golang/{name}@{version}"
    kind = {"npm": "npm", "pypi": "pypi"}[vuln.platform]
    return f"{name}@{version}", f"pkg:{kind}/{name}@{version}"


def _pkg_path(vuln: Vuln, app: str) -> str | None:
    if vuln.platform == "maven":
        return f"app/{app}.jar"
    if vuln.platform == "npm":
        return f"app/node_modules/{vuln.package}/package.json"
    if vuln.platform == "pypi":
        return f"usr/local/lib/python3.12/site-packages/{vuln.package}-{vuln.installed}.dist-info/METADATA"
    return None


def _trivy_vulnerability(
    vuln: Vuln, app: str, os_family: str, os_version: str, layer: dict[str, str], hx: _Hex
) -> dict[str, Any]:
    pkg_id, purl = _purl(vuln, os_family, os_version)
    source = _DATA_SOURCES[os_family if vuln.platform in ("linux", "alpine") else vuln.platform]
    cvss_key = ("V40Vector", "V40Score") if vuln.vector.startswith("CVSS:4.0/") else ("V3Vector", "V3Score")
    item: dict[str, Any] = {"VulnerabilityID": vuln.vuln_id, "PkgID": pkg_id, "PkgName": vuln.package}
    path = _pkg_path(vuln, app)
    if path:
        item["PkgPath"] = path
    item.update(
        {
            "PkgIdentifier": {"PURL": purl, "UID": hx(64)},
            "InstalledVersion": vuln.installed,
            "FixedVersion": vuln.fixed,
            "Status": "fixed",  # Trivy: a fixed version exists (the finding is open)
            "Layer": layer,
            "SeveritySource": "nvd",
            "PrimaryURL": f"https://avd.aquasec.com/nvd/{vuln.vuln_id.lower()}",
            "DataSource": source,
            "Severity": vuln.severity.upper(),
            "VendorSeverity": {"nvd": 4 - SEVERITIES.index(vuln.severity)},
            "CVSS": {"nvd": {cvss_key[0]: vuln.vector, cvss_key[1]: vuln.score}},
        }
    )
    return item


def trivy_report(w: World, image: Record, created: str, vulns: list[Vuln], hx: _Hex) -> bytes:
    """`trivy image --format json` of one image: OS packages and one language ecosystem."""
    app = image["name"].split("/")[1].split(":")[0]
    repository = image["name"].rsplit(":", 1)[0]
    _, base, lang = w.platform[image["id"]].split(":")
    os_family, os_version = _OS[base]
    diff_ids = [f"sha256:{hx(256)}" for _ in range(3)]
    os_layer = {"Digest": f"sha256:{hx(256)}", "DiffID": diff_ids[0]}
    app_layer = {"Digest": f"sha256:{hx(256)}", "DiffID": diff_ids[2]}
    target, type_ = _LANG[lang]
    os_vulns = [_trivy_vulnerability(v, app, os_family, os_version, os_layer, hx) for v in vulns if v.platform == base]
    lang_vulns = [
        _trivy_vulnerability(v, app, os_family, os_version, app_layer, hx) for v in vulns if v.platform == lang
    ]
    results: list[dict[str, Any]] = [
        {"Target": f"{image['name']} ({os_family} {os_version})", "Class": "os-pkgs", "Type": os_family}
    ]
    if os_vulns:
        results[0]["Vulnerabilities"] = os_vulns
    results.append({"Target": target, "Class": "lang-pkgs", "Type": type_})
    if lang_vulns:
        results[1]["Vulnerabilities"] = lang_vulns
    report = {
        "SchemaVersion": 2,
        "CreatedAt": created,
        "ArtifactName": image["name"],
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": os_family, "Name": os_version},
            "ImageID": f"sha256:{hx(256)}",
            "DiffIDs": diff_ids,
            "RepoTags": [image["name"]],
            "RepoDigests": [f"{repository}@{image['aliases'][0]}"],
            "ImageConfig": {"architecture": "amd64", "os": "linux", "config": {"User": "10001"}},
        },
        "Results": results,
    }
    return (json.dumps(report, indent=2) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Gitleaks

# (rule, description, file, line, assignment, days before the scan the commit was made)
_LEAKS = [
    (
        "generic-api-key",
        "Detected a Generic API Key, potentially exposing access to various services and sensitive operations.",
        "modules/monitoring/datadog.tf",
        14,
        "api_key",
        6.5,
    ),
    (
        "hashicorp-tf-password",
        "Identified a HashiCorp Terraform password field, risking unauthorized infrastructure configuration "
        "and security breaches.",
        "environments/staging/rds.tf",
        31,
        "password",
        19.2,
    ),
]


def _entropy(text: str) -> float:
    """Shannon entropy in bits per character, as Gitleaks reports it (float32 precision)."""
    counts = Counter(text)
    value = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return float(f"{value:.7g}")


def gitleaks_report(scanned: datetime, hx: _Hex) -> bytes:
    """`gitleaks git --report-format json` over the repository: an array of leaks (v8 keys)."""
    leaks = []
    for n, (rule, description, file, line, name, days) in enumerate(_LEAKS, start=1):
        secret = f"dummy-not-a-secret-{n:04d}"  # obviously fake: never a real key format
        match = f'{name} = "{secret}"'
        commit = hx(160)
        column = 3
        leaks.append(
            {
                "RuleID": rule,
                "Description": description,
                "StartLine": line,
                "EndLine": line,
                "StartColumn": column,
                "EndColumn": column + len(match) - 1,
                "Match": match,
                "Secret": secret,
                "File": file,
                "SymlinkFile": "",
                "Commit": commit,
                "Link": f"https://github.com/northwind/{GITLEAKS_REPO}/blob/{commit}/{file}#L{line}",
                "Entropy": _entropy(secret),
                "Author": "Platform Engineer",
                "Email": "platform-engineer@northwind.example",
                "Date": fmt_ts(scanned - timedelta(days=days)),
                "Message": f"{file.split('/')[1]}: wire up {name.replace('_', ' ')}",
                "Tags": [],
                "Fingerprint": f"{commit}:{file}:{rule}:{line}",
            }
        )
    return (json.dumps(leaks, indent=1) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Building the files of a quarter


def _image(w: World, app: str) -> Record:
    return next(a for a in w.assets.values() if a["type"] == "container_image" and f"/{app}:" in a["name"])


def _repository(w: World, repo: str) -> Record:
    return next(a for a in w.assets.values() if a["type"] == "repository" and a["name"].endswith(f"/{repo}"))


def plan_tool_files(w: World) -> None:
    """Write the Trivy and Gitleaks documents (before the intel: their CVEs get EPSS scores)."""
    hx = _Hex(w)
    for n, app in enumerate(TRIVY_IMAGES):
        image = _image(w, app)
        spec = w.b.sources[trivy_path(app)]
        vulns = pick_trivy_vulns(w, image, TRIVY_MIX[app])
        for vuln in vulns:
            w.vulns_on[image["id"]].add(vuln.vuln_id)
            w.used_vulns[vuln.vuln_id] = vuln
        spec.asset_id = image["id"]
        spec.native = trivy_report(w, image, _scan_time(w.clock, n), vulns, hx)
    repo = _repository(w, GITLEAKS_REPO)
    spec = w.b.sources[gitleaks_path(GITLEAKS_REPO)]
    spec.asset_id = repo["id"]
    spec.native = gitleaks_report(spec.collected_at, hx)


def import_tool_files(w: World, scratch: Path) -> None:
    """Make the feed files from the intel records, read every tool file through its importer, and
    register what the Trivy and Gitleaks records must (not) trip."""
    for spec in w.b.sources.values():
        if not spec.is_tool:
            continue
        if spec.format == "kev-json":
            spec.native = kev_catalog(spec.records, w.clock.at(w.clock.days - 1, 17, 4))
        elif spec.format == "epss-csv":
            spec.native = epss_file(spec.records)
        _import(spec, scratch)
        if spec.kind is not None:
            _same_entries(spec)
    _register(w)


def _import(spec: SourceSpec, scratch: Path) -> None:
    if spec.native is None:
        raise ValueError(f"{spec.path}: tool file not written")
    target = scratch / "tools" / spec.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(spec.native)
    source = Source(
        path=spec.path, format=spec.format, asset_id=spec.asset_id, collected_at=spec.collected_at, tool=spec.tool
    )
    spec.imported = tool_records(target, source)
    target.unlink()


def _same_entries(spec: SourceSpec) -> None:
    """The feed file carries exactly the intel records it was made from, field for field."""
    assert spec.kind is not None
    assert spec.imported is not None
    model = get_kind(spec.kind).model
    made = sorted((model.model_validate(r).model_dump() for r in spec.records), key=lambda r: r["id"])
    read = sorted(
        (model.model_validate(r).model_dump() for r in spec.imported.get(spec.kind, [])), key=lambda r: r["id"]
    )
    if made != read or set(spec.imported) != {spec.kind}:
        raise ValueError(f"{spec.path}: the importer does not read back the {spec.kind} the file was made from")


def _contradicted_verifications(w: World) -> None:
    """VER-06: a "not vulnerable" verification record made by hand three days before the nightly
    Trivy scan that still reports the vulnerability on the image (one per image)."""
    for app in TRIVY_IMAGES:
        image = _image(w, app)
        findings = (w.b.sources[trivy_path(app)].imported or {}).get("findings", [])
        finding = min((f for f in findings if not f.get("vex_status")), key=lambda f: f["id"])
        scanned = datetime.fromisoformat(finding["last_seen_at"])
        v = w.add_verification(image, finding, scanned - timedelta(days=3), method="manual")
        w.plants.flag(
            "VER-06",
            "verifications",
            v["id"],
            f"marked not vulnerable by hand, but the Trivy scan of {scanned:%Y-%m-%d} "
            f"still reports {finding['vuln_id']}",
        )


def _register(w: World) -> None:
    for app in TRIVY_IMAGES:
        imported = w.b.sources[trivy_path(app)].imported or {}
        for finding in imported.get("findings", []):
            if finding["severity"] in ("critical", "high"):
                w.plants.clean(
                    ["PRI-01", "PRI-04"],
                    "findings",
                    finding["id"],
                    "open finding from a Trivy image report, detected four days before the period end: not yet due",
                )
    _contradicted_verifications(w)
    imported = w.b.sources[gitleaks_path(GITLEAKS_REPO)].imported or {}
    for leak in imported.get("secret_exposures", []):
        w.plants.flag("NHI-02", "secret_exposures", leak["id"], "leak reported by gitleaks, never revoked")
        w.plants.flag(
            "INV-07", "secret_exposures", leak["id"], "leak reported by gitleaks: the report links no identity"
        )
