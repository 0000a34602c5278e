"""The official schemas in tests/schemas/ are the published bytes recorded in its README, and the
validator that uses them really checks formats (an unchecked format would pass anything)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from support.schemas import SCHEMAS, errors

ROW = re.compile(r"^\| `(?P<file>[^`]+)` \| .* \| `(?P<sha>[0-9a-f]{64})` \|$", re.MULTILINE)


def recorded() -> dict[str, str]:
    return {m["file"]: m["sha"] for m in ROW.finditer((SCHEMAS / "README.md").read_text(encoding="utf-8"))}


def test_every_schema_file_is_recorded_with_its_hash() -> None:
    table = recorded()
    stored = {p.relative_to(SCHEMAS).as_posix() for p in SCHEMAS.rglob("*.json")}
    assert stored == set(table)
    for name, sha in table.items():
        assert hashlib.sha256((SCHEMAS / name).read_bytes()).hexdigest() == sha, name


def test_the_validator_checks_formats_and_patterns() -> None:
    bad_uri = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "informationUri": "not a uri"}}}]}
    assert any("informationUri" in line for line in errors("sarif", bad_uri))
    assessment = {"uuid": "0b4a3f83-60b3-4c8f-9a53-2b2c5b7f0b5e", "metadata": {"title": "t"}}
    document = {"assessment-results": assessment}
    found = errors("oscal-ar", document)
    assert found  # incomplete document: refused
    assert not any(line.startswith("assessment-results/uuid") for line in found)
    assessment["uuid"] = "0b4a3f83-60b3-1c8f-9a53-2b2c5b7f0b5e"  # version 1: the pattern accepts only v4/v5
    assert any(line.startswith("assessment-results/uuid") for line in errors("oscal-ar", document))


def test_the_shared_catalog_copy_is_not_needed() -> None:
    """CI has no ../shared: the schemas the tests use are all under tests/schemas/."""
    source = (Path(__file__).parent / "support" / "schemas.py").read_text(encoding="utf-8")
    assert "shared" not in source
