"""Assessment benchmark: time of the assessment (derived tables, every control and metric) on a
large bundle already loaded, against DuckDB's own typed read of the same files. One JSON line:
assess_s, duckdb_raw_s, ratio, peak_rss_mb (the whole process: load + assess).

    python benchmarks/assess.py --findings 1000000

Target (issue 13): assessment ≤ 2× DuckDB's raw read of the same files. The benchmark fails (exit 1)
when any control is `insufficient_evidence`: the generated bundle must exercise the whole engine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout (checkout.py)

from checkout import ROOT
from generate import default_dir, generate


def _assess(bundle: str) -> dict[str, Any]:
    import resource  # noqa: PLC0415

    from reporter.assess.engine import AssessOptions, assess  # noqa: PLC0415
    from reporter.bundle.interface import LoadOptions  # noqa: PLC0415
    from reporter.bundle.limits import Limits  # noqa: PLC0415
    from reporter.bundle.load import load_bundle  # noqa: PLC0415
    from reporter.catalog.loader import load_library  # noqa: PLC0415

    library = load_library()
    start = time.perf_counter()
    loaded = load_bundle(Path(bundle), LoadOptions(limits=Limits()))
    report = loaded.report
    assert report is not None
    assert report.valid, report.issues[:3]
    ingest = time.perf_counter() - start
    start = time.perf_counter()
    result = assess(loaded, library, AssessOptions())
    seconds = time.perf_counter() - start
    loaded.close()
    return {
        "assess_s": seconds,
        "ingest_s": ingest,
        "controls": len(result.controls),
        "insufficient": [c.control_id for c in result.controls if c.status.value == "insufficient_evidence"],
        "statuses": dict(result.status_counts),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(func: str, bundle: str) -> dict[str, Any]:
    code = (
        f"import sys, json; sys.path.insert(0, {str(Path(__file__).parent)!r}); import assess, ingest; "
        f"print(json.dumps({func}({bundle!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    args = parser.parse_args()
    bundle = generate(args.findings, default_dir(args.findings))
    raw = _child("ingest._raw", str(bundle))
    tool = _child("assess._assess", str(bundle))
    print(
        json.dumps(
            {
                "findings": args.findings,
                "assess_s": round(tool["assess_s"], 2),
                "ingest_s": round(tool["ingest_s"], 2),
                "duckdb_raw_s": round(raw["seconds"], 2),
                "ratio": round(tool["assess_s"] / raw["seconds"], 2),
                "peak_rss_mb": round(tool["peak_rss_mb"]),
                "statuses": tool["statuses"],
            }
        )
    )
    if tool["insufficient"]:
        sys.exit(f"controls without evidence in the generated bundle: {', '.join(tool['insufficient'])}")


if __name__ == "__main__":
    main()
