"""Scaling table: one `exposure-reporter report` run (validate + assess + every output) per bundle
size, in default settings, each in a fresh process. Prints one Markdown row per size: findings,
wall time, peak RSS of the largest process of the run (the tool or its PDF worker) and of all its
processes together (sampled), exit code, and what stopped it if it did not finish.
docs/performance.md keeps the table with the machine.

    python benchmarks/scaling.py --findings 100000 1000000 3000000 10000000
    python benchmarks/scaling.py --findings 3000000 --memory-limit 3GB 2GB   # one row per limit

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
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout (checkout.py)

from checkout import ROOT
from generate import default_dir, generate

# Runs one command and prints its wall time, the peak RSS of its largest process (the kernel's
# ru_maxrss over the children waited for: the tool, and the PDF worker it waits for) and the peak of
# the whole process tree's RSS, sampled every 0.1 s with psutil (the PDF worker renders while the
# store is still open, D89, so the two add up), as JSON.
_MEASURE = """
import json, resource, subprocess, sys, time
import psutil
start = time.perf_counter()
run = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
tree_peak = 0
root = psutil.Process(run.pid)
while run.poll() is None:
    try:
        procs = [root, *root.children(recursive=True)]
        tree_peak = max(tree_peak, sum(p.memory_info().rss for p in procs if p.is_running()))
    except psutil.Error:
        pass
    time.sleep(0.1)
stderr = run.stderr.read() if run.stderr else ""
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    "tree_peak_mb": tree_peak / 1024 / 1024,
    "exit": run.returncode,
    "stderr": stderr.strip().splitlines()[-1:],
}))
"""


def measure(findings: int, memory_limit: str | None = None) -> dict[str, object]:
    """Generate (cached) and time one report run, in default settings unless a memory limit is given."""
    bundle = generate(findings, default_dir(findings))
    with tempfile.TemporaryDirectory(prefix="scaling-") as out:
        command = [sys.executable, "-m", "reporter", "report", str(bundle), "-o", out]
        if memory_limit is not None:
            command += ["--memory-limit", memory_limit]
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True, cwd=ROOT
        )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    result["findings"] = findings
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--findings", type=int, nargs="+", default=[100_000, 1_000_000, 3_000_000, 10_000_000])
    parser.add_argument(
        "--memory-limit",
        nargs="+",
        default=[None],
        metavar="LIMIT",
        help="pass --memory-limit LIMIT to report (e.g. 2GB 3GB: the limits alternate for each size)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per size and limit, alternating limits")
    args = parser.parse_args()
    cpus = len(__import__("os").sched_getaffinity(0))
    print(f"machine: {platform.machine()}, {cpus} cores, Python {platform.python_version()}")
    header = ("findings", "memory limit", "report run (validate + assess + outputs)", "peak RSS, largest process")
    print("| " + " | ".join((*header, "peak RSS, all", "exit", "note")) + " |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for n in args.findings:
        for _ in range(args.repeat):
            for limit in args.memory_limit:
                r = measure(n, limit)
                note = "" if r["exit"] in (0, 1) else " ".join(str(line) for line in r["stderr"])  # type: ignore[attr-defined]
                print(
                    f"| {n:,} | {limit or 'default'} | {r['seconds']:.1f} s | {r['peak_rss_mb']:,.0f} MB "
                    f"| {r['tree_peak_mb']:,.0f} MB | {r['exit']} | {note[:160]} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
