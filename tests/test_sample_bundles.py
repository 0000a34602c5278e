"""The committed sample bundles against the validator: samples are valid, every broken bundle
gives exactly its expected issue (code, file, line, field) and exit 3, warning bundles exit 0, and
the JSON Schemas printed by `schema` validate every sample file."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest
import yaml

from reporter.bundle.limits import Limits
from reporter.models.kinds import KINDS
from reporter.models.schema import json_schema
from reporter.pipeline import LoadOptions, validate_bundle
from reporter.store.columns import columns_of

SAMPLES = Path(__file__).resolve().parents[1] / "evidence-samples"
EXPECTED = yaml.safe_load((SAMPLES / "broken" / "expected-issues.yaml").read_text())
VALID = ["northwind-2026-q3", "northwind-2026-q2", "kestrel-2026-q3", "minimal", "incomplete"]


def _validate(path: Path) -> Any:
    return validate_bundle(path, LoadOptions(limits=Limits()))


@pytest.mark.parametrize("name", VALID)
def test_samples_are_valid(name: str) -> None:
    report = _validate(SAMPLES / name)
    assert report.valid, [i for i in report.issues if i.severity == "error"][:5]
    assert report.records > 0


@pytest.mark.parametrize("case", EXPECTED["broken"], ids=lambda c: c["mode"])
def test_broken_bundle_gives_its_issue(case: dict[str, Any]) -> None:
    report = _validate(SAMPLES / "broken" / case["mode"])
    assert report.valid is False
    errors = [i for i in report.issues if i.severity == "error"]
    got = [{k: getattr(i, k) for k in e} for i, e in zip(errors, case["issues"], strict=False)]
    assert got == case["issues"], [i.model_dump() for i in errors]
    assert len(errors) == len(case["issues"])


@pytest.mark.parametrize("case", EXPECTED.get("warnings", []), ids=lambda c: c["mode"])
def test_warning_bundle_is_valid_with_its_warning(case: dict[str, Any]) -> None:
    report = _validate(SAMPLES / "warnings" / case["mode"])
    assert report.valid
    warnings = [{k: getattr(i, k) for k in e} for i, e in zip(report.issues, case["issues"], strict=False)]
    assert warnings == case["issues"]


def _csv_records(path: Path, kind: str) -> list[dict[str, Any]]:
    """CSV rows read with the documented conventions (docs/bundle-format.md)."""
    specs = {c.name: c for c in columns_of(KINDS[kind].model)}
    out = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            record: dict[str, Any] = {}
            for name, text in row.items():
                if text == "":
                    continue
                scalar = specs[name].scalar
                if scalar == "list":
                    record[name] = (
                        json.loads(text) if text.startswith("[") else [p.strip() for p in text.split(";") if p.strip()]
                    )
                elif scalar == "object":
                    record[name] = json.loads(text)
                elif scalar == "boolean":
                    record[name] = text.lower() in ("true", "yes", "1")
                elif scalar in ("integer", "number"):
                    record[name] = int(text) if scalar == "integer" else float(text)
                else:
                    record[name] = text
            out.append(record)
    return out


def _records(path: Path, fmt: str, kind: str) -> list[dict[str, Any]]:
    if fmt == "csv":
        return _csv_records(path, kind)
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if fmt == "json":
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    if fmt == "yaml":
        return json.loads(json.dumps(yaml.safe_load(path.read_text()), default=lambda v: v.isoformat()))  # type: ignore[no-any-return]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = con.execute("SELECT to_json(t)::VARCHAR FROM read_parquet(?) t", [str(path)]).fetchall()
    return [{k: v for k, v in json.loads(r[0]).items() if v is not None} for r in rows]


def _sources(name: str) -> list[tuple[Path, str, str]]:
    manifest = yaml.safe_load((SAMPLES / name / "bundle.yaml").read_text())
    out = []
    for source in manifest["sources"]:
        fmt = source.get("format") or Path(source["path"]).suffix.lstrip(".").replace("yml", "yaml")
        if fmt in ("csv", "jsonl", "json", "yaml", "parquet"):
            out.append((SAMPLES / name / source["path"], fmt, source["kind"]))
    return out


@pytest.mark.parametrize("name", ["northwind-2026-q3", "minimal"])
def test_schema_validates_the_sample_files(name: str) -> None:
    manifest = yaml.safe_load((SAMPLES / name / "bundle.yaml").read_text())
    jsonschema.validate(json.loads(json.dumps(manifest, default=str)), json_schema("manifest"))
    checked = 0
    for path, fmt, kind in _sources(name):
        records = _records(path, fmt, kind)
        if fmt == "parquet":  # Parquet timestamps come back as "YYYY-MM-DD HH:MM:SS+00"; check the rest
            schema = json_schema(kind)
            validator = jsonschema.Draft202012Validator(schema)
            for record in records:
                errors = [e for e in validator.iter_errors(record) if "date-time" not in str(e.schema)]
                assert errors == []
        elif fmt in ("json", "yaml"):
            jsonschema.validate(records, json_schema(kind, array=True))
        else:
            validator = jsonschema.Draft202012Validator(json_schema(kind))
            for record in records:
                validator.validate(record)
        checked += len(records)
    assert checked > 1000 if name.startswith("northwind") else checked > 10


def test_schema_rejects_what_validate_rejects() -> None:
    bad = dict(KINDS["findings"].example, vuln_id="CVE-24-1")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, json_schema("findings"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**KINDS["assets"].example, "colour": "red"}, json_schema("assets"))
