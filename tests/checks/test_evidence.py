"""EVD checks: the manifest's evidence is complete for every family, fresh and hashed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from support.bundles import BundleBuilder, example, minimal_valid
from support.engine import assess_builder, control, metric, replace_kind

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.library import Library
from reporter.checks.base import CheckContext
from reporter.checks.evidence import FAMILY_KINDS
from reporter.checks.registry import get_check
from reporter.models.kinds import KINDS
from reporter.models.results import Assessment
from reporter.models.status import Status


@pytest.fixture(scope="module")
def degraded(tmp_path_factory: pytest.TempPathFactory, library: Library) -> Assessment:
    """No agents and no secret exposures; a stale KEV catalog; observations stale under a per-kind
    limit of one day; EPSS scores listed without a sha256."""
    builder = minimal_valid(tmp_path_factory.mktemp("degraded"))
    dropped = ("agents", "secret_exposures", "kev_entries", "epss_scores", "observations")
    builder.sources = [s for s in builder.sources if s.get("kind") not in dropped]
    replace_kind(builder, "identities", [example("identities")])  # the agent credential names a dropped agent
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


@pytest.fixture(scope="module")
def hollow(tmp_path_factory: pytest.TempPathFactory, library: Library) -> Assessment:
    """Every kind listed, every file empty: zero evidence."""
    builder = BundleBuilder(tmp_path_factory.mktemp("hollow"))
    for kind in KINDS:
        builder.add(kind, [], "jsonl")
    return assess_builder(builder, library)


def test_empty_files_are_not_evidence(hollow: Assessment) -> None:
    evd01 = control(hollow, "EVD-01")
    assert evd01.status is Status.FAIL
    needed = {k for kinds in FAMILY_KINDS.values() for k in kinds}
    assert {g.record_id for g in evd01.gaps} == needed
    by_kind = {g.record_id: g for g in evd01.gaps}
    assert by_kind["agents"].source == "agents.jsonl"
    assert by_kind["agents"].message == (
        "agents.jsonl lists agents records but holds none (an empty file is not evidence), "
        "needed by the AGT and NHI controls"
    )
    assert by_kind["assets"].message.endswith("needed by the EXC, INV, NHI, PRI and VER controls")


def test_zero_evidence_never_passes_a_record_control(hollow: Assessment) -> None:
    manifest_only = {"EVD-01", "EVD-02", "EVD-03"}
    statuses = {c.control_id: c.status for c in hollow.controls if c.control_id not in manifest_only}
    assert set(statuses.values()) == {Status.INSUFFICIENT_EVIDENCE}
    assert control(hollow, "NHI-14").reason.startswith("the bundle has no assets, findings")


def test_count_metrics_on_zero_evidence_are_not_measurable(hollow: Assessment) -> None:
    for metric_id in ("V3", "N3", "N4", "E12", "X3", "R2"):
        value = metric(hollow, metric_id)
        assert not value.measurable, metric_id
        assert value.measure is None, metric_id
        assert "records" in (value.reason or ""), metric_id


def test_one_empty_kind_among_full_ones(tmp_path: Path, library: Library) -> None:
    builder = minimal_valid(tmp_path)
    replace_kind(builder, "secret_exposures", [])
    result = assess_builder(builder, library)
    assert [g.record_id for g in control(result, "EVD-01").gaps] == ["secret_exposures"]
    assert control(result, "NHI-02").status is Status.INSUFFICIENT_EVIDENCE
    assert control(result, "NHI-01").status is not Status.INSUFFICIENT_EVIDENCE
    assert not metric(result, "N6").measurable


def test_every_control_needs_exactly_the_evidence_the_library_lists(tmp_path: Path, library: Library) -> None:
    """docs/controls.md prints each control's evidence list: a control is insufficient_evidence without
    each kind it lists, and only those (PRI-02 listed kev_entries, yet runs on the KEV status findings
    carry; EXC-03 listed compensating_controls, yet inline controls are evidence: item 10, 14)."""
    loaded = load_bundle(minimal_valid(tmp_path).write())
    try:
        assess(loaded, library, AssessOptions())
        assert loaded.manifest is not None
        every = frozenset(KINDS)
        base = CheckContext(
            con=loaded.store.con,
            policy=loaded.policy,
            period=loaded.manifest.period,
            as_of=loaded.manifest.period.end_at,
            kinds_present=every,
        )
        wrong = []
        for entry in library.controls.values():
            listed = set(entry.evidence) - {"manifest", "policy"}
            check = get_check(entry.check)
            needs = set()
            for kind in sorted(every):
                ctx = replace(base, kinds_present=every - {kind}).for_control(entry.id, entry.severity.value)
                if check(ctx).status is Status.INSUFFICIENT_EVIDENCE:
                    needs.add(kind)
            if needs != listed:
                wrong.append((entry.id, sorted(listed), sorted(needs)))
        assert wrong == [], "\n".join(map(str, wrong))
    finally:
        loaded.close()


def test_kev_compliance_needs_kev_status_from_a_catalog_or_the_findings(tmp_path: Path, library: Library) -> None:
    """Without a KEV catalog and with findings that say nothing about KEV, "no KEV finding" is no
    evidence: PRI-02 and T6 cannot be assessed (item 14)."""
    builder = minimal_valid(tmp_path)
    builder.sources = [s for s in builder.sources if s.get("kind") != "kev_entries"]
    replace_kind(builder, "findings", [example("findings", kev=None)])
    unknown = assess_builder(builder, library)
    assert control(unknown, "PRI-02").status is Status.INSUFFICIENT_EVIDENCE
    assert "no KEV catalog (kev_entries) and no finding records its KEV status" in control(unknown, "PRI-02").reason
    assert not metric(unknown, "T6").measurable
    replace_kind(builder, "findings", [example("findings", kev=False)])
    known = assess_builder(builder, library)
    assert control(known, "PRI-02").status is Status.NOT_APPLICABLE  # the scanner says: no KEV finding
    assert "kev_entries" not in {g.record_id for g in control(known, "EVD-01").gaps}
