"""Writers for the canonical bundle formats (CSV, JSON Lines, JSON array, YAML, Parquet), the
manifest and the policy file. Every writer is byte-deterministic. Tool files (kev-json, trivy-json,
...) are written by `gen_native.py`; here their bytes are placed in the bundle and read back through
the importers once the manifest exists, to prove the records checked are the ones the engine loads.

CSV conventions: header row; empty cell = absent (the field's default applies); list fields joined
with `;`; booleans `true`/`false`; timestamps ISO-8601 with `Z` or an offset; dates `YYYY-MM-DD`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import types
from datetime import UTC, date, datetime, tzinfo
from enum import Enum
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import duckdb
import yaml
from gen_core import Bundle, Record, SourceSpec, fmt_ts
from oracle import tool_records
from pydantic import AwareDatetime

from reporter.models.common import StrictModel
from reporter.models.kinds import get_kind
from reporter.models.manifest import Manifest
from reporter.models.policy import PolicyFile


def model_of(kind: str) -> type[StrictModel]:
    """The pydantic model of a record kind."""
    return get_kind(kind).model


def validate_record(kind: str, record: Record, where: str) -> None:
    """Fail loudly when a generated record does not satisfy its kind's model."""
    try:
        model_of(kind).model_validate(record)
    except Exception as exc:
        raise ValueError(f"{where}: generated {kind} record {record.get('id')} invalid: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# Values


def to_json_value(value: Any, zone: tzinfo = UTC) -> Any:
    """A record value as a JSON/YAML-native value; timestamps and dates as ISO strings."""
    if isinstance(value, datetime):
        return fmt_ts(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [to_json_value(v, zone) for v in value]
    if isinstance(value, dict):
        return {k: to_json_value(v, zone) for k, v in value.items() if v is not None}
    return value


def to_csv_cell(value: Any, zone: tzinfo = UTC) -> str:
    """A record value as a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(to_csv_cell(v, zone) for v in value)
    if isinstance(value, dict):
        raise ValueError("nested objects cannot be written to CSV")
    converted = to_json_value(value, zone)
    return converted if isinstance(converted, str) else str(converted)


def _compact(record: Record, zone: tzinfo) -> Record:
    """Drop absent values and empty lists; convert the rest."""
    return {k: to_json_value(v, zone) for k, v in record.items() if v is not None and v != []}


# ---------------------------------------------------------------------------------------------
# Formats


def columns_of(kind: str) -> list[str]:
    """Column order of tabular files: the model's field order."""
    return list(model_of(kind).model_fields)


def render_csv(spec: SourceSpec) -> bytes:
    columns = columns_of(spec.kind)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in spec.records:
        unknown = set(record) - set(columns)
        if unknown:
            raise ValueError(f"{spec.path}: unknown fields {sorted(unknown)}")
        writer.writerow([to_csv_cell(record.get(c), spec.zone) for c in columns])
    return buffer.getvalue().encode("utf-8")


def render_jsonl(spec: SourceSpec) -> bytes:
    lines = [json.dumps(_compact(r, spec.zone), ensure_ascii=False, separators=(",", ":")) for r in spec.records]
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_json(spec: SourceSpec) -> bytes:
    items = [_compact(r, spec.zone) for r in spec.records]
    return (json.dumps(items, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def dump_yaml(data: Any) -> bytes:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return text.encode("utf-8")


def render_yaml(spec: SourceSpec) -> bytes:
    return dump_yaml([_compact(r, spec.zone) for r in spec.records])


def _unwrap(annotation: Any) -> Any:
    """The non-None member of an optional annotation."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(members[0])
    return annotation


def duck_type(annotation: Any) -> str:
    """DuckDB column type for a model field annotation."""
    inner = _unwrap(annotation)
    if inner is AwareDatetime or inner is datetime:
        return "TIMESTAMPTZ"
    if inner is date:
        return "DATE"
    if inner is bool:
        return "BOOLEAN"
    if inner is int:
        return "BIGINT"
    if inner is float:
        return "DOUBLE"
    if get_origin(inner) is list:
        return "VARCHAR[]"
    return "VARCHAR"


def _list_default(field: Any) -> Any:
    default = field.get_default(call_default_factory=True)
    return default if isinstance(default, list) else None


def render_parquet(spec: SourceSpec, scratch: Path) -> bytes:
    """Parquet through DuckDB (single thread, UTC): typed columns, identical bytes on every run."""
    fields = model_of(spec.kind).model_fields
    columns = list(fields)
    decl = ", ".join(f'"{c}" {duck_type(fields[c].annotation)}' for c in columns)
    con = duckdb.connect()
    try:
        con.execute("SET threads=1")
        con.execute("SET TimeZone='UTC'")
        con.execute(f"CREATE TABLE t ({decl})")
        # an absent list is written as the field's default (an empty list): NULL is not a list value
        rows = [
            [
                to_json_value(v) if not isinstance(v, bool) else v
                for c in columns
                for v in [r.get(c) if r.get(c) is not None else _list_default(fields[c])]
            ]
            for r in spec.records
        ]
        placeholders = ", ".join("?" for _ in columns)
        con.executemany(f"INSERT INTO t VALUES ({placeholders})", rows)
        target = scratch / "out.parquet"
        con.execute(f"COPY (SELECT * FROM t) TO '{target.as_posix()}' (FORMAT PARQUET)")
        data = target.read_bytes()
        target.unlink()
        return data
    finally:
        con.close()


RENDERERS = {"csv": render_csv, "jsonl": render_jsonl, "json": render_json, "yaml": render_yaml}


def render_source(spec: SourceSpec, scratch: Path) -> bytes:
    if spec.format == "parquet":
        return render_parquet(spec, scratch)
    return RENDERERS[spec.format](spec)


# ---------------------------------------------------------------------------------------------
# Bundle


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_data(bundle: Bundle, hashes: dict[str, str]) -> dict[str, Any]:
    """The `bundle.yaml` content."""
    meta = bundle.meta
    data: dict[str, Any] = {
        "bundle_version": 1,
        "organisation": meta.organisation,
        "scope": meta.scope,
        "period": {"start": bundle.clock.start.isoformat(), "end": bundle.clock.end.isoformat()},
        "prepared_by": meta.prepared_by,
    }
    if meta.reviewed_by:
        data["reviewed_by"] = meta.reviewed_by
    if meta.classification:
        data["classification"] = meta.classification
    if meta.policy is not None:
        data["policy"] = "policy.yaml"
        data["policy_sha256"] = hashes["policy.yaml"]
    sources = []
    for spec in bundle.sources.values():
        entry: dict[str, Any] = {"path": spec.path}
        if not spec.is_tool:  # a tool file's importer decides its kinds (docs/bundle-format.md)
            entry["kind"] = spec.kind
        entry["format"] = spec.format
        if spec.asset_id:
            entry["asset_id"] = spec.asset_id
        entry["collected_at"] = fmt_ts(spec.collected_at)
        entry["tool"] = spec.tool
        if spec.description:
            entry["description"] = spec.description
        if spec.with_sha:
            entry["sha256"] = hashes[spec.path]
        sources.append(entry)
    data["sources"] = sources
    return data


def _check_collected(spec: SourceSpec, record: Record, where: str) -> None:
    """No event after the export that holds it (expiry dates look forward and are exempt)."""
    for key, value in record.items():
        if isinstance(value, datetime) and key != "expires_at" and value > spec.collected_at:
            raise ValueError(f"{where}: {key} {value} is after collected_at {spec.collected_at}")


def _whole_minutes(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, list):
        return [_whole_minutes(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole_minutes(v) for k, v in value.items()}
    return value


def render_bundle(bundle: Bundle, scratch: Path) -> dict[str, bytes]:
    """Every file of the bundle, by relative path, after validating every record and the manifest.
    Timestamps are truncated to whole minutes first (in place), so files and checks agree."""
    files: dict[str, bytes] = {}
    for spec in bundle.sources.values():
        for record in spec.records:
            for key, value in record.items():
                record[key] = _whole_minutes(value)
    seen: dict[tuple[str, str], str] = {}
    for spec in bundle.sources.values():
        for kind in spec.kinds():
            for record in spec.of_kind(kind):
                key = (kind, record["id"])
                if key in seen:
                    raise ValueError(
                        f"{bundle.name}: duplicate {kind} id {record['id']} in {seen[key]} and {spec.path}"
                    )
                seen[key] = spec.path
    for spec in bundle.sources.values():
        if spec.is_tool:
            files[spec.path] = _tool_file(bundle, spec)
            continue
        assert spec.kind is not None
        for number, record in enumerate(spec.records, start=1):
            where = f"{bundle.name}/{spec.path} record {number}"
            validate_record(spec.kind, record, where)
            _check_collected(spec, record, where)
        files[spec.path] = render_source(spec, scratch)
    if bundle.meta.policy is not None:
        PolicyFile.model_validate(bundle.meta.policy)
        files["policy.yaml"] = dump_yaml(bundle.meta.policy)
    hashes = {path: sha256(data) for path, data in files.items()}
    manifest = manifest_data(bundle, hashes)
    _reimport(bundle, Manifest.model_validate(manifest), files, scratch)
    files["bundle.yaml"] = dump_yaml(manifest)
    files.update(bundle.extra_files)
    return dict(sorted(files.items()))


def _tool_file(bundle: Bundle, spec: SourceSpec) -> bytes:
    """The bytes of a tool file, after checking what its importer yielded from them."""
    if spec.native is None or spec.imported is None:
        raise ValueError(f"{bundle.name}/{spec.path}: tool file not built or not imported")
    for kind in spec.kinds():
        for number, record in enumerate(spec.of_kind(kind), start=1):
            where = f"{bundle.name}/{spec.path} {kind} record {number}"
            validate_record(kind, record, where)
            _check_collected(spec, dict(model_of(kind).model_validate(record)), where)
    return spec.native


def _reimport(bundle: Bundle, manifest: Manifest, files: dict[str, bytes], scratch: Path) -> None:
    """Read every tool file as the engine will: its final bytes, the manifest entry as written.
    The records must be exactly those the expectations and the oracle were computed from."""
    for source in manifest.sources:
        spec = bundle.sources[source.path]
        if not spec.is_tool:
            continue
        target = scratch / "reimport" / source.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[source.path])
        again = tool_records(target, source)
        target.unlink()
        if again != spec.imported:
            raise ValueError(f"{bundle.name}/{source.path}: the importer reads other records from the written file")


def write_files(root: Path, files: dict[str, bytes]) -> None:
    """Write files under `root` (created), replacing what is there."""
    for relative, data in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
