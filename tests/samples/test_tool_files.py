"""The 2026-Q3 sample carries native tool files (CISA KEV JSON, FIRST EPSS CSV, Trivy and Gitleaks
JSON) that the engine reads through the importers: listed with their hash, importable, planted or
clean as the expectations say, free of anything that looks like a real secret, and `validate` and
`assess` succeed on the bundle."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from reporter.bundle.limits import Limits
from reporter.cli import app
from reporter.models.manifest import Manifest
from reporter.pipeline import LoadOptions, validate_bundle

from .bundle_reader import read_tool_file

SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"
Q3 = SAMPLES / "northwind-2026-q3"
TOOL_FORMATS = {"kev-json", "epss-csv", "trivy-json", "gitleaks-json"}
# Key formats that secret scanners and GitHub push protection recognise; none may appear in a sample.
REAL_LOOKING = re.compile(
    r"AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_|xox[abprs]-|sk_live_|"
    r"AIza[0-9A-Za-z_-]{30,}|-----BEGIN [A-Z ]*PRIVATE KEY-----|glpat-"
)
runner = CliRunner()


def _manifest() -> Manifest:
    return Manifest.model_validate(yaml.safe_load((Q3 / "bundle.yaml").read_text(encoding="utf-8")))


def _tool_sources() -> list[Any]:
    return [s for s in _manifest().sources if s.effective_format in TOOL_FORMATS]


def _records(fmt: str) -> list[tuple[str, dict[str, Any]]]:
    """(kind, data) of every record the tool files of one format yield."""
    return [(kind, raw.data) for s in _tool_sources() if s.format == fmt for kind, raw in read_tool_file(Q3, s)]


def _expected() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SAMPLES / "expectations" / "northwind-2026-q3.yaml").read_text())
    return data


def test_q3_lists_every_tool_format_with_hash_and_collection_time() -> None:
    sources = _tool_sources()
    assert {s.effective_format for s in sources} == TOOL_FORMATS
    for source in sources:
        assert source.format in TOOL_FORMATS, "tool files name their format explicitly"
        assert source.kind is None, "the importer decides a tool file's kinds"
        assert source.sha256 == hashlib.sha256((Q3 / source.path).read_bytes()).hexdigest(), source.path
        assert source.collected_at.tzinfo is not None
    paths = {s.path for s in sources}
    assert {"intel/known_exploited_vulnerabilities.json", "intel/epss_scores-2026-09-30.csv"} <= paths
    assert not {"intel/kev-catalog.csv", "intel/epss-scores.csv"} & {s.path for s in _manifest().sources}


def test_tool_files_name_inventoried_assets() -> None:
    assets = {}
    for line in (Q3 / "inventory" / "cmdb-assets.csv").read_text(encoding="utf-8").splitlines()[1:]:
        asset_id, _, type_, *_ = line.split(",")
        assets[asset_id] = type_
    for source in _tool_sources():
        if source.format == "trivy-json":
            assert assets[source.asset_id] == "container_image"
            report = json.loads((Q3 / source.path).read_text(encoding="utf-8"))
            assert report["SchemaVersion"] == 2
            assert report["ArtifactType"] == "container_image"
        if source.format == "gitleaks-json":
            assert assets[source.asset_id] == "repository"


def test_kev_and_epss_files_have_the_feed_shapes() -> None:
    kev = json.loads((Q3 / "intel" / "known_exploited_vulnerabilities.json").read_text(encoding="utf-8"))
    assert kev["count"] == len(kev["vulnerabilities"]) == len(_records("kev-json")) > 0
    assert {e["knownRansomwareCampaignUse"] for e in kev["vulnerabilities"]} <= {"Known", "Unknown"}
    for entry in kev["vulnerabilities"]:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["dateAdded"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["dueDate"])
    lines = (Q3 / "intel" / "epss_scores-2026-09-30.csv").read_text(encoding="utf-8").splitlines()
    assert re.fullmatch(r"#model_version:v[\d.]+,score_date:2026-09-30T00:00:00Z", lines[0])
    assert lines[1] == "cve,epss,percentile"
    scores = _records("epss-csv")
    assert len(scores) == len(lines) - 2
    assert {data["score_date"] for _, data in scores} == {"2026-09-30"}


def test_every_finding_cve_has_its_intel() -> None:
    """The feeds cover the CVEs of the findings, the Trivy ones included."""
    scored = {data["id"] for _, data in _records("epss-csv")}
    trivy = [data for kind, data in _records("trivy-json") if kind == "findings"]
    assert trivy
    assert {f["vuln_id"] for f in trivy} <= scored


def test_trivy_reports_yield_one_scan_each_and_clean_findings() -> None:
    records = _records("trivy-json")
    scans = [data for kind, data in records if kind == "scans"]
    findings = [data for kind, data in records if kind == "findings"]
    assert len(scans) == len([s for s in _tool_sources() if s.format == "trivy-json"]) == 2
    assert all(s["authenticated"] and s["status"] == "completed" for s in scans)
    assert len(findings) >= 4
    assert all(f["id"].startswith("trivy:") and f["state"] == "open" for f in findings)
    expected = _expected()
    flagged = {(e["kind"], e["id"]) for c in expected["controls"].values() for e in c["flagged"]}
    assert not {("findings", f["id"]) for f in findings} & flagged, "the Trivy findings are clean"
    clean = {(c["control"], c["id"]) for c in expected["clean"]}
    urgent = [f for f in findings if f["severity"] in ("critical", "high")]
    assert urgent
    assert all(("PRI-01", f["id"]) in clean and ("PRI-04", f["id"]) in clean for f in urgent)


def test_gitleaks_leaks_are_planted_for_nhi02_and_inv07() -> None:
    leaks = [data for kind, data in _records("gitleaks-json") if kind == "secret_exposures"]
    assert len(leaks) == 2
    controls = _expected()["controls"]
    for control in ("NHI-02", "INV-07"):
        listed = {e["id"]: e["situation"] for e in controls[control]["flagged"] if e["kind"] == "secret_exposures"}
        for leak in leaks:
            assert leak["id"].startswith("gitleaks:")
            assert "gitleaks" in listed[leak["id"]], control
    for leak in leaks:
        assert "identity_id" not in leak
        assert "revoked_at" not in leak


def test_secrets_in_the_samples_are_obvious_dummies() -> None:
    for source in _tool_sources():
        if source.format != "gitleaks-json":
            continue
        report = json.loads((Q3 / source.path).read_text(encoding="utf-8"))
        for leak in report:
            assert re.fullmatch(r"dummy-not-a-secret-\d{4}", leak["Secret"])
            assert leak["Secret"] in leak["Match"]
        records = json.dumps([raw.data for _, raw in read_tool_file(Q3, source)])
        assert "dummy-not-a-secret" not in records, "the importer drops the raw secret"
    for path in sorted(SAMPLES.rglob("*")):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".csv", ".yaml", ".md"):
            assert not REAL_LOOKING.search(path.read_text(encoding="utf-8")), path


def test_validate_accepts_the_bundle_and_reads_every_tool_file() -> None:
    report = validate_bundle(Q3, LoadOptions(limits=Limits()))
    assert report.valid, [i for i in report.issues if i.severity == "error"][:5]
    files = {f.path: f for f in report.files}
    for source in _tool_sources():
        summary = files[source.path]
        assert summary.format == source.format
        assert summary.records > 0
        assert summary.errors == 0
    assert set(files["scans/trivy-payments-api.json"].kinds) == {"scans", "findings"}
    assert files["secrets/gitleaks-infra-terraform.json"].kinds == ["secret_exposures"]
    assert files["intel/known_exploited_vulnerabilities.json"].kinds == ["kev_entries"]
    assert files["intel/epss_scores-2026-09-30.csv"].kinds == ["epss_scores"]


def test_validate_cli_exits_0() -> None:
    result = runner.invoke(app, ["validate", str(Q3), "--format", "json"])
    assert result.exit_code == 0, result.output[-2000:]
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert {f["format"] for f in report["files"]} >= TOOL_FORMATS


@pytest.mark.slow
def test_assess_cli_succeeds_and_flags_the_gitleaks_leaks(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = runner.invoke(app, ["assess", str(Q3), "--output", str(out)])
    assert result.exit_code == 0, result.output[-2000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    controls = {c["control_id"]: c for c in results["controls"]}
    leaks = {data["id"] for kind, data in _records("gitleaks-json") if kind == "secret_exposures"}
    for control in ("NHI-02", "INV-07"):
        gaps = {g["record_id"] for g in controls[control]["gaps"]}
        assert leaks <= gaps, control
