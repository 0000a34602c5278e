"""The wheel ships what the installed tool needs: the package, the control library and templates."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_mappings_and_templates(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("exposure_reporter-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "reporter/cli/__init__.py" in names
    assert "reporter/_data/mappings/frameworks/nist-csf-2.0.yaml" in names
    assert "reporter/_data/mappings/controls/04-ver.yaml" in names
    assert "reporter/_data/mappings/policy/default.yaml" in names
    assert any(n.startswith("reporter/_data/templates/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "exposure-reporter = reporter.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert not any(n.startswith(("tests/", "evidence-samples/", "benchmarks/")) for n in names)


def test_resources_resolve_in_a_checkout() -> None:
    from reporter.resources import mappings_dir, templates_dir

    assert (mappings_dir() / "controls").is_dir()
    assert templates_dir().is_dir()
