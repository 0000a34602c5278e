"""The clean base world of one Northwind quarter: inventory and its coverage, identities, agents,
exceptions and the bulk finding -> deployment -> verification lifecycle.

Bulk records are clean for every control, except two deliberate populations that give the
headline its realistic shape (most deployments succeed, fewer fixes are verified): successful
deployments never verified (VER-01) and successful deployments whose rescan is still vulnerable
(VER-02). Both are registered in the Plant registry like any other planted gap.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from gen_catalog import Catalog, Vuln
from gen_core import Bundle, Clock, Ids, Plants, Record, SourceSpec, seeded
from gen_native import tool_sources

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CEST = timezone(timedelta(hours=2))
DOMAIN = "nw.example"

# Per-platform patching cadence in days (patch cycles a bulk fix waits for).
CADENCE = {"windows": 14, "linux": 7, "image": 7, "serverless": 10, "network": 21, "ot": 30, "repo": 7}


@dataclass(frozen=True)
class Profile:
    """What makes one quarter differ from another."""

    name: str
    seed: str
    new_kev_base: int
    findings_scale: float
    unverified: float  # share of medium/low internal findings deployed and never verified (VER-01)
    still_vulnerable: float  # share deployed whose rescan is still vulnerable (VER-02)
    refix: float  # share of those later fixed by a second deployment
    retry: float  # share of fix groups whose first attempt failed / needed a reboot
    open_share: float  # share of findings still open (not yet due)
    tool_files: bool = False  # KEV/EPSS as the feeds publish them, plus Trivy and Gitleaks reports


@dataclass
class Plan:
    """How one bulk finding will play out."""

    vuln: Vuln
    category: str  # fixed | unverified | still_vulnerable | open
    t0: datetime
    due_days: float


def uniform_time(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    if hi <= lo:
        return lo
    seconds = int((hi - lo).total_seconds())
    return lo + timedelta(seconds=rng.randint(0, seconds) // 60 * 60)


class World:
    """Builds records into a Bundle, keeping the indexes the plants need."""

    def __init__(self, bundle: Bundle, plants: Plants, profile: Profile) -> None:
        self.b = bundle
        self.clock: Clock = bundle.clock
        self.plants = plants
        self.profile = profile
        self.ids = Ids()
        self._rngs: dict[str, random.Random] = {}
        self.static = seeded("northwind:static")
        self.cat = Catalog(self.clock, self.r("catalog"), profile.new_kev_base)
        self.cap = self.clock.at(self.clock.days - 1, 18)
        self.assets: dict[str, Record] = {}
        self.platform: dict[str, str] = {}
        self.reserved: set[str] = set()
        self.linked: set[str] = set()
        self.vulns_on: dict[str, set[str]] = {}
        self.used_vulns: dict[str, Vuln] = {}
        self.identities: dict[str, Record] = {}
        self.agents: dict[str, Record] = {}
        self._ips: set[str] = set()

    def r(self, domain: str) -> random.Random:
        """A random stream per domain, so one kind's draws never shift another's."""
        if domain not in self._rngs:
            self._rngs[domain] = seeded(f"{self.profile.seed}:{domain}")
        return self._rngs[domain]

    # ------------------------------------------------------------------ time helpers

    def day(self, day: float, hour: int = 0, minute: int = 0) -> datetime:
        return self.clock.at(day, hour, minute)

    @property
    def start(self) -> datetime:
        return self.clock.start_at

    @property
    def as_of(self) -> datetime:
        return self.clock.as_of

    def end_of(self, asset: Record) -> datetime:
        """Last instant events may happen on an asset."""
        retired = asset.get("retired_at")
        return min(self.cap, retired - HOUR) if retired else self.cap

    # ------------------------------------------------------------------ sources

    def setup_sources(self) -> None:
        """Every evidence file of a Northwind bundle, with its collection time."""
        c = self.clock
        last = c.days - 1

        def at(hours: float) -> datetime:
            return c.at(last, 20) + timedelta(hours=hours)

        specs = [
            ("inventory/cmdb-assets.csv", "assets", "csv", "ServiceNow CMDB export", at(2), None),
            ("discovery/falcon-edr.jsonl", "observations", "jsonl", "CrowdStrike Falcon host inventory", at(4.5), None),
            (
                "discovery/cloud-inventory.jsonl",
                "observations",
                "jsonl",
                "AWS Config + Kubernetes API inventory",
                at(4.5),
                None,
            ),
            (
                "discovery/runzero-netscan.parquet",
                "observations",
                "parquet",
                "runZero network discovery",
                c.at(last - 18, 6),
                None,
            ),
            ("scans/tenable-scans.csv", "scans", "csv", "Tenable.io scan history", at(5), None),
            ("scans/trivy-scans.parquet", "scans", "parquet", "Trivy Operator / CI scan log", at(5), None),
            ("findings/tenable-vm.jsonl", "findings", "jsonl", "Tenable.io vulnerability export", at(6), None),
            (
                "findings/trivy-containers.jsonl",
                "findings",
                "jsonl",
                "Trivy image, function and repository findings",
                at(6),
                None,
            ),
            (
                "deployments/patch-jobs.csv",
                "deployments",
                "csv",
                "AWS SSM Patch Manager + SCCM + Ansible job log",
                at(1),
                None,
            ),
            (
                "deployments/intune-endpoints.csv",
                "deployments",
                "csv",
                "Microsoft Intune / Jamf deployment report (CEST)",
                at(1),
                CEST,
            ),
            (
                "deployments/argocd-syncs.csv",
                "deployments",
                "csv",
                "Argo CD sync history + Lambda releases",
                at(1),
                None,
            ),
            (
                "verifications/rescans.jsonl",
                "verifications",
                "jsonl",
                "Post-patch rescans and version checks",
                at(7),
                None,
            ),
            ("exceptions/risk-register.yaml", "exceptions", "yaml", "GRC risk register (Archer)", at(0), None),
            (
                "exceptions/compensating-controls.csv",
                "compensating_controls",
                "csv",
                "GRC control library",
                c.at(last - 28, 9),
                None,
            ),
            (
                "changes/rollout-events.json",
                "rollout_events",
                "json",
                "ServiceNow change and incident export",
                at(8),
                None,
            ),
            (
                "identities/nhi-inventory.csv",
                "identities",
                "csv",
                "NHI inventory (Vault, AWS IAM, Entra ID, GitHub)",
                at(9),
                None,
            ),
            (
                "secrets/secret-scanner.jsonl",
                "secret_exposures",
                "jsonl",
                "GitGuardian + trufflehog incidents",
                at(9.5),
                None,
            ),
            ("agents/ai-agents.yaml", "agents", "yaml", "AI agent registry", at(10), None),
        ]
        if not self.profile.tool_files:
            specs += [
                ("intel/kev-catalog.csv", "kev_entries", "csv", "CISA KEV catalog (period excerpt)", at(4), None),
                ("intel/epss-scores.csv", "epss_scores", "csv", "FIRST EPSS daily scores (excerpt)", at(4), None),
            ]
            unhashed = {"intel/kev-catalog.csv", "intel/epss-scores.csv"}
        else:
            specs += [(path, kind, fmt, tool, collected, None) for path, kind, fmt, tool, collected in tool_sources(c)]
            # The EVD-03 plant: hand-kept exports listed without a hash (the feeds carry theirs).
            unhashed = {"exceptions/compensating-controls.csv", "agents/ai-agents.yaml"}
        for path, kind, fmt, tool, collected, zone in specs:
            spec = SourceSpec(path, kind, fmt, tool, collected, zone=zone or UTC)
            spec.with_sha = path not in unhashed
            self.b.source(spec)

    # ------------------------------------------------------------------ assets

    def add_asset(self, platform: str, *, reserve: bool = False, **fields: Any) -> Record:
        """An inventory record with complete attributes unless a field is passed as None."""
        record: Record = {
            "id": fields.pop("id"),
            "name": fields.pop("name"),
            "type": fields.pop("type"),
            "environment": "production",
            "owner": None,
            "criticality": "moderate",
            "internet_facing": False,
            "ephemeral": False,
            "managed_by": "internal",
            "lifecycle": "active",
            "retired_at": None,
            "first_seen_at": self.start - timedelta(days=400),
            "maintenance_group": None,
            "patch_automation": True,
            "parent_image_id": None,
            "compliance_scopes": [],
            "aliases": [],
            "tags": [],
        }
        record.update(fields)
        if record["first_seen_at"] >= self.cap:
            return record  # not yet in the estate this quarter
        self.b.add("assets", record)
        self.assets[record["id"]] = record
        self.platform[record["id"]] = platform
        self.vulns_on[record["id"]] = set()
        if reserve:
            self.reserved.add(record["id"])
        return record

    def alive(self, asset: Record) -> bool:
        """Exists at some point of the period."""
        retired = asset.get("retired_at")
        return asset["first_seen_at"] < self.cap and (retired is None or retired > self.start)

    def build_inventory(self) -> None:
        """The static estate (same ids every quarter) plus this quarter's pods and autoscaled VMs."""
        self._servers()
        self._endpoints()
        self._cloud()
        self._images_and_functions()
        self._network_ot_saas()
        self._nhi_services_and_repos()
        self._ephemeral()

    def _ip(self, net: int) -> str:
        """A unique private address (stable across quarters)."""
        while True:
            ip = f"10.{net}.{self.static.randint(1, 60)}.{self.static.randint(2, 250)}"
            if ip not in self._ips:
                self._ips.add(ip)
                return ip

    def _seen(self, lo_days: int = 900, hi_days: int = 120) -> datetime:
        """A static first-seen time, independent of the quarter."""
        anchor = datetime(2026, 7, 1, tzinfo=UTC)
        return anchor - timedelta(days=self.static.randint(hi_days, lo_days), hours=self.static.randint(0, 23))

    def _servers(self) -> None:
        roles = [
            ("web-shop", "linux", "team-web", "high", True, ["pci"], (2, 1, 1)),
            ("api-gw", "linux", "team-web", "high", True, [], (2, 1, 0)),
            ("tracking-api", "linux", "team-fleet", "high", False, [], (2, 1, 1)),
            ("route-planner", "linux", "team-fleet", "moderate", False, [], (1, 1, 1)),
            ("wms-app", "linux", "team-warehouse", "high", False, [], (2, 1, 1)),
            ("wms-db", "linux", "team-warehouse", "high", False, [], (1, 1, 0)),
            ("payments-api", "linux", "team-payments", "high", False, ["pci"], (2, 1, 0)),
            ("payments-db", "linux", "team-payments", "high", False, ["pci"], (1, 1, 0)),
            ("erp-app", "windows", "team-erp", "high", False, ["sox"], (2, 1, 0)),
            ("erp-db", "windows", "team-erp", "high", False, ["sox"], (1, 0, 0)),
            ("sftp-partner", "linux", "team-integration", "moderate", True, [], (1, 0, 0)),
            ("edi-gateway", "linux", "team-integration", "high", False, [], (1, 1, 0)),
            ("kafka", "linux", "team-data", "moderate", False, [], (3, 1, 0)),
            ("etl", "linux", "team-data", "moderate", False, [], (2, 0, 1)),
            ("dwh", "linux", "team-data", "moderate", False, [], (1, 0, 0)),
            ("monitoring", "linux", "team-platform", "moderate", False, [], (2, 0, 0)),
            ("bastion", "linux", "team-platform", "high", False, [], (1, 1, 0)),
            ("dc", "windows", "team-it-infra", "high", False, [], (2, 0, 0)),
            ("fileserver", "windows", "team-it-infra", "moderate", False, [], (2, 0, 0)),
            ("print", "windows", "team-it-infra", "low", False, [], (1, 0, 0)),
            ("confluence", "linux", "team-platform", "moderate", False, [], (1, 0, 0)),
            ("rdgw", "windows", "team-it-infra", "high", True, [], (1, 0, 0)),
        ]
        envs = (("production", "prod", 20), ("staging", "stg", 21), ("development", "dev", 22))
        number = 0
        for role, os_name, owner, crit, exposed, scopes, counts in roles:
            for (env, short, net), count in zip(envs, counts, strict=True):
                for n in range(1, count + 1):
                    number += 1
                    host = f"srv-{role}-{n:02d}"
                    self.add_asset(
                        os_name,
                        id=f"a-srv-{number:03d}",
                        name=f"{host}.{short}.{DOMAIN}",
                        type="server",
                        environment=env,
                        owner=owner,
                        criticality=crit if env == "production" else "low",
                        internet_facing=exposed and env == "production",
                        maintenance_group=f"{os_name}-{'prod' if env == 'production' else 'nonprod'}",
                        compliance_scopes=scopes if env == "production" else [],
                        aliases=[self._ip(net), host],
                        tags=[role, os_name],
                        first_seen_at=self._seen(),
                    )

    def _endpoints(self) -> None:
        for n in range(1, 71):
            windows = self.static.random() < 0.75
            host = f"nw-lap-{n:04d}"
            self.add_asset(
                "windows" if windows else "mac",
                id=f"a-ep-{n:04d}",
                name=host,
                type="endpoint",
                environment="corporate",
                owner="team-it-workplace",
                criticality="low",
                maintenance_group="workstations-win" if windows else "workstations-mac",
                aliases=[f"{host}.corp.{DOMAIN}", f"SN-{self.static.randint(10**7, 10**8 - 1)}"],
                tags=["laptop", "windows" if windows else "macos"],
                first_seen_at=self._seen(1000, 95) if n > 3 else self._seen(-5, -20),
            )

    def _cloud(self) -> None:
        apps = [
            ("analytics", "team-data"),
            ("tracking-ingest", "team-fleet"),
            ("edi-batch", "team-integration"),
            ("ml-eta", "team-ml"),
            ("ci-build", "team-platform"),
            ("shipment-events", "team-fleet"),
        ]
        for n in range(1, 24):
            app, owner = apps[n % len(apps)]
            instance = f"i-0{self.static.getrandbits(64):016x}"
            env = "production" if n % 4 else "staging"
            self.add_asset(
                "linux",
                id=f"a-ec2-{n:03d}",
                name=f"ec2-{app}-{n:02d}",
                type="cloud_workload",
                environment=env,
                owner=owner,
                criticality="moderate",
                maintenance_group="cloud-linux",
                aliases=[
                    instance,
                    f"ip-10-40-{self.static.randint(1, 99)}-{self.static.randint(2, 250)}.eu-west-1.compute.internal",
                ],
                tags=[app, "aws"],
                first_seen_at=self._seen(700, 100),
            )

    def _images_and_functions(self) -> None:
        images = [
            ("tracking-api", "team-fleet", "go"),
            ("route-planner", "team-fleet", "pypi"),
            ("wms-ui", "team-warehouse", "npm"),
            ("wms-core", "team-warehouse", "maven"),
            ("payments-api", "team-payments", "maven"),
            ("customer-portal", "team-web", "npm"),
            ("label-service", "team-warehouse", "pypi"),
            ("eta-model", "team-ml", "pypi"),
            ("edi-translator", "team-integration", "maven"),
            ("notifications", "team-web", "npm"),
            ("inventory-sync", "team-warehouse", "go"),
            ("rate-engine", "team-payments", "go"),
            ("driver-app-api", "team-fleet", "npm"),
            ("reporting", "team-data", "pypi"),
            ("auth-proxy", "team-platform", "go"),
            ("docs-site", "team-platform", "npm"),
        ]
        for n, (app, owner, lang) in enumerate(images, start=1):
            base = "alpine" if lang in ("go", "npm") else "linux"
            self.add_asset(
                f"image:{base}:{lang}",
                id=f"a-img-{n:03d}",
                name=f"registry.{DOMAIN}/{app}:2026.{6 + n % 3}.{n % 5}",
                type="container_image",
                owner=owner,
                criticality="high" if app in ("payments-api", "tracking-api", "customer-portal") else "moderate",
                maintenance_group="k8s-images",
                aliases=[f"sha256:{self.static.getrandbits(256):064x}"],
                tags=[app, lang],
                first_seen_at=self._seen(600, 100),
            )
        functions = [
            ("label-render", "team-warehouse", "pypi"),
            ("pod-webhook", "team-fleet", "npm"),
            ("invoice-pdf", "team-payments", "pypi"),
            ("geo-fence", "team-fleet", "npm"),
            ("edi-split", "team-integration", "pypi"),
            ("customs-docs", "team-integration", "pypi"),
            ("slack-alerts", "team-platform", "npm"),
            ("image-resize", "team-web", "npm"),
            ("rate-quote", "team-payments", "pypi"),
            ("dwh-loader", "team-data", "pypi"),
        ]
        for n, (fn, owner, lang) in enumerate(functions, start=1):
            self.add_asset(
                f"serverless:{lang}",
                id=f"a-fn-{n:03d}",
                name=f"lambda:{fn}",
                type="serverless",
                owner=owner,
                ephemeral=True,
                maintenance_group="serverless",
                aliases=[f"arn:aws:lambda:eu-west-1:111122223333:function:{fn}"],
                tags=[fn, lang],
                first_seen_at=self._seen(500, 100),
            )

    def _network_ot_saas(self) -> None:
        network = [
            ("fw-edge-01", "PAN-OS", True),
            ("fw-edge-02", "PAN-OS", True),
            ("vpn-gw-01", "FortiOS", True),
            ("vpn-gw-02", "FortiOS", True),
            ("dc-fw-01", "FortiOS", False),
            ("dc-fw-02", "FortiOS", False),
            ("core-sw-01", "Cisco IOS XE", False),
            ("core-sw-02", "Cisco IOS XE", False),
            ("dist-sw-01", "Cisco IOS XE", False),
            ("dist-sw-02", "Cisco IOS XE", False),
            ("wlc-01", "ArubaOS", False),
            ("wlc-02", "ArubaOS", False),
            ("wh-sw-01", "Cisco IOS XE", False),
            ("wh-sw-02", "Cisco IOS XE", False),
        ]
        for n, (host, os_name, exposed) in enumerate(network, start=1):
            self.add_asset(
                "network",
                id=f"a-net-{n:03d}",
                name=f"{host}.{DOMAIN}",
                type="network_device",
                owner="team-network",
                criticality="high" if exposed or host.startswith("core") else "moderate",
                internet_facing=exposed,
                maintenance_group="network-core",
                aliases=[self._ip(10), host],
                tags=["network", os_name.split()[0].lower()],
                first_seen_at=self._seen(1200, 200),
            )
        ot = [
            ("plc-sorter-01", "vendor"),
            ("plc-sorter-02", "vendor"),
            ("plc-sorter-03", "vendor"),
            ("plc-conveyor-01", "vendor"),
            ("scanbase-01", "vendor"),
            ("scanbase-02", "vendor"),
            ("hmi-dock-01", "internal"),
            ("hmi-dock-02", "internal"),
            ("nvr-cctv-01", "internal"),
            ("weighbridge-01", "internal"),
        ]
        for n, (host, managed) in enumerate(ot, start=1):
            self.add_asset(
                "ot",
                id=f"a-ot-{n:03d}",
                name=f"{host}.ot.{DOMAIN}",
                type="ot_device",
                environment="production",
                owner="team-ot",
                criticality="high" if host.startswith("plc") else "moderate",
                managed_by=managed,
                maintenance_group="ot-warehouse",
                aliases=[self._ip(30), host],
                tags=["ot", "warehouse-rotterdam"],
                first_seen_at=self._seen(1500, 300),
            )
        saas = [
            ("salesforce", "third_party", "team-sales-ops"),
            ("workday", "third_party", "team-hr-systems"),
            ("microsoft-365", "vendor", "team-it-workplace"),
            ("servicenow", "third_party", "team-it-infra"),
            ("slack", "third_party", "team-it-workplace"),
            ("zendesk", "third_party", "team-support"),
        ]
        for n, (app, managed, owner) in enumerate(saas, start=1):
            self.add_asset(
                "saas",
                id=f"a-saas-{n:03d}",
                name=f"{app}.saas",
                type="saas",
                owner=owner,
                managed_by=managed,
                maintenance_group="saas",
                aliases=[f"{app}.com/northwind"],
                tags=["saas"],
                first_seen_at=self._seen(1500, 300),
            )

    def _nhi_services_and_repos(self) -> None:
        services = [
            ("vault-01", "team-security"),
            ("vault-02", "team-security"),
            ("keycloak-01", "team-identity"),
            ("jenkins-01", "team-platform"),
            ("gha-runner-pool", "team-platform"),
            ("entra-connect-01", "team-identity"),
        ]
        for n, (host, owner) in enumerate(services, start=1):
            self.add_asset(
                "linux",
                id=f"a-nhs-{n:03d}",
                name=f"{host}.{DOMAIN}",
                type="nhi_service",
                owner=owner,
                criticality="high",
                maintenance_group="linux-prod",
                aliases=[self._ip(20), host],
                tags=["identity-plane"],
                first_seen_at=self._seen(900, 200),
            )
        repos = [
            ("tracking-api", "team-fleet", "go"),
            ("wms", "team-warehouse", "maven"),
            ("customer-portal", "team-web", "npm"),
            ("payments", "team-payments", "maven"),
            ("route-planner", "team-fleet", "pypi"),
            ("edi", "team-integration", "maven"),
            ("infra-terraform", "team-platform", "go"),
            ("data-pipelines", "team-data", "pypi"),
            ("driver-app", "team-fleet", "npm"),
            ("label-service", "team-warehouse", "pypi"),
            ("eta-model", "team-ml", "pypi"),
            ("notifications", "team-web", "npm"),
        ]
        for n, (repo, owner, lang) in enumerate(repos, start=1):
            self.add_asset(
                f"repo:{lang}",
                id=f"a-repo-{n:03d}",
                name=f"github.com/northwind/{repo}",
                type="repository",
                owner=owner,
                maintenance_group="repos",
                tags=["github", lang],
                first_seen_at=self._seen(1500, 200),
            )

    def _ephemeral(self) -> None:
        """Pods and autoscaled instances of this quarter; some terminate during it (with records)."""
        rng = self.r("ephemeral")
        images = [a for a in self.assets.values() if a["type"] == "container_image"]
        for n in range(1, 29):
            image = images[n % len(images)]
            app = image["name"].split("/")[1].split(":")[0]
            born = self.start - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 23))
            retired = self.day(rng.randint(20, 80), rng.randint(0, 23)) if n % 5 == 0 else None
            pod = f"{app}-{rng.getrandbits(32):08x}-{rng.getrandbits(20):05x}"
            self.add_asset(
                "pod",
                id=self.ids.new("a-pod", 4),
                name=pod,
                type="container_runtime",
                owner=image["owner"],
                criticality=image["criticality"],
                ephemeral=True,
                lifecycle="retired" if retired else "active",
                retired_at=retired,
                maintenance_group="k8s-workloads",
                parent_image_id=image["id"],
                aliases=[f"prod/{pod}"],
                tags=[app, "k8s"],
                first_seen_at=born,
            )
        for n in range(1, 11):
            born = self.start - timedelta(days=rng.randint(2, 30))
            retired = self.day(rng.randint(25, 75), rng.randint(0, 23)) if n % 3 == 0 else None
            instance = f"i-0{rng.getrandbits(64):016x}"
            self.add_asset(
                "linux",
                id=self.ids.new("a-asg", 4),
                name=f"asg-tracking-ingest-{instance[-6:]}",
                type="cloud_workload",
                owner="team-fleet",
                ephemeral=True,
                lifecycle="retired" if retired else "active",
                retired_at=retired,
                maintenance_group="cloud-asg",
                aliases=[instance],
                tags=["tracking-ingest", "aws", "asg"],
                first_seen_at=born,
            )

    # ------------------------------------------------------------------ coverage

    def scan_tool(self, asset: Record) -> tuple[str, bool, str]:
        """(tool, authenticated, source path) of an asset's routine scans."""
        kind = asset["type"]
        if kind in ("container_image", "container_runtime", "serverless", "repository"):
            tool = {
                "container_image": "trivy",
                "container_runtime": "trivy-operator",
                "serverless": "trivy-lambda",
                "repository": "trivy-repo",
            }[kind]
            return tool, True, "scans/trivy-scans.parquet"
        if kind == "ot_device":
            return "claroty-ctd", False, "scans/tenable-scans.csv"
        if kind == "saas":
            return "adaptive-shield-sspm", True, "scans/tenable-scans.csv"
        return "tenable-nessus-agent", True, "scans/tenable-scans.csv"

    def add_scan(
        self,
        asset: Record,
        when: datetime,
        *,
        authenticated: bool | None = None,
        scope: str = "internal",
        status: str = "completed",
        tool: str | None = None,
    ) -> Record:
        default_tool, default_auth, path = self.scan_tool(asset)
        record = {
            "id": self.ids.new("s"),
            "asset_id": asset["id"],
            "tool": tool or default_tool,
            "authenticated": default_auth if authenticated is None else authenticated,
            "scope": scope,
            "completed_at": when,
            "status": status,
        }
        return self.b.add("scans", record, path)

    def scan_history(self, asset: Record, until: datetime | None = None, every: float = 20.0) -> None:
        """Routine scans: the latest within a week of `until`, then one every ~`every` days."""
        rng = self.r("scans")
        until = until or self.end_of(asset)
        earliest = max(self.start - timedelta(days=20), asset["first_seen_at"] + HOUR)
        when = until - timedelta(hours=rng.randint(6, 140))
        while when > earliest:
            failed = rng.random() < 0.03
            self.add_scan(asset, when, status="failed" if failed else "completed")
            if failed:
                self.add_scan(asset, min(until, when + timedelta(hours=rng.randint(2, 20))))
            when -= timedelta(days=every + rng.uniform(-2, 2))
        if asset["internet_facing"] and asset["type"] != "saas":
            when = until - timedelta(hours=rng.randint(2, 100))
            while when > earliest:
                self.add_scan(asset, when, authenticated=False, scope="external", tool="tenable-was-external")
                when -= timedelta(days=10)

    def observation_source(self, asset: Record) -> tuple[str, str, str] | None:
        """(source tool, source type, path) that discovers an asset, if any."""
        kind = asset["type"]
        if kind in ("server", "endpoint", "nhi_service"):
            return "crowdstrike-falcon", "edr", "discovery/falcon-edr.jsonl"
        if kind in ("cloud_workload", "serverless", "container_image"):
            return "aws-config", "cloud_api", "discovery/cloud-inventory.jsonl"
        if kind == "container_runtime":
            return "kubernetes-api", "kubernetes", "discovery/cloud-inventory.jsonl"
        return None

    def add_observation(
        self, asset_key: str, when: datetime, source: tuple[str, str, str], asset_id: str | None
    ) -> Record:
        tool, source_type, path = source
        record = {
            "id": self.ids.new("o"),
            "asset_key": asset_key,
            "asset_id": asset_id,
            "source": tool,
            "source_type": source_type,
            "observed_at": when,
        }
        return self.b.add("observations", record, path)

    def observation_history(self, asset: Record, until: datetime | None = None) -> None:
        """Sightings every ~12 days and one within the last day before `until`."""
        rng = self.r("observations")
        until = until or self.end_of(asset)
        earliest = max(self.start, asset["first_seen_at"] + HOUR)
        keys = [asset["name"], *asset["aliases"]]
        source = self.observation_source(asset)
        if source:
            when = until - timedelta(hours=rng.randint(1, 20))
            while when > earliest:
                resolved = asset["id"] if rng.random() < 0.7 else None
                self.add_observation(rng.choice(keys), when, source, resolved)
                when -= timedelta(days=rng.uniform(17, 25))
        netscan = self.b.sources["discovery/runzero-netscan.parquet"]
        if asset["type"] in ("server", "network_device", "ot_device") and asset["aliases"]:
            when = min(until, netscan.collected_at - HOUR) - timedelta(hours=rng.randint(1, 48))
            while when > earliest:
                ip = asset["aliases"][0]
                self.add_observation(ip, when, ("runzero", "network", netscan.path), None)
                when -= timedelta(days=rng.uniform(20, 28))

    def cover(self, asset: Record) -> None:
        """Routine scans and sightings of an asset."""
        if not self.alive(asset):
            return
        if asset["type"] != "saas" or asset["managed_by"] != "internal":
            self.scan_history(asset)
        self.observation_history(asset)

    # ------------------------------------------------------------------ SLA (upper bounds)

    def due_days(self, asset: Record, vuln: Vuln, ssvc: dict[str, str]) -> float:
        """The strictest plausible remediation window, in days from detection (non-KEV)."""
        exposed = bool(asset["internet_facing"])
        sev = vuln.severity
        days = [{"critical": 30, "high": 30, "medium": 90, "low": 180}[sev]]
        if exposed and sev == "critical":
            days += [10, 15]
        if exposed and sev == "high":
            days.append(30)
        automatable = ssvc.get("ssvc_automatable") == "yes"
        total = ssvc.get("ssvc_technical_impact") != "partial"
        if exposed and automatable:
            days.append(3 if total else 14)
        elif exposed:
            days.append(14 if total else 60)
        elif automatable:
            days.append(60)
        return float(min(days))

    def ssvc_for(self, asset: Record, vuln: Vuln, rng: random.Random) -> dict[str, str]:
        if vuln.kev:
            return {
                "ssvc_exploitation": "active",
                "ssvc_automatable": rng.choice(["yes", "no"]),
                "ssvc_technical_impact": "total",
            }
        impact = "partial" if asset["internet_facing"] else rng.choice(["partial", "total"])
        exploitation = "poc" if vuln.epss > 0.1 else "none"
        return {"ssvc_exploitation": exploitation, "ssvc_automatable": "no", "ssvc_technical_impact": impact}

    # ------------------------------------------------------------------ records

    def finding_source(self, asset: Record) -> str:
        if asset["type"] in ("container_image", "container_runtime", "serverless", "repository"):
            return "findings/trivy-containers.jsonl"
        return "findings/tenable-vm.jsonl"

    def add_finding(
        self,
        asset: Record,
        vuln: Vuln,
        t0: datetime,
        *,
        state: str = "open",
        last_seen: datetime | None = None,
        closed_at: datetime | None = None,
        ssvc: dict[str, str] | None = None,
        patch_released: datetime | None = None,
        path: str | None = None,
        source: str | None = None,
    ) -> Record:
        rng = self.r("finding-fields")
        if vuln.vuln_id in self.vulns_on[asset["id"]] and path is None:
            raise ValueError(f"{vuln.vuln_id} already on {asset['id']}")
        self.vulns_on[asset["id"]].add(vuln.vuln_id)
        self.used_vulns[vuln.vuln_id] = vuln
        ssvc = ssvc or self.ssvc_for(asset, vuln, rng)
        path = path or self.finding_source(asset)
        record: Record = {
            "id": self.ids.new("f"),
            "asset_id": asset["id"],
            "vuln_id": vuln.vuln_id,
            "package": vuln.package,
            "installed_version": vuln.installed,
            "fixed_version": vuln.fixed,
            "severity": vuln.severity,
            "cvss_vector": vuln.vector,
            "cvss_score": vuln.score,
            "kev": vuln.kev,
            "kev_date_added": vuln.kev_added,
            "kev_due_date": vuln.kev_due,
            "epss": vuln.epss,
            **{k: v for k, v in ssvc.items() if v != "none"},
            "first_detected_at": t0,
            "last_seen_at": last_seen or t0,
            "patch_released_at": patch_released,
            "state": state,
            "closed_at": closed_at,
            "source": source or ("trivy" if "trivy" in path else "tenable"),
        }
        return self.b.add("findings", record, path)

    def deploy_tool(self, asset: Record) -> tuple[str, str]:
        """(tool, source path) that patches an asset."""
        kind, platform = asset["type"], self.platform[asset["id"]]
        if kind == "endpoint":
            return ("intune" if platform == "windows" else "jamf"), "deployments/intune-endpoints.csv"
        if kind in ("container_image", "container_runtime"):
            return "argocd", "deployments/argocd-syncs.csv"
        if kind == "serverless":
            return "github-actions", "deployments/argocd-syncs.csv"
        if kind == "repository":
            return "dependabot", "deployments/argocd-syncs.csv"
        if kind in ("network_device", "ot_device"):
            return "ansible", "deployments/patch-jobs.csv"
        return ("sccm" if platform == "windows" else "ssm"), "deployments/patch-jobs.csv"

    def change_ref(self, asset: Record, when: datetime) -> str:
        rng = self.r("change-refs")
        if asset["type"] == "endpoint":
            return f"STD-CHG-WKS-{when.year}-{when.month:02d}"
        if asset["type"] == "repository":
            return f"{asset['name']}/pull/{rng.randint(200, 4000)}"
        return f"CHG00{rng.randint(41000, 49999)}"

    def patch_id(self, asset: Record, findings: list[Record]) -> str:
        if asset["type"] in ("container_image", "container_runtime"):
            return (
                asset["name"].split(":")[0]
                + f":{self.clock.start.year}.{self.r('tags').randint(7, 9)}.{self.r('tags').randint(1, 30)}"
            )
        versions = sorted({f"{f['package']}={f['fixed_version']}" for f in findings})
        return versions[0] if len(versions) == 1 else f"{versions[0]} (+{len(versions) - 1} more)"

    def add_deployment(
        self,
        asset: Record,
        findings: list[Record],
        started: datetime,
        *,
        minutes: int | None = None,
        status: str = "succeeded",
        change_ref: str | bool | None = True,
        vuln_ids: list[str] | None = None,
    ) -> Record:
        tool, path = self.deploy_tool(asset)
        completed = started + timedelta(minutes=minutes or self.r("durations").randint(8, 95))
        ref = self.change_ref(asset, started) if change_ref is True else (change_ref or None)
        record: Record = {
            "id": self.ids.new("d"),
            "asset_id": asset["id"],
            "patch_id": self.patch_id(asset, findings),
            "finding_ids": [] if vuln_ids else [f["id"] for f in findings],
            "vuln_ids": vuln_ids or [],
            "change_ref": ref,
            "started_at": started,
            "completed_at": completed,
            "status": status,
            "tool": tool,
        }
        return self.b.add("deployments", record, path)

    def verify_method(self, asset: Record) -> tuple[str, str]:
        kind = asset["type"]
        rng = self.r("methods")
        if kind in ("container_image", "container_runtime", "serverless"):
            return "image_rescan", f"trivy:{rng.getrandbits(48):012x}"
        if kind == "endpoint":
            return "agent_inventory", f"falcon-spotlight:{rng.getrandbits(40):010x}"
        if kind in ("network_device", "ot_device", "repository"):
            return "version_check", f"ver-check-{rng.randint(10000, 99999)}"
        return "authenticated_rescan", f"tenable-scan-{rng.randint(4_000_000, 4_999_999)}"

    def add_verification(
        self,
        asset: Record,
        finding: Record,
        observed: datetime,
        *,
        result: str = "not_vulnerable",
        deployment: Record | None = None,
        by_vuln: bool = False,
        method: str | None = None,
    ) -> Record:
        default_method, ref = self.verify_method(asset)
        record: Record = {
            "id": self.ids.new("v"),
            "asset_id": asset["id"],
            "finding_id": None if by_vuln else finding["id"],
            "vuln_id": finding["vuln_id"] if by_vuln else None,
            "deployment_id": deployment["id"] if deployment else None,
            "method": method or default_method,
            "result": result,
            "observed_at": observed,
            "evidence_ref": ref,
        }
        return self.b.add("verifications", record)

    def close(self, finding: Record, verified: datetime, last_vulnerable: datetime) -> None:
        rng = self.r("closures")
        finding["state"] = "closed"
        finding["closed_at"] = min(self.cap, verified + timedelta(minutes=rng.randint(0, 240)))
        finding["last_seen_at"] = max(finding["first_detected_at"], last_vulnerable)

    # ------------------------------------------------------------------ bulk lifecycle

    def pick_vulns(self, asset: Record, count: int, rng: random.Random) -> list[Vuln]:
        platform = self.platform[asset["id"]]
        pools = {
            "linux": ["linux"],
            "windows": ["windows"],
            "mac": ["endpoint"],
            "network": ["network"],
            "ot": ["ot"],
            "pod": ["linux"],
        }
        if platform.startswith("image:"):
            _, base, lang = platform.split(":")
            names = [base, lang]
        elif platform.startswith(("serverless:", "repo:")):
            names = [platform.split(":")[1]]
        elif asset["type"] == "endpoint" and platform == "windows":
            names = ["windows", "endpoint"]
        else:
            names = pools[platform]
        pool = [v for v in self.cat.pool(names) if v.vuln_id not in self.vulns_on[asset["id"]]]
        return rng.sample(pool, min(count, len(pool)))

    def category(self, asset: Record, vuln: Vuln, rng: random.Random) -> str:
        p = self.profile
        if asset["internet_facing"] or asset["type"] in ("network_device", "ot_device"):
            return "fixed" if rng.random() > p.open_share else "open"
        if vuln.severity in ("critical", "high"):
            return "fixed" if rng.random() > p.open_share else "open"
        roll = rng.random()
        if roll < p.unverified:
            return "unverified"
        if roll < p.unverified + p.still_vulnerable:
            return "still_vulnerable"
        if roll < p.unverified + p.still_vulnerable + p.open_share:
            return "open"
        return "fixed"

    def window(self, asset: Record, cat: str, due: float) -> tuple[datetime, datetime]:
        """When a finding of this category may be first detected."""
        born = asset["first_seen_at"] + HOUR
        end = self.end_of(asset)
        if cat == "fixed":
            lo = max(born, self.start - timedelta(days=min(20.0, 0.3 * due)))
            return lo, end - timedelta(days=6)
        if cat in ("unverified", "still_vulnerable"):
            lo = max(born, self.start + DAY / 2, self.as_of - timedelta(days=due - 2))
            return lo, min(end, self.start + timedelta(days=54))
        lo = max(born, self.start - timedelta(days=60), self.as_of - timedelta(days=due - 1.5))
        return lo, end - HOUR

    def plan(self, asset: Record, vuln: Vuln, rng: random.Random) -> tuple[Plan, dict[str, str]] | None:
        ssvc = self.ssvc_for(asset, vuln, rng)
        due = self.due_days(asset, vuln, ssvc)
        for cat in (self.category(asset, vuln, rng), "open"):
            lo, hi = self.window(asset, cat, due)
            if lo <= hi:
                return Plan(vuln, cat, uniform_time(rng, lo, hi), due), ssvc
        return None

    def cycles(self, asset: Record, rng: random.Random) -> list[datetime]:
        platform = self.platform[asset["id"]]
        key = platform.split(":")[0]
        key = {"mac": "windows", "pod": "image", "repo": "repo"}.get(key, key)
        every = CADENCE.get(key, 7)
        first = self.start - timedelta(days=30) + timedelta(hours=rng.randint(0, every * 24))
        slots = []
        when = first
        while when < self.cap:
            slots.append(when.replace(hour=rng.choice([1, 2, 3, 21, 22, 23]), minute=0, second=0))
            when += timedelta(days=every)
        return slots

    def slot_for(self, asset: Record, plan: Plan, slots: list[datetime], rng: random.Random) -> tuple[datetime, bool]:
        """The patch cycle that fixes a finding in time, or an out-of-band slot."""
        deadline = plan.t0 + timedelta(days=0.8 * plan.due_days)
        for slot in slots:
            if slot < max(plan.t0 + timedelta(hours=6), self.start + DAY / 2):
                continue
            if slot + timedelta(days=5) <= deadline and slot <= self.end_of(asset) - timedelta(days=3):
                return slot, True
        base = max(plan.t0, self.start) + timedelta(hours=rng.randint(6, 36))
        return base, False

    def bulk_findings(self, asset: Record, count: int) -> None:
        """Findings of one asset and their fixes."""
        rng = self.r("lifecycle")
        groups: dict[datetime, list[tuple[Plan, dict[str, str]]]] = {}
        cycle_slots = self.cycles(asset, rng)
        for vuln in self.pick_vulns(asset, count, rng):
            planned = self.plan(asset, vuln, rng)
            if planned is None:
                continue
            plan, ssvc = planned
            if plan.category == "fixed":
                slot, in_cycle = self.slot_for(asset, plan, cycle_slots, rng)
                key = slot if in_cycle else slot + timedelta(seconds=len(groups) + 1)
                groups.setdefault(key, []).append((plan, ssvc))
            elif plan.category == "open":
                last = min(self.end_of(asset), plan.t0 + timedelta(days=rng.uniform(0, 30)))
                self.add_finding(asset, vuln, plan.t0, last_seen=last, ssvc=ssvc)
            else:
                self.deployed_unresolved(asset, plan, ssvc, rng)
        for slot, members in sorted(groups.items()):
            self.fixed_group(asset, slot.replace(second=0), members, rng)

    def fixed_group(
        self, asset: Record, slot: datetime, members: list[tuple[Plan, dict[str, str]]], rng: random.Random
    ) -> None:
        """One deployment fixes several findings; verified by one rescan (maybe after a retry)."""
        findings = []
        for plan, ssvc in members:
            released = None
            if rng.random() < 0.3 and not asset["internet_facing"]:
                released = plan.t0 - timedelta(days=rng.uniform(0, 4))
            findings.append(self.add_finding(asset, plan.vuln, plan.t0, ssvc=ssvc, patch_released=released))
        start = slot
        if rng.random() < self.profile.retry:
            status = rng.choices(["failed", "pending_reboot", "partial"], [55, 30, 15])[0]
            first = self.add_deployment(asset, findings, start, status=status)
            gap = timedelta(hours=rng.randint(1, 12) if status == "pending_reboot" else rng.randint(4, 40))
            start = first["completed_at"] + gap
            if status == "failed" and rng.random() < 0.5:
                self.failed_rollout_event(asset, first, findings, rng)
        dep = self.add_deployment(asset, findings, start)
        observed = dep["completed_at"] + timedelta(minutes=rng.randint(60, 36 * 60))
        observed = min(observed, self.end_of(asset))
        by_vuln = rng.random() < 0.08
        for f in findings:
            if rng.random() < 0.06:
                early = dep["completed_at"] + timedelta(minutes=rng.randint(20, 50))
                self.add_verification(
                    asset, f, min(early, observed - timedelta(minutes=5)), result="inconclusive", deployment=dep
                )
            linked = dep if rng.random() < 0.8 else None
            self.add_verification(asset, f, observed, deployment=linked, by_vuln=by_vuln)
            if f["patch_released_at"] and observed - f["patch_released_at"] > timedelta(days=25):
                f["patch_released_at"] = None
            self.close(f, observed, dep["started_at"] - timedelta(hours=rng.randint(1, 48)))

    def deployed_unresolved(self, asset: Record, plan: Plan, ssvc: dict[str, str], rng: random.Random) -> None:
        """A successful deployment never verified, or whose rescan is still vulnerable."""
        finding = self.add_finding(asset, plan.vuln, plan.t0, ssvc=ssvc)
        started = plan.t0 + timedelta(hours=rng.randint(20, 120))
        dep = self.add_deployment(asset, [finding], started)
        finding["last_seen_at"] = max(plan.t0, started - timedelta(hours=rng.randint(1, 20)))
        if plan.category == "unverified":
            self.plants.flag(
                "VER-01",
                "deployments",
                dep["id"],
                "succeeded, never verified",
            )
            return
        observed = dep["completed_at"] + timedelta(minutes=rng.randint(120, 72 * 60))
        self.add_verification(asset, finding, observed, result="vulnerable", deployment=dep)
        finding["last_seen_at"] = observed
        self.plants.flag(
            "VER-02",
            "deployments",
            dep["id"],
            "succeeded, rescan still vulnerable",
        )
        if rng.random() < self.profile.refix:
            again = observed + timedelta(days=rng.uniform(1, 10))
            if again < self.end_of(asset) - timedelta(days=3):
                second = self.add_deployment(asset, [finding], again)
                checked = second["completed_at"] + timedelta(minutes=rng.randint(60, 36 * 60))
                self.add_verification(asset, finding, checked, deployment=second)
                self.close(finding, checked, observed)

    def failed_rollout_event(self, asset: Record, dep: Record, findings: list[Record], rng: random.Random) -> Record:
        occurred = dep["completed_at"] + timedelta(minutes=rng.randint(5, 60))
        return self.add_event(
            "failed_rollout",
            occurred,
            reassessed=occurred + timedelta(minutes=rng.randint(60, 600)),
            deployment_ids=[dep["id"]],
            asset_ids=[asset["id"]],
            finding_ids=[f["id"] for f in findings],
            change_ref=dep["change_ref"],
            description=f"{dep['tool']} job failed on {asset['name']}; retried in the next window",
        )

    def add_event(self, type_: str, occurred: datetime, *, reassessed: datetime | None = None, **fields: Any) -> Record:
        rng = self.r("events")
        record: Record = {
            "id": self.ids.new("r", 4),
            "type": type_,
            "change_ref": fields.pop("change_ref", None) or f"CHG00{rng.randint(41000, 49999)}",
            "deployment_ids": fields.pop("deployment_ids", []),
            "asset_ids": fields.pop("asset_ids", []),
            "finding_ids": fields.pop("finding_ids", []),
            "occurred_at": occurred,
            "reassessed_at": reassessed,
            "reassessment_ref": fields.pop("reassessment_ref", None)
            or (f"PIR-{rng.randint(1000, 9999)}" if reassessed else None),
            "permanent_fix_ref": fields.pop("permanent_fix_ref", None),
            "description": fields.pop("description", None),
        }
        if fields:
            raise ValueError(f"unknown event fields {sorted(fields)}")
        return self.b.add("rollout_events", record)

    def kev_fixes(self) -> None:
        """KEV entries added during the period, fixed within two days on every affected asset."""
        rng = self.r("kev")
        for vuln in self.cat.new_kev:
            added = datetime(vuln.kev_added.year, vuln.kev_added.month, vuln.kev_added.day, tzinfo=UTC)
            if added > self.cap - timedelta(days=4) or added < self.start:
                continue
            candidates = [a for a in self.assets.values() if self._kev_target(a, vuln, added)]
            for asset in rng.sample(candidates, min(len(candidates), rng.randint(4, 12))):
                self.kev_fix(asset, vuln, added, rng)

    def _kev_target(self, asset: Record, vuln: Vuln, added: datetime) -> bool:
        if asset["id"] in self.reserved or asset["id"] in self.linked:
            return False
        if asset["first_seen_at"] > added or self.end_of(asset) < added + timedelta(days=3):
            return False
        platform = self.platform[asset["id"]]
        if vuln.platform == "endpoint":
            return asset["type"] == "endpoint"
        if vuln.platform == "windows":
            return platform == "windows"
        if vuln.platform == "network":
            return asset["type"] == "network_device" and "fortios" in asset["tags"]
        return platform == "linux" and asset["type"] == "server"

    def kev_fix(self, asset: Record, vuln: Vuln, added: datetime, rng: random.Random) -> Record:
        t0 = added + timedelta(minutes=rng.randint(120, 20 * 60))
        ssvc = self.ssvc_for(asset, vuln, rng)
        finding = self.add_finding(asset, vuln, t0, ssvc=ssvc)
        dep = self.add_deployment(asset, [finding], t0 + timedelta(minutes=rng.randint(120, 16 * 60)))
        observed = dep["completed_at"] + timedelta(minutes=rng.randint(60, 8 * 60))
        self.add_verification(asset, finding, observed, deployment=dep)
        self.close(finding, observed, dep["started_at"] - HOUR)
        return finding

    def bulk(self) -> None:
        """Findings and fixes over the whole estate."""
        per_type = {
            "server": 15,
            "endpoint": 7,
            "cloud_workload": 10,
            "container_image": 26,
            "serverless": 5,
            "network_device": 3,
            "ot_device": 3,
            "repository": 9,
            "nhi_service": 6,
        }
        rng = self.r("counts")
        for asset in list(self.assets.values()):
            base = per_type.get(asset["type"])
            if not base or asset["id"] in self.reserved or not self.alive(asset):
                continue
            if asset["ephemeral"] and asset["type"] == "cloud_workload":
                base = 3
            count = max(1, round(base * self.profile.findings_scale * rng.uniform(0.6, 1.4)))
            self.bulk_findings(asset, count)
        self.kev_fixes()
