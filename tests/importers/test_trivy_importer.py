"""Trivy JSON: the two real samples, legacy shapes and nulls."""

from __future__ import annotations

import json

import pytest
from importer_helpers import COLLECTED_AT, counts, of_kind, run_import

from reporter.errors import ImportFormatError

FORMAT = "trivy-json"


def test_secrets_sample_gives_one_exposure_per_secret_and_no_scan() -> None:
    # Two Secrets in the only result; its Class is "secret", so no vulnerability scan happened.
    records = run_import(FORMAT, "trivy-repo-secrets.json")
    assert counts(records) == {"secret_exposures": 2}
    exposures = sorted(of_kind(records, "secret_exposures"), key=lambda d: d["fingerprint"])
    assert [e["fingerprint"] for e in exposures] == [
        "deploy.sh:aws-access-key-id:3",
        "deploy.sh:mysecret:7",
    ]
    assert exposures[0]["location"] == "testdata/fixtures/repo/secrets:deploy.sh:3"
    assert exposures[0]["detected_at"] == "2021-08-25T12:20:30+00:00"  # nanoseconds truncated
    # Line 5 of the sample's context shows a token in clear: Code is never read.
    assert "ghp_" not in json.dumps([r.data for r in records])


def test_npm_sample_gives_scan_finding_and_vex_suppressed_finding() -> None:
    # One Vulnerabilities entry + one ExperimentalModifiedFindings entry; one scan of the artifact.
    records = run_import(FORMAT, "trivy-fs-npm-with-vex-suppressed.json")
    assert counts(records) == {"scans": 1, "findings": 2}
    scan = of_kind(records, "scans")[0]
    assert scan["asset_id"] == "package-lock.json"
    assert scan["completed_at"] == "2024-09-09T07:21:09.230231+00:00"  # +06:00 → UTC
    findings = {f["vuln_id"]: f for f in of_kind(records, "findings")}
    open_finding = findings["CVE-2017-20165"]
    assert open_finding["fixed_version"] == "3.1.0, 2.6.9"  # kept as Trivy lists them
    assert open_finding["severity"] == "high"
    assert open_finding["cvss_vector"] == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    assert open_finding["first_detected_at"] == scan["completed_at"]
    assert "vex_status" not in open_finding
    suppressed = findings["CVE-2017-16137"]
    assert suppressed["vex_status"] == "not_affected"
    assert suppressed["state"] == "open"
    assert suppressed["cvss_score"] == 3.7  # the severity source (ghsa) wins over nvd


def test_legacy_array_needs_the_manifest_asset_and_time() -> None:
    with pytest.raises(ImportFormatError, match="asset_id"):
        run_import(FORMAT, "variant-legacy-array.json")
    with pytest.raises(ImportFormatError, match="collected_at"):
        run_import(FORMAT, "variant-legacy-array.json", asset_id="img-legacy")
    records = run_import(FORMAT, "variant-legacy-array.json", asset_id="img-legacy", collected_at=COLLECTED_AT)
    assert counts(records) == {"scans": 1, "findings": 2}
    assert {f["asset_id"] for f in of_kind(records, "findings")} == {"img-legacy"}


def test_legacy_null_is_an_empty_scan() -> None:
    records = run_import(FORMAT, "variant-legacy-null.json", asset_id="img-legacy", collected_at=COLLECTED_AT)
    assert counts(records) == {"scans": 1}


def test_report_without_results_is_a_clean_scan() -> None:
    records = run_import(FORMAT, "variant-no-results.json")
    assert counts(records) == {"scans": 1}
    assert of_kind(records, "scans")[0]["completed_at"] == "2024-03-01T07:00:00.123456+00:00"


def test_nulls_missing_keys_and_trivyignore() -> None:
    # os-pkgs result without Vulnerabilities; 2 vulnerabilities; an ignored (.trivyignore)
    # vulnerability; an ignored secret (dropped); one secret with Code null.
    records = run_import(FORMAT, "variant-image-nulls.json")
    assert counts(records) == {"scans": 1, "findings": 3, "secret_exposures": 1}
    findings = {f["vuln_id"]: f for f in of_kind(records, "findings")}
    assert findings["GHSA-c2qf-rxjj-qqgw"]["severity"] == "unknown"
    assert "cvss_vector" not in findings["GHSA-c2qf-rxjj-qqgw"]
    assert findings["CVE-2024-4068"]["cvss_vector"].startswith("CVSS:4.0/")  # ghsa source first
    assert findings["CVE-2023-45857"]["vex_status"] == "suppressed"  # .trivyignore: no VEX analysis


def test_ids_are_stable_across_runs() -> None:
    first = run_import(FORMAT, "variant-image-nulls.json")
    second = run_import(FORMAT, "variant-image-nulls.json")
    assert [r.data["id"] for r in first] == [r.data["id"] for r in second]
    assert all(r.data["id"].startswith("trivy:") for r in first)


def test_a_grype_report_is_not_taken_for_trivy() -> None:
    with pytest.raises(ImportFormatError, match="not a Trivy JSON report"):
        run_import(FORMAT, "../grype-json/grype-presenter-golden-kev-epss.json")
