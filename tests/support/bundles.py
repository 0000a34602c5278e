"""Build small inline bundles for tests: records per kind, written in a chosen format, with a
manifest whose hashes match (unless a test breaks them on purpose)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from reporter.models.kinds import KINDS

EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "json": "json", "yaml": "yaml", "parquet": "parquet"}


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return json.dumps(value)
        return ";".join(str(v) for v in value)
    return str(value)


def encode(records: list[dict[str, Any]], fmt: str) -> bytes:
    """Records in one of the canonical file formats (not parquet)."""
    if fmt == "jsonl":
        return "".join(json.dumps(r) + "\n" for r in records).encode()
    if fmt == "json":
        return json.dumps(records, indent=1).encode()
    if fmt == "yaml":
        return yaml.safe_dump(records, sort_keys=False).encode()
    if fmt == "csv":
        names: list[str] = []
        for record in records:
            names += [k for k in record if k not in names]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for record in records:
            writer.writerow([_csv_cell(record.get(n)) for n in names])
        return out.getvalue().encode()
    raise ValueError(fmt)


@dataclass
class BundleBuilder:
    """Collects files and writes a bundle directory with a consistent manifest."""

    root: Path
    period: tuple[str, str] = ("2026-07-01", "2026-09-30")
    collected_at: str = "2026-10-01T02:00:00Z"
    sources: list[dict[str, Any]] = field(default_factory=list)
    extra_manifest: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] | None = None

    def add(
        self,
        kind: str,
        records: list[dict[str, Any]],
        fmt: str = "jsonl",
        path: str | None = None,
        **source: Any,
    ) -> Path:
        """Write records of one kind; returns the file path."""
        rel = path or f"{kind}.{EXTENSIONS[fmt]}"
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            con = duckdb.connect()
            con.execute(
                "CREATE TABLE t AS SELECT * FROM read_json_auto($p)",
                {"p": str(self._tmp_json(records))},
            )
            con.execute(f"COPY t TO '{target}' (FORMAT parquet)")
            con.close()
        else:
            target.write_bytes(encode(records, fmt))
        self.sources.append({"path": rel, "kind": kind, "format": fmt, **source})
        return target

    def add_raw(self, rel: str, data: bytes, **source: Any) -> Path:
        """Write any file and list it as a source."""
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.sources.append({"path": rel, **source})
        return target

    def _tmp_json(self, records: list[dict[str, Any]]) -> Path:
        tmp = self.root.parent / f".{self.root.name}-parquet.json"
        tmp.write_text(json.dumps(records))
        return tmp

    def write(self, hashes: bool = True) -> Path:
        """Write bundle.yaml (and policy.yaml); returns the bundle directory."""
        sources = []
        for source in self.sources:
            entry = {"collected_at": self.collected_at, "tool": "test", **source}
            if hashes and "sha256" not in entry:
                entry["sha256"] = hashlib.sha256((self.root / source["path"]).read_bytes()).hexdigest()
            sources.append(entry)
        manifest: dict[str, Any] = {
            "bundle_version": 1,
            "organisation": "Test Org",
            "scope": "Test scope",
            "period": {"start": self.period[0], "end": self.period[1]},
            "prepared_by": {"name": "Tester", "role": "QA"},
            "sources": sources,
            **self.extra_manifest,
        }
        if self.policy is not None:
            (self.root / "policy.yaml").write_text(yaml.safe_dump(self.policy))
            manifest["policy"] = "policy.yaml"
        (self.root / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        return self.root


def example(kind: str, **changes: Any) -> dict[str, Any]:
    """The documented example record of a kind, with changes."""
    record = json.loads(json.dumps(KINDS[kind].example))
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


def minimal_valid(root: Path, fmt: str = "jsonl") -> BundleBuilder:
    """A bundle with one consistent example record of every kind."""
    builder = BundleBuilder(root)
    builder.add(
        "assets",
        [
            example("assets"),
            example("assets", id="a-erp-01", name="erp-01", internet_facing=False, aliases=[]),
            example("assets", id="a-batch-02", name="batch-02", internet_facing=False, aliases=[]),
        ],
        fmt,
    )
    builder.add("findings", [example("findings")], fmt)
    builder.add("deployments", [example("deployments")], fmt)
    builder.add("verifications", [example("verifications")], fmt)
    builder.add("observations", [example("observations")], fmt)
    builder.add("scans", [example("scans")], fmt)
    builder.add("rollout_events", [example("rollout_events")], fmt)
    builder.add(
        "identities",
        [
            example("identities"),
            example(
                "identities",
                id="nhi-0042",
                name="agent-token",
                type="agent_credential",
                used_by=["agent-support-01"],
            ),
        ],
        fmt,
    )
    builder.add("secret_exposures", [example("secret_exposures")], fmt)
    builder.add("compensating_controls", [example("compensating_controls")], fmt)
    builder.add("kev_entries", [example("kev_entries")], fmt)
    builder.add("epss_scores", [example("epss_scores")], fmt)
    builder.add(
        "exceptions",
        [example("exceptions", vuln_ids=["CVE-2024-6387"], asset_ids=["a-web-01"])],
        "yaml" if fmt in ("csv", "parquet") else fmt,
    )
    builder.add("agents", [example("agents")], "yaml" if fmt in ("csv", "parquet") else fmt)
    return builder
