"""Same bundle in, byte-identical results out; `as_of` defaults to the period end, not the clock."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from reporter.cli import app

# the sample quarters (defined here: `from conftest import` is ambiguous when pytest collects
# several test directories, each with its own conftest.py)
SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"

runner = CliRunner()


def _assess(tmp_path: Path, name: str, *extra: str) -> tuple[int, bytes]:
    out = tmp_path / name
    result = runner.invoke(app, ["assess", str(SAMPLES / "northwind-2026-q3"), "--output", str(out), *extra])
    return result.exit_code, out.read_bytes()


def test_two_runs_are_byte_identical_and_fail_on_low_exits_1(tmp_path: Path) -> None:
    code1, first = _assess(tmp_path, "a.json")
    code2, second = _assess(tmp_path, "b.json", "--fail-on", "low")
    assert first == second
    assert (code1, code2) == (0, 1)
    results = json.loads(first)
    assert results["format_version"] == 1
    assert results["as_of"] == "2026-10-01T00:00:00Z"
    assert results["bundle"]["digest"]
    assert results["policy"]["sla"]["rules"]


def test_as_of_moves_the_assessment(tmp_path: Path) -> None:
    _, default = _assess(tmp_path, "a.json")
    code, earlier = _assess(tmp_path, "b.json", "--as-of", "2026-08-31")
    assert code == 0
    before, after = json.loads(earlier), json.loads(default)
    assert before["as_of"] == "2026-09-01T00:00:00Z"
    assert before["headline"]["deployments_attempted"] < after["headline"]["deployments_attempted"]


def test_invalid_as_of_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["assess", str(SAMPLES / "minimal"), "--as-of", "2026-08-31T00:00:00"])
    assert result.exit_code == 2
    assert "no time zone" in result.stderr
