"""The tools-only sample quarter `evidence-samples/larkspur-2026-q3`: built from native tool outputs
only (no canonical findings, deployments or verifications), it validates, and the engine's ledger,
derived verifications, headline and controls equal the expectations written from the scenario and
docs/verification.md (`evidence-samples/expectations/larkspur-2026-q3.yaml`); `report` writes every
output, and ledger.csv cites the scanner file (and its sha256) behind every fix derived from a rescan.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.interface import LoadedBundle
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.cli import app
from reporter.models.manifest import Manifest
from reporter.models.results import Assessment, Gap

SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"
BUNDLE = SAMPLES / "larkspur-2026-q3"
EXPECTED: dict[str, Any] = yaml.safe_load((SAMPLES / "expectations" / "larkspur-2026-q3.yaml").read_text("utf-8"))
CANONICAL = {"csv", "jsonl", "json", "yaml", "parquet", "records-jsonl"}
SCANNERS = {"trivy-json", "grype-json", "nessus-xml"}
OUTPUTS = ("report.html", "report.pdf", "results.json", "findings.csv", "ledger.csv", "exceptions.csv")
# Where the engine disagrees with the documentation the expectations follow. Strict: when the engine
# (or the documentation) changes so that they agree, the test fails until the entry is removed.
DISCREPANCIES: dict[str, str] = {}

Key = tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """An assessment of the sample and what was read from the evidence store before it closed."""

    assessment: Assessment
    errors: list[str]
    warnings: list[str]
    ledger: dict[Key, dict[str, Any]]
    derived: dict[Key, set[Key]]
    flagged: dict[str, list[Key]]
    record_sources: dict[str, set[str]]
    verifications: int


def _rows(loaded: LoadedBundle, sql: str) -> list[dict[str, Any]]:
    cursor = loaded.store.con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _gap_keys(loaded: LoadedBundle) -> dict[str, dict[str, Key]]:
    """Record id → scenario key, per kind: record ids are the importers' hashes, never asserted on."""
    tables = {
        "findings": "SELECT id, asset_id, vuln_id FROM findings",
        "deployments": "SELECT id, asset_id, patch_id FROM deployments",
        "secret_exposures": "SELECT id, asset_id, detector, location FROM secret_exposures",
    }
    return {
        kind: {str(row[0]): tuple(str(v) for v in row[1:]) for row in loaded.store.con.execute(sql).fetchall()}
        for kind, sql in tables.items()
    }


def _gap_key(gap: Gap, keys: dict[str, dict[str, Key]]) -> Key:
    if gap.kind in keys:
        return keys[gap.kind][gap.record_id]
    return (gap.kind, gap.record_id)


@pytest.fixture(scope="module")
def outcome() -> Iterator[Outcome]:
    loaded = load_bundle(BUNDLE)
    try:
        errors = [f"{i.code} {i.file}: {i.message}" for i in loaded.issues if i.severity == "error"]
        warnings = [f"{i.code} {i.file}: {i.message}" for i in loaded.issues if i.severity != "error"]
        assessment = assess(loaded, load_library(), AssessOptions())
        ledger: dict[Key, dict[str, Any]] = {
            (r["asset_id"], r["vuln_id"]): r for r in _rows(loaded, "SELECT * FROM a_ledger")
        }
        derived: dict[Key, set[Key]] = {}
        for r in _rows(loaded, "SELECT asset_id, i_vuln, rule, result, _source FROM a_ver WHERE derived"):
            derived.setdefault((r["asset_id"], r["i_vuln"]), set()).add((r["rule"], r["result"], r["_source"]))
        keys = _gap_keys(loaded)
        flagged = {c.control_id: [_gap_key(g, keys) for g in c.gaps] for c in assessment.controls}
        record_sources = {
            kind: {str(r["_source"]) for r in _rows(loaded, f"SELECT DISTINCT _source FROM {kind}")}
            for kind in ("findings", "deployments", "scans")
        }
        verifications = _rows(loaded, "SELECT count(*) AS n FROM verifications")[0]["n"]
        yield Outcome(assessment, errors, warnings, ledger, derived, flagged, record_sources, verifications)
    finally:
        loaded.close()


def _manifest() -> Manifest:
    return Manifest.model_validate(yaml.safe_load((BUNDLE / "bundle.yaml").read_text(encoding="utf-8")))


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# ---------------------------------------------------------------------------------------------
# The bundle


def test_the_bundle_validates(outcome: Outcome) -> None:
    for warning in outcome.warnings:
        print("warning:", warning)
    assert outcome.errors == []


def test_every_finding_deployment_and_verification_comes_through_an_importer(outcome: Outcome) -> None:
    sources = _manifest().sources
    canonical = {s.path: s.kind for s in sources if s.effective_format in CANONICAL}
    assert set(canonical.values()) == {"assets"}, "only the inventory is a canonical file"
    tool_files = {s.path for s in sources if s.effective_format not in CANONICAL}
    for kind in ("findings", "deployments", "scans"):
        assert outcome.record_sources[kind], f"no {kind}"
        assert outcome.record_sources[kind] <= tool_files, kind
    assert outcome.verifications == 0, "every verification is derived from rescans"


# ---------------------------------------------------------------------------------------------
# The ledger: every finding-instance, its state, the fix it rests on, its deadline


def test_the_ledger_holds_exactly_the_planned_instances(outcome: Outcome) -> None:
    expected = {(e["asset"], e["vuln"]) for e in EXPECTED["ledger"]}
    assert set(outcome.ledger) == expected


@pytest.mark.parametrize("row", EXPECTED["ledger"], ids=lambda e: f"{e['asset']}:{e['vuln']}")
def test_instance_state(outcome: Outcome, row: dict[str, Any]) -> None:
    got = outcome.ledger[(row["asset"], row["vuln"])]
    fix = got["fix_evidence"] or {}
    actual = {
        "state": got["state"],
        "deployment_links": list(got["link_rules"] or []),
        "first_detected_at": got["first_detected_at"],
        "fixed_at": got["fixed_at"],
        "fixed_rule": fix.get("rule"),
        "verification_source": fix.get("src"),
    }
    wanted = {
        "state": row["state"],
        "deployment_links": [row["deployment_link"]] if row["deployment_link"] else [],
        "first_detected_at": _at(row["first_detected_at"]),
        "fixed_at": _at(row.get("fixed_at")),
        "fixed_rule": row.get("fixed_rule"),
        "verification_source": row.get("verification_source"),
    }
    assert actual == wanted, row["story"]


@pytest.mark.parametrize("row", EXPECTED["ledger"], ids=lambda e: f"{e['asset']}:{e['vuln']}")
def test_instance_deadline(outcome: Outcome, row: dict[str, Any]) -> None:
    got = outcome.ledger[(row["asset"], row["vuln"])]
    assert (got["due_at"], got["sla_rule"], got["sla_status"]) == (
        _at(row["due_at"]),
        row["sla_rule"],
        row["sla_status"],
    )


@pytest.mark.parametrize("row", EXPECTED["ledger"], ids=lambda e: f"{e['asset']}:{e['vuln']}")
def test_derived_verifications_and_the_scans_they_cite(outcome: Outcome, row: dict[str, Any]) -> None:
    """Stories a–f: the rule of every verification derived for the instance and the scan file it
    cites; every other instance has none."""
    wanted = {(d["rule"], d["result"], d["source"]) for d in row["derived_verifications"]}
    assert outcome.derived.get((row["asset"], row["vuln"]), set()) == wanted, row["story"]


# ---------------------------------------------------------------------------------------------
# Headline and controls


@pytest.mark.parametrize("name", sorted(EXPECTED["headline"]))
def test_headline(outcome: Outcome, name: str) -> None:
    value = getattr(outcome.assessment.headline, name)
    wanted = EXPECTED["headline"][name]
    if isinstance(wanted, dict):
        assert (value.numerator, value.denominator) == (wanted["numerator"], wanted["denominator"])
    else:
        assert value == wanted


def test_every_control_of_the_library_is_expected() -> None:
    assert set(load_library().controls) == set(EXPECTED["controls"])


def _flag_key(entry: dict[str, Any]) -> Key:
    if "vuln" in entry:
        return (entry["asset"], entry["vuln"])
    if "patch" in entry:
        return (entry["asset"], entry["patch"])
    if "detector" in entry:
        return (entry["asset"], entry["detector"], entry["location"])
    if "kind" in entry:
        return ("kinds", entry["kind"])
    return ("assets", entry["asset"])


def _control_params() -> list[Any]:
    return [
        pytest.param(cid, marks=pytest.mark.xfail(reason=DISCREPANCIES[cid], strict=True))
        if cid in DISCREPANCIES
        else cid
        for cid in sorted(EXPECTED["controls"])
    ]


@pytest.mark.parametrize("control_id", _control_params())
def test_control(outcome: Outcome, control_id: str) -> None:
    wanted = EXPECTED["controls"][control_id]
    result = next(c for c in outcome.assessment.controls if c.control_id == control_id)
    flagged = outcome.flagged[control_id]
    assert result.status.value == wanted["status"], result.reason
    assert result.gap_total == len(flagged), "every gap is listed (no cap reached)"
    assert sorted(flagged) == sorted(_flag_key(e) for e in wanted["flagged"])


# ---------------------------------------------------------------------------------------------
# The report


@pytest.mark.slow
def test_report_writes_every_output_and_ledger_csv_cites_the_rescans(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(BUNDLE), "--output-dir", str(tmp_path)])
    assert result.exit_code in (0, 1), result.output
    for name in OUTPUTS:
        assert (tmp_path / name).stat().st_size > 0, name
    hashes = {s.path: s.sha256 for s in _manifest().sources if s.effective_format in SCANNERS}
    with (tmp_path / "ledger.csv").open(encoding="utf-8-sig", newline="") as handle:  # the CSVs carry a BOM
        rows = {(r["asset_id"], r["vuln_id"]): r for r in csv.DictReader(handle)}
    fixed = [e for e in EXPECTED["ledger"] if e.get("fixed_rule")]
    assert fixed
    for row in fixed:
        got = rows[(row["asset"], row["vuln"])]
        assert got["verification_derived"] == "true"
        assert got["verification_rule"] == row["fixed_rule"]
        assert got["verification_source"] == row["verification_source"]
        assert got["verification_source"] in hashes, "a scanner file of the bundle"
        assert got["verification_sha256"] == hashes[got["verification_source"]] == row["verification_sha256"]
