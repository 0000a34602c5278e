"""Registry of evidence record kinds: model, purpose, how it is validated, and a documented example."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from reporter.models import evidence as ev
from reporter.models.common import StrictModel

Validation = Literal["sql", "document"]


@dataclass(frozen=True)
class KindSpec:
    """One record kind of the bundle format."""

    name: str
    model: type[StrictModel]
    purpose: str
    validation: Validation  # sql: set-based in the store; document: pydantic per record
    example: dict[str, Any] = field(default_factory=dict)


_KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        "assets",
        ev.Asset,
        "The authoritative inventory: the denominator of every coverage metric.",
        "sql",
        {
            "id": "a-web-01",
            "name": "web-01.prod.northwind.example",
            "type": "server",
            "environment": "production",
            "owner": "team-web",
            "criticality": "high",
            "internet_facing": True,
            "ephemeral": False,
            "managed_by": "internal",
            "lifecycle": "active",
            "maintenance_group": "linux-prod",
            "patch_automation": True,
            "compliance_scopes": ["pci"],
            "aliases": ["10.0.4.11", "i-0abc123"],
            "tags": ["web"],
        },
    ),
    KindSpec(
        "observations",
        ev.Observation,
        "What discovery sources saw; reconciled against the inventory.",
        "sql",
        {
            "id": "o-000001",
            "asset_key": "10.0.4.11",
            "asset_id": "a-web-01",
            "source": "crowdstrike",
            "source_type": "edr",
            "observed_at": "2026-09-29T08:00:00Z",
        },
    ),
    KindSpec(
        "scans",
        ev.Scan,
        "Vulnerability scans per asset: scan and authenticated-scan coverage.",
        "sql",
        {
            "id": "s-000001",
            "asset_id": "a-web-01",
            "tool": "nessus",
            "authenticated": True,
            "scope": "internal",
            "completed_at": "2026-09-28T02:10:00Z",
            "status": "completed",
        },
    ),
    KindSpec(
        "findings",
        ev.Finding,
        "Vulnerabilities on assets.",
        "sql",
        {
            "id": "f-000001",
            "asset_id": "a-web-01",
            "vuln_id": "CVE-2024-6387",
            "package": "openssh-server",
            "installed_version": "1:9.2p1-2",
            "fixed_version": "1:9.2p1-2+deb12u3",
            "severity": "high",
            "cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "cvss_score": 8.1,
            "kev": False,
            "epss": 0.42,
            "epss_date": "2026-07-01",
            "first_detected_at": "2026-07-02T03:00:00Z",
            "last_seen_at": "2026-07-20T03:00:00Z",
            "state": "closed",
            "closed_at": "2026-07-21T09:00:00Z",
            "source": "nessus",
        },
    ),
    KindSpec(
        "deployments",
        ev.Deployment,
        "Patch deployments: activity, never proof of remediation.",
        "sql",
        {
            "id": "d-000001",
            "asset_id": "a-web-01",
            "patch_id": "openssh-server=1:9.2p1-2+deb12u3",
            "finding_ids": ["f-000001"],
            "change_ref": "CHG0041234",
            "started_at": "2026-07-10T22:00:00Z",
            "completed_at": "2026-07-10T22:14:00Z",
            "status": "succeeded",
            "tool": "ansible",
        },
    ),
    KindSpec(
        "verifications",
        ev.Verification,
        "Post-patch evidence that a fix took effect.",
        "sql",
        {
            "id": "v-000001",
            "asset_id": "a-web-01",
            "finding_id": "f-000001",
            "deployment_id": "d-000001",
            "method": "authenticated_rescan",
            "result": "not_vulnerable",
            "observed_at": "2026-07-12T03:00:00Z",
            "evidence_ref": "nessus-scan-88123",
        },
    ),
    KindSpec(
        "exceptions",
        ev.ExceptionRecord,
        "Risk acceptances and deviations, each with owner, expiry and compensating controls.",
        "document",
        {
            "id": "EXC-2026-014",
            "title": "Legacy ERP cannot take the OpenSSL update before vendor release",
            "asset_ids": ["a-erp-01"],
            "vuln_ids": ["CVE-2024-5535"],
            "risk_response": "mitigate",
            "deviation_type": "vendor_dependency",
            "owner": "erp-team",
            "approver": "ciso",
            "approved_at": "2026-06-15T10:00:00Z",
            "expires_at": "2026-09-15T10:00:00Z",
            "justification": "Vendor certifies the fix in release 11.4 (ETA October).",
            "compensating_controls": [
                {
                    "description": "Service reachable only from the ERP jump host",
                    "evidence_ref": "fw-rule-7781",
                    "verified_at": "2026-07-01T09:00:00Z",
                }
            ],
        },
    ),
    KindSpec(
        "rollout_events",
        ev.RolloutEvent,
        "Failed rollouts, rollbacks, emergency bypasses and mitigations, retirements.",
        "sql",
        {
            "id": "r-0001",
            "type": "rollback",
            "change_ref": "CHG0041299",
            "deployment_ids": ["d-000001"],
            "asset_ids": ["a-web-01"],
            "finding_ids": ["f-000001"],
            "occurred_at": "2026-07-15T12:00:00Z",
            "reassessed_at": "2026-07-15T18:00:00Z",
            "reassessment_ref": "nessus-scan-88190",
        },
    ),
    KindSpec(
        "identities",
        ev.Identity,
        "The non-human identity inventory.",
        "sql",
        {
            "id": "nhi-0001",
            "name": "svc-billing-export",
            "type": "cloud_access_key",
            "platform": "aws-iam",
            "owner": "team-billing",
            "owner_active": True,
            "purpose": "Nightly export of invoices to the data lake",
            "environments": ["production"],
            "created_at": "2025-11-02T10:00:00Z",
            "last_rotated_at": "2026-08-01T10:00:00Z",
            "prior_secret_valid": False,
            "last_used_at": "2026-09-29T01:00:00Z",
            "last_reviewed_at": "2026-09-01T10:00:00Z",
            "enabled": True,
            "short_lived": False,
            "privilege_admin": False,
            "privilege_scopes": ["s3:PutObject"],
            "used_by": ["a-batch-02"],
            "storage": "vault",
            "auth_method": "static_secret",
        },
    ),
    KindSpec(
        "secret_exposures",
        ev.SecretExposure,
        "Leaked secrets found by secret scanners (fingerprints only).",
        "sql",
        {
            "id": "sx-0001",
            "identity_id": "nhi-0001",
            "detector": "aws-access-token",
            "location": "github.com/northwind/etl@4f1c2a9:config/prod.env:12",
            "fingerprint": "4f1c2a9:config/prod.env:aws-access-token:12",
            "public": False,
            "verified_live": True,
            "exposed_at": "2026-08-03T14:02:00Z",
            "detected_at": "2026-08-03T14:30:00Z",
            "revoked_at": "2026-08-03T16:00:00Z",
            "verified_invalid_at": "2026-08-03T16:05:00Z",
        },
    ),
    KindSpec(
        "agents",
        ev.Agent,
        "AI agent workloads, their tools and credentials.",
        "document",
        {
            "id": "agent-support-01",
            "name": "Support triage agent",
            "owner": "team-support",
            "model_provider": "example-llm",
            "tools": [
                {"name": "read_ticket", "permission": "read", "requires_approval": False},
                {"name": "issue_refund", "permission": "write", "requires_approval": True},
            ],
            "identity_ids": ["nhi-0042"],
            "autonomy": "human_on_the_loop",
            "internet_access": False,
            "data_classes": ["pii"],
            "last_reviewed_at": "2026-08-20T10:00:00Z",
        },
    ),
    KindSpec(
        "compensating_controls",
        ev.CompensatingControl,
        "Compensating controls cited by exceptions.",
        "sql",
        {
            "id": "cc-waf-01",
            "description": "WAF virtual patch blocking the exploit path",
            "owner": "team-edge",
            "evidence_ref": "waf-rule-2231",
            "verified_at": "2026-09-10T10:00:00Z",
        },
    ),
    KindSpec(
        "kev_entries",
        ev.KevEntry,
        "CISA KEV catalog entries; enrich findings by CVE.",
        "sql",
        {
            "id": "CVE-2024-3400",
            "vendor_project": "Palo Alto Networks",
            "product": "PAN-OS",
            "name": "Palo Alto Networks PAN-OS Command Injection Vulnerability",
            "date_added": "2024-04-12",
            "due_date": "2024-04-19",
            "known_ransomware": "unknown",
            "catalog_version": "2025.08.25",
        },
    ),
    KindSpec(
        "epss_scores",
        ev.EpssScore,
        "FIRST EPSS scores; enrich findings by CVE.",
        "sql",
        {
            "id": "CVE-2024-3400",
            "epss": 0.94,
            "percentile": 0.999,
            "model_version": "v2025.03.14",
            "score_date": "2026-09-30",
        },
    ),
)

KINDS: dict[str, KindSpec] = {k.name: k for k in _KINDS}


def kind_names() -> list[str]:
    """Record kinds in their documented order."""
    return [k.name for k in _KINDS]


def get_kind(name: str) -> KindSpec:
    """The spec of a kind; KeyError if unknown."""
    return KINDS[name]
