"""The showcase quarter (evidence-samples/kestrel-2026-q3): a believable story, as the engine reads it.

Most controls pass; exactly the story's controls fail; activity (E1) is high while verified removal
(E2) lags; the leaked-credential and expired-exception gaps cite their evidence; and the engine flags
exactly the records of `expectations/kestrel-2026-q3.yaml`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.models.results import Assessment, ControlResult

SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"
NAME = "kestrel-2026-q3"
BUNDLE = SAMPLES / NAME
EXPECTED: dict[str, Any] = yaml.safe_load((SAMPLES / "expectations" / f"{NAME}.yaml").read_text())
STORY_FAILURES = {"VER-01", "VER-02", "NHI-02", "NHI-14", "EXC-02", "PRI-04"}


@pytest.fixture(scope="module")
def kestrel() -> Assessment:
    """The showcase quarter assessed once, with every gap listed."""
    loaded = load_bundle(BUNDLE)
    try:
        assert [i for i in loaded.issues if i.severity != "info"] == []
        return assess(loaded, load_library(), AssessOptions(gap_cap=100_000))
    finally:
        loaded.close()


def _control(result: Assessment, control_id: str) -> ControlResult:
    return next(c for c in result.controls if c.control_id == control_id)


def _status_counts(result: Assessment) -> dict[str, int]:
    counts: dict[str, int] = {}
    for control in result.controls:
        counts[control.status] = counts.get(control.status, 0) + 1
    return counts


def test_most_controls_pass_and_none_lacks_evidence(kestrel: Assessment) -> None:
    counts = _status_counts(kestrel)
    assert counts.get("fail", 0) <= 7, counts
    assert counts.get("insufficient_evidence", 0) == 0, counts
    assert counts.get("error", 0) == 0, counts
    assert counts.get("pass", 0) + counts.get("not_applicable", 0) >= 38, counts


def test_exactly_the_story_fails(kestrel: Assessment) -> None:
    failing = {c.control_id for c in kestrel.controls if c.status == "fail"}
    assert failing == STORY_FAILURES
    planted = {c for c, entry in EXPECTED["controls"].items() if entry["flagged"]}
    assert planted == STORY_FAILURES


def test_activity_high_verified_removal_lags(kestrel: Assessment) -> None:
    e1 = next(m for m in kestrel.metrics if m.id == "E1").measure
    e2 = next(m for m in kestrel.metrics if m.id == "E2").measure
    assert e1 is not None
    assert e2 is not None
    assert e1.value is not None
    assert e2.value is not None
    assert e1.value >= 0.90
    assert e2.value <= e1.value - 0.15
    assert 0.60 <= e2.value <= 0.80


def test_patched_host_exposed_through_leaked_token(kestrel: Assessment) -> None:
    (exposed,) = _control(kestrel, "NHI-14").gaps
    (leak,) = _control(kestrel, "NHI-02").gaps
    assets = {a["id"]: a for a in _records("inventory/cmdb-assets.csv")}
    host = assets[exposed.record_id]
    assert host["name"].startswith("srv-booking-web-01.")
    assert host["internet_facing"] == "true"
    assert exposed.source == "inventory/cmdb-assets.csv"
    assert exposed.line is not None
    assert exposed.sha256 is not None
    assert exposed.identity_id == leak.identity_id
    assert leak.source == "secrets/secret-scanner.jsonl"
    assert leak.record_id in exposed.message
    assert "github.com/kestrel-oss/" in leak.message


def test_expired_exception_still_relied_on(kestrel: Assessment) -> None:
    (expired,) = _control(kestrel, "EXC-02").gaps
    assert expired.source == "exceptions/risk-register.yaml"
    assert expired.line is not None
    assert "expired 2026-08-01" in expired.message
    overdue = [g for g in _control(kestrel, "PRI-04").gaps if g.excepted_by is None]
    assert [g.asset_id for g in overdue] == [expired.asset_id]


def test_engine_flags_exactly_the_expectations(kestrel: Assessment) -> None:
    for control_id, entry in EXPECTED["controls"].items():
        control = _control(kestrel, control_id)
        assert control.gap_total == len(control.gaps), "gaps were capped"
        flagged = {(g.kind, g.record_id) for g in control.gaps if g.excepted_by is None}
        assert flagged == {(e["kind"], str(e["id"])) for e in entry["flagged"]}, control_id
    for clean in EXPECTED["clean"]:
        control = _control(kestrel, clean["control"])
        unexcepted = {(g.kind, g.record_id) for g in control.gaps if g.excepted_by is None}
        assert (clean["kind"], clean["id"]) not in unexcepted, clean


def test_readme_tells_the_engines_headline(kestrel: Assessment) -> None:
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"## Showcase quarter: `{NAME}/`", 1)[1].split("\n## ", 1)[0]
    for metric_id in ("E1", "E2"):
        measure = next(m for m in kestrel.metrics if m.id == metric_id).measure
        assert measure is not None
        match = re.search(rf"\({metric_id}\) ([\d,]+) of ([\d,]+) \(", section)
        assert match is not None, metric_id
        figures = (int(match.group(1).replace(",", "")), int(match.group(2).replace(",", "")))
        assert figures == (measure.numerator, measure.denominator), metric_id
    for control_id in STORY_FAILURES:
        assert f"| {control_id} |" in section


def test_manifest_names_kestrel_only() -> None:
    manifest = (BUNDLE / "bundle.yaml").read_text(encoding="utf-8")
    assert "organisation: Kestrel Shipping" in manifest
    for path in BUNDLE.rglob("*"):
        if path.is_file() and path.suffix != ".parquet":
            assert "northwind" not in path.read_text(encoding="utf-8").lower(), path


def _records(relative: str) -> list[dict[str, str]]:
    with (BUNDLE / relative).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
