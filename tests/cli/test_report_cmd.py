"""`exposure-reporter report` end to end: outputs, options and exit codes (0, 1, 2, 3, 4)."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest
import yaml
from support.bundles import minimal_valid
from typer.testing import CliRunner

from reporter.cli import app

EPOCH = "1790000000"


def _run(*args: str, epoch: str = EPOCH) -> tuple[int, str, str]:
    result = CliRunner(env={"SOURCE_DATE_EPOCH": epoch}).invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b"")


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return minimal_valid(tmp_path / "bundle").write()


def test_writes_the_requested_formats_and_a_summary(tmp_path: Path, bundle: Path) -> None:
    out = tmp_path / "out"
    code, stdout, err = _run(
        "report",
        str(bundle),
        "--output-dir",
        str(out),
        "--format",
        "html,json,csv",
        "--title",
        "Q3 assurance",
        "--classification",
        "Internal",
        "--as-of",
        "2026-09-15",
    )
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "exceptions.csv",
        "findings.csv",
        "ledger.csv",
        "report.html",
        "results.json",
        "samples.csv",
    ]
    assert "deployments" in stdout
    assert "wrote report.html, results.json, findings.csv, ledger.csv, exceptions.csv" in stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h1>Q3 assurance</h1>" in html
    assert ">Internal</span>" in html
    assert "2026-09-21 14:13:20 UTC" in html  # the generation time is SOURCE_DATE_EPOCH
    assert json.loads((out / "results.json").read_bytes())["as_of"] == "2026-09-16T00:00:00Z"


def test_logo_is_embedded(tmp_path: Path, bundle: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(_png())
    out = tmp_path / "out"
    code, _, err = _run("report", str(bundle), "-o", str(out), "--format", "html", "--logo", str(logo))
    assert code == 0, err
    assert 'src="data:image/png;base64,' in (out / "report.html").read_text(encoding="utf-8")


def test_gaps_at_fail_on_exit_1_after_writing(tmp_path: Path, bundle: Path) -> None:
    out = tmp_path / "out"
    code, _, err = _run("report", str(bundle), "-o", str(out), "--format", "json", "--fail-on", "low")
    assert code == 1
    assert "unexcepted gap(s) at or above 'low'" in err
    assert (out / "results.json").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "html,docx"], "unknown format 'docx'"),
        (["--baseline", "{tmp}/v2.json"], "format_version 2"),
        (["--baseline", "{tmp}/absent.json"], "cannot read it"),
        (["--logo", "{tmp}/logo.svg"], "only PNG logos are accepted"),
        (["--as-of", "yesterday"], "--as-of"),
        (["--title", ""], "--title must be"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(tmp_path: Path, bundle: Path, extra: list[str], message: str) -> None:
    (tmp_path / "v2.json").write_text(json.dumps({"format_version": 2}))
    (tmp_path / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    out = tmp_path / "out"
    code, _, err = _run("report", str(bundle), "-o", str(out), *[e.format(tmp=tmp_path) for e in extra])
    assert code == 2, err
    assert message in err
    assert not out.exists() or list(out.iterdir()) == []


def test_bad_source_date_epoch_exits_2(tmp_path: Path, bundle: Path) -> None:
    code, _, err = _run("report", str(bundle), "-o", str(tmp_path / "out"), "--format", "json", epoch="soon")
    assert code == 2
    assert "SOURCE_DATE_EPOCH" in err


def test_invalid_bundle_exits_3_with_the_validation_errors(tmp_path: Path, bundle: Path) -> None:
    manifest = yaml.safe_load((bundle / "bundle.yaml").read_text())
    manifest["sources"][0]["sha256"] = "0" * 64
    (bundle / "bundle.yaml").write_text(yaml.safe_dump(manifest))
    out = tmp_path / "out"
    code, _, err = _run("report", str(bundle), "-o", str(out), "--format", "json")
    assert code == 3
    assert "sha256" in err.lower()
    assert list(out.iterdir()) == []


def test_unwritable_output_exits_4(tmp_path: Path, bundle: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, _, err = _run("report", str(bundle), "-o", str(blocker / "out"), "--format", "json")
    assert code == 4
    assert "cannot write" in err


def test_no_staging_leftovers_and_a_rerun_replaces_the_set(tmp_path: Path, bundle: Path) -> None:
    out = tmp_path / "out"
    for _ in range(2):
        code, _, err = _run("report", str(bundle), "-o", str(out), "--format", "json,csv")
        assert code == 0, err
    written = ["exceptions.csv", "findings.csv", "ledger.csv", "results.json", "samples.csv"]
    assert sorted(p.name for p in out.iterdir()) == written
