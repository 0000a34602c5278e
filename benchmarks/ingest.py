"""Ingest benchmark: the tool's open + load + validate of a large bundle against DuckDB's own typed
read of the same files. Prints one JSON line per run (ingest_s, duckdb_raw_s, ratio, peak_rss_mb)
and, with several runs, a last line with the median ratio.

    python benchmarks/ingest.py --findings 1000000 --runs 3

Each side runs in its own subprocess so that its peak RSS is its own; with --runs the two sides
alternate, so a machine that slows down during the runs slows both. The raw read of a million
findings takes under 2 s, so one run's ratio moves by a tenth with a quarter-second of noise:
compare medians. Targets (issue 2): at 1M findings ratio <= 3 and peak RSS <= 1.5 GB; issue 13
keeps the ratio.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout (checkout.py)

from checkout import ROOT
from generate import default_dir, generate


def _tool(bundle: str) -> dict[str, float]:
    from reporter.bundle.interface import LoadOptions  # noqa: PLC0415
    from reporter.bundle.limits import Limits  # noqa: PLC0415
    from reporter.bundle.load import load_bundle  # noqa: PLC0415

    start = time.perf_counter()
    loaded = load_bundle(Path(bundle), LoadOptions(limits=Limits()))
    report = loaded.report
    assert report is not None
    seconds = time.perf_counter() - start
    loaded.close()
    assert report.valid, report.issues[:5]
    return {"seconds": seconds, "records": report.records, "peak_rss_mb": _peak_mb()}


def _raw(bundle: str) -> dict[str, float]:
    """DuckDB's own typed read: every file into a typed table, types from the tool's models."""
    import duckdb  # noqa: PLC0415
    import yaml  # noqa: PLC0415

    from reporter.models.kinds import KINDS  # noqa: PLC0415
    from reporter.store.columns import columns_of  # noqa: PLC0415

    manifest = yaml.safe_load((Path(bundle) / "bundle.yaml").read_text())
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    start = time.perf_counter()
    for source in manifest["sources"]:
        path = str(Path(bundle) / source["path"])
        header = None
        if path.endswith(".csv"):
            with Path(path).open() as handle:
                header = handle.readline().strip().split(",")
        specs = {c.name: c for c in columns_of(KINDS[source["kind"]].model)}
        if header is not None:
            types = {n: ("VARCHAR" if specs[n].scalar == "list" else specs[n].duck_type) for n in header}
            con.execute(
                f"CREATE TABLE t_{source['kind']} AS SELECT * FROM read_csv(?, header=true, columns=?)", [path, types]
            )
        else:
            con.execute(
                f"CREATE TABLE t_{source['kind']} AS SELECT * FROM read_json(?, format='newline_delimited')", [path]
            )
    return {"seconds": time.perf_counter() - start, "records": 0, "peak_rss_mb": _peak_mb()}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(side: str, bundle: str) -> dict[str, float]:
    code = (
        f"import sys, json; sys.path.insert(0, {str(Path(__file__).parent)!r}); import ingest; "
        f"print(json.dumps(ingest._{side}({bundle!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--runs", type=int, default=1, help="alternating runs of both sides (default 1)")
    args = parser.parse_args()
    bundle = generate(args.findings, default_dir(args.findings, args.format), args.format)
    ratios = []
    for _ in range(max(1, args.runs)):
        raw = _child("raw", str(bundle))
        tool = _child("tool", str(bundle))
        ratios.append(tool["seconds"] / raw["seconds"])
        print(
            json.dumps(
                {
                    "findings": args.findings,
                    "format": args.format,
                    "records": tool["records"],
                    "ingest_s": round(tool["seconds"], 2),
                    "duckdb_raw_s": round(raw["seconds"], 2),
                    "ratio": round(ratios[-1], 2),
                    "peak_rss_mb": round(tool["peak_rss_mb"]),
                    "duckdb_raw_peak_rss_mb": round(raw["peak_rss_mb"]),
                }
            ),
            flush=True,
        )
    if len(ratios) > 1:
        print(json.dumps({"runs": len(ratios), "median_ratio": round(statistics.median(ratios), 2)}))


if __name__ == "__main__":
    main()
