"""`exposure-reporter mappings lint|list|show|coverage` via the Typer app: exit codes, output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from reporter.catalog.loader import load_library
from reporter.cli import app, mappings_cmd

EXAMPLE_PACK = Path(__file__).resolve().parents[2] / "mappings" / "examples" / "acme-pack"
runner = CliRunner()


@pytest.fixture
def registered_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand in for the check registry, empty until the engine lands (issue 4).

    The checks the shipped controls name; the registry rules themselves are tested against the
    control plan in tests/catalog/test_catalog_lint.py.
    """
    checks = frozenset(c.check for c in load_library().controls.values())
    monkeypatch.setattr(mappings_cmd, "known_check_ids", lambda: checks)


RATIONALE = "a rationale of enough words for the lint rule on short rationales"


def _pack(tmp_path: Path, framework: str, item_id: str) -> Path:
    """A pack whose one override cites `item_id`."""
    root = tmp_path / "bad-pack"
    (root / "controls").mkdir(parents=True)
    (root / "pack.yaml").write_text(yaml.safe_dump({"format_version": 1, "name": "bad-pack", "version": "1"}))
    override = {
        "control": "PRI-04",
        "reason": "test",
        "add_references": [{"framework": framework, "id": item_id, "relationship": "subset", "rationale": RATIONALE}],
    }
    body = {"format_version": 1, "overrides": [override]}
    (root / "controls" / "acme.yaml").write_text(yaml.safe_dump(body))
    return root


def _json(output: str) -> Any:
    return json.loads(output)


# ---------------------------------------------------------------------------------------------
# lint


@pytest.mark.usefixtures("registered_checks")
def test_lint_shipped_library_passes() -> None:
    result = runner.invoke(app, ["mappings", "lint"])
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s) in 4 frameworks and 49 controls" in result.stdout


@pytest.mark.usefixtures("registered_checks")
def test_lint_example_pack_passes() -> None:
    result = runner.invoke(app, ["mappings", "lint", str(EXAMPLE_PACK)])
    assert result.exit_code == 0, result.output
    assert "packs: acme-pack" in result.stdout


@pytest.mark.usefixtures("registered_checks")
def test_lint_pack_citing_pr_ip_12_exits_3_naming_the_successors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["mappings", "lint", str(_pack(tmp_path, "nist-csf-2.0", "PR.IP-12"))])
    assert result.exit_code == 3
    line = next(ln for ln in result.stdout.splitlines() if "PR.IP-12" in ln)
    assert line.startswith("error: bad-pack/controls/acme.yaml: overrides[0].add_references[0].id:")
    assert "override of control PRI-04" in line
    assert "ID.RA-01" in line
    assert "PR.PS-02" in line
    assert "1 error(s)" in result.stderr


@pytest.mark.usefixtures("registered_checks")
def test_lint_pack_citing_nhi_03_is_told_nhi3_2025(tmp_path: Path) -> None:
    pack = _pack(tmp_path, "owasp-nhi-top10-2025", "NHI-03")
    result = runner.invoke(app, ["mappings", "lint", "--mappings", str(pack)])
    assert result.exit_code == 3
    assert "write NHI3:2025" in result.stdout


@pytest.mark.usefixtures("registered_checks")
def test_lint_json(tmp_path: Path) -> None:
    pack = _pack(tmp_path, "nist-csf-2.0", "PR.IP-12")
    result = runner.invoke(app, ["mappings", "lint", str(pack), "--format", "json"])
    assert result.exit_code == 3
    view = _json(result.stdout)
    assert (view["format_version"], view["errors"]) == (1, 1)
    [issue] = view["issues"]
    assert issue["code"] == "mappings.legacy-id"
    assert issue["file"] == "bad-pack/controls/acme.yaml"


def test_lint_names_unregistered_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mappings_cmd, "known_check_ids", frozenset)
    result = runner.invoke(app, ["mappings", "lint"])
    assert result.exit_code == 3
    assert "control INV-01: check 'inventory.discovered_not_inventoried' does not exist" in (result.stdout)


# ---------------------------------------------------------------------------------------------
# list, show, coverage


def test_list() -> None:
    result = runner.invoke(app, ["mappings", "list"])
    assert result.exit_code == 0, result.output
    for expected in (
        "nist-csf-2.0",
        "mitre-atlas",
        "Controls (49)",
        "AGT-03",
        "agents.tool_approval",
    ):
        assert expected in result.stdout


def test_list_framework_items_json() -> None:
    result = runner.invoke(app, ["mappings", "list", "--framework", "owasp-nhi-top10-2025", "--format", "json"])
    assert result.exit_code == 0, result.output
    items = {i["id"]: i for i in _json(result.stdout)["items"]}
    assert items["NHI8:2025"]["controls"] == ["NHI-08"]


def test_show_control() -> None:
    result = runner.invoke(app, ["mappings", "show", "PRI-03"])
    assert result.exit_code == 0, result.output
    assert "priority.internet_facing_overdue" in result.stdout
    assert "mitre-atlas AML.T0049 [supports] Exploit Public-Facing Application" in result.stdout


def test_show_item_lists_every_control() -> None:
    result = runner.invoke(app, ["mappings", "show", "GOVERN 1.6"])
    assert result.exit_code == 0, result.output
    assert "Mechanisms are in place to inventory AI systems" in result.stdout
    assert "AGT-01" in result.stdout


def test_show_legacy_id_says_what_it_resolved_to() -> None:
    result = runner.invoke(app, ["mappings", "show", "PR.IP-12"])
    assert result.exit_code == 0, result.output
    assert "resolved 'PR.IP-12' to ID.RA-01, PR.PS-02 (nist-csf-2.0)" in result.stdout
    assert "subcategory ID.RA-01" in result.stdout
    assert "subcategory PR.PS-02" in result.stdout


def test_show_owasp_spelling() -> None:
    result = runner.invoke(app, ["mappings", "show", "nhi3", "--format", "json"])
    assert result.exit_code == 0, result.output
    view = _json(result.stdout)
    assert view["resolutions"][0]["canonical_ids"] == ["NHI3:2025"]
    assert [c["control_id"] for c in view["items"][0]["controls"]] == ["NHI-03"]


def test_show_nhi_03_is_the_control_and_notes_the_owasp_id() -> None:
    result = runner.invoke(app, ["mappings", "show", "NHI-03"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("NHI-03  Third-party NHIs are governed (NHI3)")
    assert "note: 'NHI-03' is a non-canonical spelling of NHI3:2025" in result.stdout


def test_show_unknown_id_is_a_usage_error() -> None:
    result = runner.invoke(app, ["mappings", "show", "ZZ.TOP-99"])
    assert result.exit_code == 2
    assert "neither a control id nor an id of any framework" in result.stderr


def test_coverage_shows_all_owasp_risks_and_what_is_not_assessed() -> None:
    result = runner.invoke(app, ["mappings", "coverage"])
    assert result.exit_code == 0, result.output
    assert "10 of 10 risk items (100.0 %)" in result.stdout
    assert "not assessed by this tool (0):" in result.stdout
    assert "    GV.OC-01" in result.stdout  # a CSF item listed as not assessed


def test_coverage_json_for_one_framework() -> None:
    result = runner.invoke(app, ["mappings", "coverage", "--framework", "nist-csf-2.0", "--format", "json"])
    assert result.exit_code == 0, result.output
    [fw] = _json(result.stdout)["frameworks"]
    assert fw["total"] == 106
    assert fw["addressed"] + fw["not_assessed"] == 106
    assert fw["addressed"] == sum(1 for i in fw["items"] if i["addressed"])


def test_coverage_unknown_framework_is_a_usage_error() -> None:
    result = runner.invoke(app, ["mappings", "coverage", "--framework", "iso-27001"])
    assert result.exit_code == 2
    assert "unknown framework 'iso-27001'" in result.stderr


# ---------------------------------------------------------------------------------------------
# organisation packs on every command


def test_pack_frameworks_and_references_appear() -> None:
    pack = ["--mappings", str(EXAMPLE_PACK)]
    shown = runner.invoke(app, ["mappings", "show", "6.3.3", *pack])
    assert shown.exit_code == 0, shown.output
    assert "(pack author's paraphrase)" in shown.stdout
    assert "PRI-01" in shown.stdout
    coverage = runner.invoke(app, ["mappings", "coverage", "--framework", "iso-iec-27001-2022", *pack])
    assert "A.8.8          INV-03*" in coverage.stdout
    listed = runner.invoke(app, ["mappings", "list", *pack])
    assert "pack acme-pack" in listed.stdout


@pytest.mark.parametrize("command", ["list", "show PRI-01", "coverage"])
def test_invalid_pack_exits_3_on_every_command(tmp_path: Path, command: str) -> None:
    pack = _pack(tmp_path, "nist-csf-2.0", "PR.IP-12")
    result = runner.invoke(app, ["mappings", *command.split(), "--mappings", str(pack)])
    assert result.exit_code == 3
    assert result.stderr.startswith("error: bad-pack/controls/acme.yaml, field")
    assert "ID.RA-01" in result.stderr
