"""The HTML report: self-contained (no external resource, CSP first in <head>), accessible, and a
golden file of the minimal sample's report (update: `pytest tests/report --update-golden`)."""

from __future__ import annotations

import base64
import difflib
import hashlib
import itertools
import re

import pytest
from report_helpers import GENERATED_AT, GOLDEN, SAMPLES, assess_for_report, external_references, tags

from reporter.catalog.loader import load_library
from reporter.models.results import Assessment
from reporter.report.interface import ReportInputs, ReportOptions
from reporter.report.templating import render_document
from reporter.report.view.build import build_view

TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def html(q3_inputs: ReportInputs) -> str:
    return render_document(build_view(q3_inputs), "html")


def test_no_external_resource_of_any_kind(html: str) -> None:
    assert external_references(html) == []
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|file:|//)""", html, re.IGNORECASE)
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()


def test_csp_meta_is_the_first_element_of_head_and_hashes_the_style(html: str) -> None:
    all_tags = tags(html)
    names = [t for t, _ in all_tags]
    first = all_tags[names.index("head") + 1]
    assert first[0] == "meta"
    assert first[1]["http-equiv"] == "Content-Security-Policy"
    policy = first[1]["content"] or ""
    assert "default-src 'none'" in policy
    assert "script-src 'none'" in policy
    assert "base-uri 'none'" in policy
    assert "unsafe-inline" not in policy
    (style,) = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert not any("style" in attrs for tag, attrs in all_tags if tag != "svg" and not tag.startswith("svg"))


def test_accessible_structure(html: str) -> None:
    all_tags = tags(html)
    assert ("html", {"lang": "en"}) in all_tags
    headings = [int(t[1]) for t, _ in all_tags if re.fullmatch(r"h[1-6]", t)]
    assert headings[0] == 1
    assert headings.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(headings)), "a heading level is skipped"
    ths = [attrs for tag, attrs in all_tags if tag == "th"]
    assert ths
    assert all(a.get("scope") in ("col", "row") for a in ths)
    svgs = [attrs for tag, attrs in all_tags if tag == "svg"]
    assert len(svgs) >= 5
    assert all(a.get("role") == "img" and a.get("aria-label") for a in svgs)
    assert "Fail</span>" in html
    assert 'aria-hidden="true">✗</span>' in html


def test_logo_is_embedded_as_data_uri(q3_inputs: ReportInputs) -> None:
    import dataclasses

    with_logo = dataclasses.replace(q3_inputs, options=ReportOptions(logo_png=TINY_PNG))
    text = render_document(build_view(with_logo), "html")
    [img] = [attrs for tag, attrs in tags(text) if tag == "img"]
    assert (img["src"] or "").startswith("data:image/png;base64,")
    pdf_text = render_document(build_view(with_logo), "pdf")
    assert 'src="asset:logo.png"' in pdf_text  # the PDF fetcher serves it from memory


def _golden_inputs(update: bool) -> ReportInputs:
    results, exceptions = GOLDEN / "minimal-results.json", GOLDEN / "minimal-exceptions.csv"
    if update:
        assessment, exports = assess_for_report(SAMPLES / "minimal")
        results.write_text(assessment.model_dump_json(indent=2) + "\n", encoding="utf-8")
        exceptions.write_bytes(exports["exceptions.csv"])
    return ReportInputs(
        Assessment.model_validate_json(results.read_bytes()),
        {"exceptions.csv": exceptions.read_bytes()},
        load_library(),
        GENERATED_AT,
    )


def test_golden_html_of_the_minimal_sample(update_golden: bool) -> None:
    """The whole HTML of the minimal sample, from a stored results.json (so engine changes do not move it)."""
    golden = GOLDEN / "minimal-report.html"
    fresh = render_document(build_view(_golden_inputs(update_golden)), "html")
    if update_golden:
        golden.write_text(fresh, encoding="utf-8")
    expected = golden.read_text(encoding="utf-8")
    if fresh != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), fresh.splitlines(True), "golden", "rendered"))
        pytest.fail(
            f"HTML differs from {golden.name}; if intended run `pytest tests/report --update-golden`:\n" + diff[:6000]
        )
