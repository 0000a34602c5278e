"""Expectations of a generated bundle: the Plant registry turned into YAML, and the cross-check
against the reference reading of the control plan (oracle.py).
"""

from __future__ import annotations

from typing import Any

import yaml
from gen_core import CHECK_IDS, CONTROL_IDS, Bundle, Clock, Plants, fmt_ts
from gen_writers import model_of
from oracle import Evidence, evaluate

from reporter.models.manifest import Manifest
from reporter.models.policy import PolicyFile


def evidence_of(bundle: Bundle, files: dict[str, bytes]) -> Evidence:
    """Typed records of a bundle, as a check would see them (a tool file's records are what its
    importer yields from the file's bytes)."""
    manifest = Manifest.model_validate(yaml.safe_load(files["bundle.yaml"]))
    policy = PolicyFile.model_validate(bundle.meta.policy) if bundle.meta.policy else None
    records = {k: [model_of(k).model_validate(r) for r in bundle.records(k)] for k in sorted(bundle.kinds())}
    return Evidence(manifest, policy, records)


def cross_check(name: str, evidence: Evidence, plants: Plants) -> None:
    """Fail unless the oracle flags exactly the planted records, and no clean counter-example."""
    gaps, ambiguities = evaluate(evidence)
    problems = [f"ambiguous: {a}" for a in ambiguities]
    for control in CONTROL_IDS:
        found = set(gaps[control])
        planted = plants.flagged(control)
        problems += [f"{control}: flagged but not planted: {k}" for k in sorted(found - planted)]
        problems += [f"{control}: planted but not flagged: {k}" for k in sorted(planted - found)]
    for clean in plants.cleans:
        if (clean.kind, clean.id) in gaps[clean.control]:
            problems.append(f"{clean.control}: clean counter-example flagged: {clean.kind} {clean.id}")
    if problems:
        shown = "\n  ".join(problems[:80])
        raise SystemExit(f"{name}: expectations and oracle disagree ({len(problems)}):\n  {shown}")


def expectations(name: str, clock: Clock, plants: Plants) -> dict[str, Any]:
    """The expectations file: every planted gap per control, and the clean counter-examples."""
    controls: dict[str, Any] = {}
    for control in CONTROL_IDS:
        entries: dict[tuple[str, str], dict[str, Any]] = {}
        for flag in plants.flags:
            if flag.control != control or (flag.kind, flag.id) in entries:
                continue
            entry: dict[str, Any] = {"kind": flag.kind, "id": flag.id, "situation": flag.situation}
            entry.update(dict(flag.extra))
            entries[(flag.kind, flag.id)] = entry
        controls[control] = {
            "check": CHECK_IDS[control],
            "count": len(entries),
            "flagged": [entries[k] for k in sorted(entries)],
        }
    cleans = sorted(plants.cleans, key=lambda c: (c.control, c.kind, c.id))
    return {
        "expectations_version": 1,
        "bundle": name,
        "period": {"start": clock.start.isoformat(), "end": clock.end.isoformat()},
        "as_of": fmt_ts(clock.as_of),
        "reading": READING,
        "controls": controls,
        "clean": [{"control": c.control, "kind": c.kind, "id": c.id, "why": c.why} for c in cleans],
    }


READING = [
    "Each control lists every record it must flag (exhaustive): kind + id; EVD controls name sources by path "
    "(kind 'sources') or missing kinds (kind 'kinds').",
    "INV-01 gaps are per unknown asset_key: 'id' is its earliest observation, 'records' all its observations.",
    "AGT-03 gaps are per agent tool: 'id' is the agent, 'tool' the tool name (one offending tool per agent).",
    "RLB-02 gaps are the re-opened findings ('rollout_event' names the rollback); NHI-14 gaps are assets and "
    "NHI-15 gaps are findings ('identities' names the credentials involved).",
    "as_of is the first instant after the period; times compare in UTC; clock skew 15 minutes.",
    "The samples are built so that every reasonable reading of the plan flags the same records: no finding is "
    "near a due date, no window is still running at as_of, no exception is borderline.",
]
