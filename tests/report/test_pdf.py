"""The sample quarter's PDF, read back with pypdf: PDF/A-3, attachments byte-equal to the files written
next to it, bookmarks, page numbers, every section's text, the tagged structure (language, headings,
table header cells with their scope, every chart's full text alternative); and byte-identical output on
a second run."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from report_helpers import SampleReport, render_sample

from reporter.models.results import DURATION_SUMMARIES
from reporter.report.formats.pdf import job
from reporter.report.interface import RenderContext, RenderLimits, ReportInputs
from reporter.report.templating import render_document
from reporter.report.view.build import build_view

pytestmark = pytest.mark.slow

SECTIONS = [
    "Executive summary",
    "Scope and evidence index",
    "Reconciliation of the figures",
    "Methodology",
    "Coverage",
    "Patching activity",
    "Verified remediation and the gap",
    "Timeliness",
    "Exploited and internet-facing exposure",
    "Change events",
    "Exceptions register",
    "Non-human identities",
    "AI agents",
    "Framework coverage",
    "Framework: OWASP Non-Human Identities (NHI) Top 10 - 2025",
    "Framework: NIST Cybersecurity Framework (CSF) 2.0",
    "Trends against the baseline",
    "Findings and remediation actions",
    "Audit samples",
    "Limitations",
    "Sign-off",
]


@pytest.fixture(scope="module")
def reader(sample_report: SampleReport) -> PdfReader:
    return PdfReader(sample_report.directory / "report.pdf")


@pytest.fixture(scope="module")
def text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def results(sample_report: SampleReport) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((sample_report.directory / "results.json").read_bytes())
    return data


def test_pdf_a3_identification(reader: PdfReader) -> None:
    xmp = reader.xmp_metadata
    assert xmp is not None
    data = xmp.stream.get_data()
    assert b'pdfaid:part="3"' in data
    assert b'pdfaid:conformance="B"' in data
    assert reader.pdf_header.startswith("%PDF-1.7")


def test_attachments_are_the_files_written_next_to_it(reader: PdfReader, sample_report: SampleReport) -> None:
    attachments = reader.attachments
    assert sorted(attachments) == ["findings.csv", "results.json"]
    assert attachments["results.json"] == [(sample_report.directory / "results.json").read_bytes()]
    assert attachments["findings.csv"] == [(sample_report.directory / "findings.csv").read_bytes()]


def test_associated_files_list_each_attachment_once(reader: PdfReader) -> None:
    """PDF/A-3 /AF: one entry per embedded file, each its file specification with relationship Data."""
    catalog = reader.trailer["/Root"]
    entries = list(catalog["/AF"])
    assert len({entry.idnum for entry in entries}) == len(entries)
    specs = [entry.get_object() for entry in entries]
    assert sorted(str(spec["/F"]) for spec in specs) == ["findings.csv", "results.json"]
    assert {spec["/AFRelationship"] for spec in specs} == {"/Data"}


def test_bookmarks_are_the_section_headings(reader: PdfReader) -> None:
    titles = [str(item.title) for item in reader.outline if not isinstance(item, list)]
    numbered = [re.sub(r"^\d+ ", "", t) for t in titles if re.match(r"^\d+ ", t)]
    for section in SECTIONS:
        assert section in numbered


def test_the_contents_give_the_page_of_every_section(reader: PdfReader) -> None:
    """One line per section, title then leader then page, and the page is where the section's bookmark
    points."""
    (contents,) = [page.extract_text() for page in reader.pages[:4] if page.extract_text().startswith("Contents")]
    listed = {m[1]: int(m[2]) for m in re.finditer(r"^(\S.*?) \.{3,}\s+(\d+)$", contents, re.MULTILINE)}
    bookmarks = {
        re.sub(r"^\d+ ", "", str(item.title)): reader.get_destination_page_number(item) + 1
        for item in reader.outline
        if not isinstance(item, list) and re.match(r"^\d+ ", str(item.title))
    }
    assert list(listed) == list(bookmarks)
    assert listed == bookmarks
    assert set(SECTIONS) <= set(listed)


def test_every_page_says_page_x_of_y_and_carries_the_running_header(reader: PdfReader, results: dict[str, Any]) -> None:
    total = len(reader.pages)
    assert total > 10
    for number, page in enumerate(reader.pages, start=1):
        assert f"Page {number} of {total}" in page.extract_text()
    org = results["bundle"]["organisation"]
    second = reader.pages[1].extract_text()
    assert f"{org} · 2026-07-01 – 2026-09-30 · Confidential" in second
    assert "CONFIDENTIAL" in second


def test_long_tables_repeat_their_header_on_every_page(reader: PdfReader) -> None:
    header = "Record Finding Risk State Evidence"
    pages = [n for n, page in enumerate(reader.pages) if header in " ".join(page.extract_text().split())]
    runs = [n for n in pages if n - 1 in pages and n - 2 in pages]
    assert runs, "a gap table that spans three pages carries its column names on each"


def test_text_of_every_section_with_traceable_figures(text: str, results: dict[str, Any]) -> None:
    flat = " ".join(text.split())
    for section in SECTIONS:
        assert section in flat, section
    assert results["bundle"]["organisation"] in flat
    headline = results["headline"]
    assert headline["activity"]["display"] in flat  # E1, activity
    assert headline["verified_removed"]["display"] in flat  # E2, outcome
    for source in results["bundle"]["sources"][:2]:  # E1/E2 of the evidence index: ref, tool, records, hash
        row = flat[flat.index(f"{source['ref']} {source['path'][:8]}") :][:400]
        assert source["tool"] in row
        assert f"{source['records']:,}" in row
        assert source["sha256"][:16] in row
    assert "Signature" in flat
    assert "Management attestation" in flat


def test_the_methodology_says_how_a_median_and_a_p90_are_computed(text: str) -> None:
    flat = " ".join(text.replace("\u200b", "").split())
    assert " ".join(DURATION_SUMMARIES.split()) in flat


def test_digests_break_between_groups_and_read_back_whole(
    reader: PdfReader, text: str, results: dict[str, Any]
) -> None:
    """Digests break only between their 8-character groups, at a zero-width space in the PDF's text
    (D96), which is not extracted, nor in a bookmark: every source's SHA-256 reads back whole once
    line breaks go."""
    assert "\u200b" not in text
    titles, stack = [], list(reader.outline)
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack += item
        else:
            titles.append(str(item.title))
    assert len(titles) > 40
    assert not [title for title in titles if "\u200b" in title]
    joined = "".join(text.split())
    for source in results["bundle"]["sources"]:
        assert source["sha256"] in joined, source["ref"]


def test_the_pdf_marks_breaks_in_the_text_and_the_html_with_wbr(q3_inputs: ReportInputs) -> None:
    view = build_view(q3_inputs)
    pdf, page = (render_document(view, target).split("<body", 1)[1] for target in ("pdf", "html"))
    assert "<wbr>" not in pdf
    assert "<wbr>" in page
    assert pdf.count("\u200b") == page.count("<wbr>") > 100
    assert "\u200b" not in page


def test_two_runs_are_byte_identical(tmp_path: Path, sample_report: SampleReport) -> None:
    again = render_sample(tmp_path / "again", sample_report.baseline)
    first = sorted(p.name for p in sample_report.directory.iterdir())
    assert first == sorted(p.name for p in again.directory.iterdir())
    assert first == [
        "assessment-results.json",
        "exceptions.csv",
        "findings.csv",
        "ledger.csv",
        "plan-of-action-and-milestones.json",
        "report.html",
        "report.pdf",
        "results.json",
        "samples.csv",
    ]
    for name in first:
        assert (sample_report.directory / name).read_bytes() == (again.directory / name).read_bytes(), name


def structure(reader: PdfReader) -> Iterator[DictionaryObject]:
    """Every structure element of the tagged PDF, depth first."""
    root = reader.trailer["/Root"]["/StructTreeRoot"].get_object()
    stack = [root["/K"]]
    while stack:
        node = stack.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, DictionaryObject) and "/S" in node:
            yield node
            if "/K" in node:
                stack.append(node["/K"])


@pytest.fixture(scope="module")
def elements(reader: PdfReader) -> list[DictionaryObject]:
    return list(structure(reader))


def test_the_pdf_is_tagged_with_its_language(reader: PdfReader, elements: list[DictionaryObject]) -> None:
    catalog = reader.trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert catalog["/Lang"] == "en"
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    counts = Counter(str(e["/S"]) for e in elements)
    assert counts["/Document"] == 1
    assert counts["/H1"] == 1  # the report title
    assert counts["/H2"] >= len(SECTIONS) + 1  # every section and the contents
    assert counts["/Table"] > 20
    assert counts["/Caption"] > 20


def test_table_header_cells_carry_their_scope(elements: list[DictionaryObject]) -> None:
    headers = [e for e in elements if e["/S"] == "/TH"]
    scopes = Counter(str(e["/A"]["/Scope"]) for e in headers)
    assert set(scopes) == {"/Column", "/Row"}
    assert sum(scopes.values()) == len(headers)
    cells = [e for e in elements if e["/S"] == "/TD"]
    with_headers = [c for c in cells if c["/A"].get("/Headers")]
    assert len(with_headers) > 0.9 * len(cells)  # data cells point at their header cells


def test_every_chart_has_its_full_text_alternative(
    elements: list[DictionaryObject], sample_report: SampleReport
) -> None:
    page = (sample_report.directory / "report.html").read_text(encoding="utf-8")
    titles = [html.unescape(t) for t in re.findall(r"<title id=\"[^\"]+\">([^<]*)</title>", page)]
    descs = [html.unescape(d) for d in re.findall(r"<desc id=\"[^\"]+\">([^<]*)</desc>", page)]
    figures = [e for e in elements if e["/S"] == "/Figure"]
    assert len(figures) == len(titles) == len(descs) > 5
    for figure, title, desc in zip(figures, titles, descs, strict=True):
        assert str(figure["/Alt"]) == f"{title}. {desc}"


def test_a_findings_csv_over_the_attachment_cap_is_written_next_to_the_pdf_and_said_so(
    q3_inputs: ReportInputs,
) -> None:
    """Millions of gaps make findings.csv too large to attach within the renderer's memory: above
    `attach_max_bytes` only results.json is attached, and the cover and the limits say where it is."""
    size = len(q3_inputs.exports["findings.csv"])
    attached = replace(q3_inputs, limits=RenderLimits(attach_max_bytes=size))
    assert [a.name for a in job(RenderContext(attached, build_view(attached))).attachments] == [
        "results.json",
        "findings.csv",
    ]
    capped = replace(q3_inputs, limits=RenderLimits(attach_max_bytes=size - 1))
    view = build_view(capped)
    assert [a.name for a in job(RenderContext(capped, view)).attachments] == ["results.json"]
    page = render_document(view, "pdf")
    assert "results.json, attached to this PDF; findings.csv, written next to it" in page
    assert "MiB cap for PDF attachments" in page
