"""Loading evidence into the store: every format gives the same typed rows; problems name file
and line; values never become SQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.bundles import BundleBuilder, example, minimal_valid

from reporter.bundle.limits import Limits
from reporter.bundle.load import load_bundle
from reporter.models.issues import Issue
from reporter.pipeline import LoadOptions, validate_bundle

FORMATS = ["csv", "jsonl", "json", "yaml", "parquet"]


def _rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    loaded = load_bundle(root)
    try:
        assert [i for i in loaded.issues if i.severity == "error"] == []
        return loaded.store.con.execute(sql).fetchall()
    finally:
        loaded.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_the_same_typed_rows(tmp_path: Path, fmt: str) -> None:
    minimal_valid(tmp_path, fmt).write()
    assets = _rows(
        tmp_path,
        "SELECT id, criticality, internet_facing, aliases, compliance_scopes, ephemeral, managed_by "
        "FROM assets ORDER BY id",
    )
    assert assets[-1] == (
        "a-web-01",
        "high",
        True,
        ["10.0.4.11", "i-0abc123"],
        ["pci"],
        False,
        "internal",
    )
    findings = _rows(
        tmp_path,
        "SELECT vuln_id, cvss_score, epss, epss_date::VARCHAR, first_detected_at, kev FROM findings",
    )
    assert findings[0][:4] == ("CVE-2024-6387", 8.1, 0.42, "2026-07-01")
    assert findings[0][4].isoformat() == "2026-07-02T03:00:00+00:00"
    nested = _rows(
        tmp_path,
        "SELECT json_extract_string(compensating_controls, '$[0].evidence_ref') FROM exceptions",
    )
    assert nested == [("fw-rule-7781",)]


def test_csv_conventions(tmp_path: Path) -> None:
    builder = BundleBuilder(tmp_path)
    csv = (
        "id,name,type,internet_facing,tags,aliases,owner\n"
        'a1,one,server,YES,web; db ;,"[""x"",""y""]",\n'
        'a2,"two\nlines",server,0,,,  team  \n'
    )
    builder.add_raw("assets.csv", csv.encode(), kind="assets")
    builder.write()
    rows = _rows(tmp_path, "SELECT id, name, internet_facing, tags, aliases, owner FROM assets ORDER BY id")
    assert rows == [
        ("a1", "one", True, ["web", "db"], ["x", "y"], None),
        ("a2", "two\nlines", False, [], [], "team"),
    ]


def _issues(root: Path) -> list[Issue]:
    return validate_bundle(root, LoadOptions(limits=Limits(max_issues_per_group=3))).issues


def test_json_types_are_strict(tmp_path: Path) -> None:
    builder = BundleBuilder(tmp_path)
    builder.add(
        "assets",
        [
            example("assets", internet_facing="true"),
            example("assets", id="a2", ephemeral=None, tags="web"),
        ],
        "jsonl",
    )
    builder.write()
    issues = {(i.code, i.line, i.field) for i in _issues(tmp_path)}
    assert ("record.bad-type", 1, "internet_facing") in issues
    assert ("record.bad-type", 2, "tags") in issues
    assert ("record.missing-field", 2, "ephemeral") not in issues


def test_csv_line_numbers_follow_multiline_records(tmp_path: Path) -> None:
    builder = BundleBuilder(tmp_path)
    csv = 'id,name,type\na1,"multi\nline\nname",server\na2,two,spaceship\n'
    builder.add_raw("assets.csv", csv.encode(), kind="assets")
    builder.write()
    [issue] = [i for i in _issues(tmp_path) if i.code == "record.bad-enum"]
    assert (issue.file, issue.line, issue.record, issue.field) == ("assets.csv", 5, 2, "type")


def test_issues_are_capped_per_field_with_a_count(tmp_path: Path) -> None:
    builder = BundleBuilder(tmp_path)
    builder.add("assets", [example("assets", id=f"a{i}", criticality="urgent") for i in range(10)], "csv")
    builder.write()
    issues = [i for i in _issues(tmp_path) if i.code == "record.bad-enum"]
    assert [i.line for i in issues] == [2, 3, 4, None]
    assert issues[-1].message.startswith("7 more records")


def test_evidence_that_looks_like_sql_is_just_data(tmp_path: Path) -> None:
    nasty = "x'); DROP TABLE assets; --"
    builder = BundleBuilder(tmp_path)
    builder.add(
        "assets",
        [example("assets", name=nasty, owner='"; SELECT 1; --')],
        "csv",
        path='it\'s "odd".csv',
    )
    builder.write()
    assert _rows(tmp_path, "SELECT name FROM assets") == [(nasty,)]


def test_unknown_json_keys_and_non_objects(tmp_path: Path) -> None:
    builder = BundleBuilder(tmp_path)
    builder.add_raw(
        "assets.jsonl",
        b'{"id":"a1","name":"n","type":"server","colour":"red"}\n\n[1,2]\nnot json\n',
        kind="assets",
    )
    builder.write()
    found = {(i.code, i.line) for i in _issues(tmp_path)}
    assert {
        ("record.unknown-field", 1),
        ("record.not-an-object", 3),
        ("record.invalid-json", 4),
    } <= found


def test_yaml_document_kind_names_nested_field_and_line(tmp_path: Path) -> None:
    bad = example("exceptions", compensating_controls=[{"description": "x", "verified_at": "soon"}])
    builder = BundleBuilder(tmp_path)
    builder.add("exceptions", [example("exceptions", id="e0"), bad], "yaml")
    builder.write()
    [issue] = [i for i in _issues(tmp_path) if i.file == "exceptions.yaml" and i.code == "record.bad-type"]
    assert issue.field == "compensating_controls[0].verified_at"
    text = (tmp_path / "exceptions.yaml").read_text().splitlines()
    assert "verified_at: soon" in text[issue.line - 1]
