"""The audit-framing fields of bundle.yaml and the management responses file: parsed into the
manifest and the loaded bundle; every problem one issue with file and line, and exit 3."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from reporter.bundle.interface import LoadedBundle, LoadOptions
from reporter.bundle.limits import Limits
from reporter.bundle.load import load_bundle
from reporter.cli import app
from reporter.models.issues import Issue
from reporter.models.schema import json_schema

MINIMAL = Path(__file__).resolve().parents[2] / "evidence-samples" / "minimal"
RESPONSES = "management-responses.yaml"
GOOD = """responses_version: 1
responses:
- control: VER-02
  owner: Vulnerability Management (Eva Smit)
  target_date: 2026-12-31
  status: agreed
  response: Rescans re-queue failed patches.
- control: NHI-02
  owner: IAM team
  target_date: 2026-10-31
"""
FRAMING: dict[str, Any] = {
    "approved_by": {"name": "Sanne de Vries", "role": "CISO"},
    "document": {"version": "2.1", "status": "draft", "distribution": [{"name": "Audit Committee"}]},
    "scope_exclusions": [{"item": "BYOD phones", "reason": "Not managed by IT"}],
    "assertions": [{"statement": "The CMDB is complete.", "by": "Head of IT"}],
}
CONTROLS = frozenset({"VER-02", "NHI-02", "PRI-01"})


def _bundle(tmp_path: Path, responses: str | None = GOOD, *, hashed: bool = True, **extra: Any) -> Path:
    """The minimal sample with the framing fields, an extraction note and (optionally) a responses file."""
    root = tmp_path / "bundle"
    shutil.copytree(MINIMAL, root)
    manifest = yaml.safe_load((root / "bundle.yaml").read_text())
    manifest.update(FRAMING)
    manifest["sources"][0]["extraction"] = {"method": "ServiceNow report", "completeness": "row count compared"}
    if responses is not None:
        (root / RESPONSES).write_text(responses)
        manifest["management_responses"] = RESPONSES
        if hashed:
            manifest["management_responses_sha256"] = hashlib.sha256(responses.encode()).hexdigest()
    manifest.update(extra)
    (root / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return root


def _load(root: Path, control_ids: frozenset[str] = CONTROLS) -> LoadedBundle:
    loaded = load_bundle(root, LoadOptions(limits=Limits(), control_ids=control_ids))
    loaded.close()
    return loaded


def _responses_issues(loaded: LoadedBundle) -> list[Issue]:
    return [i for i in loaded.issues if i.file == RESPONSES]


def test_framing_fields_and_responses_are_parsed(tmp_path: Path) -> None:
    loaded = _load(_bundle(tmp_path))
    assert loaded.valid, loaded.issues
    manifest = loaded.manifest
    assert manifest is not None
    assert manifest.approved_by is not None
    assert manifest.approved_by.role == "CISO"
    assert manifest.document is not None
    assert manifest.document.version == "2.1"
    assert [x.item for x in manifest.scope_exclusions] == ["BYOD phones"]
    assert manifest.assertions[0].by == "Head of IT"
    assert manifest.sources[0].extraction is not None
    assert manifest.sources[0].extraction.completeness == "row count compared"
    assert [(r.control, r.target_date, r.status) for r in loaded.responses] == [
        ("VER-02", date(2026, 12, 31), "agreed"),
        ("NHI-02", date(2026, 10, 31), "agreed"),  # the default status
    ]
    assert not [i for i in loaded.issues if i.code == "source.unlisted"], "the responses file is listed"


def test_a_bundle_without_framing_still_loads(tmp_path: Path) -> None:
    loaded = _load(_bundle(tmp_path, responses=None))
    assert loaded.valid
    assert loaded.responses == []


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        (GOOD.replace("target_date: 2026-12-31", "target_date: 2026-02-30"), 5, "responses[0].target_date", "date"),
        (GOOD.replace("  status: agreed", "  status: maybe"), 6, "responses[0].status", "agreed"),
        (GOOD.replace("  owner: IAM team", "  owner: IAM team\n  colour: red"), 10, "responses[1].colour", ""),
        (GOOD.replace("control: NHI-02", "control: VER-02"), 8, "responses[1].control", "already"),
        (GOOD.replace("control: NHI-02", "control: XYZ-99"), 8, "responses[1].control", "unknown control"),
    ],
    ids=["impossible-date", "bad-status", "unknown-key", "answered-twice", "unknown-control"],
)
def test_a_bad_entry_is_one_error_with_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, words: str
) -> None:
    loaded = _load(_bundle(tmp_path, text))
    assert not loaded.valid
    issues = _responses_issues(loaded)
    assert [(i.code, i.severity, i.line, i.field) for i in issues] == [("responses.invalid", "error", line, field)]
    assert words in issues[0].message
    assert loaded.responses == []


def test_broken_yaml_names_its_line(tmp_path: Path) -> None:
    loaded = _load(_bundle(tmp_path, GOOD.replace("  owner: IAM team", "  owner: [IAM team")))
    issues = _responses_issues(loaded)
    # the unclosed flow sequence of line 9 is noticed at the next token, on line 10
    assert [(i.code, i.line) for i in issues] == [("file.bad-yaml", 10)]


def test_a_changed_file_is_a_hash_mismatch_and_no_hash_a_warning(tmp_path: Path) -> None:
    changed = _bundle(tmp_path / "a")
    (changed / RESPONSES).write_text(GOOD.replace("2026-12-31", "2027-12-31"))
    issues = _responses_issues(_load(changed))
    assert [(i.code, i.severity) for i in issues] == [("responses.hash-mismatch", "error")]
    unhashed = _load(_bundle(tmp_path / "b", hashed=False))
    assert unhashed.valid
    assert [(i.code, i.severity) for i in _responses_issues(unhashed)] == [("responses.no-hash", "warning")]


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    root = _bundle(tmp_path)
    (root / RESPONSES).unlink()
    issues = _responses_issues(_load(root))
    assert [(i.code, i.message) for i in issues] == [
        ("responses.invalid", "management responses file named in bundle.yaml is missing")
    ]


def test_the_manifest_refuses_a_responses_file_that_is_also_a_source(tmp_path: Path) -> None:
    root = _bundle(tmp_path, responses=None, management_responses="inventory/assets.csv")
    loaded = _load(root)
    assert loaded.manifest is None
    assert any("already listed" in i.message for i in loaded.issues if i.code == "manifest.invalid")


def test_validate_exits_3_with_file_and_line(tmp_path: Path) -> None:
    root = _bundle(tmp_path, GOOD.replace("target_date: 2026-10-31", "target_date: someday"))
    result = CliRunner().invoke(app, ["validate", str(root)])
    assert result.exit_code == 3, result.output
    out = result.stdout + result.stderr
    assert RESPONSES in out
    assert "responses.invalid" in out
    assert "line 10, field responses[1].target_date" in out


def test_the_sample_responses_file_matches_its_json_schema() -> None:
    sample = MINIMAL.parent / "northwind-2026-q3" / RESPONSES
    data = json.loads(json.dumps(yaml.safe_load(sample.read_text()), default=str))
    jsonschema.validate(data, json_schema("responses"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"responses_version": 1, "responses": [{"control": "VER-02"}]}, json_schema("responses"))
