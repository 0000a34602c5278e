"""Report benchmark: time and peak memory of the PDF + HTML rendering step on the assessment of a large
generated bundle. One JSON line: report_s, peak_rss_mb (the rendering process and its PDF worker),
pdf_pages, pdf_mb, html_mb, plus the sample quarter's figures for the ratio.

    python benchmarks/report.py --findings 1000000

The assessment is made first (not timed) and handed to a fresh process through results.json and the
CSV exports, so the figures are those of rendering alone. Target (issue 5): at 1M findings the step
takes ≤ 20 s and ≤ 1 GB, about what the sample takes, because every detail table is capped.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout (checkout.py)

from checkout import ROOT
from generate import default_dir, generate

SAMPLE = ROOT / "evidence-samples" / "northwind-2026-q3"
EXPORTS = ("findings.csv", "ledger.csv", "exceptions.csv")


def _assess(bundle: str, out: str) -> None:
    """Assess (with the CSV exports) and leave results.json and the exports in `out`."""
    from reporter.assess.engine import AssessOptions  # noqa: PLC0415
    from reporter.bundle.limits import DEFAULT_LIMITS  # noqa: PLC0415
    from reporter.catalog.loader import load_library  # noqa: PLC0415
    from reporter.pipeline import LoadOptions, assess_bundle  # noqa: PLC0415

    run = assess_bundle(Path(bundle), LoadOptions(limits=DEFAULT_LIMITS), load_library(), AssessOptions(), exports=True)
    assert run.assessment is not None, run.validation.issues[:3]
    (Path(out) / "results.json").write_text(run.assessment.model_dump_json())
    for name, data in run.exports.items():
        (Path(out) / name).write_bytes(data)


def _render(out: str) -> dict[str, float]:
    """Render HTML + PDF from the stored assessment; time and peak RSS of this step only."""
    import io  # noqa: PLC0415
    import resource  # noqa: PLC0415
    from datetime import UTC, datetime  # noqa: PLC0415

    from pypdf import PdfReader  # noqa: PLC0415

    from reporter.catalog.loader import load_library  # noqa: PLC0415
    from reporter.models.results import Assessment  # noqa: PLC0415
    from reporter.output import Payload  # noqa: PLC0415
    from reporter.report.formats import ReportFormat  # noqa: PLC0415
    from reporter.report.interface import ReportInputs  # noqa: PLC0415
    from reporter.report.render import render_report  # noqa: PLC0415

    folder = Path(out)
    assessment = Assessment.model_validate_json((folder / "results.json").read_bytes())
    # as a `report` run hands them over: spooled files, read when written (reporter.output.Payload)
    exports: dict[str, Payload] = {name: folder / name for name in EXPORTS}
    inputs = ReportInputs(assessment, exports, load_library(), datetime(2026, 10, 2, tzinfo=UTC))
    start = time.perf_counter()
    files = render_report(inputs, [ReportFormat.HTML, ReportFormat.PDF])
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "report_s": seconds,
        "peak_rss_mb": max(own, worker),
        "parent_rss_mb": own,
        "worker_rss_mb": worker,
        "pdf_pages": len(PdfReader(io.BytesIO(files["report.pdf"])).pages),
        "pdf_mb": len(files["report.pdf"]) / 1e6,
        "html_mb": len(files["report.html"]) / 1e6,
        "findings_csv_mb": (folder / "findings.csv").stat().st_size / 1e6,
    }


MARK = "BENCHMARK-RESULT "


def _child(call: str) -> dict[str, float]:
    """Run `call` in a fresh interpreter; it prints MARK + JSON (anything else on stdout is ignored)."""
    code = f"import sys, json; sys.path.insert(0, {str(Path(__file__).parent)!r}); import report; {call}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    found = [line[len(MARK) :] for line in done.stdout.splitlines() if line.startswith(MARK)]
    result: dict[str, float] = json.loads(found[-1]) if found else {}
    return result


def measure(bundle: Path) -> dict[str, float]:
    """Assess in one process, render in a fresh one."""
    with tempfile.TemporaryDirectory(prefix="report-bench-") as out:
        _child(f"report._assess({str(bundle)!r}, {out!r})")
        return _child(f"print(report.MARK + json.dumps(report._render({out!r})))")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    args = parser.parse_args()
    large = measure(generate(args.findings, default_dir(args.findings)))
    sample = measure(SAMPLE)
    print(
        json.dumps(
            {
                "findings": args.findings,
                "report_s": round(large["report_s"], 2),
                "peak_rss_mb": round(large["peak_rss_mb"]),
                "pdf_pages": large["pdf_pages"],
                "pdf_mb": round(large["pdf_mb"], 1),
                "html_mb": round(large["html_mb"], 1),
                "findings_csv_mb": round(large["findings_csv_mb"], 1),
                "sample_report_s": round(sample["report_s"], 2),
                "sample_peak_rss_mb": round(sample["peak_rss_mb"]),
                "sample_pdf_pages": sample["pdf_pages"],
                "ratio_to_sample": round(large["report_s"] / sample["report_s"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
