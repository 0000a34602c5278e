"""The tiny bundles: `minimal/` (a handful of clean records of every kind), `incomplete/` (two kinds
missing: the EVD-01 plant), one broken bundle per validation failure mode under `broken/`, and the
two warning-only bundles under `warnings/`. Each broken or warning bundle is a copy of `minimal/`
with exactly one defect; `expected-issues.yaml` names the issue a validator must report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from gen_core import Bundle, Clock, Meta, Plants, Record, SourceSpec
from gen_docs import broken_readme
from gen_expect import cross_check, evidence_of, expectations
from gen_writers import dump_yaml, render_bundle, sha256

CLOCK = Clock(date(2026, 7, 1), date(2026, 9, 30))


def t(text: str) -> datetime:
    """A UTC instant from 'MM-DD HH:MM' in 2026."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def d(text: str) -> date:
    return date.fromisoformat(f"2026-{text}")


MINIMAL_POLICY: dict[str, Any] = {
    "policy_version": 1,
    "name": "Minimal sample policy (defaults plus the organisation SLA rules)",
    "sla": {
        "rules": [
            {
                "id": "NW-CRIT-HIGH-30",
                "title": "Critical and high within 30 days",
                "source": "Organisation rule",
                "match": {"severity": ["critical", "high"]},
                "days": 30,
            },
            {
                "id": "NW-MEDIUM-90",
                "title": "Medium within 90 days",
                "source": "Organisation rule",
                "match": {"severity": ["medium"]},
                "days": 90,
            },
            {
                "id": "NW-LOW-180",
                "title": "Low within 180 days",
                "source": "Organisation rule",
                "match": {"severity": ["low"]},
                "days": 180,
            },
        ]
    },
}


def _asset(id_: str, name: str, type_: str, **fields: Any) -> Record:
    record: Record = {
        "id": id_,
        "name": name,
        "type": type_,
        "environment": "production",
        "owner": "team-platform",
        "criticality": "moderate",
        "internet_facing": False,
        "patch_automation": True,
    }
    record.update(fields)
    return record


ASSETS = [
    _asset(
        "a-web-01",
        "web-01.prod.nw.example",
        "server",
        owner="team-web",
        criticality="high",
        internet_facing=True,
        maintenance_group="linux-prod",
        compliance_scopes=["pci"],
        aliases=["10.20.4.11", "web-01"],
        tags=["web"],
    ),
    _asset(
        "a-app-01",
        "app-01.prod.nw.example",
        "server",
        maintenance_group="linux-prod",
        aliases=["10.20.4.12", "app-01"],
        tags=["app"],
    ),
    _asset(
        "a-lap-01",
        "nw-lap-9001",
        "endpoint",
        environment="corporate",
        owner="team-it-workplace",
        criticality="low",
        maintenance_group="workstations-win",
        tags=["laptop"],
    ),
    _asset(
        "a-img-01",
        "registry.nw.example/tracking-api:2026.8.1",
        "container_image",
        owner="team-fleet",
        maintenance_group="k8s-images",
    ),
    _asset(
        "a-pod-01",
        "tracking-api-7d9f8-abcde",
        "container_runtime",
        owner="team-fleet",
        ephemeral=True,
        parent_image_id="a-img-01",
        aliases=["prod/tracking-api-7d9f8-abcde"],
    ),
    _asset("a-fn-01", "lambda:label-render", "serverless", owner="team-warehouse", ephemeral=True),
    _asset("a-fw-01", "dc-fw-01.nw.example", "network_device", owner="team-network", aliases=["10.10.1.1"]),
    _asset("a-crm-01", "salesforce.saas", "saas", owner="team-sales-ops", managed_by="third_party"),
    _asset("a-repo-01", "github.com/northwind/tracking-api", "repository", owner="team-fleet"),
    _asset("a-old-01", "old-01.prod.nw.example", "server", lifecycle="retired", retired_at=t("05-15 10:00")),
]


def _scans() -> list[Record]:
    rows = [
        ("a-web-01", "tenable-nessus-agent", True, "internal", "09-25 02:00"),
        ("a-web-01", "tenable-was-external", False, "external", "09-26 03:00"),
        ("a-app-01", "tenable-nessus-agent", True, "internal", "09-25 02:10"),
        ("a-lap-01", "tenable-nessus-agent", True, "internal", "09-27 11:00"),
        ("a-img-01", "trivy", True, "internal", "09-28 05:00"),
        ("a-pod-01", "trivy-operator", True, "internal", "09-28 05:30"),
        ("a-fn-01", "trivy-lambda", True, "internal", "09-20 04:00"),
        ("a-fw-01", "tenable-nessus", True, "internal", "09-15 01:00"),
        ("a-crm-01", "adaptive-shield-sspm", True, "internal", "09-10 06:00"),
        ("a-repo-01", "trivy-repo", True, "internal", "09-29 07:00"),
    ]
    return [
        {
            "id": f"s-{n:04d}",
            "asset_id": a,
            "tool": tool,
            "authenticated": auth,
            "scope": scope,
            "completed_at": t(when),
            "status": "completed",
        }
        for n, (a, tool, auth, scope, when) in enumerate(rows, 1)
    ]


def _observations() -> tuple[list[Record], list[Record]]:
    rows = [
        ("10.20.4.11", None, "crowdstrike-falcon", "edr", "09-29 08:00"),
        ("app-01", "a-app-01", "crowdstrike-falcon", "edr", "09-29 08:05"),
        ("nw-lap-9001", "a-lap-01", "crowdstrike-falcon", "edr", "09-29 09:30"),
        ("prod/tracking-api-7d9f8-abcde", "a-pod-01", "kubernetes-api", "kubernetes", "09-30 06:00"),
        ("lambda:label-render", "a-fn-01", "aws-config", "cloud_api", "09-30 06:10"),
    ]
    jsonl = [
        {"id": f"o-{n:04d}", "asset_key": k, "asset_id": a, "source": s, "source_type": st, "observed_at": t(when)}
        for n, (k, a, s, st, when) in enumerate(rows, 1)
    ]
    parquet = [
        {
            "id": "o-0101",
            "asset_key": "10.10.1.1",
            "asset_id": None,
            "source": "runzero",
            "source_type": "network",
            "observed_at": t("09-28 23:00"),
        },
        {
            "id": "o-0102",
            "asset_key": "10.20.4.12",
            "asset_id": None,
            "source": "runzero",
            "source_type": "network",
            "observed_at": t("09-28 23:01"),
        },
    ]
    return jsonl, parquet


def _finding(id_: str, asset: str, vuln: str, severity: str, detected: str, **fields: Any) -> Record:
    vectors = {
        "critical": ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        "high": ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
        "medium": ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N", 5.4),
        "low": ("CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N", 2.5),
    }
    vector, score = vectors[severity]
    record: Record = {
        "id": id_,
        "asset_id": asset,
        "vuln_id": vuln,
        "severity": severity,
        "cvss_vector": vector,
        "cvss_score": score,
        "kev": False,
        "ssvc_automatable": "no",
        "ssvc_technical_impact": "partial",
        "first_detected_at": t(detected),
        "state": "open",
    }
    record.update(fields)
    return record


FINDINGS_TENABLE = [
    _finding(
        "f-0001",
        "a-web-01",
        "CVE-2024-6387",
        "high",
        "07-10 03:00",
        package="openssh-server",
        installed_version="1:9.2p1-2+deb12u2",
        fixed_version="1:9.2p1-2+deb12u3",
        last_seen_at=t("07-11 03:00"),
        state="closed",
        closed_at=t("07-12 09:00"),
        source="tenable",
    ),
    _finding(
        "f-0002",
        "a-app-01",
        "CVE-2024-7264",
        "medium",
        "09-20 03:00",
        package="libcurl4",
        installed_version="7.88.1-10+deb12u5",
        fixed_version="7.88.1-10+deb12u7",
        last_seen_at=t("09-29 03:00"),
        source="tenable",
    ),
    _finding(
        "f-0003",
        "a-lap-01",
        "CVE-2026-21318",
        "high",
        "08-05 09:00",
        package="Google Chrome",
        installed_version="138.0.7204.96",
        fixed_version="138.0.7204.157",
        kev=True,
        kev_date_added=d("08-05"),
        kev_due_date=d("08-26"),
        ssvc_exploitation="active",
        ssvc_technical_impact="total",
        last_seen_at=t("08-05 09:00"),
        state="closed",
        closed_at=t("08-06 08:00"),
        source="tenable",
    ),
    _finding(
        "f-0004",
        "a-app-01",
        "CVE-2024-12797",
        "high",
        "08-10 03:00",
        package="libssl3",
        installed_version="3.0.15-1~deb12u1",
        fixed_version="3.0.16-1~deb12u1",
        last_seen_at=t("08-12 03:00"),
        state="closed",
        closed_at=t("08-14 08:00"),
        source="tenable",
    ),
]
FINDINGS_TRIVY = [
    _finding(
        "f-0101",
        "a-img-01",
        "CVE-2023-45288",
        "high",
        "08-01 05:00",
        package="golang.org/x/net",
        installed_version="v0.21.0",
        fixed_version="v0.23.0",
        last_seen_at=t("08-03 05:00"),
        state="closed",
        closed_at=t("08-04 12:00"),
        source="trivy",
    ),
    _finding(
        "f-0102",
        "a-fn-01",
        "CVE-2024-35195",
        "low",
        "09-01 04:00",
        package="requests",
        installed_version="2.31.0",
        fixed_version="2.32.0",
        last_seen_at=t("09-20 04:00"),
        source="trivy",
    ),
]

DEPLOYMENTS = [
    {
        "id": "d-0001",
        "asset_id": "a-web-01",
        "patch_id": "openssh-server=1:9.2p1-2+deb12u3",
        "finding_ids": ["f-0001"],
        "change_ref": "CHG0041234",
        "started_at": t("07-11 22:00"),
        "completed_at": t("07-11 22:14"),
        "status": "succeeded",
        "tool": "ssm",
    },
    {
        "id": "d-0002",
        "asset_id": "a-lap-01",
        "patch_id": "Google Chrome=138.0.7204.157",
        "finding_ids": ["f-0003"],
        "change_ref": "STD-CHG-WKS-2026-08",
        "started_at": t("08-05 18:00"),
        "completed_at": t("08-05 18:40"),
        "status": "succeeded",
        "tool": "intune",
    },
    {
        "id": "d-0003",
        "asset_id": "a-img-01",
        "patch_id": "tracking-api:2026.8.1",
        "finding_ids": ["f-0101"],
        "change_ref": "CHG0041871",
        "started_at": t("08-04 09:00"),
        "completed_at": t("08-04 09:20"),
        "status": "succeeded",
        "tool": "argocd",
    },
    {
        "id": "d-0004",
        "asset_id": "a-app-01",
        "patch_id": "libssl3=3.0.16-1~deb12u1",
        "finding_ids": ["f-0004"],
        "change_ref": "CHG0042010",
        "started_at": t("08-12 22:00"),
        "completed_at": t("08-12 22:31"),
        "status": "failed",
        "tool": "ssm",
    },
    {
        "id": "d-0005",
        "asset_id": "a-app-01",
        "patch_id": "libssl3=3.0.16-1~deb12u1",
        "finding_ids": ["f-0004"],
        "change_ref": "CHG0042010",
        "started_at": t("08-13 22:00"),
        "completed_at": t("08-13 22:25"),
        "status": "succeeded",
        "tool": "ssm",
    },
]

VERIFICATIONS = [
    {
        "id": "v-0001",
        "asset_id": "a-web-01",
        "finding_id": "f-0001",
        "deployment_id": "d-0001",
        "method": "authenticated_rescan",
        "result": "not_vulnerable",
        "observed_at": t("07-12 03:00"),
        "evidence_ref": "tenable-scan-4410021",
    },
    {
        "id": "v-0002",
        "asset_id": "a-lap-01",
        "finding_id": "f-0003",
        "deployment_id": "d-0002",
        "method": "agent_inventory",
        "result": "not_vulnerable",
        "observed_at": t("08-06 07:30"),
        "evidence_ref": "falcon-spotlight:7f3a9c2e11",
    },
    {
        "id": "v-0003",
        "asset_id": "a-img-01",
        "finding_id": "f-0101",
        "deployment_id": "d-0003",
        "method": "image_rescan",
        "result": "not_vulnerable",
        "observed_at": t("08-04 11:00"),
        "evidence_ref": "trivy:0f3e1b22aa90",
    },
    {
        "id": "v-0004",
        "asset_id": "a-app-01",
        "finding_id": "f-0004",
        "deployment_id": "d-0005",
        "method": "authenticated_rescan",
        "result": "not_vulnerable",
        "observed_at": t("08-14 03:00"),
        "evidence_ref": "tenable-scan-4433107",
    },
]

EXCEPTIONS = [
    {
        "id": "EXC-2026-001",
        "title": "curl update waits for the vendor agent certification",
        "asset_ids": ["a-app-01"],
        "vuln_ids": ["CVE-2024-7264"],
        "risk_response": "mitigate",
        "deviation_type": "vendor_dependency",
        "owner": "team-platform",
        "approver": "ciso@northwind.example",
        "requested_at": t("09-21 09:00"),
        "approved_at": t("09-22 10:00"),
        "expires_at": t("11-30 10:00"),
        "justification": "The monitoring agent vendor certifies the new libcurl in October.",
        "compensating_controls": [
            {
                "id": "cc-0001",
                "description": "Outbound HTTP restricted to the proxy",
                "evidence_ref": "fw-change-7781",
                "verified_at": t("09-21 15:00"),
            }
        ],
        "compensating_control_ids": ["cc-0001"],
    },
]

ROLLOUT_EVENTS = [
    {
        "id": "r-0001",
        "type": "failed_rollout",
        "change_ref": "CHG0042010",
        "deployment_ids": ["d-0004"],
        "asset_ids": ["a-app-01"],
        "finding_ids": ["f-0004"],
        "occurred_at": t("08-12 22:40"),
        "reassessed_at": t("08-13 01:30"),
        "reassessment_ref": "PIR-2231",
        "description": "Package lock held by the monitoring agent; retried the next night",
    },
]

IDENTITIES = [
    {
        "id": "nhi-0001",
        "name": "svc-app-export",
        "type": "service_account",
        "platform": "aws-iam",
        "owner": "team-platform",
        "owner_active": True,
        "purpose": "Nightly export of app data to S3",
        "environments": ["production"],
        "created_at": t("01-10 10:00"),
        "last_rotated_at": t("08-20 12:10"),
        "prior_secret_valid": False,
        "expires_at": t("12-20 10:00"),
        "last_used_at": t("09-29 01:00"),
        "last_reviewed_at": t("09-01 10:00"),
        "enabled": True,
        "short_lived": False,
        "privilege_admin": False,
        "privilege_scopes": ["s3:PutObject"],
        "unused_permissions": 0,
        "used_by": ["a-app-01"],
        "storage": "vault",
        "auth_method": "key_pair",
        "third_party": False,
        "interactive_use": False,
    },
    {
        "id": "nhi-0002",
        "name": "wi-tracking-api",
        "type": "workload_identity",
        "platform": "kubernetes",
        "owner": "team-fleet",
        "owner_active": True,
        "purpose": "Pod identity of the tracking API",
        "environments": ["production"],
        "created_at": t("06-01 10:00"),
        "last_used_at": t("09-30 05:00"),
        "last_reviewed_at": t("08-15 10:00"),
        "enabled": True,
        "short_lived": True,
        "privilege_admin": False,
        "privilege_scopes": ["dynamodb:Query"],
        "unused_permissions": 0,
        "used_by": ["a-pod-01"],
        "storage": "none",
        "auth_method": "workload_federation",
        "third_party": False,
        "interactive_use": False,
    },
    {
        "id": "nhi-0003",
        "name": "agent-support-token",
        "type": "agent_credential",
        "platform": "entra-id",
        "owner": "team-support",
        "owner_active": True,
        "purpose": "Delegated credential of the support agent",
        "environments": ["production"],
        "created_at": t("05-02 10:00"),
        "last_used_at": t("09-30 04:00"),
        "last_reviewed_at": t("09-01 10:00"),
        "enabled": True,
        "short_lived": True,
        "privilege_admin": False,
        "privilege_scopes": ["tickets:read"],
        "unused_permissions": 0,
        "used_by": ["agent-support-01"],
        "storage": "none",
        "auth_method": "oidc",
        "third_party": False,
        "interactive_use": False,
    },
]

SECRET_EXPOSURES = [
    {
        "id": "sx-0001",
        "identity_id": "nhi-0001",
        "detector": "aws-access-token",
        "location": "github.com/northwind/etl@4f1c2a9:config/prod.env:12",
        "fingerprint": "4f1c2a9:config/prod.env:aws-access-token:12",
        "public": False,
        "verified_live": True,
        "exposed_at": t("08-20 09:02"),
        "detected_at": t("08-20 09:30"),
        "revoked_at": t("08-20 12:10"),
        "verified_invalid_at": t("08-20 12:15"),
    },
]

AGENTS = [
    {
        "id": "agent-support-01",
        "name": "Support triage agent",
        "owner": "team-support",
        "model_provider": "example-llm",
        "environment": "production",
        "tools": [
            {"name": "read_ticket", "permission": "read", "requires_approval": False},
            {"name": "issue_refund", "permission": "write", "requires_approval": True},
        ],
        "identity_ids": ["nhi-0003"],
        "autonomy": "human_on_the_loop",
        "internet_access": False,
        "data_classes": ["pii"],
        "last_reviewed_at": t("09-01 10:00"),
    },
]

CONTROLS = [
    {
        "id": "cc-0001",
        "description": "Outbound HTTP restricted to the proxy",
        "owner": "team-network",
        "evidence_ref": "fw-change-7781",
        "verified_at": t("09-21 15:00"),
    },
]

KEV = [
    {
        "id": "CVE-2026-21318",
        "vendor_project": "Google",
        "product": "Chromium V8",
        "name": "Google Chromium V8 Type Confusion Vulnerability",
        "date_added": d("08-05"),
        "due_date": d("08-26"),
        "known_ransomware": "unknown",
        "required_action": "Apply mitigations per vendor instructions.",
        "catalog_version": "2026.09.30",
    },
]

EPSS = [
    {"id": cve, "epss": score, "percentile": pct, "model_version": "v2025.03.14", "score_date": d("09-30")}
    for cve, score, pct in (
        ("CVE-2024-6387", 0.42, 0.97),
        ("CVE-2024-7264", 0.0021, 0.59),
        ("CVE-2026-21318", 0.71, 0.99),
        ("CVE-2024-12797", 0.0012, 0.48),
        ("CVE-2023-45288", 0.0089, 0.82),
        ("CVE-2024-35195", 0.0011, 0.45),
    )
]

SOURCES: list[tuple[str, str, str, str, str, list[Record]]] = [
    ("inventory/assets.csv", "assets", "csv", "ServiceNow CMDB export", "09-30 22:00", ASSETS),
    ("discovery/observations.jsonl", "observations", "jsonl", "CrowdStrike Falcon + AWS Config", "10-01 00:30", []),
    ("discovery/netscan.parquet", "observations", "parquet", "runZero network discovery", "10-01 00:30", []),
    ("scans/scans.csv", "scans", "csv", "Tenable.io + Trivy scan log", "10-01 01:00", []),
    ("findings/tenable.jsonl", "findings", "jsonl", "Tenable.io vulnerability export", "10-01 02:00", FINDINGS_TENABLE),
    ("findings/trivy.jsonl", "findings", "jsonl", "Trivy findings", "10-01 02:00", FINDINGS_TRIVY),
    ("deployments/deployments.csv", "deployments", "csv", "SSM + Intune + Argo CD", "09-30 21:00", DEPLOYMENTS),
    ("verifications/verifications.jsonl", "verifications", "jsonl", "Post-patch rescans", "10-01 03:00", VERIFICATIONS),
    ("exceptions/exceptions.yaml", "exceptions", "yaml", "GRC risk register", "09-30 20:00", EXCEPTIONS),
    (
        "exceptions/compensating-controls.csv",
        "compensating_controls",
        "csv",
        "GRC control library",
        "09-30 20:00",
        CONTROLS,
    ),
    (
        "changes/rollout-events.json",
        "rollout_events",
        "json",
        "ServiceNow change export",
        "10-01 04:00",
        ROLLOUT_EVENTS,
    ),
    ("identities/identities.csv", "identities", "csv", "NHI inventory", "10-01 05:00", IDENTITIES),
    (
        "secrets/secret-exposures.jsonl",
        "secret_exposures",
        "jsonl",
        "GitGuardian incidents",
        "10-01 05:30",
        SECRET_EXPOSURES,
    ),
    ("agents/agents.yaml", "agents", "yaml", "AI agent registry", "10-01 06:00", AGENTS),
    ("intel/kev.csv", "kev_entries", "csv", "CISA KEV catalog (excerpt)", "10-01 00:00", KEV),
    ("intel/epss.csv", "epss_scores", "csv", "FIRST EPSS scores (excerpt)", "10-01 00:00", EPSS),
]

MINIMAL_META = Meta(
    organisation="Northwind Logistics (minimal sample)",
    scope="A handful of records of every kind, all clean",
    prepared_by={"name": "Eva Smit", "role": "Vulnerability Management Lead"},
    reviewed_by={"name": "Pieter Bakker", "role": "Internal Audit"},
    classification="Internal",
    policy=MINIMAL_POLICY,
)


def minimal_bundle(name: str = "minimal", drop: tuple[str, ...] = ()) -> Bundle:
    """The minimal clean bundle, optionally without some source paths."""
    bundle = Bundle(name, CLOCK, MINIMAL_META)
    jsonl, parquet = _observations()
    contents = {
        "discovery/observations.jsonl": jsonl,
        "discovery/netscan.parquet": parquet,
        "scans/scans.csv": _scans(),
    }
    for path, kind, fmt, tool, collected, records in SOURCES:
        if path in drop:
            continue
        spec = SourceSpec(path, kind, fmt, tool, t(collected))
        spec.records = [dict(r) for r in contents.get(path, records)]
        bundle.source(spec)
    return bundle


# ---------------------------------------------------------------------------------------------
# Broken and warning modes


@dataclass
class Mode:
    """One defect applied to a copy of the minimal bundle, and the issue it must produce."""

    name: str
    defect: str
    code: str
    file: str
    mutate: Callable[[dict[str, bytes]], dict[str, bytes]]
    severity: str = "error"
    field_path: str | None = None
    locate: Callable[[dict[str, bytes]], dict[str, int]] = field(default=lambda files: {})
    rehash: bool = True


def _lines(files: dict[str, bytes], path: str) -> list[str]:
    return files[path].decode().split("\n")


def _set_lines(files: dict[str, bytes], path: str, lines: list[str]) -> dict[str, bytes]:
    out = dict(files)
    out[path] = "\n".join(lines).encode()
    return out


def _edit_jsonl(
    path: str, line: int, change: Callable[[Record], None]
) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def mutate(files: dict[str, bytes]) -> dict[str, bytes]:
        lines = _lines(files, path)
        record = json.loads(lines[line - 1])
        change(record)
        lines[line - 1] = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        return _set_lines(files, path, lines)

    return mutate


def _edit_csv_cell(
    path: str, record_id: str, column: str, value: str
) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def mutate(files: dict[str, bytes]) -> dict[str, bytes]:
        lines = _lines(files, path)
        header = lines[0].split(",")
        index = header.index(column)
        for n, line in enumerate(lines[1:], start=1):
            if line.startswith(record_id + ","):
                cells = line.split(",")
                cells[index] = value
                lines[n] = ",".join(cells)
        return _set_lines(files, path, lines)

    return mutate


def _csv_line(path: str, record_id: str) -> Callable[[dict[str, bytes]], dict[str, int]]:
    def locate(files: dict[str, bytes]) -> dict[str, int]:
        for n, line in enumerate(_lines(files, path), start=1):
            if line.startswith(record_id + ","):
                return {"line": n, "record": n - 1}
        raise ValueError(f"{record_id} not in {path}")

    return locate


def _jsonl_line(line: int) -> Callable[[dict[str, bytes]], dict[str, int]]:
    return lambda files: {"line": line, "record": line}


def _text_line(path: str, needle: str, record: int | None = None) -> Callable[[dict[str, bytes]], dict[str, int]]:
    def locate(files: dict[str, bytes]) -> dict[str, int]:
        for n, line in enumerate(_lines(files, path), start=1):
            if needle in line:
                return {"line": n, **({"record": record} if record else {})}
        raise ValueError(f"{needle!r} not in {path}")

    return locate


def _manifest_edit(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def mutate(files: dict[str, bytes]) -> dict[str, bytes]:
        data = yaml.safe_load(files["bundle.yaml"])
        change(data)
        out = dict(files)
        out["bundle.yaml"] = dump_yaml(data)
        return out

    return mutate


def _set_collected(path: str, when: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        for source in data["sources"]:
            if source["path"] == path:
                source["collected_at"] = when

    return change


def _policy_typo(files: dict[str, bytes]) -> dict[str, bytes]:
    data = yaml.safe_load(files["policy.yaml"])
    data["nhi"] = {"rotation_days": 60}
    out = dict(files)
    out["policy.yaml"] = dump_yaml(data)
    return out


def _exception_verified_pending(files: dict[str, bytes]) -> dict[str, bytes]:
    path = "exceptions/exceptions.yaml"
    text = files[path].decode().replace("verified_at: '2026-09-21T15:00:00Z'", "verified_at: pending", 1)
    return {**files, path: text.encode()}


def _rollouts_as_object(files: dict[str, bytes]) -> dict[str, bytes]:
    path = "changes/rollout-events.json"
    events = json.loads(files[path])
    return {**files, path: (json.dumps({"events": events}, indent=2) + "\n").encode()}


def _extra_column(files: dict[str, bytes]) -> dict[str, bytes]:
    path = "inventory/assets.csv"
    lines = _lines(files, path)
    out = [lines[0] + ",location"] + [line + ",Rotterdam" if line else line for line in lines[1:]]
    return _set_lines(files, path, out)


def _remove(path: str) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    return lambda files: {k: v for k, v in files.items() if k != path}


def _identity_purpose_edit(files: dict[str, bytes]) -> dict[str, bytes]:
    path = "identities/identities.csv"
    text = (
        files[path]
        .decode()
        .replace("Nightly export of app data to S3", "Nightly export of app data to S3 and BigQuery")
    )
    return {**files, path: text.encode()}


def _stale_agents(files: dict[str, bytes]) -> dict[str, bytes]:
    path = "agents/agents.yaml"
    text = (
        files[path]
        .decode()
        .replace("last_reviewed_at: '2026-09-01T10:00:00Z'", "last_reviewed_at: '2026-07-20T10:00:00Z'")
    )
    out = {**files, path: text.encode()}
    return _manifest_edit(_set_collected(path, "2026-08-01T06:00:00Z"))(out)


def _unlisted(files: dict[str, bytes]) -> dict[str, bytes]:
    line = files["findings/tenable.jsonl"].decode().split("\n")[1]
    return {**files, "findings/tenable-2026-06-export.jsonl": (line + "\n").encode()}


FINDINGS_TRIVY_PATH = "findings/trivy.jsonl"


def _drop(key: str) -> Callable[[Record], None]:
    return lambda record: record.pop(key)


def _put(key: str, value: Any) -> Callable[[Record], None]:
    return lambda record: record.__setitem__(key, value)


MODES: list[Mode] = [
    Mode(
        "bad-enum-csv",
        "assets.csv: asset a-old-01 has type 'laptop' (not an asset type)",
        "record.bad-enum",
        "inventory/assets.csv",
        _edit_csv_cell("inventory/assets.csv", "a-old-01", "type", "laptop"),
        field_path="type",
        locate=_csv_line("inventory/assets.csv", "a-old-01"),
    ),
    Mode(
        "missing-field-jsonl",
        "findings/trivy.jsonl line 2: finding f-0102 has no 'severity'",
        "record.missing-field",
        FINDINGS_TRIVY_PATH,
        _edit_jsonl(FINDINGS_TRIVY_PATH, 2, _drop("severity")),
        field_path="severity",
        locate=_jsonl_line(2),
    ),
    Mode(
        "malformed-cve",
        "findings/trivy.jsonl line 2: vuln_id 'CVE-24-1'",
        "record.bad-format",
        FINDINGS_TRIVY_PATH,
        _edit_jsonl(FINDINGS_TRIVY_PATH, 2, _put("vuln_id", "CVE-24-1")),
        field_path="vuln_id",
        locate=_jsonl_line(2),
    ),
    Mode(
        "duplicate-id",
        "findings/trivy.jsonl line 2 reuses the id f-0001 of findings/tenable.jsonl line 1",
        "record.duplicate-id",
        FINDINGS_TRIVY_PATH,
        _edit_jsonl(FINDINGS_TRIVY_PATH, 2, _put("id", "f-0001")),
        field_path="id",
        locate=_jsonl_line(2),
    ),
    Mode(
        "unknown-asset",
        "findings/trivy.jsonl line 2: asset_id 'a-ghost-01' is not in the inventory",
        "ref.unknown-asset",
        FINDINGS_TRIVY_PATH,
        _edit_jsonl(FINDINGS_TRIVY_PATH, 2, _put("asset_id", "a-ghost-01")),
        field_path="asset_id",
        locate=_jsonl_line(2),
    ),
    Mode(
        "unknown-finding",
        "verifications.jsonl line 3: finding_id 'f-9999' does not exist",
        "ref.unknown-finding",
        "verifications/verifications.jsonl",
        _edit_jsonl("verifications/verifications.jsonl", 3, _put("finding_id", "f-9999")),
        field_path="finding_id",
        locate=_jsonl_line(3),
    ),
    Mode(
        "naive-timestamp",
        "observations.jsonl line 1: observed_at '2026-09-29T08:00:00' has no zone",
        "time.naive",
        "discovery/observations.jsonl",
        _edit_jsonl("discovery/observations.jsonl", 1, _put("observed_at", "2026-09-29T08:00:00")),
        field_path="observed_at",
        locate=_jsonl_line(1),
    ),
    Mode(
        "verification-before-deployment",
        "verifications.jsonl line 1: v-0001 observed 2 hours before its deployment d-0001 completed",
        "time.verification-before-deployment",
        "verifications/verifications.jsonl",
        _edit_jsonl("verifications/verifications.jsonl", 1, _put("observed_at", "2026-07-11T20:14:00Z")),
        field_path="observed_at",
        locate=_jsonl_line(1),
    ),
    Mode(
        "after-collection",
        "observations.jsonl line 5: observed_at 2026-10-01T09:00Z is after the source's collected_at 2026-10-01T00:30Z",
        "time.after-collection",
        "discovery/observations.jsonl",
        _edit_jsonl("discovery/observations.jsonl", 5, _put("observed_at", "2026-10-01T09:00:00Z")),
        field_path="observed_at",
        locate=_jsonl_line(5),
    ),
    Mode(
        "hash-mismatch",
        "identities.csv edited after the manifest was written (sha256 no longer matches)",
        "source.hash-mismatch",
        "identities/identities.csv",
        _identity_purpose_edit,
        rehash=False,
    ),
    Mode(
        "missing-file",
        "secrets/secret-exposures.jsonl listed in the manifest but absent",
        "source.missing",
        "secrets/secret-exposures.jsonl",
        _remove("secrets/secret-exposures.jsonl"),
        rehash=False,
    ),
    Mode(
        "manifest-missing-period",
        "bundle.yaml has no 'period'",
        "manifest.invalid",
        "bundle.yaml",
        _manifest_edit(lambda m: m.pop("period")),
        field_path="period",
    ),
    Mode(
        "manifest-unknown-key",
        "bundle.yaml has an unknown key 'retention'",
        "manifest.invalid",
        "bundle.yaml",
        _manifest_edit(lambda m: m.__setitem__("retention", "7 years")),
        field_path="retention",
        locate=_text_line("bundle.yaml", "retention:"),
    ),
    Mode(
        "policy-unknown-key",
        "policy.yaml: nhi.rotation_days is not a policy setting (rotation_max_days is)",
        "policy.invalid",
        "policy.yaml",
        _policy_typo,
        field_path="nhi.rotation_days",
        locate=_text_line("policy.yaml", "rotation_days:"),
    ),
    Mode(
        "exception-nested-field",
        "exceptions.yaml record 1: compensating_controls[0].verified_at is 'pending', not a timestamp",
        "record.bad-type",
        "exceptions/exceptions.yaml",
        _exception_verified_pending,
        field_path="compensating_controls[0].verified_at",
        locate=_text_line("exceptions/exceptions.yaml", "verified_at: pending", record=1),
    ),
    Mode(
        "json-not-a-list",
        'rollout-events.json holds an object {"events": [...]} instead of a list',
        "file.not-a-list",
        "changes/rollout-events.json",
        _rollouts_as_object,
    ),
    Mode(
        "unknown-column-csv",
        "assets.csv has an extra column 'location'",
        "record.unknown-field",
        "inventory/assets.csv",
        _extra_column,
        field_path="location",
        locate=lambda files: {"line": 1},
    ),
    Mode(
        "bad-type-csv",
        "assets.csv: a-old-01 internet_facing is 'maybe' (booleans are true/false)",
        "record.bad-type",
        "inventory/assets.csv",
        _edit_csv_cell("inventory/assets.csv", "a-old-01", "internet_facing", "maybe"),
        field_path="internet_facing",
        locate=_csv_line("inventory/assets.csv", "a-old-01"),
    ),
]

WARNING_MODES: list[Mode] = [
    Mode(
        "stale-source",
        "agents.yaml collected 2026-08-01, 60 days before the period end (window 14 days)",
        "source.stale",
        "agents/agents.yaml",
        _stale_agents,
        severity="warning",
    ),
    Mode(
        "unlisted-file",
        "findings/tenable-2026-06-export.jsonl is in the bundle but not in the manifest",
        "source.unlisted",
        "findings/tenable-2026-06-export.jsonl",
        _unlisted,
        severity="warning",
        rehash=False,
    ),
]


def _rehash(files: dict[str, bytes], changed: set[str]) -> dict[str, bytes]:
    """Update the manifest's sha256 of files a mode edited (so the defect is the only issue)."""
    data = yaml.safe_load(files["bundle.yaml"])
    if not isinstance(data, dict) or "sources" not in data:
        return files
    for source in data["sources"]:
        if source["path"] in changed and source["path"] in files:
            source["sha256"] = sha256(files[source["path"]])
    policy = data.get("policy")
    if policy in changed and policy in files and "policy_sha256" in data:
        data["policy_sha256"] = sha256(files[policy])
    return {**files, "bundle.yaml": dump_yaml(data)}


def apply_mode(base: dict[str, bytes], mode: Mode) -> tuple[dict[str, bytes], dict[str, Any]]:
    files = mode.mutate(dict(base))
    changed = {p for p in files if p != "bundle.yaml" and base.get(p) != files[p]}
    if mode.rehash:
        files = _rehash(files, changed)
    issue: dict[str, Any] = {"code": mode.code, "severity": mode.severity, "file": mode.file}
    issue.update(mode.locate(files))
    if mode.field_path:
        issue["field"] = mode.field_path
    return files, issue


def small_bundles(scratch: Path) -> tuple[dict[str, bytes], dict[str, list[dict[str, Any]]]]:
    """Files of minimal/, incomplete/, broken/*, warnings/* and their expectations."""
    out: dict[str, bytes] = {}
    minimal = minimal_bundle()
    base = render_bundle(minimal, scratch)
    cross_check("minimal", evidence_of(minimal, base), Plants())
    out.update({f"minimal/{p}": v for p, v in base.items()})
    out["expectations/minimal.yaml"] = dump_yaml(expectations("minimal", CLOCK, Plants()))

    dropped = ("agents/agents.yaml", "secrets/secret-exposures.jsonl")
    incomplete = minimal_bundle("incomplete", drop=dropped)
    incomplete.meta = Meta(
        **{**MINIMAL_META.__dict__, "scope": "The minimal bundle without agents and secret exposures"}
    )
    incomplete.sources["identities/identities.csv"].records.pop()  # the agent's credential goes with the agents
    files = render_bundle(incomplete, scratch)
    plants = Plants()
    for kind in ("agents", "secret_exposures"):
        plants.flag("EVD-01", "kinds", kind, f"no source provides {kind}")
    cross_check("incomplete", evidence_of(incomplete, files), plants)
    out.update({f"incomplete/{p}": v for p, v in files.items()})
    out["expectations/incomplete.yaml"] = dump_yaml(expectations("incomplete", CLOCK, plants))

    catalogue: dict[str, list[dict[str, Any]]] = {"broken": [], "warnings": []}
    for group, modes in (("broken", MODES), ("warnings", WARNING_MODES)):
        for mode in modes:
            files, issue = apply_mode(base, mode)
            out.update({f"{group}/{mode.name}/{p}": v for p, v in files.items()})
            catalogue[group].append(
                {
                    "mode": mode.name,
                    "defect": mode.defect,
                    "issues": [issue],
                    "exit_code": 3 if mode.severity == "error" else 0,
                }
            )
    out["broken/expected-issues.yaml"] = dump_yaml({"expected_issues_version": 1, "base": "minimal", **catalogue})
    out["broken/README.md"] = broken_readme(catalogue)
    return out, catalogue
