"""Where the time of one `report` run goes: the pipeline's stages timed one by one on a generated
bundle, in one process, with the store's default settings. Prints a Markdown table of stages (load,
every derived table, every control, metrics, each export, the view, each format) and the slowest
steps, so that a change can be measured where it acts.

    python benchmarks/stages.py --findings 1000000 [--top 15] [--formats html,pdf,json,csv,oscal,poam]
                                [--check-workers 1]

The PDF is timed on its own here (in the `report` command it renders beside the other formats).
Two checks run side by side by default (D103), so a check's line is the time from its start to the
next check's start; `--check-workers 1` runs them one after the other, each timed alone.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout (checkout.py)

from generate import default_dir, generate

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.interface import LoadOptions
from reporter.bundle.limits import Limits
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.pipeline import ExportRequest, _exports
from reporter.report.formats import REGISTRY, parse_formats
from reporter.report.interface import RenderContext, ReportInputs
from reporter.report.view.build import build_view


class Clock:
    """Seconds per stage, from the engine's progress events (each event ends the previous step)."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = defaultdict(float)
        self._last = time.perf_counter()
        self._step = "start"

    def event(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.steps[self._step] += now - self._last
        # the engine reports a derived table when it is done: the next step is the one after it
        self._last, self._step = now, f"derive step {done + 1}" if stage == "deriving the ledger" else stage

    def lap(self, name: str) -> None:
        self.event(name, 0, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--formats", default="html,pdf,json,csv,oscal,poam")
    parser.add_argument("--check-workers", type=int, default=None, help="checks side by side (default: the tool's)")
    args = parser.parse_args()
    bundle = generate(args.findings, default_dir(args.findings))
    library = load_library()
    clock = Clock()
    totals: dict[str, float] = {}

    start = time.perf_counter()
    loaded = load_bundle(bundle, LoadOptions(limits=Limits(), control_ids=frozenset(library.controls)))
    totals["load + validate"] = time.perf_counter() - start
    assert loaded.valid

    start = clock._last = time.perf_counter()
    clock._step = "assess setup"
    assessment = assess(loaded, library, AssessOptions(progress=clock.event, check_workers=args.check_workers))
    clock.lap("end of assess")
    totals["assess"] = time.perf_counter() - start

    formats = parse_formats(args.formats)
    with tempfile.TemporaryDirectory(prefix="stages-") as spool:
        start = time.perf_counter()
        exports = _exports(loaded, assessment, ExportRequest(spool=Path(spool), explorer="html" in args.formats))
        totals["exports (CSV, explorer data)"] = time.perf_counter() - start
        loaded.close()
        inputs = ReportInputs(assessment, exports, library, assessment.as_of)
        start = time.perf_counter()
        context = RenderContext(inputs, build_view(inputs))
        totals["view"] = time.perf_counter() - start
        for name in formats:
            start = time.perf_counter()
            REGISTRY[name].render(context)
            totals[f"format {name.value}"] = time.perf_counter() - start

    print(f"findings: {args.findings:,}; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    print("| stage | seconds |\n|---|---:|")
    for name, seconds in totals.items():
        print(f"| {name} | {seconds:.2f} |")
    print(f"\nslowest assessment steps (of {len(clock.steps)}):\n| step | seconds |\n|---|---:|")
    for name, seconds in sorted(clock.steps.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
