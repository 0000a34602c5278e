"""`exposure-reporter validate` end to end: exit codes, outputs, and hostile bundles."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from support.bundles import example, minimal_valid
from typer.testing import CliRunner

from reporter.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_valid_bundle_exits_0_with_summary(tmp_path: Path) -> None:
    minimal_valid(tmp_path).write()
    code, out, _ = _run("validate", str(tmp_path))
    assert code == 0
    assert out.strip().endswith("valid — 0 error(s), 0 warning(s) in 14 file(s), 17 record(s)")


def test_invalid_bundle_exits_3_and_json_names_file_line_field(tmp_path: Path) -> None:
    builder = minimal_valid(tmp_path)
    builder.sources = [s for s in builder.sources if s["kind"] != "assets"]
    builder.add(
        "assets",
        [
            example("assets"),
            example("assets", id="a-erp-01", name="e", criticality="urgent"),
            example("assets", id="a-batch-02", name="b"),
        ],
        "csv",
    )
    builder.write()
    code, out, _ = _run("validate", str(tmp_path), "--format", "json")
    assert code == 3
    report = json.loads(out)
    assert report["format_version"] == 1
    assert report["valid"] is False
    [issue] = [i for i in report["issues"] if i["severity"] == "error"]
    assert issue == {
        "code": "record.bad-enum",
        "severity": "error",
        "file": "assets.csv",
        "line": 3,
        "record": 2,
        "field": "criticality",
        "more": None,
        "message": "'urgent' is not one of: low, moderate, high",
    }


def test_warnings_do_not_fail(tmp_path: Path) -> None:
    builder = minimal_valid(tmp_path)
    builder.write()
    (tmp_path / "notes.txt").write_text("not evidence")
    code, out, _ = _run("validate", str(tmp_path))
    assert code == 0
    assert "source.unlisted" in out
    assert "1 warning(s)" in out


def test_quiet_prints_errors_and_summary_only(tmp_path: Path) -> None:
    minimal_valid(tmp_path).write()
    (tmp_path / "notes.txt").write_text("x")
    code, out, _ = _run("validate", str(tmp_path), "--quiet")
    assert code == 0
    assert out.count("\n") == 1
    assert "source.unlisted" not in out


def test_not_a_bundle_exits_2(tmp_path: Path) -> None:
    code, _, err = _run("validate", str(tmp_path))
    assert code == 2
    assert "has no bundle.yaml" in err
    assert "Traceback" not in err


def test_db_option_keeps_a_queryable_store(tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    minimal_valid(bundle).write()
    db = tmp_path / "evidence.duckdb"
    code, _, _ = _run("validate", str(bundle), "--db", str(db))
    assert code == 0
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM findings").fetchone() == (1,)
    assert con.execute("SELECT organisation FROM bundle").fetchone() == ("Test Org",)
    assert len(con.execute("SELECT sha256 FROM sources").fetchall()) == 14


# --- hostile bundles: exit 3, one clear message, no traceback, no write outside a temp dir --------


def _manifest(sources: list[dict[str, object]]) -> bytes:
    return yaml.safe_dump(
        {
            "bundle_version": 1,
            "organisation": "O",
            "scope": "S",
            "period": {"start": "2026-07-01", "end": "2026-09-30"},
            "prepared_by": {"name": "N"},
            "sources": sources,
        }
    ).encode()


def _source(path: str, data: bytes, kind: str = "assets") -> dict[str, object]:
    return {
        "path": path,
        "kind": kind,
        "collected_at": "2026-10-01T00:00:00Z",
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, target)
    return path


def _hostile_cases(tmp: Path) -> dict[str, tuple[Path, str]]:
    tmp.mkdir()
    csv = b"id,name,type\na1,n,server\n"
    cases: dict[str, tuple[Path, str]] = {}
    cases["zip-traversal"] = (
        _zip(tmp / "trav.zip", {"bundle.yaml": _manifest([]), "../escaped.csv": b"x"}),
        "'..'",
    )
    cases["zip-link"] = (
        _zip(
            tmp / "link.zip",
            {"bundle.yaml": _manifest([_source("passwd.csv", b"")])},
            {"passwd.csv": "/etc/passwd"},
        ),
        "symbolic link",
    )
    laughs = b"a: &a [x,x,x,x,x,x,x,x,x]\n" + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n".encode() for i in range(8)
    )
    cases["billion-laughs"] = (_dir(tmp / "laughs", {"bundle.yaml": laughs}), "billion laughs")
    line = b"[" + b"1," * (25 * 1024 * 1024) + b"1]"  # one 50 MB line
    cases["long-line"] = (
        _dir(tmp / "long", {"bundle.yaml": _manifest([_source("a.json", line)]), "a.json": line}),
        "longer than",
    )
    nul = b"id,name,type\na1,n\x00,server\n"
    cases["nul"] = (
        _dir(tmp / "nul", {"bundle.yaml": _manifest([_source("a.csv", nul)]), "a.csv": nul}),
        "NUL byte",
    )
    bad = _manifest([{**_source("a.csv", csv), "sha256": "0" * 64}])
    cases["hash"] = (_dir(tmp / "hash", {"bundle.yaml": bad, "a.csv": csv}), "sha256 is")
    return cases


def _dir(path: Path, files: dict[str, bytes]) -> Path:
    path.mkdir()
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


@pytest.mark.slow
def test_hostile_bundles_exit_3_cleanly(tmp_path: Path) -> None:
    cases = _hostile_cases(tmp_path / "in")
    bomb = tmp_path / "in" / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("bundle.yaml", _manifest([]))
        with archive.open("bomb.csv", "w", force_zip64=True) as member:
            for _ in range(64):
                member.write(b"\0" * (16 * 1024 * 1024))
    cases["zip-bomb"] = (bomb, "decompression bomb")
    work = tmp_path / "cwd"
    work.mkdir()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    snapshot = {p: p.read_bytes() for p in (tmp_path / "in").rglob("*") if p.is_file() and p.stat().st_size < 10**6}
    for name, (bundle, expected) in cases.items():
        proc = subprocess.run(  # noqa: PLW1510 - the return code is the assertion
            [sys.executable, "-m", "reporter", "validate", str(bundle)],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "TMPDIR": str(scratch)},
        )
        assert proc.returncode == 3, (name, proc.stdout, proc.stderr)
        assert expected in proc.stdout + proc.stderr, (name, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stdout + proc.stderr, name
    assert list(work.iterdir()) == []  # nothing written where the command ran
    assert not (tmp_path / "in" / "escaped.csv").exists()
    assert not (tmp_path / "escaped.csv").exists()
    assert list(scratch.iterdir()) == []  # extraction directories were removed
    assert all(p.read_bytes() == data for p, data in snapshot.items())  # evidence untouched
