"""Vulnerability catalog for the samples: real CVE ids (real KEV entries keep their published KEV
dates), invented 2026 ids (any match with a real CVE is coincidental), vendor advisory ids, CVSS
vectors and EPSS scores. Findings draw from here by platform.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

from gen_core import Clock

VECTORS: dict[str, list[tuple[str, float]]] = {
    "critical": [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3),
    ],
    "high": [
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),
    ],
    "medium": [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N", 5.4),
    ],
    "low": [
        ("CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N", 2.5),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),
        ("CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:N/A:N", 2.3),
    ],
}


@dataclass(frozen=True)
class Vuln:
    """One vulnerability as the catalog knows it."""

    vuln_id: str
    platform: str
    package: str
    installed: str
    fixed: str
    severity: str
    vector: str
    score: float
    epss: float
    kev: bool = False
    kev_added: date | None = None
    kev_due: date | None = None
    kev_vendor: str | None = None
    kev_product: str | None = None
    kev_name: str | None = None
    kev_ransomware: str = "unknown"
    real: bool = True


def _vector(severity: str, score: float) -> str:
    for vector, value in VECTORS[severity]:
        if value == score:
            return vector
    return VECTORS[severity][0][0]


# (id, platform, package, installed, fixed, severity, score) — real CVE ids, not in CISA KEV.
_REAL: list[tuple[str, str, str, str, str, str, float]] = [
    ("CVE-2024-6387", "linux", "openssh-server", "1:9.2p1-2+deb12u2", "1:9.2p1-2+deb12u3", "high", 8.1),
    ("CVE-2023-38545", "linux", "curl", "7.88.1-10+deb12u1", "7.88.1-10+deb12u4", "critical", 9.8),
    ("CVE-2024-2961", "linux", "libc6", "2.36-9+deb12u4", "2.36-9+deb12u7", "high", 8.8),
    ("CVE-2024-5535", "linux", "openssl", "3.0.13-1~deb12u1", "3.0.14-1~deb12u1", "critical", 9.8),
    ("CVE-2024-45490", "linux", "libexpat1", "2.5.0-1", "2.5.0-1+deb12u1", "critical", 9.8),
    ("CVE-2022-37434", "linux", "zlib1g", "1:1.2.11.dfsg-2", "1:1.2.13.dfsg-1", "critical", 9.8),
    ("CVE-2023-48795", "linux", "openssh-client", "1:9.2p1-2+deb12u1", "1:9.2p1-2+deb12u2", "medium", 5.9),
    ("CVE-2024-0553", "linux", "libgnutls30", "3.7.9-2", "3.7.9-2+deb12u2", "high", 7.5),
    ("CVE-2024-28182", "linux", "libnghttp2-14", "1.52.0-1", "1.52.0-1+deb12u1", "medium", 5.9),
    ("CVE-2024-7264", "linux", "libcurl4", "7.88.1-10+deb12u5", "7.88.1-10+deb12u7", "medium", 5.4),
    ("CVE-2023-7104", "linux", "libsqlite3-0", "3.40.1-2", "3.40.1-2+deb12u1", "high", 7.5),
    ("CVE-2024-33599", "linux", "nscd", "2.36-9+deb12u4", "2.36-9+deb12u7", "high", 8.1),
    ("CVE-2024-26461", "linux", "libkrb5-3", "1.20.1-2", "1.20.1-2+deb12u2", "medium", 5.5),
    ("CVE-2024-9143", "linux", "libssl3", "3.0.14-1~deb12u2", "3.0.15-1~deb12u1", "low", 3.1),
    ("CVE-2024-12797", "linux", "libssl3", "3.0.15-1~deb12u1", "3.0.16-1~deb12u1", "high", 7.5),
    ("CVE-2025-26465", "linux", "openssh-client", "1:9.2p1-2+deb12u3", "1:9.2p1-2+deb12u5", "medium", 5.9),
    ("CVE-2023-52425", "linux", "libexpat1", "2.5.0-1+deb12u1", "2.5.0-1+deb12u2", "high", 7.5),
    ("CVE-2024-37371", "linux", "krb5-user", "1.20.1-2", "1.20.1-2+deb12u2", "critical", 9.8),
    ("CVE-2024-47176", "linux", "cups-browsed", "2.0.1-3", "2.0.1-3+deb12u1", "high", 8.1),
    ("CVE-2023-52340", "linux", "linux-image-amd64", "6.1.69-1", "6.1.76-1", "high", 7.5),
    ("CVE-2024-3094", "linux", "xz-utils", "5.6.0-0.2", "5.6.1+really5.4.5-1", "critical", 10.0),
    ("CVE-2024-38063", "windows", "Windows TCP/IP", "10.0.20348.2582", "KB5041160", "critical", 9.8),
    ("CVE-2024-38077", "windows", "Remote Desktop Licensing", "10.0.20348.2527", "KB5040437", "critical", 9.8),
    ("CVE-2024-30078", "windows", "Windows Wi-Fi Driver", "10.0.22631.3593", "KB5039212", "high", 8.8),
    ("CVE-2024-49112", "windows", "Windows LDAP", "10.0.20348.2849", "KB5048654", "critical", 9.8),
    ("CVE-2025-21298", "windows", "Windows OLE", "10.0.22631.4602", "KB5050021", "critical", 9.8),
    ("CVE-2025-21307", "windows", "Windows RMCAST", "10.0.20348.2966", "KB5049983", "critical", 9.8),
    ("CVE-2024-43498", "windows", ".NET 9.0", "9.0.0-rc.2", "9.0.0", "critical", 9.8),
    ("CVE-2024-38148", "windows", "Windows Secure Channel", "10.0.20348.2582", "KB5041160", "high", 7.5),
    ("CVE-2024-9369", "endpoint", "Google Chrome", "129.0.6668.89", "130.0.6723.58", "high", 8.8),
    ("CVE-2024-10487", "endpoint", "Google Chrome", "130.0.6723.70", "130.0.6723.91", "critical", 9.8),
    ("CVE-2025-0444", "endpoint", "Google Chrome", "132.0.6834.159", "133.0.6943.53", "high", 8.8),
    ("CVE-2024-11691", "endpoint", "Mozilla Firefox", "132.0.2", "133.0", "high", 8.8),
    ("CVE-2024-24691", "endpoint", "Zoom Workplace", "5.16.10", "5.17.0", "critical", 9.8),
    ("CVE-2024-11477", "endpoint", "7-Zip", "24.06", "24.07", "high", 7.8),
    ("CVE-2024-49530", "endpoint", "Adobe Acrobat Reader", "24.004.20220", "24.005.20307", "high", 7.8),
    ("CVE-2024-21538", "npm", "cross-spawn", "7.0.3", "7.0.5", "high", 7.5),
    ("CVE-2024-4067", "npm", "micromatch", "4.0.5", "4.0.8", "medium", 5.9),
    ("CVE-2024-45590", "npm", "body-parser", "1.20.2", "1.20.3", "high", 7.5),
    ("CVE-2024-43796", "npm", "express", "4.19.2", "4.20.0", "medium", 5.4),
    ("CVE-2024-39338", "npm", "axios", "1.7.2", "1.7.4", "high", 7.5),
    ("CVE-2023-45857", "npm", "axios", "1.5.1", "1.6.0", "medium", 5.4),
    ("CVE-2024-37890", "npm", "ws", "8.17.0", "8.17.1", "high", 7.5),
    ("CVE-2022-25883", "npm", "semver", "7.5.1", "7.5.2", "medium", 5.9),
    ("CVE-2024-28863", "npm", "tar", "6.2.0", "6.2.1", "medium", 5.5),
    ("CVE-2023-26136", "npm", "tough-cookie", "4.1.2", "4.1.3", "medium", 6.1),
    ("CVE-2024-26130", "pypi", "cryptography", "42.0.3", "42.0.4", "high", 7.5),
    ("CVE-2023-50782", "pypi", "cryptography", "41.0.7", "42.0.0", "high", 7.5),
    ("CVE-2024-35195", "pypi", "requests", "2.31.0", "2.32.0", "medium", 5.5),
    ("CVE-2024-22195", "pypi", "jinja2", "3.1.2", "3.1.3", "medium", 5.4),
    ("CVE-2024-34064", "pypi", "jinja2", "3.1.3", "3.1.4", "medium", 5.4),
    ("CVE-2023-45803", "pypi", "urllib3", "2.0.6", "2.0.7", "medium", 5.4),
    ("CVE-2024-37891", "pypi", "urllib3", "2.2.1", "2.2.2", "medium", 5.4),
    ("CVE-2024-6345", "pypi", "setuptools", "69.5.1", "70.0.0", "high", 8.8),
    ("CVE-2024-3651", "pypi", "idna", "3.6", "3.7", "medium", 5.9),
    ("CVE-2024-1135", "pypi", "gunicorn", "21.2.0", "22.0.0", "high", 7.5),
    ("CVE-2022-42889", "maven", "org.apache.commons:commons-text", "1.9", "1.10.0", "critical", 9.8),
    ("CVE-2023-6378", "maven", "ch.qos.logback:logback-classic", "1.4.11", "1.4.12", "high", 7.5),
    ("CVE-2024-1597", "maven", "org.postgresql:postgresql", "42.6.0", "42.6.1", "critical", 10.0),
    ("CVE-2022-1471", "maven", "org.yaml:snakeyaml", "1.33", "2.0", "high", 8.8),
    ("CVE-2024-22259", "maven", "org.springframework:spring-web", "6.1.4", "6.1.5", "high", 8.1),
    ("CVE-2024-38816", "maven", "org.springframework:spring-webmvc", "6.1.12", "6.1.13", "high", 7.5),
    (
        "CVE-2023-34034",
        "maven",
        "org.springframework.security:spring-security-config",
        "6.1.1",
        "6.1.2",
        "critical",
        9.8,
    ),
    ("CVE-2023-39325", "go", "golang.org/x/net", "v0.15.0", "v0.17.0", "high", 7.5),
    ("CVE-2023-45288", "go", "golang.org/x/net", "v0.21.0", "v0.23.0", "high", 7.5),
    ("CVE-2024-24790", "go", "stdlib", "1.21.10", "1.21.11", "critical", 9.8),
    ("CVE-2024-34156", "go", "stdlib", "1.22.6", "1.22.7", "high", 7.5),
    ("CVE-2024-45337", "go", "golang.org/x/crypto", "v0.30.0", "v0.31.0", "critical", 9.8),
    ("CVE-2024-21626", "go", "github.com/opencontainers/runc", "v1.1.11", "v1.1.12", "high", 8.1),
    ("CVE-2022-48174", "alpine", "busybox", "1.35.0-r17", "1.36.1-r1", "critical", 9.8),
    ("CVE-2023-42363", "alpine", "busybox", "1.36.1-r2", "1.36.1-r7", "medium", 5.5),
]

# Real CISA KEV entries (catalog 2025.08.25) with their published dates: the planted overdue exposure.
_REAL_KEV: list[tuple[str, str, str, str, str, str, str, str, str, str]] = [
    # id, platform, package, installed, fixed, vendor, product, name, added, due (+ ransomware below)
    (
        "CVE-2025-5777",
        "network",
        "NetScaler ADC",
        "14.1-43.56",
        "14.1-47.46",
        "Citrix",
        "NetScaler ADC and Gateway",
        "Citrix NetScaler ADC and Gateway Out-of-Bounds Read Vulnerability",
        "2025-07-10",
        "2025-07-11",
    ),
    (
        "CVE-2025-22457",
        "network",
        "Ivanti Connect Secure",
        "22.7R2.5",
        "22.7R2.6",
        "Ivanti",
        "Connect Secure, Policy Secure, and ZTA Gateways",
        "Ivanti Connect Secure, Policy Secure, and ZTA Gateways Stack-Based Buffer Overflow Vulnerability",
        "2025-04-04",
        "2025-04-11",
    ),
    (
        "CVE-2025-0108",
        "network",
        "PAN-OS",
        "11.1.4-h7",
        "11.1.6-h1",
        "Palo Alto Networks",
        "PAN-OS",
        "Palo Alto Networks PAN-OS Authentication Bypass Vulnerability",
        "2025-02-18",
        "2025-03-11",
    ),
    (
        "CVE-2025-24813",
        "linux",
        "tomcat10",
        "10.1.34-1",
        "10.1.35-1",
        "Apache",
        "Tomcat",
        "Apache Tomcat Path Equivalence Vulnerability",
        "2025-04-01",
        "2025-04-22",
    ),
    (
        "CVE-2023-0386",
        "linux",
        "linux-image-amd64",
        "6.1.27-1",
        "6.1.37-1",
        "Linux",
        "Kernel",
        "Linux Kernel Improper Ownership Management Vulnerability",
        "2025-06-17",
        "2025-07-08",
    ),
    (
        "CVE-2025-25257",
        "network",
        "FortiWeb",
        "7.6.3",
        "7.6.4",
        "Fortinet",
        "FortiWeb",
        "Fortinet FortiWeb SQL Injection Vulnerability",
        "2025-07-18",
        "2025-08-08",
    ),
]
_KNOWN_RANSOMWARE = {"CVE-2025-5777", "CVE-2025-22457"}

# Invented KEV entries added during the period (dates relative to the period start).
# (number offset, platform, package, installed, fixed, vendor, product, name, day added, due days)
_NEW_KEV: list[tuple[int, str, str, str, str, str, str, str, int, int]] = [
    (
        907,
        "windows",
        "Windows SMB Client",
        "10.0.22631.3880",
        "KB5043076",
        "Microsoft",
        "Windows",
        "Microsoft Windows SMB Client Improper Access Control Vulnerability",
        8,
        21,
    ),
    (
        1318,
        "endpoint",
        "Google Chrome",
        "138.0.7204.96",
        "138.0.7204.157",
        "Google",
        "Chromium V8",
        "Google Chromium V8 Type Confusion Vulnerability",
        15,
        21,
    ),
    (
        1744,
        "linux",
        "linux-image-amd64",
        "6.1.137-1",
        "6.1.140-1",
        "Linux",
        "Kernel",
        "Linux Kernel Use-After-Free Vulnerability",
        22,
        21,
    ),
    (
        2119,
        "linux",
        "apache2",
        "2.4.62-1~deb12u2",
        "2.4.64-1~deb12u1",
        "Apache",
        "HTTP Server",
        "Apache HTTP Server Server-Side Request Forgery Vulnerability",
        30,
        21,
    ),
    (
        2530,
        "network",
        "FortiOS",
        "7.4.7",
        "7.4.8",
        "Fortinet",
        "FortiOS",
        "Fortinet FortiOS SSL-VPN Heap-Based Buffer Overflow Vulnerability",
        37,
        7,
    ),
    (
        3071,
        "endpoint",
        "Mozilla Firefox",
        "140.0.4",
        "141.0",
        "Mozilla",
        "Firefox",
        "Mozilla Firefox Use-After-Free Vulnerability",
        44,
        21,
    ),
    (
        3433,
        "windows",
        "Windows Common Log File System",
        "10.0.20348.3932",
        "KB5062572",
        "Microsoft",
        "Windows",
        "Microsoft Windows Common Log File System Driver Heap-Based Buffer Overflow",
        51,
        21,
    ),
    (
        3902,
        "endpoint",
        "WinRAR",
        "7.11",
        "7.12",
        "RARLAB",
        "WinRAR",
        "RARLAB WinRAR Path Traversal Vulnerability",
        58,
        21,
    ),
    (
        4188,
        "linux",
        "sudo",
        "1.9.13p3-1+deb12u1",
        "1.9.13p3-1+deb12u2",
        "Sudo project",
        "Sudo",
        "Sudo Inclusion of Functionality from Untrusted Control Sphere Vulnerability",
        64,
        21,
    ),
    (
        4577,
        "windows",
        "Windows Kerberos",
        "10.0.20348.4052",
        "KB5065432",
        "Microsoft",
        "Windows",
        "Microsoft Windows Kerberos Elevation of Privilege Vulnerability",
        71,
        21,
    ),
    (
        5012,
        "endpoint",
        "Google Chrome",
        "140.0.7339.80",
        "140.0.7339.185",
        "Google",
        "Chromium V8",
        "Google Chromium V8 Out-of-Bounds Write Vulnerability",
        79,
        21,
    ),
    (
        5480,
        "linux",
        "openssh-server",
        "1:9.2p1-2+deb12u6",
        "1:9.2p1-2+deb12u7",
        "OpenBSD",
        "OpenSSH",
        "OpenSSH Authentication Bypass Vulnerability",
        84,
        21,
    ),
]

_SYNTH_PACKAGES: dict[str, list[tuple[str, str, str]]] = {
    "linux": [
        ("nginx", "1.22.1-9", "1.22.1-9+deb12u2"),
        ("bind9", "1:9.18.28-1~deb12u2", "1:9.18.33-1~deb12u2"),
        ("systemd", "252.30-1~deb12u2", "252.33-1~deb12u1"),
        ("python3.11", "3.11.2-6+deb12u2", "3.11.2-6+deb12u5"),
        ("libxml2", "2.9.14+dfsg-1.3~deb12u1", "2.9.14+dfsg-1.3~deb12u2"),
        ("git", "1:2.39.2-1.1", "1:2.39.5-0+deb12u2"),
        ("postgresql-15", "15.8-0+deb12u1", "15.13-0+deb12u1"),
        ("rsync", "3.2.7-1", "3.2.7-1+deb12u2"),
        ("libtasn1-6", "4.19.0-2", "4.19.0-2+deb12u1"),
        ("ntpsec", "1.2.2+dfsg1-1", "1.2.2+dfsg1-1+deb12u1"),
        ("vim", "2:9.0.1378-2", "2:9.0.1378-2+deb12u2"),
        ("less", "590-2", "590-2.1~deb12u2"),
        ("redis-server", "5:7.0.15-1~deb12u1", "5:7.0.15-1~deb12u4"),
        ("docker-ce", "26.1.4", "27.5.1"),
    ],
    "windows": [
        ("Windows Kernel", "10.0.20348.2700", "KB5044281"),
        ("Windows Hyper-V", "10.0.20348.2700", "KB5044281"),
        ("Windows Print Spooler", "10.0.22631.4169", "KB5044285"),
        ("Windows DNS Server", "10.0.20348.2849", "KB5046616"),
        ("Microsoft Office", "16.0.17928.20156", "16.0.17928.20216"),
        ("Windows Installer", "10.0.22631.4460", "KB5048685"),
    ],
    "endpoint": [
        ("Google Chrome", "136.0.7103.92", "137.0.7151.55"),
        ("Slack Desktop", "4.41.97", "4.43.51"),
        ("Microsoft Teams", "24295.605.3225", "25044.2208.3471"),
        ("Notepad++", "8.7.1", "8.7.5"),
        ("Mozilla Firefox", "137.0", "138.0.1"),
        ("Zoom Workplace", "6.3.5", "6.4.0"),
    ],
    "npm": [
        ("lodash", "4.17.20", "4.17.21"),
        ("jsonwebtoken", "8.5.1", "9.0.0"),
        ("node-fetch", "2.6.6", "2.6.7"),
        ("undici", "5.28.3", "5.28.4"),
        ("next", "14.1.0", "14.2.25"),
        ("path-to-regexp", "0.1.7", "0.1.12"),
    ],
    "pypi": [
        ("django", "4.2.10", "4.2.17"),
        ("pillow", "10.2.0", "10.3.0"),
        ("aiohttp", "3.9.1", "3.9.4"),
        ("starlette", "0.36.1", "0.40.0"),
        ("pyjwt", "2.8.0", "2.10.1"),
        ("sqlparse", "0.4.4", "0.5.0"),
    ],
    "maven": [
        ("io.netty:netty-codec-http", "4.1.100.Final", "4.1.108.Final"),
        ("com.fasterxml.jackson.core:jackson-databind", "2.15.2", "2.15.4"),
        ("org.apache.tomcat.embed:tomcat-embed-core", "10.1.18", "10.1.34"),
        ("com.google.protobuf:protobuf-java", "3.21.7", "3.25.5"),
    ],
    "go": [("google.golang.org/grpc", "v1.58.2", "v1.58.3"), ("github.com/golang-jwt/jwt/v4", "v4.5.0", "v4.5.2")],
    "alpine": [
        ("openssl", "3.1.4-r5", "3.1.7-r1"),
        ("musl", "1.2.4-r2", "1.2.4-r3"),
        ("libcrypto3", "3.1.4-r5", "3.1.7-r1"),
    ],
    "network": [
        ("PAN-OS", "11.1.4-h7", "11.1.6-h3"),
        ("FortiOS", "7.4.4", "7.4.7"),
        ("Cisco IOS XE", "17.9.4a", "17.9.6"),
        ("ArubaOS", "10.4.1.0", "10.4.1.5"),
    ],
    "ot": [
        ("SIMATIC S7-1500 firmware", "V3.0.3", "V3.1.5"),
        ("Zebra Link-OS", "6.9", "7.1"),
        ("Honeywell Experion PKS", "R520.2", "R520.2 TCU2"),
    ],
}

# Vendor advisory ids (non-CVE) by platform, with how to build one.
_ADVISORY: dict[str, str] = {
    "network": "cisco-sa-{:04d}-iosxe-{}",
    "ot": "ICSA-26-{:03d}-{:02d}",
    "linux": "RHSA-2026:{:04d}",
}

_SEVERITY_WEIGHTS = [("critical", 8), ("high", 30), ("medium", 45), ("low", 17)]


def _epss(rng: random.Random, severity: str, kev: bool) -> float:
    if kev:
        return round(rng.uniform(0.45, 0.97), 5)
    top = {"critical": 0.35, "high": 0.12, "medium": 0.03, "low": 0.006}[severity]
    return round(rng.uniform(0.0004, top), 5)


def _pick_severity(rng: random.Random) -> str:
    total = sum(w for _, w in _SEVERITY_WEIGHTS)
    roll = rng.uniform(0, total)
    for severity, weight in _SEVERITY_WEIGHTS:
        roll -= weight
        if roll <= 0:
            return severity
    return "low"


class Catalog:
    """All vulnerabilities the samples use, by platform, plus the KEV entries added in the period."""

    def __init__(self, clock: Clock, rng: random.Random, new_kev_base: int) -> None:
        self.by_id: dict[str, Vuln] = {}
        self.by_platform: dict[str, list[Vuln]] = {}
        for vid, platform, package, installed, fixed, severity, score in _REAL:
            self._add(
                Vuln(
                    vid,
                    platform,
                    package,
                    installed,
                    fixed,
                    severity,
                    _vector(severity, score),
                    score,
                    _epss(rng, severity, False),
                )
            )
        for row in _REAL_KEV:
            vid, platform, package, installed, fixed, vendor, product, name, added, due = row
            self._add(
                Vuln(
                    vid,
                    platform,
                    package,
                    installed,
                    fixed,
                    "critical",
                    VECTORS["critical"][0][0],
                    9.8,
                    _epss(rng, "critical", True),
                    kev=True,
                    kev_added=date.fromisoformat(added),
                    kev_due=date.fromisoformat(due),
                    kev_vendor=vendor,
                    kev_product=product,
                    kev_name=name,
                    kev_ransomware="known" if vid in _KNOWN_RANSOMWARE else "unknown",
                ),
                pooled=False,
            )
        self.new_kev: list[Vuln] = []
        for number, platform, package, installed, fixed, vendor, product, name, day, due in _NEW_KEV:
            added = clock.start + timedelta(days=day)
            vuln = Vuln(
                f"CVE-2026-{new_kev_base + number}",
                platform,
                package,
                installed,
                fixed,
                "high" if number % 3 else "critical",
                VECTORS["high"][3][0],
                8.8,
                _epss(rng, "high", True),
                kev=True,
                kev_added=added,
                kev_due=added + timedelta(days=due),
                kev_vendor=vendor,
                kev_product=product,
                kev_name=name,
                real=False,
            )
            if vuln.severity == "critical":
                vuln = replace(vuln, vector=VECTORS["critical"][0][0], score=9.8)
            self._add(vuln, pooled=False)
            self.new_kev.append(vuln)
        self._synthesise(rng)

    def _add(self, vuln: Vuln, pooled: bool = True) -> None:
        if vuln.vuln_id in self.by_id:
            raise ValueError(f"duplicate vuln {vuln.vuln_id}")
        self.by_id[vuln.vuln_id] = vuln
        if pooled:
            self.by_platform.setdefault(vuln.platform, []).append(vuln)

    def _synthesise(self, rng: random.Random) -> None:
        counts = {
            "linux": 40,
            "windows": 24,
            "endpoint": 18,
            "npm": 14,
            "pypi": 12,
            "maven": 10,
            "go": 6,
            "alpine": 8,
            "network": 10,
            "ot": 8,
        }
        used: set[int] = set()
        for platform, count in counts.items():
            for n in range(count):
                package, installed, fixed = rng.choice(_SYNTH_PACKAGES[platform])
                severity = _pick_severity(rng)
                vector, score = rng.choice(VECTORS[severity])
                vid = self._synthetic_id(rng, platform, n, used)
                self._add(
                    Vuln(
                        vid,
                        platform,
                        package,
                        installed,
                        fixed,
                        severity,
                        vector,
                        score,
                        _epss(rng, severity, False),
                        real=False,
                    )
                )

    @staticmethod
    def _synthetic_id(rng: random.Random, platform: str, n: int, used: set[int]) -> str:
        if platform in _ADVISORY and n % 4 == 3:
            template = _ADVISORY[platform]
            if platform == "network":
                return template.format(rng.randint(1000, 9999), rng.choice("abcdefgh") * 2)
            return template.format(rng.randint(100, 999), rng.randint(1, 12))
        while True:
            number = rng.randint(30000, 59999)
            if number not in used:
                used.add(number)
                year = 2025 if number % 2 else 2026
                return f"CVE-{year}-{number}"

    def pool(self, platforms: list[str]) -> list[Vuln]:
        """Non-KEV vulnerabilities of the given platforms."""
        return [v for p in platforms for v in self.by_platform.get(p, [])]

    def new_kev_for(self, platform: str) -> list[Vuln]:
        return [v for v in self.new_kev if v.platform == platform]
