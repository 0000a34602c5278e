"""The reference documentation is generated from the code and must be current; every issue code
the source emits is documented."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reporter.cli import app
from reporter.docsgen import GENERATED
from reporter.issue_codes import BY_CODE
from reporter.models.kinds import KINDS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_docs_are_current(name: str) -> None:
    committed = (ROOT / "docs" / name).read_text(encoding="utf-8")
    fresh = GENERATED[name]()
    diff = "".join(difflib.unified_diff(committed.splitlines(True), fresh.splitlines(True), "committed", "generated"))
    assert committed == fresh, f"docs/{name} is stale; run `python -m reporter.docsgen`:\n{diff[:3000]}"


_CODE = re.compile(r"[\"'](manifest|policy|source|record|file|ref|time|bundle|usage|scan|seal)\.([a-z][a-z-]+)[\"']")
_NOT_CODES = {"bundle.yaml", "source.target", "policy.yaml", "policy.md"}


def test_every_issue_code_in_the_source_is_documented() -> None:
    used = {
        f"{m.group(1)}.{m.group(2)}"
        for path in (ROOT / "reporter").rglob("*.py")
        if "importers" not in path.parts and "catalog" not in path.parts
        for m in _CODE.finditer(path.read_text(encoding="utf-8"))
    } - _NOT_CODES
    assert used - set(BY_CODE) == set()
    assert len(used) > 30


def test_readme_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\((docs/[^)#]+)\)", readme):
        assert (ROOT / target).exists(), target


def test_each_kind_is_described_once() -> None:
    """A kind's section opens with one description, not its purpose followed by a paraphrase of it."""
    doc = GENERATED["bundle-format.md"]()
    for name, spec in KINDS.items():
        section = doc.split(f"### `{name}`\n\n", 1)[1]
        opening = section.split("\n\n", 1)[0]
        assert spec.purpose not in opening or opening == spec.purpose, (name, opening)
        assert "\n    " not in opening, (name, opening)  # no docstring indentation leaks into the text


def test_the_quick_start_headline_is_what_the_tool_prints(tmp_path: Path) -> None:
    """The README's first command runs on the showcase quarter; the headline it quotes is the line the
    tool prints for that bundle (the same line `report` and `assess` print)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"exposure-reporter report (evidence-samples/\S+) --output-dir report", readme)
    assert command is not None
    quoted = readme.split("prints the headline:\n\n```\n", 1)[1].split("\n```", 1)[0]
    result = CliRunner().invoke(app, ["assess", str(ROOT / command.group(1)), "--output", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == quoted
