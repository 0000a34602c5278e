"""The showcase quarter, Kestrel Shipping 2026-Q3: the clean world of `gen_world` with a handful of
planted situations that tell one story, so that most controls pass and the few failures read clearly.

The story: patching activity is high but verified reduction lags (successful deployments never
rescanned or still vulnerable: the bulk VER-01 / VER-02 populations of the world), a patched
internet-facing booking server stays exposed through a leaked API token that was never revoked, and
an exception that expired in August is still the only thing standing behind an overdue finding.
Northwind's builders are reused; the records are renamed to Kestrel's domain before rendering.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from gen_core import CONTROL_IDS, Bundle, Clock, Meta, Plants
from gen_docs import Summary
from gen_nhi import (
    add_exception,
    add_exposure,
    build_agents,
    build_controls,
    build_identities,
    build_intel,
    bulk_events,
    bulk_exceptions,
    bulk_exposures,
    inline_control,
)
from gen_plants import Kit, exc_urgent_counter
from gen_world import HOUR, Profile, World

NAME = "kestrel-2026-q3"

SHOWCASE = Profile(
    NAME,
    NAME,
    20000,
    0.5,
    unverified=0.4,
    still_vulnerable=0.12,
    refix=0.3,
    retry=0.1,
    open_share=0.2,
)

POLICY: dict[str, Any] = {
    "policy_version": 1,
    "name": "Kestrel Shipping vulnerability and NHI policy 2026",
    "sla": {
        "rules": [
            {
                "id": "KS-EDGE-CRIT-10",
                "title": "Critical findings on internet-facing assets within 10 days",
                "source": "Kestrel Patch and Vulnerability Standard v2.1 §3.2 (organisation rule)",
                "match": {"internet_facing": True, "severity": ["critical"]},
                "days": 10,
            },
            {
                "id": "KS-CRIT-HIGH-30",
                "title": "Critical and high findings within 30 days",
                "source": "Kestrel Patch and Vulnerability Standard v2.1 §3.1; PCI DSS 6.3.3",
                "match": {"severity": ["critical", "high"]},
                "days": 30,
            },
            {
                "id": "KS-MEDIUM-90",
                "title": "Medium findings within 90 days",
                "source": "Kestrel Patch and Vulnerability Standard v2.1 §3.1",
                "match": {"severity": ["medium"]},
                "days": 90,
            },
            {
                "id": "KS-LOW-180",
                "title": "Low findings within 180 days",
                "source": "Kestrel Patch and Vulnerability Standard v2.1 §3.1",
                "match": {"severity": ["low"]},
                "days": 180,
            },
        ]
    },
}

KESTREL = Meta(
    organisation="Kestrel Shipping",
    scope="Production and corporate IT, the Antwerp container-terminal OT network and AWS account "
    "111122223333 (eu-west-1)",
    prepared_by={
        "name": "Mira Claes",
        "role": "Vulnerability Management Lead",
        "email": "mira.claes@kestrel.example",
    },
    reviewed_by={"name": "Tom Peeters", "role": "Internal Audit", "email": "tom.peeters@kestrel.example"},
    classification="Confidential",
    policy=POLICY,
)

# Audit framing (docs/bundle-format.md, "Audit framing"); the extraction notes are Northwind's, since
# the world's sources are the same exports.
FRAMING: dict[str, Any] = {
    "approved_by": {
        "name": "Ines Wouters",
        "role": "Chief Information Security Officer",
        "email": "ines.wouters@kestrel.example",
    },
    "document": {
        "version": "1.0",
        "status": "final",
        "distribution": [
            {"name": "Ines Wouters", "role": "Chief Information Security Officer"},
            {"name": "Tom Peeters", "role": "Internal Audit"},
            {"name": "Audit Committee", "role": "Board committee"},
        ],
    },
    "scope_exclusions": [
        {
            "item": "Crane and straddle-carrier controllers of the Antwerp terminal",
            "reason": "Patched by the crane vendor under its service contract and covered by the vendor's "
            "own assurance report, not by Kestrel evidence.",
            "approved_by": "Ines Wouters, CISO",
        },
        {
            "item": "Vessel onboard systems",
            "reason": "Operated by the ship managers under the ISM Code; reported separately to the board.",
        },
    ],
    "assertions": [
        {
            "statement": "The CMDB export (inventory/cmdb-assets.csv) is the complete population of in-scope "
            "assets at the end of the period.",
            "by": "Head of IT Operations",
        },
        {
            "statement": "Every evidence file in the bundle is an unaltered export from the system named for it.",
            "by": "Mira Claes, Vulnerability Management Lead",
        },
        {
            "statement": "All exceptions granted or in force during the period are in the risk register "
            "(exceptions/risk-register.yaml).",
            "by": "Ines Wouters, CISO",
        },
    ],
}
# Management's responses to the story's failures.
RESPONSES: list[dict[str, Any]] = [
    {
        "control": "NHI-02",
        "owner": "Identity and Access Management (lead: Lars Maes)",
        "target_date": "2026-10-09",
        "status": "in-progress",
        "response": "The booking partner token is being rotated with the partner; public-repository leaks now "
        "open a P1 incident that revokes the token within 24 hours.",
    },
    {
        "control": "NHI-14",
        "owner": "Web team (lead: Sofie Jacobs)",
        "target_date": "2026-10-09",
        "status": "in-progress",
        "response": "Closed by the NHI-02 rotation; the patch runbook now ends with rotating the host's tokens.",
    },
    {
        "control": "VER-01",
        "owner": "Vulnerability Management (Mira Claes)",
        "target_date": "2026-12-31",
        "status": "agreed",
        "response": "Every patch window is followed by an authenticated rescan of the patched asset groups.",
    },
    {
        "control": "VER-02",
        "owner": "Vulnerability Management (Mira Claes)",
        "target_date": "2026-11-30",
        "status": "agreed",
        "response": "Deployments whose rescan still finds the vulnerability are re-queued automatically.",
    },
    {
        "control": "EXC-02",
        "owner": "GRC team (Elke Janssens)",
        "target_date": "2026-10-15",
        "status": "in-progress",
        "response": "The customs EDI exception goes to the October risk committee for renewal or closure; "
        "expiring exceptions now alert their owner 14 days ahead.",
    },
]

# Northwind's world renamed: organisation, mail and DNS domains, laptop names, site.
RENAMES = (
    ("Northwind Logistics", "Kestrel Shipping"),
    ("Northwind", "Kestrel"),
    ("northwind", "kestrel"),
    ("nw.example", "ks.example"),
    ("nw-lap-", "ks-lap-"),
    ("warehouse-rotterdam", "terminal-antwerp"),
    ("Rotterdam", "Antwerp"),
)
_RENAME = re.compile("|".join(re.escape(old) for old, _ in RENAMES))
_NEW = dict(RENAMES)


def _renamed(value: Any) -> Any:
    if isinstance(value, str):
        return _RENAME.sub(lambda m: _NEW[m.group(0)], value)
    if isinstance(value, list):
        return [_renamed(v) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v) for k, v in value.items()}
    return value


def rebrand(bundle: Bundle) -> None:
    """Rename every string of every record in place (before rendering, so files, hashes and the
    oracle's cross-check all see the Kestrel names)."""
    for spec in bundle.sources.values():
        if spec.native is not None or spec.imported is not None:
            raise ValueError(f"{spec.path}: the showcase renames canonical records only")
        for record in spec.records:
            for key, value in record.items():
                record[key] = _renamed(value)


def fresh_sources(world: World) -> None:
    """Every export collected at the period end with its sha256: Northwind's stale runZero and
    control-library exports and unhashed intel excerpts are EVD plants, not part of this story."""
    last = world.clock.days - 1
    for spec in world.b.sources.values():
        spec.with_sha = True
        if world.as_of - spec.collected_at > timedelta(days=7):
            spec.collected_at = world.clock.at(last, 21)


# ---------------------------------------------------------------------------------------------
# The story's planted situations


def leaked_token(k: Kit) -> None:
    """NHI-02 and NHI-14: the booking web server is patched, but its API token leaked and is valid."""
    w = k.w
    web = k.server("srv-booking-web-01", internet_facing=True, owner="team-web", criticality="high")
    for day, severity in ((11, "critical"), (24, "high"), (47, "high")):
        f = k.finding(web, k.vuln(web, severity), day)
        k.fix(web, f, day + 2)
    token = k.identity(
        "booking-partner-api-token",
        "api_key",
        owner="team-web",
        used_by=[web["id"]],
        created=w.as_of - timedelta(days=75),
    )
    leak = add_exposure(
        w,
        token,
        w.day(68, 14),
        public=True,
        detector="generic-api-key",
        location="github.com/kestrel-oss/booking-widget-demo@5c1e9a0:.env.example:7",
    )
    w.plants.flag(
        "NHI-02",
        "secret_exposures",
        leak["id"],
        "booking API token committed to a public repository on 2026-09-07, never revoked",
    )
    w.plants.flag(
        "NHI-14",
        "assets",
        web["id"],
        "internet-facing booking server with every urgent finding verified fixed, still exposed through "
        "the leaked, valid token",
        identities=[token["id"]],
    )


def expired_exception(k: Kit) -> None:
    """EXC-02 and PRI-04: an exception that expired on 1 August still covers an open high finding."""
    w = k.w
    srv = k.server("srv-customs-edi-01", owner="team-integration", criticality="high")
    f = k.finding(srv, k.vuln(srv, "high"), -40)
    e = add_exception(
        w,
        title="Customs EDI translator: vendor patch not yet certified",
        asset_ids=[srv["id"]],
        vuln_ids=[f["vuln_id"]],
        risk_response="mitigate",
        deviation_type="vendor_dependency",
        owner="team-integration",
        approved_at=w.start - timedelta(days=30),
        expires_at=w.day(31, 12),
        justification="The customs authority certifies the translator release before it may be patched.",
        compensating_controls=[
            inline_control(
                "EDI subnet reachable only from the customs gateway", "fw-policy-edi-2", w.start - timedelta(days=31)
            )
        ],
    )
    w.plants.flag(
        "EXC-02", "exceptions", e["id"], "exception expired on 2026-08-01; the finding it covered is still open"
    )
    w.plants.flag("PRI-04", "findings", f["id"], "high finding overdue since its exception expired")


def post_patch_rotation_done(k: Kit) -> None:
    """Clean for NHI-15: a KEV fixed on a host whose service credential was rotated two days later."""
    w = k.w
    kev = k.new_kev("linux", 0)
    srv = k.asset("server", "srv-berth-planner-01", "linux", owner="team-terminal")
    assert kev.kev_added is not None
    added = kev.kev_added.toordinal() - w.clock.start.toordinal()
    ssvc = {"ssvc_exploitation": "active", "ssvc_automatable": "yes", "ssvc_technical_impact": "total"}
    f = k.finding(srv, kev, added, ssvc=ssvc)  # detected 3 hours after the KEV listing
    d = k.deploy(srv, [f], w.day(added, 9))
    v = k.verify(srv, f, d["completed_at"] + timedelta(hours=3), deployment=d)
    w.close(f, v["observed_at"], d["started_at"] - HOUR)
    k.identity("svc-berth-planner", used_by=[srv["id"]], last_rotated_at=v["observed_at"] + timedelta(days=2))
    w.plants.clean("NHI-15", "findings", f["id"], "KEV fixed and the host's credential rotated two days later")


def mitigation_replaced(k: Kit) -> None:
    """Clean for RLB-03: an emergency mitigation replaced by the vendor patch a week later."""
    w = k.w
    srv = k.server("srv-gate-ocr-01", owner="team-terminal")
    f = k.finding(srv, k.vuln(srv, "high"), 33)
    d, _ = k.fix(srv, f, 41)
    ev = w.add_event(
        "emergency_mitigation",
        w.day(34, 11),
        reassessed=w.day(34, 16),
        asset_ids=[srv["id"]],
        finding_ids=[f["id"]],
        permanent_fix_ref=d["change_ref"],
        description="Blocked the vulnerable upload endpoint at the proxy until the vendor patch",
    )
    w.plants.clean("RLB-03", "rollout_events", ev["id"], "emergency mitigation replaced by the patch a week later")


STORY = (leaked_token, expired_exception, post_patch_rotation_done, mitigation_replaced, exc_urgent_counter)


def build_showcase(clock: Clock, scratch: Path) -> tuple[Bundle, Plants, World]:
    """The Kestrel quarter: the clean world, the story's plants, then the rename."""
    del scratch  # canonical files only: no tool file to import
    bundle = Bundle(NAME, clock, KESTREL)
    plants = Plants()
    world = World(bundle, plants, SHOWCASE)
    world.setup_sources()
    fresh_sources(world)
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
    kit = Kit(world)
    for plant in STORY:
        plant(kit)
    build_intel(world)
    rebrand(bundle)
    return bundle, plants, world


def showcase_readme(summary: Summary) -> bytes:
    """The showcase's section of `evidence-samples/README.md`: the story, its headline and the controls
    that fail (a README inside the bundle would be an unlisted file the validator warns about)."""
    plants = summary.plants
    assert plants is not None
    h = summary.headline
    counts = plants.counts()
    situations: dict[str, str] = {}
    for flag in plants.flags:
        situations.setdefault(flag.control, flag.situation)
    rows = [f"| {c} | {counts[c]:,} | {situations[c]} |" for c in CONTROL_IDS if counts[c]]
    lines = [
        "",
        f"## Showcase quarter: `{NAME}/`",
        "",
        "Kestrel Shipping, 2026-07-01 … 2026-09-30: the quick-start quarter. Northwind's generated estate",
        "renamed, with only the planted situations that tell one story, so most controls pass and every",
        "failure has a reason a reader can follow (expectations: `expectations/kestrel-2026-q3.yaml`):",
        "",
        f"- Patching activity is high: deployments reported successful (E1) {h['e1']}.",
        f"- Verified reduction lags: targeted finding-instances verified fixed (E2) {h['e2']}, because",
        "  many successful deployments were never rescanned (VER-01) and some rescans still find the",
        "  vulnerability (VER-02).",
        "- The internet-facing booking server `srv-booking-web-01` is fully patched, yet still exposed: its",
        "  partner API token leaked to a public repository in September and was never revoked (NHI-02,",
        "  NHI-14).",
        "- An exception for the customs EDI translator expired on 2026-08-01 while its high finding is",
        "  still open, so the finding is back in the overdue backlog (EXC-02, PRI-04).",
        "",
        "Canonical files only (no tool formats), every export fresh and hashed, with the audit framing and",
        "management responses to the failures. Controls that fail, and their planted records:",
        "",
        "| control | records | situation (one example) |",
        "|---|---|---|",
        *rows,
        "",
    ]
    return "\n".join(lines).encode()
