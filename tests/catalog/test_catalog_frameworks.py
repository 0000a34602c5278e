"""The generated framework catalogs: counts, verbatim text, provenance, reproducible build."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from catalog_helpers import SHARED_CATALOGS, needs_shared

from reporter.catalog import build, loader
from reporter.catalog.yamlio import load_yaml
from reporter.models.catalog import FrameworkFile
from reporter.resources import mappings_dir

FRAMEWORKS = mappings_dir() / "frameworks"
EXPECTED_FILES = {
    "nist-csf-2.0.yaml",
    "nist-ai-rmf-1.0.yaml",
    "owasp-nhi-top10-2025.yaml",
    "mitre-atlas.yaml",
}


@lru_cache(maxsize=8)
def _load(name: str) -> FrameworkFile:
    return FrameworkFile.model_validate(load_yaml(FRAMEWORKS / name, name))


def _source(rel: str) -> Any:
    return load_yaml(SHARED_CATALOGS / rel, rel)


def _kinds(framework: FrameworkFile) -> Counter[str]:
    return Counter(item.kind for item in framework.items)


def _texts(framework: FrameworkFile) -> dict[str, Any]:
    return {item.id: item for item in framework.items}


# ---------------------------------------------------------------------------------------------
# Tests that run on a clean clone: the committed files against numbers and text copied from the
# authoritative files (catalogs README counts; statements quoted from the source files).


def test_the_four_framework_files_are_committed() -> None:
    assert {p.name for p in FRAMEWORKS.glob("*.yaml")} == EXPECTED_FILES


def test_csf_counts() -> None:
    csf = _load("nist-csf-2.0.yaml")
    assert _kinds(csf) == {"function": 6, "category": 22, "subcategory": 106}
    legacy = Counter(entry.kind for entry in csf.legacy)
    assert legacy == {"subcategory": 79, "category": 12}
    examples = sum(len(item.examples) for item in csf.items)
    assert examples == 363


def test_ai_rmf_counts() -> None:
    assert _kinds(_load("nist-ai-rmf-1.0.yaml")) == {
        "function": 4,
        "category": 19,
        "subcategory": 72,
    }


def test_owasp_counts_and_ids() -> None:
    owasp = _load("owasp-nhi-top10-2025.yaml")
    assert [item.id for item in owasp.items] == [f"NHI{n}:2025" for n in range(1, 11)]
    assert all(item.text and item.title for item in owasp.items)
    assert all(set(item.properties) >= {"exploitability", "prevalence", "detectability"} for item in owasp.items)


def test_atlas_counts() -> None:
    atlas = _load("mitre-atlas.yaml")
    assert atlas.framework.version == "5.6.0"
    assert _kinds(atlas) == {"tactic": 16, "technique": 101, "sub-technique": 69, "mitigation": 35}


@pytest.mark.parametrize(
    ("file", "item_id", "field", "expected"),
    [
        # Copied from nist-csf-2.0.yaml (the OSCAL statements carry no trailing period).
        (
            "nist-csf-2.0.yaml",
            "ID.RA-01",
            "text",
            "Vulnerabilities in assets are identified, validated, and recorded",
        ),
        (
            "nist-csf-2.0.yaml",
            "PR.PS-02",
            "text",
            "Software is maintained, replaced, and removed commensurate with risk",
        ),
        ("nist-csf-2.0.yaml", "GV.SC", "title", "Cybersecurity Supply Chain Risk Management"),
        (
            "nist-ai-rmf-1.0.yaml",
            "GOVERN 1.6",
            "text",
            "Mechanisms are in place to inventory AI systems and are resourced according to "
            "organizational risk priorities.",
        ),
        ("owasp-nhi-top10-2025.yaml", "NHI3:2025", "title", "Vulnerable Third-Party NHI"),
        ("owasp-nhi-top10-2025.yaml", "NHI10:2025", "title", "Human Use of NHI"),
        ("mitre-atlas.yaml", "AML.T0053", "title", "AI Agent Tool Invocation"),
        ("mitre-atlas.yaml", "AML.M0029", "title", "Human In-the-Loop for AI Agent Actions"),
        (
            "mitre-atlas.yaml",
            "AML.T0055",
            "text",
            "Adversaries may search compromised systems to find and obtain insecurely stored "
            "credentials.\nThese credentials can be stored and/or misplaced in many locations on a "
            "system, including plaintext files (e.g. bash history), environment variables, "
            "operating system, or application-specific repositories (e.g. Credentials in "
            "Registry), or other specialized files/artifacts (e.g. private keys).\n",
        ),
    ],
)
def test_statements_are_verbatim(file: str, item_id: str, field: str, expected: str) -> None:
    assert getattr(_texts(_load(file))[item_id], field) == expected


def test_withdrawn_pr_ip_12_names_its_successors() -> None:
    legacy = {e.id: e for e in _load("nist-csf-2.0.yaml").legacy}
    entry = legacy["PR.IP-12"]
    assert entry.successors == ("ID.RA-01", "PR.PS-02")
    assert entry.relation == "moved_to"
    assert entry.text == "A vulnerability management plan is developed and implemented"
    assert legacy["PR.IP"].successors == ()


def test_every_file_carries_version_license_and_provenance() -> None:
    for name in EXPECTED_FILES:
        meta = _load(name).framework
        assert meta.version, name
        assert meta.license, name
        assert meta.attribution, name
        inputs = [s for s in meta.sources if s.role == "build input"]
        assert inputs, name
        assert all(s.sha256 and len(s.sha256) == 64 for s in inputs), name
        assert any(s.repository and s.commit for s in meta.sources), name
        assert meta.generated_by == build.GENERATED_BY


def test_attributions_required_by_the_licenses() -> None:
    owasp = _load("owasp-nhi-top10-2025.yaml").framework
    assert "CC BY-SA 4.0" in owasp.license
    assert "OWASP Non-Human Identities Top 10" in (owasp.attribution or "")
    atlas = _load("mitre-atlas.yaml").framework
    assert "Apache License 2.0" in atlas.license
    assert "Modified" in (atlas.attribution or "")  # Apache-2.0 §4(b): changed files say so


def test_loading_the_library_is_fast() -> None:
    loader._read_cached.cache_clear()
    loader._load_cached.cache_clear()
    start = time.perf_counter()
    library = loader.load_library()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    assert loader.load_library() is library  # cached per process
    warm = time.perf_counter() - start
    # The budget is ~0.5 s; the bound leaves room for slow CI machines.
    assert cold < 1.0, f"cold load took {cold:.2f} s"
    assert warm < 0.01


# ---------------------------------------------------------------------------------------------
# Tests against the authoritative files themselves (skip on a clean clone).


@needs_shared
def test_recorded_sha256_matches_the_authoritative_files() -> None:
    for name in EXPECTED_FILES:
        for source in _load(name).framework.sources:
            if source.sha256:
                data = (SHARED_CATALOGS / source.path).read_bytes()
                assert hashlib.sha256(data).hexdigest() == source.sha256, source.path


@needs_shared
def test_build_reproduces_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    assert build.main(["--source", str(SHARED_CATALOGS), "--out", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir()} == EXPECTED_FILES
    for name in EXPECTED_FILES:
        assert (tmp_path / name).read_bytes() == (FRAMEWORKS / name).read_bytes(), name


@needs_shared
def test_build_check_mode_reports_no_drift() -> None:
    assert build.main(["--source", str(SHARED_CATALOGS), "--out", str(FRAMEWORKS), "--check"]) == 0


@needs_shared
def test_every_csf_statement_equals_the_source() -> None:
    src = _source(build.CSF_YAML)
    texts = _texts(_load("nist-csf-2.0.yaml"))
    for function in src["functions"]:
        assert texts[function["id"]].text == function["description"]
        for category in function["categories"]:
            assert texts[category["id"]].title == category["title"]
            for sub in category["subcategories"]:
                assert texts[sub["id"]].text == sub["statement"]


@needs_shared
def test_every_ai_rmf_statement_equals_the_source() -> None:
    src = _source(build.AI_RMF_YAML)
    texts = _texts(_load("nist-ai-rmf-1.0.yaml"))
    subs = [s for f in src["functions"] for c in f["categories"] for s in c["subcategories"]]
    assert len(subs) == 72
    for sub in subs:
        assert texts[sub["id"]].text == sub["statement"]


@needs_shared
def test_every_owasp_risk_equals_the_source() -> None:
    src = _source(build.OWASP_YAML)
    texts = _texts(_load("owasp-nhi-top10-2025.yaml"))
    for risk in src["risks"]:
        item = texts[risk["id"]]
        assert (item.title, item.text) == (risk["title"], risk["description"])
        assert item.properties["exploitability"] == risk["risk_factors"]["exploitability"]


@needs_shared
def test_every_atlas_name_and_description_equals_the_source() -> None:
    src = _source(build.ATLAS_YAML)
    matrix = src["matrices"][0]
    texts = _texts(_load("mitre-atlas.yaml"))
    entries = matrix["tactics"] + matrix["techniques"] + matrix["mitigations"]
    assert len(entries) == len(texts)
    for entry in entries:
        assert (texts[entry["id"]].title, texts[entry["id"]].text) == (
            entry["name"],
            entry["description"],
        )


@needs_shared
def test_withdrawn_ids_equal_the_source() -> None:
    src = _source(build.CSF_WITHDRAWN)
    legacy = {e.id: e for e in _load("nist-csf-2.0.yaml").legacy}
    for entry in src["withdrawn_subcategories"] + src["withdrawn_categories"]:
        assert legacy[entry["csf11_id"]].successors == tuple(entry["csf20_targets"])


def test_build_fails_on_a_missing_input(tmp_path: Path) -> None:
    assert build.main(["--source", str(tmp_path), "--out", str(tmp_path / "out")]) == 3
