"""`exposure-reporter import`: records-jsonl output, atomic writes, --list, and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from reporter.cli import app
from reporter.models.kinds import KINDS

SAMPLES = Path(__file__).parents[1] / "fixtures" / "tool-samples"
NESSUS = SAMPLES / "nessus-xml" / "libnessus-3hosts.nessus"
GRYPE = SAMPLES / "grype-json" / "grype-presenter-golden-kev-epss.json"


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_import_writes_validated_records_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "nessus.jsonl"
    result = run("import", "nessus-xml", str(NESSUS), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "3 observations, 3 scans, 60 findings" in result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 66
    keys = []
    for line in lines:
        body = json.loads(line)
        assert next(iter(body)) == "kind"
        kind = body.pop("kind")
        KINDS[kind].model.model_validate(body)
        keys.append((list(KINDS).index(kind), body["id"]))
    assert keys == sorted(keys)  # kind order, then id


def test_output_is_byte_identical_across_runs(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for out in (first, second):
        assert run("import", "nessus-xml", str(NESSUS), "-o", str(out)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def test_asset_id_and_collected_at_options(tmp_path: Path) -> None:
    out = tmp_path / "grype.jsonl"
    result = run(
        "import",
        "grype-json",
        str(GRYPE),
        "-o",
        str(out),
        "--asset-id",
        "a-img-1",
        "--collected-at",
        "2026-01-05T12:00:00+02:00",
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["asset_id"] for r in records} == {"a-img-1"}
    scan = next(r for r in records if r["kind"] == "scans")
    assert scan["completed_at"] == "2026-01-05T10:00:00+00:00"


def test_missing_scan_time_is_exit_3_with_the_fix(tmp_path: Path) -> None:
    out = tmp_path / "grype.jsonl"
    result = run("import", "grype-json", str(GRYPE), "-o", str(out))
    assert result.exit_code == 3
    assert "set collected_at" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_input_keeps_the_previous_output_and_leaves_no_temp_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"SchemaVersion": 2, "Results": [')
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    result = run("import", "trivy-json", str(bad), "-o", str(out))
    assert result.exit_code == 3
    assert "bad.json" in result.output
    assert "not valid JSON" in result.output
    assert "Traceback" not in result.output
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "out.jsonl"]


def test_unknown_format_is_exit_2_with_the_list(tmp_path: Path) -> None:
    result = run("import", "nmap-xml", str(NESSUS), "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 2
    assert "known formats:" in result.output
    assert "trivy-json" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("import", "nessus-xml", str(NESSUS)),  # no --output
        ("import", "nessus-xml", "/no/such/file.nessus", "-o", "x.jsonl"),
        ("import", "nessus-xml", str(NESSUS), "-o", "x.jsonl", "--asset-id", "has space"),
        ("import", "nessus-xml", str(NESSUS), "-o", "x.jsonl", "--collected-at", "soon"),
        ("import", "nessus-xml", str(NESSUS), "-o", str(NESSUS)),  # would overwrite evidence
        ("import", "--list", "--format", "yaml"),
    ],
)
def test_usage_errors_are_exit_2(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_unwritable_output_is_exit_4(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    result = run("import", "nessus-xml", str(NESSUS), "-o", str(tmp_path / "a-file" / "o.jsonl"))
    assert result.exit_code == 4
    assert "cannot write" in result.output
    assert (tmp_path / "a-file").read_text() == "not a directory"


def test_list_as_text() -> None:
    result = run("import", "--list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["FORMAT", "TOOL"]
    assert len(lines) == 13
    assert any(line.startswith("nessus-xml") and "observations, scans, findings" in line for line in lines)


def test_list_as_json() -> None:
    result = run("import", "--list", "--format", "json")
    assert result.exit_code == 0
    body = json.loads(result.output)
    assert body["format_version"] == 1
    formats = {i["format"]: i for i in body["importers"]}
    assert len(formats) == 12
    assert formats["trufflehog-jsonl"]["kinds"] == ["secret_exposures"]
    assert all(i["tested_versions"] and i["produce_with"] for i in formats.values())
