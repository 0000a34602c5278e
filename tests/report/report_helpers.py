"""Helpers shared by the report tests (imported as `report_helpers`; fixtures live in conftest.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from reporter.assess.engine import AssessOptions
from reporter.bundle.limits import DEFAULT_LIMITS
from reporter.catalog.loader import load_library
from reporter.cli import app
from reporter.models.results import Assessment
from reporter.pipeline import LoadOptions, assess_bundle

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "evidence-samples"
GOLDEN = Path(__file__).resolve().parent / "golden"
EPOCH = "1790000000"  # 2026-09-21 14:13:20 UTC: a fixed generation time
GENERATED_AT = datetime.fromtimestamp(int(EPOCH), UTC)


def run_cli(*args: str, epoch: str = EPOCH) -> tuple[int, str, str]:
    """Run the command line in-process with a fixed SOURCE_DATE_EPOCH."""
    result = CliRunner(env={"SOURCE_DATE_EPOCH": epoch}).invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@dataclass(frozen=True)
class SampleReport:
    """The Q3 sample's report set, with the Q2 results as baseline."""

    directory: Path
    baseline: Path
    stdout: str


def render_sample(directory: Path, baseline: Path) -> SampleReport:
    """Report on the Q3 sample into `directory` (every format)."""
    code, out, err = run_cli(
        "report", str(SAMPLES / "northwind-2026-q3"), "--output-dir", str(directory), "--baseline", str(baseline)
    )
    assert code == 0, err
    return SampleReport(directory, baseline, out)


def assess_for_report(bundle: Path) -> tuple[Assessment, dict[str, bytes]]:
    """(assessment, CSV exports) of a valid bundle, as the report command computes them."""
    run = assess_bundle(bundle, LoadOptions(limits=DEFAULT_LIMITS), load_library(), AssessOptions(), exports=True)
    assert run.assessment is not None, [i.message for i in run.validation.issues][:5]
    return run.assessment, run.exports


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def external_references(text: str) -> list[str]:
    """Every reference that would load something: src/href-like attributes other than '#anchor' and data:,
    and url()/@import in style sheets and style attributes (evidence printed as text does not count)."""
    found = []
    styles = re.findall(r"<style[^>]*>(.*?)</style>", text, re.DOTALL | re.IGNORECASE)
    for _, attrs in tags(text):
        for name in ("src", "href", "xlink:href", "poster", "action", "formaction", "background", "srcset"):
            value = attrs.get(name)
            if value and not value.startswith(("#", "data:")):
                found.append(f"{name}={value}")
        if attrs.get("style"):
            styles.append(attrs["style"] or "")
    for css in styles:
        found += [u for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", css) if not u.startswith("data:")]
        found += [f"@import {m}" for m in re.findall(r"@import\s+([^;]+)", css)]
    return found


__all__ = [
    "EPOCH",
    "GENERATED_AT",
    "GOLDEN",
    "ROOT",
    "SAMPLES",
    "SampleReport",
    "assess_for_report",
    "load_library",
    "render_sample",
    "run_cli",
]
