"""The sample quarter's PDF, read back with pypdf: PDF/A-3, attachments byte-equal to the files written
next to it, bookmarks, page numbers, every section's text; and byte-identical output on a second run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from report_helpers import SampleReport, render_sample

from reporter.report.view.build import build_view  # noqa: F401  (imported to fail fast if the view breaks)

pytestmark = pytest.mark.slow

SECTIONS = [
    "Executive summary",
    "Scope and evidence index",
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


def test_bookmarks_are_the_section_headings(reader: PdfReader) -> None:
    titles = [str(item.title) for item in reader.outline if not isinstance(item, list)]
    numbered = [re.sub(r"^\d+ ", "", t) for t in titles if re.match(r"^\d+ ", t)]
    for section in SECTIONS:
        assert section in numbered


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
    header = "Record Finding Severity State Evidence"
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


def test_two_runs_are_byte_identical(tmp_path: Path, sample_report: SampleReport) -> None:
    again = render_sample(tmp_path / "again", sample_report.baseline)
    first = sorted(p.name for p in sample_report.directory.iterdir())
    assert first == sorted(p.name for p in again.directory.iterdir())
    assert first == ["exceptions.csv", "findings.csv", "ledger.csv", "report.html", "report.pdf", "results.json"]
    for name in first:
        assert (sample_report.directory / name).read_bytes() == (again.directory / name).read_bytes(), name
