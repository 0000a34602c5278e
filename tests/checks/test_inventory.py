"""INV checks and the V metrics, each on a small inline bundle assessed by the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.bundles import BundleBuilder, example, minimal_valid
from support.engine import assess_builder, control, flagged_ids, gap_messages, metric, replace_kind

from reporter.bundle.limits import Limits
from reporter.catalog.library import Library
from reporter.models.results import Assessment, Certainty
from reporter.models.status import Status


def _drop(builder: BundleBuilder, kind: str) -> None:
    builder.sources = [s for s in builder.sources if s.get("kind") != kind]


def _obs(oid: str, key: str, at: str, asset_id: str | None = None) -> dict[str, Any]:
    return example("observations", id=oid, asset_key=key, asset_id=asset_id, observed_at=at)


def _scan(sid: str, asset: str, at: str, **changes: Any) -> dict[str, Any]:
    return example("scans", id=sid, asset_id=asset, completed_at=at, **changes)


def _asset(aid: str, **changes: Any) -> dict[str, Any]:
    base = {"name": aid.removeprefix("a-"), "internet_facing": False, "aliases": []}
    return example("assets", id=aid, **{**base, **changes})


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory, library: Library) -> Assessment:
    """One small estate with a case (clean or gap) for every INV control; as_of 2026-10-01."""
    builder = minimal_valid(tmp_path_factory.mktemp("estate"))
    vendor = {"managed_by": "vendor", "type": "ot_device"}
    replace_kind(
        builder,
        "assets",
        [
            example("assets"),  # a-web-01: internet-facing, external scan in 30 days, complete: clean
            _asset("a-web-02", internet_facing=True),  # internet-facing, internal scan only
            _asset("a-erp-01", owner=None),  # no owner; scanned 78 days ago (cadence 90)
            _asset("a-batch-02"),  # last completed scan 122 days ago; a later one failed
            _asset("a-old-01", owner=None, lifecycle="retired", retired_at="2026-05-01T00:00:00Z"),  # out of scope
            _asset("a-kiosk", type="endpoint", patch_automation=None),  # unauthenticated scan only
            _asset("a-vend-1", **vendor),  # vendor-managed, scanned: clean
            _asset("a-vend-2", **vendor),  # vendor-managed, neither scanned nor verified
            _asset("a-crm", type="saas", managed_by="third_party", owner=None),  # no owner; SaaS is not scanned
            _asset("a-img-1", type="container_image"),
            _asset("a-img-2", type="container_image"),  # last scanned 2026-05-01
            _asset("a-pod-1", type="container_runtime", parent_image_id="a-img-1"),
            _asset("a-pod-2", type="container_runtime", parent_image_id="a-img-2"),
            _asset("a-pod-3", type="container_runtime"),  # no image reference
        ],
    )
    recent = "2026-09-01T00:00:00Z"
    replace_kind(
        builder,
        "scans",
        [
            _scan("s-01", "a-web-01", "2026-09-20T00:00:00Z", scope="external", authenticated=False),
            _scan("s-02", "a-web-01", "2026-09-21T00:00:00Z"),
            _scan("s-03", "a-web-02", "2026-09-25T00:00:00Z"),
            _scan("s-04", "a-erp-01", "2026-07-15T00:00:00Z"),
            _scan("s-05", "a-batch-02", "2026-06-01T00:00:00Z"),
            _scan("s-06", "a-batch-02", recent, status="failed"),
            _scan("s-07", "a-kiosk", recent, authenticated=False),
            _scan("s-08", "a-vend-1", recent, authenticated=False),
            _scan("s-09", "a-crm", recent),
            _scan("s-10", "a-img-1", recent),
            _scan("s-11", "a-img-2", "2026-05-01T00:00:00Z"),
            *(_scan(f"s-p{n}", f"a-pod-{n}", recent) for n in (1, 2, 3)),
        ],
    )
    replace_kind(
        builder,
        "observations",
        [
            _obs("o-1", "i-0abc123", "2026-09-01T00:00:00Z"),  # alias of a-web-01, no asset_id: known
            _obs("o-2", "erp-01", "2026-09-02T00:00:00Z"),  # the name of a-erp-01: known
            _obs("o-3", "10.9.9.9", "2026-09-20T00:00:00Z"),
            _obs("o-4", "10.9.9.9", "2026-08-10T00:00:00Z"),  # the same unknown key, seen earlier
            _obs("o-5", "10.7.7.7", "2026-06-10T00:00:00Z"),  # before the period: not assessed
        ],
    )
    replace_kind(
        builder,
        "identities",
        [
            example("identities"),
            example(
                "identities",
                id="nhi-0042",
                name="agent-token",
                type="agent_credential",
                used_by=["agent-support-01"],
                purpose=None,
            ),
        ],
    )
    replace_kind(
        builder,
        "secret_exposures",
        [example("secret_exposures"), example("secret_exposures", id="sx-0002", identity_id=None, fingerprint="x")],
    )
    return assess_builder(builder, library)


def test_key_resolved_by_alias_or_name_is_known(estate: Assessment) -> None:
    inv01 = control(estate, "INV-01")
    assert inv01.population == 3  # a-web-01, a-erp-01 and the key 10.9.9.9; 10.7.7.7 was seen before the period
    assert flagged_ids(estate, "INV-01") == {"o-4"}  # one gap per unknown key, citing its first sighting
    assert inv01.status is Status.FAIL
    assert "10.9.9.9 seen 2 time(s)" in inv01.gaps[0].message


def test_unknown_key_age_is_since_first_sighting_and_said_against_the_window(tmp_path: Path, library: Library) -> None:
    """INV-01 printed "unknown for 6 days" next to a 7-day window for a key V3 counted as older:
    the age runs from the first sighting (also before the period), as in V3, with a decimal, and the
    message says whether the window is past (item 14)."""
    builder = minimal_valid(tmp_path)
    replace_kind(
        builder,
        "observations",
        [
            _obs("o-1", "10.7.7.7", "2026-09-24T12:00:00Z"),  # in the period ...
            _obs("o-2", "10.7.7.7", "2026-06-30T12:00:00Z"),  # ... but first seen 92.5 days before as_of
            _obs("o-3", "10.8.8.8", "2026-09-27T00:00:00Z"),  # 4 days: within the window
        ],
    )
    result = assess_builder(builder, library)
    messages = gap_messages(result, "INV-01")
    assert messages["o-1"].endswith("(unknown for 92.5 days, past the CIS 1.2 handling window of 7 days)")
    assert messages["o-3"].endswith("(unknown for 4.0 days, within the CIS 1.2 handling window of 7 days)")
    v3 = metric(result, "V3").breakdown
    assert v3["keys_older_than_limit"] == ["10.7.7.7"]


def test_inventory_accuracy_and_unknown_assets_metrics(estate: Assessment) -> None:
    v1, v3 = metric(estate, "V1"), metric(estate, "V3")
    assert v1.measure is not None
    assert (v1.measure.numerator, v1.measure.denominator) == (2, 3)
    assert v3.measure is not None
    assert v3.measure.value == 1
    assert v3.breakdown["keys_older_than_limit"] == ["10.9.9.9"]


def test_discovery_freshness_is_not_measurable_from_sightings(estate: Assessment) -> None:
    v4 = metric(estate, "V4")
    assert not v4.measurable
    assert "latest sighting per source: crowdstrike" in str(v4.reason)


def test_record_completeness_of_active_assets(estate: Assessment) -> None:
    assert flagged_ids(estate, "INV-02") == {"a-erp-01", "a-crm"}  # retired a-old-01 is out of scope
    assert "has no owner" in gap_messages(estate, "INV-02")["a-erp-01"]
    v2 = metric(estate, "V2")
    assert v2.measure is not None
    assert (v2.measure.numerator, v2.measure.denominator) == (11, 13)


def test_scan_cadence_external_for_internet_facing_internal_otherwise(estate: Assessment) -> None:
    assert flagged_ids(estate, "INV-03") == {"a-web-02", "a-batch-02", "a-vend-2", "a-img-2"}
    messages = gap_messages(estate, "INV-03")
    assert "no completed external scan in the 30 days" in messages["a-web-02"]
    assert "last 2026-06-01" in messages["a-batch-02"]  # the failed scan of 2026-09-01 does not count
    assert control(estate, "INV-03").population == 12  # active, not SaaS
    v5 = metric(estate, "V5")
    assert v5.breakdown["by_exposure"]["external (internet-facing)"] == {
        "assets": 2,
        "covered": 1,
        "coverage": "50.0 % (1/2)",
    }


def test_authenticated_scans_within_cadence(estate: Assessment) -> None:
    assert flagged_ids(estate, "INV-04") == {"a-batch-02", "a-kiosk", "a-img-2"}  # OT, SaaS and pods not in scope
    assert "no completed authenticated scan in the 90 days" in gap_messages(estate, "INV-04")["a-kiosk"]


def test_unknown_patch_automation_is_undecidable(estate: Assessment) -> None:
    inv05 = control(estate, "INV-05")
    assert [(g.record_id, g.certainty) for g in inv05.gaps] == [("a-kiosk", Certainty.UNKNOWN)]
    assert inv05.status is Status.PARTIAL


def test_third_party_asset_needs_owner_and_scan_or_verification(estate: Assessment) -> None:
    messages = gap_messages(estate, "INV-06")
    assert set(messages) == {"a-vend-2", "a-crm"}
    assert "no internal owner" in messages["a-crm"]
    assert "no completed scan and no verification" in messages["a-vend-2"]


def test_nhi_inventory_flags_missing_attributes_and_unlinked_leaks(estate: Assessment) -> None:
    assert {(g.kind, g.record_id) for g in control(estate, "INV-07").gaps} == {
        ("identities", "nhi-0042"),
        ("secret_exposures", "sx-0002"),
    }
    v8 = metric(estate, "V8")
    assert v8.measure is not None
    assert (v8.measure.numerator, v8.measure.denominator) == (1, 3)


def test_running_containers_trace_to_scanned_images(estate: Assessment) -> None:
    messages = gap_messages(estate, "INV-08")
    assert set(messages) == {"a-pod-2", "a-pod-3"}
    assert "names no image" in messages["a-pod-3"]
    assert "last 2026-05-01" in messages["a-pod-2"]


def test_no_observations_is_insufficient_evidence_never_a_pass(tmp_path: Path, library: Library) -> None:
    builder = minimal_valid(tmp_path)
    _drop(builder, "observations")
    result = assess_builder(builder, library)
    assert control(result, "INV-01").status is Status.INSUFFICIENT_EVIDENCE
    assert not metric(result, "V1").measurable


def test_unknown_required_field_makes_the_policy_invalid(tmp_path: Path) -> None:
    from reporter.pipeline import LoadOptions, validate_bundle

    builder = minimal_valid(tmp_path)
    builder.policy = {"policy_version": 1, "inventory": {"required_fields": ["owner", "rack"]}}
    builder.write()
    report = validate_bundle(tmp_path, LoadOptions(limits=Limits()))
    [issue] = [i for i in report.issues if i.severity == "error"]
    assert (issue.code, issue.file, issue.field) == ("policy.invalid", "policy.yaml", "inventory.required_fields")
    assert "rack" in issue.message
