"""Trivy JSON: real reports of several Trivy versions and shapes (aquasecurity/trivy golden files,
DefectDojo samples), legacy shapes and nulls, scan-series fields, stable ids, refusals."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
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
from typer.testing import CliRunner

from reporter.bundle.limits import Limits
from reporter.cli import app
from reporter.errors import ImportFormatError
from reporter.importers._packages import language_purl, os_purl
from reporter.importers.interface import ImportContext
from reporter.importers.registry import IMPORTERS
from reporter.importers.run import collect_all
from reporter.pipeline import LoadOptions, validate_bundle

FORMAT = "trivy-json"
FILES = sorted(p.name for p in (SAMPLES / FORMAT).iterdir())
REFUSED = {"defectdojo-kubernetes.json": "looks like a Trivy Kubernetes report"}
NAMELESS = {  # legacy reports and an empty ArtifactName: the manifest names the asset
    "variant-legacy-array.json",
    "variant-legacy-null.json",
    "defectdojo-legacy_no_vuln.json",
    "defectdojo-legacy_many_vulns.json",
    "defectdojo-issue_9333.json",
}
LATER = datetime(2026, 4, 5, 10, 0, tzinfo=UTC)


def _import(name: str, collected_at: datetime = COLLECTED_AT) -> list[Any]:
    asset = "img-1" if name in NAMELESS else None
    return run_import(FORMAT, name, asset_id=asset, collected_at=collected_at)


@pytest.mark.parametrize("name", [n for n in FILES if n not in REFUSED])
def test_every_sample_gives_sightings_of_its_scan_with_stable_ids(name: str) -> None:
    records = _import(name)
    check_sightings(records)
    findings = of_kind(records, "findings")
    assert all(f["purl"].startswith("pkg:") for f in findings), name  # PURL given or built from the type
    assert finding_ids(_import(name, LATER)) == finding_ids(records), "ids must not depend on collected_at"


def test_scan_covers_every_vulnerability_result_even_without_vulnerabilities() -> None:
    # An os-pkgs result with no Vulnerabilities still says the OS packages were examined.
    scan = of_kind(_import("defectdojo-scheme_2_no_vuln.json"), "scans")[0]
    assert scan["scope_keys"] == ["os-pkgs:alpine"]
    assert scan["target"] == "trivy-unittest:latest"  # Metadata has no digest
    assert (scan["status"], scan["authenticated"]) == ("completed", True)
    records = run_import(FORMAT, "trivy-image-spring4shell-jre11.json")
    scan = of_kind(records, "scans")[0]
    assert scan["scope_keys"] == ["lang-pkgs:jar:Java", "os-pkgs:debian"]  # the "custom" result is not one
    assert scan["target"] == (
        "testdata/fixtures/images/spring4shell-jre11.tar.gz"
        "@sha256:ed8f0747d483b60657982f0ef1ba74482aed08795cf0eb774b00bc53022a8351"
    )


def test_os_package_findings_carry_purl_arch_epoch_and_vendor_advisories() -> None:
    findings = of_kind(run_import(FORMAT, "trivy-image-debian-buster.json"), "findings")
    libidn = next(f for f in findings if f["vuln_id"] == "CVE-2019-18224")
    assert libidn["purl"] == "pkg:deb/debian/libidn2-0@2.0.5-1?arch=amd64&distro=debian-10.1"
    assert libidn["fix_refs"] == ["DSA-4613-1"]  # VendorIDs
    assert libidn["scope_keys"] == ["os-pkgs:debian"]
    centos = of_kind(run_import(FORMAT, "trivy-image-centos-7.json"), "findings")
    openssl = next(f for f in centos if f["vuln_id"] == "CVE-2019-1559")
    assert openssl["installed_version"] == "1:1.0.2k-16.el7"
    assert openssl["purl"].endswith("?arch=x86_64&distro=centos-7.6.1810&epoch=1")
    assert openssl["fix_refs"] == ["RHSA-2019:2304"]


def test_purls_are_built_from_the_result_type_when_trivy_gives_none() -> None:
    # DefectDojo's SchemaVersion 2 sample predates PkgIdentifier; one result per jar file.
    findings = of_kind(_import("defectdojo-scheme_2_many_vulns.json"), "findings")
    purls = {f["package"]: f["purl"] for f in findings}
    assert purls["freetype"] == "pkg:apk/alpine/freetype@2.9.1-r2"
    assert purls["org.apache.commons:commons-compress"] == "pkg:maven/org.apache.commons/commons-compress@1.14"
    jar = next(f for f in findings if f["package"] == "org.apache.commons:commons-compress")
    assert jar["scope_keys"] == ["lang-pkgs:jar:app/libs/commons-compress-1.14.jar"]
    legacy = of_kind(_import("defectdojo-legacy_many_vulns.json"), "findings")  # pre-0.20: no Class
    assert len(legacy) == 93
    assert {f["scope_keys"][0] for f in legacy} == {"os-pkgs:debian"}
    assert all(f["purl"].startswith("pkg:deb/debian/") for f in legacy)


@pytest.mark.parametrize(
    ("kind", "name", "version", "purl"),
    [
        ("npm", "@Babel/Core", "7.0.0", "pkg:npm/%40babel/core@7.0.0"),
        ("pipenv", "Django_Rest", "3.1", "pkg:pypi/django-rest@3.1"),
        ("gradle", "org.apache:commons", "1.0", "pkg:maven/org.apache/commons@1.0"),
        ("jar", "commons", "1.0", None),  # no group id: no purl rather than a wrong one
        ("gobinary", "github.com/A/b", "v1.2.3+incompatible", "pkg:golang/github.com/a/b@v1.2.3%2Bincompatible"),
        ("composer", "vendor/pkg", "2.0", "pkg:composer/vendor/pkg@2.0"),
        ("conan", "zlib", "1.2", None),  # a type Trivy names, not a purl ecosystem mapped here
    ],
)
def test_language_purls_follow_trivys_mapping(kind: str, name: str, version: str, purl: str | None) -> None:
    assert language_purl(kind, name, version) == purl


def test_os_purls_follow_the_family() -> None:
    assert os_purl("ubuntu", "libssl3", "3.0.2-0ubuntu1.10") == "pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.10"
    assert os_purl("redhat", "openssl-libs", "1:1.0.2k-19.el7") == "pkg:rpm/redhat/openssl-libs@1.0.2k-19.el7?epoch=1"
    assert os_purl("sles", "curl", "8.0") == "pkg:rpm/suse/curl@8.0"
    assert os_purl("wolfi", "glibc", "2.38-r1") == "pkg:apk/wolfi/glibc@2.38-r1"
    assert os_purl("none", "x", "1") is None


def test_one_package_in_several_lockfiles_is_several_findings() -> None:
    findings = of_kind(run_import(FORMAT, "trivy-repo-gomod.json"), "findings")
    distribution = [f for f in findings if f["vuln_id"] == "GMS-2022-20"]
    assert sorted(f["scope_keys"][0] for f in distribution) == [
        "lang-pkgs:gomod:go.mod",
        "lang-pkgs:gomod:submod/go.mod",
        "lang-pkgs:gomod:submod2/go.mod",
    ]
    assert len({f["id"] for f in distribution}) == 3


def _variant(tmp_path: Path, name: str, change: Any) -> Path:
    report = json.loads(sample(FORMAT, name).read_text(encoding="utf-8"))
    change(report)
    path = tmp_path / f"changed-{name}"
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


def _rescan_debian(report: dict[str, Any]) -> None:
    """A later scan of the same image after an upgrade of bash and a rebuild: new time,
    image id, OS point release in the Target, package version and PURL."""
    report["CreatedAt"] = "2021-11-25T12:20:30Z"
    report["Metadata"]["ImageID"] = "sha256:" + "1" * 64
    result = report["Results"][0]
    result["Target"] = result["Target"].replace("debian 10.1", "debian 10.2")
    bash = result["Vulnerabilities"][0]
    assert bash["PkgName"] == "bash"
    bash["InstalledVersion"] = "5.0-4+deb10u1"
    bash["PkgIdentifier"]["PURL"] = bash["PkgIdentifier"]["PURL"].replace("@5.0-4", "@5.0-4+deb10u1")


def _upgrade_spring(report: dict[str, Any]) -> None:
    report["CreatedAt"] = "2021-09-01T00:00:00Z"
    vuln = report["Results"][1]["Vulnerabilities"][0]
    vuln["InstalledVersion"] = "5.3.16"
    vuln["PkgPath"] = vuln["PkgPath"].replace("5.3.15", "5.3.16")
    vuln["PkgIdentifier"]["PURL"] = vuln["PkgIdentifier"]["PURL"].replace("5.3.15", "5.3.16")


@pytest.mark.parametrize(
    ("name", "change"),
    [("trivy-image-debian-buster.json", _rescan_debian), ("trivy-image-spring4shell-jre11.json", _upgrade_spring)],
)
def test_finding_ids_survive_rescans_upgrades_and_rebuilds(tmp_path: Path, name: str, change: Any) -> None:
    before = run_import(FORMAT, name)
    after = import_path(FORMAT, _variant(tmp_path, name, change))
    assert finding_ids(after) == finding_ids(before)
    assert {s["id"] for s in of_kind(after, "scans")}.isdisjoint(s["id"] for s in of_kind(before, "scans"))
    assert {f["scan_id"] for f in of_kind(after, "findings")} == {of_kind(after, "scans")[0]["id"]}


def test_two_versions_of_a_package_in_one_lockfile_are_one_finding(tmp_path: Path) -> None:
    def duplicate(report: dict[str, Any]) -> None:
        vulns = report["Results"][0]["Vulnerabilities"]
        identifier = {"PURL": "pkg:npm/debug@3.0.0"}
        vulns.append(dict(vulns[0], InstalledVersion="3.0.0", PkgID="debug@3.0.0", PkgIdentifier=identifier))

    path = _variant(tmp_path, "trivy-fs-npm-with-vex-suppressed.json", duplicate)
    findings = of_kind(import_path(FORMAT, path), "findings")
    debug = next(f for f in findings if f["vuln_id"] == "CVE-2017-20165")
    assert (debug["package"], debug["installed_version"]) == ("debug", "3.0.1, 3.0.0")
    assert "purl" not in debug  # two versions: no single package URL


def test_a_report_that_found_no_os_is_a_partial_scan_that_proves_nothing() -> None:
    # Trivy's alpine-39-skip golden (--skip-dirs /etc): OS family "none", no Results.
    path = sample(FORMAT, "trivy-image-alpine-39-skip-os-none.json")
    records, notes = collect_all(IMPORTERS[FORMAT], path, ImportContext(path.name))
    assert counts(records) == {"scans": 1}
    scan = records[0].data
    assert (scan["status"], scan.get("scope_keys")) == ("partial", None)  # no scope: proves no absence
    assert [n.location for n in notes] == ["Metadata.OS.Family", "Results"]
    assert "partial" in notes[0].message
    assert "proves no finding absent" in notes[1].message


def test_a_report_without_results_is_a_completed_scan_that_proves_nothing() -> None:
    path = sample(FORMAT, "variant-no-results.json")  # no Results, no OS in Metadata
    records, notes = collect_all(IMPORTERS[FORMAT], path, ImportContext(path.name))
    assert [(r.data["status"], r.data.get("scope_keys")) for r in records] == [("completed", None)]
    assert [n.location for n in notes] == ["Results"]


def test_legacy_null_is_a_scan_that_proves_nothing() -> None:
    # DefectDojo's legacy_no_vuln.json is the literal `null` of Trivy before 0.20.
    path = sample(FORMAT, "defectdojo-legacy_no_vuln.json")
    context = ImportContext(path.name, asset_id="img-legacy", collected_at=COLLECTED_AT)
    records, notes = collect_all(IMPORTERS[FORMAT], path, context)
    assert counts(records) == {"scans": 1}
    assert "scope_keys" not in records[0].data
    assert len(notes) == 1
    assert "legacy null" in notes[0].message


def test_legacy_array_needs_the_manifest_asset_and_time() -> None:
    with pytest.raises(ImportFormatError, match="asset_id"):
        run_import(FORMAT, "variant-legacy-array.json")
    with pytest.raises(ImportFormatError, match="collected_at"):
        run_import(FORMAT, "variant-legacy-array.json", asset_id="img-legacy")
    records = run_import(FORMAT, "variant-legacy-array.json", asset_id="img-legacy", collected_at=COLLECTED_AT)
    assert counts(records) == {"scans": 1, "findings": 2}
    assert of_kind(records, "scans")[0]["scope_keys"] == ["lang-pkgs:bundler:app/Gemfile.lock", "os-pkgs:alpine"]


def test_secrets_sample_gives_one_exposure_per_secret_and_no_scan() -> None:
    # Two Secrets in the only result; its Class is "secret", so no vulnerability scan happened.
    records = run_import(FORMAT, "trivy-repo-secrets.json")
    assert counts(records) == {"secret_exposures": 2}
    exposures = sorted(of_kind(records, "secret_exposures"), key=lambda d: d["fingerprint"])
    assert [e["fingerprint"] for e in exposures] == ["deploy.sh:aws-access-key-id:3", "deploy.sh:mysecret:7"]
    assert exposures[0]["location"] == "testdata/fixtures/repo/secrets:deploy.sh:3"
    assert exposures[0]["detected_at"] == "2021-08-25T12:20:30+00:00"  # nanoseconds truncated
    # Line 5 of the sample's context shows a token in clear: Code is never read.
    assert "ghp_" not in json.dumps([r.data for r in records])


def test_npm_sample_gives_scan_finding_and_vex_suppressed_finding() -> None:
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


def test_nulls_missing_keys_and_trivyignore() -> None:
    records = run_import(FORMAT, "variant-image-nulls.json")
    assert counts(records) == {"scans": 1, "findings": 3, "secret_exposures": 1}
    findings = {f["vuln_id"]: f for f in of_kind(records, "findings")}
    assert findings["GHSA-c2qf-rxjj-qqgw"]["severity"] == "unknown"
    assert "cvss_vector" not in findings["GHSA-c2qf-rxjj-qqgw"]
    assert findings["CVE-2024-4068"]["cvss_vector"].startswith("CVSS:4.0/")  # ghsa source first
    assert findings["CVE-2023-45857"]["vex_status"] == "suppressed"  # .trivyignore: no VEX analysis


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"foo": 1}]', "not a Trivy JSON report: a JSON array whose entries are not Trivy results"),
        ("[]", "empty JSON array"),
        ('{"SchemaVersion": 3, "Results": []}', "SchemaVersion"),
        ('{"Results": []}', "not a Trivy JSON report: no SchemaVersion"),
    ],
)
def test_other_json_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFormatError, match=message):
        import_path(FORMAT, path, asset_id="web-01", collected_at=COLLECTED_AT)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (SAMPLES / "gitleaks-json" / "gitleaks-v8-json-reporter-golden.json", "looks like a Gitleaks report"),
        (SAMPLES / "grype-json" / "grype-presenter-golden-kev-epss.json", "looks like a Grype JSON report"),
        (SAMPLES / FORMAT / "defectdojo-kubernetes.json", "looks like a Trivy Kubernetes report"),
    ],
)
def test_other_tools_are_refused_by_name(path: Path, message: str) -> None:
    with pytest.raises(ImportFormatError, match=message):
        import_path(FORMAT, path, asset_id="web-01", collected_at=COLLECTED_AT)


def test_the_cli_refuses_an_array_with_exit_3(tmp_path: Path) -> None:
    # Issue 10: `[{"foo":1}]` imported as trivy-json used to exit 0 with an authenticated clean scan.
    path, out = tmp_path / "x.json", tmp_path / "o.jsonl"
    path.write_text('[{"foo":1}]\n', encoding="utf-8")
    args = [
        "import",
        FORMAT,
        str(path),
        "-o",
        str(out),
        "--asset-id",
        "web-01",
        "--collected-at",
        "2024-01-01T00:00:00Z",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3
    assert "not a Trivy JSON report" in result.output
    assert not out.exists()


def test_the_cli_prints_the_warnings_on_stderr(tmp_path: Path) -> None:
    path, out = sample(FORMAT, "trivy-image-alpine-39-skip-os-none.json"), tmp_path / "o.jsonl"
    result = CliRunner().invoke(app, ["import", FORMAT, str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning: ") == 2
    assert f"warning: {path}: Metadata.OS.Family: Trivy detected no operating system" in result.stderr
    assert "1 scans" in result.stdout


def test_the_bundle_loader_turns_the_warnings_into_validation_warnings(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    shutil.copytree(Path(__file__).parents[2] / "evidence-samples" / "minimal", root)
    report = sample(FORMAT, "trivy-image-alpine-39-skip-os-none.json")
    shutil.copy(report, root / "scans" / "trivy-skip.json")
    manifest = yaml.safe_load((root / "bundle.yaml").read_text(encoding="utf-8"))
    manifest["sources"].append(
        {
            "path": "scans/trivy-skip.json",
            "format": FORMAT,
            "asset_id": "a-img-01",
            "collected_at": "2026-09-30T23:00:00Z",
            "sha256": hashlib.sha256(report.read_bytes()).hexdigest(),
        }
    )
    (root / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    issues = validate_bundle(root, LoadOptions(limits=Limits())).issues
    warnings = [i for i in issues if i.code == "import.warning"]
    assert [(i.severity, i.file, i.field) for i in warnings] == [
        ("warning", "scans/trivy-skip.json", "Metadata.OS.Family"),
        ("warning", "scans/trivy-skip.json", "Results"),
    ]


def test_an_artifact_url_carrying_a_credential_is_never_an_asset_id(tmp_path: Path) -> None:
    """`trivy repo https://user:token@host/o/r` names the artifact by a credential URL: without an
    asset_id the import is refused, and the message does not quote it."""
    report = {"SchemaVersion": 2, "ArtifactName": "https://ci:ghp_SECRETTOKEN123@github.com/o/r", "Results": []}
    path = tmp_path / "repo.json"
    path.write_text(json.dumps(report))
    context = ImportContext("repo.json", collected_at=datetime(2026, 7, 1, tzinfo=UTC))
    with pytest.raises(ImportFormatError) as caught:
        collect_all(IMPORTERS["trivy-json"], path, context)
    assert "ghp_SECRETTOKEN123" not in caught.value.message
    assert "set asset_id" in caught.value.message
