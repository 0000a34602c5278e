"""Fixtures for the control-library tests: the plan's check ids and writers for inline packs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from catalog_helpers import PLAN_CHECK_IDS, MakePack, WriteYaml


@pytest.fixture
def plan_check_ids() -> frozenset[str]:
    """Check ids of the control plan."""
    return PLAN_CHECK_IDS


@pytest.fixture
def write_yaml() -> WriteYaml:
    """Write data as YAML to a path (parents created); returns the path."""

    def write(path: Path, data: Any) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_pack(tmp_path: Path, write_yaml: WriteYaml) -> MakePack:
    """An organisation pack in tmp_path with the given overrides / controls / frameworks."""

    def make(
        overrides: list[dict[str, Any]] | None = None,
        controls: list[dict[str, Any]] | None = None,
        frameworks: dict[str, dict[str, Any]] | None = None,
        name: str = "test-pack",
    ) -> Path:
        root = tmp_path / name
        write_yaml(root / "pack.yaml", {"format_version": 1, "name": name, "version": "1"})
        body: dict[str, Any] = {"format_version": 1}
        if overrides:
            body["overrides"] = overrides
        if controls:
            body["controls"] = controls
        if overrides or controls:
            write_yaml(root / "controls" / "pack.yaml", body)
        for filename, data in (frameworks or {}).items():
            write_yaml(root / "frameworks" / filename, data)
        return root

    return make
