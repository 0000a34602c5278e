"""Nessus v2 XML: real exports (python-libnessus, pyTenable, DefectDojo) and hand-made variants;
policy scope keys, scan-series fields, Linux packages, Windows versions and KB fix refs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

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
)

from reporter.errors import ImportFormatError

FORMAT = "nessus-xml"
REPORT = "libnessus-3hosts.nessus"
FILES = sorted(p.name for p in (SAMPLES / FORMAT).iterdir())
REFUSED = {"variant-entity-expansion.nessus"}
CENTOS = "libnessus-centos-localpci.nessus"
WINDOWS = "pytenable-windows-bulletins.trimmed.nessus"
VARIANT = "variant-linux-packages-windows-tags.nessus"


@pytest.mark.parametrize("name", [n for n in FILES if n not in REFUSED])
def test_every_sample_gives_sightings_of_its_host_scans_with_stable_ids(name: str) -> None:
    records = run_import(FORMAT, name, collected_at=COLLECTED_AT)
    check_sightings(records, covered=False)  # a policy need not enable the family of every finding
    scans = of_kind(records, "scans")
    assert {s["target"] for s in scans} == {o["asset_key"] for o in of_kind(records, "observations")}
    for finding in of_kind(records, "findings"):
        assert finding["scope_keys"][-1].startswith("nessus-plugin:")
    later = run_import(FORMAT, name, collected_at=COLLECTED_AT.replace(month=4))
    assert finding_ids(later) == finding_ids(records)


def test_policy_families_and_plugins_are_the_scan_scope() -> None:
    # FamilySelection: enabled families count, "mixed" and disabled ones do not; of the
    # IndividualPluginSelection only enabled plugins count.
    records = run_import(FORMAT, VARIANT)
    assert {tuple(s["scope_keys"]) for s in of_kind(records, "scans")} == {
        (
            "nessus-family:Debian Local Security Checks",
            "nessus-family:Ubuntu Local Security Checks",
            "nessus-family:Windows : Microsoft Bulletins",
            "nessus-plugin:11219",
        )
    }
    centos = of_kind(run_import(FORMAT, CENTOS), "scans")[0]  # a real PCI policy export
    assert "nessus-family:CentOS Local Security Checks" in centos["scope_keys"]
    assert "nessus-family:Port scanners" not in centos["scope_keys"]  # mixed
    assert {"nessus-plugin:10180", "nessus-plugin:11219"} <= set(centos["scope_keys"])
    assert "scope_keys" not in of_kind(run_import(FORMAT, "variant-modern-one-host.nessus"), "scans")[0]


def test_rpm_local_checks_give_one_finding_per_package_with_purl_and_advisory() -> None:
    # Real CentOS 6 local checks: "Remote package installed : nss-3.13.3-6.el6 / Should be : ...".
    findings = of_kind(run_import(FORMAT, CENTOS), "findings")
    nss = sorted((f for f in findings if f["scope_keys"][-1] == "nessus-plugin:64381"), key=lambda f: f["package"])
    assert [f["package"] for f in nss] == ["nspr", "nss", "nss-sysinit", "nss-tools", "nss-util"]
    first = nss[1]
    assert (first["installed_version"], first["fixed_version"]) == ("3.13.3-6.el6", "3.13.6-2.el6_3")
    assert first["purl"] == "pkg:rpm/centos/nss@3.13.3-6.el6"
    assert first["fix_refs"] == ["RHSA-2013:0213"]  # <xref>RHSA:2013:0213</xref>
    assert first["vuln_id"] == "nessus:64381"  # the plugin names no CVE
    assert len({f["id"] for f in nss}) == 5


def test_deb_local_checks_in_the_ubuntu_and_debian_shapes() -> None:
    findings = of_kind(run_import(FORMAT, VARIANT), "findings")
    ubuntu = {(f["package"], f["vuln_id"]): f for f in findings if f["asset_id"].startswith("ubuntu")}
    libssl = ubuntu[("libssl3", "CVE-2023-0464")]
    assert (libssl["installed_version"], libssl["fixed_version"]) == ("3.0.2-0ubuntu1.8", "3.0.2-0ubuntu1.9")
    assert libssl["purl"] == "pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.8"
    assert libssl["fix_refs"] == ["USN-6039-1"]
    assert len(ubuntu) == 5  # 2 CVEs × 2 packages + the kernel
    kernel = ubuntu[("linux-image-5.15.0-88-generic", "CVE-2023-5345")]
    assert kernel["fixed_version"] == "5.15.0-91.101"  # the fixed package's name says <ANY>
    debian = [f for f in findings if f["asset_id"].startswith("debian")]
    assert sorted((f["package"], f["purl"]) for f in debian) == [
        ("libssl1.1", "pkg:deb/debian/libssl1.1@1.1.1n-0%2Bdeb11u4"),
        ("openssl", "pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u4"),
    ]
    assert {tuple(f["fix_refs"]) for f in debian} == {("DSA-5417",)}  # xref and see_also agree


def test_kernel_package_ids_survive_a_kernel_update(tmp_path: Path) -> None:
    # Ubuntu kernel packages carry the ABI in their name: a new kernel still vulnerable is the
    # same finding, not a new one with a new SLA clock.
    text = (SAMPLES / FORMAT / VARIANT).read_text(encoding="utf-8")
    updated = tmp_path / "later.nessus"
    updated.write_text(text.replace("5.15.0-88-generic_5.15.0-88.98", "5.15.0-89-generic_5.15.0-89.99"), "utf-8")
    kernel = [f for f in of_kind(import_path(FORMAT, updated), "findings") if f["vuln_id"] == "CVE-2023-5345"]
    before = [f for f in of_kind(run_import(FORMAT, VARIANT), "findings") if f["vuln_id"] == "CVE-2023-5345"]
    assert [f["id"] for f in kernel] == [f["id"] for f in before]
    assert kernel[0]["package"] == "linux-image-5.15.0-89-generic"


def test_windows_versions_products_and_kb_numbers() -> None:
    # Real Windows bulletins (pyTenable's example scan): "Remote version : / Should be :" blocks,
    # several products per plugin, MSKB/MSFT xrefs (MSFT:MS17-4011055 is no bulletin id).
    findings = of_kind(run_import(FORMAT, WINDOWS), "findings")
    flash = next(f for f in findings if f["scope_keys"][-1] == "nessus-plugin:108962")
    assert (flash["installed_version"], flash["fixed_version"]) == ("27.0.0.187", "29.0.0.140")
    assert flash["package"] == "C:\\Windows\\System32\\Macromed\\Flash\\Flash.ocx"  # Path :
    assert flash["fix_refs"] == ["KB4093110"]
    office = next(f for f in findings if f["scope_keys"][-1] == "nessus-plugin:93481")
    assert office["installed_version"] == "16.0.4266.1001"
    assert office["fixed_version"] == "16.0.4432.1000, 16.0.4432.1003, 16.0.4432.1001"  # all, in order
    assert "package" not in office  # several products
    ms16 = next(f for f in findings if f["scope_keys"][-1] == "nessus-plugin:87882")
    assert ms16["fix_refs"][:2] == ["KB3039794", "MS16-004"]
    variant = {f["scope_keys"][-1]: f for f in of_kind(run_import(FORMAT, VARIANT), "findings")}
    smb = variant["nessus-plugin:97833"]  # <msft> and <mskb> elements
    assert smb["fix_refs"] == ["KB4012212", "KB4012215", "MS17-010"]
    assert (smb["installed_version"], smb["fixed_version"]) == ("6.1.7601.23642", "6.1.7601.23689")
    untagged = variant["nessus-plugin:99001"]  # no tags: the output's "KB : NNN" lines
    assert untagged["fix_refs"] == ["KB5002100", "KB5002101"]
    assert untagged["package"] == "Microsoft Office 2016"


def test_one_plugin_reporting_one_port_twice_is_one_finding() -> None:
    # DefectDojo's sample: plugin 58987 (PHP unsupported) reports port 80 twice, for two installs;
    # it used to fail the import as two different records with one id.
    findings = of_kind(run_import(FORMAT, "defectdojo-nessus_with_cvssv3.trimmed.nessus"), "findings")
    php = [f for f in findings if f["scope_keys"][-1] == "nessus-plugin:58987"]
    assert len(php) == 1
    assert php[0]["installed_version"] == "5.6.40-38+ubuntu20.04.1+deb.sury.org+1, 5.1.6"


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
        ("<NessusClientData><Report/></NessusClientData>", "looks like a Nessus v1", None),
        ("<nmaprun scanner='nmap'/>", "looks like an Nmap XML report", None),
        ('{"SchemaVersion": 2}', "is JSON, not a Nessus v2 XML file", None),
        ("", "well-formed", 1),
    ],
)
def test_garbage_is_one_located_error(tmp_path: Path, text: str, message: str, line: int | None) -> None:
    path = tmp_path / "bad.nessus"
    path.write_text(text)
    with pytest.raises(ImportFormatError, match=message) as caught:
        import_path(FORMAT, path)
    assert caught.value.location.line == line
