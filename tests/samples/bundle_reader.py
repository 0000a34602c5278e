"""A small reference reader and validator for the sample bundles, written from the bundle
conventions (DESIGN.md §2, evidence-samples/README.md) rather than from the generator's writers.

It is deliberately independent of `reporter`'s own loaders: the samples are tested against the
models and the conventions, and the validator built later can be compared with `validate_bundle`.
Tool files (`format: trivy-json`, `kev-json`, ...) have no other reader than their importer
(docs/importers.md): they are read through it, as the engine reads them, and their records are then
checked like any other.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import types
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import duckdb
import yaml
from pydantic import BaseModel, ValidationError

from reporter.errors import EvidenceError
from reporter.importers.interface import ImportContext
from reporter.importers.registry import get_importer
from reporter.importers.run import collect
from reporter.models.common import StrictModel
from reporter.models.evidence import CVE_PATTERN, GHSA_PATTERN
from reporter.models.kinds import KINDS
from reporter.models.manifest import TABULAR_FORMATS, Manifest
from reporter.models.policy import PolicyFile

FORWARD_FIELDS = {"expires_at"}  # timestamps that may lie after collection (a future expiry)
SKEW = timedelta(minutes=15)
CODES = {
    "missing": "record.missing-field",
    "extra_forbidden": "record.unknown-field",
    "enum": "record.bad-enum",
    "string_pattern_mismatch": "record.bad-format",
    "timezone_aware": "time.naive",
}


@dataclass(frozen=True)
class Issue:
    code: str
    severity: str
    file: str
    line: int | None = None
    record: int | None = None
    field: str | None = None

    def matches(self, expected: dict[str, Any]) -> bool:
        """Equal on every key the expectation names."""
        return all(getattr(self, key) == value for key, value in expected.items())


@dataclass
class Raw:
    """One record as read from its file, with its position."""

    data: dict[str, Any]
    record: int
    line: int | None
    lines: dict[str, int] = field(default_factory=dict)  # YAML: field path -> line


@dataclass
class Loaded:
    """A bundle as read: manifest, policy, typed records by kind, and the issues found."""

    root: Path
    manifest: Manifest | None = None
    policy: PolicyFile | None = None
    records: dict[str, list[Any]] = field(default_factory=dict)
    origin: dict[tuple[str, str], tuple[str, Raw]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]


# ---------------------------------------------------------------------------------------------
# Reading


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_is_list(a) for a in get_args(annotation) if a is not type(None))
    if origin is not None and str(origin).endswith("Annotated"):
        return _is_list(get_args(annotation)[0])
    return origin is list


def list_fields(model: type[BaseModel]) -> set[str]:
    return {name for name, info in model.model_fields.items() if _is_list(info.annotation)}


def read_csv(data: bytes, model: type[BaseModel]) -> list[Raw]:
    """Header row; empty cell = absent; list fields split on ';'."""
    lists = list_fields(model)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    header, out = rows[0], []
    for n, row in enumerate(rows[1:], start=1):
        record: dict[str, Any] = {}
        for column, cell in zip(header, row, strict=True):
            if cell == "":
                continue
            record[column] = cell.split(";") if column in lists else cell
        out.append(Raw(record, n, n + 1))
    return out


def read_jsonl(data: bytes) -> list[Raw]:
    lines = data.decode("utf-8").split("\n")
    return [Raw(json.loads(text), n, n) for n, text in enumerate(lines, start=1) if text.strip()]


def _yaml_lines(node: yaml.Node, prefix: str = "") -> dict[str, int]:
    """Field path -> 1-based line of its key, for every key under a composed YAML node."""
    found: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{prefix}.{key.value}" if prefix else key.value
            found[path] = key.start_mark.line + 1
            found.update(_yaml_lines(value, path))
    elif isinstance(node, yaml.SequenceNode):
        for n, item in enumerate(node.value):
            found.update(_yaml_lines(item, f"{prefix}[{n}]"))
    return found


def read_document(data: bytes, fmt: str) -> list[Raw] | None:
    """A JSON array or YAML list of records; None when the top level is not a list."""
    text = data.decode("utf-8")
    items = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    if not isinstance(items, list):
        return None
    nodes: list[yaml.Node] = []
    if fmt == "yaml":
        root = yaml.compose(text)
        nodes = list(root.value) if isinstance(root, yaml.SequenceNode) else []
    out = []
    for n, item in enumerate(items, start=1):
        lines = _yaml_lines(nodes[n - 1]) if nodes else {}
        line = nodes[n - 1].start_mark.line + 1 if nodes else None
        out.append(Raw(item, n, line, lines))
    return out


def read_parquet(path: Path) -> list[Raw]:
    """Typed Parquet columns; timestamps come back as ISO strings in UTC."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
        columns = []
        for name, type_, *_ in described:
            if "TIME ZONE" in type_:
                columns.append(f'strftime("{name}", \'%Y-%m-%dT%H:%M:%SZ\') AS "{name}"')
            else:
                columns.append(f'"{name}"')
        rows = con.execute(f"SELECT {', '.join(columns)} FROM read_parquet(?)", [str(path)]).fetchall()
        names = [d[0] for d in described]
    finally:
        con.close()
    return [
        Raw({k: v for k, v in zip(names, row, strict=True) if v is not None}, n, None)
        for n, row in enumerate(rows, start=1)
    ]


def read_source(root: Path, path: str, fmt: str, model: type[BaseModel]) -> list[Raw] | None:
    target = root / path
    if fmt == "parquet":
        return read_parquet(target)
    data = target.read_bytes()
    if fmt == "csv":
        return read_csv(data, model)
    if fmt == "jsonl":
        return read_jsonl(data)
    return read_document(data, fmt)


# ---------------------------------------------------------------------------------------------
# Validation


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_issues(file: str, raw: Raw, model: type[StrictModel]) -> tuple[Any | None, list[Issue]]:
    try:
        return model.model_validate(raw.data), []
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith(("function-", "lax-"))))
            path = _path(loc)
            line = raw.lines.get(path, raw.line)
            issues.append(Issue(CODES.get(error["type"], "record.bad-type"), "error", file, line, raw.record, path))
        return None, issues


def _vuln_id_format(file: str, raw: Raw) -> list[Issue]:
    """A value that claims to be a CVE or GHSA id must have that identifier's exact form."""
    value = raw.data.get("vuln_id")
    if isinstance(value, str) and (
        (value.startswith("CVE-") and not re.match(CVE_PATTERN, value))
        or (value.startswith("GHSA-") and not re.match(GHSA_PATTERN, value))
    ):
        return [Issue("record.bad-format", "error", file, raw.line, raw.record, "vuln_id")]
    return []


def _document(root: Path, name: str, model: type[StrictModel], code: str) -> tuple[Any | None, list[Issue]]:
    text = (root / name).read_text(encoding="utf-8")
    lines = _yaml_lines(yaml.compose(text))
    try:
        return model.model_validate(yaml.safe_load(text)), []
    except ValidationError as exc:
        return None, [
            Issue(code, "error", name, lines.get(_path(e["loc"])), None, _path(e["loc"])) for e in exc.errors()
        ]


def _timestamps(record: Any) -> list[tuple[str, datetime]]:
    return [(k, v) for k, v in record if isinstance(v, datetime) and k not in FORWARD_FIELDS]


def load_bundle(root: Path) -> Loaded:
    """Read and validate every part of a bundle directory."""
    loaded = Loaded(root)
    manifest, issues = _document(root, "bundle.yaml", Manifest, "manifest.invalid")
    loaded.issues += issues
    if manifest is None:
        return loaded
    loaded.manifest = manifest
    if manifest.policy:
        loaded.policy, issues = _document(root, manifest.policy, PolicyFile, "policy.invalid")
        loaded.issues += issues
    listed = {s.path for s in manifest.sources} | {"bundle.yaml", manifest.policy or "policy.yaml"}
    listed |= {manifest.management_responses} if manifest.management_responses else set()
    for extra in sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()):
        if extra not in listed:
            loaded.issues.append(Issue("source.unlisted", "warning", extra))
    stale_before = manifest.period.end_at - timedelta(days=14)
    for source in manifest.sources:
        _load_source(loaded, source, stale_before)
    _references(loaded)
    return loaded


def _load_source(loaded: Loaded, source: Any, stale_before: datetime) -> None:
    root, path = loaded.root, source.path
    if not (root / path).is_file():
        loaded.issues.append(Issue("source.missing", "error", path))
        return
    if source.sha256 and hashlib.sha256((root / path).read_bytes()).hexdigest() != source.sha256:
        loaded.issues.append(Issue("source.hash-mismatch", "error", path))
        return
    if source.collected_at < stale_before:
        loaded.issues.append(Issue("source.stale", "warning", path))
    if source.effective_format not in TABULAR_FORMATS:
        _load_tool_file(loaded, source)
        return
    model = KINDS[source.kind].model
    raws = read_source(root, path, source.effective_format, model)
    if raws is None:
        loaded.issues.append(Issue("file.not-a-list", "error", path))
        return
    if source.effective_format == "csv":
        _unknown_columns(loaded, path, raws, model)
    for raw in raws:
        _add_record(loaded, source, source.kind, raw)


def read_tool_file(root: Path, source: Any) -> list[tuple[str, Raw]]:
    """(kind, record) of a tool file, read by its importer with the manifest's context, exactly as
    the engine's loader calls it (positions are the importer's record order)."""
    context = ImportContext(source_path=source.path, asset_id=source.asset_id, collected_at=source.collected_at)
    records = collect(get_importer(source.effective_format), root / source.path, context)
    return [(r.kind, Raw(dict(r.data), n, None)) for n, r in enumerate(records, start=1)]


def _load_tool_file(loaded: Loaded, source: Any) -> None:
    try:
        items = read_tool_file(loaded.root, source)
    except EvidenceError:
        loaded.issues.append(Issue("file.not-importable", "error", source.path))
        return
    for kind, raw in items:
        _add_record(loaded, source, kind, raw)


def _add_record(loaded: Loaded, source: Any, kind: str, raw: Raw) -> None:
    """Validate one record, then register it (duplicate ids and times after collection are issues)."""
    path = source.path
    typed, issues = _model_issues(path, raw, KINDS[kind].model)
    loaded.issues += issues or _vuln_id_format(path, raw)
    if typed is None or issues:
        return
    key = (kind, typed.id)
    if key in loaded.origin:
        loaded.issues.append(Issue("record.duplicate-id", "error", path, raw.line, raw.record, "id"))
        return
    loaded.origin[key] = (path, raw)
    loaded.records.setdefault(kind, []).append(typed)
    for name, moment in _timestamps(typed):
        if moment > source.collected_at:
            loaded.issues.append(Issue("time.after-collection", "error", path, raw.line, raw.record, name))


def _unknown_columns(loaded: Loaded, path: str, raws: list[Raw], model: type[StrictModel]) -> None:
    """An unknown CSV column is one issue at the header; its cells are then ignored."""
    header = next(csv.reader(io.StringIO((loaded.root / path).read_text(encoding="utf-8"))))
    for column in header:
        if column not in model.model_fields:
            loaded.issues.append(Issue("record.unknown-field", "error", path, 1, None, column))
            for raw in raws:
                raw.data.pop(column, None)


def _ref_issue(loaded: Loaded, kind: str, record: Any, code: str, name: str) -> Issue:
    path, raw = loaded.origin[(kind, record.id)]
    return Issue(code, "error", path, raw.line, raw.record, name)


def _references(loaded: Loaded) -> None:
    """Ids that must resolve, and verifications that precede their deployment."""
    ids = {kind: {r.id for r in records} for kind, records in loaded.records.items()}
    assets, findings = ids.get("assets", set()), ids.get("findings", set())
    for kind in ("findings", "scans", "deployments", "verifications", "observations"):
        for r in loaded.records.get(kind, []):
            if getattr(r, "asset_id", None) and r.asset_id not in assets:
                loaded.issues.append(_ref_issue(loaded, kind, r, "ref.unknown-asset", "asset_id"))
    for r in loaded.records.get("verifications", []):
        if r.finding_id and r.finding_id not in findings:
            loaded.issues.append(_ref_issue(loaded, "verifications", r, "ref.unknown-finding", "finding_id"))
    deployments = {d.id: d for d in loaded.records.get("deployments", [])}
    for r in loaded.records.get("verifications", []):
        d = deployments.get(r.deployment_id or "")
        if d and d.completed_at and r.observed_at < d.completed_at - SKEW:
            loaded.issues.append(
                _ref_issue(loaded, "verifications", r, "time.verification-before-deployment", "observed_at")
            )


def dangling_references(loaded: Loaded) -> list[str]:
    """Every reference between records that does not resolve (beyond what the validator reports)."""
    ids = {kind: {r.id for r in records} for kind, records in loaded.records.items()}
    get = lambda kind: ids.get(kind, set())  # noqa: E731
    assets, findings, deployments = get("assets"), get("findings"), get("deployments")
    identities, agents, controls = get("identities"), get("agents"), get("compensating_controls")
    problems: list[str] = []

    def need(where: str, values: Any, known: set[str]) -> None:
        for value in [values] if isinstance(values, str) else values or []:
            if value not in known:
                problems.append(f"{where}: {value}")

    for kind, records in loaded.records.items():
        for r in records:
            where = f"{kind} {r.id}"
            if kind in ("findings", "scans", "deployments", "verifications", "observations"):
                need(where + " asset_id", r.asset_id, assets)
            if kind in ("deployments", "rollout_events", "exceptions"):
                need(where + " finding_ids", r.finding_ids, findings)
            if kind in ("rollout_events", "exceptions"):
                need(where + " asset_ids", r.asset_ids, assets)
            if kind == "rollout_events":
                need(where + " deployment_ids", r.deployment_ids, deployments)
            if kind == "verifications":
                need(where + " finding_id", r.finding_id, findings)
                need(where + " deployment_id", r.deployment_id, deployments)
            if kind == "exceptions":
                need(where + " identity_ids", r.identity_ids, identities)
                inline = {c.id for c in r.compensating_controls if c.id}
                need(where + " compensating_control_ids", r.compensating_control_ids, controls | inline)
                need(where + " renewal_of", r.renewal_of, get("exceptions"))
            if kind == "agents":
                need(where + " identity_ids", r.identity_ids, identities)
                need(where + " asset_id", r.asset_id, assets)
            if kind == "secret_exposures":
                need(where + " identity_id", r.identity_id, identities)
            if kind == "identities":
                need(where + " used_by", r.used_by, assets | agents)
            if kind == "assets" and r.parent_image_id:
                need(where + " parent_image_id", r.parent_image_id, assets)
    return problems
