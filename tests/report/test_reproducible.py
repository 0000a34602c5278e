"""Reproducible by default: the same bundle and options give byte-identical HTML, PDF, JSON, CSV and
OSCAL with no environment variable set — the document date is the assessment instant — and a signed
set differs only in its attestation, whose signing time is the one wall-clock time of a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_helpers import SAMPLES
from typer.testing import CliRunner

from reporter.attest import dsse
from reporter.attest.interface import ATTESTATION_FILE
from reporter.cli import app

MINIMAL = SAMPLES / "minimal"


def run(*args: str, **env: str) -> tuple[int, str, str]:
    # SOURCE_DATE_EPOCH is removed (None), whatever the environment running the tests sets
    result = CliRunner(env={"SOURCE_DATE_EPOCH": None, **env}).invoke(app, list(args))  # type: ignore[dict-item]
    return result.exit_code, result.stdout, result.stderr


def test_cheap_formats_are_identical_without_source_date_epoch(tmp_path: Path) -> None:
    for name in ("a", "b"):
        code, _, err = run("report", str(MINIMAL), "-o", str(tmp_path / name), "--format", "html,json,csv,oscal,poam")
        assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(names) == 8  # the csv format writes samples.csv too
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    page = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    assert '<meta name="dcterms.created" content="2026-10-01T00:00:00Z">' in page  # as of the evidence
    assert "Document date</th><td>2026-10-01 00:00:00 UTC" in page
    assert "the assessment instant; the same evidence gives the same document" in page


def test_generated_at_and_source_date_epoch_set_the_date(tmp_path: Path) -> None:
    code, _, err = run("report", str(MINIMAL), "-o", str(tmp_path / "e"), "--format", "html", SOURCE_DATE_EPOCH="0")
    assert code == 0, err
    assert (
        '1970-01-01 00:00:00 UTC <span class="note">(from SOURCE_DATE_EPOCH)'
        in (tmp_path / "e" / "report.html").read_text()
    )
    code, _, err = run(
        "report",
        str(MINIMAL),
        "-o",
        str(tmp_path / "g"),
        "--format",
        "html,oscal",
        "--generated-at",
        "2026-10-05",
        SOURCE_DATE_EPOCH="0",
    )
    assert code == 0, err
    assert (
        '2026-10-05 00:00:00 UTC <span class="note">(set with --generated-at)'
        in (tmp_path / "g" / "report.html").read_text()
    )
    oscal = json.loads((tmp_path / "g" / "assessment-results.json").read_bytes())
    assert oscal["assessment-results"]["metadata"]["last-modified"] == "2026-10-05T00:00:00Z"
    code, _, err = run("report", str(MINIMAL), "-o", str(tmp_path / "x"), "--generated-at", "tomorrow")
    assert code == 2
    assert "--generated-at 'tomorrow' is not a date" in err


@pytest.mark.slow
def test_signed_pdf_sets_differ_only_in_their_attestation(tmp_path: Path) -> None:
    code, _, err = run("keygen", str(tmp_path / "signer"))
    assert code == 0, err
    for name in ("a", "b"):
        code, _, err = run("report", str(MINIMAL), "-o", str(tmp_path / name), "--sign", str(tmp_path / "signer.key"))
        assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "report.pdf" in names
    assert ATTESTATION_FILE in names
    for name in names:
        if name != ATTESTATION_FILE:
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    statements = [
        json.loads(dsse.b64decode(json.loads((tmp_path / n / ATTESTATION_FILE).read_bytes())["payload"]))
        for n in ("a", "b")
    ]
    assert statements[0]["subject"] == statements[1]["subject"]
    assert "report.pdf" in {s["name"] for s in statements[0]["subject"]}
    assert statements[0]["predicate"]["document_date"] == "2026-10-01T00:00:00Z"
    reader = PdfReader(tmp_path / "a" / "report.pdf")
    assert reader.metadata is not None
    assert str(reader.metadata["/CreationDate"]).startswith("D:20261001000000")
    code, out, err = run("verify", str(tmp_path / "a"), "--key", str(tmp_path / "signer.pub"), "--bundle", str(MINIMAL))
    assert code == 0, err
    assert "re-performed: results.json identical" in out
    pdf = tmp_path / "b" / "report.pdf"
    data = bytearray(pdf.read_bytes())
    data[-100] ^= 0x20
    pdf.write_bytes(bytes(data))
    code, _, err = run("verify", str(tmp_path / "b"), "--key", str(tmp_path / "signer.pub"))
    assert code == 6
    assert "report.pdf: SHA-256 is" in err
