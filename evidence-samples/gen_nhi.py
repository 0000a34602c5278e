"""Clean bulk records around the patch loop: non-human identities, AI agents, leaked-secret
incidents that were handled in time, compensating controls, time-boxed exceptions, change events,
and the KEV / EPSS excerpts that enrich the findings.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from gen_core import Record, seeded
from gen_world import DAY, HOUR, World, uniform_time

IDENTITY_TYPES = [
    ("service_account", 14, "aws-iam", "key_pair"),
    ("api_key", 7, "vault", "static_secret"),
    ("oauth_client", 5, "entra-id", "oauth_client_credentials"),
    ("certificate", 8, "vault-pki", "mtls"),
    ("ssh_key", 5, "vault-ssh", "key_pair"),
    ("cloud_access_key", 7, "aws-iam", "static_secret"),
    ("workload_identity", 10, "kubernetes", "workload_federation"),
    ("secret", 4, "vault", "static_secret"),
]
SCOPES = {
    "service_account": ["s3:GetObject", "s3:PutObject", "sqs:SendMessage"],
    "api_key": ["shipments:read", "rates:read"],
    "oauth_client": ["Mail.Send", "Sites.Read.All"],
    "certificate": ["tls-client"],
    "ssh_key": ["deploy"],
    "cloud_access_key": ["dynamodb:Query", "kinesis:PutRecord"],
    "workload_identity": ["secretsmanager:GetSecretValue"],
    "secret": ["db:readwrite"],
    "agent_credential": ["tickets:read", "shipments:read"],
    "access_token": ["repo:read"],
}
STORAGE = ["vault", "vault", "kms", "cloud_secret_manager"]


def identity_dates(w: World, created: datetime, rng: random.Random, short_lived: bool) -> Record:
    """Dates of an identity that passes every NHI control at the end of the period."""
    as_of, cap = w.as_of, w.cap
    reviewed = max(created + HOUR, as_of - timedelta(days=rng.uniform(5, 75)))
    used = max(created + HOUR, cap - timedelta(hours=rng.randint(0, 8 * 24)))
    if short_lived:
        return {"created_at": created, "last_used_at": used, "last_reviewed_at": min(reviewed, cap)}
    recent = created >= as_of - timedelta(days=80)
    rotated = None
    if not recent or rng.random() < 0.5:
        rotated = uniform_time(rng, max(created, as_of - timedelta(days=80)), cap - DAY)
    base = rotated or created
    return {
        "created_at": created,
        "last_rotated_at": rotated,
        "prior_secret_valid": False,
        "expires_at": min(created + timedelta(days=365), base + timedelta(days=180)),
        "last_used_at": used,
        "last_reviewed_at": min(reviewed, cap),
    }


def _next_identity_id(w: World) -> str:
    used = [int(i.split("-")[1]) for i in w.identities if i.startswith("nhi-")]
    return f"nhi-{max(used, default=0) + 1:04d}"


def add_identity(w: World, **fields: Any) -> Record:
    """An identity record; missing fields take the clean defaults."""
    record: Record = {
        "id": fields.pop("id", None) or _next_identity_id(w),
        "name": fields.pop("name"),
        "type": fields.pop("type"),
        "platform": None,
        "owner": None,
        "owner_active": True,
        "purpose": None,
        "environments": ["production"],
        "created_at": None,
        "last_rotated_at": None,
        "prior_secret_valid": None,
        "expires_at": None,
        "last_used_at": None,
        "last_reviewed_at": None,
        "enabled": True,
        "short_lived": False,
        "privilege_admin": False,
        "privilege_scopes": [],
        "unused_permissions": 0,
        "used_by": [],
        "storage": "vault",
        "auth_method": "static_secret",
        "third_party": False,
        "third_party_vendor": None,
        "interactive_use": False,
    }
    unknown = set(fields) - set(record)
    if unknown:
        raise ValueError(f"unknown identity fields {sorted(unknown)}")
    record.update(fields)
    w.b.add("identities", record)
    w.identities[record["id"]] = record
    for user in record["used_by"]:
        if user in w.assets:
            w.linked.add(user)
    return record


def clean_identity(w: World, rng: random.Random, created: datetime, **fields: Any) -> Record:
    """An identity that passes every control, with `fields` overriding the defaults."""
    short = fields.get("short_lived", False)
    dates = identity_dates(w, created, rng, short)
    if short:
        dates.update(storage="none", auth_method=fields.get("auth_method", "workload_federation"))
    dates.update(fields)
    return add_identity(w, **dates)


def build_identities(w: World) -> None:
    """About sixty identities, each used by assets of one owner and one environment."""
    stable = seeded("northwind:identities")
    rng = w.r("identities")
    groups: dict[tuple[str, str], list[Record]] = {}
    for a in w.assets.values():
        if a["id"] in w.reserved or (a["ephemeral"] and a["type"] != "serverless"):
            continue
        if a["type"] in ("server", "cloud_workload", "serverless", "nhi_service", "repository"):
            groups.setdefault((a["owner"], a["environment"]), []).append(a)
    keys = sorted(groups)
    anchor = datetime(2025, 10, 6, tzinfo=UTC)
    number = 0
    for type_, count, platform, auth in IDENTITY_TYPES:
        for n in range(count):
            number += 1
            owner, env = keys[stable.randrange(len(keys))]
            members = groups[(owner, env)]
            users = stable.sample(members, min(len(members), stable.randint(1, 2)))
            created = anchor + timedelta(days=stable.randint(0, 310), hours=stable.randint(0, 23))
            if created > w.as_of - timedelta(days=2):
                continue
            app = users[0]["tags"][0] if users[0]["tags"] else "app"
            clean_identity(
                w,
                rng,
                created,
                id=f"nhi-{number:04d}",
                name=f"{type_.replace('_', '-')}-{app}-{env[:4]}-{n + 1}",
                type=type_,
                platform=platform,
                owner=owner,
                purpose=f"{app} {type_.replace('_', ' ')} for {env}",
                environments=[env],
                short_lived=type_ == "workload_identity",
                privilege_scopes=SCOPES[type_],
                used_by=[u["id"] for u in users],
                storage=STORAGE[stable.randrange(len(STORAGE))],
                auth_method=auth,
                enabled=stable.random() > 0.05,
            )
    third = [
        ("ssh_key", "siemens-remote-support", "Siemens", "team-ot", "a-ot-001"),
        ("api_key", "dhl-parcel-api", "DHL", "team-integration", None),
        ("oauth_client", "zendesk-connector", "Zendesk", "team-support", None),
    ]
    for type_, name, vendor, owner, user in third:
        number += 1
        created = w.as_of - timedelta(days=stable.randint(100, 300))
        clean_identity(
            w,
            rng,
            created,
            id=f"nhi-{number:04d}",
            name=name,
            type=type_,
            platform="vault",
            owner=owner,
            purpose=f"{vendor} integration",
            third_party=True,
            third_party_vendor=vendor,
            used_by=[user] if user else [],
            privilege_scopes=SCOPES[type_],
        )


AGENTS = [
    (
        "agent-support-triage",
        "Support triage agent",
        "team-support",
        "human_on_the_loop",
        [("read_ticket", "read", False), ("draft_reply", "write", True), ("search_kb", "read", False)],
    ),
    (
        "agent-eta-planner",
        "Shipment ETA planner",
        "team-fleet",
        "autonomous",
        [("read_telemetry", "read", False), ("read_shipments", "read", False)],
    ),
    (
        "agent-code-review",
        "Code review assistant",
        "team-platform",
        "human_in_the_loop",
        [("read_repo", "read", False), ("comment_pr", "write", True)],
    ),
    (
        "agent-invoice-recon",
        "Invoice reconciliation agent",
        "team-payments",
        "human_on_the_loop",
        [("read_invoices", "read", False), ("flag_invoice", "write", True)],
    ),
    (
        "agent-sec-triage",
        "Security alert triage agent",
        "team-security",
        "human_in_the_loop",
        [("read_alerts", "read", False), ("isolate_host", "execute", True)],
    ),
    (
        "agent-hr-helpdesk",
        "HR helpdesk assistant",
        "team-hr-systems",
        "human_on_the_loop",
        [("search_policies", "read", False), ("open_case", "write", True)],
    ),
]


def add_agent(w: World, **fields: Any) -> Record:
    record: Record = {
        "id": fields.pop("id"),
        "name": fields.pop("name"),
        "owner": fields.pop("owner", None),
        "model_provider": fields.pop("model_provider", "example-llm-large"),
        "asset_id": fields.pop("asset_id", None),
        "environment": fields.pop("environment", "production"),
        "tools": fields.pop("tools", []),
        "identity_ids": fields.pop("identity_ids", []),
        "autonomy": fields.pop("autonomy", "human_on_the_loop"),
        "internet_access": fields.pop("internet_access", False),
        "data_classes": fields.pop("data_classes", []),
        "last_reviewed_at": fields.pop("last_reviewed_at", None),
    }
    if fields:
        raise ValueError(f"unknown agent fields {sorted(fields)}")
    w.b.add("agents", record)
    w.agents[record["id"]] = record
    return record


def tools(*specs: tuple[str, str, bool]) -> list[Record]:
    return [{"name": n, "permission": p, "requires_approval": a} for n, p, a in specs]


def agent_credential(w: World, rng: random.Random, agent_id: str, owner: str, **fields: Any) -> Record:
    """A short-lived, scoped credential held by one agent."""
    created = fields.pop("created", w.as_of - timedelta(days=rng.randint(20, 200)))
    defaults: Record = {
        "name": f"{agent_id}-token",
        "type": "agent_credential",
        "platform": "entra-id",
        "owner": owner,
        "purpose": f"Delegated credential of {agent_id}",
        "short_lived": True,
        "privilege_scopes": SCOPES["agent_credential"],
        "used_by": [agent_id],
        "auth_method": "oidc",
    }
    defaults.update(fields)
    return clean_identity(w, rng, created, **defaults)


def build_agents(w: World) -> None:
    rng = w.r("agents")
    hosts = [a["id"] for a in w.assets.values() if a["id"].startswith("a-ec2-")]
    for n, (agent_id, name, owner, autonomy, specs) in enumerate(AGENTS):
        cred = agent_credential(w, rng, agent_id, owner)
        add_agent(
            w,
            id=agent_id,
            name=name,
            owner=owner,
            asset_id=hosts[n % len(hosts)],
            tools=tools(*specs),
            identity_ids=[cred["id"]],
            autonomy=autonomy,
            data_classes=["pii"] if "support" in agent_id or "hr" in agent_id else ["operational"],
            last_reviewed_at=w.as_of - timedelta(days=rng.randint(8, 70)),
        )


# ---------------------------------------------------------------------------------------------
# Secret exposures


DETECTORS = [
    "aws-access-token",
    "github-pat",
    "slack-bot-token",
    "generic-api-key",
    "private-key",
    "datadog-api-key",
    "stripe-secret-key",
]


def add_exposure(w: World, identity: Record | None, detected: datetime, **fields: Any) -> Record:
    rng = w.r("exposures")
    repo = rng.choice(["tracking-api", "wms", "infra-terraform", "data-pipelines", "customer-portal"])
    commit = f"{rng.getrandbits(28):07x}"
    path = rng.choice(
        [
            "config/prod.env",
            ".github/workflows/deploy.yml",
            "scripts/backfill.py",
            "docker-compose.yml",
            "terraform/vars.tfvars",
        ]
    )
    line = rng.randint(3, 120)
    detector = fields.pop("detector", rng.choice(DETECTORS))
    record: Record = {
        "id": w.ids.new("sx", 4),
        "identity_id": identity["id"] if identity else None,
        "detector": detector,
        "location": fields.pop("location", f"github.com/northwind/{repo}@{commit}:{path}:{line}"),
        "fingerprint": f"{commit}:{path}:{detector}:{line}",
        "public": fields.pop("public", False),
        "verified_live": fields.pop("verified_live", True),
        "exposed_at": fields.pop("exposed_at", detected - timedelta(minutes=rng.randint(5, 3 * 24 * 60))),
        "detected_at": detected,
        "revoked_at": fields.pop("revoked_at", None),
        "verified_invalid_at": fields.pop("verified_invalid_at", None),
    }
    if fields:
        raise ValueError(f"unknown exposure fields {sorted(fields)}")
    return w.b.add("secret_exposures", record)


def handled_exposure(w: World, identity: Record | None, detected: datetime, rng: random.Random) -> Record:
    """Revoked within hours; the identity's secret rotated at revocation."""
    revoked = detected + timedelta(minutes=rng.randint(30, 8 * 60))
    record = add_exposure(
        w,
        identity,
        detected,
        revoked_at=revoked,
        verified_invalid_at=revoked + timedelta(minutes=rng.randint(5, 60)),
    )
    if identity and not identity["short_lived"]:
        identity["last_rotated_at"] = max(identity["last_rotated_at"] or revoked, revoked)
        identity["prior_secret_valid"] = False
    return record


def bulk_exposures(w: World) -> None:
    rng = w.r("exposures-bulk")
    static = [i for i in w.identities.values() if not i["short_lived"] and i["enabled"]]
    for identity in rng.sample(static, min(10, len(static))):
        detected = w.day(rng.uniform(5, 85))
        if detected > identity["created_at"] + DAY:
            handled_exposure(w, identity, detected, rng)


# ---------------------------------------------------------------------------------------------
# Compensating controls, exceptions, events


CONTROLS = [
    ("Network segmentation: OT VLAN reachable only from the jump host", "team-network", "fw-policy-ot-12"),
    ("WAF virtual patch blocking the exploit path", "team-edge", "waf-rule-2231"),
    ("EDR prevention policy in block mode on the host", "team-security", "falcon-policy-77"),
    ("Vendor remote access only through PAM session recording", "team-ot", "cyberark-psm-ot"),
    ("Service bound to localhost; reverse proxy strips the vulnerable header", "team-platform", "nginx-conf-481"),
    ("Legacy ERP reachable only from the ERP subnet", "team-erp", "fw-policy-erp-3"),
    ("Application allow-listing on the print server", "team-it-infra", "wdac-policy-9"),
    ("Daily integrity check of the PLC program", "team-ot", "claroty-baseline-4"),
]


def build_controls(w: World) -> list[Record]:
    rng = w.r("controls")
    collected = w.b.sources["exceptions/compensating-controls.csv"].collected_at
    out = []
    for n, (description, owner, ref) in enumerate(CONTROLS, start=1):
        record = {
            "id": f"cc-{n:03d}",
            "description": description,
            "owner": owner,
            "evidence_ref": ref,
            "verified_at": uniform_time(rng, w.day(8), collected - DAY),
        }
        out.append(w.b.add("compensating_controls", record))
    return out


def add_exception(w: World, **fields: Any) -> Record:
    record: Record = {
        "id": fields.pop("id", None) or f"EXC-{w.clock.start.year}-{w.ids.new('exc', 3)[4:]}",
        "title": None,
        "asset_ids": [],
        "asset_tags": [],
        "vuln_ids": [],
        "finding_ids": [],
        "control_ids": [],
        "identity_ids": [],
        "risk_response": "mitigate",
        "deviation_type": None,
        "owner": None,
        "approver": "ciso@northwind.example",
        "requested_at": None,
        "approved_at": None,
        "expires_at": None,
        "justification": None,
        "compensating_controls": [],
        "compensating_control_ids": [],
        "renewal_of": None,
    }
    unknown = set(fields) - set(record)
    if unknown:
        raise ValueError(f"unknown exception fields {sorted(unknown)}")
    record.update(fields)
    if record["requested_at"] is None and record["approved_at"]:
        record["requested_at"] = record["approved_at"] - timedelta(days=3)
    return w.b.add("exceptions", record)


def inline_control(description: str, ref: str, verified: datetime | None) -> Record:
    return {"description": description, "evidence_ref": ref, "verified_at": verified}


def bulk_exceptions(w: World, controls: list[Record]) -> None:
    """Valid exceptions: approved before the deadline they cover, verified control, < 92 days."""
    rng = w.r("exceptions")
    targets = [
        a
        for a in w.assets.values()
        if a["type"] in ("ot_device", "server")
        and not a["internet_facing"]
        and a["id"] not in w.reserved
        and a["lifecycle"] == "active"
        and w.platform[a["id"]] in ("linux", "windows", "ot")
    ]
    titles = {
        "ot": ("Vendor has not certified the firmware update for the sorter line", "vendor_dependency"),
        "windows": ("Legacy ERP module breaks with the cumulative update", "operational_requirement"),
        "linux": ("Library upgrade blocked by an incompatible vendor agent", "vendor_dependency"),
    }
    for n, asset in enumerate(rng.sample(targets, 10)):
        choices = [v for v in w.pick_vulns(asset, 30, rng) if v.severity in ("high", "medium")]
        if not choices:
            continue
        vuln = choices[0]
        due = 30 if vuln.severity == "high" else 90
        approved = w.day(rng.randint(18, 40), rng.randint(8, 17))
        t0 = approved - timedelta(days=rng.uniform(due - 25, due - 3))
        finding = w.add_finding(asset, vuln, t0, last_seen=w.cap - timedelta(hours=rng.randint(2, 60)))
        title, deviation = titles[w.platform[asset["id"]]]
        expires = approved + timedelta(days=rng.randint(max(80, 97 - math.ceil(w.clock.day_of(approved))), 91))
        fields: Record = {}
        ready = [c for c in controls if c["verified_at"] <= approved]
        if n % 3 == 0 and ready:
            fields["compensating_control_ids"] = [ready[n % len(ready)]["id"]]
        else:
            verified = approved - timedelta(hours=rng.randint(2, 72))
            fields["compensating_controls"] = [
                inline_control(CONTROLS[n % len(CONTROLS)][0], f"evidence-{rng.randint(1000, 9999)}", verified)
            ]
        add_exception(
            w,
            title=f"{title} ({asset['name']})",
            asset_ids=[asset["id"]],
            vuln_ids=[vuln.vuln_id],
            risk_response="mitigate" if n % 4 else "accept",
            deviation_type=deviation,
            owner=asset["owner"],
            approved_at=approved,
            expires_at=expires,
            justification="Fix scheduled with the vendor release; exposure limited by the control.",
            **fields,
        )
        w.plants.clean(
            ["PRI-01", "PRI-04"],
            "findings",
            finding["id"],
            "open past its SLA but covered by a valid exception approved before the deadline",
        )


def bulk_events(w: World) -> None:
    """Retirements of terminated pods and instances, and one emergency bypass reassessed in time."""
    rng = w.r("events-bulk")
    for a in w.assets.values():
        if a["ephemeral"] and a["retired_at"] and w.start <= a["retired_at"] < w.cap and rng.random() < 0.5:
            w.add_event(
                "retirement", a["retired_at"], asset_ids=[a["id"]], description=f"Terminated {a['name']} (scale-in)"
            )
    servers = [a for a in w.assets.values() if a["type"] == "server" and a["id"] not in w.reserved]
    target = servers[rng.randrange(len(servers))]
    occurred = w.day(47, 2, 10)
    w.add_event(
        "emergency_bypass",
        occurred,
        reassessed=occurred + timedelta(hours=6),
        asset_ids=[target["id"]],
        description="Emergency firewall change outside CAB to restore EDI traffic",
    )


# ---------------------------------------------------------------------------------------------
# Intel


def build_intel(w: World) -> None:
    """KEV entries and EPSS scores for every CVE the findings name."""
    catalog_version = f"{w.clock.end.isoformat().replace('-', '.')}"
    for vid in sorted(w.used_vulns):
        v = w.used_vulns[vid]
        if v.kev:
            w.b.add(
                "kev_entries",
                {
                    "id": vid,
                    "vendor_project": v.kev_vendor,
                    "product": v.kev_product,
                    "name": v.kev_name,
                    "date_added": v.kev_added,
                    "due_date": v.kev_due,
                    "known_ransomware": v.kev_ransomware,
                    "required_action": "Apply mitigations per vendor instructions or discontinue use of the product.",
                    "catalog_version": catalog_version,
                },
            )
        if vid.startswith("CVE-"):
            percentile = min(0.99999, round(0.55 + 0.45 * (v.epss**0.25), 5))
            w.b.add(
                "epss_scores",
                {
                    "id": vid,
                    "epss": v.epss,
                    "percentile": percentile,
                    "model_version": "v2025.03.14",
                    "score_date": w.clock.end,
                },
            )
