"""The CI recipes work as written: the example GitHub Actions workflow and the pre-commit hook
definitions are parsed, and every command they name runs against sample bundles with the exit code a
pipeline relies on (0 clean, 1 gaps at --fail-on, 3 invalid), the SARIF it uploads is valid, and
docs/ci.md documents both."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.schemas import errors

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "evidence.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
SAMPLES = ROOT / "evidence-samples"
BIN = Path(sys.executable).parent  # exposure-reporter is installed next to this interpreter


def workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def steps() -> list[dict[str, Any]]:
    [job] = workflow()["jobs"].values()
    result: list[dict[str, Any]] = job["steps"]
    return result


def environment(tmp_path: Path, bundle: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env |= {k: str(v) for k, v in workflow()["env"].items()}
    env |= {"BUNDLE": bundle, "PATH": f"{BIN}{os.pathsep}{env['PATH']}", "RUNNER_TEMP": str(tmp_path / "runner")}
    (tmp_path / "runner").mkdir(exist_ok=True)
    return env | extra


def run_step(step: dict[str, Any], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run:` step as GitHub runs it: bash -e -o pipefail, with the step's own env (secrets given)."""
    step_env = env | {k: str(v) for k, v in step.get("env", {}).items() if "${{" not in str(v)}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=step_env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def checkout(tmp_path: Path, sample: str) -> tuple[Path, str]:
    """A working copy holding the sample bundle where the workflow expects it."""
    work = tmp_path / "work"
    target = work / "evidence"
    shutil.copytree(SAMPLES / sample, target)
    return work, "evidence"


def test_the_workflow_is_complete() -> None:
    data = workflow()
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads the key `on` as true
    assert {"push", "pull_request", "workflow_dispatch"} <= set(triggers)
    assert data["permissions"] == {"contents": "read"}
    [job] = data["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    uses = [s["uses"].split("@")[0] for s in steps() if "uses" in s]
    assert "github/codeql-action/upload-sarif" in uses
    upload = next(s for s in steps() if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["if"] == "always()"
    validate = next(s for s in steps() if "validate" in s.get("run", ""))
    assert f"> {upload['with']['sarif_file']}" in validate["run"]
    assert (SAMPLES / data["env"]["BUNDLE"].removeprefix("evidence-samples/")).is_dir()


def _commands(tmp_path: Path, sample: str, **secrets: str) -> tuple[Path, dict[str, int]]:
    work, bundle = checkout(tmp_path, sample)
    env = environment(tmp_path, bundle, **secrets)
    codes = {}
    for step in steps():
        if "run" not in step:
            continue
        if "pip install" in step["run"]:  # the one step that needs the network and root
            assert "apt-get install" in step["run"]
            continue
        done = run_step(step, work, env)
        assert "Traceback" not in done.stderr, done.stderr
        codes[step["name"]] = done.returncode
    return work, codes


@pytest.mark.slow
def test_the_workflow_commands_pass_a_clean_bundle_and_sign_its_report(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    made = subprocess.run([BIN / "exposure-reporter", "keygen", str(keys / "ci")], capture_output=True, check=False)
    assert made.returncode == 0
    secret = (keys / "ci.key").read_text()
    work, codes = _commands(tmp_path, "minimal", SIGNING_KEY=secret)
    assert set(codes.values()) == {0}, codes
    sarif = json.loads((work / "exposure-reporter.sarif").read_text())
    assert errors("sarif", sarif) == []
    assert sarif["runs"][0]["results"] == []
    assert json.loads((work / "results.json").read_text())["format_version"] == 1
    produced = {p.name for p in (work / "report").iterdir()}
    assert {"report.pdf", "assessment-results.json", "attestation.intoto.jsonl"} <= produced
    verify = subprocess.run(
        [BIN / "exposure-reporter", "verify", str(work / "report"), "--key", str(keys / "ci.pub")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr
    assert not list((tmp_path / "runner").iterdir()), "the signing key file is removed"


def test_the_workflow_flags_an_invalid_bundle_and_still_uploads_its_problems(tmp_path: Path) -> None:
    work, bundle = checkout(tmp_path, "broken/hash-mismatch")
    env = environment(tmp_path, bundle)
    validate = next(s for s in steps() if "validate" in s.get("run", ""))
    done = run_step(validate, work, env)
    assert done.returncode == 3
    sarif = json.loads((work / "exposure-reporter.sarif").read_text())
    assert errors("sarif", sarif) == []
    [result] = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "source.hash-mismatch"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("evidence/")
    assess = next(s for s in steps() if "assess" in s.get("run", ""))
    assert run_step(assess, work, env).returncode == 3


def hooks() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = yaml.safe_load(HOOKS.read_text())
    return data


def test_the_hook_definitions_are_complete() -> None:
    ids = [h["id"] for h in hooks()]
    assert ids == ["exposure-reporter-validate", "exposure-reporter-assess"]
    for hook in hooks():
        assert {"id", "name", "entry", "language", "description"} <= set(hook)
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        assert hook["entry"].startswith("exposure-reporter ")


@pytest.mark.parametrize(
    ("hook_id", "sample", "code"),
    [
        ("exposure-reporter-validate", "minimal", 0),
        ("exposure-reporter-validate", "broken/hash-mismatch", 3),
        ("exposure-reporter-assess", "minimal", 0),
        ("exposure-reporter-assess", "northwind-2026-q3", 1),
    ],
)
def test_each_hook_runs_as_pre_commit_runs_it(hook_id: str, sample: str, code: int) -> None:
    hook = next(h for h in hooks() if h["id"] == hook_id)
    command = shlex.split(hook["entry"])
    command[0] = str(BIN / command[0])
    done = subprocess.run(
        [*command, str(SAMPLES / sample)], capture_output=True, text=True, timeout=900, check=False, cwd=ROOT
    )
    assert done.returncode == code, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_docs_ci_describes_both_recipes() -> None:
    doc = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    assert ".github/workflows/evidence.yml" in doc
    assert ".pre-commit-hooks.yaml" in doc
    for hook in hooks():
        assert hook["id"] in doc
    for step in steps():
        if "run" in step and "pip install" not in step["run"]:
            assert step["run"].splitlines()[0].split(" > ")[0].strip() in doc or step["name"] in doc
