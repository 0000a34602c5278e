"""Scaling table: one `exposure-reporter report` run (validate + assess + every output) per bundle
size, in default settings, each in a fresh process. Prints one Markdown row per size: findings,
wall time, peak RSS (of the largest process of the run: the tool or its PDF worker), exit code,
and what stopped it if it did not finish. docs/performance.md keeps the table with the machine.

    python benchmarks/scaling.py --findings 100000 1000000 3000000 10000000

Bundles are generated once and cached under benchmarks/data/ (git-ignored); generation is not timed.
Target (issue 13): at 10M findings, one `report` run ≤ 120 s with peak RSS ≤ 2.5 GB.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import default_dir, generate

# Runs one command and prints its wall time and the peak RSS of its process tree (the children it
# waited for: the tool, and the PDF worker the tool waits for) as JSON.
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
run = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=False)
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    "exit": run.returncode,
    "stderr": run.stderr.strip().splitlines()[-1:] ,
}))
"""


def measure(findings: int) -> dict[str, object]:
    """Generate (cached) and time one report run in default settings."""
    bundle = generate(findings, default_dir(findings))
    with tempfile.TemporaryDirectory(prefix="scaling-") as out:
        command = [sys.executable, "-m", "reporter", "report", str(bundle), "-o", out]
        done = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    result["findings"] = findings
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--findings", type=int, nargs="+", default=[100_000, 1_000_000, 3_000_000, 10_000_000])
    args = parser.parse_args()
    cpus = len(__import__("os").sched_getaffinity(0))
    print(f"machine: {platform.machine()}, {cpus} cores, Python {platform.python_version()}")
    print("| findings | report run (validate + assess + outputs) | peak RSS | exit | note |")
    print("|---:|---:|---:|---:|---|")
    for n in args.findings:
        r = measure(n)
        note = "" if r["exit"] in (0, 1) else " ".join(str(line) for line in r["stderr"])  # type: ignore[attr-defined]
        print(f"| {n:,} | {r['seconds']:.1f} s | {r['peak_rss_mb']:,.0f} MB | {r['exit']} | {note[:160]} |", flush=True)


if __name__ == "__main__":
    main()
