"""Gitleaks JSON: v8 reporter golden, --redact baseline, legacy v7 and dir mode."""

from __future__ import annotations

import pytest
from importer_helpers import COLLECTED_AT, counts, of_kind, run_import

from reporter.errors import ImportFormatError

FORMAT = "gitleaks-json"


def test_golden_computes_the_missing_fingerprint_and_reads_the_us_date() -> None:
    with pytest.raises(ImportFormatError, match="collected_at"):
        run_import(FORMAT, "gitleaks-v8-json-reporter-golden.json")
    records = run_import(
        FORMAT,
        "gitleaks-v8-json-reporter-golden.json",
        asset_id="repo-auth",
        collected_at=COLLECTED_AT,
    )
    assert counts(records) == {"secret_exposures": 1}
    exposure = of_kind(records, "secret_exposures")[0]
    assert exposure["fingerprint"] == "0000000000000000:auth.py:test-rule:1"  # "Fingerprint": ""
    assert exposure["location"] == "repo-auth@0000000000000000:auth.py:1"
    assert exposure["exposed_at"] == "2003-10-19T00:00:00+00:00"  # "10-19-2003"
    assert exposure["detected_at"] == "2026-01-05T10:00:00+00:00"
    assert exposure["detector"] == "test-rule"


def test_redacted_baseline_keeps_native_fingerprints() -> None:
    records = run_import(FORMAT, "gitleaks-v8-redacted-baseline.json", collected_at=COLLECTED_AT)
    assert counts(records) == {"secret_exposures": 2}
    assert sorted(e["fingerprint"] for e in of_kind(records, "secret_exposures")) == [
        "9326f35380636bcbe61e94b0584d1618c4b5c2c2:detect/detect_test.go:pypi-upload-token:32",
        "9326f35380636bcbe61e94b0584d1618c4b5c2c2:detect/detect_test.go:pypi-upload-token:33",
    ]


def test_legacy_v7_keys_and_credentials_in_repo_url_are_dropped() -> None:
    records = run_import(FORMAT, "variant-v7-legacy.json", collected_at=COLLECTED_AT)
    assert counts(records) == {"secret_exposures": 2}
    exposures = {e["detector"]: e for e in of_kind(records, "secret_exposures")}
    aws = exposures["AWS Access Key"]
    assert aws["location"] == (
        "https://git.example/payments-api@1111111111111111111111111111111111111111:config/dev.ini:12"
    )
    assert aws["fingerprint"] == ("1111111111111111111111111111111111111111:config/dev.ini:AWS Access Key:12")
    assert aws["exposed_at"] == "2021-07-15T15:00:32+00:00"
    key = exposures["Asymmetric Private Key"]  # no lineNumber, repo "."
    assert key["location"] == "2222222222222222222222222222222222222222:cert-key.pem"


def test_dir_mode_without_fingerprint_key() -> None:
    records = run_import(
        FORMAT,
        "variant-v8-dir-mode-no-fingerprint.json",
        asset_id="svc-a",
        collected_at=COLLECTED_AT,
    )
    exposure = of_kind(records, "secret_exposures")[0]
    assert exposure["fingerprint"] == "settings/local.py:generic-api-key:4"
    assert exposure["location"] == "svc-a:settings/local.py:4"
    assert "exposed_at" not in exposure  # Date ""


def test_empty_report_needs_nothing() -> None:
    assert run_import(FORMAT, "variant-empty.json") == []


def test_an_object_is_not_a_gitleaks_report() -> None:
    with pytest.raises(ImportFormatError, match="expected an array"):
        run_import(FORMAT, "../grype-json/grype-presenter-golden-kev-epss.json")
