"""The tools-only sample quarter `larkspur-2026-q3` (Larkspur Payments, 2026-07-01 … 2026-09-30):
a CMDB export and nothing but native tool outputs — Trivy, Grype and Nessus reports at several dates,
apt history logs, Get-HotFix CSV, `aws ssm describe-instance-patches` JSON, Gitleaks and TruffleHog
output, the CISA KEV catalog and an EPSS file — and no canonical findings, deployments or
verifications: every verified fix is derived from rescans (docs/verification.md).

The native files are derived in code from real tool outputs in `tests/fixtures/` (each derivation
says what it changes; `README.md` lists them). The expectations are written from the scenario below
(`LEDGER`, `DEPLOYMENTS`, the control notes) and the documented rules, never from the engine: the
generator imports every native file only to check that the files say what the scenario says.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import yaml
from defusedxml import ElementTree

from reporter.importers.interface import ImportContext
from reporter.importers.registry import get_importer
from reporter.importers.run import collect
from reporter.models.manifest import Source

LARKSPUR = "larkspur-2026-q3"
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PERIOD_START, PERIOD_END = date(2026, 7, 1), date(2026, 9, 30)
AS_OF = datetime(2026, 10, 1, tzinfo=UTC)
START_AT = datetime(2026, 7, 1, tzinfo=UTC)
DUBLIN = "Europe/Dublin"  # IST (UTC+1) all quarter: no clock change inside it


def at(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant of 2026, UTC."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def hexid(label: str, digits: int = 64) -> str:
    """Deterministic hex digits (digests, ids) for a label: no randomness, no clock."""
    out = ""
    n = 0
    while len(out) < digits:
        out += hashlib.sha256(f"larkspur:{label}:{n}".encode()).hexdigest()
        n += 1
    return out[:digits]


def iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with `Z`, microseconds when the instant has them (scanner times do)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------
# The estate: the CMDB export (canonical `assets` in CSV); aliases hold the names the tools use


@dataclass(frozen=True)
class Asset:
    id: str
    name: str
    type: str
    owner: str
    criticality: str
    internet_facing: bool
    group: str
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


ASSETS = (
    Asset(
        "lp-img-checkout",
        "registry.larkspur.example/payments/checkout-worker",
        "container_image",
        "team-checkout",
        "high",
        False,
        "images-payments",
        ("registry.larkspur.example/payments/checkout-worker:2.14",),
        ("debian",),
    ),
    Asset(
        "lp-img-ledger",
        "registry.larkspur.example/payments/ledger-api",
        "container_image",
        "team-ledger",
        "high",
        False,
        "images-payments",
        ("registry.larkspur.example/payments/ledger-api:5.3",),
        ("ubuntu",),
    ),
    Asset(
        "lp-img-recon",
        "registry.larkspur.example/batch/recon-job",
        "container_image",
        "team-finops",
        "moderate",
        False,
        "images-batch",
        ("registry.larkspur.example/batch/recon-job:2026.07", "registry.larkspur.example/batch/recon-job:2026.09"),
        ("busybox",),
    ),
    Asset(
        "lp-lnx-api-01",
        "api-01.prod.larkspur.example",
        "server",
        "team-payments-api",
        "high",
        False,
        "linux-prod-a",
        ("10.20.4.11", "api-01"),
        ("ubuntu-22.04",),
    ),
    Asset(
        "lp-lnx-api-02",
        "api-02.prod.larkspur.example",
        "server",
        "team-payments-api",
        "moderate",
        False,
        "linux-prod-b",
        ("10.20.4.12", "api-02"),
        ("ubuntu-22.04",),
    ),
    Asset(
        "lp-lnx-db-01",
        "db-01.prod.larkspur.example",
        "server",
        "team-data",
        "high",
        False,
        "linux-prod-b",
        ("10.20.8.21", "db-01"),
        ("debian-12",),
    ),
    Asset(
        "lp-lnx-web-01",
        "www-01.dmz.larkspur.example",
        "server",
        "team-web",
        "high",
        True,
        "linux-dmz",
        ("10.20.1.10", "203.0.113.10"),
        ("ubuntu-22.04", "dmz"),
    ),
    Asset(
        "lp-bastion-01",
        "bastion-01.dmz.larkspur.example",
        "server",
        "team-platform",
        "high",
        True,
        "linux-dmz",
        ("10.20.1.22", "203.0.113.22"),
        ("ubuntu-22.04", "dmz"),
    ),
    Asset(
        "lp-win-01",
        "lp-win-01.corp.larkspur.example",
        "server",
        "team-corp-it",
        "high",
        False,
        "windows-a",
        ("LP-WIN-01", "10.20.6.31"),
        ("windows-2022",),
    ),
    Asset(
        "lp-win-02",
        "lp-win-02.corp.larkspur.example",
        "server",
        "team-corp-it",
        "moderate",
        False,
        "windows-b",
        ("LP-WIN-02", "10.20.6.32"),
        ("windows-2022",),
    ),
    Asset(
        "lp-ec2-pay-01",
        "ip-10-30-1-15.eu-west-1.compute.internal",
        "cloud_workload",
        "team-payments-api",
        "high",
        False,
        "ssm-prod",
        ("i-0a1b2c3d4e5f60718", "10.30.1.15"),
        ("amazon-linux-2023",),
    ),
    Asset(
        "lp-ec2-batch-01",
        "ip-10-30-2-27.eu-west-1.compute.internal",
        "cloud_workload",
        "team-finops",
        "moderate",
        False,
        "ssm-prod",
        ("i-0f9e8d7c6b5a40312", "10.30.2.27"),
        ("amazon-linux-2023",),
    ),
    Asset(
        "lp-repo-payments-api",
        "github.com/larkspur-payments/payments-api",
        "repository",
        "team-payments-api",
        "high",
        False,
        "repositories",
        ("https://github.com/larkspur-payments/payments-api",),
    ),
)
ASSET_BY_ID = {a.id: a for a in ASSETS}

CMDB_COLUMNS = (
    "id",
    "name",
    "type",
    "environment",
    "owner",
    "criticality",
    "internet_facing",
    "ephemeral",
    "managed_by",
    "lifecycle",
    "first_seen_at",
    "maintenance_group",
    "patch_automation",
    "aliases",
    "tags",
)


def cmdb_csv() -> bytes:
    """The ServiceNow-style CMDB export: every required attribute filled, patching automated."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CMDB_COLUMNS)
    for a in ASSETS:
        writer.writerow(
            [
                a.id,
                a.name,
                a.type,
                "production",
                a.owner,
                a.criticality,
                str(a.internet_facing).lower(),
                "false",
                "internal",
                "active",
                "2026-06-29T09:00:00Z",
                a.group,
                "true",
                ";".join(a.aliases),
                ";".join(a.tags),
            ]
        )
    return buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Trivy: two images, scans on 07-05, 08-20 and 09-24, derived from Trivy's own golden files


@dataclass(frozen=True)
class TrivyImage:
    asset: str
    slug: str
    golden: str  # tests/fixtures/series/<file>
    ref: str
    minute: int  # CI job minute past 02:00 (the two images scan a few minutes apart)


TRIVY_IMAGES = (
    TrivyImage(
        "lp-img-checkout",
        "checkout-worker",
        "trivy-debian-stretch.json",
        "registry.larkspur.example/payments/checkout-worker:2.14",
        11,
    ),
    TrivyImage(
        "lp-img-ledger", "ledger-api", "trivy-ubuntu-1804.json", "registry.larkspur.example/payments/ledger-api:5.3", 16
    ),
)
TRIVY_DAYS = ((7, 5), (8, 20), (9, 24))
E2FS = "CVE-2019-5094"
# Which scans still list CVE-2019-5094 (the e2fsprogs packages); every scan lists CVE-2019-18276 (bash, no fix).
# checkout-worker: rebuilt before 08-20 on a patched base (nobody recorded it): story a.
# ledger-api: 08-20 built on the patched base, 09-24 back on the old base digest: story i.
TRIVY_E2FS = {"checkout-worker": (True, False, False), "ledger-api": (True, False, True)}


def trivy_path(image: TrivyImage, n: int) -> str:
    month, day = TRIVY_DAYS[n]
    return f"scans/trivy/{image.slug}-2026-{month:02d}-{day:02d}.json"


def _trivy_nanos(n: int) -> int:
    return 318204561 + 7919 * n


def trivy_time(image: TrivyImage, n: int) -> datetime:
    """The report's CreatedAt (Trivy writes nanoseconds; the importer keeps microseconds)."""
    month, day = TRIVY_DAYS[n]
    return at(month, day, 2, image.minute, 37 - 9 * n) + timedelta(microseconds=_trivy_nanos(n) // 1000)


def trivy_report(image: TrivyImage, n: int) -> bytes:
    """The golden report of the image with: our image reference and a CI `CreatedAt`; a new image id
    and layer digest per build (the 07-05 build keeps the golden's); CVE-2019-5094 removed from the
    builds whose base had the fixed e2fsprogs (Trivy lists only vulnerable packages)."""
    report = json.loads((FIXTURES / "series" / image.golden).read_text(encoding="utf-8"))
    created = trivy_time(image, n)
    build = f"{image.slug}:{n}" if n else None
    keep_e2fs = TRIVY_E2FS[image.slug][n]
    if image.slug == "ledger-api" and n == 2:
        build = None  # the 09-24 build is back on the 07-05 base image digest
    report["Trivy"] = {"Version": "0.65.0"}
    report["ReportID"] = _uuid7(created, f"trivy-report:{image.slug}:{n}")
    report["CreatedAt"] = created.strftime("%Y-%m-%dT%H:%M:%S") + f".{_trivy_nanos(n):09d}Z"
    report["ArtifactName"] = image.ref
    metadata = report["Metadata"]
    if build:
        layer = f"sha256:{hexid(f'layer:{build}')}"
        diff = f"sha256:{hexid(f'diff:{build}')}"
        metadata["ImageID"] = f"sha256:{hexid(f'image:{build}')}"
        metadata["DiffIDs"] = [diff]
        metadata["ImageConfig"]["rootfs"]["diff_ids"] = [diff]
        metadata["Layers"] = [{**metadata["Layers"][-1], "Digest": layer, "DiffID": diff}]
        for result in report["Results"]:
            for vuln in result.get("Vulnerabilities", []):
                vuln["Layer"] = {"Digest": layer, "DiffID": diff}
    report["ArtifactID"] = metadata["ImageID"]
    repository = image.ref.rsplit(":", 1)[0]
    metadata["RepoTags"] = [image.ref]
    metadata["RepoDigests"] = [f"{repository}@sha256:{hexid(f'manifest:{build or image.slug}')}"]
    metadata["Reference"] = image.ref
    for result in report["Results"]:
        result["Target"] = f"{image.ref} ({result['Target'].rsplit(' (', 1)[1]}"
        if not keep_e2fs:
            result["Vulnerabilities"] = [v for v in result["Vulnerabilities"] if v["VulnerabilityID"] != E2FS]
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _uuid7(moment: datetime, label: str) -> str:
    """A UUIDv7 as Trivy writes ReportID: the millisecond timestamp, then deterministic bits."""
    ms = f"{int(moment.timestamp() * 1000):012x}"
    rest = hexid(label, 20)
    return f"{ms[:8]}-{ms[8:]}-7{rest[:3]}-8{rest[3:6]}-{rest[6:18]}"


# ---------------------------------------------------------------------------------------------
# Grype: one image, scans on 07-06 and 09-25, derived from a real grype 0.94 report of busybox:1.32.1

GRYPE_GOLDEN = FIXTURES / "tool-samples" / "grype-json" / "defectdojo-many_vulns_with_epss_values.json"
GRYPE_ASSET = "lp-img-recon"
GRYPE_KEPT = (
    "CVE-2022-48174",
    "CVE-2022-28391",
    "CVE-2021-42374",
    "CVE-2021-42376",
    "CVE-2024-58251",
    "CVE-2025-46394",
)
# busybox 1.36.1 (the 2026.09 rebuild) is outside every NVD range of the first four: only these remain.
GRYPE_REMAINING = ("CVE-2024-58251", "CVE-2025-46394")
# (file, scan time, image tag, busybox version); the times carry nanoseconds as grype writes them
_GRYPE_RUNS = (
    ("scans/grype/recon-job-2026-07-06.json", at(7, 6, 3, 12, 44), 523947113, "2026.07", "1.32.1"),
    ("scans/grype/recon-job-2026-09-25.json", at(9, 25, 3, 9, 18), 88341297, "2026.09", "1.36.1"),
)
GRYPE_NANOS = tuple(nanos for _path, _at, nanos, _tag, _version in _GRYPE_RUNS)
# (file, descriptor.timestamp as the importer reads it: microseconds, tag, version)
GRYPE_SCANS = tuple(
    (path, moment + timedelta(microseconds=nanos // 1000), tag, version)
    for path, moment, nanos, tag, version in _GRYPE_RUNS
)


def grype_report(n: int) -> bytes:
    """The real report with: 6 of its 15 matches kept (the others removed to keep the sample legible);
    our image reference, id and digest; the scan time in `descriptor.timestamp`; the base64 `manifest`
    and `config` blobs of the upstream image removed. The 09-25 rescan of the rebuilt image
    (busybox 1.36.1) keeps only the matches whose NVD range still includes 1.36.1, with the new
    version in the artifact, its CPEs and purl."""
    _path, moment, tag, version = GRYPE_SCANS[n]
    doc = json.loads(GRYPE_GOLDEN.read_text(encoding="utf-8"))
    keep = GRYPE_KEPT if n == 0 else GRYPE_REMAINING
    doc["matches"] = [m for m in doc["matches"] if m["vulnerability"]["id"] in keep]
    for match in doc["matches"]:
        _set_busybox_version(match, version)
    ref = f"registry.larkspur.example/batch/recon-job:{tag}"
    target = doc["source"]["target"]
    target.pop("manifest", None)
    target.pop("config", None)
    target["userInput"] = ref
    target["imageID"] = f"sha256:{hexid(f'grype-image:{tag}')}"
    target["manifestDigest"] = f"sha256:{hexid(f'grype-manifest:{tag}')}"
    target["tags"] = [ref]
    target["repoDigests"] = [f"{ref.rsplit(':', 1)[0]}@{target['manifestDigest']}"]
    doc["distro"]["version"] = version
    doc["descriptor"]["timestamp"] = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{GRYPE_NANOS[n]:09d}Z"
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _set_busybox_version(match: dict[str, Any], version: str) -> None:
    if version == "1.32.1":
        return
    artifact = match["artifact"]
    artifact["version"] = version
    artifact["cpes"] = [c.replace("1.32.1", version) for c in artifact["cpes"]]
    artifact["purl"] = artifact["purl"].replace("1.32.1", version)
    artifact["id"] = hexid(f"grype-artifact:{version}", 16)
    for detail in match.get("matchDetails", []):
        searched = detail.get("searchedBy", {})
        searched["cpes"] = [c.replace("1.32.1", version) for c in searched.get("cpes", [])]
        if "package" in searched:
            searched["package"]["version"] = version


# ---------------------------------------------------------------------------------------------
# Nessus: one credentialed scan per date over eight hosts; element structure from real .nessus files


@dataclass(frozen=True)
class Plugin:
    """One ReportItem: a Tenable plugin as it reports on a host."""

    id: int
    name: str
    family: str
    severity: int
    cves: tuple[str, ...]
    xrefs: tuple[str, ...]
    cvss3: tuple[str, float]
    patch_date: str
    fname: str
    synopsis: str
    solution: str
    see_also: str = ""
    packages: tuple[tuple[str, str], ...] = ()  # (name, fixed version) for Linux local checks
    port: tuple[str, str, str] = ("0", "general", "tcp")
    output: str = ""  # fixed output (remote and Windows checks)
    exploit_available: bool = False


_UBUNTU = "Ubuntu Local Security Checks"
_SYN = "The remote Ubuntu 22.04 LTS host has packages installed that are affected by multiple vulnerabilities"
PLUGINS = {
    "usn-6039-1": Plugin(
        174471,
        "Ubuntu 20.04 LTS / 22.04 LTS : OpenSSL vulnerabilities (USN-6039-1)",
        _UBUNTU,
        2,
        ("CVE-2023-0464", "CVE-2023-0465"),
        ("USN:6039-1",),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9),
        "2023/04/20",
        "ubuntu_USN-6039-1.nasl",
        _SYN + " as referenced in the USN-6039-1 advisory.",
        "Update the affected packages.",
        "https://ubuntu.com/security/notices/USN-6039-1",
        (("libssl3", "3.0.2-0ubuntu1.9"), ("openssl", "3.0.2-0ubuntu1.9")),
    ),
    "usn-6944-1": Plugin(
        205153,
        "Ubuntu 20.04 LTS / 22.04 LTS / 24.04 LTS : curl vulnerability (USN-6944-1)",
        _UBUNTU,
        2,
        ("CVE-2024-7264",),
        ("USN:6944-1",),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:H", 6.5),
        "2024/08/07",
        "ubuntu_USN-6944-1.nasl",
        _SYN.replace("multiple vulnerabilities", "a vulnerability") + " as referenced in the USN-6944-1 advisory.",
        "Update the affected packages.",
        "https://ubuntu.com/security/notices/USN-6944-1",
        (("curl", "7.81.0-1ubuntu1.17"), ("libcurl4", "7.81.0-1ubuntu1.17")),
    ),
    "usn-6658-1": Plugin(
        190955,
        "Ubuntu 20.04 LTS / 22.04 LTS : libxml2 vulnerability (USN-6658-1)",
        _UBUNTU,
        2,
        ("CVE-2024-25062",),
        ("USN:6658-1",),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9),
        "2024/02/26",
        "ubuntu_USN-6658-1.nasl",
        _SYN.replace("multiple vulnerabilities", "a vulnerability") + " as referenced in the USN-6658-1 advisory.",
        "Update the affected packages.",
        "https://ubuntu.com/security/notices/USN-6658-1",
        (("libxml2", "2.9.13+dfsg-1ubuntu0.4"),),
    ),
    "dsa-5611-1": Plugin(
        189954,
        "Debian dsa-5611 : glibc-doc - security update",
        "Debian Local Security Checks",
        3,
        ("CVE-2023-6246", "CVE-2023-6779", "CVE-2023-6780"),
        ("DSA:5611",),
        ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        "2024/01/31",
        "debian_DSA-5611.nasl",
        "The remote Debian host is missing one or more security-related updates.",
        "Upgrade the glibc-doc packages.",
        "https://www.debian.org/security/2024/dsa-5611",
        (("libc-bin", "2.36-9+deb12u4"), ("libc6", "2.36-9+deb12u4"), ("locales", "2.36-9+deb12u4")),
    ),
    "usn-6885-1": Plugin(
        201953,
        "Ubuntu 20.04 LTS / 22.04 LTS / 24.04 LTS : Apache HTTP Server vulnerabilities (USN-6885-1)",
        _UBUNTU,
        4,
        ("CVE-2024-38474", "CVE-2024-38475", "CVE-2024-38476"),
        ("USN:6885-1",),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        "2024/07/09",
        "ubuntu_USN-6885-1.nasl",
        _SYN + " as referenced in the USN-6885-1 advisory.",
        "Update the affected packages.",
        "https://ubuntu.com/security/notices/USN-6885-1",
        (("apache2", "2.4.52-1ubuntu4.10"), ("apache2-bin", "2.4.52-1ubuntu4.10")),
        exploit_available=True,
    ),
    "usn-5811-1": Plugin(
        170155,
        "Ubuntu 18.04 LTS / 20.04 LTS / 22.04 LTS : Sudo vulnerabilities (USN-5811-1)",
        _UBUNTU,
        3,
        ("CVE-2023-22809",),
        ("USN:5811-1",),
        ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        "2023/01/18",
        "ubuntu_USN-5811-1.nasl",
        _SYN.replace("multiple vulnerabilities", "a vulnerability") + " as referenced in the USN-5811-1 advisory.",
        "Update the affected sudo and / or sudo-ldap packages.",
        "https://ubuntu.com/security/notices/USN-5811-1",
        (("sudo", "1.9.9-1ubuntu2.2"),),
        exploit_available=True,
    ),
    "terrapin": Plugin(
        187315,
        "SSH Terrapin Prefix Truncation Weakness (CVE-2023-48795)",
        "Misc.",
        2,
        ("CVE-2023-48795",),
        ("IAVA:2023-A-0701-S",),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N", 5.9),
        "2023/12/18",
        "ssh_terrapin.nbin",
        "The remote SSH server is vulnerable to a mitm prefix truncation attack.",
        "Contact the vendor for an update with the strict key exchange countermeasures or disable the affected "
        "algorithms.",
        "https://terrapin-attack.com/",
        port=("22", "ssh", "tcp"),
        output="\nSupports following ChaCha20-Poly1305 Client to Server algorithm : chacha20-poly1305@openssh.com\n"
        "Supports following ChaCha20-Poly1305 Server to Client algorithm : chacha20-poly1305@openssh.com\n",
    ),
    "kb5060526": Plugin(
        240005,
        "KB5060526: Windows Server 2022 / Azure Stack HCI 22H2 Security Update (June 2025)",
        "Windows : Microsoft Bulletins",
        3,
        ("CVE-2025-32710", "CVE-2025-33053", "CVE-2025-33073"),
        ("MSKB:5060526", "MSFT:MS25-5060526", "IAVA:2025-A-0418"),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8),
        "2025/06/10",
        "smb_nt_ms25_jun_5060526.nasl",
        "The remote Windows host is affected by multiple vulnerabilities.",
        "Apply Security Update 5060526",
        "https://support.microsoft.com/help/5060526",
        port=("445", "cifs", "tcp"),
        output="\nThe remote host is missing one of the following rollup KBs :\n  - 5060526\n\n"
        "  - C:\\Windows\\system32\\ntoskrnl.exe has not been patched.\n"
        "    Remote version : 10.0.20348.3692\n    Should be      : 10.0.20348.3807\n\n",
        exploit_available=True,
    ),
    "kb5062572": Plugin(
        242573,
        "KB5062572: Windows Server 2022 / Azure Stack HCI 22H2 Security Update (July 2025)",
        "Windows : Microsoft Bulletins",
        4,
        ("CVE-2025-47981", "CVE-2025-48822", "CVE-2025-49735"),
        ("MSKB:5062572", "MSFT:MS25-5062572", "IAVA:2025-A-0495"),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        "2025/07/08",
        "smb_nt_ms25_jul_5062572.nasl",
        "The remote Windows host is affected by multiple vulnerabilities.",
        "Apply Security Update 5062572",
        "https://support.microsoft.com/help/5062572",
        port=("445", "cifs", "tcp"),
        output="\nThe remote host is missing one of the following rollup KBs :\n  - 5062572\n\n"
        "  - C:\\Windows\\system32\\ntoskrnl.exe has not been patched.\n"
        "    Remote version : 10.0.20348.3692\n    Should be      : 10.0.20348.3932\n\n",
    ),
    "alas-libxml2": Plugin(
        236853,
        "Amazon Linux 2023 : libxml2, libxml2-devel (ALAS2023-2025-963)",
        "Amazon Linux Local Security Checks",
        2,
        ("CVE-2025-32414", "CVE-2025-32415"),
        ("ALAS:2025-963",),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9),
        "2025/05/15",
        "al2023_ALAS2023-2025-963.nasl",
        "The remote Amazon Linux 2023 host is missing a security update.",
        "Run 'dnf update libxml2 --releasever 2023.7.20250512' to update your system.",
        "https://alas.aws.amazon.com/AL2023/ALAS2023-2025-963.html",
        (("libxml2", "2.10.4-1.amzn2023.0.10"),),
    ),
    "alas-kernel": Plugin(
        244117,
        "Amazon Linux 2023 : bpftool, kernel, kernel-devel (ALAS2023-2025-1038)",
        "Amazon Linux Local Security Checks",
        2,
        ("CVE-2025-21756",),
        ("ALAS:2025-1038",),
        ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 5.5),
        "2025/06/26",
        "al2023_ALAS2023-2025-1038.nasl",
        "The remote Amazon Linux 2023 host is missing a security update.",
        "Run 'dnf update kernel --releasever 2023.7.20250623' to update your system.",
        "https://alas.aws.amazon.com/AL2023/ALAS2023-2025-1038.html",
        (("kernel", "6.1.141-155.222.amzn2023"),),
    ),
}


@dataclass(frozen=True)
class Host:
    """A Nessus target: its ReportHost name, properties, and the items each scan reports."""

    asset: str
    name: str  # ReportHost@name, as the scan targets it (resolved through the CMDB aliases)
    ip: str
    fqdn: str
    os_name: str
    os: str
    minute: int  # host scan end, minutes after 01:00 UTC
    # per scan date: (credentialed, {plugin key: installed version of its packages, or "" for fixed output})
    scans: tuple[tuple[bool, dict[str, str]], ...]
    netbios: str = ""


_U2204 = "Linux Kernel 5.15.0-118-generic on Ubuntu 22.04"
_SSL, _CURL, _XML = "3.0.2-0ubuntu1.8", "7.81.0-1ubuntu1.16", "2.9.13+dfsg-1ubuntu0.3"
_APACHE, _SUDO = "2.4.52-1ubuntu4.9", "1.9.9-1ubuntu2.1"
_GLIBC_OLD, _GLIBC_NEW = "2.36-9+deb12u1", "2.36-9+deb12u3"
_AL_XML, _AL_KERNEL = "2.10.4-1.amzn2023.0.9", "6.1.134-152.225.amzn2023"
_WIN = {"kb5060526": "", "kb5062572": ""}
HOSTS = (
    Host(
        "lp-lnx-api-01",
        "api-01.prod.larkspur.example",
        "10.20.4.11",
        "api-01.prod.larkspur.example",
        _U2204,
        "linux",
        4,
        (
            (True, {"usn-6039-1": _SSL, "usn-6944-1": _CURL}),
            (True, {"usn-6944-1": _CURL}),
            (True, {"usn-6944-1": _CURL}),
        ),
    ),
    Host(
        "lp-lnx-api-02",
        "10.20.4.12",
        "10.20.4.12",
        "api-02.prod.larkspur.example",
        _U2204,
        "linux",
        7,
        ((True, {"usn-6658-1": _XML}),) * 3,
    ),
    Host(
        "lp-lnx-db-01",
        "10.20.8.21",
        "10.20.8.21",
        "db-01.prod.larkspur.example",
        "Linux Kernel 6.1.0-23-amd64 on Debian 12.6",
        "linux",
        11,
        (
            (True, {"dsa-5611-1": _GLIBC_OLD}),
            (True, {"dsa-5611-1": _GLIBC_NEW}),
            (True, {"dsa-5611-1": _GLIBC_NEW}),
        ),
    ),
    Host(
        "lp-lnx-web-01",
        "www-01.dmz.larkspur.example",
        "10.20.1.10",
        "www-01.dmz.larkspur.example",
        _U2204,
        "linux",
        15,
        ((True, {"usn-6885-1": _APACHE}),) * 3,
    ),
    Host(
        "lp-bastion-01",
        "10.20.1.22",
        "10.20.1.22",
        "bastion-01.dmz.larkspur.example",
        _U2204,
        "linux",
        18,
        (
            (True, {"usn-5811-1": _SUDO, "terrapin": ""}),
            (False, {"terrapin": ""}),
            (False, {"terrapin": ""}),
        ),
    ),
    Host(
        "lp-win-01",
        "10.20.6.31",
        "10.20.6.31",
        "lp-win-01.corp.larkspur.example",
        "Microsoft Windows Server 2022 Standard Build 20348",
        "windows",
        26,
        ((True, _WIN),) * 3,
        "LP-WIN-01",
    ),
    Host(
        "lp-win-02",
        "lp-win-02.corp.larkspur.example",
        "10.20.6.32",
        "lp-win-02.corp.larkspur.example",
        "Microsoft Windows Server 2022 Standard Build 20348",
        "windows",
        31,
        ((True, _WIN), (True, {}), (True, {})),
        "LP-WIN-02",
    ),
    Host(
        "lp-ec2-pay-01",
        "10.30.1.15",
        "10.30.1.15",
        "ip-10-30-1-15.eu-west-1.compute.internal",
        "Amazon Linux 2023",
        "linux",
        35,
        (
            (True, {"alas-libxml2": _AL_XML, "alas-kernel": _AL_KERNEL}),
            (True, {"alas-kernel": _AL_KERNEL}),
            (True, {"alas-kernel": _AL_KERNEL}),
        ),
    ),
)
NESSUS_DAYS = ((7, 7), (8, 18), (9, 22))
PYTENABLE = FIXTURES / "tool-samples" / "nessus-xml" / "pytenable-windows-bulletins.trimmed.nessus"
# pyTenable's real policy already enables these local-check families; they are asserted here because the
# scenario depends on them. Misc. stays "mixed", with the Terrapin plugin enabled individually (scope key
# nessus-plugin:187315), as Settings is with plugin 19506.
ENABLED_FAMILIES = (
    "Ubuntu Local Security Checks",
    "Debian Local Security Checks",
    "Amazon Linux Local Security Checks",
)
INDIVIDUAL_PLUGINS = (
    ("19506", "Nessus Scan Information", "Settings"),
    ("187315", "SSH Terrapin Prefix Truncation Weakness (CVE-2023-48795)", "Misc."),
    ("11219", "Nessus SYN scanner", "Port scanners"),
    ("10287", "Traceroute Information", "General"),
)
POLICY_NAME = "Larkspur - Credentialed Advanced Scan"


def nessus_path(n: int) -> str:
    month, day = NESSUS_DAYS[n]
    return f"scans/nessus/larkspur-credentialed-2026-{month:02d}-{day:02d}.nessus"


def host_end(host: Host, n: int) -> datetime:
    month, day = NESSUS_DAYS[n]
    return at(month, day, 1, host.minute, 17 + 3 * n)


def nessus_file(n: int) -> bytes:
    """One export: the Policy (families and plugins as pyTenable's real agent-scan policy lists them,
    with the Linux local-check families enabled), then one ReportHost per host."""
    targets = ",".join(h.name for h in HOSTS)
    lines = ['<?xml version="1.0" ?>', "<NessusClientData_v2>", *_policy(targets)]
    lines.append(
        f'<Report name="Larkspur credentialed 2026-{NESSUS_DAYS[n][0]:02d}-{NESSUS_DAYS[n][1]:02d}" '
        'xmlns:cm="http://www.nessus.org/cm">'
    )
    for host in HOSTS:
        lines += _report_host(host, n)
    lines += ["</Report>", "</NessusClientData_v2>"]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _policy(targets: str) -> list[str]:
    families = []
    for item in ElementTree.parse(PYTENABLE).getroot().iter("FamilyItem"):
        name, status = item.findtext("FamilyName") or "", item.findtext("Status") or ""
        families.append((name, "enabled" if name in ENABLED_FAMILIES else status))
    prefs = (
        ("max_hosts", "30"),
        ("safe_checks", "yes"),
        ("port_range", "default"),
        ("plugins_timeout", "320"),
        ("name", POLICY_NAME),
        ("TARGET", targets),
    )
    out = [f"<Policy><policyName>{POLICY_NAME}</policyName>", "<Preferences><ServerPreferences>"]
    out += [f"<preference><name>{k}</name>\n<value>{escape(v)}</value>\n</preference>" for k, v in prefs]
    out += ["</ServerPreferences>", "</Preferences>", "<FamilySelection>"]
    out += [
        f"<FamilyItem><FamilyName>{escape(n)}</FamilyName>\n<Status>{s}</Status>\n</FamilyItem>" for n, s in families
    ]
    out += ["</FamilySelection>", "<IndividualPluginSelection>"]
    out += [
        f"<PluginItem><PluginId>{pid}</PluginId>\n<PluginName>{escape(name)}</PluginName>\n"
        f"<Family>{escape(family)}</Family>\n<Status>enabled</Status>\n</PluginItem>"
        for pid, name, family in INDIVIDUAL_PLUGINS
    ]
    out += ["</IndividualPluginSelection>", "</Policy>"]
    return out


def _ctime(moment: datetime) -> str:
    return f"{moment:%a %b} {moment.day:2d} {moment:%H:%M:%S %Y}"


def _report_host(host: Host, n: int) -> list[str]:
    credentialed, items = host.scans[n]
    end = host_end(host, n)
    begin = end - timedelta(minutes=3, seconds=41)
    tags = [
        ("HOST_END_TIMESTAMP", str(int(end.timestamp()))),
        ("HOST_END", _ctime(end)),
        ("Credentialed_Scan", str(credentialed).lower()),
        ("policy-used", POLICY_NAME),
        ("os", host.os),
        ("operating-system", host.os_name),
        ("host-fqdn", host.fqdn),
        ("host-ip", host.ip),
    ]
    if host.netbios:
        tags.append(("netbios-name", host.netbios))
    if credentialed:
        tags.append(("LastAuthenticatedResults", str(int(end.timestamp()))))
    tags += [("HOST_START_TIMESTAMP", str(int(begin.timestamp()))), ("HOST_START", _ctime(begin))]
    out = [f"<ReportHost name={quoteattr(host.name)}><HostProperties>"]
    out += [f"<tag name={quoteattr(k)}>{escape(v)}</tag>" for k, v in tags]
    out.append("</HostProperties>")
    out += _scan_information(host, n, credentialed, begin)
    for key, installed in items.items():
        out += _report_item(PLUGINS[key], installed)
    out.append("</ReportHost>")
    return out


def _scan_information(host: Host, n: int, credentialed: bool, begin: datetime) -> list[str]:
    """Plugin 19506 (severity 0: no finding), as Nessus 10 writes it."""
    text = (
        "Information about this scan : \n\nNessus version : 10.8.4\nPlugin feed version : "
        f"{begin:%Y%m%d}0112\nScanner edition used : Nessus\nScan type : Normal\n"
        f"Scan name : Larkspur credentialed\nScan policy used : {POLICY_NAME}\nScanner IP : 10.20.0.5\n"
        "Port scanner(s) : nessus_syn_scanner \nPort range : default\nPing RTT : 1.204 ms\n"
        "Thorough tests : no\nExperimental tests : no\nParanoia level : 1\nReport verbosity : 1\n"
        f"Safe checks : yes\nOptimize the test : yes\nCredentialed checks : {'yes' if credentialed else 'no'}\n"
        "Patch management checks : None\nCGI scanning : disabled\nWeb application tests : disabled\n"
        f"Max hosts : 30\nMax checks : 5\nRecv timeout : 5\nBackports : None\nAllow post-scan editing : Yes\n"
        f"Scan Start Date : {begin.year}/{begin.month}/{begin.day} {begin.hour}:{begin:%M} UTC\n"
        "Scan duration : 221 sec\n"
    )
    return [
        '<ReportItem port="0" svc_name="general" protocol="tcp" severity="0" pluginID="19506" '
        'pluginName="Nessus Scan Information" pluginFamily="Settings">',
        "<fname>scan_info.nasl</fname>",
        "<plugin_name>Nessus Scan Information</plugin_name>",
        "<plugin_type>summary</plugin_type>",
        "<risk_factor>None</risk_factor>",
        "<solution>n/a</solution>",
        "<synopsis>This plugin displays information about the Nessus scan.</synopsis>",
        f"<plugin_output>{escape(text)}</plugin_output>",
        "</ReportItem>",
    ]


_RISK = {1: "Low", 2: "Medium", 3: "High", 4: "Critical"}


def _report_item(plugin: Plugin, installed: str) -> list[str]:
    port, service, protocol = plugin.port
    out = [
        f'<ReportItem port="{port}" svc_name="{service}" protocol="{protocol}" severity="{plugin.severity}" '
        f'pluginID="{plugin.id}" pluginName={quoteattr(plugin.name)} pluginFamily={quoteattr(plugin.family)}>'
    ]
    out += [f"<cve>{c}</cve>" for c in plugin.cves]
    vector, score = plugin.cvss3
    out += [f"<cvss3_base_score>{score}</cvss3_base_score>", f"<cvss3_vector>{vector}</cvss3_vector>"]
    if plugin.exploit_available:
        out.append("<exploit_available>true</exploit_available>")
    out += [
        f"<fname>{plugin.fname}</fname>",
        f"<patch_publication_date>{plugin.patch_date}</patch_publication_date>",
        f"<plugin_name>{escape(plugin.name)}</plugin_name>",
        f"<plugin_type>{'remote' if plugin.family == 'Misc.' else 'local'}</plugin_type>",
        f"<risk_factor>{_RISK[plugin.severity]}</risk_factor>",
    ]
    if plugin.see_also:
        out.append(f"<see_also>{escape(plugin.see_also)}</see_also>")
    out += [f"<solution>{escape(plugin.solution)}</solution>", f"<synopsis>{escape(plugin.synopsis)}</synopsis>"]
    out += [f"<xref>{x}</xref>" for x in plugin.xrefs]
    out += [f"<plugin_output>{escape(_plugin_output(plugin, installed))}</plugin_output>", "</ReportItem>"]
    return out


def _plugin_output(plugin: Plugin, installed: str) -> str:
    """Package lines as Tenable's local checks write them: Ubuntu `- Installed package : name_version`,
    Debian `Remote package installed : name_version`, Amazon Linux `name-version-release`."""
    if not plugin.packages:
        return plugin.output
    lines = [""]
    for name, fixed in plugin.packages:
        if plugin.family == _UBUNTU:
            lines += [f"  - Installed package : {name}_{installed}", f"  - Fixed package     : {name}_{fixed}", ""]
        elif plugin.family.startswith("Debian"):
            lines += [f"Remote package installed : {name}_{installed}", f"Should be                : {name}_{fixed}"]
        else:
            lines += [f"Remote package installed : {name}-{installed}", f"Should be                : {name}-{fixed}"]
    return "\n".join(lines) + "\n\n"


# ---------------------------------------------------------------------------------------------
# Patch tools: apt history logs, Get-HotFix CSV, `aws ssm describe-instance-patches` JSON


@dataclass(frozen=True)
class AptBlock:
    start: tuple[int, int, int, int, int]  # month, day, hour, minute, second (local time of the host)
    seconds: int  # End-Date - Start-Date
    upgrades: tuple[tuple[str, str, str], ...]  # (name:arch, old, new)
    commandline: str = ""
    requested_by: str = ""
    error: str = ""


APT_LOGS: dict[str, tuple[str | None, tuple[AptBlock, ...]]] = {
    # asset: (timezone of the host, or None for UTC; blocks)
    "lp-lnx-api-01": (
        None,
        (
            AptBlock(
                (8, 4, 6, 12, 31),
                17,
                (
                    ("libssl3:amd64", _SSL, "3.0.2-0ubuntu1.10"),
                    ("openssl:amd64", _SSL, "3.0.2-0ubuntu1.10"),
                ),
            ),
            AptBlock((9, 8, 6, 10, 2), 6, (("tzdata:amd64", "2025a-0ubuntu0.22.04", "2025b-0ubuntu0.22.04.1"),)),
        ),
    ),
    "lp-lnx-api-02": (
        None,
        (
            AptBlock(
                (8, 10, 2, 14, 7),
                5,
                (("libxml2:amd64", _XML, "2.9.13+dfsg-1ubuntu0.4"),),
                "apt-get install --only-upgrade -y libxml2",
                "deploy (1001)",
                "Sub-process /usr/bin/dpkg returned an error code (1)",
            ),
        ),
    ),
    "lp-lnx-db-01": (
        DUBLIN,
        (
            AptBlock(
                (8, 12, 9, 30, 5),
                41,
                (
                    ("libc6:amd64", _GLIBC_OLD, _GLIBC_NEW),
                    ("libc-bin:amd64", _GLIBC_OLD, _GLIBC_NEW),
                    ("locales:amd64", _GLIBC_OLD, _GLIBC_NEW),
                ),
                "apt-get upgrade -y",
                "dba-oncall (1002)",
            ),
        ),
    ),
    "lp-bastion-01": (DUBLIN, (AptBlock((7, 15, 7, 5, 12), 9, (("sudo:amd64", _SUDO, "1.9.9-1ubuntu2.4"),)),)),
}


def apt_path(asset: str) -> str:
    return f"patches/apt/{asset.removeprefix('lp-')}/history.log"


def apt_log(blocks: tuple[AptBlock, ...]) -> bytes:
    """/var/log/apt/history.log as apt writes it (plaso's Debian log for the shape; blocks without
    Commandline are unattended-upgrades runs)."""
    out = []
    for block in blocks:
        month, day, hour, minute, second = block.start
        begin = datetime(2026, month, day, hour, minute, second)
        end = begin + timedelta(seconds=block.seconds)
        out.append(f"Start-Date: {begin:%Y-%m-%d  %H:%M:%S}")
        if block.commandline:
            out.append(f"Commandline: {block.commandline}")
        if block.requested_by:
            out.append(f"Requested-By: {block.requested_by}")
        out.append("Upgrade: " + ", ".join(f"{name} ({old}, {new})" for name, old, new in block.upgrades))
        if block.error:
            out.append(f"Error: {block.error}")
        out += [f"End-Date: {end:%Y-%m-%d  %H:%M:%S}", ""]
    return ("\n" + "\n".join(out)).encode("utf-8")


HOTFIX_PATH = "patches/windows/get-hotfix-2026-09-30.csv"
# (computer, KB, description, InstalledOn day): the servers were rebuilt on 2026-07-02.
HOTFIXES = (
    ("LP-WIN-01", "KB5012170", "Security Update", (7, 2)),
    ("LP-WIN-01", "KB5060526", "Security Update", (8, 14)),
    ("LP-WIN-02", "KB5012170", "Security Update", (7, 2)),
    ("LP-WIN-02", "KB5062572", "Security Update", (8, 11)),
)
_HOTFIX_COLUMNS = [
    "PSComputerName",
    "InstalledOn",
    "__PATH",
    "Status",
    "__GENUS",
    "__CLASS",
    "__SUPERCLASS",
    "__DYNASTY",
    "__RELPATH",
    "__PROPERTY_COUNT",
    "__DERIVATION",
    "__SERVER",
    "__NAMESPACE",
    "Caption",
    "CSName",
    "Description",
    "FixComments",
    "HotFixID",
    "InstallDate",
    "InstalledBy",
    "Name",
    "ServicePackInEffect",
    "Scope",
    "Path",
    "Options",
    "ClassPath",
    "Properties",
    "SystemProperties",
    "Qualifiers",
    "Site",
    "Container",
]


def hotfix_csv() -> bytes:
    """`Get-HotFix -ComputerName LP-WIN-01,LP-WIN-02 | Export-Csv -Encoding UTF8` on Windows PowerShell
    5.1 with the en-IE culture: UTF-8 with BOM, CRLF, the #TYPE line, 31 quoted columns (the layout of
    the project's hand-made 5.1 variant), day-first dates. (UTF-8 rather than 5.1's default UTF-16: the
    samples are read as UTF-8 text by the repository's secret check.)"""
    lines = ["#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_QuickFixEngineering"]
    lines.append(",".join(f'"{c}"' for c in _HOTFIX_COLUMNS))
    for computer, kb, description, (month, day) in HOTFIXES:
        relpath = f'Win32_QuickFixEngineering.HotFixID="{kb}",ServicePackInEffect=""'
        path = f"\\\\{computer}\\root\\cimv2:{relpath}"
        values = {
            "PSComputerName": computer,
            "InstalledOn": f"{day:02d}/{month:02d}/2026 00:00:00",
            "__PATH": path,
            "__GENUS": "2",
            "__CLASS": "Win32_QuickFixEngineering",
            "__SUPERCLASS": "CIM_LogicalElement",
            "__DYNASTY": "CIM_ManagedSystemElement",
            "__RELPATH": relpath,
            "__PROPERTY_COUNT": "11",
            "__DERIVATION": "System.String[]",
            "__SERVER": computer,
            "__NAMESPACE": "root\\cimv2",
            "Caption": f"https://support.microsoft.com/help/{kb[2:]}",
            "CSName": computer,
            "Description": description,
            "HotFixID": kb,
            "InstalledBy": "NT AUTHORITY\\SYSTEM",
            "Scope": "System.Management.ManagementScope",
            "Path": path,
            "Options": "System.Management.ObjectGetOptions",
            "ClassPath": f"\\\\{computer}\\root\\cimv2:Win32_QuickFixEngineering",
            "Properties": "System.Management.PropertyDataCollection",
            "SystemProperties": "System.Management.PropertyDataCollection",
            "Qualifiers": "System.Management.QualifierDataCollection",
        }
        lines.append(",".join('"' + values.get(c, "").replace('"', '""') + '"' for c in _HOTFIX_COLUMNS))
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


@dataclass(frozen=True)
class SsmPatch:
    kb: str  # name.arch
    title_version: str  # epoch:version-release
    classification: str
    severity: str
    state: str
    installed: datetime | None
    cves: str = ""


SSM_FILES = {
    "lp-ec2-pay-01": (
        "i-0a1b2c3d4e5f60718",
        (
            SsmPatch(
                "ca-certificates.noarch",
                "0:2023.2.68-1.0.amzn2023.0.1",
                "Bugfix",
                "None",
                "Installed",
                at(7, 2, 4, 20, 13),
            ),
            SsmPatch(
                "libxml2.x86_64", "0:2.10.4-1.amzn2023.0.10", "Security", "Medium", "Installed", at(8, 12, 3, 10, 41)
            ),
            SsmPatch(
                "kernel.x86_64",
                "0:6.1.141-155.222.amzn2023",
                "Security",
                "Medium",
                "InstalledPendingReboot",
                at(9, 10, 3, 12, 5),
            ),
            SsmPatch(
                "curl.x86_64",
                "0:8.11.1-4.amzn2023.0.1",
                "Security",
                "Medium",
                "Failed",
                None,
                "CVE-2025-0665,CVE-2025-0725",
            ),
        ),
    ),
    "lp-ec2-batch-01": (
        "i-0f9e8d7c6b5a40312",
        (
            SsmPatch(
                "ca-certificates.noarch",
                "0:2023.2.68-1.0.amzn2023.0.1",
                "Bugfix",
                "None",
                "Installed",
                at(7, 2, 4, 24, 51),
            ),
            SsmPatch(
                "openssl-libs.x86_64",
                "1:3.2.2-1.amzn2023.0.2",
                "Security",
                "Important",
                "Installed",
                at(8, 12, 3, 14, 9),
            ),
        ),
    ),
}


def ssm_path(asset: str) -> str:
    return f"patches/ssm/{SSM_FILES[asset][0]}-patches.json"


def ssm_json(patches: tuple[SsmPatch, ...]) -> bytes:
    """`aws ssm describe-instance-patches --instance-id … --filters Key=State,Values=Installed,
    InstalledOther,InstalledPendingReboot,Failed --output json` (CLI v2: ISO times, 4-space indent),
    with the Linux KBId/Title shape of the API reference sample. A failed patch has InstalledTime 0 and,
    as AWS documents, CVE ids (only Missing and Failed patches carry them)."""
    items = []
    for p in patches:
        item = {
            "Title": f"{p.kb}:{p.title_version}",
            "KBId": p.kb,
            "Classification": p.classification,
            "Severity": p.severity,
            "State": p.state,
            "InstalledTime": p.installed.isoformat() if p.installed else "1970-01-01T00:00:00+00:00",
        }
        if p.cves:
            item["CVEIds"] = p.cves
        items.append(item)
    return (json.dumps({"Patches": items}, indent=4) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Secret scanners and feeds

REPO = "lp-repo-payments-api"
GITLEAKS_PATH = "secrets/gitleaks-payments-api.json"
TRUFFLEHOG_PATH = "secrets/trufflehog-payments-api.jsonl"
GITLEAKS_AT = at(9, 29, 22, 0)
TRUFFLEHOG_AT = at(9, 29, 22, 30)
_COMMITS = {name: hexid(f"commit:{name}", 40) for name in ("settings", "deploy-key", "pip-conf")}


def gitleaks_json() -> bytes:
    """`gitleaks git --redact --report-format json` (v8 keys, as the project's v8 goldens): two leaks."""
    leaks = [
        (
            "generic-api-key",
            "Detected a Generic API Key, potentially exposing access to various services and sensitive operations.",
            "config/settings.py",
            42,
            13,
            'PSP_API_KEY = "REDACTED"',
            "settings",
            "2026-06-18T10:41:07Z",
            "settings: wire the PSP sandbox key",
        ),
        (
            "private-key",
            "Identified a Private Key, which may compromise cryptographic security and sensitive data encryption.",
            "deploy/keys/ci_deploy_ed25519",
            1,
            1,
            "REDACTED",
            "deploy-key",
            "2026-08-27T15:02:55Z",
            "deploy: add CI deploy key",
        ),
    ]
    out = []
    for rule, description, file, line, column, match, commit, when, message in leaks:
        sha = _COMMITS[commit]
        out.append(
            {
                "RuleID": rule,
                "Description": description,
                "StartLine": line,
                "EndLine": line,
                "StartColumn": column,
                "EndColumn": column + 40,
                "Match": match,
                "Secret": "REDACTED",
                "File": file,
                "SymlinkFile": "",
                "Commit": sha,
                "Entropy": 4.2781844,
                "Author": "Larkspur CI",
                "Email": "ci@larkspur.example",
                "Date": when,
                "Message": message,
                "Tags": [],
                "Fingerprint": f"{sha}:{file}:{rule}:{line}",
            }
        )
    return (json.dumps(out, indent=1) + "\n").encode("utf-8")


def trufflehog_jsonl() -> bytes:
    """`trufflehog git … --json` lines (the README example's shape): one verified Postgres URI, one
    unverified URI. The raw values are obvious dummies; the importer only hashes them."""
    findings = [
        (
            968,
            "Postgres",
            True,
            "config/settings.py",
            57,
            "settings",
            "2026-06-18 11:41:07 +0100 IST",
            "postgres://payments:dummy-not-a-secret-0001@10.20.8.21:5432/payments",
        ),
        (
            17,
            "URI",
            False,
            "ci/pip.conf",
            3,
            "pip-conf",
            "2026-09-03 09:15:40 +0100 IST",
            "https://ci-bot:dummy-not-a-secret-0002@artifacts.larkspur.example/simple",
        ),
    ]
    lines = []
    for detector_type, name, verified, file, line, commit, when, raw in findings:
        record = {
            "SourceMetadata": {
                "Data": {
                    "Git": {
                        "commit": _COMMITS[commit],
                        "file": file,
                        "email": "Larkspur CI <ci@larkspur.example>",
                        "repository": "https://github.com/larkspur-payments/payments-api.git",
                        "timestamp": when,
                        "line": line,
                    }
                }
            },
            "SourceID": 1,
            "SourceType": 16,
            "SourceName": "trufflehog - git",
            "DetectorType": detector_type,
            "DetectorName": name,
            "DecoderName": "PLAIN",
            "Verified": verified,
            "Raw": raw,
            "Redacted": raw.split("@")[0].rsplit(":", 1)[0] + ":********@" + raw.split("@", 1)[1],
            "ExtraData": None,
            "StructuredData": None,
        }
        text = json.dumps(record, separators=(",", ":"))
        lines.append(text.replace("<", "\\u003c").replace(">", "\\u003e"))  # as Go's encoder writes them
    return ("\n".join(lines) + "\n").encode("utf-8")


KEV_PATH = "intel/known_exploited_vulnerabilities.json"
KEV_SLICE = FIXTURES / "tool-samples" / "kev-json" / "known_exploited_vulnerabilities.slice.json"
KEV_CVES = ("CVE-2025-33053", "CVE-2024-38475")


def kev_json() -> bytes:
    """The catalog entries of the CVEs in scope, copied field for field from the real 2025.08.25 slice
    (feed order, newest first; `count` = entries), under the slice's own header."""
    real = json.loads(KEV_SLICE.read_text(encoding="utf-8"))
    entries = [v for v in real["vulnerabilities"] if v["cveID"] in KEV_CVES]
    doc = {k: real[k] for k in ("title", "catalogVersion", "dateReleased")}
    doc |= {"count": len(entries), "vulnerabilities": entries}
    return (json.dumps(doc, indent=4, ensure_ascii=False) + "\n").encode("utf-8")


def kev_entry(cve: str) -> dict[str, Any]:
    real = json.loads(KEV_SLICE.read_text(encoding="utf-8"))
    return next(v for v in real["vulnerabilities"] if v["cveID"] == cve)


EPSS_PATH = "intel/epss_scores-2025-06-18.csv"


def epss_csv() -> bytes:
    """A FIRST daily-file slice: the scores of 2025-06-18 that the real grype report carries for the
    busybox CVEs (FIRST data as grype recorded it), with the file's comment line."""
    doc = json.loads(GRYPE_GOLDEN.read_text(encoding="utf-8"))
    rows = sorted(
        (e["cve"], e["epss"], e["percentile"])
        for m in doc["matches"]
        for e in m["vulnerability"].get("epss", [])
        if m["vulnerability"]["id"] in GRYPE_KEPT
    )
    out = ["#model_version:v2025.03.14,score_date:2025-06-18T00:00:00Z", "cve,epss,percentile"]
    out += [f"{cve},{epss:.5f},{pct:.5f}" for cve, epss, pct in rows]
    return ("\n".join(out) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# The manifest


@dataclass
class Spec:
    """One source of the manifest and its bytes."""

    path: str
    data: bytes
    collected_at: datetime
    tool: str
    format: str | None = None
    kind: str | None = None
    asset_id: str | None = None
    timezone: str | None = None
    date_order: str | None = None
    description: str = ""


def sources() -> list[Spec]:
    """Every file of the bundle, in manifest order."""
    inventory = Spec(
        "inventory/cmdb-assets.csv",
        cmdb_csv(),
        at(9, 30, 16, 0),
        "ServiceNow CMDB export (cmdb_ci, Larkspur production)",
        "csv",
        "assets",
        description="The inventory; aliases hold the host names, IPs, instance ids and image references tools use",
    )
    return [inventory, *_scanner_specs(), *_patch_specs(), *_other_specs()]


def _scanner_specs() -> list[Spec]:
    """Image scans exported from CI on 09-30, the Nessus scans exported from the console."""
    ci = at(9, 30, 18, 5)
    specs = [
        Spec(
            trivy_path(i, n),
            trivy_report(i, n),
            ci,
            "Trivy 0.65 image scan (CI artifact)",
            "trivy-json",
            asset_id=i.asset,
        )
        for i in TRIVY_IMAGES
        for n in range(3)
    ]
    specs += [
        Spec(path, grype_report(n), ci, "Grype 0.94 image scan (CI artifact)", "grype-json", asset_id=GRYPE_ASSET)
        for n, (path, *_rest) in enumerate(GRYPE_SCANS)
    ]
    description = "One scan, eight hosts; host names resolve through the CMDB aliases"
    specs += [
        Spec(
            nessus_path(n),
            nessus_file(n),
            at(9, 30, 17, 40),
            "Tenable Nessus 10.8 (export as .nessus)",
            "nessus-xml",
            description=description,
        )
        for n in range(3)
    ]
    return specs


def _patch_specs() -> list[Spec]:
    """The patch tools' own records: apt logs, the Get-HotFix export, SSM per-instance patches."""
    specs = [
        Spec(
            apt_path(asset),
            apt_log(blocks),
            at(9, 30, 15, 20),
            "apt history.log (copied from /var/log/apt)",
            "apt-history-log",
            asset_id=asset,
            timezone=zone,
        )
        for asset, (zone, blocks) in APT_LOGS.items()
    ]
    specs.append(
        Spec(
            HOTFIX_PATH,
            hotfix_csv(),
            at(9, 30, 16, 12),
            "Windows PowerShell 5.1 Get-HotFix | Export-Csv -Encoding UTF8 (en-IE)",
            "windows-hotfix-csv",
            timezone=DUBLIN,
            date_order="dmy",
            description="Both Windows servers; CSName resolves through the CMDB aliases",
        )
    )
    specs += [
        Spec(
            ssm_path(asset),
            ssm_json(patches),
            at(9, 30, 16, 30),
            "aws ssm describe-instance-patches (AWS CLI v2)",
            "aws-ssm-instance-patches",
            asset_id=asset,
        )
        for asset, (_instance, patches) in SSM_FILES.items()
    ]
    return specs


def _other_specs() -> list[Spec]:
    """The secret scanners' runs over the repository, and the two feeds."""
    feeds = at(9, 30, 7, 0)
    return [
        Spec(
            GITLEAKS_PATH,
            gitleaks_json(),
            GITLEAKS_AT,
            "Gitleaks 8.27 (scheduled repository scan, --redact)",
            "gitleaks-json",
            asset_id=REPO,
        ),
        Spec(
            TRUFFLEHOG_PATH,
            trufflehog_jsonl(),
            TRUFFLEHOG_AT,
            "TruffleHog 3.90 git --json",
            "trufflehog-jsonl",
            asset_id=REPO,
        ),
        Spec(KEV_PATH, kev_json(), feeds, "CISA KEV catalog (slice of the CVEs in scope)", "kev-json"),
        Spec(EPSS_PATH, epss_csv(), feeds, "FIRST EPSS daily scores (slice)", "epss-csv"),
    ]


MANIFEST_HEAD: dict[str, Any] = {
    "bundle_version": 1,
    "organisation": "Larkspur Payments",
    "scope": "Payments production estate: container images, Linux and Windows servers, AWS eu-west-1 "
    "workloads and the payments-api repository",
    "period": {"start": PERIOD_START.isoformat(), "end": PERIOD_END.isoformat()},
    "prepared_by": {"name": "Niamh Walsh", "role": "Vulnerability Management Lead"},
    "reviewed_by": {"name": "Tomasz Kowal", "role": "Internal Audit"},
    "classification": "Confidential",
}


def manifest(specs: list[Spec]) -> bytes:
    """bundle.yaml: tool files listed with `format:` (no `kind:`: the importer decides), the asset
    where the format does not name it, the time zone and date order of local times, and a sha256."""
    entries = []
    for s in specs:
        entry: dict[str, Any] = {"path": s.path}
        if s.kind:
            entry["kind"] = s.kind
        entry["format"] = s.format
        for key in ("asset_id", "timezone", "date_order"):
            if getattr(s, key):
                entry[key] = getattr(s, key)
        entry |= {"collected_at": iso_z(s.collected_at), "tool": s.tool}
        if s.description:
            entry["description"] = s.description
        entry["sha256"] = hashlib.sha256(s.data).hexdigest()
        entries.append(entry)
    data = MANIFEST_HEAD | {"sources": entries}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# The scenario: what each story must end as, written from docs/verification.md (not from the engine)

STORIES = {
    "a": "image finding gone in a later Trivy rescan, no deployment: rescan-absent, fixed without change record",
    "a2": "the same on the Grype image, rebuilt on busybox 1.36.1 with no change record",
    "b": "apt upgrade to the fixed version, the next credentialed Nessus scan no longer reports it: verified fixed",
    "c": "KB installed (Get-HotFix), the next credentialed scan still reports its plugin: deployed still vulnerable",
    "d": "KB installed (Get-HotFix), the next credentialed scan no longer reports it: verified fixed",
    "d2": "the previous rollup on the same server, superseded by the KB installed: gone, no deployment names it",
    "e": "apt upgrade on the bastion, every later scan unauthenticated: not in scan scope, unverified",
    "f": "SSM Installed patch linked by package version, gone at the next scan: verified fixed",
    "f2": "SSM InstalledPendingReboot patch linked to a finding still reported: unresolved (DEP-01)",
    "f3": "apt block with an Error line (failed upgrade) linked to a finding still reported: unresolved (DEP-01)",
    "g": "apt upgrade to a version below the fixed version: not linked, the finding stays open",
    "h": "KEV vulnerability on an internet-facing host, never fixed, past its KEV due date",
    "i": "image finding gone from one scan and back in the next: not fixed",
    "j": "EC2 instance never scanned: its SSM patches are activity with no target (INV-03, INV-04)",
    "k": "leaked secrets in the repository (Gitleaks, TruffleHog), never revoked (NHI-02)",
    "open": "reported by every scan, no deployment: open",
}

# Every finding-instance and its state at as_of. `evidence` names the derived verifications the
# rules of docs/verification.md give, each as rule@scan (scan 0, 1, 2 of the asset's tool, in time
# order): absent = rescan-absent not_vulnerable, deployment = rescan-after-deployment not_vulnerable
# (with the same scan's rescan-absent), still = rescan-after-deployment vulnerable, uncovered =
# rescan-not-covering inconclusive. A fixed instance rests on the rule written first.
LEDGER = """
asset                 vuln            severity  story state                        link             evidence
lp-img-checkout       CVE-2019-18276  low       open  open                         -                -
lp-img-checkout       CVE-2019-5094   medium    a     fixed_without_change_record  -                absent@1
lp-img-ledger         CVE-2019-18276  low       open  open                         -                -
lp-img-ledger         CVE-2019-5094   medium    i     open                         -                -
lp-img-recon          CVE-2021-42374  medium    a2    fixed_without_change_record  -                absent@1
lp-img-recon          CVE-2021-42376  medium    a2    fixed_without_change_record  -                absent@1
lp-img-recon          CVE-2022-28391  high      a2    fixed_without_change_record  -                absent@1
lp-img-recon          CVE-2022-48174  critical  a2    fixed_without_change_record  -                absent@1
lp-img-recon          CVE-2024-58251  low       open  open                         -                -
lp-img-recon          CVE-2025-46394  low       open  open                         -                -
lp-lnx-api-01         CVE-2023-0464   medium    b     verified_fixed               package-version  deployment@1
lp-lnx-api-01         CVE-2023-0465   medium    b     verified_fixed               package-version  deployment@1
lp-lnx-api-01         CVE-2024-7264   medium    open  open                         -                -
lp-lnx-api-02         CVE-2024-25062  medium    f3    open                         package-version  -
lp-lnx-db-01          CVE-2023-6246   high      g     open                         -                -
lp-lnx-db-01          CVE-2023-6779   high      g     open                         -                -
lp-lnx-db-01          CVE-2023-6780   high      g     open                         -                -
lp-lnx-web-01         CVE-2024-38474  critical  h     open                         -                -
lp-lnx-web-01         CVE-2024-38475  critical  h     open                         -                -
lp-lnx-web-01         CVE-2024-38476  critical  h     open                         -                -
lp-bastion-01         CVE-2023-22809  high      e     not_in_scan_scope            package-version  uncovered@1
lp-bastion-01         CVE-2023-48795  medium    open  open                         -                -
lp-win-01             CVE-2025-32710  high      c     deployed_still_vulnerable    kb-reference     still@1
lp-win-01             CVE-2025-33053  high      c     deployed_still_vulnerable    kb-reference     still@1
lp-win-01             CVE-2025-33073  high      c     deployed_still_vulnerable    kb-reference     still@1
lp-win-01             CVE-2025-47981  critical  open  open                         -                -
lp-win-01             CVE-2025-48822  critical  open  open                         -                -
lp-win-01             CVE-2025-49735  critical  open  open                         -                -
lp-win-02             CVE-2025-32710  high      d2    fixed_without_change_record  -                absent@1
lp-win-02             CVE-2025-33053  high      d2    fixed_without_change_record  -                absent@1
lp-win-02             CVE-2025-33073  high      d2    fixed_without_change_record  -                absent@1
lp-win-02             CVE-2025-47981  critical  d     verified_fixed               kb-reference     deployment@1
lp-win-02             CVE-2025-48822  critical  d     verified_fixed               kb-reference     deployment@1
lp-win-02             CVE-2025-49735  critical  d     verified_fixed               kb-reference     deployment@1
lp-ec2-pay-01         CVE-2025-21756  medium    f2    open                         package-version  -
lp-ec2-pay-01         CVE-2025-32414  medium    f     verified_fixed               package-version  deployment@1
lp-ec2-pay-01         CVE-2025-32415  medium    f     verified_fixed               package-version  deployment@1
"""

# Every deployment the patch tools record (the SSM Failed patch has no time: not counted, docs/importers.md),
# the instances it is linked to (by the plugin whose CVEs it fixes) and the gaps it must raise:
# VER-01 successful and linked, no conclusive verification in its window; VER-02 the first conclusive
# verification after it still finds a target; DEP-01 failed or pending a reboot, a target not resolved.
DEPLOYMENTS = """
asset              patch                                        status          linked to      gaps
lp-bastion-01      sudo=1.9.9-1ubuntu2.4                        succeeded       usn-5811-1     VER-01
lp-ec2-batch-01    ca-certificates=2023.2.68-1.0.amzn2023.0.1   succeeded       -              -
lp-ec2-batch-01    openssl-libs=1:3.2.2-1.amzn2023.0.2          succeeded       -              -
lp-ec2-pay-01      ca-certificates=2023.2.68-1.0.amzn2023.0.1   succeeded       -              -
lp-ec2-pay-01      curl=8.11.1-4.amzn2023.0.1                   failed          untimed        -
lp-ec2-pay-01      kernel=6.1.141-155.222.amzn2023              pending_reboot  alas-kernel    DEP-01
lp-ec2-pay-01      libxml2=2.10.4-1.amzn2023.0.10               succeeded       alas-libxml2   -
lp-lnx-api-01      libssl3=3.0.2-0ubuntu1.10                    succeeded       usn-6039-1     -
lp-lnx-api-01      openssl=3.0.2-0ubuntu1.10                    succeeded       usn-6039-1     -
lp-lnx-api-01      tzdata=2025b-0ubuntu0.22.04.1                succeeded       -              -
lp-lnx-api-02      libxml2=2.9.13+dfsg-1ubuntu0.4               failed          usn-6658-1     DEP-01
lp-lnx-db-01       libc-bin=2.36-9+deb12u3                      succeeded       -              -
lp-lnx-db-01       libc6=2.36-9+deb12u3                         succeeded       -              -
lp-lnx-db-01       locales=2.36-9+deb12u3                       succeeded       -              -
lp-win-01          KB5012170                                    succeeded       -              -
lp-win-01          KB5060526                                    succeeded       kb5060526      VER-02
lp-win-02          KB5012170                                    succeeded       -              -
lp-win-02          KB5062572                                    succeeded       kb5062572      -
"""


def _table(text: str) -> list[list[str]]:
    """The rows of a literal table (header line dropped, `-` for none)."""
    return [line.split() for line in text.strip().splitlines()[1:]]


@dataclass(frozen=True)
class Expected:
    """One finding-instance of the ledger as the scenario decides it."""

    asset: str
    vuln: str
    severity: str
    story: str
    state: str
    link: str | None
    evidence: tuple[tuple[str, str, str, datetime], ...]  # (rule, result, scan file, scan time)
    first_seen: datetime

    @property
    def fixed(self) -> bool:
        return self.state in ("verified_fixed", "fixed_without_change_record")

    @property
    def fixed_at(self) -> datetime | None:
        return self.evidence[0][3] if self.fixed else None

    @property
    def fixed_rule(self) -> str | None:
        return self.evidence[0][0] if self.fixed else None

    @property
    def fixed_source(self) -> str | None:
        return self.evidence[0][2] if self.fixed else None


_EVIDENCE = {
    "absent": (("rescan-absent", "not_vulnerable"),),
    "deployment": (("rescan-after-deployment", "not_vulnerable"), ("rescan-absent", "not_vulnerable")),
    "still": (("rescan-after-deployment", "vulnerable"),),
    "uncovered": (("rescan-not-covering", "inconclusive"),),
}


def scans_of(asset: str) -> list[tuple[str, datetime]]:
    """(file, completion time) of the scans of an asset, in time order."""
    for image in TRIVY_IMAGES:
        if image.asset == asset:
            return [(trivy_path(image, n), trivy_time(image, n)) for n in range(3)]
    if asset == GRYPE_ASSET:
        return [(path, moment) for path, moment, *_ in GRYPE_SCANS]
    host = next(h for h in HOSTS if h.asset == asset)
    return [(nessus_path(n), host_end(host, n)) for n in range(3)]


def ledger_plan() -> list[Expected]:
    """The LEDGER table with first sightings and evidence resolved to the asset's scans."""
    out = []
    for asset, vuln, severity, story, state, link, evidence in _table(LEDGER):
        scans = scans_of(asset)
        derived: tuple[tuple[str, str, str, datetime], ...] = ()
        if evidence != "-":
            kind, index = evidence.split("@")
            path, moment = scans[int(index)]
            derived = tuple((rule, result, path, moment) for rule, result in _EVIDENCE[kind])
        out.append(Expected(asset, vuln, severity, story, state, None if link == "-" else link, derived, scans[0][1]))
    return out


@dataclass(frozen=True)
class Deployment:
    """A deployment the patch tools record, and what the scenario says about it."""

    asset: str
    patch: str
    status: str
    completed: datetime | None
    source: str
    targets: tuple[str, ...]  # the vulnerabilities it is linked to
    gaps: tuple[str, ...]


def deployment_plan() -> list[Deployment]:
    """The DEPLOYMENTS table with each deployment's time and file taken from the tool inputs."""
    timing = _deployment_times()
    out = []
    for asset, patch, status, linked, gaps in _table(DEPLOYMENTS):
        completed, source = timing[(asset, patch)]
        targets = PLUGINS[linked].cves if linked in PLUGINS else ()
        out.append(Deployment(asset, patch, status, completed, source, targets, () if gaps == "-" else (gaps,)))
    return out


def _deployment_times() -> dict[tuple[str, str], tuple[datetime | None, str]]:
    """When each patch-tool record completed, in UTC, and its file: apt End-Date in the host's zone,
    a Get-HotFix date as the end of that local day, SSM InstalledTime (0: none)."""
    out: dict[tuple[str, str], tuple[datetime | None, str]] = {}
    for asset, (zone, blocks) in APT_LOGS.items():
        offset = timedelta(hours=1) if zone == DUBLIN else timedelta()
        for block in blocks:
            end = at(*block.start) + timedelta(seconds=block.seconds) - offset
            for name, _old, new in block.upgrades:
                out[(asset, f"{name.split(':')[0]}={new}")] = (end, apt_path(asset))
    for computer, kb, _description, (month, day) in HOTFIXES:
        asset = next(a.id for a in ASSETS if computer in a.aliases)
        out[(asset, kb)] = (at(month, day, 23, 59, 59) - timedelta(hours=1), HOTFIX_PATH)
    for asset, (_instance, patches) in SSM_FILES.items():
        for p in patches:
            name = p.kb.rsplit(".", 1)[0]
            epoch, version = p.title_version.split(":", 1)
            out[(asset, f"{name}={'' if epoch == '0' else epoch + ':'}{version}")] = (p.installed, ssm_path(asset))
    return out


# ---------------------------------------------------------------------------------------------
# Deadlines (docs/policy.md, the default rule library) and the PRI controls


def _bod_days(kev: bool, exposed: bool) -> tuple[str, int] | None:
    """BOD 26-04 Table 1 with the documented defaults for missing SSVC data (automatable no,
    technical impact total): no/no FSU, one of KEV or exposed 14D, both 3DF."""
    if kev and exposed:
        return "BOD2604-3DF", 3
    if kev or exposed:
        return "BOD2604-14D", 14
    return None


_SEVERITY_RULES = {
    "critical": ("SEV-CRITICAL-HIGH", 30),
    "high": ("SEV-CRITICAL-HIGH", 30),
    "medium": ("SEV-MEDIUM", 90),
    "low": ("SEV-LOW", 180),
}


def deadline(e: Expected) -> tuple[datetime, str]:
    """The strictest deadline of the default rules (earliest; a tie goes to the rule listed first)."""
    kev = e.vuln in KEV_CVES
    exposed = ASSET_BY_ID[e.asset].internet_facing
    candidates: list[tuple[datetime, int, str]] = []
    bod = _bod_days(kev, exposed)
    if bod:
        clock = e.first_seen
        if kev:
            added = date.fromisoformat(kev_entry(e.vuln)["dateAdded"])
            clock = min(clock, datetime(added.year, added.month, added.day, tzinfo=UTC))
        candidates.append((clock + timedelta(days=bod[1]), 0, bod[0]))
    if kev:
        due = date.fromisoformat(kev_entry(e.vuln)["dueDate"]) + timedelta(days=1)
        candidates.append((datetime(due.year, due.month, due.day, tzinfo=UTC), 1, "KEV-DUE"))
    rule, days = _SEVERITY_RULES[e.severity]
    candidates.append((e.first_seen + timedelta(days=days), 2, rule))
    moment, _order, rule = min(candidates)
    return moment, rule


def sla_status(e: Expected) -> str:
    due, _ = deadline(e)
    if e.fixed_at is not None and e.fixed_at <= due:
        return "met"
    return "missed" if due <= AS_OF else "pending"


def is_open(e: Expected) -> bool:
    return e.state not in ("verified_fixed", "fixed_without_change_record", "retired", "not_affected")


def pri_gaps(plan: list[Expected]) -> dict[str, list[Expected]]:
    """PRI-01 (T1 cohort missed), PRI-02 (KEV not fixed by the KEV due date), PRI-03 (open
    critical/high/KEV on internet-facing past due), PRI-04 (open past due)."""
    out: dict[str, list[Expected]] = {"PRI-01": [], "PRI-02": [], "PRI-03": [], "PRI-04": []}
    for e in plan:
        due, _ = deadline(e)
        kev = e.vuln in KEV_CVES
        if due <= AS_OF and (due >= START_AT or e.first_seen >= START_AT) and sla_status(e) == "missed":
            out["PRI-01"].append(e)
        if kev:
            kev_due = date.fromisoformat(kev_entry(e.vuln)["dueDate"]) + timedelta(days=1)
            kev_at = datetime(kev_due.year, kev_due.month, kev_due.day, tzinfo=UTC)
            if kev_at <= AS_OF and not (e.fixed_at is not None and e.fixed_at <= kev_at):
                out["PRI-02"].append(e)
        overdue_open = is_open(e) and due < AS_OF
        if overdue_open and ASSET_BY_ID[e.asset].internet_facing and (kev or e.severity in ("critical", "high")):
            out["PRI-03"].append(e)
        if overdue_open:
            out["PRI-04"].append(e)
    return out


# ---------------------------------------------------------------------------------------------
# Expected control results and headline


def _instances(items: list[Expected], situation: str) -> list[dict[str, Any]]:
    return [{"asset": e.asset, "vuln": e.vuln, "situation": situation} for e in items]


def _deployments(items: list[Deployment], situation: str) -> list[dict[str, Any]]:
    return [{"asset": d.asset, "patch": d.patch, "situation": situation} for d in items]


# docs/controls.md rule 1: a kind the control's Evidence line lists has no record → insufficient_evidence.
INSUFFICIENT = {
    "INV-07": "identities",
    **{f"EXC-0{n}": "exceptions" for n in range(1, 6)},
    **{f"RLB-0{n}": "rollout_events" for n in range(1, 4)},
    **{f"NHI-{n:02d}": "identities" for n in range(1, 16) if n != 2},
    **{f"AGT-0{n}": "agents" for n in range(1, 4)},
}
NOT_APPLICABLE = {
    "INV-06": "no third-party or vendor-managed asset",
    "INV-08": "no container runtime in the inventory",
    "VER-03": "no finding closed by its source (scanner findings stay open until a rescan shows them gone)",
    "VER-05": "no ephemeral asset in the inventory",
    "VER-06": "no verification record: every verification is derived from rescans",
}
PASSING = {
    "INV-01": "every Nessus host name is the name or an alias of an inventory asset",
    "INV-02": "every asset has owner, criticality, internet_facing and environment",
    "INV-05": "every asset is enrolled in automated patching",
    "EVD-02": "every source collected on 2026-09-29 or 30",
    "EVD-03": "every source has a sha256",
}
EXTERNAL = "internet-facing: no external-scope scan in the 30 days before as_of (Nessus scans are internal)"
COVERAGE_GAPS = {
    "INV-03": {
        "lp-lnx-web-01": EXTERNAL,
        "lp-bastion-01": EXTERNAL,
        "lp-ec2-batch-01": "never scanned (story j)",
        "lp-repo-payments-api": "no vulnerability scan (Gitleaks and TruffleHog are not vulnerability scans)",
    },
    "INV-04": {
        "lp-bastion-01": "last authenticated scan 2026-07-07, more than 30 days before as_of (internet-facing)",
        "lp-ec2-batch-01": "never scanned (story j)",
    },
}
MISSING_KINDS = ("agents", "exceptions", "identities", "rollout_events")


def expected_controls(plan: list[Expected], deployments: list[Deployment]) -> dict[str, Any]:
    """Status and exhaustive flagged records of every control of the library."""
    pri = pri_gaps(plan)
    timed = [d for d in deployments if d.completed is not None]
    failing: dict[str, tuple[str, list[dict[str, Any]]]] = {
        control: ("assets", [{"asset": a, "situation": why} for a, why in gaps.items()])
        for control, gaps in COVERAGE_GAPS.items()
    }
    failing |= {
        "PRI-01": ("instances", _instances(pri["PRI-01"], "due in the period, not verified fixed by its deadline")),
        "PRI-02": ("instances", _instances(pri["PRI-02"], "KEV, not verified fixed by the KEV due date")),
        "PRI-03": (
            "instances",
            _instances(pri["PRI-03"], "open critical/high/KEV on an internet-facing asset, overdue"),
        ),
        "PRI-04": ("instances", _instances(pri["PRI-04"], "open past its deadline")),
        "VER-04": (
            "instances",
            _instances([e for e in plan if e.state == "fixed_without_change_record"], "gone, no deployment names it"),
        ),
        "DEP-02": ("deployments", _deployments(timed, "patch tools record no change reference")),
        "NHI-02": (
            "secret_exposures",
            [{**x, "situation": "leaked secret neither revoked nor verified invalid"} for x in exposures_plan()],
        ),
        "EVD-01": ("kinds", [{"kind": k, "situation": f"no source provides {k}"} for k in MISSING_KINDS]),
    }
    for control, situation in (
        ("VER-01", "successful and linked, no conclusive verification in its window"),
        ("VER-02", "the first covering rescan after it still reports its targets"),
        ("DEP-01", "failed or pending reboot, a target not resolved by a later success or verification"),
    ):
        failing[control] = ("deployments", _deployments([d for d in timed if control in d.gaps], situation))
    out: dict[str, Any] = {}
    for control_id in sorted({*INSUFFICIENT, *NOT_APPLICABLE, *PASSING, *failing}):
        if control_id in INSUFFICIENT:
            out[control_id] = {"status": "insufficient_evidence", "why": f"no {INSUFFICIENT[control_id]} records"}
        elif control_id in NOT_APPLICABLE:
            out[control_id] = {"status": "not_applicable", "why": NOT_APPLICABLE[control_id]}
        elif control_id in PASSING:
            out[control_id] = {"status": "pass", "why": PASSING[control_id]}
        else:
            keyed_by, flagged = failing[control_id]
            out[control_id] = {"status": "fail", "keyed_by": keyed_by, "count": len(flagged)}
        out[control_id]["flagged"] = failing.get(control_id, ("", []))[1]
    return out


def expected_headline(plan: list[Expected], deployments: list[Deployment]) -> dict[str, Any]:
    """Activity beside verified reduction (results.json `headline`), counted from the scenario: E1 over
    the deployments completed in the period, E2 over the instances their successes are linked to;
    still vulnerable and unverified are VER-02's and VER-01's gaps over their populations (successful
    linked deployments with a later conclusive verification; past their window)."""
    in_period = [d for d in deployments if d.completed is not None and START_AT <= d.completed < AS_OF]
    succeeded = [d for d in in_period if d.status == "succeeded"]
    linked = [d for d in succeeded if d.targets]
    targeted = {(d.asset, v) for d in linked for v in d.targets}
    removed = targeted & {(e.asset, e.vuln) for e in plan if e.fixed}
    checked = [d for d in linked if "VER-01" not in d.gaps]
    return {
        "deployments_attempted": len(in_period),
        "deployments_succeeded": len(succeeded),
        "targeted_instances": len(targeted),
        "verified_removed": {"numerator": len(removed), "denominator": len(targeted)},
        "verified_by_rescan": len(removed),
        "verified_by_record": 0,
        "targeted_by_inference": len(targeted),  # no patch tool names the vulnerabilities of a successful patch
        "still_vulnerable": {"numerator": sum("VER-02" in d.gaps for d in checked), "denominator": len(checked)},
        "unverified": {"numerator": sum("VER-01" in d.gaps for d in linked), "denominator": len(linked)},
    }


def exposures_plan() -> list[dict[str, str]]:
    """The secret exposures (asset, detector, location) the two scanners report: Gitleaks locates a
    leak in the manifest's asset, TruffleHog in the repository URL it cloned."""
    cloned = "https://github.com/larkspur-payments/payments-api.git"
    return [
        {
            "asset": REPO,
            "detector": "generic-api-key",
            "location": f"{REPO}@{_COMMITS['settings']}:config/settings.py:42",
        },
        {
            "asset": REPO,
            "detector": "private-key",
            "location": f"{REPO}@{_COMMITS['deploy-key']}:deploy/keys/ci_deploy_ed25519:1",
        },
        {"asset": REPO, "detector": "Postgres", "location": f"{cloned}@{_COMMITS['settings']}:config/settings.py:57"},
        {"asset": REPO, "detector": "URI", "location": f"{cloned}@{_COMMITS['pip-conf']}:ci/pip.conf:3"},
    ]


READING = [
    "Written from the scenario (LEDGER and DEPLOYMENTS in evidence-samples/gen_tools.py) and docs/verification.md, "
    "docs/controls.md, docs/policy.md and docs/metrics.md; never from the engine's output.",
    "as_of is the first instant after the period, 2026-10-01T00:00:00Z; default policy (no policy file).",
    "Finding-instances are keyed by (asset, vuln), deployments by (asset, patch), secret exposures by (asset, "
    "detector, location): record ids are the importers' hashes.",
    "Tool host names resolve through the CMDB aliases; every asset id here is the inventory id.",
    "A Nessus finding is covered by a later credentialed scan of the host whose policy enables its family or "
    "plugin; an image finding by the next scan of the same image by the same tool.",
    "A fixed instance rests on the first not-vulnerable verification after its last sighting; when the rescan "
    "answers a deployment, rescan-after-deployment is the rule cited.",
    "Deadlines: the earliest of the default rules (BOD 26-04 with the documented SSVC defaults, KEV due date, "
    "severity 30/90/180 days); a KEV due date is the end of that day, UTC.",
    "PRI-01's cohort includes instances detected in the period already past due; PRI-02 counts a KEV instance "
    "first detected in the period (it was not fixed at the period start either).",
    "A deployment without a time (the SSM Failed patch, InstalledTime 0) is not counted anywhere "
    "(docs/importers.md, aws-ssm-instance-patches).",
    "A control needs the record kinds its Evidence line lists (docs/controls.md rule 1); verifications count as "
    "present because findings name their scans (docs/verification.md).",
]


_MARGIN = timedelta(days=1)


def assert_decidable(plan: list[Expected], deployments: list[Deployment]) -> None:
    """No borderline times: every deadline is a day or more from as_of and from the fix, and every
    linked success is a day or more from the next scan of its asset and from the end of its
    verification window (7 days urgent, 30 otherwise)."""
    for e in plan:
        due, _rule = deadline(e)
        near = [m for m in (AS_OF, e.fixed_at) if m is not None and abs(due - m) < _MARGIN]
        if near:
            raise ValueError(f"{e.asset} {e.vuln}: deadline {due} too close to {near}")
    for d in deployments:
        if d.status != "succeeded" or not d.targets or d.completed is None:
            continue
        urgent = ASSET_BY_ID[d.asset].internet_facing or any(v in KEV_CVES for v in d.targets)
        window_end = d.completed + timedelta(days=7 if urgent else 30)
        later = [moment for _path, moment in scans_of(d.asset) if moment > d.completed]
        if any(abs(m - d.completed) < _MARGIN or abs(m - window_end) < _MARGIN for m in later):
            raise ValueError(f"{d.asset} {d.patch}: a scan too close to the deployment or its window end")


def _ts(moment: datetime | None) -> str | None:
    return iso_z(moment) if moment else None


def _ledger_row(e: Expected, hashes: dict[str, str]) -> dict[str, Any]:
    due, rule = deadline(e)
    row: dict[str, Any] = {
        "asset": e.asset,
        "vuln": e.vuln,
        "story": e.story,
        "state": e.state,
        "severity": e.severity,
        "first_detected_at": _ts(e.first_seen),
        "deployment_link": e.link,
        "due_at": _ts(due),
        "sla_rule": rule,
        "sla_status": sla_status(e),
    }
    if e.fixed:
        source = e.fixed_source or ""
        row |= {"fixed_at": _ts(e.fixed_at), "fixed_rule": e.fixed_rule, "verification_source": source}
        row["verification_sha256"] = hashes[source]
    row["derived_verifications"] = [{"rule": r, "result": res, "source": src} for r, res, src, _at in e.evidence]
    return row


def expectations(specs: list[Spec]) -> dict[str, Any]:
    """The expectations file: ledger, deployments, headline and every control."""
    plan, deployments = ledger_plan(), deployment_plan()
    assert_decidable(plan, deployments)
    hashes = {s.path: hashlib.sha256(s.data).hexdigest() for s in specs}
    return {
        "expectations_version": 1,
        "bundle": LARKSPUR,
        "period": {"start": PERIOD_START.isoformat(), "end": PERIOD_END.isoformat()},
        "as_of": iso_z(AS_OF),
        "reading": READING,
        "stories": STORIES,
        "ledger": [_ledger_row(e, hashes) for e in plan],
        "deployments": [
            {
                "asset": d.asset,
                "patch": d.patch,
                "status": d.status,
                "completed_at": _ts(d.completed),
                "source": d.source,
                "linked": list(d.targets),
                "gaps": list(d.gaps),
            }
            for d in deployments
        ],
        "headline": expected_headline(plan, deployments),
        "controls": expected_controls(plan, deployments),
    }


# ---------------------------------------------------------------------------------------------
# Check the files against the scenario (through the importers), then build


def _alias_map() -> dict[str, str]:
    out = {}
    for a in ASSETS:
        for key in (a.id, a.name, *a.aliases):
            out[key.lower()] = a.id
    return out


def check_files(specs: list[Spec], scratch: Path) -> None:
    """Read every tool file with its manifest entry and check it says what the scenario says: the
    finding-instances and first sightings, the deployments, and the secret exposures."""
    aliases = _alias_map()
    found: dict[tuple[str, str], datetime] = {}
    deployments: set[tuple[str, str, str, str | None]] = set()
    exposures: set[tuple[str, str, str]] = set()
    for spec in specs:
        if spec.kind is not None:
            continue
        target = scratch / LARKSPUR / spec.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(spec.data)
        source = Source(
            path=spec.path,
            format=spec.format,
            asset_id=spec.asset_id,
            collected_at=spec.collected_at,
            timezone=spec.timezone,
            date_order=spec.date_order,
        )
        context = ImportContext(
            source_path=spec.path,
            asset_id=spec.asset_id,
            collected_at=spec.collected_at,
            timezone=spec.timezone,
            date_order=spec.date_order,
        )
        for record in collect(get_importer(source.effective_format), target, context):
            data = record.data
            asset = aliases.get(str(data.get("asset_id", "")).lower(), data.get("asset_id"))
            if record.kind == "findings":
                seen = datetime.fromisoformat(data["first_detected_at"])
                key = (str(asset), data["vuln_id"])
                found[key] = min(found.get(key, seen), seen)
            elif record.kind == "deployments":
                done = data.get("completed_at")
                deployments.add((str(asset), data["patch_id"], data["status"], done))
            elif record.kind == "secret_exposures":
                exposures.add((str(asset), data["detector"], data["location"]))
    plan = {(e.asset, e.vuln): e.first_seen for e in ledger_plan()}
    if found != plan:
        raise ValueError(f"the scanner files disagree with the scenario: {sorted(set(found) ^ set(plan))}")
    planned = {
        (d.asset, d.patch, d.status, d.completed.isoformat() if d.completed else None) for d in deployment_plan()
    }
    if deployments != planned:
        raise ValueError(f"the patch-tool files disagree with the scenario: {sorted(deployments ^ planned)}")
    wanted = {(x["asset"], x["detector"], x["location"]) for x in exposures_plan()}
    if exposures != wanted:
        raise ValueError(f"the secret-scanner files disagree with the scenario: {sorted(exposures ^ wanted)}")


def tools_quarter(scratch: Path) -> dict[str, bytes]:
    """Every file of the bundle and its expectations, by path relative to evidence-samples/."""
    specs = sources()
    check_files(specs, scratch)
    files = {f"{LARKSPUR}/{s.path}": s.data for s in specs}
    files[f"{LARKSPUR}/bundle.yaml"] = manifest(specs)
    expected = expectations(specs)
    text = yaml.safe_dump(expected, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    files[f"expectations/{LARKSPUR}.yaml"] = text.encode("utf-8")
    return files


# ---------------------------------------------------------------------------------------------
# The README section

# format → (the real file it derives from, what was changed or written for the scenario)
PROVENANCE = {
    "trivy-json": (
        "`tests/fixtures/series/trivy-debian-stretch.json` (checkout-worker) and `trivy-ubuntu-1804.json` "
        "(ledger-api): Trivy's own `integration/testdata/*.json.golden`",
        "`ArtifactName`, `RepoTags`, `RepoDigests`, `Reference` set to the Larkspur image; `CreatedAt`, "
        "`ReportID`, `Trivy.Version` of a CI run; a new image id and layer digest for each rebuilt image; the "
        "four CVE-2019-5094 entries (e2fsprogs packages) removed from the scans of images built on the patched "
        "base (checkout-worker 08-20 and 09-24, ledger-api 08-20); ledger-api 09-24 is back on the 07-05 base",
    ),
    "grype-json": (
        "`tests/fixtures/tool-samples/grype-json/defectdojo-many_vulns_with_epss_values.json` (grype 0.94, "
        "busybox:1.32.1, real EPSS values)",
        "6 of its 15 matches kept; the image reference, id and digest of recon-job; `descriptor.timestamp` set to "
        "the scan time; the upstream image's base64 `manifest` and `config` removed. 09-25: the image rebuilt on "
        "busybox 1.36.1: only the two matches whose NVD range still includes 1.36.1 remain, with the new version",
    ),
    "nessus-xml": (
        "the element structure of `tests/fixtures/tool-samples/nessus-xml/`: pyTenable's `example.nessus` (the "
        "Policy's FamilySelection, read from the file as it is: the Ubuntu, Debian, Amazon Linux and Microsoft "
        "Bulletins families enabled, Misc. and Settings mixed; Microsoft Bulletins items with MSKB xrefs), "
        "python-libnessus' PCI scan (HostProperties, ReportItem layout, plugin 19506), the Ubuntu/Debian package "
        "output of `variant-linux-packages-*`",
        "written for the scenario: eight ReportHosts per scan; CVE ids are real, plugin ids, names, advisory "
        "numbers and package builds are written in Tenable's and the distributions' formats but are not claimed "
        "to match the published plugins; the bastion's 08-18 and 09-22 scans are not credentialed",
    ),
    "apt-history-log": (
        "the format of `tests/fixtures/tool-samples/apt-history-log/plaso-apt_history.log` (Debian's apt 1.4 log)",
        "written for the scenario; blocks without Commandline are unattended-upgrades runs; api-02's block has "
        "an `Error:` line; db-01 and the bastion keep Irish time (`timezone: Europe/Dublin`)",
    ),
    "windows-hotfix-csv": (
        "the 31-column layout of `tests/fixtures/tool-samples/windows-hotfix-csv/variant-ps51-en-us-utf16.csv` "
        "(the column order of a real Windows PowerShell 5.1 Get-HotFix)",
        "written for the scenario: both servers in one `Get-HotFix -ComputerName … | Export-Csv -Encoding UTF8` "
        "export (UTF-8 with BOM, #TYPE line), "
        "en-IE day-first dates (`date_order: dmy`, `timezone: Europe/Dublin`)",
    ),
    "aws-ssm-instance-patches": (
        "the shape of `tests/fixtures/tool-samples/aws-ssm-instance-patches/` (AWS CLI documentation examples; "
        "the API reference's Linux `KBId`/`Title` pair)",
        "written for the scenario: one file per instance; the Failed patch has `InstalledTime` 0 and `CVEIds`, "
        "as AWS documents (only Missing and Failed patches carry CVE ids)",
    ),
    "gitleaks-json": (
        "the v8 keys of `tests/fixtures/tool-samples/gitleaks-json/gitleaks-v8-*.json`",
        "written for the scenario with `--redact` output (`REDACTED` secrets)",
    ),
    "trufflehog-jsonl": (
        "`tests/fixtures/tool-samples/trufflehog-jsonl/trufflehog-v3-git-readme-example.jsonl`",
        "two lines of the same shape for the Larkspur repository; `Raw` values are obvious dummies",
    ),
    "kev-json": (
        "`tests/fixtures/tool-samples/kev-json/known_exploited_vulnerabilities.slice.json` (catalogVersion 2025.08.25)",
        "the entries of CVE-2025-33053 and CVE-2024-38475 copied field for field under the slice's header; `count` = 2",
    ),
    "epss-csv": (
        "the `epss` records of the real grype report above (FIRST scores of 2025-06-18)",
        "written as a FIRST daily file: comment line, header, one row per CVE",
    ),
    "csv": ("—", "the CMDB export, written for the scenario (canonical `assets`)"),
}


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _scenario_rows() -> list[list[str]]:
    by_asset: dict[str, list[Expected]] = {}
    for e in ledger_plan():
        by_asset.setdefault(e.asset, []).append(e)
    rows = []
    for a in ASSETS:
        items = by_asset.get(a.id, [])
        stories = sorted({e.story for e in items if e.story != "open"})
        states = [f"{e.vuln} {e.state}" + (f" ({e.story})" if e.story != "open" else "") for e in items]
        if a.id == "lp-ec2-batch-01":
            stories, states = ["j"], ["no finding: never scanned; 2 SSM patches with no target"]
        if a.id == REPO:
            stories, states = ["k"], ["4 leaked secrets, never revoked (NHI-02)"]
        rows.append(
            [
                f"`{a.id}`",
                a.type + (", internet-facing" if a.internet_facing else ""),
                " ".join(stories),
                "; ".join(states),
            ]
        )
    return rows


def tools_readme(specs: list[Spec] | None = None) -> bytes:
    """The README section of the tools-only quarter, appended to the samples README."""
    specs = specs or sources()
    plan = ledger_plan()
    by_format: dict[str, list[str]] = {}
    for spec in specs:
        by_format.setdefault(spec.format or "", []).append(f"`{spec.path}`")
    provenance = [[f"`{fmt}`", "<br>".join(paths), *PROVENANCE[fmt]] for fmt, paths in by_format.items()]
    lines = [
        "",
        "## Larkspur 2026-Q3: a tools-only quarter",
        "",
        "`larkspur-2026-q3/` (Larkspur Payments, 2026-07-01 … 2026-09-30, as_of 2026-10-01T00:00Z) holds a CMDB",
        "export and, besides it, only native tool outputs: Trivy, Grype and Nessus reports at several dates, apt",
        "history logs, a Get-HotFix CSV, `aws ssm describe-instance-patches` JSON, Gitleaks and TruffleHog output, the",
        "CISA KEV catalog and an EPSS file. It has no canonical findings, deployments or verifications: every record",
        "of those kinds comes through an importer, and every verified fix is derived from a rescan",
        "(`docs/verification.md`). `gen_tools.py` writes it; its expectations",
        "(`expectations/larkspur-2026-q3.yaml`: the exhaustive ledger, the headline and every control) are written",
        "from the scenario tables `LEDGER` and `DEPLOYMENTS` of `gen_tools.py` and the documented rules, never from",
        "the engine, and `tests/samples/test_tools_quarter.py` compares the engine with them.",
        "",
        "### From tool outputs to a report",
        "",
        "1. List each native file in `bundle.yaml` with `format:` (the importer: `nessus-xml`, `trivy-json`, "
        "`apt-history-log`…) instead of `kind:`, with its `collected_at`, `sha256`, and `asset_id`, `timezone` or "
        "`date_order` where the tool does not say them; list the names the tools use (host names, IPs, instance "
        "ids, image references) as `aliases` of the inventory's assets.",
        "2. `exposure-reporter validate evidence/` imports every file, resolves the tools' host names and checks "
        "everything (exit 3 on a broken bundle).",
        "3. `exposure-reporter report evidence/ --output-dir report` derives verifications from the rescans, links "
        "patches to findings by KB and package version, and writes the HTML, PDF, JSON and CSV reports.",
        "",
        "### Scenario",
        "",
        *_md_table(["asset", "type", "stories", "finding-instances at as_of"], _scenario_rows()),
        "",
        *_md_table(["story", "what happens"], [[k, v] for k, v in STORIES.items()]),
        "",
        f"{len(plan)} finding-instances; {sum(e.fixed for e in plan)} verified gone (all by rescans), of which "
        f"{sum(e.state == 'verified_fixed' for e in plan)} with a deployment linked by KB or package version. "
        "Every high and critical instance first detected in July misses its deadline (14 or 30 days) even when "
        "fixed: the "
        "Nessus cadence (07-07, 08-18, 09-22) is longer than the SLA, so no fix can be verified in time (PRI-01).",
        "",
        "### Where each native file comes from",
        "",
        *_md_table(
            ["format", "files", "derived from (real output)", "changed or written for the scenario"], provenance
        ),
        "",
        "Decisions the scenario takes where the tools leave no choice:",
        "",
        "- The bastion's 07-07 scan is credentialed (its findings name packages, so the apt upgrade links to them);",
        "  its 08-18 and 09-22 scans are not (Credentialed_Scan false), so they cover nothing: story e.",
        "- AWS reports CVE ids only for Missing and Failed patches, so the Installed SSM patch of story f links by",
        "  package version (rpm `name=version-release`), not by CVE. The Failed SSM patch has no time",
        "  (InstalledTime 0): the assessment does not count it; the failed deployment of DEP-01 is api-02's apt",
        "  block with an `Error:` line.",
        "- Internet-facing hosts are scanned only by the internal Nessus scanner: INV-03 asks for an external scan.",
        "- The KEV catalog is the real 2025.08.25 slice, so both KEV vulnerabilities were due in 2025: detected in",
        "  the period, they are already past their KEV due date.",
        "",
    ]
    return "\n".join(lines).encode("utf-8")
