"""`validate --format sarif`: SARIF 2.1.0 valid against the OASIS schema (tests/schemas/), one rule per
issue code, one result per issue with its level, file and line (or record and field), paths relative to
the working directory as code scanning expects, and the same bytes on every run."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from support.bundles import minimal_valid
from support.schemas import SARIF, check_jsonschema, errors
from typer.testing import CliRunner

from reporter.cli import app
from reporter.issue_codes import CODES

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def validate(bundle: str, *extra: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """(exit code, SARIF log, JSON report) of one bundle, run from the current directory."""
    runner = CliRunner()
    sarif_run = runner.invoke(app, ["validate", bundle, "--format", "sarif", *extra])
    json_run = runner.invoke(app, ["validate", bundle, "--format", "json", *extra])
    assert sarif_run.exit_code == json_run.exit_code
    return sarif_run.exit_code, json.loads(sarif_run.stdout), json.loads(json_run.stdout)


@pytest.mark.parametrize(
    "name", ["hash-mismatch", "bad-enum-csv", "exception-nested-field", "malformed-cve", "json-not-a-list"]
)
def test_every_issue_is_a_result_at_its_place(name: str) -> None:
    with cwd(ROOT):
        code, log, report = validate(f"evidence-samples/broken/{name}")
    assert code == 3
    assert errors("sarif", log) == []
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][: len(CODES)] == [c.code for c in CODES]
    results = run["results"]
    assert len(results) == len(report["issues"])
    for result, issue in zip(results, report["issues"], strict=True):
        assert result["ruleId"] == issue["code"]
        assert rules[result["ruleIndex"]]["id"] == issue["code"]
        assert result["level"] == issue["severity"]
        location = result["locations"][0]["physicalLocation"]
        expected = (
            f"evidence-samples/broken/{name}/{issue['file']}" if issue["file"] else f"evidence-samples/broken/{name}"
        )
        assert location["artifactLocation"]["uri"] == expected
        if issue["line"] is not None:
            assert location["region"] == {"startLine": issue["line"]}
        else:
            assert "region" not in location
        assert issue["message"] in result["message"]["text"]
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 3}]
    assert {a["location"]["uri"].rsplit("/", 1)[-1] for a in run["artifacts"]} == {
        f["path"].rsplit("/", 1)[-1] for f in report["files"]
    }


def test_record_and_field_are_named_where_a_format_has_no_lines(tmp_path: Path) -> None:
    builder = minimal_valid(tmp_path / "bundle", fmt="json")
    builder.write()
    path = tmp_path / "bundle" / "findings.json"
    data = json.loads(path.read_text())
    data[0]["severity"] = "apocalyptic"
    path.write_text(json.dumps(data))
    builder.write()
    with cwd(tmp_path):
        code, log, _ = validate("bundle")
    assert code == 3
    [result] = [r for r in log["runs"][0]["results"] if r["ruleId"] == "record.bad-enum"]
    assert "region" not in result["locations"][0]["physicalLocation"]
    assert result["properties"]["record"] == 1
    assert result["properties"]["field"] == "severity"
    assert "(record 1, field severity)" in result["message"]["text"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bundle/findings.json"


def test_a_valid_bundle_has_no_results_and_the_same_bytes_every_time(tmp_path: Path) -> None:
    minimal_valid(tmp_path / "bundle").write()
    with cwd(tmp_path):
        first = CliRunner().invoke(app, ["validate", "bundle", "--format", "sarif"])
        second = CliRunner().invoke(app, ["validate", "bundle", "--format", "sarif"])
    assert first.exit_code == 0
    assert first.stdout == second.stdout
    log = json.loads(first.stdout)
    assert errors("sarif", log) == []
    assert log["runs"][0]["results"] == []
    assert all(a["hashes"]["sha-256"] for a in log["runs"][0]["artifacts"])


def test_a_bundle_outside_the_working_directory_gets_file_uris(tmp_path: Path) -> None:
    minimal_valid(tmp_path / "bundle").write()
    with cwd(ROOT):
        code, log, _ = validate(str(tmp_path / "bundle"))
    assert code == 0
    assert log["runs"][0]["artifacts"][0]["location"]["uri"].startswith((tmp_path / "bundle").as_uri() + "/")
    assert errors("sarif", log) == []


def test_the_official_schema_refuses_what_it_should() -> None:
    """The validator is not vacuous: a result without a message and a bad level are refused."""
    with cwd(ROOT):
        _, log, _ = validate("evidence-samples/broken/hash-mismatch")
    broken = json.loads(json.dumps(log))
    del broken["runs"][0]["results"][0]["message"]
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert len(errors("sarif", broken)) == 2


def test_check_jsonschema_accepts_the_log(tmp_path: Path) -> None:
    with cwd(ROOT):
        _, log, _ = validate("evidence-samples/broken/bad-enum-csv")
    path = tmp_path / "validation.sarif"
    path.write_text(json.dumps(log))
    done = check_jsonschema(SARIF, path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout
