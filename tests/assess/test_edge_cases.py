"""Edge cases of reference/metrics.md §6, each on a small inline bundle: the ledger state, the SLA
outcome and the controls that must (or must not) flag the record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.bundles import BundleBuilder

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.models.results import Assessment, ControlResult

ASSET = {
    "id": "a-1",
    "name": "srv-1",
    "type": "server",
    "environment": "production",
    "owner": "team",
    "criticality": "high",
    "internet_facing": False,
    "patch_automation": True,
}


def finding(fid: str, **extra: Any) -> dict[str, Any]:
    record = {
        "id": fid,
        "asset_id": "a-1",
        "vuln_id": "CVE-2026-10001",
        "severity": "high",
        "first_detected_at": "2026-07-01T00:00:00Z",
        "state": "open",
        "source": "nessus",
    }
    return {**record, **extra}


def deployment(did: str, status: str = "succeeded", at: str = "2026-07-05T00:00:00Z", **extra: Any) -> dict[str, Any]:
    record = {
        "id": did,
        "asset_id": "a-1",
        "finding_ids": ["f-1"],
        "change_ref": "CHG1",
        "started_at": at,
        "completed_at": at,
        "status": status,
    }
    return {**record, **extra}


def verification(vid: str, result: str, at: str, **extra: Any) -> dict[str, Any]:
    record = {
        "id": vid,
        "asset_id": "a-1",
        "finding_id": "f-1",
        "method": "authenticated_rescan",
        "result": result,
        "observed_at": at,
    }
    return {**record, **extra}


# Verification evidence exists, but none about the findings under test: an empty file is not
# evidence, and without any verification the SLA controls are insufficient_evidence (D18).
UNRELATED = [
    {
        "id": "v-unrelated",
        "asset_id": "a-1",
        "vuln_id": "CVE-2026-19999",
        "method": "authenticated_rescan",
        "result": "not_vulnerable",
        "observed_at": "2026-07-02T00:00:00Z",
    }
]
# A deployment record from before the period that targets nothing under test.
EARLIER_DEPLOYMENT = [
    {
        "id": "d-earlier",
        "asset_id": "a-1",
        "vuln_ids": ["CVE-2026-19998"],
        "change_ref": "CHG-0",
        "status": "succeeded",
        "started_at": "2026-06-01T00:00:00Z",
        "completed_at": "2026-06-01T01:00:00Z",
    }
]


@dataclass
class Outcome:
    """An assessment plus the ledger rows, read before the store closed."""

    assessment: Assessment
    ledger: dict[str, dict[str, Any]]

    def control(self, control_id: str) -> ControlResult:
        return next(c for c in self.assessment.controls if c.control_id == control_id)

    def flagged(self, control_id: str) -> set[str]:
        return {g.record_id for g in self.control(control_id).gaps if g.excepted_by is None}

    def metric(self, metric_id: str) -> Any:
        return next(m for m in self.assessment.metrics if m.id == metric_id)


@contextmanager
def _loaded(root: Path) -> Iterator[Any]:
    loaded = load_bundle(root)
    try:
        yield loaded
    finally:
        loaded.close()


def run(tmp_path: Path, **kinds: list[dict[str, Any]]) -> Outcome:
    builder = BundleBuilder(tmp_path)
    builder.add("assets", kinds.pop("assets", [ASSET]))
    for kind, records in kinds.items():
        builder.add(kind, records, "yaml" if kind in ("exceptions", "agents") else "jsonl")
    builder.write()
    with _loaded(tmp_path) as loaded:
        assert [i for i in loaded.issues if i.severity == "error"] == []
        result = assess(loaded, load_library(), AssessOptions())
        cursor = loaded.store.con.execute("SELECT * FROM a_ledger")
        names = [d[0] for d in cursor.description]
        ledger = {row[names.index("finding_id")]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    return Outcome(result, ledger)


def test_fix_verified_in_time_meets_the_sla(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        deployments=[deployment("d-1")],
        verifications=[verification("v-1", "not_vulnerable", "2026-07-06T00:00:00Z")],
    )
    row = out.ledger["f-1"]
    assert (row["state"], row["sla_status"], row["sla_rule"]) == ("verified_fixed", "met", "SEV-CRITICAL-HIGH")
    assert out.flagged("PRI-01") == set()
    assert out.flagged("VER-01") == out.flagged("VER-02") == set()


def test_success_whose_rescan_is_still_vulnerable(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        deployments=[deployment("d-1")],
        verifications=[verification("v-1", "vulnerable", "2026-07-06T00:00:00Z")],
    )
    assert out.ledger["f-1"]["state"] == "deployed_still_vulnerable"
    assert out.flagged("VER-02") == {"d-1"}
    assert out.flagged("PRI-01") == {"f-1"}  # due 2026-07-31, never verified fixed


def test_pending_reboot_has_not_taken_effect(tmp_path: Path) -> None:
    out = run(tmp_path, findings=[finding("f-1")], deployments=[deployment("d-1", status="pending_reboot")])
    assert out.ledger["f-1"]["state"] == "open"
    assert out.flagged("DEP-01") == {"d-1"}
    assert out.metric("E1").measure.numerator == 0  # not a success, not even as activity


def test_pending_reboot_followed_by_success_and_verification_is_resolved(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        deployments=[deployment("d-1", status="pending_reboot"), deployment("d-2", at="2026-07-07T00:00:00Z")],
        verifications=[verification("v-1", "not_vulnerable", "2026-07-08T00:00:00Z")],
    )
    assert out.flagged("DEP-01") == set()
    assert out.ledger["f-1"]["state"] == "verified_fixed"


def test_rollback_then_vulnerable_rescan_stays_reopened(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        deployments=[deployment("d-1")],
        verifications=[
            verification("v-1", "not_vulnerable", "2026-07-06T00:00:00Z"),
            verification("v-2", "vulnerable", "2026-07-12T00:00:00Z"),
        ],
        rollout_events=[
            {
                "id": "r-1",
                "type": "rollback",
                "deployment_ids": ["d-1"],
                "asset_ids": ["a-1"],
                "occurred_at": "2026-07-10T00:00:00Z",
                "reassessed_at": "2026-07-10T06:00:00Z",
            }
        ],
    )
    row = out.ledger["f-1"]
    assert (row["state"], row["reopened"]) == ("reopened", True)
    assert round(row["exposure_days"], 1) == 5.0 + 83.0  # the fixed days between do not count


def test_rollback_reopens_with_the_original_clock(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        deployments=[deployment("d-1")],
        verifications=[verification("v-1", "not_vulnerable", "2026-07-06T00:00:00Z")],
        rollout_events=[
            {
                "id": "r-1",
                "type": "rollback",
                "deployment_ids": ["d-1"],
                "asset_ids": ["a-1"],
                "occurred_at": "2026-07-10T00:00:00Z",
                "reassessed_at": "2026-07-10T06:00:00Z",
            }
        ],
    )
    row = out.ledger["f-1"]
    assert row["state"] == "reopened"
    assert row["due_at"].isoformat() == "2026-07-31T00:00:00+00:00"  # 30 days from first detection, unchanged
    assert row["sla_status"] == "missed"
    assert out.flagged("PRI-01") == {"f-1"}
    # exposure: 5 days before the fix, then from the rollback to the end of the period
    assert round(row["exposure_days"], 1) == 5.0 + 83.0


def test_clean_verification_after_the_rollback_closes_it_again(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        deployments=[deployment("d-1")],
        verifications=[
            verification("v-1", "not_vulnerable", "2026-07-06T00:00:00Z"),
            verification("v-2", "not_vulnerable", "2026-07-12T00:00:00Z"),
        ],
        rollout_events=[
            {
                "id": "r-1",
                "type": "rollback",
                "deployment_ids": ["d-1"],
                "asset_ids": ["a-1"],
                "occurred_at": "2026-07-10T00:00:00Z",
                "reassessed_at": "2026-07-10T06:00:00Z",
            }
        ],
    )
    row = out.ledger["f-1"]
    assert (row["state"], row["sla_status"]) == ("verified_fixed", "met")
    assert round(row["exposure_days"], 1) == 5.0 + 2.0


def _exception(approved: str, expires: str) -> dict[str, Any]:
    return {
        "id": "EXC-1",
        "asset_ids": ["a-1"],
        "vuln_ids": ["CVE-2026-10001"],
        "risk_response": "accept",
        "owner": "team",
        "approver": "ciso",
        "approved_at": approved,
        "expires_at": expires,
        "justification": "vendor fix pending",
    }


def test_exception_approved_after_the_breach_is_still_a_miss(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        verifications=UNRELATED,
        exceptions=[_exception("2026-08-15T00:00:00Z", "2026-11-01T00:00:00Z")],
    )
    row = out.ledger["f-1"]
    assert (row["state"], row["sla_status"]) == ("excepted", "missed")
    assert out.flagged("PRI-01") == {"f-1"}  # the deadline (2026-07-31) passed before approval
    assert out.flagged("PRI-04") == set()  # but today it is validly excepted
    assert [g.excepted_by for g in out.control("PRI-04").gaps] == ["EXC-1"]


def test_exception_approved_before_the_deadline_covers_it(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        verifications=UNRELATED,
        exceptions=[_exception("2026-07-20T00:00:00Z", "2026-10-15T00:00:00Z")],
    )
    assert out.ledger["f-1"]["sla_status"] == "met_by_exception"
    assert out.flagged("PRI-01") == set()


def test_exception_longer_than_the_policy_allows_covers_nothing(tmp_path: Path) -> None:
    # 104 days against a 92-day maximum: EXC-04 flags it, and it cannot cover the deadline either.
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        verifications=UNRELATED,
        exceptions=[_exception("2026-07-20T00:00:00Z", "2026-11-01T00:00:00Z")],
    )
    assert out.ledger["f-1"]["sla_status"] == "missed"
    assert out.flagged("EXC-04") == {"EXC-1"}


def test_expired_exception_reverts_immediately(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        verifications=UNRELATED,
        exceptions=[_exception("2026-07-20T00:00:00Z", "2026-09-01T00:00:00Z")],
    )
    row = out.ledger["f-1"]
    assert row["state"] == "open"  # not excepted at as_of
    assert row["sla_status"] == "met_by_exception"  # it was covered when the deadline fell
    assert out.flagged("PRI-04") == {"f-1"}


def test_vanished_ephemeral_asset_is_not_remediated_without_retirement(tmp_path: Path) -> None:
    pod = {**ASSET, "id": "a-1", "type": "container_runtime", "ephemeral": True, "retired_at": "2026-07-20T00:00:00Z"}
    out = run(tmp_path, assets=[pod], findings=[finding("f-1", severity="medium")], verifications=UNRELATED)
    assert out.ledger["f-1"]["state"] == "open"
    assert out.flagged("VER-05") == {"f-1"}


def test_vanished_ephemeral_asset_with_retirement_record_is_retired(tmp_path: Path) -> None:
    pod = {**ASSET, "id": "a-1", "type": "container_runtime", "ephemeral": True, "retired_at": "2026-07-20T00:00:00Z"}
    retire = {"id": "r-1", "type": "retirement", "asset_ids": ["a-1"], "occurred_at": "2026-07-20T00:00:00Z"}
    out = run(
        tmp_path,
        assets=[pod],
        findings=[finding("f-1", severity="medium")],
        rollout_events=[retire],
        verifications=UNRELATED,
    )
    assert out.ledger["f-1"]["state"] == "retired"
    assert out.flagged("VER-05") == set()


def test_duplicate_findings_from_two_scanners_count_once(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1"), finding("f-2", source="qualys", first_detected_at="2026-07-02T00:00:00Z")],
        deployments=[deployment("d-1")],
        verifications=[verification("v-1", "not_vulnerable", "2026-07-06T00:00:00Z")],
    )
    assert list(out.ledger) == ["f-1"]
    assert out.ledger["f-1"]["finding_ids"] == ["f-1", "f-2"]
    assert out.control("PRI-01").population == 1


def test_clock_skew_within_tolerance_counts_as_after_the_deployment(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        deployments=[deployment("d-1")],
        verifications=[verification("v-1", "not_vulnerable", "2026-07-04T23:55:00Z", deployment_id="d-1")],
    )
    assert out.flagged("VER-01") == set()
    assert out.ledger["f-1"]["state"] == "verified_fixed"


def test_fix_without_change_record(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        deployments=EARLIER_DEPLOYMENT,
        verifications=[verification("v-1", "not_vulnerable", "2026-07-06T00:00:00Z")],
    )
    assert out.ledger["f-1"]["state"] == "fixed_without_change_record"
    assert out.flagged("VER-04") == {"f-1"}


def test_zero_denominators_print_na_never_100_percent(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        findings=[finding("f-1", first_detected_at="2026-09-29T00:00:00Z")],
        deployments=EARLIER_DEPLOYMENT,
        verifications=UNRELATED,
    )
    e1 = out.metric("E1")
    assert e1.measure.display == "n/a (no population)"
    assert e1.measure.value is None
    assert out.control("DEP-02").population == 1  # the earlier deployment; none in the period


def test_missing_evidence_is_never_a_pass(tmp_path: Path) -> None:
    out = run(tmp_path, findings=[finding("f-1")])
    assert out.control("VER-01").status == "insufficient_evidence"
    assert out.control("PRI-01").status == "insufficient_evidence"  # nothing could ever be verified
    assert out.metric("E2").measurable is False
    assert "deployments" in (out.metric("E2").reason or "")


def test_kev_due_date_as_published_even_before_detection(tmp_path: Path) -> None:
    kev = {"id": "CVE-2026-10001", "date_added": "2026-05-01", "due_date": "2026-05-08"}
    out = run(tmp_path, findings=[finding("f-1")], kev_entries=[kev], verifications=UNRELATED)
    row = out.ledger["f-1"]
    assert row["kev"] is True
    assert row["sla_rule"] == "KEV-DUE"
    assert row["due_at"].isoformat() == "2026-05-09T00:00:00+00:00"  # end of the published due day, UTC
    assert out.flagged("PRI-01") == {"f-1"}  # detected in the period already past due
    assert out.flagged("PRI-02") == {"f-1"}


def test_strictest_deadline_wins(tmp_path: Path) -> None:
    # KEV, not exposed, Automatable unknown (default no), impact unknown (default total): BOD 26-04 14D
    # from the earlier of KEV addition and detection, earlier than the KEV due date and the 30-day rule.
    kev = {"id": "CVE-2026-10001", "date_added": "2026-05-01", "due_date": "2026-05-22"}
    out = run(tmp_path, findings=[finding("f-1")], kev_entries=[kev], verifications=UNRELATED)
    row = out.ledger["f-1"]
    assert (row["bod_outcome"], row["sla_rule"]) == ("14D", "BOD2604-14D")
    assert row["due_at"].isoformat() == "2026-05-15T00:00:00+00:00"


def test_without_any_scan_a_deployed_instance_is_unverified_not_out_of_scope(tmp_path: Path) -> None:
    # issue 10.12: no scan evidence either way is "deployed, unverified", never "not in scan scope"
    out = run(tmp_path, findings=[finding("f-1")], deployments=[deployment("d-1")], verifications=UNRELATED)
    assert out.ledger["f-1"]["state"] == "deployed_unverified"
    messages = [g.message for g in out.control("PRI-04").gaps]
    assert len(messages) == 1
    assert messages[0].endswith("(deployed_unverified)")


def test_a_scanned_asset_not_rescanned_after_the_deployment_is_out_of_scan_scope(tmp_path: Path) -> None:
    earlier = {
        "id": "s-1",
        "asset_id": "a-1",
        "tool": "nessus",
        "authenticated": True,
        "completed_at": "2026-07-02T00:00:00Z",
    }
    out = run(
        tmp_path,
        findings=[finding("f-1")],
        deployments=[deployment("d-1")],
        verifications=UNRELATED,
        scans=[earlier],
    )
    assert out.ledger["f-1"]["state"] == "not_in_scan_scope"
