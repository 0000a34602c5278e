"""Traceability and readability of the sample report (issue 12, items 4 and 7): every evidence citation
links to its own evidence index entry (HTML and PDF), the PDF outline has two levels, nothing in the
PDF is printed below 8.5 pt, text breaks only at safe points, and chart labels contrast at least 4.5:1."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import pytest
from pypdf import PdfReader
from report_helpers import SampleReport

from reporter.report import charts
from reporter.report.interface import ReportInputs
from reporter.report.templating import BREAKS, breakable, render_document
from reporter.report.view.build import build_view

MIN_PT = 8.5


@pytest.fixture(scope="module")
def reader(sample_report: SampleReport) -> PdfReader:
    return PdfReader(sample_report.directory / "report.pdf")


@pytest.fixture(scope="module")
def html(q3_inputs: ReportInputs) -> str:
    return render_document(build_view(q3_inputs), "html")


def _pdf_links(reader: PdfReader) -> list[str]:
    """The destination name of every internal link annotation, in page order."""
    names = []
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            link = annot.get_object()
            if link.get("/Subtype") == "/Link" and "/Dest" in link:
                names.append(str(link["/Dest"]))
    return names


def test_html_citations_link_to_their_own_index_entry(html: str) -> None:
    cited = re.findall(r'<a href="#([^"]+)">(E\d+)</a>', html)
    assert len(cited) > 100
    assert all(target == f"ev-{label}" for target, label in cited), Counter(cited).most_common(3)
    anchors = set(re.findall(r'<t[hd] scope="row" id="(ev-E\d+)"', html))
    assert {target for target, _ in cited} <= anchors
    assert "ev-E0" in anchors  # the manifest row


def test_pdf_citations_go_to_their_entry_on_the_index_page(reader: PdfReader) -> None:
    links = _pdf_links(reader)
    evidence = [name for name in links if name.startswith("ev-")]
    assert len(evidence) > 100
    assert "evidence-index" not in links  # no citation falls back to the index as a whole in the sample
    dests = reader.named_destinations
    pages = {name: reader.get_destination_page_number(dests[name]) for name in set(evidence)}
    index_page = reader.get_destination_page_number(dests["evidence-index"])
    assert all(index_page <= page <= index_page + 2 for page in pages.values()), pages
    entries = {name: float(dests[name]["/Top"]) for name in pages if pages[name] == index_page}
    assert len(set(entries.values())) == len(entries)  # each entry its own row, not one shared target


def test_the_outline_has_sections_then_controls_and_registers(reader: PdfReader) -> None:
    levels: list[tuple[int, str]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                levels.append((depth, str(item.title)))

    walk(reader.outline, 0)
    second = [title for depth, title in levels if depth == 1]
    assert any(title.startswith("2 Scope") for depth, title in levels if depth == 0)
    assert any(title.startswith("Evidence index") for title in second)
    assert "Exceptions register" in second
    assert any(title.startswith("Verification controls") for title in second)
    assert not any(depth > 1 for depth, _ in levels)


def test_no_text_in_the_pdf_is_smaller_than_8_5_pt(reader: PdfReader) -> None:
    sizes: Counter[float] = Counter()

    def visit(text: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        if text.strip():
            sizes[round(size * math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1]), 2)] += len(text)

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    assert sum(sizes.values()) > 100_000
    assert min(sizes) >= MIN_PT - 0.05, sorted(sizes.items())[:5]


def test_breaks_only_at_safe_points() -> None:
    assert breakable("excepted") == "excepted"  # words never break
    assert breakable("E23 and 1,283/1,809") == "E23 and 1,283/1,809"  # short tokens are left alone
    assert breakable("alice.smith@northwind.example") == "alice.<wbr>smith@<wbr>northwind.<wbr>example"
    digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert breakable(digest).split("<wbr>") == [digest[i : i + 8] for i in range(0, 64, 8)]
    assert breakable("<b>srv-web-01-prod</b>") == "&lt;b&gt;srv-<wbr>web-<wbr>01-<wbr>prod&lt;/<wbr>b&gt;"
    assert breakable("a\u202ebc-defghijklmnop") == "a⟨U+202E⟩bc-<wbr>defghijklmnop"
    # In the PDF the break is a zero-width space (D96); one that comes in the evidence is shown.
    assert breakable(digest, BREAKS["pdf"]).split("\u200b") == [digest[i : i + 8] for i in range(0, 64, 8)]
    assert breakable("srv-web-01\u200b", BREAKS["pdf"]) == "srv-\u200bweb-\u200b01⟨U+200B⟩"
    assert breakable("id\ufeff\u2060x") == "id⟨U+FEFF⟩⟨U+2060⟩x"


def test_the_explorer_hides_nothing_the_static_report_shows() -> None:
    """The hidden characters are listed three times: for the static report (templating), the explorer's
    script (explore.js) and the explorer's data island (explore.py). The three must not drift apart."""
    from reporter.report import explore, templating
    from reporter.resources import templates_dir

    script = (templates_dir() / "static" / "explore.js").read_text(encoding="utf-8")
    (pattern,) = re.findall(r"var INVISIBLE = /(\[.*?\])/g;", script)
    in_script = re.compile(pattern)  # JavaScript's \uXXXX and \xXX escapes read the same in Python
    codes = [chr(c) for c in (*range(0x3000), 0xFEFF)]
    shown = [c for c in codes if templating._INVISIBLE.match(c)]
    assert len(shown) > 40
    assert shown == [c for c in codes if in_script.match(c)]
    # json.dumps escapes C0 controls itself; the island escapes every other one of them
    assert all(explore._UNSAFE.match(c) for c in shown if c >= " ")


def test_the_stylesheets_never_break_inside_words() -> None:
    from reporter.report.templating import stylesheet

    css = stylesheet("pdf")
    assert "overflow-wrap" not in css
    assert "word-break" not in css


def test_chart_labels_contrast_with_what_they_are_drawn_on() -> None:
    fills = [*charts.TONES.values(), *(charts._shade(step / 7) for step in range(8))]
    assert all(charts.contrast(charts.ink(fill), fill) >= 4.5 - 1e-9 for fill in fills)
    stages = [
        charts.Stage("Attempted", "deployments", 1.0, "1,666", "sky"),
        charts.Stage("Removed", "x", 0.05, "3", "green"),
    ]
    svg = str(charts.funnel("f", "t", "d", stages).svg)
    assert 'fill="#1A1A1A" text-anchor="middle" font-weight="bold">1,666' in svg  # dark on the light bar
    assert re.search(r'<text x="[\d.]+" y="[\d.]+" font-size="11.5"[^>]*text-anchor="start"[^>]*>3<', svg)  # beside
