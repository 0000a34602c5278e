"""Generate a large, valid evidence bundle for the benchmarks, fast (DuckDB writes the files).

    python benchmarks/generate.py --findings 1000000 --out benchmarks/data/bundle-1000000

Sizes scale with --findings: assets = findings / 10, deployments = verifications = findings / 2,
scans = assets, observations = assets. Values are seeded and deterministic. The bundle validates.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import duckdb
import yaml

_CSV = "(FORMAT csv, HEADER)"
PERIOD_START = "2026-07-01"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _tables(con: duckdb.DuckDBPyConnection, findings: int, fmt: str) -> dict[str, str]:
    assets = max(findings // 10, 10)
    half = max(findings // 2, 1)
    # Minutes after the period start; every event of a finding derives from its base minute so that
    # detection < deployment < verification (and all stay inside the 92-day quarter).
    ts = "strftime(TIMESTAMPTZ '2026-07-01 00:00:00+00' + to_minutes({0}), '%Y-%m-%dT%H:%M:%SZ')"
    base = "((({0}) * 7) % 120000)"
    queries = {
        "assets": f"""SELECT 'a-' || lpad(i::VARCHAR, 7, '0') AS id, 'host-' || i || '.example' AS name,
            ['server','endpoint','cloud_workload','container_image','network_device'][1 + i % 5] AS type,
            CASE WHEN i % 3 = 0 THEN 'production' ELSE 'development' END AS environment, 'team-' || (i % 50) AS owner,
            ['low','moderate','high'][1 + i % 3] AS criticality, (i % 20 = 0) AS internet_facing,
            'grp-' || (i % 20) AS maintenance_group, (i % 7 <> 0) AS patch_automation, 'web;app' AS tags
            FROM range({assets}) t(i)""",
        "scans": f"""SELECT 's-' || i AS id, 'a-' || lpad(i::VARCHAR, 7, '0') AS asset_id, 'nessus' AS tool,
            (i % 4 <> 0) AS authenticated, {ts.format("(i * 37) % 120000")} AS completed_at, 'completed' AS status
            FROM range({assets}) t(i)""",
        "observations": f"""SELECT 'o-' || i AS id, 'host-' || i || '.example' AS asset_key, 'edr' AS source,
            'edr' AS source_type, {ts.format("(i * 53) % 120000")} AS observed_at FROM range({assets}) t(i)""",
        "findings": f"""SELECT 'f-' || i AS id, 'a-' || lpad((i % {assets})::VARCHAR, 7, '0') AS asset_id,
            'CVE-2025-' || lpad((10000 + (i // {assets}))::VARCHAR, 5, '0') AS vuln_id, 'pkg-' || (i % 997) AS package,
            '1.0.' || (i % 9) AS installed_version, '1.0.9' AS fixed_version,
            ['critical','high','medium','low'][1 + i % 4] AS severity, (i % 97 = 0) AS kev,
            round((i % 1000) / 1000.0, 3) AS epss, {ts.format(base.format("i"))} AS first_detected_at,
            CASE WHEN i % 2 = 0 THEN 'closed' ELSE 'open' END AS state, 'nessus' AS source
            FROM range({findings}) t(i)""",
        "deployments": f"""SELECT 'd-' || i AS id, 'a-' || lpad(((2 * i) % {assets})::VARCHAR, 7, '0') AS asset_id,
            'patch-' || (i % 500) AS patch_id, 'f-' || (2 * i) AS finding_ids, 'CHG' || i AS change_ref,
            {ts.format(base.format("2 * i") + " + 1440")} AS started_at,
            {ts.format(base.format("2 * i") + " + 1500")} AS completed_at,
            CASE WHEN i % 20 = 0 THEN 'failed' ELSE 'succeeded' END AS status, 'ansible' AS tool
            FROM range({half}) t(i)""",
        "verifications": f"""SELECT 'v-' || i AS id, 'a-' || lpad(((2 * i) % {assets})::VARCHAR, 7, '0') AS asset_id,
            'f-' || (2 * i) AS finding_id, 'd-' || i AS deployment_id, 'authenticated_rescan' AS method,
            CASE WHEN i % 10 = 0 THEN 'vulnerable' ELSE 'not_vulnerable' END AS result,
            {ts.format(base.format("2 * i") + " + 4320")} AS observed_at FROM range({half}) t(i)""",
    }
    paths = {}
    for kind in queries:
        ext = "jsonl" if fmt == "jsonl" and kind in ("findings", "deployments", "verifications") else "csv"
        paths[kind] = f"{kind}.{ext}"
    return {kind: f"{queries[kind]}|{paths[kind]}" for kind in queries}


def generate(findings: int, out: Path, fmt: str = "csv") -> Path:
    """Write the bundle (skipped when it already exists with a manifest)."""
    if (out / "bundle.yaml").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    sources = []
    for kind, spec in _tables(con, findings, fmt).items():
        query, name = spec.rsplit("|", 1)
        target = out / name
        if name.endswith(".jsonl"):
            con.execute(f"COPY ({query}) TO '{target}' (FORMAT json)")
        else:
            con.execute(f"COPY ({query}) TO '{target}' {_CSV}")
        sources.append(
            {
                "path": name,
                "kind": kind,
                "collected_at": "2026-10-01T00:00:00Z",
                "tool": "benchmark",
                "sha256": _sha256(target),
            }
        )
    manifest = {
        "bundle_version": 1,
        "organisation": "Benchmark Org",
        "scope": "synthetic",
        "period": {"start": PERIOD_START, "end": "2026-09-30"},
        "prepared_by": {"name": "benchmarks/generate.py"},
        "sources": sources,
    }
    (out / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return out


def default_dir(findings: int, fmt: str = "csv") -> Path:
    """Where generated bundles are cached (git-ignored)."""
    return Path(__file__).resolve().parent / "data" / f"bundle-{findings}-{fmt}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    start = time.perf_counter()
    out = generate(args.findings, args.out or default_dir(args.findings, args.format), args.format)
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"{out}: {size / 1e6:.0f} MB in {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
