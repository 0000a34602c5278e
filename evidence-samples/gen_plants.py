"""Planted situations: for every control of the plan, records it must flag (registered with the
Plant registry as they are written) and clean counter-examples a naive implementation would flag.

Each plant builds its own reserved assets and identities, so the bulk world never touches them, and
registers every control its records trip (a situation can legitimately trip several controls).
Times are relative to the period start, so the same plants serve every quarter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from gen_catalog import Vuln
from gen_core import Record
from gen_nhi import (
    SCOPES,
    add_agent,
    add_exception,
    add_exposure,
    agent_credential,
    clean_identity,
    handled_exposure,
    inline_control,
    tools,
)
from gen_world import DOMAIN, HOUR, World

PRI_ALL = ["PRI-01", "PRI-02", "PRI-03", "PRI-04"]
TYPE_PREFIX = {
    "server": "a-srv",
    "endpoint": "a-ep",
    "cloud_workload": "a-ec2",
    "container_image": "a-img",
    "container_runtime": "a-pod",
    "serverless": "a-fn",
    "network_device": "a-net",
    "ot_device": "a-ot",
    "saas": "a-saas",
    "repository": "a-repo",
}


class Kit:
    """Small builders the plants share."""

    def __init__(self, w: World) -> None:
        self.w = w
        self.rng = w.r("plants")

    # -------------------------------------------------------------- assets and identities

    def next_asset_id(self, type_: str) -> str:
        prefix = TYPE_PREFIX[type_]
        width = 4 if prefix in ("a-ep", "a-pod") else 3
        used = [int(i.rsplit("-", 1)[1]) for i in self.w.assets if i.startswith(prefix + "-")]
        return f"{prefix}-{max(used, default=0) + 1:0{width}d}"

    def asset(self, type_: str, name: str, platform: str = "linux", cover: bool = True, **fields: Any) -> Record:
        """A reserved asset with complete attributes (and routine coverage unless `cover` is False)."""
        defaults: Record = {
            "owner": "team-platform",
            "criticality": "moderate",
            "first_seen_at": self.w.start - timedelta(days=300),
            "maintenance_group": f"{platform}-prod",
            "tags": [name.rsplit("/", maxsplit=1)[-1].split(":", maxsplit=1)[0].split(".", maxsplit=1)[0]],
        }
        if type_ in ("server", "network_device", "ot_device", "endpoint"):
            defaults["aliases"] = [self.w._ip(25), name.split(".", maxsplit=1)[0]]
        defaults.update(fields)
        full = name if type_ not in ("server", "network_device") or "." in name else f"{name}.prod.{DOMAIN}"
        record = self.w.add_asset(
            platform, reserve=True, id=self.next_asset_id(type_), name=full, type=type_, **defaults
        )
        if cover:
            self.w.cover(record)
        return record

    def identity(self, name: str, type_: str = "service_account", **fields: Any) -> Record:
        """A reserved identity that passes every control unless `fields` say otherwise."""
        created = fields.pop("created", self.w.as_of - timedelta(days=200))
        defaults: Record = {
            "name": name,
            "type": type_,
            "platform": "aws-iam" if type_ in ("service_account", "cloud_access_key") else "vault",
            "owner": "team-platform",
            "purpose": f"{name} ({type_.replace('_', ' ')})",
            "privilege_scopes": SCOPES.get(type_, ["read"]),
            "auth_method": {
                "certificate": "mtls",
                "ssh_key": "key_pair",
                "oauth_client": "oauth_client_credentials",
            }.get(type_, "static_secret"),
        }
        defaults.update(fields)
        return clean_identity(self.w, self.rng, created, **defaults)

    # -------------------------------------------------------------- findings and fixes

    def vuln(self, asset: Record, severity: str) -> Vuln:
        """A vulnerability of the asset's platform; a severity with a longer SLA when none is left."""
        platform = self.w.platform[asset["id"]]
        names = {"pod": ["linux"], "mac": ["endpoint"]}.get(platform, [platform.split(":")[-1]])
        fallback = {
            "critical": ["critical", "high"],
            "high": ["high", "critical"],
            "medium": ["medium", "low"],
            "low": ["low", "medium"],
        }[severity]
        for wanted in fallback:
            pool = [
                v
                for v in self.w.cat.pool(names)
                if v.severity == wanted and v.vuln_id not in self.w.vulns_on[asset["id"]]
            ]
            if pool:
                return pool[self.rng.randrange(len(pool))]
        raise ValueError(f"no {severity} vulnerability left for {asset['id']}")

    def kev(self, vuln_id: str) -> Vuln:
        return self.w.cat.by_id[vuln_id]

    def new_kev(self, platform: str, index: int = 0) -> Vuln:
        return self.w.cat.new_kev_for(platform)[index]

    def finding(self, asset: Record, vuln: Vuln, day: float, **fields: Any) -> Record:
        ssvc = fields.pop("ssvc", None)
        if ssvc is None and vuln.kev:
            ssvc = {"ssvc_exploitation": "active", "ssvc_automatable": "no", "ssvc_technical_impact": "total"}
        if ssvc is None:
            ssvc = {"ssvc_exploitation": "none", "ssvc_automatable": "no", "ssvc_technical_impact": "partial"}
        t0 = day if isinstance(day, datetime) else self.w.day(day, 3)
        finding = self.w.add_finding(asset, vuln, t0, ssvc=ssvc, **fields)
        if finding["state"] == "open" and "last_seen" not in fields:
            finding["last_seen_at"] = max(t0, self.w.end_of(asset) - timedelta(hours=30))
        return finding

    def deploy(self, asset: Record, findings: list[Record], day: float | datetime, **fields: Any) -> Record:
        start = day if isinstance(day, datetime) else self.w.day(day, 22)
        return self.w.add_deployment(asset, findings, start, **fields)

    def verify(self, asset: Record, finding: Record, when: float | datetime, **fields: Any) -> Record:
        moment = when if isinstance(when, datetime) else self.w.day(when, 4)
        return self.w.add_verification(asset, finding, moment, **fields)

    def fix(
        self, asset: Record, finding: Record, deploy_day: float, verify_after_hours: float = 6, **dep: Any
    ) -> tuple[Record, Record]:
        """A successful deployment verified not vulnerable; the finding closes."""
        d = self.deploy(asset, [finding], deploy_day, **dep)
        v = self.verify(asset, finding, d["completed_at"] + timedelta(hours=verify_after_hours), deployment=d)
        self.w.close(finding, v["observed_at"], d["started_at"] - HOUR)
        return d, v

    def medium_finding(self, asset: Record, day: float) -> Record:
        return self.finding(asset, self.vuln(asset, "medium"), day)

    def server(self, name: str, **fields: Any) -> Record:
        return self.asset("server", name, "linux", **fields)

    def control(self, day: float) -> list[Record]:
        return [
            inline_control(
                "Host firewall restricts the service to the app subnet",
                f"fw-change-{self.rng.randint(1000, 9999)}",
                self.w.day(day, 10),
            )
        ]


Plant = Callable[[Kit], None]


# ---------------------------------------------------------------------------------------------
# INV


def inv01_unknown_assets(k: Kit) -> None:
    """INV-01: keys seen by discovery that resolve to no inventory asset."""
    w = k.w
    netscan = ("runzero", "network", "discovery/runzero-netscan.parquet")
    cloud = ("aws-config", "cloud_api", "discovery/cloud-inventory.jsonl")
    edr = ("crowdstrike-falcon", "edr", "discovery/falcon-edr.jsonl")
    sightings = [
        ("10.30.8.77", [w.day(40, 9)], netscan, "rogue device on the warehouse OT network"),
        (
            "i-0f3e9a1b2c3d4e5f6",
            [w.day(60, 1), w.day(74, 1), w.day(88, 1)],
            cloud,
            "EC2 instance in account 2222 not in the CMDB",
        ),
        ("nw-lap-0213", [w.day(85, 14)], edr, "laptop reporting to EDR but missing from the inventory"),
    ]
    for key, times, source, situation in sightings:
        records = [w.add_observation(key, t, source, None) for t in times]
        w.plants.flag(
            "INV-01",
            "observations",
            records[0]["id"],
            f"asset seen by discovery but missing from the inventory: {situation}",
            asset_key=key,
            records=[r["id"] for r in records],
        )
    for o in w.b.records("observations"):
        a = next((x for x in w.assets.values() if o["asset_key"] in x["aliases"]), None)
        if o["asset_id"] is None and a and o["source"] == "crowdstrike-falcon":
            w.plants.clean(
                "INV-01", "observations", o["id"], "no asset_id, but the key is an alias of an inventory asset"
            )
            break


def inv02_incomplete(k: Kit) -> None:
    """INV-02: active assets missing a required attribute."""
    cases = [
        (k.server("srv-geo-cache-01", owner=None), "no owner"),
        (
            k.asset("cloud_workload", "ec2-quote-sim-01", criticality=None, aliases=["i-04a1b2c3d4e5f6a7b"]),
            "no criticality",
        ),
        (
            k.server("srv-lab-telemetry-01", environment=None, internet_facing=None),
            "no environment and no internet_facing",
        ),
    ]
    for asset, what in cases:
        k.w.plants.flag("INV-02", "assets", asset["id"], f"inventory record incomplete: {what}")


def inv03_unscanned(k: Kit) -> None:
    """INV-03: active assets without a completed scan within cadence."""
    w = k.w
    plc = k.asset("ot_device", "plc-dock-07.ot.nw.example", "ot", cover=False, owner="team-ot")
    w.observation_history(plc)
    w.plants.flag("INV-03", "assets", plc["id"], "OT controller never scanned")
    edge = k.asset(
        "network_device",
        "edge-rtr-03",
        "network",
        cover=False,
        owner="team-network",
        internet_facing=True,
        criticality="high",
    )
    for days in (45, 60):
        w.add_scan(edge, w.as_of - timedelta(days=days, hours=5))
        w.add_scan(
            edge,
            w.as_of - timedelta(days=days, hours=3),
            authenticated=False,
            scope="external",
            tool="tenable-was-external",
        )
    w.observation_history(edge)
    w.plants.flag(
        "INV-03", "assets", edge["id"], "internet-facing router last scanned 45 days ago (external cadence 30 days)"
    )
    fn = k.asset(
        "serverless",
        "lambda:label-printer-webhook",
        "serverless:pypi",
        cover=False,
        ephemeral=True,
        aliases=["arn:aws:lambda:eu-west-1:111122223333:function:label-printer-webhook"],
    )
    w.add_scan(fn, w.start - timedelta(days=20), tool="trivy-lambda")
    for day in (50, 80):
        w.add_scan(fn, w.day(day, 2), status="failed")
    w.observation_history(fn)
    w.plants.flag("INV-03", "assets", fn["id"], "function whose scans in the last 90 days all failed")


def inv04_unauthenticated(k: Kit) -> None:
    """INV-04: hosts and images scanned only without credentials."""
    w = k.w
    cases = [
        (k.server("srv-kiosk-backend-01", cover=False), "server scanned only without credentials"),
        (
            k.asset(
                "endpoint",
                "nw-lap-0071",
                "windows",
                cover=False,
                environment="corporate",
                owner="team-it-workplace",
                criticality="low",
            ),
            "laptop scanned only from the network",
        ),
        (
            k.asset(
                "cloud_workload",
                "ec2-partner-api-01",
                cover=False,
                internet_facing=True,
                aliases=["i-0c0ffee0c0ffee001"],
            ),
            "internet-facing workload without an authenticated scan",
        ),
    ]
    for asset, situation in cases:
        rng = w.r("scans")
        when = w.end_of(asset) - timedelta(hours=rng.randint(6, 100))
        while when > w.start - timedelta(days=20):
            w.add_scan(asset, when, authenticated=False, tool="tenable-nessus-network")
            when -= timedelta(days=13)
        if asset["internet_facing"]:
            for back in (2, 9, 16, 23, 30, 37):
                w.add_scan(
                    asset,
                    w.cap - timedelta(days=back),
                    authenticated=False,
                    scope="external",
                    tool="tenable-was-external",
                )
        w.observation_history(asset)
        w.plants.flag("INV-04", "assets", asset["id"], situation)


def inv05_not_automated(k: Kit) -> None:
    """INV-05: assets not enrolled in automated patching."""
    cases = [
        (
            k.asset("ot_device", "sorter-hmi-09.ot.nw.example", "ot", owner="team-ot", patch_automation=False),
            "OT HMI patched by hand",
        ),
        (k.server("srv-edi-legacy-01", patch_automation=None), "legacy EDI server not enrolled (unknown)"),
        (
            k.asset(
                "endpoint",
                "nw-kiosk-0003",
                "windows",
                environment="corporate",
                owner="team-it-workplace",
                criticality="low",
                patch_automation=False,
            ),
            "warehouse kiosk excluded from Intune",
        ),
    ]
    for asset, situation in cases:
        k.w.plants.flag("INV-05", "assets", asset["id"], situation)


def inv06_third_party(k: Kit) -> None:
    """INV-06: third-party assets without an owner, or neither scanned nor verified."""
    w = k.w
    portal = k.asset(
        "saas", "freightquote-portal.saas", "saas", owner=None, managed_by="third_party", maintenance_group="saas"
    )
    w.plants.flag(["INV-06", "INV-02"], "assets", portal["id"], "third-party SaaS with no accountable owner")
    customs = k.asset(
        "saas",
        "customs-filing.saas",
        "saas",
        cover=False,
        owner="team-integration",
        managed_by="vendor",
        maintenance_group="saas",
    )
    w.plants.flag("INV-06", "assets", customs["id"], "vendor-managed SaaS neither scanned nor verified this quarter")
    router = k.asset(
        "network_device", "wan-rtr-carrier-02", "network", cover=False, owner="team-network", managed_by="third_party"
    )
    w.add_scan(router, w.start - timedelta(days=30))
    w.observation_history(router)
    w.plants.flag(["INV-06", "INV-03"], "assets", router["id"], "carrier-managed router with no scan this quarter")
    w.plants.clean("INV-06", "assets", "a-saas-001", "third-party SaaS with an owner and SSPM scans")


def inv07_nhi_inventory(k: Kit) -> None:
    """INV-07: identities missing owner, purpose or review; leaks with no identity."""
    w = k.w
    a = k.identity("api-key-rate-cards", "api_key", purpose=None)
    w.plants.flag("INV-07", "identities", a["id"], "API key with no stated purpose")
    b = k.identity("cert-edi-as2", "certificate", last_reviewed_at=None)
    w.plants.flag("INV-07", "identities", b["id"], "certificate never reviewed")
    c = k.identity("legacy-ftp-key", "api_key", owner=None, enabled=False)
    w.plants.flag(
        "INV-07", "identities", c["id"], "disabled key with no owner (inventory gap, not orphaned-and-enabled)"
    )
    for day in (33, 71):
        x = handled_exposure(w, None, w.day(day, 11), k.rng)
        w.plants.flag("INV-07", "secret_exposures", x["id"], "leaked secret that maps to no inventoried identity")


def inv08_containers(k: Kit) -> None:
    """INV-08: running containers without an image, or on an unscanned image."""
    w = k.w
    for n in (1, 2):
        pod = k.asset(
            "container_runtime",
            f"batch-relabel-{n}-7f9c{n}d",
            "pod",
            owner="team-warehouse",
            ephemeral=True,
            first_seen_at=w.start - timedelta(days=5),
            aliases=[f"prod/batch-relabel-{n}"],
        )
        w.plants.flag("INV-08", "assets", pod["id"], "running container with no image reference")
    legacy = k.asset(
        "container_image",
        f"registry.{DOMAIN}/legacy-tracking:2024.3.1",
        "image:linux:go",
        cover=False,
        lifecycle="retired",
        retired_at=w.start - timedelta(days=30),
        owner="team-fleet",
        first_seen_at=w.start - timedelta(days=700),
    )
    w.add_scan(legacy, w.start - timedelta(days=40))
    pod = k.asset(
        "container_runtime",
        "legacy-tracking-5d8b7-x2x9q",
        "pod",
        owner="team-fleet",
        ephemeral=True,
        parent_image_id=legacy["id"],
        first_seen_at=w.start - timedelta(days=9),
        aliases=["prod/legacy-tracking-5d8b7-x2x9q"],
    )
    w.plants.flag("INV-08", "assets", pod["id"], "container still running a retired image not scanned for 130 days")


# ---------------------------------------------------------------------------------------------
# PRI


def pri_exposed_kev(k: Kit) -> None:
    """PRI-01..04 (and RLB-03): real KEV entries open on internet-facing devices."""
    w = k.w
    pf = w.plants
    kev_ssvc = {"ssvc_exploitation": "active", "ssvc_automatable": "yes", "ssvc_technical_impact": "total"}
    adc = k.asset(
        "network_device", "adc-edge-02", "network", owner="team-network", internet_facing=True, criticality="high"
    )
    f = k.finding(adc, k.kev("CVE-2025-5777"), 9, ssvc=kev_ssvc)
    pf.flag(
        PRI_ALL, "findings", f["id"], "KEV (CitrixBleed 2) on an internet-facing ADC, open long past the KEV due date"
    )
    fw = k.asset(
        "network_device", "fw-edge-03", "network", owner="team-network", internet_facing=True, criticality="high"
    )
    f = k.finding(fw, k.kev("CVE-2025-0108"), 20, ssvc=kev_ssvc)
    pf.flag(PRI_ALL, "findings", f["id"], "KEV PAN-OS authentication bypass on an internet-facing firewall, open")
    vpn = k.asset(
        "network_device", "vpn-gw-03", "network", owner="team-network", internet_facing=True, criticality="high"
    )
    f = k.finding(vpn, k.kev("CVE-2025-22457"), 6, ssvc=kev_ssvc)
    pf.flag(PRI_ALL, "findings", f["id"], "KEV on the VPN gateway: mitigated in an emergency, never fixed")
    ev = w.add_event(
        "emergency_mitigation",
        w.day(6, 13),
        reassessed=w.day(6, 18),
        asset_ids=[vpn["id"]],
        finding_ids=[f["id"]],
        description="Disabled the vulnerable web component pending vendor fix",
    )
    pf.flag("RLB-03", "rollout_events", ev["id"], "emergency mitigation never replaced by a permanent fix")


def pri_internal_overdue(k: Kit) -> None:
    """PRI-01, 02 and 04: late or open findings on internal servers, and a late exception."""
    w = k.w
    pf = w.plants
    docs = k.server("srv-docs-01")
    f = k.finding(docs, k.kev("CVE-2025-24813"), 5)
    k.fix(docs, f, 40)
    pf.flag(
        ["PRI-01", "PRI-02"],
        "findings",
        f["id"],
        "KEV on an internal server fixed 35 days after detection (long after the KEV due date)",
    )
    cache = k.server("srv-build-cache-02")
    f = k.finding(cache, k.kev("CVE-2023-0386"), 15)
    pf.flag(
        ["PRI-01", "PRI-02", "PRI-04"], "findings", f["id"], "KEV kernel flaw on an internal server, open and overdue"
    )
    promo = k.server("srv-web-promo-01", internet_facing=True, criticality="high", owner="team-web")
    f = k.finding(promo, k.vuln(promo, "critical"), 30)
    pf.flag(
        ["PRI-01", "PRI-03", "PRI-04"],
        "findings",
        f["id"],
        "critical finding on an internet-facing web server, overdue",
    )
    rep = k.server("srv-reporting-02", owner="team-data")
    f = k.finding(rep, k.vuln(rep, "high"), 10)
    pf.flag(["PRI-01", "PRI-04"], "findings", f["id"], "high finding open past its 30-day SLA")
    bill = k.server("srv-billing-batch-01", owner="team-payments")
    f = k.finding(bill, k.vuln(bill, "critical"), 3)
    k.fix(bill, f, 49)
    pf.flag("PRI-01", "findings", f["id"], "critical finding fixed and verified, but 47 days after detection")
    label = k.server("srv-label-print-01", owner="team-warehouse")
    f = k.finding(label, k.vuln(label, "high"), 2)
    add_exception(
        w,
        title="Label printer driver blocks the library upgrade",
        asset_ids=[label["id"]],
        vuln_ids=[f["vuln_id"]],
        risk_response="mitigate",
        deviation_type="vendor_dependency",
        owner="team-warehouse",
        approved_at=w.day(45, 10),
        expires_at=w.day(45 + 85, 10),
        justification="Driver vendor ships the fix in Q4.",
        compensating_controls=k.control(44),
    )
    pf.flag(
        "PRI-01",
        "findings",
        f["id"],
        "exception approved 13 days after the SLA deadline: the miss stands (not in the backlog now)",
    )


def pri_counter_examples(k: Kit) -> None:
    """Clean for PRI: not yet due, a KEV fixed in a day, a high finding fixed in time."""
    w = k.w
    pf = w.plants
    ui = k.server("srv-tracking-ui-02", internet_facing=True, criticality="high", owner="team-web")
    f = k.finding(ui, k.vuln(ui, "critical"), w.clock.days - 3)
    pf.clean(
        ["PRI-01", "PRI-03", "PRI-04"],
        "findings",
        f["id"],
        "open critical on an internet-facing asset, detected 3 days ago: not yet due",
    )
    lap = k.asset(
        "endpoint", "nw-lap-0072", "windows", environment="corporate", owner="team-it-workplace", criticality="low"
    )
    chrome = k.new_kev("endpoint", 0)
    f = k.finding(lap, chrome, w.day(chrome.kev_added.toordinal() - w.clock.start.toordinal(), 5))
    k.fix(lap, f, w.day(chrome.kev_added.toordinal() - w.clock.start.toordinal(), 12), verify_after_hours=4)
    pf.clean(
        ["PRI-02", "NHI-15"], "findings", f["id"], "KEV fixed and verified within a day, well before the KEV due date"
    )
    srv = k.server("srv-parcel-api-04", owner="team-fleet")
    f = k.finding(srv, k.vuln(srv, "high"), 20)
    d, _ = k.fix(srv, f, 24)
    pf.clean(
        ["PRI-01", "VER-04"],
        "findings",
        f["id"],
        "high finding fixed by a change-managed deployment and verified in time",
    )
    pf.clean(
        ["VER-01", "VER-02"], "deployments", d["id"], "successful deployment verified not vulnerable 6 hours later"
    )


# ---------------------------------------------------------------------------------------------
# DEP


def dep_followups(k: Kit) -> None:
    """DEP-01: failed, partial and pending-reboot deployments left without follow-up."""
    w = k.w
    for status, day in (("failed", 70), ("partial", 75), ("pending_reboot", 80)):
        srv = k.server(f"srv-dep-{status.replace('_', '')}-01", owner="team-data")
        f = k.medium_finding(srv, day - 5)
        d = k.deploy(srv, [f], day, status=status)
        w.plants.flag(
            "DEP-01",
            "deployments",
            d["id"],
            f"{status} deployment never followed up by a successful one or a clean rescan",
        )
    srv = k.server("srv-kafka-mirror-01", owner="team-data")
    f = k.medium_finding(srv, 45)
    d0 = k.deploy(srv, [f], 50, status="pending_reboot")
    k.fix(srv, f, d0["completed_at"] + timedelta(hours=6))
    w.plants.clean(
        "DEP-01", "deployments", d0["id"], "pending_reboot followed by a successful deployment and a clean rescan"
    )
    srv = k.server("srv-etl-batch-07", owner="team-data")
    f = k.medium_finding(srv, 25)
    d0 = k.deploy(srv, [f], 30, status="failed")
    k.fix(srv, f, 31)
    w.plants.clean("DEP-01", "deployments", d0["id"], "failed deployment retried successfully and verified")


def dep_change_records(k: Kit) -> None:
    """DEP-02: deployments without a change record."""
    for n, day in enumerate((28, 52, 77), start=1):
        srv = k.server(f"srv-hotfix-{n:02d}", owner="team-fleet")
        f = k.medium_finding(srv, day - 4)
        d, _ = k.fix(srv, f, day, change_ref=None)
        k.w.plants.flag("DEP-02", "deployments", d["id"], "deployment with no change record")


# ---------------------------------------------------------------------------------------------
# VER


def ver_unverified(k: Kit) -> None:
    """VER-01: explicit late verifications (the never-verified bulk is in gen_world)."""
    w = k.w
    web = k.server("srv-parcel-lookup-01", internet_facing=True, owner="team-web", criticality="high")
    f = k.finding(web, k.vuln(web, "high"), 40)
    d, _ = k.fix(web, f, 43, verify_after_hours=10 * 24)
    w.plants.flag(
        "VER-01", "deployments", d["id"], "internet-facing fix verified only after 10 days (urgent window 7 days)"
    )
    srv = k.server("srv-yard-report-01", owner="team-warehouse")
    f = k.medium_finding(srv, 10)
    d, _ = k.fix(srv, f, 15, verify_after_hours=40 * 24)
    w.plants.flag("VER-01", "deployments", d["id"], "fix verified only after 40 days (window 30 days)")


def ver_still_vulnerable(k: Kit) -> None:
    """VER-02: a 'successful' patch still vulnerable; clock-skew and inconclusive counters."""
    w = k.w
    yard = k.server("srv-yard-mgmt-01", owner="team-warehouse", criticality="high")
    f = k.finding(yard, k.vuln(yard, "high"), 80)
    d = k.deploy(yard, [f], 82)
    k.verify(yard, f, d["completed_at"] + timedelta(hours=20), result="vulnerable", deployment=d)
    w.plants.flag(
        "VER-02",
        "deployments",
        d["id"],
        "patch reported successful; the authenticated rescan still finds the old package",
    )
    skew = k.server("srv-dock-sched-01", owner="team-warehouse")
    f = k.medium_finding(skew, 20)
    d = k.deploy(skew, [f], 25)
    v = k.verify(skew, f, d["completed_at"] - timedelta(minutes=5), deployment=d)
    w.close(f, v["observed_at"], d["started_at"] - HOUR)
    w.plants.clean(
        ["VER-01", "VER-02"],
        "deployments",
        d["id"],
        "verification observed 5 minutes before the deployment completed (within the 15-minute clock skew)",
    )
    inc = k.server("srv-dock-sched-02", owner="team-warehouse")
    f = k.medium_finding(inc, 27)
    d = k.deploy(inc, [f], 30)
    k.verify(inc, f, d["completed_at"] + timedelta(hours=2), result="inconclusive", deployment=d)
    v = k.verify(inc, f, d["completed_at"] + timedelta(hours=26), deployment=d)
    w.close(f, v["observed_at"], d["started_at"] - HOUR)
    w.plants.clean(["VER-01", "VER-02"], "deployments", d["id"], "first rescan inconclusive, the next one clean")


def ver_closure_evidence(k: Kit) -> None:
    """VER-03: findings closed with no verification."""
    w = k.w
    for n, day in enumerate((55, 60, 65), start=1):
        srv = k.server(f"srv-ops-tools-{n:02d}", owner="team-platform")
        f = k.medium_finding(srv, day)
        f["state"], f["closed_at"] = "closed", w.day(day + 12, 9)
        w.plants.flag("VER-03", "findings", f["id"], "closed in the scanner console with no verification record")


def ver_fix_without_change(k: Kit) -> None:
    """VER-04: fixes verified with no deployment or change event naming them."""
    w = k.w
    cases = [
        (k.server("srv-wiki-legacy-01"), "package upgraded by hand during troubleshooting"),
        (
            k.asset("ot_device", "weighbridge-02.ot.nw.example", "ot", owner="team-ot"),
            "firmware replaced by the vendor technician",
        ),
        (
            k.asset("network_device", "wh-sw-07", "network", owner="team-network"),
            "configuration change with no change ticket",
        ),
    ]
    for asset, situation in cases:
        f = k.medium_finding(asset, 20)
        v = k.verify(asset, f, 40)
        w.close(f, v["observed_at"], w.day(38))
        w.plants.flag("VER-04", "findings", f["id"], f"verified fixed with no deployment or change event: {situation}")
    srv = k.server("srv-ftp-gw-02", owner="team-integration")
    f = k.medium_finding(srv, 33)
    d = k.deploy(srv, [f], 36, vuln_ids=[f["vuln_id"]])
    v = k.verify(srv, f, d["completed_at"] + timedelta(hours=8), deployment=d)
    w.close(f, v["observed_at"], d["started_at"] - HOUR)
    w.plants.clean("VER-04", "findings", f["id"], "deployment names the vulnerability (vuln_ids), not the finding id")
    srv = k.server("srv-report-gw-01", owner="team-data")
    f = k.medium_finding(srv, 28)
    ev = w.add_event(
        "emergency_mitigation",
        w.day(30, 9),
        reassessed=w.day(30, 15),
        asset_ids=[srv["id"]],
        finding_ids=[f["id"]],
        description="Disabled the vulnerable module by configuration",
        permanent_fix_ref="CHG0047710",
    )
    v = k.verify(srv, f, w.day(30, 16), method="config_check")
    w.close(f, v["observed_at"], w.day(30, 8))
    w.plants.clean("VER-04", "findings", f["id"], "fixed by a recorded emergency change (rollout event names it)")
    w.plants.clean("RLB-03", "rollout_events", ev["id"], "mitigation replaced (permanent_fix_ref) and verified")


def ver_duplicates(k: Kit) -> None:
    """The same asset x CVE reported by two scanners: one fix, one rescan by vulnerability id."""
    w = k.w
    srv = k.server("srv-tracking-worker-03", owner="team-fleet")
    vuln = k.vuln(srv, "high")
    first = k.finding(srv, vuln, 14)
    second = k.finding(srv, vuln, w.day(14, 9), path="findings/trivy-containers.jsonl", source="trivy-fs")
    d = k.deploy(srv, [first, second], 18, vuln_ids=[vuln.vuln_id])
    v = k.verify(srv, first, d["completed_at"] + timedelta(hours=5), deployment=d, by_vuln=True)
    for f in (first, second):
        w.close(f, v["observed_at"], d["started_at"] - HOUR)
        w.plants.clean(
            ["PRI-01", "VER-03", "VER-04"],
            "findings",
            f["id"],
            "duplicate of the same asset x CVE from a second scanner, fixed and verified once by vuln_id",
        )
    w.plants.clean(
        ["VER-01", "VER-02"],
        "deployments",
        d["id"],
        "one deployment (by vuln_ids) verified for both duplicate findings",
    )


def ver_ephemeral(k: Kit) -> None:
    """VER-05: ephemeral assets gone before verification (and one properly retired)."""
    w = k.w
    image = next(a for a in w.assets.values() if a["type"] == "container_image")
    gone = k.asset(
        "container_runtime",
        "wms-core-6c9d4-kq2lp",
        "pod",
        cover=False,
        owner=image["owner"],
        ephemeral=True,
        parent_image_id=image["id"],
        first_seen_at=w.start - timedelta(days=5),
        aliases=["prod/wms-core-6c9d4-kq2lp"],
    )
    w.scan_history(gone, until=w.day(38))
    w.observation_history(gone, until=w.day(40))
    f = k.finding(gone, k.vuln(gone, "medium"), 35)
    f["state"], f["closed_at"], f["last_seen_at"] = "closed", w.day(42, 6), w.day(38)
    w.plants.flag(
        ["VER-05", "VER-03"],
        "findings",
        f["id"],
        "pod vanished before any verification; the scanner closed the finding",
    )
    retired = k.asset(
        "container_runtime",
        "wms-core-6c9d4-zz81m",
        "pod",
        owner=image["owner"],
        ephemeral=True,
        parent_image_id=image["id"],
        retired_at=w.day(55, 3),
        first_seen_at=w.start - timedelta(days=3),
        aliases=["prod/wms-core-6c9d4-zz81m"],
    )
    f = k.finding(retired, k.vuln(retired, "medium"), 50)
    f["last_seen_at"] = w.day(54)
    w.plants.flag(
        "VER-05",
        "findings",
        f["id"],
        "pod terminated (retired_at) without a retirement record or verification; finding left open",
    )
    asg = k.asset(
        "cloud_workload",
        "asg-tracking-ingest-5b0e77",
        cover=False,
        owner="team-fleet",
        ephemeral=True,
        maintenance_group="cloud-asg",
        aliases=["i-05b0e77d1c2a3f4e5"],
        first_seen_at=w.start - timedelta(days=10),
    )
    w.scan_history(asg, until=w.day(50))
    w.observation_history(asg, until=w.day(50))
    f = k.finding(asg, k.vuln(asg, "medium"), 45)
    f["last_seen_at"] = w.day(49)
    w.plants.flag(
        "VER-05", "findings", f["id"], "autoscaled instance stopped reporting 42 days ago; finding never verified"
    )


def ver_ephemeral_retired(k: Kit) -> None:
    """Clean for VER-05 and VER-03: a pod gone with a retirement record."""
    w = k.w
    image = next(a for a in w.assets.values() if a["type"] == "container_image")
    done = k.asset(
        "container_runtime",
        "wms-core-6c9d4-p7h2s",
        "pod",
        owner=image["owner"],
        ephemeral=True,
        parent_image_id=image["id"],
        lifecycle="retired",
        retired_at=w.day(60, 3),
        first_seen_at=w.start - timedelta(days=2),
        aliases=["prod/wms-core-6c9d4-p7h2s"],
    )
    f = k.finding(done, k.vuln(done, "medium"), 52)
    f["state"], f["closed_at"], f["last_seen_at"] = "closed", w.day(60, 4), w.day(59)
    w.add_event("retirement", w.day(60, 3), asset_ids=[done["id"]], description="Scale-in after the image rebuild")
    w.plants.clean(
        ["VER-05", "VER-03"],
        "findings",
        f["id"],
        "pod gone WITH a retirement record (lifecycle retired + retirement event)",
    )


# ---------------------------------------------------------------------------------------------
# EXC


def exc_incomplete(k: Kit) -> None:
    """EXC-01: exceptions missing an owner, approver or compensating control."""
    w = k.w
    cases = [
        ({"owner": None, "compensating_controls": k.control(71)}, "exception without an owner"),
        ({"owner": "team-data"}, "mitigation exception with no compensating control"),
        (
            {"owner": "team-data", "approver": None, "compensating_controls": k.control(71)},
            "exception without an approver",
        ),
    ]
    for n, (fields, situation) in enumerate(cases, start=1):
        srv = k.server(f"srv-analytics-{n:02d}", owner="team-data")
        f = k.medium_finding(srv, 70)
        e = add_exception(
            w,
            title=f"Analytics cluster upgrade freeze #{n}",
            asset_ids=[srv["id"]],
            vuln_ids=[f["vuln_id"]],
            risk_response="mitigate",
            deviation_type="operational_requirement",
            approved_at=w.day(72, 10),
            expires_at=w.day(72 + 60, 10),
            justification="Quarter-end reporting freeze.",
            **fields,
        )
        w.plants.flag("EXC-01", "exceptions", e["id"], situation)


def exc_expired(k: Kit) -> None:
    """EXC-02: exceptions that expired while their findings are still open."""
    w = k.w
    for n, expiry in enumerate((10, 30, 50), start=1):
        srv = k.server(f"srv-erp-batch-{n:02d}", owner="team-erp")
        f = k.finding(srv, k.vuln(srv, "high"), w.start - timedelta(days=40))
        e = add_exception(
            w,
            title=f"ERP batch vendor patch pending #{n}",
            asset_ids=[srv["id"]],
            vuln_ids=[f["vuln_id"]],
            risk_response="mitigate",
            deviation_type="vendor_dependency",
            owner="team-erp",
            approved_at=w.start - timedelta(days=30),
            expires_at=w.day(expiry, 12),
            justification="Vendor patch not certified.",
            compensating_controls=[
                inline_control("ERP subnet isolation", "fw-policy-erp-3", w.start - timedelta(days=31))
            ],
        )
        w.plants.flag(
            "EXC-02", "exceptions", e["id"], f"exception expired on day {expiry} while the finding is still open"
        )
        w.plants.flag("PRI-04", "findings", f["id"], "overdue finding whose exception expired: back in the backlog")
    srv = k.server("srv-erp-batch-09", owner="team-erp")
    f = k.finding(srv, k.vuln(srv, "high"), w.start - timedelta(days=25))
    e = add_exception(
        w,
        title="ERP batch patch window",
        asset_ids=[srv["id"]],
        vuln_ids=[f["vuln_id"]],
        risk_response="mitigate",
        deviation_type="operational_requirement",
        owner="team-erp",
        approved_at=w.start - timedelta(days=20),
        expires_at=w.day(40, 12),
        justification="Month-end close.",
        compensating_controls=[inline_control("ERP subnet isolation", "fw-policy-erp-3", w.start - timedelta(days=21))],
    )
    k.fix(srv, f, 20)
    w.plants.clean("EXC-02", "exceptions", e["id"], "expired, but the finding was fixed and verified before expiry")


def exc_urgent_controls(k: Kit) -> None:
    """EXC-03: exceptions on urgent findings without a recently verified control."""
    w = k.w
    lap = k.asset(
        "endpoint", "nw-lap-0073", "windows", environment="corporate", owner="team-it-workplace", criticality="low"
    )
    chrome = k.new_kev("endpoint", 3)
    added = w.day(chrome.kev_added.toordinal() - w.clock.start.toordinal())
    f = k.finding(lap, chrome, added + timedelta(hours=6))
    e = add_exception(
        w,
        title="Kiosk browser pinned by the scanning app",
        asset_ids=[lap["id"]],
        vuln_ids=[chrome.vuln_id],
        risk_response="accept",
        deviation_type="operational_requirement",
        owner="team-it-workplace",
        approved_at=added + timedelta(days=2),
        expires_at=added + timedelta(days=60),
        justification="App vendor certifies the browser monthly.",
    )
    w.plants.flag("EXC-03", "exceptions", e["id"], "risk accepted on a KEV finding with no compensating control")
    web = k.server("srv-returns-portal-01", internet_facing=True, owner="team-web", criticality="high")
    f = k.finding(web, k.vuln(web, "high"), w.clock.days - 7)
    e = add_exception(
        w,
        title="Returns portal framework upgrade",
        asset_ids=[web["id"]],
        vuln_ids=[f["vuln_id"]],
        risk_response="mitigate",
        deviation_type="operational_requirement",
        owner="team-web",
        approved_at=w.day(w.clock.days - 5, 9),
        expires_at=w.day(w.clock.days + 40, 9),
        justification="Framework upgrade in the next release train.",
        compensating_controls=[
            inline_control("WAF rule for the vulnerable endpoint", "waf-rule-1877", w.start - timedelta(days=240))
        ],
    )
    w.plants.flag(
        "EXC-03", "exceptions", e["id"], "internet-facing exposure excepted on a control last verified 8 months ago"
    )
    api = k.asset(
        "cloud_workload",
        "ec2-tracking-public-01",
        internet_facing=True,
        owner="team-fleet",
        aliases=["i-0a11ce5b0b0b0b0b0"],
    )
    f = k.finding(api, k.vuln(api, "medium"), w.clock.days - 12)
    control = w.b.add(
        "compensating_controls",
        {
            "id": "cc-009",
            "description": "Rate limiting on the public API",
            "owner": "team-fleet",
            "evidence_ref": None,
            "verified_at": None,
        },
    )
    e = add_exception(
        w,
        title="Public tracking API dependency pinned",
        asset_ids=[api["id"]],
        vuln_ids=[f["vuln_id"]],
        risk_response="mitigate",
        deviation_type="risk_adjustment",
        owner="team-fleet",
        approved_at=w.day(w.clock.days - 10, 9),
        expires_at=w.day(w.clock.days + 50, 9),
        justification="Exploit path requires authentication.",
        compensating_control_ids=[control["id"]],
    )
    w.plants.flag(
        "EXC-03", "exceptions", e["id"], "internet-facing exposure excepted on a control that was never verified"
    )


def exc_urgent_counter(k: Kit) -> None:
    """Clean for EXC-03: an exception on a KEV finding with a control verified this week."""
    w = k.w
    srv = k.server("srv-sshjump-02", owner="team-platform")
    kev = k.new_kev("linux", 3)
    added = w.day(kev.kev_added.toordinal() - w.clock.start.toordinal())
    f = k.finding(srv, kev, added + timedelta(hours=3))
    e = add_exception(
        w,
        title="Jump host OpenSSH rebuild scheduled",
        asset_ids=[srv["id"]],
        vuln_ids=[kev.vuln_id],
        risk_response="mitigate",
        deviation_type="operational_requirement",
        owner="team-platform",
        approved_at=added + timedelta(days=1),
        expires_at=added + timedelta(days=30),
        justification="Rebuild with the fixed image in the next window.",
        compensating_controls=[
            inline_control("Port 22 restricted to the PAM proxy", "fw-change-5512", added + timedelta(days=1, hours=2))
        ],
    )
    w.plants.clean("EXC-03", "exceptions", e["id"], "exception on a KEV finding with a control verified this week")
    w.plants.clean(
        ["PRI-02", "PRI-04"], "findings", f["id"], "KEV finding not yet due, excepted with a verified control"
    )


def exc_duration(k: Kit) -> None:
    """EXC-04: exceptions without expiry or approved for longer than allowed."""
    w = k.w
    cases = [
        (w.day(30, 10), None, "exception with no expiry date"),
        (w.start - timedelta(days=30), w.start + timedelta(days=183), "exception approved for 213 days"),
        (w.start - timedelta(days=100), w.start + timedelta(days=265), "exception approved for a year"),
    ]
    for n, (approved, expires, situation) in enumerate(cases, start=1):
        srv = k.server(f"srv-palletiser-ctl-{n:02d}", owner="team-warehouse")
        t0 = max(approved, w.start - timedelta(days=60)) - timedelta(days=2)
        f = k.finding(srv, k.vuln(srv, "low"), t0)
        e = add_exception(
            w,
            title=f"Palletiser controller frozen by the OEM warranty #{n}",
            asset_ids=[srv["id"]],
            vuln_ids=[f["vuln_id"]],
            risk_response="mitigate",
            deviation_type="vendor_dependency",
            owner="team-warehouse",
            approved_at=approved,
            expires_at=expires,
            justification="OEM warranty forbids changes to the controller software.",
            compensating_control_ids=["cc-001"],
        )
        controls = ["EXC-04", "EXC-01"] if expires is None else ["EXC-04"]
        w.plants.flag(controls, "exceptions", e["id"], situation)


def exc_scope(k: Kit) -> None:
    """EXC-05: exceptions whose scope matches nothing or has no asset criterion."""
    w = k.w
    e = add_exception(
        w,
        title="Fax gateway OpenSSH",
        asset_tags=["legacy-fax"],
        vuln_ids=["CVE-2024-6387"],
        risk_response="accept",
        deviation_type="risk_adjustment",
        owner="team-it-infra",
        approved_at=w.day(20, 10),
        expires_at=w.day(100, 10),
        justification="Fax gateway retiring.",
        compensating_controls=k.control(19),
    )
    w.plants.flag("EXC-05", "exceptions", e["id"], "scope names a tag no asset carries: matches nothing")
    lonely = Vuln(
        "CVE-2026-39117",
        "linux",
        "libmagic1",
        "1:5.44-3",
        "1:5.44-3+deb12u1",
        "medium",
        "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
        5.5,
        0.0012,
        real=False,
    )
    for n in (1, 2):
        srv = k.server(f"srv-media-conv-{n:02d}", owner="team-web")
        k.finding(srv, lonely, 60 + n)
    e = add_exception(
        w,
        title="libmagic parser flaw accepted everywhere",
        vuln_ids=[lonely.vuln_id],
        risk_response="accept",
        deviation_type="risk_adjustment",
        owner="team-web",
        approved_at=w.day(64, 10),
        expires_at=w.day(120, 10),
        justification="Local-only flaw.",
        compensating_controls=k.control(63),
    )
    w.plants.flag("EXC-05", "exceptions", e["id"], "no asset criterion: the exception covers every asset")
    e = add_exception(
        w,
        title="DC2 racks awaiting removal",
        asset_tags=["dc2-decommissioned"],
        risk_response="avoid",
        deviation_type="operational_requirement",
        owner="team-it-infra",
        approved_at=w.day(15, 10),
        expires_at=w.day(90, 10),
        justification="Hardware leaves in Q4.",
        compensating_controls=k.control(14),
    )
    w.plants.flag("EXC-05", "exceptions", e["id"], "scope tag matches no asset")


# ---------------------------------------------------------------------------------------------
# RLB


def rlb_reassessment(k: Kit) -> None:
    """RLB-01: change events reassessed late or never."""
    w = k.w
    srv = k.server("srv-edi-gateway-09", owner="team-integration")
    ev = w.add_event(
        "emergency_bypass",
        w.day(30, 23),
        asset_ids=[srv["id"]],
        description="Hotfix pushed outside CAB to restore partner EDI flows",
    )
    w.plants.flag("RLB-01", "rollout_events", ev["id"], "emergency bypass never reassessed")
    srv = k.server("srv-wms-batch-05", owner="team-warehouse")
    f = k.medium_finding(srv, 38)
    d0 = k.deploy(srv, [f], 40, status="failed")
    ev = w.add_event(
        "failed_rollout",
        d0["completed_at"] + timedelta(minutes=20),
        reassessed=d0["completed_at"] + timedelta(hours=100),
        deployment_ids=[d0["id"]],
        asset_ids=[srv["id"]],
        finding_ids=[f["id"]],
    )
    k.fix(srv, f, 42)
    w.plants.flag("RLB-01", "rollout_events", ev["id"], "failed rollout reassessed after 100 hours (window 72 hours)")
    web = k.server("srv-carrier-api-01", internet_facing=True, owner="team-integration", criticality="high")
    f = k.finding(web, k.vuln(web, "high"), 28)
    d1, _ = k.fix(web, f, 30)
    ev = w.add_event(
        "rollback",
        w.day(33, 10),
        reassessed=w.day(33, 10) + timedelta(hours=40),
        deployment_ids=[d1["id"]],
        asset_ids=[web["id"]],
        finding_ids=[f["id"]],
    )
    k.fix(web, f, 36)
    w.plants.flag(
        "RLB-01",
        "rollout_events",
        ev["id"],
        "rollback on an internet-facing API reassessed after 40 hours (urgent window 24 hours)",
    )
    w.plants.clean("RLB-02", "findings", f["id"], "rolled back, then redeployed and verified again")
    srv = k.server("srv-route-batch-03", owner="team-fleet")
    f = k.medium_finding(srv, 48)
    d1, _ = k.fix(srv, f, 50)
    ev = w.add_event(
        "rollback",
        w.day(53, 8),
        reassessed=w.day(53, 8) + timedelta(hours=60),
        deployment_ids=[d1["id"]],
        asset_ids=[srv["id"]],
        finding_ids=[f["id"]],
    )
    k.fix(srv, f, 56)
    w.plants.clean(
        "RLB-01", "rollout_events", ev["id"], "non-urgent rollback reassessed after 60 hours (window 72 hours)"
    )


def rlb_rollback_reopened(k: Kit) -> None:
    """RLB-02: verified fixes rolled back and not re-verified."""
    w = k.w
    srv = k.server("srv-tms-core-01", owner="team-fleet")
    f = k.medium_finding(srv, 15)
    d = k.deploy(srv, [f], 20, status="rolled_back")
    k.verify(srv, f, d["completed_at"] + timedelta(hours=12), deployment=d)
    occurred = w.day(25, 14)
    k.verify(srv, f, occurred + timedelta(hours=4), result="vulnerable")
    ev = w.add_event(
        "rollback",
        occurred,
        reassessed=occurred + timedelta(hours=5),
        deployment_ids=[d["id"]],
        asset_ids=[srv["id"]],
        finding_ids=[f["id"]],
        description="TMS core crashed after the library update; rolled back",
    )
    f["last_seen_at"] = occurred + timedelta(hours=4)
    w.plants.flag(
        "RLB-02",
        "findings",
        f["id"],
        "verified fix rolled back; the rescan confirms the vulnerability is back",
        rollout_event=ev["id"],
    )
    srv = k.server("srv-tms-core-02", owner="team-fleet")
    f = k.medium_finding(srv, 35)
    d, _ = k.fix(srv, f, 40)
    ev = w.add_event(
        "rollback",
        w.day(44, 9),
        reassessed=w.day(44, 17),
        deployment_ids=[d["id"]],
        asset_ids=[srv["id"]],
        finding_ids=[f["id"]],
        description="Rolled back after a memory leak",
    )
    f["state"], f["closed_at"] = "open", None
    w.plants.flag(
        "RLB-02", "findings", f["id"], "verified fix rolled back and never re-verified", rollout_event=ev["id"]
    )


def rlb_mitigation(k: Kit) -> None:
    """RLB-03: an emergency mitigation never replaced by a permanent fix."""
    w = k.w
    srv = k.server("srv-ftp-gw-01", owner="team-integration")
    f = k.medium_finding(srv, 55)
    ev = w.add_event(
        "emergency_mitigation",
        w.day(58, 11),
        reassessed=w.day(58, 17),
        asset_ids=[srv["id"]],
        finding_ids=[f["id"]],
        description="Disabled anonymous upload pending the vendor patch",
    )
    w.plants.flag("RLB-03", "rollout_events", ev["id"], "emergency mitigation never replaced by a permanent fix")


# ---------------------------------------------------------------------------------------------
# NHI


def nhi_orphaned(k: Kit) -> None:
    """NHI-01: enabled identities whose owner left or is unknown."""
    w = k.w
    for name in ("svc-old-reporting", "svc-edi-sftp-sync"):
        i = k.identity(name, owner="j.devries@northwind.example", owner_active=False)
        w.plants.flag("NHI-01", "identities", i["id"], "service account owned by a person who left")
    i = k.identity("api-key-legacy-tms", "api_key", owner=None)
    w.plants.flag(["NHI-01", "INV-07"], "identities", i["id"], "enabled API key with no owner")
    i = k.identity("svc-old-billing", owner="m.jansen@northwind.example", owner_active=False, enabled=False)
    w.plants.clean("NHI-01", "identities", i["id"], "owner left, but the account is disabled")


def nhi_leaks(k: Kit) -> None:
    """NHI-02 and NHI-14: leaked secrets still valid or revoked late."""
    w = k.w
    shop = k.server("srv-shop-search-01", internet_facing=True, owner="team-web", criticality="high")
    for day in (12, 26):
        f = k.finding(shop, k.vuln(shop, "high"), day)
        k.fix(shop, f, day + 3)
    bot = k.identity(
        "slack-bot-ops", "api_key", owner="team-web", used_by=[shop["id"]], created=w.as_of - timedelta(days=60)
    )
    x = add_exposure(
        w,
        bot,
        w.day(70, 15),
        public=True,
        detector="slack-bot-token",
        location="github.com/northwind-oss/shop-search-demo@a91c3e2:.env:4",
    )
    w.plants.flag("NHI-02", "secret_exposures", x["id"], "token leaked in a public repository, still valid")
    w.plants.flag(
        "NHI-14",
        "assets",
        shop["id"],
        "patched web server still exposed through a leaked, valid token",
        identities=[bot["id"]],
    )
    dd = k.identity("datadog-api-key-prod", "api_key", owner="team-platform")
    x = add_exposure(
        w, dd, w.day(80, 9), detector="datadog-api-key", location="ci://jenkins-01/job/deploy-wms/1841/console"
    )
    w.plants.flag("NHI-02", "secret_exposures", x["id"], "API key printed in CI logs, never revoked")
    stripe = k.identity("stripe-restricted-key", "api_key", owner="team-payments")
    x = add_exposure(
        w,
        stripe,
        w.day(85, 16),
        detector="stripe-secret-key",
        verified_live=None,
        location="slack://northwind/#payments-eng/p1759245311",
    )
    w.plants.flag("NHI-02", "secret_exposures", x["id"], "key pasted in a chat channel, not revoked")
    mapbox = k.identity("mapbox-token-driver-app", "api_key", owner="team-fleet")
    detected = w.day(50, 10)
    x = add_exposure(
        w,
        mapbox,
        detected,
        revoked_at=detected + timedelta(hours=70),
        verified_invalid_at=detected + timedelta(hours=70, minutes=20),
    )
    mapbox["last_rotated_at"] = detected + timedelta(hours=70)
    w.plants.flag("NHI-02", "secret_exposures", x["id"], "revoked 70 hours after detection (target 24 hours)")
    x = next(e for e in w.b.records("secret_exposures") if e["revoked_at"] and e["identity_id"])
    w.plants.clean("NHI-02", "secret_exposures", x["id"], "revoked within hours and re-tested invalid")


def nhi_third_party(k: Kit) -> None:
    """NHI-03: ungoverned third-party identities."""
    w = k.w
    i = k.identity("vendor-hvac-remote", "ssh_key", third_party=True, owner="team-facilities")
    w.plants.flag("NHI-03", "identities", i["id"], "third-party SSH key with no vendor recorded")
    i = k.identity(
        "partner-3pl-portal",
        "oauth_client",
        third_party=True,
        third_party_vendor="Keuhne 3PL",
        privilege_admin=True,
        owner="team-integration",
    )
    w.plants.flag(["NHI-03", "NHI-05"], "identities", i["id"], "third-party OAuth client with admin rights")
    i = k.identity(
        "customs-broker-api",
        "api_key",
        third_party=True,
        third_party_vendor="Douane Direct",
        last_reviewed_at=w.start - timedelta(days=150),
        owner="team-integration",
    )
    w.plants.flag("NHI-03", "identities", i["id"], "third-party key not reviewed for 242 days")


def nhi_auth(k: Kit) -> None:
    """NHI-04: identities authenticating with passwords, basic auth or nothing."""
    w = k.w
    for name, type_, method in (
        ("svc-wms-legacy", "service_account", "password"),
        ("label-printer-basic", "api_key", "basic"),
        ("snmp-community-ro", "secret", "none"),
    ):
        i = k.identity(name, type_, auth_method=method)
        w.plants.flag("NHI-04", "identities", i["id"], f"identity authenticates with {method}")
    i = k.identity("svc-fax-legacy", auth_method="password", enabled=False)
    w.plants.clean("NHI-04", "identities", i["id"], "password authentication, but disabled")


def nhi_privilege(k: Kit) -> None:
    """NHI-05: admin or unused permissions (and an excepted admin)."""
    w = k.w
    i = k.identity("svc-ci-admin", privilege_admin=True, privilege_scopes=["AdministratorAccess"])
    w.plants.flag("NHI-05", "identities", i["id"], "CI service account with AdministratorAccess, no exception")
    i = k.identity("svc-etl-reader", unused_permissions=37)
    w.plants.flag("NHI-05", "identities", i["id"], "37 granted permissions unused in the analyser window")
    backup = k.server("srv-backup-01", owner="team-it-infra")
    i = k.identity(
        "svc-backup-admin",
        privilege_admin=True,
        owner="team-it-infra",
        used_by=[backup["id"]],
        privilege_scopes=["BackupOperator", "AdministratorAccess"],
    )
    add_exception(
        w,
        title="Backup service needs administrator rights",
        asset_ids=[backup["id"]],
        identity_ids=[i["id"]],
        control_ids=["NHI-05"],
        risk_response="mitigate",
        deviation_type="operational_requirement",
        owner="team-it-infra",
        approved_at=w.day(60, 10),
        expires_at=w.day(60 + 85, 10),
        justification="Image-level backups require admin.",
        compensating_controls=k.control(59),
    )
    w.plants.clean("NHI-05", "identities", i["id"], "admin, covered by a valid exception for NHI-05")


def nhi_storage(k: Kit) -> None:
    """NHI-06: static secrets kept in code, config files or CI variables."""
    w = k.w
    for name, type_, storage in (
        ("ci-deploy-aws-key", "cloud_access_key", "ci_variable"),
        ("db-password-wms-report", "secret", "config_file"),
        ("geo-api-key-hardcoded", "api_key", "code"),
    ):
        i = k.identity(name, type_, storage=storage)
        w.plants.flag("NHI-06", "identities", i["id"], f"static secret stored in {storage.replace('_', ' ')}")
    i = k.identity(
        "gha-oidc-deploy-token",
        "access_token",
        short_lived=True,
        storage="ci_variable",
        auth_method="oidc",
        platform="github",
    )
    i["storage"] = "ci_variable"
    w.plants.clean("NHI-06", "identities", i["id"], "short-lived OIDC token in a CI variable")


def nhi_rotation(k: Kit) -> None:
    """NHI-07 and NHI-14: unrotated keys and rotation without revocation."""
    w = k.w
    created = w.start - timedelta(days=150)
    i = k.identity(
        "aws-key-analytics-export",
        "cloud_access_key",
        created=created,
        last_rotated_at=None,
        expires_at=created + timedelta(days=360),
    )
    w.plants.flag("NHI-07", "identities", i["id"], "static key never rotated in 242 days")
    pay = k.server("srv-payments-batch-02", owner="team-payments", criticality="high", compliance_scopes=["pci"])
    for day in (8, 21):
        f = k.finding(pay, k.vuln(pay, "critical"), day)
        k.fix(pay, f, day + 2)
    created = w.start - timedelta(days=200)
    i = k.identity(
        "svc-payments-settlement",
        owner="team-payments",
        used_by=[pay["id"]],
        created=created,
        last_rotated_at=w.start - timedelta(days=60),
        expires_at=created + timedelta(days=365),
    )
    w.plants.flag("NHI-07", "identities", i["id"], "service-account key last rotated 152 days ago")
    w.plants.flag(
        "NHI-14",
        "assets",
        pay["id"],
        "critical fixes verified, but the host's settlement key is overdue for rotation",
        identities=[i["id"]],
    )
    i = k.identity("api-key-carrier-label", "api_key", last_rotated_at=w.day(60, 9), prior_secret_valid=True)
    w.plants.flag("NHI-07", "identities", i["id"], "rotated, but the previous secret still authenticates")
    i = k.identity(
        "api-key-carrier-rates",
        "api_key",
        created=w.start - timedelta(days=200),
        last_rotated_at=w.as_of - timedelta(days=78),
    )
    w.plants.clean("NHI-07", "identities", i["id"], "rotated 78 days before the end of the period (limit 90)")


def nhi_environments(k: Kit) -> None:
    """NHI-08: credentials shared across production and non-production."""
    w = k.w
    i = k.identity("db-password-tracking", "secret", owner="team-fleet", environments=["production", "development"])
    w.plants.flag("NHI-08", "identities", i["id"], "one credential shared between production and development")
    prod = k.server("srv-quotes-01", owner="team-payments")
    stg = k.server("srv-quotes-stg-01", owner="team-payments", environment="staging", criticality="low")
    i = k.identity("svc-quotes-db", owner="team-payments", used_by=[prod["id"], stg["id"]])
    w.plants.flag("NHI-08", "identities", i["id"], "production credential also used by a staging server")


def nhi_reuse(k: Kit) -> None:
    """NHI-09: one credential used by several owners, or by an agent and a server."""
    w = k.w
    a = k.server("srv-dispatch-01", owner="team-fleet")
    b = k.server("srv-invoicing-01", owner="team-payments")
    i = k.identity("svc-shared-smtp", used_by=[a["id"], b["id"]], owner="team-platform")
    w.plants.flag("NHI-09", "identities", i["id"], "one credential used by workloads of two teams")
    srv = k.server("srv-eta-features-01", owner="team-fleet")
    i = k.identity(
        "wi-eta-features",
        "workload_identity",
        short_lived=True,
        owner="team-fleet",
        used_by=["agent-eta-planner", srv["id"]],
        platform="kubernetes",
    )
    w.agents["agent-eta-planner"]["identity_ids"].append(i["id"])
    w.plants.flag("NHI-09", "identities", i["id"], "workload identity shared by an AI agent and a batch server")


def nhi_human_use(k: Kit) -> None:
    """NHI-10: service accounts used interactively."""
    for name in ("svc-erp-integration", "svc-monitoring-admin"):
        i = k.identity(name, interactive_use=True)
        k.w.plants.flag("NHI-10", "identities", i["id"], "people log in interactively with this service account")


def nhi_long_lived(k: Kit) -> None:
    """NHI-11: static secrets that never expire or live more than a year."""
    w = k.w
    i = k.identity("api-key-weather-feed", "api_key", expires_at=None)
    i["expires_at"] = None
    w.plants.flag("NHI-11", "identities", i["id"], "API key that never expires")
    created = w.start - timedelta(days=100)
    i = k.identity("cert-partner-mtls", "certificate", created=created, expires_at=created + timedelta(days=1095))
    w.plants.flag("NHI-11", "identities", i["id"], "certificate valid for three years")


def nhi_dormant(k: Kit) -> None:
    """NHI-12: enabled identities unused for more than 45 days."""
    w = k.w
    for name, type_, last in (
        ("svc-old-sftp-import", "service_account", w.start - timedelta(days=20)),
        ("oauth-survey-tool", "oauth_client", w.day(25, 8)),
        ("ssh-key-build-01", "ssh_key", w.start - timedelta(days=80)),
    ):
        i = k.identity(name, type_, last_used_at=last)
        days = (w.as_of - last).days
        w.plants.flag("NHI-12", "identities", i["id"], f"enabled but unused for {days} days")


def nhi_review(k: Kit) -> None:
    """NHI-13: service accounts not reviewed within 90 days."""
    w = k.w
    i = k.identity("svc-hr-export", last_reviewed_at=w.start - timedelta(days=60))
    w.plants.flag("NHI-13", "identities", i["id"], "service account last reviewed 152 days ago")
    i = k.identity("svc-label-queue", last_reviewed_at=w.as_of - timedelta(days=97))
    w.plants.flag("NHI-13", "identities", i["id"], "service account last reviewed 97 days ago")
    i = k.identity("svc-yard-cameras", last_reviewed_at=None)
    w.plants.flag(["NHI-13", "INV-07"], "identities", i["id"], "service account never reviewed")


def nhi_post_patch_rotation(k: Kit) -> None:
    """NHI-15: KEV fixes not followed by a credential rotation."""
    w = k.w
    cases = [
        ("linux", 1, "srv-customs-gw-01", 12, True),
        ("windows", 1, "srv-wms-print-01", 20, True),
        ("linux", 0, "srv-hr-sync-01", None, False),
    ]
    for platform, index, name, rotated_day, flagged in cases:
        kev = k.new_kev(platform, index)
        srv = k.asset("server", name, platform)
        added = w.day(kev.kev_added.toordinal() - w.clock.start.toordinal())
        f = k.finding(
            srv,
            kev,
            added + timedelta(hours=3),
            ssvc={"ssvc_exploitation": "active", "ssvc_automatable": "yes", "ssvc_technical_impact": "total"},
        )
        _, v = k.fix(srv, f, added + timedelta(hours=9), verify_after_hours=3)
        rotated = w.day(rotated_day, 9) if rotated_day is not None else v["observed_at"] + timedelta(days=2)
        i = k.identity(f"svc-{name[4:]}", used_by=[srv["id"]], last_rotated_at=rotated)
        if flagged:
            w.plants.flag(
                "NHI-15",
                "findings",
                f["id"],
                "KEV fixed, but the host's credentials were not rotated afterwards",
                identities=[i["id"]],
            )
        else:
            w.plants.clean("NHI-15", "findings", f["id"], "KEV fixed and the host's credential rotated two days later")


# ---------------------------------------------------------------------------------------------
# AGT


def agt_inventory(k: Kit) -> None:
    """AGT-01: agents without owner or review; agent credentials held by no agent."""
    w = k.w
    for agent_id, owner, reviewed, situation in (
        ("agent-yard-scheduler", None, w.as_of - timedelta(days=20), "agent with no owner"),
        ("agent-customs-docs", "team-integration", w.start - timedelta(days=60), "agent not reviewed for 152 days"),
    ):
        cred = agent_credential(w, k.rng, agent_id, owner or "team-warehouse")
        a = add_agent(
            w,
            id=agent_id,
            name=agent_id.replace("-", " ").title(),
            owner=owner,
            tools=tools(("read_documents", "read", False)),
            identity_ids=[cred["id"]],
            autonomy="human_in_the_loop",
            last_reviewed_at=reviewed,
        )
        w.plants.flag("AGT-01", "agents", a["id"], situation)
    i = agent_credential(w, k.rng, "agent-pricing-experiment", "team-payments", used_by=[])
    w.plants.flag("AGT-01", "identities", i["id"], "agent credential held by no registered agent")


def agt_credentials(k: Kit) -> None:
    """AGT-02: agents holding long-lived or admin credentials."""
    w = k.w
    created = w.start - timedelta(days=120)
    token = k.identity(
        "ops-copilot-admin-token",
        "access_token",
        owner="team-platform",
        created=created,
        last_rotated_at=None,
        expires_at=None,
        privilege_admin=True,
        privilege_scopes=["Owner"],
        used_by=["agent-ops-copilot"],
        platform="azure",
    )
    token["expires_at"] = None
    add_agent(
        w,
        id="agent-ops-copilot",
        name="Infrastructure ops copilot",
        owner="team-platform",
        tools=tools(("read_metrics", "read", False), ("restart_service", "execute", True)),
        identity_ids=[token["id"]],
        autonomy="human_on_the_loop",
        internet_access=True,
        last_reviewed_at=w.as_of - timedelta(days=30),
    )
    w.plants.flag(
        ["AGT-02", "NHI-05", "NHI-07", "NHI-11"],
        "identities",
        token["id"],
        "AI agent holding a long-lived, never-rotated admin token",
    )
    key = k.identity("route-optimizer-maps-key", "api_key", owner="team-fleet", used_by=["agent-route-optimizer"])
    add_agent(
        w,
        id="agent-route-optimizer",
        name="Route optimisation agent",
        owner="team-fleet",
        tools=tools(("read_routes", "read", False)),
        identity_ids=[key["id"]],
        autonomy="autonomous",
        last_reviewed_at=w.as_of - timedelta(days=25),
    )
    w.plants.flag("AGT-02", "identities", key["id"], "agent uses a static API key instead of a short-lived credential")
    cred = agent_credential(
        w, k.rng, "agent-claims-assistant", "team-support", privilege_admin=True, privilege_scopes=["claims:admin"]
    )
    add_agent(
        w,
        id="agent-claims-assistant",
        name="Damage claims assistant",
        owner="team-support",
        tools=tools(("read_claims", "read", False)),
        identity_ids=[cred["id"]],
        autonomy="human_in_the_loop",
        last_reviewed_at=w.as_of - timedelta(days=15),
    )
    w.plants.flag(["AGT-02", "NHI-05"], "identities", cred["id"], "short-lived agent credential with admin privilege")


def agt_tools(k: Kit) -> None:
    """AGT-03: consequential agent tools without human approval."""
    w = k.w
    for agent_id, tool in (
        ("agent-it-automation", ("run_shell", "execute", False)),
        ("agent-dispatch", ("update_shipment", "write", False)),
        ("agent-iam-helper", ("manage_iam_roles", "admin", False)),
    ):
        cred = agent_credential(w, k.rng, agent_id, "team-platform")
        add_agent(
            w,
            id=agent_id,
            name=agent_id.replace("-", " ").title(),
            owner="team-platform",
            tools=tools(("read_inventory", "read", False), tool),
            identity_ids=[cred["id"]],
            autonomy="autonomous",
            last_reviewed_at=w.as_of - timedelta(days=12),
        )
        w.plants.flag(
            "AGT-03", "agents", agent_id, f"{tool[1]} tool '{tool[0]}' runs without human approval", tool=tool[0]
        )
    w.plants.clean(
        "AGT-03", "agents", "agent-support-triage", "write tool requires approval; read tools do not need it"
    )


# ---------------------------------------------------------------------------------------------
# EVD


def evd_sources(k: Kit) -> None:
    """EVD-02 and EVD-03: stale sources and sources without a sha256."""
    w = k.w
    for spec in w.b.sources.values():
        if spec.collected_at < w.clock.at(w.clock.days) - timedelta(days=14):
            w.plants.flag(
                "EVD-02",
                "sources",
                spec.path,
                f"{spec.kind} exported {(w.as_of - spec.collected_at).days} days before the period end",
            )
        if not spec.with_sha:
            w.plants.flag("EVD-03", "sources", spec.path, "listed without a sha256")


PLANTS: list[Plant] = [
    inv01_unknown_assets,
    inv02_incomplete,
    inv03_unscanned,
    inv04_unauthenticated,
    inv05_not_automated,
    inv06_third_party,
    inv07_nhi_inventory,
    inv08_containers,
    pri_exposed_kev,
    pri_internal_overdue,
    pri_counter_examples,
    dep_followups,
    dep_change_records,
    ver_unverified,
    ver_still_vulnerable,
    ver_closure_evidence,
    ver_fix_without_change,
    ver_duplicates,
    ver_ephemeral,
    ver_ephemeral_retired,
    exc_incomplete,
    exc_expired,
    exc_urgent_controls,
    exc_urgent_counter,
    exc_duration,
    exc_scope,
    rlb_reassessment,
    rlb_rollback_reopened,
    rlb_mitigation,
    nhi_orphaned,
    nhi_leaks,
    nhi_third_party,
    nhi_auth,
    nhi_privilege,
    nhi_storage,
    nhi_rotation,
    nhi_environments,
    nhi_reuse,
    nhi_human_use,
    nhi_long_lived,
    nhi_dormant,
    nhi_review,
    nhi_post_patch_rotation,
    agt_inventory,
    agt_credentials,
    agt_tools,
    evd_sources,
]


def plant_all(w: World) -> None:
    kit = Kit(w)
    for plant in PLANTS:
        plant(kit)
