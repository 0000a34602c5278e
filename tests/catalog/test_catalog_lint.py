"""`mappings lint` rules: the shipped library is clean; each rule names the file, entry and fix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from catalog_helpers import PLAN_CHECK_IDS, PLAN_CONTROLS, MakePack, WriteYaml, reference

from reporter.catalog.loader import lint_library, load_library
from reporter.checks.registry import known_check_ids
from reporter.errors import ExitCode, MappingsError
from reporter.models.issues import Issue, IssueSeverity


def _errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity is IssueSeverity.ERROR]


def _only(issues: list[Issue], code: str) -> Issue:
    matching = [i for i in issues if i.code == code]
    assert len(matching) == 1, [f"{i.code}: {i.message}" for i in issues]
    return matching[0]


def _pack_issues(pack: Path) -> list[Issue]:
    return lint_library(packs=[pack], known_checks=PLAN_CHECK_IDS)


# ---------------------------------------------------------------------------------------------
# The shipped library


def test_shipped_library_lints_clean_against_the_plan_checks() -> None:
    assert lint_library(known_checks=PLAN_CHECK_IDS) == []


def test_shipped_controls_and_checks_are_the_plan_table() -> None:
    controls = load_library().controls
    assert {cid: c.check for cid, c in controls.items()} == PLAN_CONTROLS


# Against the real check registry. Until the engine (issue 4) registers checks, the registry is
# empty and every control names an unknown check, so this test is expected to fail then.
@pytest.mark.xfail(
    not known_check_ids(),
    reason="checks land with issue 4: the check registry is empty at run time",
    strict=False,
)
def test_shipped_library_lints_clean_against_the_check_registry() -> None:
    assert _errors(lint_library(known_checks=known_check_ids())) == []


def test_example_pack_lints_clean() -> None:
    example = Path(__file__).resolve().parents[2] / "mappings" / "examples" / "acme-pack"
    assert _pack_issues(example) == []


# ---------------------------------------------------------------------------------------------
# Legacy and non-canonical ids


def test_pack_citing_withdrawn_pr_ip_12_names_both_successors(make_pack: MakePack) -> None:
    pack = make_pack(
        overrides=[
            {
                "control": "PRI-04",
                "reason": "test",
                "add_references": [reference("nist-csf-2.0", "PR.IP-12")],
            }
        ]
    )
    issue = _only(_pack_issues(pack), "mappings.legacy-id")
    assert issue.file == "test-pack/controls/pack.yaml"
    assert issue.field == "overrides[0].add_references[0].id"
    assert "PRI-04" in issue.message
    assert "ID.RA-01" in issue.message
    assert "PR.PS-02" in issue.message
    assert "legacy_id: PR.IP-12" in issue.message
    with pytest.raises(MappingsError) as raised:
        load_library([pack])
    assert raised.value.exit_code is ExitCode.INVALID


def test_pack_citing_nhi_03_is_told_the_canonical_id(make_pack: MakePack) -> None:
    pack = make_pack(
        overrides=[
            {
                "control": "NHI-13",
                "reason": "test",
                "add_references": [reference("owasp-nhi-top10-2025", "NHI-03")],
            }
        ]
    )
    issue = _only(_pack_issues(pack), "mappings.noncanonical-id")
    assert "write NHI3:2025" in issue.message


def test_legacy_id_next_to_its_successor_is_accepted(make_pack: MakePack) -> None:
    pack = make_pack(
        overrides=[
            {
                "control": "PRI-04",
                "reason": "test",
                "remove_references": [{"framework": "nist-csf-2.0", "id": "PR.PS-02"}],
                "add_references": [reference("nist-csf-2.0", "PR.PS-02", legacy_id="PR.IP-12")],
            }
        ]
    )
    assert _pack_issues(pack) == []
    [ref] = [r for r in load_library([pack]).controls["PRI-04"].references if r.id == "PR.PS-02"]
    assert ref.legacy_id == "PR.IP-12"


def test_legacy_id_that_is_not_a_predecessor_is_an_error(make_pack: MakePack) -> None:
    pack = make_pack(
        overrides=[
            {
                "control": "NHI-13",
                "reason": "test",
                "add_references": [reference("nist-csf-2.0", "ID.AM-01", legacy_id="PR.IP-12")],
            }
        ]
    )
    issue = _only(_pack_issues(pack), "mappings.legacy-id")
    assert issue.field == "overrides[0].add_references[0].legacy_id"


# ---------------------------------------------------------------------------------------------
# Reference rules


@pytest.mark.parametrize(
    ("ref", "code", "words"),
    [
        (reference("iso-9999", "A.1"), "mappings.unknown-framework", "unknown framework"),
        (reference("nist-csf-2.0", "ID.RA-11"), "mappings.unknown-id", "unknown id"),
        (reference("nist-csf-2.0", "GV.SC"), "mappings.not-assessable", "is a category"),
        (reference("mitre-atlas", "AML.TA0013"), "mappings.not-assessable", "is a tactic"),
        (
            {"framework": "nist-csf-2.0", "id": "ID.AM-01", "relationship": "subset"},
            "mappings.missing-rationale",
            "no rationale",
        ),
        (
            {"framework": "nist-csf-2.0", "id": "ID.AM-01", "relationship": "subset", "rationale": "Relevant."},
            "mappings.short-rationale",
            "rationale 'Relevant.' has 1 word(s)",
        ),
        (
            reference("nist-csf-2.0", "ID.AM-01", applies_when="ai_everywhere"),
            "mappings.schema",
            "agents_present",
        ),
    ],
)
def test_reference_rules(make_pack: MakePack, ref: dict[str, Any], code: str, words: str) -> None:
    pack = make_pack(overrides=[{"control": "NHI-13", "reason": "t", "add_references": [ref]}])
    issue = _only(_pack_issues(pack), code)
    assert words in issue.message
    assert "override of control NHI-13" in issue.message


def test_unknown_id_suggests_close_ids(make_pack: MakePack) -> None:
    ref = reference("nist-csf-2.0", "ID.RAA-01")
    pack = make_pack(overrides=[{"control": "NHI-13", "reason": "t", "add_references": [ref]}])
    message = _only(_pack_issues(pack), "mappings.unknown-id").message
    assert "did you mean ID.RA-01" in message


def test_duplicate_reference_in_an_override(make_pack: MakePack) -> None:
    ref = reference("nist-csf-2.0", "PR.AA-05")  # NHI-13 already references PR.AA-05
    pack = make_pack(overrides=[{"control": "NHI-13", "reason": "t", "add_references": [ref]}])
    assert "already references" in _only(_pack_issues(pack), "mappings.duplicate-reference").message


def test_override_rules(make_pack: MakePack) -> None:
    pack = make_pack(
        overrides=[
            {"control": "ZZZ-01", "reason": "t"},
            {
                "control": "NHI-13",
                "reason": "t",
                "remove_references": [{"framework": "nist-csf-2.0", "id": "ID.AM-01"}],
            },
        ]
    )
    issues = _pack_issues(pack)
    messages = [i.message for i in issues if i.code == "mappings.override"]
    assert "override of unknown control ZZZ-01" in messages
    assert any("no reference to nist-csf-2.0 ID.AM-01" in m for m in messages)


# ---------------------------------------------------------------------------------------------
# Control and check rules


def _control(cid: str, check: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "title": "A pack control",
        "objective": "Something holds.",
        "check": check,
        "severity": "high",
        "evidence": ["assets"],
        "references": [reference("nist-csf-2.0", "ID.AM-01")],
        **extra,
    }


def test_pack_control_reusing_a_shipped_id_is_a_duplicate(make_pack: MakePack) -> None:
    pack = make_pack(controls=[_control("INV-01", "inventory.discovered_not_inventoried")])
    issue = _only(_pack_issues(pack), "mappings.duplicate-control")
    assert "mappings/controls/01-inv.yaml" in issue.message
    assert "overrides:" in issue.message


def test_check_rules(make_pack: MakePack) -> None:
    pack = make_pack(
        controls=[
            _control("ACME-01", "acme.not_registered"),
            _control("ACME-02", "inventory.scan_coverage"),
        ]
    )
    known = PLAN_CHECK_IDS | {"acme.unused"}
    issues = lint_library(packs=[pack], known_checks=known)
    unknown = _only(issues, "mappings.unknown-check")
    assert (unknown.file, unknown.field) == ("test-pack/controls/pack.yaml", "controls[0].check")
    assert "already evaluates control INV-03" in _only(issues, "mappings.check-reused").message
    assert "acme.unused" in _only(issues, "mappings.unused-check").message


def test_check_rules_are_skipped_without_a_registry(make_pack: MakePack) -> None:
    pack = make_pack(controls=[_control("ACME-01", "acme.not_registered")])
    assert lint_library(packs=[pack], known_checks=None) == []


def test_unknown_evidence_kind_and_metric(make_pack: MakePack) -> None:
    control = _control("ACME-01", "acme.x", evidence=["assets", "tickets"], metrics=["V1", "Q9"])
    issues = lint_library(packs=[make_pack(controls=[control])], known_checks=None)
    assert _only(issues, "mappings.unknown-evidence").field == "controls[0].evidence[1]"
    assert _only(issues, "mappings.unknown-metric").field == "controls[0].metrics[1]"


def test_schema_errors_name_the_control_and_field(make_pack: MakePack) -> None:
    control = _control("ACME-01", "acme.x", severity="urgent")
    issues = lint_library(packs=[make_pack(controls=[control])], known_checks=None)
    issue = _only(issues, "mappings.schema")
    assert issue.field == "controls[0].severity"
    assert issue.message.startswith("control ACME-01:")


def test_unknown_keys_are_errors(make_pack: MakePack) -> None:
    control = _control("ACME-01", "acme.x", owner="me")
    issue = _only(lint_library(packs=[make_pack(controls=[control])], known_checks=None), "mappings.schema")
    assert issue.field == "controls[0].owner"


# ---------------------------------------------------------------------------------------------
# Files, packs and frameworks


def test_yaml_syntax_error_gives_file_and_line(make_pack: MakePack) -> None:
    pack = make_pack(controls=[_control("ACME-01", "acme.x")])
    (pack / "controls" / "pack.yaml").write_text("format_version: 1\ncontrols: [\n", encoding="utf-8")
    issue = _only(lint_library(packs=[pack], known_checks=None), "mappings.yaml")
    assert issue.file == "test-pack/controls/pack.yaml"
    assert issue.line == 3
    assert issue.message.startswith("line 3: invalid YAML")  # text output prints the message, not the line


def test_unterminated_quote_names_the_line_it_opens_on(make_pack: MakePack) -> None:
    pack = make_pack(controls=[_control("ACME-01", "acme.x")])
    text = 'format_version: 1\ncontrols:\n  - id: ACME-01\n    title: "never closed\n    check: a.b\n'
    (pack / "controls" / "pack.yaml").write_text(text, encoding="utf-8")
    issue = _only(lint_library(packs=[pack], known_checks=None), "mappings.yaml")
    assert "starts at line 4" in issue.message


def test_pack_needs_a_manifest(tmp_path: Path) -> None:
    (tmp_path / "bare").mkdir()
    issue = _only(lint_library(packs=[tmp_path / "bare"], known_checks=None), "mappings.pack")
    assert "pack.yaml" in issue.message


def test_pack_cannot_redefine_a_shipped_framework(make_pack: MakePack) -> None:
    framework = {
        "format_version": 1,
        "framework": {"id": "nist-csf-2.0", "name": "x", "version": "1", "license": "x"},
        "items": [{"id": "X-1", "title": "x"}],
    }
    pack = make_pack(frameworks={"csf.yaml": framework})
    issue = _only(lint_library(packs=[pack], known_checks=None), "mappings.duplicate-framework")
    assert issue.file == "test-pack/frameworks/csf.yaml"


def _pack_framework(**extra: Any) -> dict[str, Any]:
    return {
        "format_version": 1,
        "framework": {
            "id": "acme-policy",
            "name": "ACME policy",
            "version": "7",
            "license": "ACME internal",
            "text_origin": "paraphrase",
        },
        "items": [
            {"id": "VM-1", "kind": "requirement", "title": "Patch on time"},
            {"id": "VM-2", "kind": "requirement", "title": "Verify patches", "parent": "VM-9"},
        ],
        **extra,
    }


def test_pack_framework_rules(make_pack: MakePack) -> None:
    crosswalks = [
        {
            "item": "VM-1",
            "framework": "nist-csf-2.0",
            "target": "PR.IP-12",
            "relationship": "subset",
            "rationale": "ACME's reading: both ask that vulnerabilities are found and recorded",
        },
        {
            "item": "VM-2",
            "framework": "nist-csf-2.0",
            "target": "ID.RA-01",
            "relationship": "subset",
            "rationale": "Same.",
        },
        {
            "item": "VM-3",
            "framework": "nist-csf-2.0",
            "target": "ID.RA-01",
            "relationship": "subset",
        },
    ]
    pack = make_pack(frameworks={"acme.yaml": _pack_framework(crosswalks=crosswalks)})
    issues = lint_library(packs=[pack], known_checks=None)
    codes = sorted(i.code for i in issues)
    assert codes == [
        "mappings.framework",  # VM-2's parent VM-9 does not exist
        "mappings.legacy-id",  # crosswalk to withdrawn PR.IP-12
        "mappings.missing-rationale",
        "mappings.short-rationale",  # "Same." grounds nothing
        "mappings.unknown-id",  # VM-3 is not an item
    ]
    legacy = _only(issues, "mappings.legacy-id")
    assert "ID.RA-01" in legacy.message
    assert legacy.field == "crosswalks[0].target"


def test_control_in_the_wrong_family_file(tmp_path: Path, write_yaml: WriteYaml) -> None:
    root = tmp_path / "lib"
    framework = _pack_framework()
    framework["items"] = framework["items"][:1]
    write_yaml(root / "frameworks" / "acme.yaml", framework)
    control = _control("PRI-01", "priority.sla_compliance")
    control["references"] = [reference("acme-policy", "VM-1")]
    write_yaml(
        root / "controls" / "inv.yaml",
        {"format_version": 1, "family": {"id": "INV", "title": "Inventory"}, "controls": [control]},
    )
    issues = lint_library(root, known_checks=frozenset({"priority.sla_compliance"}))
    assert "PRI-01 is in the file of family INV" in _only(issues, "mappings.family").message


def test_library_root_needs_both_folders(tmp_path: Path) -> None:
    issues = lint_library(tmp_path, known_checks=None)
    assert sorted(i.field or i.file or "" for i in issues if i.code == "mappings.path") == [
        f"{tmp_path.name}/controls",
        f"{tmp_path.name}/frameworks",
    ]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_symlink_out_of_the_pack_is_refused(make_pack: MakePack, tmp_path: Path) -> None:
    pack = make_pack(overrides=[{"control": "NHI-13", "reason": "t", "severity": "high"}])
    outside = tmp_path / "outside.yaml"
    outside.write_text("format_version: 1\n", encoding="utf-8")
    (pack / "controls" / "evil.yaml").symlink_to(outside)
    issue = _only(lint_library(packs=[pack], known_checks=None), "mappings.path")
    assert issue.file == "test-pack/controls/evil.yaml"


def test_invalid_pack_raises_mappings_error_with_location(make_pack: MakePack) -> None:
    pack = make_pack(overrides=[{"control": "ZZZ-01", "reason": "t"}])
    with pytest.raises(MappingsError) as raised:
        load_library([pack])
    assert raised.value.location.file == "test-pack/controls/pack.yaml"
    assert raised.value.location.field == "overrides[0].control"
