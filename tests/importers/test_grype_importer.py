"""Grype JSON: real reports of grype 0.7-0.96 (DefectDojo samples, presenter golden files) and
hand-made variants; scan-series fields, stable ids, the related advisory's severity fallback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from importer_helpers import (
    COLLECTED_AT,
    SAMPLES,
    check_sightings,
    counts,
    finding_ids,
    import_path,
    of_kind,
    run_import,
    sample,
)

from reporter.errors import ImportFormatError

FORMAT = "grype-json"
FILES = sorted(p.name for p in (SAMPLES / FORMAT).iterdir())
# Directory sources name no usable asset ("./app", "\".\"", "/some/path"): the manifest names it.
NAMELESS = {"variant-ignored-related.json", "defectdojo-many_vulns4.json", "grype-presenter-golden-dirs.json"}


def _import(name: str, **context: Any) -> list[Any]:
    context.setdefault("collected_at", COLLECTED_AT)
    return run_import(FORMAT, name, asset_id="src-1" if name in NAMELESS else None, **context)


@pytest.mark.parametrize("name", FILES)
def test_every_sample_gives_sightings_of_its_scan_with_stable_ids(name: str) -> None:
    records = _import(name)
    assert counts(records)["scans"] == 1
    check_sightings(records)
    later = _import(name, collected_at=COLLECTED_AT.replace(month=4))
    assert finding_ids(later) == finding_ids(records)


def test_scope_keys_name_the_distro_for_os_packages_and_the_source_otherwise() -> None:
    records = _import("defectdojo-issue_9618.json")  # RHEL 8 image: rpm and java-archive matches
    scan = of_kind(records, "scans")[0]
    assert scan["scope_keys"] == ["os-pkgs:redhat", "grype-source:image"]
    assert scan["target"] == (
        "quay.io/cloudservices/xjoin-kafka-connect-strimzi:latest"
        "@sha256:11557074a2e35fcbb2f367ffe1c6bb90968a56c3a08a48bf9370f8445ae2cc36"  # manifest digest
    )
    keys = {f["scope_keys"][0] for f in of_kind(records, "findings")}
    assert keys == {"os-pkgs:redhat", "grype-source:image"}
    directory = of_kind(_import("defectdojo-many_vulns4.json"), "scans")[0]  # grype 0.24, distro name ""
    assert directory["scope_keys"] == ["grype-source:directory"]


def test_a_cve_without_severity_takes_its_related_advisorys() -> None:
    # Issue 10: CVE-2024-26308 (commons-compress 1.21) has no severity and `cvss: []` in this real
    # grype 0.96 report of a RHEL 8 image; its related GHSA-4265-ccf5-phj5 says High, 7.5.
    findings = of_kind(_import("defectdojo-issue_9618.json"), "findings")
    compress = next(f for f in findings if f["vuln_id"] == "CVE-2024-26308")
    assert (compress["severity"], compress["cvss_score"]) == ("high", 7.5)
    assert compress["cvss_vector"] == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    assert (compress["installed_version"], compress["fixed_version"]) == ("1.21", "1.26.0")
    assert compress["purl"] == "pkg:maven/org.apache.commons/commons-compress@1.21"
    assert compress["scope_keys"] == ["grype-source:image"]  # a jar: not the OS package database
    assert "fix_refs" not in compress  # relatedVulnerabilities are aliases, not fixes


def test_rpm_matches_carry_the_advisories_as_fix_refs() -> None:
    findings = of_kind(_import("defectdojo-issue_9618.json"), "findings")
    bind = [f for f in findings if f["vuln_id"] == "CVE-2023-2828"]
    assert {f["package"] for f in bind} == {"bind-libs", "bind-libs-lite", "bind-license"}
    assert {tuple(f["fix_refs"]) for f in bind} == {("RHSA-2023:4102",)}
    assert all(f["purl"].startswith("pkg:rpm/rhel/bind-") for f in bind)


def _upgrade(report: dict[str, Any]) -> None:
    """A later scan after an upgrade of the first matched package and a rebuild of the image."""
    report["descriptor"]["timestamp"] = "2025-09-19T11:43:35Z"
    report["source"]["target"]["manifestDigest"] = "sha256:" + "2" * 64
    artifact = report["matches"][0]["artifact"]
    old = artifact["version"]
    artifact["version"] = old + ".1"
    artifact["purl"] = artifact["purl"].replace(f"@{old}", f"@{old}.1")
    for location in artifact["locations"]:
        location["path"] = location["path"].replace(old, old + ".1")


def test_finding_ids_survive_rescans_and_upgrades(tmp_path: Path) -> None:
    name = "defectdojo-many_vulns_with_epss_values.json"
    report = json.loads(sample(FORMAT, name).read_text(encoding="utf-8"))
    _upgrade(report)
    path = tmp_path / name
    path.write_text(json.dumps(report), encoding="utf-8")
    before, after = _import(name), import_path(FORMAT, path)
    assert finding_ids(after) == finding_ids(before)
    assert of_kind(after, "scans")[0]["id"] != of_kind(before, "scans")[0]["id"]


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


def test_golden_needs_a_scan_time_because_its_timestamp_is_empty() -> None:
    with pytest.raises(ImportFormatError, match="collected_at"):
        run_import(FORMAT, "grype-presenter-golden-kev-epss.json")


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


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (SAMPLES / "trivy-json" / "trivy-fs-npm-with-vex-suppressed.json", "looks like a Trivy JSON report"),
        (SAMPLES / "gitleaks-json" / "gitleaks-v8-redacted-baseline.json", "looks like a Gitleaks report"),
        (SAMPLES / "cyclonedx-json" / "trivy-pom-cyclonedx.json", "looks like a CycloneDX document"),
    ],
)
def test_other_tools_are_refused_by_name(path: Path, message: str) -> None:
    with pytest.raises(ImportFormatError, match=f"not a Grype JSON report: it {message}"):
        import_path(FORMAT, path, asset_id="a", collected_at=COLLECTED_AT)


def test_matches_of_another_shape_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"matches": [{"foo": 1}]}', encoding="utf-8")
    with pytest.raises(ImportFormatError, match="its matches have no 'vulnerability'"):
        import_path(FORMAT, path, asset_id="a", collected_at=COLLECTED_AT)
