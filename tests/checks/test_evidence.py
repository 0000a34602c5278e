"""EVD checks: the manifest's evidence is complete for every family, fresh and hashed."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.bundles import example, minimal_valid
from support.engine import assess_builder, control

from reporter.catalog.library import Library
from reporter.checks.evidence import FAMILY_KINDS
from reporter.models.results import Assessment
from reporter.models.status import Status


@pytest.fixture(scope="module")
def degraded(tmp_path_factory: pytest.TempPathFactory, library: Library) -> Assessment:
    """No agents and no secret exposures; a stale KEV catalog; observations stale under a per-kind
    limit of one day; EPSS scores listed without a sha256."""
    builder = minimal_valid(tmp_path_factory.mktemp("degraded"))
    dropped = ("agents", "secret_exposures", "kev_entries", "epss_scores", "observations")
    builder.sources = [s for s in builder.sources if s.get("kind") not in dropped]
    builder.add(
        "kev_entries", [example("kev_entries")], "csv", path="intel/kev.csv", collected_at="2026-09-01T00:00:00Z"
    )
    builder.add("epss_scores", [example("epss_scores")], "csv", path="intel/epss.csv", sha256=None)
    builder.add(
        "observations", [example("observations")], path="discovery/edr.jsonl", collected_at="2026-09-29T12:00:00Z"
    )
    builder.policy = {"policy_version": 1, "freshness": {"per_kind": {"observations": 1}}}
    return assess_builder(builder, library)


def test_missing_kinds_are_named_once_each(degraded: Assessment) -> None:
    evd01 = control(degraded, "EVD-01")
    assert evd01.status is Status.FAIL
    assert {(g.kind, g.record_id) for g in evd01.gaps} == {("kinds", "agents"), ("kinds", "secret_exposures")}
    messages = {g.record_id: g.message for g in evd01.gaps}
    assert messages["agents"] == "no source of the bundle provides agents records, needed by the AGT and NHI controls"
    assert evd01.population == len({k for kinds in FAMILY_KINDS.values() for k in kinds})


def test_controls_missing_their_evidence_are_insufficient_not_passing(degraded: Assessment) -> None:
    for control_id in ("INV-07", "NHI-02", "AGT-01", "AGT-02", "AGT-03"):
        assert control(degraded, control_id).status is Status.INSUFFICIENT_EVIDENCE, control_id


def test_stale_sources_are_flagged_with_the_strictest_limit(degraded: Assessment) -> None:
    messages = {g.record_id: g.message for g in control(degraded, "EVD-02").gaps}
    assert set(messages) == {"intel/kev.csv", "discovery/edr.jsonl"}
    assert messages["intel/kev.csv"] == (
        "intel/kev.csv (kev_entries) collected 2026-09-01, 30 days before the period end 2026-09-30 (limit 14 days)"
    )
    assert "(limit 1 days)" in messages["discovery/edr.jsonl"]
    assert all(g.kind == "sources" and g.source == g.record_id for g in control(degraded, "EVD-02").gaps)


def test_unhashed_source_is_flagged(degraded: Assessment) -> None:
    evd03 = control(degraded, "EVD-03")
    assert [(g.kind, g.record_id) for g in evd03.gaps] == [("sources", "intel/epss.csv")]
    assert evd03.gaps[0].sha256 is not None  # the computed hash is still cited


def test_complete_fresh_hashed_bundle_passes(tmp_path: Path, library: Library) -> None:
    result = assess_builder(minimal_valid(tmp_path), library)
    assert {control(result, f"EVD-0{n}").status for n in (1, 2, 3)} == {Status.PASS}


def test_family_kinds_follow_the_control_library(library: Library) -> None:
    declared: dict[str, set[str]] = {}
    for entry in library.controls.values():
        declared.setdefault(entry.family, set()).update(entry.evidence)
    from_library = {
        f: kinds - {"manifest", "policy"} for f, kinds in declared.items() if kinds - {"manifest", "policy"}
    }
    assert {f: set(k) for f, k in FAMILY_KINDS.items()} == from_library
