"""The sample bundles: valid, self-consistent, reproducible, and their expectations exhaustive.

The generator runs once into a temporary directory; its output must equal the committed files byte
for byte. Bundles are then read with the reference reader of the bundle conventions
(`bundle_reader.py`) and checked against the pydantic models, the manifest hashes, the references
between records and the expectations.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from reporter.models.evidence import AssetType, CompensatingControlRef

from .bundle_reader import Loaded, dangling_references, load_bundle, read_parquet

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "evidence-samples"
VALID = ["northwind-2026-q3", "northwind-2026-q2", "kestrel-2026-q3", "minimal", "incomplete"]
WITH_EXPECTATIONS = ["northwind-2026-q3", "northwind-2026-q2", "kestrel-2026-q3", "minimal", "incomplete"]
CANONICAL = {"csv", "jsonl", "json", "yaml", "parquet"}
TOOL_FORMATS = {"kev-json", "epss-csv", "trivy-json", "gitleaks-json"}  # the Q3 tool files


def _module(name: str) -> Any:
    """A generator module, imported from evidence-samples/ (not a package)."""
    if str(SAMPLES) not in sys.path:
        sys.path.insert(0, str(SAMPLES))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two fresh runs of the generator (a few seconds each)."""
    runs = []
    for name in ("first", "second"):
        out = tmp_path_factory.mktemp(name)
        assert _module("generate").main(["--out", str(out)]) == 0
        runs.append(out)
    return runs[0], runs[1]


@pytest.fixture(scope="session")
def bundles() -> dict[str, Loaded]:
    return {name: load_bundle(SAMPLES / name) for name in VALID}


def _expectations(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SAMPLES / "expectations" / f"{name}.yaml").read_text())
    return data


def _files(root: Path) -> dict[str, bytes]:
    names = _module("generate").GENERATED
    out = {}
    for top in names:
        for path in sorted((root / top).rglob("*")):
            if path.is_file():
                out[path.relative_to(root).as_posix()] = path.read_bytes()
    out["README.md"] = (root / "README.md").read_bytes()
    return out


# ---------------------------------------------------------------------------------------------
# Reproducibility


@pytest.mark.slow
def test_generator_is_byte_deterministic(generated: tuple[Path, Path]) -> None:
    first, second = (_files(run) for run in generated)
    assert first == second


@pytest.mark.slow
def test_regenerating_gives_the_committed_files(generated: tuple[Path, Path]) -> None:
    """Byte for byte, except that Parquet files carry the DuckDB version that wrote them: those
    are compared by content (and the manifests without their sha256)."""
    fresh, committed = _files(generated[0]), _files(SAMPLES)
    assert sorted(fresh) == sorted(committed), "files added or removed: regenerate the samples"
    changed = [path for path in fresh if _comparable(fresh[path], path) != _comparable(committed[path], path)]
    assert not changed, f"regenerate the samples; these differ: {changed[:10]}"


def _comparable(data: bytes, path: str) -> Any:
    if path.endswith(".parquet"):
        with tempfile.NamedTemporaryFile(suffix=".parquet") as handle:
            handle.write(data)
            handle.flush()
            return [raw.data for raw in read_parquet(Path(handle.name))]
    if path.endswith("bundle.yaml"):
        manifest = yaml.safe_load(data)
        for source in manifest.get("sources", []):
            if str(source.get("path", "")).endswith(".parquet"):
                source.pop("sha256", None)
        return manifest
    return data


def test_samples_stay_small() -> None:
    total = sum(len(data) for data in _files(SAMPLES).values())
    assert total < 6_500_000  # 4.95 MB before the 1.3 MB showcase quarter


# ---------------------------------------------------------------------------------------------
# Valid bundles


@pytest.mark.parametrize("name", VALID)
def test_bundle_validates(bundles: dict[str, Loaded], name: str) -> None:
    loaded = bundles[name]
    assert loaded.manifest is not None
    assert loaded.errors() == []
    stale = {s.path for s in loaded.manifest.sources if _is_stale(s, loaded)}
    assert {i.file for i in loaded.issues if i.code == "source.stale"} == stale
    assert all(i.code == "source.stale" for i in loaded.issues)


def _is_stale(source: Any, loaded: Loaded) -> bool:
    assert loaded.manifest is not None
    return (loaded.manifest.period.end_at - source.collected_at).days > 14


@pytest.mark.parametrize("name", VALID)
def test_every_listed_source_is_read(bundles: dict[str, Loaded], name: str) -> None:
    loaded = bundles[name]
    assert loaded.manifest is not None
    listed = {s.kind for s in loaded.manifest.sources if s.kind}
    assert listed <= set(loaded.records), "a listed kind yielded no records"
    tools = [s for s in loaded.manifest.sources if s.effective_format not in CANONICAL]
    read = {path for path, _ in loaded.origin.values()}
    assert all(s.path in read for s in tools), "a tool file yielded no records"
    if name.startswith("northwind"):
        formats = {s.effective_format for s in loaded.manifest.sources}
        native = TOOL_FORMATS if name == "northwind-2026-q3" else set()
        assert formats == CANONICAL | native
        assert len(loaded.records) == 14, "every record kind of the model"


@pytest.mark.parametrize("name", VALID)
def test_references_resolve(bundles: dict[str, Loaded], name: str) -> None:
    assert dangling_references(bundles[name]) == []


@pytest.mark.parametrize("name", WITH_EXPECTATIONS)
def test_exceptions_match_something_unless_planted(bundles: dict[str, Loaded], name: str) -> None:
    """Every exception scope matches an asset and a finding or identity, except the EXC-05 plants."""
    loaded = bundles[name]
    o = _module("oracle").Oracle(_evidence(loaded))
    planted = {e["id"] for e in _expectations(name)["controls"]["EXC-05"]["flagged"]}
    for e in loaded.records.get("exceptions", []):
        if e.id in planted:
            continue
        assert [a for a in o.assets if o.asset_matches(e, a)], f"exception {e.id} matches no asset"
        identities = any(i in o.identities for i in e.identity_ids)
        assert o.matched_findings(e) or identities, f"exception {e.id} matches nothing"


def test_northwind_covers_every_asset_type(bundles: dict[str, Loaded]) -> None:
    for name in ("northwind-2026-q3", "northwind-2026-q2"):
        types = {a.type.value for a in bundles[name].records["assets"]}
        assert types == {t.value for t in AssetType}
        runtimes = [a for a in bundles[name].records["assets"] if a.type == "container_runtime"]
        assert runtimes
        assert all(a.ephemeral for a in runtimes)


def test_q2_shares_the_estate_with_q3(bundles: dict[str, Loaded]) -> None:
    q2 = {a.id: a.name for a in bundles["northwind-2026-q2"].records["assets"] if a.id.startswith("a-srv-0")}
    q3 = {a.id: a.name for a in bundles["northwind-2026-q3"].records["assets"] if a.id.startswith("a-srv-0")}
    shared = set(q2) & set(q3)
    assert len(shared) > 40
    assert all(q2[i] == q3[i] for i in shared)
    ids2 = {i.id for i in bundles["northwind-2026-q2"].records["identities"]}
    ids3 = {i.id for i in bundles["northwind-2026-q3"].records["identities"]}
    assert len(ids2 & ids3) > 50


def test_headline_proportions(bundles: dict[str, Loaded]) -> None:
    loaded = bundles["northwind-2026-q3"]
    o = _module("oracle").Oracle(_evidence(loaded))
    deployments = loaded.records["deployments"]
    succeeded = [d for d in deployments if d.status == "succeeded"]
    assert 0.90 <= len(succeeded) / len(deployments) <= 0.96
    targeted = {f for d in succeeded for f in o.targets(d)}
    fixed = {f for f in targeted if o.fixed_at(f)}
    assert 0.65 <= len(fixed) / len(targeted) <= 0.80
    assert len(loaded.records["findings"]) > 2000


# ---------------------------------------------------------------------------------------------
# Expectations


def test_generator_knows_every_library_control() -> None:
    # The control library (mappings/controls/) is the authority on control and check ids.
    from reporter.catalog.loader import load_library

    library = load_library()
    assert list(_module("gen_core").CONTROL_IDS) == list(library.controls)
    assert {c: library.controls[c].check for c in library.controls} == dict(_module("gen_core").CHECK_IDS)


@pytest.mark.parametrize("name", WITH_EXPECTATIONS)
def test_expectations_cover_every_control(name: str) -> None:
    controls = _expectations(name)["controls"]
    assert list(controls) == list(_module("gen_core").CONTROL_IDS)
    for control, entry in controls.items():
        assert entry["count"] == len(entry["flagged"]), control
        assert entry["check"] == _module("gen_core").CHECK_IDS[control]


def test_every_control_is_planted_in_q3() -> None:
    controls = _expectations("northwind-2026-q3")["controls"]
    unplanted = [c for c, entry in controls.items() if len(entry["flagged"]) < 2 and c != "EVD-01"]
    assert unplanted == []
    assert len(_expectations("incomplete")["controls"]["EVD-01"]["flagged"]) == 2


@pytest.mark.parametrize("name", WITH_EXPECTATIONS)
def test_expectations_name_existing_records(bundles: dict[str, Loaded], name: str) -> None:
    loaded = bundles[name]
    assert loaded.manifest is not None
    ids = {(kind, r.id) for kind, records in loaded.records.items() for r in records}
    ids |= {("sources", s.path) for s in loaded.manifest.sources}
    data = _expectations(name)
    listed = [(e["kind"], e["id"]) for c in data["controls"].values() for e in c["flagged"]]
    listed += [(e["kind"], e["id"]) for e in data["clean"]]
    missing = [item for item in listed if item not in ids and item[0] != "kinds"]
    assert missing == []
    for entry in data["controls"]["INV-01"]["flagged"]:
        assert all(("observations", r) in ids for r in entry["records"])


@pytest.mark.parametrize("name", WITH_EXPECTATIONS)
def test_oracle_flags_exactly_the_expectations(bundles: dict[str, Loaded], name: str) -> None:
    gaps, ambiguities = _module("oracle").evaluate(_evidence(bundles[name]))
    assert ambiguities == []
    data = _expectations(name)
    for control, entry in data["controls"].items():
        assert set(gaps[control]) == {(e["kind"], e["id"]) for e in entry["flagged"]}, control
    for clean in data["clean"]:
        assert (clean["kind"], clean["id"]) not in gaps[clean["control"]], clean


def _evidence(loaded: Loaded) -> Any:
    oracle = _module("oracle")
    return oracle.Evidence(loaded.manifest, loaded.policy, loaded.records)


# ---------------------------------------------------------------------------------------------
# Broken and warning bundles


def _catalogue() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SAMPLES / "broken" / "expected-issues.yaml").read_text())
    return data


def _modes(group: str) -> list[str]:
    return [m["mode"] for m in yaml.safe_load((SAMPLES / "broken" / "expected-issues.yaml").read_text())[group]]


@pytest.mark.parametrize("mode", _modes("broken"))
def test_broken_bundle_has_exactly_its_defect(mode: str) -> None:
    entry = next(m for m in _catalogue()["broken"] if m["mode"] == mode)
    issues = load_bundle(SAMPLES / "broken" / mode).issues
    assert len(issues) == len(entry["issues"]) == 1, issues
    assert issues[0].matches(entry["issues"][0]), (issues[0], entry["issues"][0])
    assert entry["exit_code"] == 3


@pytest.mark.parametrize("mode", _modes("warnings"))
def test_warning_bundle_has_only_its_warning(mode: str) -> None:
    entry = next(m for m in _catalogue()["warnings"] if m["mode"] == mode)
    issues = load_bundle(SAMPLES / "warnings" / mode).issues
    assert len(issues) == 1
    assert issues[0].matches(entry["issues"][0])
    assert entry["exit_code"] == 0


def test_minimal_has_no_issue_at_all() -> None:
    assert load_bundle(SAMPLES / "minimal").issues == []


def test_broken_modes_cover_the_brief() -> None:
    codes = {m["issues"][0]["code"] for m in _catalogue()["broken"]}
    assert codes >= {
        "record.bad-enum",
        "record.missing-field",
        "record.bad-format",
        "record.duplicate-id",
        "ref.unknown-asset",
        "ref.unknown-finding",
        "time.naive",
        "time.verification-before-deployment",
        "time.after-collection",
        "source.hash-mismatch",
        "source.missing",
        "manifest.invalid",
        "policy.invalid",
        "record.bad-type",
        "file.not-a-list",
        "record.unknown-field",
    }
    assert {m["issues"][0]["code"] for m in _catalogue()["warnings"]} == {"source.stale", "source.unlisted"}


def test_nested_exception_controls_are_yaml_only(bundles: dict[str, Loaded]) -> None:
    loaded = bundles["northwind-2026-q3"]
    assert loaded.manifest is not None
    formats = {s.kind: s.effective_format for s in loaded.manifest.sources}
    assert formats["exceptions"] == "yaml"
    assert formats["agents"] == "yaml"
    inline = [c for e in loaded.records["exceptions"] for c in e.compensating_controls]
    assert inline
    assert all(isinstance(c, CompensatingControlRef) for c in inline)
