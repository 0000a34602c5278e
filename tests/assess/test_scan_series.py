"""Scan series and verifications derived from rescans, on small inline bundles of canonical
sightings (findings that name their scan): the same finding in several scans is one finding;
a covering rescan proves it gone or still there; a non-covering one proves nothing; deployments
that name only a KB, a package version or an image are linked to the findings they fix."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from support.bundles import BundleBuilder

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.interface import LoadedBundle
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.models.results import Assessment, ControlResult

CVE = "CVE-2019-5094"
ASSET = {"id": "img-app", "name": "registry.example/app:1", "type": "container_image", "criticality": "high"}
HOST = {"id": "srv-1", "name": "srv-1.example", "type": "server", "aliases": ["10.0.0.5"], "criticality": "high"}


def scan(sid: str, at: str, *, asset: str = "img-app", tool: str = "trivy", **extra: Any) -> dict[str, Any]:
    record = {
        "id": sid,
        "asset_id": asset,
        "tool": tool,
        "authenticated": True,
        "completed_at": at,
        "scope_keys": ["os-pkgs:debian"],
    }
    return {**record, **extra}


def sighting(scan_id: str, at: str, *, fid: str = "trivy:e2fs", asset: str = "img-app", **extra: Any) -> dict[str, Any]:
    record = {
        "id": fid,
        "asset_id": asset,
        "vuln_id": CVE,
        "package": "e2fsprogs",
        "installed_version": "1.44.5-1",
        "fixed_version": "1.44.5-1+deb10u2",
        "purl": "pkg:deb/debian/e2fsprogs@1.44.5-1",
        "severity": "medium",
        "first_detected_at": at,
        "last_seen_at": at,
        "state": "open",
        "source": "trivy",
        "scan_id": scan_id,
        "scope_keys": ["os-pkgs:debian"],
    }
    return {**record, **extra}


def deployment(did: str, at: str, *, asset: str = "img-app", **extra: Any) -> dict[str, Any]:
    record = {
        "id": did,
        "asset_id": asset,
        "vuln_ids": [CVE],
        "change_ref": "CHG-1",
        "started_at": at,
        "completed_at": at,
        "status": "succeeded",
    }
    return {**record, **extra}


@dataclass
class Outcome:
    """An assessment plus the ledger rows and derived verifications, read before the store closed."""

    assessment: Assessment
    ledger: dict[tuple[str, str], dict[str, Any]]
    derived: list[dict[str, Any]]
    issues: list[Any]

    def control(self, control_id: str) -> ControlResult:
        return next(c for c in self.assessment.controls if c.control_id == control_id)

    def gaps(self, control_id: str) -> dict[str, str]:
        return {g.record_id: g.message for g in self.control(control_id).gaps if g.excepted_by is None}

    def state(self, asset: str = "img-app", vuln: str = CVE) -> str:
        return str(self.ledger[(asset, vuln)]["state"])


@contextmanager
def _loaded(root: Path) -> Iterator[LoadedBundle]:
    loaded = load_bundle(root)
    try:
        yield loaded
    finally:
        loaded.close()


def _rows(loaded: LoadedBundle, sql: str) -> list[dict[str, Any]]:
    cursor = loaded.store.con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def run(tmp_path: Path, as_of: datetime | None = None, **kinds: Any) -> Outcome:
    builder = BundleBuilder(tmp_path)
    builder.add("assets", kinds.pop("assets", [ASSET]))
    for kind, files in kinds.items():
        for n, records in enumerate(files if isinstance(files, tuple) else (files,)):
            builder.add(kind, records, "jsonl", path=f"{kind}/{n}.jsonl")
    builder.write()
    with _loaded(tmp_path) as loaded:
        errors = [i for i in loaded.issues if i.severity == "error"]
        assert errors == [], errors
        result = assess(loaded, load_library(), AssessOptions(as_of=as_of))
        ledger = {(r["asset_id"], r["vuln_id"]): r for r in _rows(loaded, "SELECT * FROM a_ledger")}
        derived = _rows(loaded, "SELECT * FROM a_ver WHERE derived ORDER BY observed_at, id")
        return Outcome(result, ledger, derived, list(loaded.issues))


def test_a_finding_seen_in_two_scans_is_one_finding(tmp_path: Path) -> None:
    builder = BundleBuilder(tmp_path)
    builder.add("assets", [ASSET])
    builder.add("scans", [scan("s1", "2026-07-05T00:00:00Z"), scan("s2", "2026-08-20T00:00:00Z")])
    builder.add("findings", [sighting("s1", "2026-07-05T00:00:00Z")], path="findings/a.jsonl")
    builder.add("findings", [sighting("s2", "2026-08-20T00:00:00Z")], path="findings/b.jsonl")
    builder.write()
    with _loaded(tmp_path) as loaded:
        assert [i for i in loaded.issues if i.severity == "error"] == []
        findings = _rows(loaded, "SELECT id, first_detected_at, last_seen_at, _source FROM findings")
        sightings = _rows(loaded, "SELECT scan_id, _source FROM finding_sightings ORDER BY seen_at")
    assert len(findings) == 1
    assert findings[0]["first_detected_at"] == datetime(2026, 7, 5, tzinfo=UTC)
    assert findings[0]["last_seen_at"] == datetime(2026, 8, 20, tzinfo=UTC)
    assert findings[0]["_source"] == "findings/b.jsonl"  # cites the latest sighting
    assert [s["scan_id"] for s in sightings] == ["s1", "s2"]


def test_a_repeated_id_without_a_scan_is_still_a_duplicate(tmp_path: Path) -> None:
    builder = BundleBuilder(tmp_path)
    builder.add("assets", [ASSET])
    builder.add("scans", [scan("s1", "2026-07-05T00:00:00Z")])
    plain = {k: v for k, v in sighting("s1", "2026-07-05T00:00:00Z").items() if k != "scan_id"}
    builder.add("findings", [sighting("s1", "2026-07-05T00:00:00Z"), plain])
    builder.write()
    with _loaded(tmp_path) as loaded:
        codes = [i.code for i in loaded.issues if i.severity == "error"]
    assert codes == ["record.duplicate-id"]


def test_rescan_without_the_finding_verifies_the_deployment(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        scans=[scan("s1", "2026-07-05T00:00:00Z"), scan("s2", "2026-08-20T00:00:00Z")],
        findings=[sighting("s1", "2026-07-05T00:00:00Z")],
        deployments=[deployment("d-1", "2026-08-10T00:00:00Z")],
    )
    row = out.ledger[("img-app", CVE)]
    assert row["state"] == "verified_fixed"
    assert row["fixed_at"] == datetime(2026, 8, 20, tzinfo=UTC)
    assert row["fix_evidence"]["derived"] is True
    assert row["fix_evidence"]["rule"] == "rescan-after-deployment"
    assert row["fix_evidence"]["scan_id"] == "s2"
    assert row["fix_evidence"]["src"] == "scans/0.jsonl"
    assert out.gaps("VER-01") == {}
    assert out.gaps("VER-02") == {}
    assert out.control("VER-01").status == "pass"
    e2 = next(m for m in out.assessment.metrics if m.id == "E2")
    assert (e2.measure.numerator, e2.measure.denominator) == (1, 1) if e2.measure else False


def test_rescan_still_reporting_it_is_a_false_success(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        scans=[scan("s1", "2026-07-05T00:00:00Z"), scan("s2", "2026-08-20T00:00:00Z")],
        findings=([sighting("s1", "2026-07-05T00:00:00Z")], [sighting("s2", "2026-08-20T00:00:00Z")]),
        deployments=[deployment("d-1", "2026-08-10T00:00:00Z")],
    )
    assert out.state() == "deployed_still_vulnerable"
    message = out.gaps("VER-02")["d-1"]
    assert "but rescan s2 (findings/1.jsonl) on 2026-08-20 00:00Z found CVE-2019-5094 still present" in message


def test_unauthenticated_or_uncovering_rescans_prove_nothing(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        scans=[
            scan("s1", "2026-07-05T00:00:00Z"),
            scan("s2", "2026-08-12T00:00:00Z", authenticated=False),
            scan("s3", "2026-08-20T00:00:00Z", scope_keys=["lang-pkgs:npm:package-lock.json"]),
        ],
        findings=[sighting("s1", "2026-07-05T00:00:00Z")],
        deployments=[deployment("d-1", "2026-08-10T00:00:00Z")],
    )
    assert out.state() == "not_in_scan_scope"
    assert [(d["rule"], d["result"], d["scan_id"]) for d in out.derived] == [
        ("rescan-not-covering", "inconclusive", "s2")
    ]
    assert out.gaps("VER-01")["d-1"].endswith("(scan s2 (scans/0.jsonl) does not cover it)")


def test_a_finding_gone_without_any_deployment_is_fixed_without_change_record(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        scans=[scan("s1", "2026-07-05T00:00:00Z"), scan("s2", "2026-08-20T00:00:00Z")],
        findings=[sighting("s1", "2026-07-05T00:00:00Z")],
        deployments=[deployment("d-other", "2026-08-10T00:00:00Z", vuln_ids=["CVE-2026-0001"])],
    )
    assert out.state() == "fixed_without_change_record"
    assert [(d["rule"], d["result"]) for d in out.derived] == [("rescan-absent", "not_vulnerable")]
    assert set(out.gaps("VER-04")) == {"trivy:e2fs"}


def test_a_finding_that_comes_back_is_not_fixed(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        scans=[scan(f"s{n}", f"2026-0{m}-05T00:00:00Z") for n, m in ((1, 7), (2, 8), (3, 9))],
        findings=([sighting("s1", "2026-07-05T00:00:00Z")], [sighting("s3", "2026-09-05T00:00:00Z")]),
        deployments=[deployment("d-1", "2026-07-20T00:00:00Z")],
    )
    # s2 (August) did not report it, s3 (September) does again: the later evidence decides
    assert out.ledger[("img-app", CVE)]["fixed_at"] is None
    assert out.state() != "verified_fixed"


def test_as_of_before_the_rescan_sees_no_fix(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        as_of=datetime(2026, 8, 15, tzinfo=UTC),
        scans=[scan("s1", "2026-07-05T00:00:00Z"), scan("s2", "2026-08-20T00:00:00Z")],
        findings=[sighting("s1", "2026-07-05T00:00:00Z")],
        deployments=[deployment("d-1", "2026-08-10T00:00:00Z")],
    )
    assert out.state() == "not_in_scan_scope"
    assert out.derived == []


def test_a_verification_record_contradicted_by_a_later_scan(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        scans=[scan("s1", "2026-07-05T00:00:00Z"), scan("s2", "2026-08-20T00:00:00Z")],
        findings=([sighting("s1", "2026-07-05T00:00:00Z")], [sighting("s2", "2026-08-20T00:00:00Z")]),
        deployments=[deployment("d-1", "2026-07-10T00:00:00Z")],
        verifications=[
            {
                "id": "v-1",
                "asset_id": "img-app",
                "vuln_id": CVE,
                "method": "manual",
                "result": "not_vulnerable",
                "observed_at": "2026-07-11T00:00:00Z",
            }
        ],
    )
    assert out.ledger[("img-app", CVE)]["fixed_at"] is None  # the later scan decides
    message = out.gaps("VER-06")["v-1"]
    assert message.startswith("verification v-1 (not_vulnerable, 2026-07-11 00:00Z) on img-app is contradicted")
    assert "scan s2 (findings/1.jsonl) reports CVE-2019-5094 on 2026-08-20 00:00Z" in message
    assert out.control("VER-06").status == "fail"


def test_two_scanners_disagreeing_at_one_instant_keep_the_vulnerable_result(tmp_path: Path) -> None:
    grype = {"tool": "grype", "scope_keys": ["os-pkgs:debian"]}
    out = run(
        tmp_path,
        scans=[
            scan("t1", "2026-07-05T00:00:00Z"),
            scan("g1", "2026-07-05T00:00:00Z", **grype),
            scan("t2", "2026-08-20T00:00:00Z"),
            scan("g2", "2026-08-20T00:00:00Z", **grype),
        ],
        findings=(
            [sighting("t1", "2026-07-05T00:00:00Z"), sighting("g1", "2026-07-05T00:00:00Z", fid="grype:e2fs")],
            [sighting("t2", "2026-08-20T00:00:00Z")],  # trivy still sees it; grype does not
        ),
        deployments=[deployment("d-1", "2026-08-10T00:00:00Z")],
    )
    assert out.state() == "deployed_still_vulnerable"
    conflicts = [i for i in out.issues if i.code == "scan.conflicting-results"]
    assert len(conflicts) == 1
    assert "g2 of img-app at 2026-08-20T00:00:00Z does not report CVE-2019-5094" in conflicts[0].message
    assert conflicts[0].severity == "warning"


def test_deployments_naming_only_a_patch_are_linked(tmp_path: Path) -> None:
    host_scan = {"asset": "srv-1", "tool": "nessus", "scope_keys": ["nessus-family:Windows : Microsoft Bulletins"]}
    win = {
        "asset": "srv-1",
        "fid": "nessus:kb",
        "vuln_id": "CVE-2024-21338",
        "package": None,
        "purl": None,
        "fix_refs": ["KB5034763"],
        "scope_keys": ["nessus-family:Windows : Microsoft Bulletins"],
    }
    out = run(
        tmp_path,
        assets=[ASSET, HOST],
        scans=[
            scan("s1", "2026-07-05T00:00:00Z"),
            scan("s2", "2026-08-20T00:00:00Z"),
            scan("n1", "2026-07-05T00:00:00Z", **host_scan),
            scan("n2", "2026-08-20T00:00:00Z", **host_scan),
        ],
        findings=[sighting("s1", "2026-07-05T00:00:00Z"), sighting("n1", "2026-07-05T00:00:00Z", **win)],
        deployments=[
            deployment("apt-1", "2026-08-10T00:00:00Z", vuln_ids=[], patch_id="e2fsprogs:amd64=1.44.5-1+deb10u3"),
            deployment("apt-old", "2026-08-09T00:00:00Z", vuln_ids=[], patch_id="e2fsprogs=1.44.5-1+deb10u1"),
            deployment("kb-1", "2026-08-10T00:00:00Z", asset="srv-1", vuln_ids=[], patch_id="kb5034763"),
        ],
    )
    assert out.state() == "verified_fixed"
    assert out.ledger[("img-app", CVE)]["link_rules"] == ["package-version"]  # the older version fixes nothing
    assert out.ledger[("img-app", CVE)]["deployments"] == 1
    assert out.state("srv-1", "CVE-2024-21338") == "verified_fixed"
    assert out.ledger[("srv-1", "CVE-2024-21338")]["link_rules"] == ["kb-reference"]


def test_an_image_deployment_targets_the_fixable_findings_of_its_asset(tmp_path: Path) -> None:
    unfixable = {"fid": "trivy:nofix", "vuln_id": "CVE-2020-0001", "fixed_version": None}
    out = run(
        tmp_path,
        scans=[scan("s1", "2026-07-05T00:00:00Z"), scan("s2", "2026-08-20T00:00:00Z")],
        findings=(
            [sighting("s1", "2026-07-05T00:00:00Z"), sighting("s1", "2026-07-05T00:00:00Z", **unfixable)],
            [sighting("s2", "2026-08-20T00:00:00Z", **unfixable)],
        ),
        deployments=[deployment("img-1", "2026-08-10T00:00:00Z", vuln_ids=[], patch_id="sha256:" + "ab" * 32)],
    )
    assert out.state() == "verified_fixed"
    assert out.ledger[("img-app", CVE)]["link_rules"] == ["image-replacement"]
    assert out.ledger[("img-app", "CVE-2020-0001")]["deployments"] is None


def test_tool_host_names_resolve_through_aliases(tmp_path: Path) -> None:
    builder = BundleBuilder(tmp_path)
    builder.add("assets", [ASSET, HOST, {"id": "srv-2", "name": "srv-2", "type": "server", "aliases": ["10.0.0.9"]}])
    builder.add(
        "scans",
        [scan("n1", "2026-07-05T00:00:00Z", asset="10.0.0.5"), scan("n2", "2026-07-05T00:00:00Z", asset="SRV-2")],
    )
    builder.add("findings", [sighting("n1", "2026-07-05T00:00:00Z", asset="10.0.0.5")])
    builder.write()
    with _loaded(tmp_path) as loaded:
        assert [i for i in loaded.issues if i.severity == "error"] == []
        scans = _rows(loaded, "SELECT id, asset_id FROM scans ORDER BY id")
        resolved = _rows(loaded, "SELECT kind, key, asset_id, via FROM asset_key_map ORDER BY kind, key")
        findings = _rows(loaded, "SELECT asset_id FROM findings")
    assert scans == [{"id": "n1", "asset_id": "srv-1"}, {"id": "n2", "asset_id": "srv-2"}]
    assert findings == [{"asset_id": "srv-1"}]
    assert {(r["kind"], r["key"], r["asset_id"]) for r in resolved} == {
        ("findings", "10.0.0.5", "srv-1"),
        ("scans", "10.0.0.5", "srv-1"),
        ("scans", "SRV-2", "srv-2"),
    }


def test_an_ambiguous_or_unknown_host_name_is_named(tmp_path: Path) -> None:
    builder = BundleBuilder(tmp_path)
    twin = {"id": "srv-3", "name": "srv-3", "type": "server", "aliases": ["10.0.0.5"]}
    builder.add("assets", [HOST, twin])
    builder.add(
        "scans",
        [scan("n1", "2026-07-05T00:00:00Z", asset="10.0.0.5"), scan("n2", "2026-07-05T00:00:00Z", asset="10.9.9.9")],
    )
    builder.write()
    with _loaded(tmp_path) as loaded:
        issues = [(i.code, i.message) for i in loaded.issues if i.severity == "error"]
    assert len(issues) == 2
    ambiguous = next(m for c, m in issues if c == "ref.ambiguous-asset")
    assert "'10.0.0.5' names 2 assets (srv-1, srv-3)" in ambiguous
    unknown = next(m for c, m in issues if c == "ref.unknown-asset")
    assert "10.9.9.9" in unknown


def test_one_rescan_reporting_two_findings_of_an_instance_cites_the_first_record(tmp_path: Path) -> None:
    # One scan reports the vulnerability in two packages: two findings, one instance. The rescan after
    # the deployment answers for both with one id; the ledger cites the sighting that comes first in
    # the bundle (its file, then its record number), whatever order the store produced them in (D93).
    libcom = {"fid": "trivy:libcom", "package": "libcom-err2", "purl": "pkg:deb/debian/libcom-err2@1.44.5-1"}
    out = run(
        tmp_path,
        scans=[scan("s1", "2026-07-05T00:00:00Z"), scan("s2", "2026-08-20T00:00:00Z")],
        findings=(
            [sighting("s1", "2026-07-05T00:00:00Z"), sighting("s1", "2026-07-05T00:00:00Z", **libcom)],
            [sighting("s2", "2026-08-20T00:00:00Z", **libcom), sighting("s2", "2026-08-20T00:00:00Z")],
        ),
        deployments=[deployment("d-1", "2026-08-10T00:00:00Z")],
    )
    answers = [d for d in out.derived if d["rule"] == "rescan-after-deployment"]
    assert sorted((d["id"], d["finding_id"], d["result"]) for d in answers) == [
        ("rescan-after-deployment:s2:d-1", "trivy:e2fs", "vulnerable"),
        ("rescan-after-deployment:s2:d-1", "trivy:libcom", "vulnerable"),
    ]
    assert out.state() == "deployed_still_vulnerable"
    cited = out.ledger[("img-app", CVE)]["after_success"]
    assert (cited["src"], cited["rec"], cited["scan_id"]) == ("findings/1.jsonl", 1, "s2")
