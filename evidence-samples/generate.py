"""Generate every sample evidence bundle, the expectations of the planted gaps and the READMEs.

Run from the repository root:  .venv/bin/python evidence-samples/generate.py [--out DIR]

Deterministic: seeded `random.Random` streams, no wall clock; re-running gives identical bytes.
After building a bundle with planted gaps, the generator evaluates every control with the
reference reading in `oracle.py` and fails unless the records it would flag are exactly the ones
the Plant registry recorded, so the expectations file is exhaustive by construction.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import gen_showcase  # noqa: E402
from gen_core import Bundle, Clock, Meta, Plants  # noqa: E402
from gen_docs import Summary, samples_readme  # noqa: E402
from gen_expect import cross_check, evidence_of, expectations  # noqa: E402
from gen_native import import_tool_files, plan_tool_files  # noqa: E402
from gen_nhi import (  # noqa: E402
    build_agents,
    build_controls,
    build_identities,
    build_intel,
    bulk_events,
    bulk_exceptions,
    bulk_exposures,
)
from gen_plants import plant_all  # noqa: E402
from gen_small import small_bundles  # noqa: E402
from gen_tools import LARKSPUR, tools_quarter, tools_readme  # noqa: E402
from gen_world import Profile, World  # noqa: E402
from gen_writers import dump_yaml, render_bundle  # noqa: E402
from oracle import Oracle  # noqa: E402

GENERATED = (
    "northwind-2026-q3",
    "northwind-2026-q2",
    gen_showcase.NAME,
    "expectations",
    "minimal",
    "incomplete",
    "broken",
    "warnings",
    LARKSPUR,
)

POLICY: dict[str, Any] = {
    "policy_version": 1,
    "name": "Northwind Logistics vulnerability and NHI policy 2026",
    "sla": {
        "rules": [
            {
                "id": "NW-EDGE-CRIT-10",
                "title": "Critical findings on internet-facing assets within 10 days",
                "source": "Northwind Vulnerability Management Standard v3.2 §4.2 (organisation rule)",
                "match": {"internet_facing": True, "severity": ["critical"]},
                "days": 10,
            },
            {
                "id": "NW-CRIT-HIGH-30",
                "title": "Critical and high findings within 30 days",
                "source": "Northwind Vulnerability Management Standard v3.2 §4.1; PCI DSS 6.3.3, FedRAMP RA-5(d) High",
                "match": {"severity": ["critical", "high"]},
                "days": 30,
            },
            {
                "id": "NW-MEDIUM-90",
                "title": "Medium findings within 90 days",
                "source": "Northwind Vulnerability Management Standard v3.2 §4.1; FedRAMP RA-5(d) Moderate",
                "match": {"severity": ["medium"]},
                "days": 90,
            },
            {
                "id": "NW-LOW-180",
                "title": "Low findings within 180 days",
                "source": "Northwind Vulnerability Management Standard v3.2 §4.1; FedRAMP RA-5(d) Low",
                "match": {"severity": ["low"]},
                "days": 180,
            },
        ]
    },
}

NORTHWIND = Meta(
    organisation="Northwind Logistics",
    scope="All production and corporate IT, the Rotterdam warehouse OT network and AWS accounts 1111-2222 (eu-west-1)",
    prepared_by={"name": "Eva Smit", "role": "Vulnerability Management Lead", "email": "eva.smit@northwind.example"},
    reviewed_by={"name": "Pieter Bakker", "role": "Internal Audit", "email": "pieter.bakker@northwind.example"},
    classification="Confidential",
    policy=POLICY,
)

Q3 = Profile(
    "northwind-2026-q3",
    "northwind-2026-q3",
    20000,
    1.0,
    unverified=0.4,
    still_vulnerable=0.12,
    refix=0.3,
    retry=0.1,
    open_share=0.2,
    tool_files=True,
)
Q2 = Profile(
    "northwind-2026-q2",
    "northwind-2026-q2",
    10000,
    0.7,
    unverified=0.5,
    still_vulnerable=0.15,
    refix=0.2,
    retry=0.12,
    open_share=0.22,
)


def build_northwind(profile: Profile, clock: Clock, scratch: Path) -> tuple[Bundle, Plants, World]:
    """One Northwind quarter: the clean world, then the planted situations (and the tool files,
    read through their importers, when the profile has them)."""
    bundle = Bundle(profile.name, clock, NORTHWIND)
    plants = Plants()
    world = World(bundle, plants, profile)
    world.setup_sources()
    world.build_inventory()
    build_identities(world)
    build_agents(world)
    for asset in list(world.assets.values()):
        world.cover(asset)
    world.bulk()
    controls = build_controls(world)
    bulk_exceptions(world, controls)
    bulk_exposures(world)
    bulk_events(world)
    plant_all(world)
    if profile.tool_files:
        plan_tool_files(world)
    build_intel(world)
    if profile.tool_files:
        import_tool_files(world, scratch)
    return bundle, plants, world


def headline(bundle: Bundle, files: dict[str, bytes]) -> dict[str, Any]:
    """Activity versus verified outcome of a generated bundle, for the README."""
    evidence = evidence_of(bundle, files)
    oracle = Oracle(evidence)
    deployments = evidence.kind("deployments")
    succeeded = [d for d in deployments if d.status == "succeeded"]
    # E2 counts finding-instances (asset x vulnerability), as the engine does: two scanners'
    # findings of the same vulnerability on the same asset are one exposure, fixed once.
    findings = {f.id: f for f in evidence.kind("findings")}
    instance: dict[str, tuple[str, str]] = {fid: (f.asset_id, f.vuln_id) for fid, f in findings.items()}
    targeted = {instance[fid] for d in succeeded for fid in oracle.targets(d)}
    fixed = {instance[fid] for fid in findings if instance[fid] in targeted and oracle.fixed_at(fid)}
    open_ch = [f for f in evidence.kind("findings") if f.severity in ("critical", "high") and oracle.is_open(f.id)]
    exposed = [f for f in open_ch if oracle.assets[f.asset_id].internet_facing]

    def pct(part: int, whole: int) -> str:
        return f"{part:,} of {whole:,} ({100 * part / whole:.0f} %)"

    return {
        "assets": f"{len(evidence.kind('assets')):,}",
        "findings": f"{len(evidence.kind('findings')):,}",
        "deployments": f"{len(deployments):,}",
        "e1": pct(len(succeeded), len(deployments)),
        "e2": pct(len(fixed), len(targeted)),
        "open_ch": f"{len(open_ch):,}",
        "open_exposed": f"{len(exposed):,}",
        "verifications": f"{len(evidence.kind('verifications')):,}",
        "identities": f"{len(evidence.kind('identities')):,}",
        "exceptions": f"{len(evidence.kind('exceptions')):,}",
    }


# Audit framing of the quick-start quarter (docs/bundle-format.md, "Audit framing"): what bundle.yaml
# adds to the writers' manifest, and the management responses file it names.
RESPONSES_FILE = "management-responses.yaml"
FRAMING: dict[str, Any] = {
    "approved_by": {
        "name": "Sanne de Vries",
        "role": "Chief Information Security Officer",
        "email": "sanne.devries@northwind.example",
    },
    "document": {
        "version": "1.0",
        "status": "final",
        "distribution": [
            {"name": "Sanne de Vries", "role": "Chief Information Security Officer"},
            {"name": "Pieter Bakker", "role": "Internal Audit"},
            {"name": "Audit and Risk Committee", "role": "Board committee"},
            {"name": "PCI DSS assessor (QSA)", "role": "External assessment"},
        ],
    },
    "scope_exclusions": [
        {
            "item": "Building-management systems of the Rotterdam warehouse (HVAC, access control)",
            "reason": "Operated and patched by the landlord under contract; covered by the landlord's ISAE 3402 "
            "report, not by Northwind evidence.",
            "approved_by": "Sanne de Vries, CISO",
        },
        {
            "item": "Employee-owned mobile devices (BYOD)",
            "reason": "Not patched by Northwind; they reach corporate data only through Intune app protection, "
            "which blocks outdated OS versions.",
            "approved_by": "Sanne de Vries, CISO",
        },
        {
            "item": "AWS sandbox accounts outside 1111-2222",
            "reason": "Hold no production or customer data and are rebuilt from templates every week.",
        },
    ],
    "assertions": [
        {
            "statement": "The CMDB export (inventory/cmdb-assets.csv) is the complete population of in-scope "
            "assets at the end of the period.",
            "by": "Head of IT Operations",
        },
        {
            "statement": "Every evidence file in the bundle is an unaltered export from the system named for it, "
            "extracted as described in its extraction note.",
            "by": "Eva Smit, Vulnerability Management Lead",
        },
        {
            "statement": "All exceptions to the vulnerability management standard granted or in force during the "
            "period are recorded in the risk register (exceptions/risk-register.yaml).",
            "by": "Sanne de Vries, CISO",
        },
    ],
}
# How each export was produced and checked; runZero has no note on purpose (the report says so).
EXTRACTION: dict[str, dict[str, str]] = {
    "inventory/cmdb-assets.csv": {
        "method": "Scheduled ServiceNow report 'VM scope - all CIs' exported to CSV",
        "by": "IT Operations (service account svc-cmdb-export)",
        "query": "cmdb_ci_computer, cmdb_ci_server, cmdb_ci_appl, cmdb_ci_cloud; operational_status != retired",
        "tool_version": "ServiceNow Washington DC",
        "completeness": "Row count compared with the CI count the CMDB dashboard shows at export time",
    },
    "discovery/falcon-edr.jsonl": {
        "method": "Falcon Hosts API, paged export of every host seen in the last 30 days",
        "by": "Security Operations",
        "tool_version": "Falcon API v2",
        "completeness": "Host count compared with the Falcon console total for the same filter",
    },
    "discovery/cloud-inventory.jsonl": {
        "method": "AWS Config advanced query and kubectl get across every cluster",
        "by": "Platform Engineering",
        "query": "SELECT resourceId, resourceType WHERE resourceType IN (EC2::Instance, Lambda::Function, ...)",
        "completeness": "Resource counts per account compared with the AWS Config aggregator dashboard",
    },
    "scans/tenable-scans.csv": {
        "method": "Tenable.io scan history export (Scans API)",
        "by": "Vulnerability Management",
        "tool_version": "Tenable.io 2026-09",
        "completeness": "Every scan schedule of the period appears at least once; counted against the scheduler",
    },
    "scans/trivy-scans.parquet": {
        "method": "Trivy Operator VulnerabilityReports and CI scan logs collected by the nightly job",
        "by": "Platform Engineering",
        "completeness": "One report per running workload, compared with the cluster's workload count",
    },
    "findings/tenable-vm.jsonl": {
        "method": "Tenable.io vulnerability export API (vulns/export), all states",
        "by": "Vulnerability Management",
        "query": "since=2026-07-01, state=open,reopened,fixed",
        "tool_version": "Tenable.io 2026-09",
        "completeness": "Export chunk count and total matched the export status the API reports",
    },
    "findings/trivy-containers.jsonl": {
        "method": "Trivy findings of images, functions and repositories, merged by the nightly job",
        "by": "Platform Engineering",
        "completeness": "Every image digest running in production has a report",
    },
    "deployments/patch-jobs.csv": {
        "method": "SSM Patch Manager, SCCM and Ansible job logs merged by the patch-reporting job",
        "by": "IT Operations",
        "completeness": "Job counts per tool compared with each tool's own history view",
    },
    "deployments/intune-endpoints.csv": {
        "method": "Intune and Jamf deployment reports exported to CSV (local time, CEST)",
        "by": "IT Workplace",
        "completeness": "Device count compared with the Intune and Jamf compliance dashboards",
    },
    "deployments/argocd-syncs.csv": {
        "method": "Argo CD sync history and Lambda release log, exported by script",
        "by": "Platform Engineering",
    },
    "verifications/rescans.jsonl": {
        "method": "Post-patch rescans and version checks recorded by the verification job",
        "by": "Vulnerability Management",
        "completeness": "Every successful deployment of the period was queued for a rescan; queue length compared",
    },
    "exceptions/risk-register.yaml": {
        "method": "Archer risk register, exceptions module, exported as YAML",
        "by": "GRC team",
        "query": "Exception records in force at any time during the period",
        "completeness": "Record count compared with the Archer report total",
    },
    "exceptions/compensating-controls.csv": {
        "method": "Archer control library export of the controls linked to exceptions",
        "by": "GRC team",
    },
    "changes/rollout-events.json": {
        "method": "ServiceNow change and incident export (Table API)",
        "by": "IT Operations",
        "query": "change_request and incident with a patching or rollback category, opened in the period",
    },
    "identities/nhi-inventory.csv": {
        "method": "Vault, AWS IAM, Entra ID and GitHub machine identities merged by the NHI inventory job",
        "by": "Identity and Access Management",
        "completeness": "Identity counts per system compared with each system's own listing",
    },
    "secrets/secret-scanner.jsonl": {
        "method": "GitGuardian incidents API and trufflehog scheduled scans",
        "by": "Security Operations",
    },
    "agents/ai-agents.yaml": {"method": "AI agent registry export", "by": "Platform Engineering"},
    "intel/known_exploited_vulnerabilities.json": {
        "method": "CISA KEV feed, sliced to the CVEs in scope",
        "tool_version": "KEV catalog of 2026-09-30",
    },
    "intel/epss_scores-2026-09-30.csv": {"method": "FIRST EPSS daily scores, sliced to the CVEs in scope"},
    "scans/trivy-payments-api.json": {"method": "Nightly CI job: trivy image --format json", "tool_version": "0.56"},
    "scans/trivy-notifications.json": {"method": "Nightly CI job: trivy image --format json", "tool_version": "0.56"},
    "secrets/gitleaks-infra-terraform.json": {
        "method": "Scheduled gitleaks detect of the infra-terraform repository",
        "tool_version": "8.21",
    },
}
# Management's responses to some plan items; the others stay "no management response". PRI-03 is
# past due at the as-of date on purpose.
RESPONSES: list[dict[str, Any]] = [
    {
        "control": "PRI-03",
        "owner": "Web Platform team (lead: Joris Hendriks)",
        "target_date": "2026-09-15",
        "status": "in-progress",
        "response": "Internet-facing KEV findings are patched in the emergency window; the remaining two hosts "
        "need a vendor appliance upgrade scheduled with the supplier.",
    },
    {
        "control": "PRI-02",
        "owner": "Network team (lead: Fatima el Amrani)",
        "target_date": "2026-11-30",
        "status": "agreed",
        "response": "KEV remediation moves to a 7-day emergency change process from November.",
    },
    {
        "control": "NHI-02",
        "owner": "Identity and Access Management (Lotte Jansen)",
        "target_date": "2026-10-31",
        "status": "in-progress",
        "response": "Leaked secrets still valid are being rotated; rotation is now triggered automatically by "
        "GitGuardian incidents.",
    },
    {
        "control": "VER-02",
        "owner": "Vulnerability Management (Eva Smit)",
        "target_date": "2026-12-31",
        "status": "agreed",
        "response": "Failed patches found by rescans are re-queued automatically; a weekly review closes the backlog.",
    },
    {
        "control": "VER-01",
        "owner": "Vulnerability Management (Eva Smit)",
        "target_date": "2027-01-31",
        "status": "agreed",
        "response": "Rescans after every patch window are added to the Tenable schedule for all asset groups.",
    },
    {
        "control": "EXC-03",
        "owner": "GRC team (Noor Visser)",
        "target_date": "2026-12-15",
        "status": "risk-accepted",
        "response": "The expired exceptions are renewed or closed at the December risk committee.",
    },
]


def add_framing(
    files: dict[str, bytes], framing: dict[str, Any] = FRAMING, responses_of: list[dict[str, Any]] = RESPONSES
) -> None:
    """Add the audit framing to a rendered quarter: the optional bundle.yaml fields, an extraction
    note per source, and the management responses file with its hash."""
    manifest = yaml.safe_load(files["bundle.yaml"])
    responses = dump_yaml({"responses_version": 1, "responses": responses_of})
    files[RESPONSES_FILE] = responses
    framed = {k: v for k, v in manifest.items() if k != "sources"} | framing
    framed["management_responses"] = RESPONSES_FILE
    framed["management_responses_sha256"] = hashlib.sha256(responses).hexdigest()
    framed["sources"] = [
        s | ({"extraction": EXTRACTION[s["path"]]} if s["path"] in EXTRACTION else {}) for s in manifest["sources"]
    ]
    files["bundle.yaml"] = dump_yaml(framed)


def northwind(profile: Profile, clock: Clock, scratch: Path, check: bool) -> tuple[dict[str, bytes], Summary]:
    """Files of one Northwind quarter (and its expectations when `check`)."""
    bundle, plants, _ = build_northwind(profile, clock, scratch)
    files = render_bundle(bundle, scratch)
    if profile is Q3:
        add_framing(files)
    out = {f"{profile.name}/{path}": data for path, data in files.items()}
    if check:
        cross_check(profile.name, evidence_of(bundle, files), plants)
        out[f"expectations/{profile.name}.yaml"] = dump_yaml(expectations(profile.name, clock, plants))
    sizes = {path: len(data) for path, data in files.items()}
    summary = Summary(profile.name, bundle, sizes, plants if check else None, headline(bundle, files))
    return out, summary


def kestrel(clock: Clock, scratch: Path) -> tuple[dict[str, bytes], Summary]:
    """Files of the showcase quarter and its expectations, cross-checked like Northwind's."""
    name = gen_showcase.NAME
    bundle, plants, _ = gen_showcase.build_showcase(clock, scratch)
    files = render_bundle(bundle, scratch)
    add_framing(files, gen_showcase.FRAMING, gen_showcase.RESPONSES)
    cross_check(name, evidence_of(bundle, files), plants)
    out = {f"{name}/{path}": data for path, data in files.items()}
    out[f"expectations/{name}.yaml"] = dump_yaml(expectations(name, clock, plants))
    sizes = {path: len(data) for path, data in files.items()}
    return out, Summary(name, bundle, sizes, plants, headline(bundle, files))


def build_all(scratch: Path) -> dict[str, bytes]:
    """Every generated file, by path relative to the output directory."""
    files: dict[str, bytes] = {}
    summaries = []
    for profile, clock, check in (
        (Q3, Clock(date(2026, 7, 1), date(2026, 9, 30)), True),
        (Q2, Clock(date(2026, 4, 1), date(2026, 6, 30)), True),
    ):
        out, summary = northwind(profile, clock, scratch, check)
        files.update(out)
        summaries.append(summary)
    showcase, showcase_summary = kestrel(Clock(date(2026, 7, 1), date(2026, 9, 30)), scratch)
    files.update(showcase)
    small, catalogue = small_bundles(scratch)
    files.update(small)
    files.update(tools_quarter(scratch))
    readme = samples_readme(summaries, catalogue) + gen_showcase.showcase_readme(showcase_summary)
    files["README.md"] = readme + tools_readme()
    return dict(sorted(files.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: evidence-samples/)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        files = build_all(Path(tmp))
    out: Path = args.out
    for name in GENERATED:
        if (out / name).is_dir():
            shutil.rmtree(out / name)
    for relative, data in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(f"wrote {len(files)} files under {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
