"""Hostile evidence: markup, local-file and network references, CSS url() and spreadsheet formulas in
names and descriptions are shown as text, fetch nothing, attach nothing, and are neutralised in CSV."""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from pypdf import PdfReader
from report_helpers import external_references, run_cli, tags
from support.bundles import example, minimal_valid

FORMULA = '=HYPERLINK("http://127.0.0.1/","x")'


def hostile(port: int) -> str:
    return (
        "<script>alert(1)</script><img src=file:///etc/hostname><link rel=attachment href=file:///etc/passwd>"
        f'<span style="background:url(http://127.0.0.1:{port}/css)">x</span><img src="http://127.0.0.1:{port}/img">'
        f"<style>@import url(http://127.0.0.1:{port}/import);</style><svg><image href='http://127.0.0.1:{port}/svg'/>"
        "invoice\u202egpj.exe\x1b[31m"  # a right-to-left override and an escape sequence
    )


def build_hostile_bundle(root: Path, port: int) -> Path:
    """A valid bundle whose free-text fields (names, titles, tools, locations, organisation) are hostile."""
    text = hostile(port)
    builder = minimal_valid(root)
    replaced = ("exceptions", "identities", "assets", "agents", "secret_exposures")
    builder.sources = [s for s in builder.sources if s["kind"] not in replaced]
    builder.add(
        "assets",
        [
            example("assets", name=text),
            example("assets", id="a-erp-01", name=FORMULA, internet_facing=False, aliases=[]),
            example("assets", id="a-batch-02", name="batch-02", internet_facing=False, aliases=[]),
        ],
        tool=text,
    )
    builder.add(
        "exceptions",
        [
            example(
                "exceptions",
                title=text,
                owner=FORMULA,
                justification=text,
                vuln_ids=["CVE-2024-6387"],
                asset_ids=["a-web-01"],
            )
        ],
        tool=FORMULA,
    )
    builder.add(
        "identities",
        [
            example("identities", name=text, purpose=FORMULA, owner=None),
            example("identities", id="nhi-0042", name=FORMULA, type="agent_credential", used_by=["agent-support-01"]),
        ],
    )
    builder.add(
        "secret_exposures",
        [example("secret_exposures", location=text, detector=FORMULA, revoked_at=None, verified_invalid_at=None)],
    )
    builder.add("agents", [example("agents", name=text, owner=None)], "yaml")
    builder.extra_manifest = {"organisation": text, "scope": FORMULA, "prepared_by": {"name": text, "role": "x"}}
    return builder.write()


class _Counter(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"body{}")

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def loopback() -> Iterator[tuple[int, list[str]]]:
    """A loopback HTTP server that records every request it receives."""
    hits: list[str] = []
    handler = type("Handler", (_Counter,), {"hits": hits})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()


def test_hostile_text_is_shown_as_text_in_html(tmp_path: Path) -> None:
    bundle = build_hostile_bundle(tmp_path / "bundle", 9)
    code, _, err = run_cli("report", str(bundle), "--output-dir", str(tmp_path / "out"), "--format", "html,csv,json")
    assert code == 0, err
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
    assert "&lt;img src=file:///etc/hostname&gt;" in html
    # the only scripts: the explorer's data island and its hash-allowed script (tests/report/test_explore.py)
    scripts = re.findall(r"<script[^>]*>", html.lower())
    assert scripts == ['<script type="application/json" id="explore-data">', "<script>"]
    assert "<link" not in html.lower()
    assert external_references(html) == []
    names = [tag for tag, _ in tags(html)]
    assert "img" not in names  # no logo given, and no evidence string became an element
    assert "image" not in names
    assert names.count("style") == 1  # ours only
    assert not [attrs for _, attrs in tags(html) if "style" in attrs]
    # the formula is text in the HTML (no spreadsheet evaluates it there); <wbr> marks safe line breaks
    assert "=HYPERLINK" in html.replace("<wbr>", "")
    # bidi overrides and control characters are shown as code points, never applied
    assert "invoice⟨U+202E⟩gpj.exe⟨U+001B⟩[31m" in html
    assert "\u202e" not in html
    assert "\x1b" not in html


def _cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8"))) for cell in row]


def test_formulas_are_neutralised_in_every_csv(tmp_path: Path) -> None:
    bundle = build_hostile_bundle(tmp_path / "bundle", 9)
    code, _, err = run_cli("report", str(bundle), "--output-dir", str(tmp_path / "out"), "--format", "csv")
    assert code == 0, err
    exceptions = (tmp_path / "out" / "exceptions.csv").read_bytes()
    assert "'" + FORMULA in _cells(exceptions)  # owner, neutralised with a leading apostrophe
    for name in ("findings.csv", "ledger.csv", "exceptions.csv", "samples.csv"):
        data = (tmp_path / "out" / name).read_bytes()
        assert not [c for c in _cells(data) if c[:1] in ("=", "+", "-", "@", "\t", "\r")], name
        first = data.splitlines()[1] if len(data.splitlines()) > 1 else b'"'
        assert first.startswith(b'"'), f"{name}: every cell quoted"


@pytest.mark.slow
def test_pdf_fetches_nothing_and_attaches_only_its_two_files(tmp_path: Path, loopback: tuple[int, list[str]]) -> None:
    port, hits = loopback
    bundle = build_hostile_bundle(tmp_path / "bundle", port)
    code, _, err = run_cli("report", str(bundle), "--output-dir", str(tmp_path / "out"), "--format", "pdf,json,csv")
    assert code == 0, err
    assert hits == []
    reader = PdfReader(tmp_path / "out" / "report.pdf")
    assert sorted(reader.attachments) == ["findings.csv", "results.json"]
    assert reader.attachments["results.json"] == [(tmp_path / "out" / "results.json").read_bytes()]
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "<script>alert(1)</script>" in " ".join(text.split()) or "alert(1)" in text  # printed as text
