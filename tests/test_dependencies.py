"""Every third-party module the package imports is declared in pyproject.toml's [project] dependencies
(or is a requirement of one, like markupsafe of jinja2), and every one the tests import is declared there
or in the `test` extra: a clean install (CI, a user's pip install) has what the code needs, not only what
this virtual environment happens to hold."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions, requires
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCAL = {"reporter", "support", "report_helpers", "conftest", "bundle_reader", "corpus"}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]).lower()


def _with_requirements(names: set[str]) -> set[str]:
    """The names and what each of them requires unconditionally (no extra or environment marker)."""
    return names | {_name(r) for name in names for r in requires(name) or [] if ";" not in r}


def declared() -> tuple[set[str], set[str]]:
    """(runtime, runtime and test) distributions a clean install is sure to have."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    test = {_name(r) for r in project["optional-dependencies"]["test"]}
    return _with_requirements(runtime), _with_requirements(runtime | test)


def distributions(folder: Path) -> dict[str, set[str]]:
    """Distribution name → the files importing it, for every absolute third-party import under folder."""
    owners = packages_distributions()
    local = LOCAL | {p.stem for p in folder.rglob("*.py")} | {p.name for p in folder.rglob("*") if p.is_dir()}
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in local:
                    continue
                for dist in owners.get(top, [top]):
                    found.setdefault(_name(dist), set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_the_package_imports_only_declared_dependencies() -> None:
    runtime, _ = declared()
    missing = {d: sorted(files)[:3] for d, files in distributions(ROOT / "reporter").items() if d not in runtime}
    assert missing == {}
    assert "cryptography" in runtime  # imported by reporter/attest only: no other dependency brings it


def test_the_tests_import_only_declared_dependencies() -> None:
    _, everything = declared()
    found = distributions(ROOT / "tests")
    missing = {d: sorted(files)[:3] for d, files in found.items() if d not in everything}
    assert missing == {}
    assert {"compliance-trestle", "regex", "securesystemslib"} <= set(found)
