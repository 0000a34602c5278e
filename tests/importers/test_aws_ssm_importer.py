"""AWS SSM patch states and compliance items: scans, and deployments for Install operations."""

from __future__ import annotations

import pytest
from importer_helpers import counts, of_kind, run_import

from reporter.errors import ImportFormatError

FORMAT = "aws-ssm-patch-states"


def test_documentation_example_is_one_scan_and_no_deployment() -> None:
    records = run_import(FORMAT, "describe-instance-patch-states.json")
    assert counts(records) == {"scans": 1}  # Operation "Scan": nothing was deployed
    scan = of_kind(records, "scans")[0]
    assert scan["asset_id"] == "i-1234567890abcdef0"
    assert scan["completed_at"] == "2021-05-03T18:01:09+00:00"
    assert scan["authenticated"] is True


def test_install_pages_map_counts_to_deployment_status() -> None:
    records = run_import(FORMAT, "variant-install-pages.json")
    assert counts(records) == {"scans": 4, "deployments": 4}
    status = {d["asset_id"]: d["status"] for d in of_kind(records, "deployments")}
    assert status == {
        "i-0aaaaaaaaaaaaaaa1": "pending_reboot",
        "i-0aaaaaaaaaaaaaaa2": "failed",  # failed outranks pending reboot and missing
        "i-0aaaaaaaaaaaaaaa3": "partial",  # patches still missing after the install
        "i-0aaaaaaaaaaaaaaa4": "succeeded",
    }
    third = next(d for d in of_kind(records, "deployments") if d["asset_id"].endswith("3"))
    assert (third["started_at"], third["completed_at"]) == (
        "2024-07-01T10:00:00+00:00",
        "2024-07-01T10:45:00+00:00",
    )
    assert third["patch_id"] == "pb-0123456789abcdef0"


def test_compliance_items_give_one_scan_per_instance_execution() -> None:
    records = run_import(FORMAT, "variant-compliance-items.json")
    assert counts(records) == {"scans": 1}  # 2 Patch items of one execution; Association ignored
    assert of_kind(records, "scans")[0]["completed_at"] == "2024-01-01T00:00:00.123000+00:00"


def test_invalid_documented_timestamp_is_located() -> None:
    with pytest.raises(ImportFormatError, match="not a recognised timestamp") as caught:
        run_import(FORMAT, "variant-invalid-timestamp.json")
    assert caught.value.location.field == "InstancePatchStates[0].OperationStartTime"


def test_one_asset_id_cannot_stand_for_several_instances() -> None:
    with pytest.raises(ImportFormatError, match="second asset"):
        run_import(FORMAT, "variant-install-pages.json", asset_id="a-web-01")
    records = run_import(FORMAT, "describe-instance-patch-states.json", asset_id="a-web-01")
    assert of_kind(records, "scans")[0]["asset_id"] == "a-web-01"
