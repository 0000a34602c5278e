"""The issue's new-user scenario on real Trivy output: the same image report taken on 2026-07-05
and again on 2026-08-20 — the second without CVE-2019-5094, whose packages were upgraded — plus a
successful deployment on 2026-08-10. The bundle validates (a rescan is not a duplicate record), and
the rescan verifies the deployment, citing the scan file and its hash."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from support.bundles import BundleBuilder

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.store.exports import ledger_csv

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "series"
REAL = json.loads((FIXTURES / "trivy-debian-stretch.json").read_text(encoding="utf-8"))
CVE = "CVE-2019-5094"
IMAGE = {
    "id": "img-stretch",
    "name": "ghcr.io/aquasecurity/trivy-test-images:debian-stretch",
    "type": "container_image",
}


def rescan(report: dict[str, Any], created: str, *, fixed: tuple[str, ...] = ()) -> dict[str, Any]:
    """The report as a later scan sees the image: a later CreatedAt, and the entries of the
    vulnerabilities whose packages were upgraded gone (Trivy lists vulnerable packages only)."""
    later = copy.deepcopy(report)
    later["CreatedAt"] = created
    for result in later["Results"]:
        result["Vulnerabilities"] = [v for v in result.get("Vulnerabilities", []) if v["VulnerabilityID"] not in fixed]
    return later


def write_bundle(root: Path, deployments: list[dict[str, Any]]) -> None:
    builder = BundleBuilder(root)
    builder.add("assets", [IMAGE], "csv", path="inventory/cmdb.csv")
    for name, report in (
        ("scans/trivy-2026-07-05.json", rescan(REAL, "2026-07-05T06:00:00Z")),
        ("scans/trivy-2026-08-20.json", rescan(REAL, "2026-08-20T06:00:00Z", fixed=(CVE,))),
    ):
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(report, indent=2), encoding="utf-8")
        builder.sources.append(
            {"path": name, "format": "trivy-json", "asset_id": "img-stretch", "collected_at": "2026-08-21T00:00:00Z"}
        )
    builder.add("deployments", deployments, path="changes/deployments.jsonl")
    builder.write()


def _deployment(**extra: Any) -> dict[str, Any]:
    record = {
        "id": "d-rebuild",
        "asset_id": "img-stretch",
        "change_ref": "CHG-2041",
        "started_at": "2026-08-10T09:00:00Z",
        "completed_at": "2026-08-10T09:30:00Z",
        "status": "succeeded",
    }
    return {**record, **extra}


@pytest.mark.parametrize(
    ("deployment", "link"),
    [
        (_deployment(vuln_ids=[CVE]), "named"),
        (_deployment(patch_id="sha256:" + "4f" * 32), "image-replacement"),
        (_deployment(patch_id="e2fsprogs=1.43.4-2+deb9u1"), "package-version"),
    ],
)
def test_a_rescan_of_real_trivy_output_verifies_the_deployment(
    tmp_path: Path, deployment: dict[str, Any], link: str
) -> None:
    write_bundle(tmp_path, [deployment])
    loaded = load_bundle(tmp_path)
    try:
        assert loaded.valid, [i for i in loaded.issues if i.severity == "error"]
        sightings = loaded.store.con.execute(
            "SELECT count(*), count(DISTINCT finding_id) FROM finding_sightings WHERE vuln_id = $v", {"v": CVE}
        ).fetchone()
        result = assess(loaded, load_library(), AssessOptions())
        ledger = list(csv.DictReader(io.StringIO(ledger_csv(loaded.store.con).decode())))
        sha = {s.path: s.sha256 for s in result.bundle.sources}
    finally:
        loaded.close()
    # four e2fsprogs binary packages, each seen once (only the July scan reports them)
    assert sightings == (4, 4)
    row = next(r for r in ledger if r["vuln_id"] == CVE)
    assert row["state"] == "verified_fixed"
    assert row["deployment_link"] == link
    assert row["verification_derived"] == "true"
    assert row["verification_rule"] == "rescan-after-deployment"
    assert row["verification_source"] == "scans/trivy-2026-08-20.json"
    assert row["verification_sha256"] == sha["scans/trivy-2026-08-20.json"]
    assert row["fixed_at"] == "2026-08-20T06:00:00Z"
    bash = next(r for r in ledger if r["vuln_id"] == "CVE-2019-18276")
    assert bash["state"] == "open"  # still reported by the rescan, and no deployment targets it
    headline = result.headline
    assert (headline.verified_by_rescan, headline.verified_by_record) == (1, 0)
    assert headline.targeted_by_inference == (0 if link == "named" else 1)
    assert headline.verified_removed.display == "100.0 % (1/1)"


def test_without_any_deployment_the_fix_has_no_change_record(tmp_path: Path) -> None:
    other = _deployment(id="d-other", vuln_ids=["CVE-2026-0001"])
    write_bundle(tmp_path, [other])
    loaded = load_bundle(tmp_path)
    try:
        assert loaded.valid
        result = assess(loaded, load_library(), AssessOptions())
    finally:
        loaded.close()
    ver04 = next(c for c in result.controls if c.control_id == "VER-04")
    assert [g.message for g in ver04.gaps] == [
        f"{CVE} on img-stretch verified fixed 2026-08-20 06:00Z with no deployment or change record"
    ]
    # the gap cites the finding at its last sighting: the July report, record and hash
    assert ver04.gaps[0].source == "scans/trivy-2026-07-05.json"
    assert ver04.gaps[0].sha256 == next(s.sha256 for s in result.bundle.sources if s.path == ver04.gaps[0].source)
