"""Outputs and the process around them (issue 11): outputs are written to the path named, never
replacing a device, FIFO, link or evidence file; the evidence store is only ever a complete store;
a report set changes in one step under a lock; a closed pipe is not an error; a signal stops a run
without leaving temporary files."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from hostile.corpus import encode, more_assets, source, write_bundle
from hostile.runner import Result, run_cli, tree_hashes
from reporter import output
from reporter.cli import app
from reporter.cli.common import echo
from reporter.errors import OutputError

runner = CliRunner()


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "bundle")


# --- file outputs --------------------------------------------------------------------------------


def _char_device(tmp_path: Path) -> Path:
    """A private /dev/null (mknod needs root; without it, the real one)."""
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        return Path("/dev/null")
    return node


def test_assess_writes_a_character_device_without_replacing_it(tmp_path: Path, bundle: Path) -> None:
    device = _char_device(tmp_path)
    code, out = _cli("assess", str(bundle), "-o", str(device))
    assert code == 0, out
    assert stat.S_ISCHR(device.stat().st_mode)


def test_assess_to_dev_stdout_prints_the_results_alone(tmp_path: Path, bundle: Path) -> None:
    result = run_cli(["assess", str(bundle), "-o", "/dev/stdout"], tmpdir=tmp_path)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["format_version"] == 1


def test_assess_writes_through_a_symbolic_link(tmp_path: Path, bundle: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    code, out = _cli("assess", str(bundle), "-o", str(link))
    assert code == 0, out
    assert link.is_symlink()
    assert json.loads(target.read_bytes())["format_version"] == 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_assess_writes_into_a_fifo(tmp_path: Path, bundle: Path) -> None:
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    code, out = _cli("assess", str(bundle), "-o", str(fifo))
    reader.join(timeout=60)
    assert code == 0, out
    assert json.loads(received[0])["format_version"] == 1
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_dangling_link_or_a_socket_is_refused(tmp_path: Path, bundle: Path) -> None:
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere" / "x.json")
    code, out = _cli("assess", str(bundle), "-o", str(dangling))
    assert (code, "symbolic link to a missing file" in out) == (4, True)
    assert dangling.is_symlink()


@pytest.mark.parametrize("option", ["-o", "--db"])
def test_no_output_may_land_inside_the_bundle(bundle: Path, option: str) -> None:
    before = tree_hashes(bundle)
    code, out = _cli("assess", str(bundle), option, str(bundle / "inventory" / "assets.csv"))
    assert code == 4, out
    assert "refusing to write inside the bundle" in out
    assert tree_hashes(bundle) == before


def test_report_directory_inside_the_bundle_is_refused(bundle: Path) -> None:
    before = tree_hashes(bundle)
    code, out = _cli("report", str(bundle), "-o", str(bundle / "report"), "--format", "json")
    assert code == 4, out
    assert tree_hashes(bundle) == before


def test_report_to_a_read_only_place_is_exit_4(tmp_path: Path, bundle: Path) -> None:
    code, out = _cli("report", str(bundle), "-o", "/proc/exposure-reporter-test", "--format", "json")
    assert code == 4, out
    assert "cannot write" in out


# --- the evidence store --------------------------------------------------------------------------


def test_db_never_replaces_a_file_that_is_not_an_evidence_store(tmp_path: Path, bundle: Path) -> None:
    other = tmp_path / "notes.csv"
    other.write_text("id\n1\n")
    code, out = _cli("validate", str(bundle), "--db", str(other))
    assert code == 4, out
    assert "is not an evidence store" in out
    assert other.read_text() == "id\n1\n"


def test_db_replaces_an_earlier_store(tmp_path: Path, bundle: Path) -> None:
    store = tmp_path / "evidence.duckdb"
    for _ in range(2):
        code, out = _cli("validate", str(bundle), "--db", str(store))
        assert code == 0, out
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("SELECT count(*) FROM assets").fetchone() == (2,)
    con.close()


def test_db_on_a_full_disk_is_exit_4_and_keeps_the_earlier_store(tmp_path: Path, bundle: Path) -> None:
    store = tmp_path / "evidence.duckdb"
    code, out = _cli("validate", str(bundle), "--db", str(store))
    assert code == 0, out
    before = store.read_bytes()
    # A file-size limit makes every write past 64 KiB fail, as a full disk does.
    (tmp_path / "tmp").mkdir()
    result = run_cli(["validate", str(bundle), "--db", str(store)], tmpdir=tmp_path / "tmp", fsize_mib=1 / 16)
    assert result.code == 4, result.output
    assert "not written completely" in result.stderr
    assert store.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".evidence")) == []


def test_a_full_temporary_directory_under_the_store_is_exit_4(tmp_path: Path, bundle: Path) -> None:
    # Without --db the store is a database file in the run's private directory under TMPDIR.
    (tmp_path / "tmp").mkdir()
    result = run_cli(["validate", str(bundle)], tmpdir=tmp_path / "tmp", fsize_mib=1 / 16)
    assert result.code == 4, result.output
    assert "the evidence store was not written completely" in result.stderr
    assert "TMPDIR" in result.stderr
    assert "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list((tmp_path / "tmp").iterdir()) == []


# --- report sets ---------------------------------------------------------------------------------


def test_a_report_set_is_exchanged_whole_and_stale_files_go(tmp_path: Path) -> None:
    out = tmp_path / "out"
    output.write_set(out, {"report.html": b"old", "results.json": b"old"}, frozenset({"report.pdf"}))
    written = output.write_set(out, {"results.json": b"new"}, frozenset({"report.html", "report.pdf"}))
    assert [p.name for p in written] == ["results.json"]
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]
    assert (out / "results.json").read_bytes() == b"new"
    assert sorted(tmp_path.iterdir()) == [out]  # no staging directory left beside it


def test_a_failed_switch_puts_the_previous_set_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file: the set is switched file by file here")
    previous = {"report.html": b"old html", "results.json": b"old json", "findings.csv": b"old csv"}
    output.write_set(out, previous, frozenset())
    real_rename = os.rename
    calls = []

    def failing(src: Any, dst: Any) -> None:
        calls.append(dst)
        if len(calls) == 4:  # in the middle of the switch
            raise OSError(28, "No space left on device")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", failing)
    with pytest.raises(OutputError, match="No space left on device"):
        output.write_set(out, dict.fromkeys(previous, b"new"), frozenset())
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.suffix != ".txt"} == previous
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_a_signal_during_the_switch_waits_for_it_to_finish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    output.write_set(out, {"results.json": b"old", "report.html": b"old"})
    events: list[str] = []

    def handler(number: int, frame: object) -> None:
        del frame
        if not output.defer_if_switching(lambda: events.append("stopped")):
            events.append("stopped")

    real_exchange = output._exchange

    def exchange(stage: Path, directory: Path) -> bool:
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(0.05)  # the handler runs here, inside the switch
        events.append("switching")
        return real_exchange(stage, directory)

    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        monkeypatch.setattr(output, "_exchange", exchange)
        output.write_set(out, {"results.json": b"new", "report.html": b"new"})
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert events == ["switching", "stopped"]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {"results.json": b"new", "report.html": b"new"}


def test_a_set_switched_in_by_another_run_during_the_probe_is_no_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The early check makes and removes a probe in the directory; another run exchanging its own
    set in between takes the probe away with the directory it replaces (a CI failure, 2026-12-07)."""
    out = tmp_path / "out"
    output.write_set(out, {"results.json": b"old"})
    real_mkdtemp = output.tempfile.mkdtemp

    def switched_meanwhile(*args: Any, **kwargs: Any) -> str:
        probe = real_mkdtemp(*args, **kwargs)
        other = tmp_path / "other"
        other.mkdir()
        (other / "results.json").write_bytes(b"other run")
        assert output._exchange(other, out)  # the other run's switch, between the probe's two steps
        return probe

    monkeypatch.setattr(output.tempfile, "mkdtemp", switched_meanwhile)
    assert output.prepare_directory(out) == out.resolve()
    monkeypatch.undo()
    output.write_set(out, {"results.json": b"new"})
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {"results.json": b"new"}


def _report(bundle: Path, out: Path, tmp: Path) -> Result:
    tmp.mkdir()
    return run_cli(["report", str(bundle), "-o", str(out), "--format", "html,json,csv"], tmpdir=tmp, timeout=300)


@pytest.mark.slow
def test_concurrent_reports_into_one_directory_never_mix(tmp_path: Path) -> None:
    bundles = [write_bundle(tmp_path / n, organisation=f"Org {n}", scope=f"Scope {n}") for n in ("A", "B")]
    out = tmp_path / "out"
    with ThreadPoolExecutor(max_workers=2) as pool:
        for round_ in range(2):
            runs = [pool.submit(_report, b, out, tmp_path / f"tmp{i}{round_}") for i, b in enumerate(bundles)]
            results = [run.result() for run in runs]
            assert [r.code for r in results] == [0, 0], [r.stderr for r in results]
            organisation = json.loads((out / "results.json").read_bytes())["bundle"]["organisation"]
            html = (out / "report.html").read_text(encoding="utf-8")
            assert organisation in html
            assert ({"Org A", "Org B"} - {organisation}).pop() not in html
            assert sorted(p.name for p in out.iterdir()) == sorted(
                ["report.html", "results.json", "findings.csv", "ledger.csv", "exceptions.csv", "samples.csv"]
            )


# --- pipes and signals ---------------------------------------------------------------------------


def test_echo_into_a_closed_pipe_is_quiet() -> None:
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    import sys

    saved = sys.stdout
    sys.stdout = Closed()
    try:
        echo("lost")  # no exception: the reader chose to stop reading
        echo("also lost")
    finally:
        sys.stdout = saved


@pytest.mark.parametrize(
    ("args", "code"),
    [(["mappings", "list"], 0), (["schema", "assets"], 0), (["validate", "{bundle}"], 0), (["validate", "{bad}"], 3)],
)
def test_a_closed_stdout_ends_quietly_with_the_commands_own_code(
    tmp_path: Path, bundle: Path, args: list[str], code: int
) -> None:
    bad = write_bundle(tmp_path / "bad", source("m.csv", encode(more_assets(criticality="x") * 2, "csv"), "assets"))

    def close_early(process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        process.stdout.close()  # like `| head -0`: every write the command makes hits a closed pipe

    result = run_cli(
        [a.format(bundle=bundle, bad=bad) for a in args],
        tmpdir=tmp_path,
        stdout=subprocess.PIPE,
        after_start=close_early,
    )
    assert result.code == code, result.stderr
    assert result.stderr == ""


def _big_bundle(root: Path) -> Path:
    rows = root.parent / "rows.csv"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'a-' || range AS id, 'host-' || range AS name, 'server' AS type, 'production' AS environment,"
        " 'team' AS owner, 'high' AS criticality FROM range(3000000)) "
        f"TO '{rows}' (HEADER, DELIMITER ',')"
    )
    con.close()
    data = rows.read_bytes()
    rows.unlink()
    return write_bundle(root, source("big/assets.csv", data, "assets", "csv"))


@pytest.mark.slow
@pytest.mark.parametrize(("number", "name"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")])
def test_a_signal_stops_the_run_and_leaves_no_temporary_files(tmp_path: Path, number: int, name: str) -> None:
    root = _big_bundle(tmp_path / "bundle")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    db = tmp_path / "e.duckdb"

    def stop_soon(process: subprocess.Popen[bytes]) -> None:
        time.sleep(4)  # loading the store by then
        process.send_signal(number)

    result = run_cli(["validate", str(root), "--db", str(db)], tmpdir=tmp, after_start=stop_soon, timeout=120)
    assert result.code == 128 + number, result.output
    assert f"stopped by {name}" in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp.iterdir()) == []
    assert not db.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".e.duckdb")] == []


def test_an_unsafe_bundle_with_db_is_exit_3_and_writes_no_store(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("bundle.yaml", "bundle_version: 1\n")
        handle.writestr("../evil.csv", "x")
    store = tmp_path / "e.duckdb"
    code, out = _cli("validate", str(archive), "--db", str(store))
    assert code == 3, out
    assert not store.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.zip"]


def test_the_working_directory_is_switched_file_by_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    output.write_set(tmp_path, {"results.json": b"old"})
    inode = tmp_path.stat().st_ino
    output.write_set(Path(), {"results.json": b"new"})
    assert (tmp_path.stat().st_ino, (tmp_path / "results.json").read_bytes()) == (inode, b"new")
