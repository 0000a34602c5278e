"""Nessus v2 XML: the 3-host libnessus report, a modern one-host variant and entity expansion."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from importer_helpers import counts, import_path, of_kind, run_import

from reporter.errors import ImportFormatError

FORMAT = "nessus-xml"
REPORT = "libnessus-3hosts.nessus"


def test_three_hosts_give_observations_scans_and_findings() -> None:
    # 106 ReportItems, 35 with severity >= 1. Per host, the findings are one per CVE, or one per
    # plugin without CVE: .101 has 9 CVEs + 2 items without, .100 has 43 + 6; the CVE numbers
    # match the file's own patch-summary-total-cves tags (9 and 43).
    records = run_import(FORMAT, REPORT)
    assert counts(records) == {"observations": 3, "scans": 3, "findings": 60}
    per_host = Counter(f["asset_id"] for f in of_kind(records, "findings"))
    assert per_host == {"192.168.2.101": 11, "192.168.2.100": 49}
    assert {o["asset_key"] for o in of_kind(records, "observations")} == {
        "192.168.2.100",
        "192.168.2.101",
        "192.168.2.104",
    }
    assert {s["authenticated"] for s in of_kind(records, "scans")} == {False}  # plugin 19506


def test_times_severities_and_vectors() -> None:
    records = run_import(FORMAT, REPORT)
    scans = {s["asset_id"]: s for s in of_kind(records, "scans")}
    assert scans["192.168.2.104"]["completed_at"] == "2014-03-20T01:07:03+00:00"  # ctime as UTC
    findings = of_kind(records, "findings")
    assert Counter(f["severity"] for f in findings)["critical"] == 2  # 33850 and 58662, no/1 CVE
    samba = [f for f in findings if f["vuln_id"] == "nessus:33850"]
    assert samba[0]["cvss_vector"] == "AV:N/AC:L/Au:N/C:C/I:C/A:C"  # CVSS2# removed
    apache = [f for f in findings if f["vuln_id"] == "CVE-2010-1623"]
    assert apache[0]["installed_version"] == "2.2.16"
    assert apache[0]["fixed_version"] == "2.2.17"


def test_modern_host_uses_epoch_tags_and_credentials() -> None:
    records = run_import(FORMAT, "variant-modern-one-host.nessus")
    assert counts(records) == {"observations": 1, "scans": 1, "findings": 2}
    scan = of_kind(records, "scans")[0]
    assert scan["authenticated"] is True
    assert scan["completed_at"] == "2024-10-01T08:00:00+00:00"
    findings = {f["vuln_id"]: f for f in of_kind(records, "findings")}
    ssh = findings["CVE-2024-6387"]  # <cve> repeated: one finding
    assert ssh["cvss_vector"] == "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"  # prefix added
    assert ssh["ssvc_exploitation"] == "poc"
    assert ssh["patch_released_at"] == "2024-07-01T00:00:00+00:00"
    assert findings["nessus:99999"]["ssvc_exploitation"] == "active"


def test_asset_id_from_the_manifest_only_for_a_single_host() -> None:
    records = run_import(FORMAT, "variant-modern-one-host.nessus", asset_id="a-web-01")
    assert {f["asset_id"] for f in of_kind(records, "findings")} == {"a-web-01"}
    assert of_kind(records, "observations")[0]["asset_id"] == "a-web-01"
    with pytest.raises(ImportFormatError, match="second asset"):
        run_import(FORMAT, REPORT, asset_id="a-web-01")


def test_entities_are_refused() -> None:
    with pytest.raises(ImportFormatError, match="DTD or entities"):
        run_import(FORMAT, "variant-entity-expansion.nessus")


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("<NessusClientData_v2>\n<Report>\n<ReportHost name='a'>\n</Report>", "well-formed", 4),
        ("<Other/>", "not a Nessus v2 file", None),
        ("", "well-formed", 1),
    ],
)
def test_garbage_is_one_located_error(tmp_path: Path, text: str, message: str, line: int | None) -> None:
    path = tmp_path / "bad.nessus"
    path.write_text(text)
    with pytest.raises(ImportFormatError, match=message) as caught:
        import_path(FORMAT, path)
    assert caught.value.location.line == line
