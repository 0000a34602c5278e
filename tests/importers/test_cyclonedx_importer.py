"""CycloneDX JSON: the CISA VEX case (BOM-Links, several statements per CVE), grype, Trivy,
OSV-Scanner and OSS Index documents, SBOM+VDR 1.5 and 1.4; GHSA/CVE aliases, fixed versions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from importer_helpers import COLLECTED_AT, SAMPLES, counts, finding_ids, import_path, of_kind, run_import

from reporter.errors import ImportFormatError

FORMAT = "cyclonedx-json"
VEX = "cisa-vex-case8-multi-product-status.json"
FILES = sorted(p.name for p in (SAMPLES / FORMAT).iterdir())


@pytest.mark.parametrize("name", FILES)
def test_every_sample_gives_findings_with_well_formed_purls_and_stable_ids(name: str) -> None:
    records = run_import(FORMAT, name, asset_id="product-1", collected_at=COLLECTED_AT)
    findings = of_kind(records, "findings")
    assert findings
    assert counts(records) == {"findings": len(findings)}  # a document names no scan
    assert all("scan_id" not in f and "scope_keys" not in f for f in findings)
    assert all(f["purl"].startswith("pkg:") for f in findings if "purl" in f)
    later = run_import(FORMAT, name, asset_id="product-1", collected_at=COLLECTED_AT.replace(month=4))
    assert finding_ids(later) == finding_ids(records)


def test_a_ghsa_linked_to_its_cve_is_one_finding_under_the_cve() -> None:
    # OSV-Scanner lists the advisory GHSA-9f46-5r25-5wfm with its CVE in `references`.
    osv = of_kind(
        run_import(FORMAT, "osv-scanner-cyclonedx-1.5-ghsa-cve-alias.json", asset_id="app", collected_at=COLLECTED_AT),
        "findings",
    )
    assert [f["vuln_id"] for f in osv] == ["CVE-2021-32708"]
    # The same flaw listed twice, as GHSA and as CVE, linked both ways: one finding, the CVE's,
    # with the severity, CVSS and fixed version only the GHSA gives.
    [finding] = of_kind(run_import(FORMAT, "variant-ghsa-and-cve-linked.json"), "findings")
    assert finding["vuln_id"] == "CVE-2024-26308"
    assert (finding["severity"], finding["cvss_score"], finding["fixed_version"]) == ("high", 7.5, "1.26.0")
    assert finding["purl"] == "pkg:maven/org.apache.commons/commons-compress@1.21"
    # OSS Index ids (jake) and a Snyk id each name one CVE: reported as that CVE.
    jake = of_kind(run_import(FORMAT, "defectdojo-jake2-ossindex.json", asset_id="app"), "findings")
    assert len(jake) == 7
    assert all(f["vuln_id"].startswith("CVE-") for f in jake)
    snyk = of_kind(
        run_import(FORMAT, "defectdojo-issue_8022-snyk-vex.json", asset_id="app", collected_at=COLLECTED_AT), "findings"
    )
    assert {f["vuln_id"] for f in snyk} == {"CVE-2018-7489"}


def test_grype_fixed_versions_property() -> None:
    # grype 0.41's CycloneDX lists GHSAs without linking them to the CVEs: they stay separate.
    findings = {
        f["vuln_id"]: f
        for f in of_kind(run_import(FORMAT, "defectdojo-grype-0.41-log4j.json", asset_id="lib"), "findings")
    }
    assert len(findings) == 8
    assert findings["GHSA-jfh8-c2jp-5v3q"]["fixed_version"] == "2.15.0"
    assert "fixed_version" not in findings["CVE-2021-44228"]  # grype gave it no property
    assert findings["CVE-2021-44228"]["purl"] == "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (SAMPLES / "grype-json" / "grype-presenter-golden-kev-epss.json", "looks like a Grype JSON report"),
        (SAMPLES / "gitleaks-json" / "gitleaks-v8-json-reporter-golden.json", "looks like a Gitleaks report"),
        (SAMPLES / "trivy-json" / "trivy-image-debian-buster.json", "looks like a Trivy JSON report"),
    ],
)
def test_other_tools_are_refused_by_name(path: Path, message: str) -> None:
    with pytest.raises(ImportFormatError, match=f"not a CycloneDX JSON document: it {message}"):
        import_path(FORMAT, path, asset_id="a", collected_at=COLLECTED_AT)


def test_vex_without_metadata_needs_asset_and_time() -> None:
    with pytest.raises(ImportFormatError, match="asset_id"):
        run_import(FORMAT, VEX, collected_at=COLLECTED_AT)
    with pytest.raises(ImportFormatError, match="collected_at"):
        run_import(FORMAT, VEX, asset_id="product-line")


def test_vex_gives_one_finding_per_statement_and_version() -> None:
    # 8 vulnerability objects list 24 (ref, version-or-range) pairs; CVE-2021-45105 states
    # "JKL >=1.0|<=4.4 not_affected" twice, identically, so 23 findings remain.
    records = run_import(FORMAT, VEX, asset_id="product-line", collected_at=COLLECTED_AT)
    assert counts(records) == {"findings": 23}
    findings = of_kind(records, "findings")
    assert Counter(f["vex_status"] for f in findings) == {
        "affected": 9,
        "not_affected": 11,
        "fixed": 3,
    }
    assert Counter(f["state"] for f in findings) == {"open": 20, "closed": 3}
    assert {f["package"] for f in findings} == {"product-ABC", "product-JKL"}  # BOM-Link fragments
    ranged = [f for f in findings if f["installed_version"] == "vers:generic/>=2.9|<=4.1"]
    assert {f["vuln_id"] for f in ranged} == {"CVE-2021-44228", "CVE-2021-45105"}
    critical = next(f for f in ranged if f["vuln_id"] == "CVE-2021-44228")
    assert (critical["severity"], critical["cvss_score"]) == ("critical", 10.0)
    assert critical["cvss_vector"] == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"


def test_sbom_vdr_with_tools_object_and_local_refs() -> None:
    records = run_import(FORMAT, "variant-sbom-vdr-1.5.json")
    findings = of_kind(records, "findings")
    assert len(findings) == 4
    assert {f["source"] for f in findings} == {"trivy"}  # tools.components[0].name
    assert {f["asset_id"] for f in findings} == {"registry.example/shop/web"}
    lodash = next(f for f in findings if f["vuln_id"] == "CVE-2021-23337")
    assert (lodash["package"], lodash["installed_version"]) == ("lodash", "4.17.20")
    assert lodash["vex_status"] == "under_investigation"
    assert lodash["cvss_vector"] == "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"
    ghsa = [f for f in findings if f["vuln_id"] == "GHSA-29mw-wpgm-hmr9"]
    assert {f["package"] for f in ghsa} == {"nested", "lodash"}  # nested component, local BOM-Link
    assert {f["severity"] for f in ghsa} == {"medium"}  # "moderate"
    unrated = next(f for f in findings if f["vuln_id"] == "CVE-2024-0001")
    assert (unrated["severity"], unrated["vex_status"]) == ("unknown", "false_positive")


def test_tools_array_and_resolved_statement() -> None:
    finding = of_kind(run_import(FORMAT, "variant-tools-array-1.4.json"), "findings")[0]
    assert finding["source"] == "grype"
    assert (finding["state"], finding["closed_at"]) == ("closed", "2023-03-01T00:00:00+00:00")
    assert finding["package"] == "openssl@1.1.1m"  # foreign BOM-Link, %40 decoded
    assert finding["cvss_vector"].startswith("CVSS:3.0/")  # method CVSSv3
    assert finding["severity"] == "high"  # from the score: no severity given


def test_not_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"bomFormat": "SPDX"}', encoding="utf-8")
    with pytest.raises(ImportFormatError, match="bomFormat"):
        import_path(FORMAT, path)
