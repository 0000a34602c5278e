"""Grype JSON: the presenter golden file (KEV, EPSS) and ignored/related-CVE variants."""

from __future__ import annotations

import pytest
from importer_helpers import COLLECTED_AT, counts, of_kind, run_import

from reporter.errors import ImportFormatError

FORMAT = "grype-json"


def test_golden_needs_a_scan_time_because_its_timestamp_is_empty() -> None:
    with pytest.raises(ImportFormatError, match="collected_at"):
        run_import(FORMAT, "grype-presenter-golden-kev-epss.json")


def test_golden_maps_kev_and_epss() -> None:
    # Two matches, no ignoredMatches: one scan, two findings.
    records = run_import(FORMAT, "grype-presenter-golden-kev-epss.json", collected_at=COLLECTED_AT)
    assert counts(records) == {"scans": 1, "findings": 2}
    findings = {f["vuln_id"]: f for f in of_kind(records, "findings")}
    first, second = findings["CVE-1999-0001"], findings["CVE-1999-0002"]
    assert first["asset_id"] == "user-input"
    assert first["fixed_version"] == "1.2.1, 2.1.3, 3.4.0"
    assert (first["epss"], first["epss_percentile"]) == (0.03, 0.42)
    assert "epss_date" not in first  # Go zero date 0001-01-01 means unknown
    assert "kev" not in first
    assert second["kev"] is True
    assert second["severity"] == "critical"
    assert "fixed_version" not in second  # fix.state "" and no versions
    assert first["first_detected_at"] == "2026-01-05T10:00:00+00:00"


def test_related_cve_ignored_matches_and_directory_source() -> None:
    with pytest.raises(ImportFormatError, match="asset_id"):
        run_import(FORMAT, "variant-ignored-related.json")  # source.target "./app"
    records = run_import(FORMAT, "variant-ignored-related.json", asset_id="app-src")
    # 3 matches (GHSA→CVE, the same CVE directly, ELSA without CVE) + 2 ignored = 4 findings.
    assert counts(records) == {"scans": 1, "findings": 4}
    findings = {(f["vuln_id"], f["package"]): f for f in of_kind(records, "findings")}
    pip = findings[("CVE-2023-5752", "pip")]
    assert pip["severity"] == "medium"  # the direct match wins over the GHSA's related record
    assert pip["cvss_vector"].startswith("CVSS:3.1/")  # v3.1 preferred over v2
    assert ("ELSA-2024-0001", "glibc") in findings  # no related CVE: the original id is kept
    fixed = findings[("CVE-2024-0727", "openssl")]
    assert (fixed["vex_status"], fixed["state"], fixed["severity"]) == ("fixed", "closed", "info")
    ignored = findings[("CVE-2024-2511", "openssl")]
    assert (ignored["vex_status"], ignored["state"]) == ("suppressed", "open")  # an ignore rule is not an analysis
    scan = of_kind(records, "scans")[0]
    assert scan["completed_at"] == "2024-01-11T15:53:35.123456+00:00"


def test_a_trivy_report_is_not_taken_for_grype() -> None:
    with pytest.raises(ImportFormatError, match="not a Grype JSON report"):
        run_import(FORMAT, "../trivy-json/trivy-fs-npm-with-vex-suppressed.json")
