"""RLB checks on one small inline estate (as_of 2026-10-01): rollbacks, emergency changes and
failed rollouts, each clean for every RLB control except the situation its id names."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.bundles import example, minimal_valid
from support.engine import assess_builder, control, gap_messages, replace_kind

from reporter.catalog.library import Library
from reporter.models.results import Assessment
from reporter.models.status import Status


def _finding(fid: str, asset: str, vuln: str, **changes: Any) -> dict[str, Any]:
    return example(
        "findings",
        id=fid,
        asset_id=asset,
        vuln_id=vuln,
        state="open",
        closed_at=None,
        first_detected_at="2026-07-01T00:00:00Z",
        last_seen_at="2026-07-01T00:00:00Z",
        **changes,
    )


def _deployment(did: str, asset: str, finding: str) -> dict[str, Any]:
    return example(
        "deployments",
        id=did,
        asset_id=asset,
        finding_ids=[finding],
        started_at="2026-07-05T00:00:00Z",
        completed_at="2026-07-05T01:00:00Z",
    )


def _verification(vid: str, asset: str, finding: str, at: str, result: str = "not_vulnerable") -> dict[str, Any]:
    return example(
        "verifications", id=vid, asset_id=asset, finding_id=finding, deployment_id=None, observed_at=at, result=result
    )


def _event(rid: str, kind: str, at: str, hours: float | None, **changes: Any) -> dict[str, Any]:
    """A rollout event at `at`, reassessed `hours` later (None: never)."""
    reassessed = None
    if hours is not None:
        later = datetime.fromisoformat(at) + timedelta(hours=hours)
        reassessed = later.isoformat().replace("+00:00", "Z")
    record = {
        "type": kind,
        "occurred_at": at,
        "reassessed_at": reassessed,
        "deployment_ids": [],
        "finding_ids": [],
        "asset_ids": ["a-erp-01"],
        **changes,
    }
    return example("rollout_events", id=rid, **record)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory, library: Library) -> Assessment:
    builder = minimal_valid(tmp_path_factory.mktemp("estate"))
    replace_kind(
        builder,
        "findings",
        [
            example("findings"),
            _finding("f-rb-1", "a-erp-01", "CVE-2025-0001"),  # high: due 2026-07-31
            _finding("f-rb-2", "a-batch-02", "CVE-2025-0002"),
            _finding("f-rb-3", "a-batch-02", "CVE-2025-0003"),
            *(_finding(f"f-m-{n}", "a-erp-01", f"CVE-2025-001{n}", severity="medium") for n in (1, 2, 3)),
        ],
    )
    replace_kind(
        builder,
        "deployments",
        [
            example("deployments"),
            _deployment("d-rb-1", "a-erp-01", "f-rb-1"),
            _deployment("d-rb-2", "a-batch-02", "f-rb-2"),
            _deployment("d-rb-3", "a-batch-02", "f-rb-3"),
        ],
    )
    clean = "2026-07-06T00:00:00Z"
    replace_kind(
        builder,
        "verifications",
        [
            example("verifications"),
            _verification("v-1", "a-erp-01", "f-rb-1", clean),
            _verification("v-2", "a-batch-02", "f-rb-2", clean),
            _verification("v-3", "a-batch-02", "f-rb-2", "2026-08-10T00:00:00Z"),  # re-verified after the rollback
            _verification("v-4", "a-batch-02", "f-rb-3", clean),
            _verification("v-5", "a-batch-02", "f-rb-3", "2026-07-11T00:00:00Z", "vulnerable"),  # back after it
            _verification("v-6", "a-erp-01", "f-m-3", "2026-08-15T00:00:00Z"),
        ],
    )
    rollback = {"type": "rollback", "reassessed_at": None}
    replace_kind(
        builder,
        "rollout_events",
        [
            example(
                "rollout_events",
                id="r-rb-1",
                deployment_ids=["d-rb-1"],
                asset_ids=["a-erp-01"],
                finding_ids=[],
                occurred_at="2026-07-10T00:00:00Z",
                **rollback,
            ),
            example(
                "rollout_events",
                id="r-rb-2",
                deployment_ids=["d-rb-2"],
                asset_ids=["a-batch-02"],
                finding_ids=[],
                occurred_at="2026-07-25T00:00:00Z",
                **rollback,
            ),
            example(
                "rollout_events",
                id="r-rb-3",
                deployment_ids=["d-rb-3"],
                asset_ids=["a-batch-02"],
                finding_ids=[],
                occurred_at="2026-07-10T00:00:00Z",
                **rollback,
            ),
            _event("r-bypass-never", "emergency_bypass", "2026-08-01T00:00:00Z", None),
            _event("r-bypass-20h", "emergency_bypass", "2026-08-02T00:00:00Z", 20),
            _event("r-urgent-30h", "failed_rollout", "2026-08-03T00:00:00Z", 30, asset_ids=["a-web-01"]),
            _event("r-internal-30h", "failed_rollout", "2026-08-04T00:00:00Z", 30),
            _event("r-window-open", "failed_rollout", "2026-09-30T20:00:00Z", None),
            _event("r-mit-none", "emergency_mitigation", "2026-08-05T00:00:00Z", 2, finding_ids=["f-m-1"]),
            _event(
                "r-mit-ref",
                "emergency_mitigation",
                "2026-08-05T00:00:00Z",
                2,
                finding_ids=["f-m-2"],
                permanent_fix_ref="CHG0050001",
            ),
            _event("r-mit-verified", "emergency_mitigation", "2026-08-05T00:00:00Z", 2, finding_ids=["f-m-3"]),
        ],
        "json",
    )
    return assess_builder(builder, library)


def test_rollback_reopens_a_verified_fix_until_verified_again(estate: Assessment) -> None:
    messages = gap_messages(estate, "RLB-02")
    assert set(messages) == {"f-rb-1", "f-rb-3"}  # f-rb-2 was verified clean again after its rollback
    assert "rolled back by r-rb-1" in messages["f-rb-1"]
    assert "last: none" in messages["f-rb-1"]
    assert "last: vulnerable 2026-07-11" in messages["f-rb-3"]
    assert control(estate, "RLB-02").population == 3


def test_rollback_keeps_the_original_sla_clock(estate: Assessment) -> None:
    # Due 2026-07-31 from detection. f-rb-2 was re-verified 2026-08-10: within a clock restarted at the
    # rollback (2026-07-25 + 30 days), but not the original one, so PRI-01 still misses it.
    missed = gap_messages(estate, "PRI-01")
    assert {"f-rb-1", "f-rb-2", "f-rb-3"} <= set(missed)
    assert "verified fixed only 2026-08-10" in missed["f-rb-2"]


def test_reassessment_within_the_window(estate: Assessment) -> None:
    messages = gap_messages(estate, "RLB-01")
    # Rollbacks never reassessed count too; the event whose 72-hour window is still open does not.
    assert set(messages) == {"r-rb-1", "r-rb-2", "r-rb-3", "r-bypass-never", "r-urgent-30h"}
    assert "never reassessed (window 72 hours)" in messages["r-bypass-never"]
    assert "(urgent exposure) reassessed after 30.0 hours (window 24 hours)" in messages["r-urgent-30h"]
    assert control(estate, "RLB-01").population == 10


def test_emergency_mitigation_needs_a_permanent_fix(estate: Assessment) -> None:
    messages = gap_messages(estate, "RLB-03")
    assert set(messages) == {"r-mit-none"}  # one names its permanent fix, the other was verified fixed
    assert "CVE-2025-0011 on a-erp-01 not verified fixed since" in messages["r-mit-none"]
    assert control(estate, "RLB-03").population == 3


def test_no_rollout_events_is_insufficient_evidence(tmp_path: Path, library: Library) -> None:
    builder = minimal_valid(tmp_path)
    builder.sources = [s for s in builder.sources if s.get("kind") != "rollout_events"]
    result = assess_builder(builder, library)
    assert {control(result, f"RLB-0{n}").status for n in (1, 2, 3)} == {Status.INSUFFICIENT_EVIDENCE}
