"""The PDF renderer's containment: deny-by-default fetcher, subprocess with time and memory limits."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pydyf
import pytest
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from reporter.errors import RenderError
from reporter.report import pdf_worker
from reporter.report.fetcher import AssetFetcher, static_assets
from reporter.report.interface import RenderLimits
from reporter.report.sandbox import PdfAttachment, PdfJob, decode, encode, render_pdf
from reporter.resources import templates_dir

CREATED = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)
PAGE = "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>t</title></head><body>{}</body></html>"


def _job(body: str = "<p>hello</p>", logo: bytes | None = None) -> PdfJob:
    return PdfJob(PAGE.format(body), (PdfAttachment("results.json", "r", b'{"a": 1}\n'),), CREATED, logo)


def test_payload_round_trip() -> None:
    job = PdfJob(
        "<p>é</p>", (PdfAttachment("a.json", "A", b"\x00\x01"), PdfAttachment("b.csv", "B", b"x")), CREATED, b"\x89PNG"
    )
    assert decode(encode(job)) == job
    with pytest.raises(ValueError, match="length"):
        decode(encode(job) + b"extra")


def test_static_assets_are_the_shipped_files_only(tmp_path: Path) -> None:
    assets = static_assets(templates_dir() / "static")
    assert "asset:fonts/DejaVuSans.ttf" in assets
    assert all(url.startswith("asset:") for url in assets)
    (tmp_path / "ok.css").write_text("p{}")
    (tmp_path / "link.txt").symlink_to("/etc/hostname")
    assert set(static_assets(tmp_path)) == {"asset:ok.css"}


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/hostname",
        "http://127.0.0.1:1/x",
        "https://example.com/",
        "data:text/plain,hi",
        "asset:../pyproject.toml",
        "asset:fonts/../../pyproject.toml",
        "ftp://example.com/x",
    ],
)
def test_fetcher_refuses_everything_else(url: str) -> None:
    fetcher = AssetFetcher(static_assets(templates_dir() / "static"))
    with pytest.raises(FatalURLFetchingError):
        fetcher.fetch(url)
    assert fetcher.served == []


def test_fetcher_serves_assets() -> None:
    fetcher = AssetFetcher({"asset:logo.png": (b"\x89PNG", "image/png")})
    response = fetcher.fetch("asset:logo.png")
    assert response.url == "asset:logo.png"
    assert fetcher.served == ["asset:logo.png"]


@pytest.mark.slow
def test_renders_pdf_a3_with_the_attachment() -> None:
    pdf = render_pdf(_job(), RenderLimits())
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {"results.json": [b'{"a": 1}\n']}
    assert b'pdfaid:part="3"' in reader.xmp_metadata.stream.get_data()  # type: ignore[union-attr]


@pytest.mark.slow
def test_a_local_file_reference_stops_the_rendering() -> None:
    with pytest.raises(RenderError, match="outside the report's assets"):
        render_pdf(_job('<img src="file:///etc/hostname">'), RenderLimits())


@pytest.mark.slow
def test_wall_clock_limit_stops_the_renderer() -> None:
    with pytest.raises(RenderError, match=r"did not finish within 0\.2 s of wall-clock time"):
        render_pdf(_job("<p>x</p>" * 2000), RenderLimits(wall_s=0.2))


@pytest.mark.slow
def test_memory_limit_stops_the_renderer() -> None:
    with pytest.raises(RenderError, match="PDF rendering"):
        render_pdf(_job(), RenderLimits(memory_mib=80))


def test_the_renderers_temporary_files_go_to_a_directory_removed_afterwards(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """WeasyPrint leaves its font folders behind when the worker is killed (time or memory limit,
    a signal): the worker's TMPDIR is a directory of ours, removed however the worker ended."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(RenderError, match="wall-clock"):
        render_pdf(_job("<p>x</p>" * 2000), RenderLimits(wall_s=0.5))  # killed at its wall-clock limit
    with pytest.raises(RenderError):
        render_pdf(_job(), RenderLimits(memory_mib=80))  # stopped at its memory limit
    assert render_pdf(_job(), RenderLimits()).startswith(b"%PDF-")
    assert list(tmp_path.iterdir()) == []


def test_a_started_renderer_can_be_stopped_and_leaves_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """render_report starts the PDF first and renders the other formats meanwhile; when one of them
    fails (or a signal stops the run), the renderer is ended and its directory removed."""
    import tempfile

    from reporter.report.sandbox import start_pdf

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    run = start_pdf(_job("<p>x</p>" * 2000), RenderLimits())
    [scratch] = list(tmp_path.iterdir())
    assert scratch.name.startswith("exposure-reporter-pdf-")
    run.stop()
    run.stop()  # idempotent
    assert not scratch.exists()


def test_the_renderer_exits_before_its_pdf_is_asked_for() -> None:
    """D114: the PDF is read as the worker writes it, so the worker exits (and frees its memory) as soon
    as it has rendered, even when the PDF is larger than a pipe holds; before, it waited on the full
    pipe until the caller asked for the result, and `report` could not take the store's room back."""
    import hashlib
    import time

    from reporter.report.sandbox import start_pdf

    # 256 KiB that deflate cannot shrink: the PDF is well over a pipe's 64 KiB
    blob = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(8192))
    job = PdfJob(PAGE.format("<p>x</p>"), (PdfAttachment("blob.bin", "b", blob),), CREATED)
    run = start_pdf(job, RenderLimits())
    deadline = time.monotonic() + 120
    while not run.done() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.done()
    pdf = run.result()
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 4 * 65536
    assert PdfReader(io.BytesIO(pdf)).attachments == {"blob.bin": [blob]}


def test_cached_page_references_leave_the_pdf_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker keeps pydyf's tuple of page references instead of rebuilding it for every tagged
    element (pdf_worker.cache_page_references): a multi-page tagged PDF comes out byte for byte the
    same as with pydyf's own property."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(CREATED.timestamp())))
    rows = "".join(f"<tr><th>row {n}</th><td>{n}</td></tr>" for n in range(150))
    job = _job(f"<h1>t</h1><table><thead><tr><th>a</th><th>b</th></tr></thead><tbody>{rows}</tbody></table>")
    installed = pydyf.PDF.__dict__["page_references"]
    with monkeypatch.context() as m:
        m.setattr(pydyf.PDF, "page_references", getattr(installed.fget, "original", installed))
        m.setattr(pdf_worker, "cache_page_references", lambda: None)
        plain = pdf_worker.render(job)
    cached = pdf_worker.render(job)
    assert getattr(pydyf.PDF.__dict__["page_references"].fget, "cached", False)
    assert len(PdfReader(io.BytesIO(cached)).pages) >= 3
    assert cached == plain


def test_objects_serialized_once_leave_the_pdf_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker keeps each object's bytes during pydyf's write instead of serializing (and
    deflating) it again for the /ID (pdf_worker.serialize_objects_once): a multi-page tagged PDF/A
    with an attachment comes out byte for byte the same as with pydyf's own write, and each page
    content stream is deflated once instead of twice."""
    import zlib

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(CREATED.timestamp())))
    rows = "".join(f"<tr><th>row {n}</th><td>{n}</td></tr>" for n in range(150))
    job = _job(f"<h1>t</h1><table><thead><tr><th>a</th><th>b</th></tr></thead><tbody>{rows}</tbody></table>")
    installed = pydyf.PDF.write
    deflated: list[int] = []
    real = zlib.compressobj

    def counting(*args: object, **kwargs: object) -> object:
        deflated.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as m:
        m.setattr(pydyf.PDF, "write", getattr(installed, "original", installed))
        m.setattr(pdf_worker, "serialize_objects_once", lambda: None)
        m.setattr(zlib, "compressobj", counting)
        plain = pdf_worker.render(job)
    plain_deflates, deflated[:] = len(deflated), []
    with monkeypatch.context() as m:
        m.setattr(zlib, "compressobj", counting)
        once = pdf_worker.render(job)
    assert getattr(pydyf.PDF.write, "once", False)
    assert len(PdfReader(io.BytesIO(once)).pages) >= 3
    assert once == plain
    assert 0 < len(deflated) < plain_deflates


def test_cached_page_references_follow_added_pages() -> None:
    pdf_worker.cache_page_references()
    pdf = pydyf.PDF()
    pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))
    first = pdf.page_references
    assert pdf.page_references is first  # kept, not rebuilt on every access
    pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))
    assert len(pdf.page_references) == 2
    assert pdf.page_references[0] == first[0]


def test_the_worker_starts_without_the_report_models() -> None:
    """The renderer process is started when the PDF is wanted, so its start is part of every report
    run's wait: it imports WeasyPrint and its own few modules, not the models, the control library or
    the templates (0.4 s of imports it never used)."""
    code = (
        "import sys, reporter.report.pdf_worker; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'jinja2', 'duckdb', 'yaml') "
        "or m.startswith(('reporter.models', 'reporter.catalog', 'reporter.report.view'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
