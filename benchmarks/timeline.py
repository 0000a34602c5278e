"""One `report` run as it runs: when each stage begins and how busy the machine's cores are, on a
generated bundle, in default settings. Where benchmarks/stages.py times the stages one after the
other, this is the `report` command itself, with the PDF renderer beside the exports (D89, D110) and
the store's threads lent to it (D118), so it shows the run's critical path. Prints a Markdown table
of stages (the load, the derivation, the checks, the metrics, then the report's: the view, each
export and each format as the command announces them) with the CPU they used and the largest
resident memory in each, and the PDF renderer's own span.

    python benchmarks/timeline.py --findings 1000000 [--repeat 3]
    python benchmarks/timeline.py --bundle evidence-samples/kestrel-2026-q3

The stages come from the progress events the command shows on a terminal (the run is the command's
own code in this process, its progress bar replaced by a recorder); the CPU is the tool's and its
renderer's, sampled every 0.1 s with psutil, as a percentage of one core (200 % is both cores), with
their resident memory (MB of 1,048,576 bytes; a peak between two samples can be missed, so
benchmarks/scaling.py's kernel maximum is the figure for the target).
The clock starts once the command's modules are imported, so a run's time here leaves out the
interpreter's start and those imports (about 0.5 s): benchmarks/scaling.py times whole commands.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout (checkout.py)

from generate import default_dir, generate

from reporter.cli import main as cli_main
from reporter.cli import report_cmd

# The stage a progress event belongs to, by the start of its text (the events of reporter's stages).
STAGES = (
    ("loading", "load"),
    ("loaded", "load"),
    ("deriving", "derivation"),
    ("checks", "checks"),
    ("metrics", "metrics"),
)
REPORT = "report"  # the view, each export and each format: a row each, "report: <event>"
SAMPLE_SECONDS = 0.1
MB = 1024 * 1024


def stage_of(event: str) -> str:
    """The stage of a progress event; the report's events (the view, each export, each format) are
    rows of their own, so that the report's parts show."""
    return next((stage for prefix, stage in STAGES if event.startswith(prefix)), f"{REPORT}: {event}")


class Sample(NamedTuple):
    """One sample of the run's processes: CPU in % of one core since the last sample, resident memory
    in MB of 1,048,576 bytes; the tool's own, then its child processes' (the PDF renderer)."""

    at: float  # seconds from the run's start
    cpu: float
    children_cpu: float
    rss: float
    children_rss: float


@dataclass
class Timeline:
    """Stage starts (seconds from the run's start) and samples of the run's processes."""

    start: float = field(default_factory=time.perf_counter)
    stages: list[tuple[str, float]] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)

    def now(self) -> float:
        return time.perf_counter() - self.start

    def event(self, text: str, done: int, total: int) -> None:
        del done, total
        stage = stage_of(text)
        if not self.stages or self.stages[-1][0] != stage:
            self.stages.append((stage, self.now()))

    def sample(self, stop: threading.Event) -> None:
        me = psutil.Process()
        mine = me.cpu_times()
        seen = {me.pid: mine.user + mine.system}  # a process first seen counts from then on
        last = self.now()
        while not stop.wait(SAMPLE_SECONDS):
            own = children = own_rss = children_rss = 0.0
            try:
                processes = [me, *me.children(recursive=True)]
                for process in processes:
                    times, rss = process.cpu_times(), process.memory_info().rss / MB
                    used = times.user + times.system
                    delta = used - seen.get(process.pid, used)
                    seen[process.pid] = used
                    if process.pid == me.pid:
                        own, own_rss = own + delta, own_rss + rss
                    else:
                        children, children_rss = children + delta, children_rss + rss
            except psutil.Error:
                continue
            at = self.now()
            span, last = at - last, at
            self.samples.append(Sample(at, 100 * own / span, 100 * children / span, own_rss, children_rss))


def recorder(timeline: Timeline) -> Callable[[bool], contextlib.AbstractContextManager[object]]:
    """A stand-in for the command's progress bar that records each event, whatever the terminal."""

    @contextlib.contextmanager
    def progress_bar(enabled: bool) -> Iterator[object]:
        del enabled
        yield timeline.event

    return progress_bar


def run(bundle: Path) -> tuple[Timeline, float, int]:
    """One `report` run of `bundle` into a temporary directory: its timeline, wall time, exit code."""
    timeline = Timeline()
    stop = threading.Event()
    sampler = threading.Thread(target=timeline.sample, args=(stop,), daemon=True)
    command = vars(report_cmd)  # the command's progress bar, replaced by the recorder for this run
    original, argv = command["progress_bar"], sys.argv
    command["progress_bar"] = recorder(timeline)
    code = 0
    with tempfile.TemporaryDirectory(prefix="timeline-") as out:
        timeline.start = time.perf_counter()  # before the sampler reads the clock
        sampler.start()
        sys.argv = ["exposure-reporter", "report", str(bundle), "--output-dir", out, "--quiet"]
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the command's summary line
                cli_main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            wall = timeline.now()
            stop.set()
            sampler.join()
            command["progress_bar"], sys.argv = original, argv
    return timeline, wall, code


def cpu(timeline: Timeline, begin: float, end: float) -> tuple[float, float]:
    """Mean CPU of the tool and of its children between two instants (% of one core)."""
    inside = [s for s in timeline.samples if begin < s.at <= end]
    if not inside:
        return 0.0, 0.0
    return sum(s.cpu for s in inside) / len(inside), sum(s.children_cpu for s in inside) / len(inside)


def peaks(timeline: Timeline, begin: float, end: float) -> tuple[float, float]:
    """The largest resident memory of the tool, and of the tool and its children together, in MB."""
    inside = [s for s in timeline.samples if begin < s.at <= end]
    return (max(s.rss for s in inside), max(s.rss + s.children_rss for s in inside)) if inside else (0.0, 0.0)


def renderer_span(timeline: Timeline) -> tuple[float, float] | None:
    """From the first to the last sample in which a child process (the PDF renderer) used CPU."""
    busy = [s.at for s in timeline.samples if s.children_cpu > 0]
    return (busy[0] - SAMPLE_SECONDS, busy[-1]) if busy else None


def table(timeline: Timeline, wall: float) -> list[str]:
    """The stages as Markdown rows, then the renderer's span."""
    rows = [
        "| stage | begins at | seconds | CPU, tool | CPU, renderer | peak RSS, tool | peak RSS, all |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    ends = [at for _, at in timeline.stages[1:]] + [wall]
    for (stage, begin), end in zip(timeline.stages, ends, strict=True):
        if not any(begin < s.at <= end for s in timeline.samples):
            rows.append(f"| {stage} | {begin:.1f} s | {end - begin:.1f} s | – | – | – | – |")  # between samples
            continue
        own, kids = cpu(timeline, begin, end)
        tool, both = peaks(timeline, begin, end)
        rows.append(
            f"| {stage} | {begin:.1f} s | {end - begin:.1f} s | {own:.0f} % | {kids:.0f} % "
            f"| {tool:,.0f} MB | {both:,.0f} MB |"
        )
    span = renderer_span(timeline)
    if span is not None:
        own, kids = cpu(timeline, *span)
        rows.append(
            f"\nPDF renderer: from {span[0]:.1f} s to {span[1]:.1f} s ({span[1] - span[0]:.1f} s), "
            f"{kids:.0f} % of one core; the tool beside it {own:.0f} %"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--bundle", type=Path, help="a bundle of your own instead of a generated one")
    parser.add_argument("--repeat", type=int, default=1, help="runs, one after the other, each with its table")
    args = parser.parse_args()
    bundle = args.bundle or generate(args.findings, default_dir(args.findings))
    size = str(args.bundle) if args.bundle else f"{args.findings:,} findings"
    cpus = len(os.sched_getaffinity(0))
    print(f"machine: {platform.machine()}, {cpus} cores, Python {platform.python_version()}")
    for number in range(1, args.repeat + 1):
        timeline, wall, code = run(bundle)
        report = next((at for stage, at in timeline.stages if stage.startswith(REPORT)), wall)
        print(
            f"\nrun {number}: {size}, {wall:.1f} s, exit {code}; "
            f"load and assessment {report:.1f} s, the report after them {wall - report:.1f} s"
        )
        print("\n".join(table(timeline, wall)), flush=True)


if __name__ == "__main__":
    main()
