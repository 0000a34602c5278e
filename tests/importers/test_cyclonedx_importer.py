"""CycloneDX JSON: the CISA VEX case (BOM-Links, several statements per CVE), SBOM+VDR 1.5
and 1.4."""

from __future__ import annotations

from collections import Counter

import pytest
from importer_helpers import COLLECTED_AT, counts, of_kind, run_import

from reporter.errors import ImportFormatError

FORMAT = "cyclonedx-json"
VEX = "cisa-vex-case8-multi-product-status.json"


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


def test_not_a_bom() -> None:
    with pytest.raises(ImportFormatError, match="bomFormat"):
        run_import(FORMAT, "../grype-json/grype-presenter-golden-kev-epss.json")
