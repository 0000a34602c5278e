"""Scan-series benchmark: findings seen in several scans over the quarter, verifications derived from
rescans, deployments linked by vulnerability id and by package version.

    python benchmarks/series.py --assets 100000 --observations 1000000

Generates (once, cached under benchmarks/data/) a bundle of `--assets` assets, four authenticated
scans per asset (days 5, 30, 55 and 80 of the quarter), four findings per asset each seen in a run of
consecutive scans (1M sightings at the defaults), and one deployment per finding on every second
finding: half name the vulnerability, half only `package=version` (linked through univers). Then
loads and assesses it in a child process and prints, as JSON, the time of each step and its ratio to
DuckDB's raw typed read of the same files, and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout (checkout.py)

from checkout import ROOT
from generate import _sha256

TS = "strftime(TIMESTAMPTZ '2026-07-01 00:00:00+00' + to_days({0}) + to_minutes({1}), '%Y-%m-%dT%H:%M:%SZ')"
SCAN_DAYS = "[5, 30, 55, 80]"


def _queries(assets: int, per_asset: int) -> dict[str, str]:
    asset = "'a-' || lpad(({0})::VARCHAR, 7, '0')"
    # series s = asset * per_asset + k: first seen in scan f = s % 3, seen in n = 1 + (s // 3) % 4 scans
    series = f"""SELECT s, s // {per_asset} AS a, s % 3 AS f, least(4 - s % 3, 1 + (s // 3) % 4) AS n
        FROM range({assets * per_asset}) t(s)"""
    return {
        "assets": f"""SELECT {asset.format("i")} AS id, 'host-' || i || '.example' AS name, 'server' AS type,
            ['low','moderate','high'][1 + i % 3] AS criticality, (i % 20 = 0) AS internet_facing
            FROM range({assets}) t(i)""",
        "scans": f"""SELECT 's-' || i || '-' || k AS id, {asset.format("i")} AS asset_id, 'nessus' AS tool,
            TRUE AS authenticated, {TS.format(f"{SCAN_DAYS}[k + 1]", "i % 600")} AS completed_at,
            'completed' AS status, 'os-pkgs:debian' AS scope_keys
            FROM range({assets}) t(i), range(4) u(k)""",
        "findings": f"""SELECT 'f-' || x.s AS id, {asset.format("x.a")} AS asset_id,
            'CVE-2025-' || lpad((10000 + x.s % {per_asset * 50})::VARCHAR, 5, '0') AS vuln_id,
            'pkg-' || (x.s % 997) AS package, '1.0.1' AS installed_version, '1.0.5' AS fixed_version,
            'pkg:deb/debian/pkg-' || (x.s % 997) || '@1.0.1' AS purl,
            ['critical','high','medium','low'][1 + x.s % 4] AS severity,
            {TS.format(f"{SCAN_DAYS}[x.f + j + 1]", "x.a % 600")} AS first_detected_at, 'open' AS state,
            'nessus' AS source, 's-' || x.a || '-' || (x.f + j) AS scan_id, 'os-pkgs:debian' AS scope_keys
            FROM ({series}) x, range(4) u(j) WHERE j < x.n""",
        "deployments": f"""SELECT 'd-' || x.s AS id, {asset.format("x.a")} AS asset_id,
            CASE WHEN x.s % 4 = 0 THEN 'CVE-2025-' || lpad((10000 + x.s % {per_asset * 50})::VARCHAR, 5, '0') END
                AS vuln_ids,
            CASE WHEN x.s % 4 = 2 THEN 'pkg-' || (x.s % 997) || '=1.0.6' END AS patch_id, 'CHG' || x.s AS change_ref,
            {TS.format(f"{SCAN_DAYS}[x.f + 1] + 2", "x.a % 600")} AS started_at,
            {TS.format(f"{SCAN_DAYS}[x.f + 1] + 2", "x.a % 600 + 30")} AS completed_at,
            'succeeded' AS status, 'ansible' AS tool
            FROM ({series}) x WHERE x.s % 2 = 0""",
    }


def generate(assets: int, per_asset: int, out: Path) -> Path:
    """Write the bundle (skipped when it already exists with a manifest)."""
    if (out / "bundle.yaml").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    sources = []
    for kind, query in _queries(assets, per_asset).items():
        target = out / f"{kind}.csv"
        con.execute(f"COPY ({query}) TO '{target}' (FORMAT csv, HEADER)")
        sources.append(
            {"path": target.name, "kind": kind, "collected_at": "2026-10-01T00:00:00Z", "sha256": _sha256(target)}
        )
    manifest = {
        "bundle_version": 1,
        "organisation": "Benchmark Org",
        "scope": "synthetic scan series",
        "period": {"start": "2026-07-01", "end": "2026-09-30"},
        "prepared_by": {"name": "benchmarks/series.py"},
        "sources": sources,
    }
    (out / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return out


def _run(bundle: str) -> dict[str, float]:
    """Load (with the series fold) and assess in this process; times and counts."""
    import resource  # noqa: PLC0415

    from reporter.assess.engine import AssessOptions, assess  # noqa: PLC0415
    from reporter.bundle.load import load_bundle  # noqa: PLC0415
    from reporter.catalog.loader import load_library  # noqa: PLC0415

    library = load_library()
    start = time.perf_counter()
    loaded = load_bundle(Path(bundle))
    load_s = time.perf_counter() - start
    assert loaded.valid, loaded.issues[:3]
    con = loaded.store.con
    sightings = con.execute("SELECT count(*) FROM finding_sightings").fetchone()
    start = time.perf_counter()
    result = assess(loaded, library, AssessOptions())
    assess_s = time.perf_counter() - start
    derived = con.execute("SELECT count(*) FROM a_ver WHERE derived").fetchone()
    links = con.execute("SELECT count(*) FROM a_dep_link").fetchone()
    loaded.close()
    e2 = next(m for m in result.metrics if m.id == "E2")
    return {
        "load_s": load_s,
        "assess_s": assess_s,
        "sightings": sightings[0] if sightings else 0,
        "derived_verifications": derived[0] if derived else 0,
        "inferred_links": links[0] if links else 0,
        "e2": e2.measure.display if e2.measure else "n/a",
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(func: str, bundle: str) -> dict[str, float]:
    code = (
        f"import sys, json; sys.path.insert(0, {str(Path(__file__).parent)!r}); import series; "
        f"print(json.dumps(series.{func}({bundle!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--observations", type=int, default=1_000_000, help="finding sightings (approximate)")
    args = parser.parse_args()
    per_asset = max(1, round(args.observations / args.assets / 2.5))  # 2.5 sightings per series on average
    out = Path(__file__).resolve().parent / "data" / f"series-{args.assets}-{per_asset}"
    bundle = generate(args.assets, per_asset, out)
    raw = _child("_raw", str(bundle))
    tool = _child("_run", str(bundle))
    print(
        json.dumps(
            {
                "assets": args.assets,
                "sightings": tool["sightings"],
                "derived_verifications": tool["derived_verifications"],
                "inferred_links": tool["inferred_links"],
                "e2": tool["e2"],
                "duckdb_raw_s": round(raw["seconds"], 2),
                "load_s": round(tool["load_s"], 2),
                "load_ratio": round(tool["load_s"] / raw["seconds"], 2),
                "assess_s": round(tool["assess_s"], 2),
                "assess_ratio": round(tool["assess_s"] / raw["seconds"], 2),
                "peak_rss_mb": round(tool["peak_rss_mb"]),
            }
        )
    )


if __name__ == "__main__":
    main()
