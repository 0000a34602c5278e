"""Generate every sample evidence bundle, the expectations of the planted gaps and the READMEs.

Run from the repository root:  .venv/bin/python evidence-samples/generate.py [--out DIR]

Deterministic: seeded `random.Random` streams, no wall clock; re-running gives identical bytes.
After building a bundle with planted gaps, the generator evaluates every control with the
reference reading in `oracle.py` and fails unless the records it would flag are exactly the ones
the Plant registry recorded, so the expectations file is exhaustive by construction.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

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


def northwind(profile: Profile, clock: Clock, scratch: Path, check: bool) -> tuple[dict[str, bytes], Summary]:
    """Files of one Northwind quarter (and its expectations when `check`)."""
    bundle, plants, _ = build_northwind(profile, clock, scratch)
    files = render_bundle(bundle, scratch)
    out = {f"{profile.name}/{path}": data for path, data in files.items()}
    if check:
        cross_check(profile.name, evidence_of(bundle, files), plants)
        out[f"expectations/{profile.name}.yaml"] = dump_yaml(expectations(profile.name, clock, plants))
    sizes = {path: len(data) for path, data in files.items()}
    summary = Summary(profile.name, bundle, sizes, plants if check else None, headline(bundle, files))
    return out, summary


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
    small, catalogue = small_bundles(scratch)
    files.update(small)
    files.update(tools_quarter(scratch))
    files["README.md"] = samples_readme(summaries, catalogue) + tools_readme()
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
