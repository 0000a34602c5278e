"""APT history.log: one deployment per upgraded package (rolled_back per downgraded one), local
times read in the source's time zone, and every malformed line an error naming its line."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from importer_helpers import import_path, of_kind, run_import, sample
from pydantic import ValidationError
from typer.testing import CliRunner

from reporter.bundle.load import load_bundle
from reporter.cli import app
from reporter.errors import ImportFormatError
from reporter.importers._common import Where, stable_id
from reporter.importers.apt_history import TOOL, Package, parse_packages
from reporter.models.manifest import Source

FORMAT = "apt-history-log"
REAL = "plaso-apt_history.log"
VARIANT = "variant-apt2-edge-cases.log"
ASSET = "a-deb-01"
ROOT = Path(__file__).resolve().parents[2]


def _deployments(name: str, **context: Any) -> list[dict[str, Any]]:
    records = of_kind(run_import(FORMAT, name, asset_id=ASSET, **context), "deployments")
    return sorted(records, key=lambda d: (d["started_at"], d["patch_id"]))


def _dep(patch_id: str, started: str, completed: str | None, status: str, action: str = "upgrade") -> dict[str, Any]:
    data = {
        "id": stable_id("apt", TOOL, ASSET, patch_id, started, action),
        "asset_id": ASSET,
        "patch_id": patch_id,
        "started_at": started,
        "status": status,
        "tool": TOOL,
    }
    if completed:
        data["completed_at"] = completed
    return data


PLASO_UPGRADES = [
    "debian-archive-keyring=2017.5+deb9u1",
    "libdns-export162=1:9.10.3.dfsg.P4-12.3+deb9u5",
    "libisc-export160=1:9.10.3.dfsg.P4-12.3+deb9u5",
    "libssl1.0.2=1.0.2s-1~deb9u1",
    "libssl1.1=1.1.0k-1~deb9u1",
    "vim-common=2:8.0.0197-4+deb9u3",
    "vim-tiny=2:8.0.0197-4+deb9u3",
    "xxd=2:8.0.0197-4+deb9u3",
]


def test_real_log_gives_one_deployment_per_upgraded_package_only() -> None:
    # 10 blocks: one upgrade, six installs (one with Error), a remove, a purge, an autoremove
    expected = [
        _dep(patch, "2019-07-10T16:38:08+00:00", "2019-07-10T16:38:10+00:00", "succeeded") for patch in PLASO_UPGRADES
    ]
    assert _deployments(REAL) == expected


def test_real_log_times_are_read_in_the_source_time_zone() -> None:
    berlin = _deployments(REAL, timezone="Europe/Berlin")  # CEST, UTC+2 in July
    assert {(d["started_at"], d["completed_at"]) for d in berlin} == {
        ("2019-07-10T14:38:08+00:00", "2019-07-10T14:38:10+00:00")
    }
    assert {d["id"] for d in berlin}.isdisjoint({d["id"] for d in _deployments(REAL)})


def test_a_gzip_rotated_log_gives_the_same_records(tmp_path: Path) -> None:
    rotated = tmp_path / "history.log.2.gz"
    rotated.write_bytes(gzip.compress(sample(FORMAT, REAL).read_bytes(), mtime=0))
    plain = [r.data for r in run_import(FORMAT, REAL, asset_id=ASSET)]
    assert [r.data for r in import_path(FORMAT, rotated, asset_id=ASSET)] == plain


def test_hand_made_apt2_blocks() -> None:
    day10 = ("2024-01-10T06:25:01+00:00", "2024-01-10T06:25:09+00:00")
    day11 = ("2024-01-11T14:02:17+00:00", "2024-01-11T14:03:40+00:00")
    day12 = ("2024-01-12T09:00:00+00:00", "2024-01-12T09:00:12+00:00")
    day13 = ("2024-01-13T03:10:44+00:00", "2024-01-13T03:11:02+00:00")
    assert _deployments(VARIANT) == [
        # unattended-upgrades block without Commandline; libc6 amd64 and i386 are one deployment
        _dep("libc6=2.35-0ubuntu3.6", *day10, "succeeded"),
        _dep("libssl3=3.0.2-0ubuntu1.13", *day10, "succeeded"),
        _dep("openssl=3.0.2-0ubuntu1.13", *day10, "succeeded"),
        # Install, Reinstall and Disappeared give nothing; the metapackage upgrade is the deployment
        _dep("linux-image-generic=5.15.0.92.89", *day11, "succeeded"),
        # Downgrade: the version left behind is rolled back
        _dep("openssh-server=1:8.9p1-3ubuntu0.6", *day12, "rolled_back", "downgrade"),
        _dep("openssh-sftp-server=1:8.9p1-3ubuntu0.6", *day12, "rolled_back", "downgrade"),
        # an Error line fails every package of the block
        _dep("sudo=1.9.9-1ubuntu2.4", *day13, "failed"),
        _dep("tzdata=2024a-0ubuntu0.22.04", *day13, "failed"),
        # no End-Date (interrupted, then a blank line): failed, no completion time
        _dep("curl=7.81.0-1ubuntu1.15", "2024-01-14T22:47:30+00:00", None, "failed"),
        _dep("libcurl4=7.81.0-1ubuntu1.15", "2024-01-14T22:47:30+00:00", None, "failed"),
        # Remove and Purge give nothing; the last block ends the file without End-Date
        _dep("vim-tiny=2:8.2.3995-1ubuntu2.15", "2024-01-16T06:40:12+00:00", None, "failed"),
    ]


def test_host_must_be_named_by_asset_id() -> None:
    with pytest.raises(ImportFormatError, match="does not name the host: set asset_id"):
        run_import(FORMAT, REAL)


def test_an_unknown_time_zone_in_the_context_is_an_error() -> None:
    with pytest.raises(ImportFormatError, match="unknown timezone"):
        run_import(FORMAT, REAL, asset_id=ASSET, timezone="Mars/Olympus_Mons")


def _log(tmp_path: Path, text: str, name: str = "history.log") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_START = "Start-Date: 2024-01-10  06:25:01\n"
GOOD_END = "End-Date: 2024-01-10  06:25:09\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (GOOD_START + "Foo: bar\n" + GOOD_END, 2, "is not a history.log line"),
        (GOOD_START + "just words\n" + GOOD_END, 2, "is not a history.log line"),
        (GOOD_START + "commandline: apt-get upgrade\n" + GOOD_END, 2, "is not a history.log line"),
        (GOOD_START + "Commandline:    \n" + GOOD_END, 2, "has no value after Commandline"),
        (GOOD_START + "Upgrade: foo:amd64 (1.0)\n" + GOOD_END, 2, "entry 1 is not of the form name:arch \\(old"),
        (GOOD_START + "Upgrade: a:amd64 (1, 2), b:amd64 1, 2\n", 2, "entry 2 is not of the form"),
        (GOOD_START + "Upgrade: a:amd64 (1, 2),b:amd64 (1, 2)\n", 2, "entry 1 is not followed by ', '"),
        (GOOD_START + "Upgrade: a:amd64 (1, 2), \n", 2, "entry 2 is not of the form"),
        (GOOD_START + "Upgrade: a b:amd64 (1, 2)\n", 2, "entry 1 is not of the form"),
        (GOOD_START + "Upgrade: a:amd64 (1 2, 3)\n", 2, "entry 1 is not of the form"),
        (GOOD_START + "Install: a:amd64 (1.0, 2.0)\n", 2, "entry 1 is not of the form name:arch \\(version\\) or"),
        (GOOD_START + "Remove: a:amd64 (1.0, automatic)\n", 2, "entry 1 is not of the form name:arch \\(version\\)"),
        (GOOD_START + "Purge: (1.0)\n", 2, "entry 1 is not of the form"),
        (GOOD_START + "Disappeared: a (1), b (1, 2)\n", 2, "entry 2 is not of the form"),
        ("Start-Date: 2024-13-01  06:25:01\n", 1, "is not a valid date"),
        ("Start-Date: 2024-02-30  06:25:01\n", 1, "is not a valid date"),
        ("Start-Date: 10/01/2024 06:25\n", 1, "is not a time of the form"),
        (GOOD_START + "End-Date: 2024-01-10T06:25:09Z\n", 2, "is not a time of the form"),
        (GOOD_START + "End-Date: 2024-01-10  06:25:00\n", 2, "is before the Start-Date of line 1"),
        ("Upgrade: a:amd64 (1, 2)\n", 1, "is outside a block"),
        ("\n\n" + GOOD_END, 3, "is outside a block"),
        (GOOD_START + "Upgrade: a:amd64 (1, 2)\n" + GOOD_START, 3, "repeats Start-Date"),
        (GOOD_START + "Upgrade: a:amd64 (1, 2)\nUpgrade: b:amd64 (1, 2)\n", 3, "repeats Upgrade"),
        (GOOD_START + GOOD_END + "Upgrade: a:amd64 (1, 2)\n", 3, "follows End-Date"),
    ],
)
def test_every_bad_line_is_an_error_naming_its_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    with pytest.raises(ImportFormatError, match=message) as caught:
        import_path(FORMAT, _log(tmp_path, text), asset_id=ASSET)
    assert caught.value.location.file == "history.log"
    assert caught.value.location.line == line


def test_invalid_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "history.log"
    path.write_bytes(GOOD_START.encode() + b"Commandline: apt-get install caf\xe9\n")
    with pytest.raises(ImportFormatError, match="not valid UTF-8") as caught:
        import_path(FORMAT, path, asset_id=ASSET)
    assert caught.value.location.line == 2


def test_crlf_lines_and_a_single_space_in_dates_are_accepted(tmp_path: Path) -> None:
    text = "Start-Date: 2024-01-10 06:25:01\r\nUpgrade: a:amd64 (1, 2)\r\nEnd-Date: 2024-01-10 06:25:09\r\n"
    records = import_path(FORMAT, _log(tmp_path, text), asset_id=ASSET)
    assert [(r.data["patch_id"], r.data["status"]) for r in records] == [("a=2", "succeeded")]


def test_daylight_saving_changes(tmp_path: Path) -> None:
    # New York, 2024-11-03: 01:00-01:59 happens twice; the End-Date after the change is the later one
    text = (
        "Start-Date: 2024-11-03  01:59:50\nUpgrade: a:amd64 (1, 2)\nEnd-Date: 2024-11-03  01:00:05\n\n"
        # 2024-03-10 02:30 does not exist: read with the offset before the change (EST)
        "Start-Date: 2024-03-10  02:30:00\nUpgrade: b:amd64 (1, 2)\nEnd-Date: 2024-03-10  03:45:00\n"
    )
    records = {
        r.data["patch_id"]: r.data
        for r in import_path(FORMAT, _log(tmp_path, text), asset_id=ASSET, timezone="America/New_York")
    }
    assert (records["a=2"]["started_at"], records["a=2"]["completed_at"]) == (
        "2024-11-03T05:59:50+00:00",
        "2024-11-03T06:00:05+00:00",
    )
    assert (records["b=2"]["started_at"], records["b=2"]["completed_at"]) == (
        "2024-03-10T07:30:00+00:00",
        "2024-03-10T07:45:00+00:00",
    )


def test_empty_log_gives_no_records(tmp_path: Path) -> None:
    assert import_path(FORMAT, _log(tmp_path, "\n\n"), asset_id=ASSET) == []


def test_package_list_grammar() -> None:
    where = Where("h.log", 1)
    line = (
        "libdns-export162:amd64 (1:9.10.3.dfsg.P4-12.3+deb9u4, 1:9.10.3.dfsg.P4-12.3+deb9u5), "
        "g++:amd64 (4:6.3.0-4, 4:6.3.1-1~bpo9+1)"
    )
    assert parse_packages(line, "Upgrade", where) == [
        Package("libdns-export162", "amd64", ("1:9.10.3.dfsg.P4-12.3+deb9u4", "1:9.10.3.dfsg.P4-12.3+deb9u5")),
        Package("g++", "amd64", ("4:6.3.0-4", "4:6.3.1-1~bpo9+1")),
    ]
    assert parse_packages("python-six:amd64 (1.10.0-3, automatic), screen (4.5.0-6)", "Install", where) == [
        Package("python-six", "amd64", ("1.10.0-3",), automatic=True),
        Package("screen", None, ("4.5.0-6",)),  # apt before multi-arch wrote no architecture
    ]
    assert parse_packages("libfoo0, libbar1 (1.2-3)", "Disappeared", where) == [
        Package("libfoo0", None, ()),
        Package("libbar1", None, ("1.2-3",)),
    ]


def test_cli_writes_byte_identical_output_and_validates_options(tmp_path: Path) -> None:
    log = str(sample(FORMAT, VARIANT))
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for out in (first, second):
        args = ["import", FORMAT, log, "-o", str(out), "--asset-id", ASSET, "--timezone", "Europe/Amsterdam"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "11 deployments" in result.output
    assert first.read_bytes() == second.read_bytes()
    for bad in (["--timezone", "Mars/Olympus_Mons"], ["--timezone", "../../etc/passwd"], ["--date-order", "dym"]):
        result = CliRunner().invoke(app, ["import", FORMAT, log, "-o", str(tmp_path / "c.jsonl"), *bad])
        assert result.exit_code == 2, result.output
        assert not (tmp_path / "c.jsonl").exists()


def test_cli_bad_line_is_exit_3_naming_file_and_line(tmp_path: Path) -> None:
    log = _log(tmp_path, GOOD_START + "Upgrade: openssl:amd64 (3.0.2-0ubuntu1.12 3.0.2-0ubuntu1.13)\n")
    result = CliRunner().invoke(app, ["import", FORMAT, str(log), "-o", str(tmp_path / "o.jsonl"), "--asset-id", ASSET])
    assert result.exit_code == 3
    assert "history.log:2" in result.output
    assert "0ubuntu1.12" not in result.output  # the value is not quoted
    assert "Traceback" not in result.output


def test_manifest_timezone_is_validated_and_reaches_the_importer(tmp_path: Path) -> None:
    source = {"path": "x.log", "format": FORMAT, "collected_at": "2026-01-01T00:00:00Z"}
    assert Source.model_validate({**source, "timezone": "Asia/Kolkata"}).timezone == "Asia/Kolkata"
    for bad in ("Mars/Olympus_Mons", "Europe", "/etc/localtime", ""):
        with pytest.raises(ValidationError, match="IANA time zone"):
            Source.model_validate({**source, "timezone": bad})
    with pytest.raises(ValidationError):
        Source.model_validate({**source, "date_order": "dym"})

    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "evidence-samples" / "minimal", bundle)
    # a gzip-rotated log: the bundle prescan leaves decoding to the importer (ImporterInfo.utf8_text)
    (bundle / "deployments" / "apt-history.log").write_bytes(gzip.compress(sample(FORMAT, REAL).read_bytes()))
    manifest = yaml.safe_load((bundle / "bundle.yaml").read_text())
    manifest["sources"].append(
        {
            "path": "deployments/apt-history.log",
            "format": FORMAT,
            "asset_id": "a-web-01",
            "timezone": "Asia/Kolkata",
            "collected_at": "2026-09-30T21:00:00Z",
        }
    )
    (bundle / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    loaded = load_bundle(bundle)
    try:
        rows = loaded.store.con.execute(
            "SELECT DISTINCT strftime(started_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S'), status, tool "
            "FROM deployments WHERE _source = 'deployments/apt-history.log'"
        ).fetchall()
        issues = [i.code for i in loaded.issues if i.file == "deployments/apt-history.log"]
    finally:
        loaded.close()
    assert rows == [("2019-07-10T11:08:08", "succeeded", "apt")]  # 16:38:08 in Kolkata (UTC+5:30)
    assert issues == ["source.no-hash"]


KEYS = [
    "Start-Date",
    "End-Date",
    "Commandline",
    "Requested-By",
    "Install",
    "Upgrade",
    "Downgrade",
    "Remove",
    "Purge",
    "Reinstall",
    "Disappeared",
    "Error",
    "Comment",
    "Foo",
    "start-date",
]
VALUES = st.sampled_from(
    [
        "2024-01-10  06:25:01",
        "2024-01-10  06:25:00",
        "2024-02-30  00:00:00",
        "a:amd64 (1, 2)",
        "a:amd64 (1, automatic)",
        "a (1)",
        "a:amd64 (1:2~b+c-1, 1:3-1), b:i386 (1, 2)",
        "(",
        "a:amd64 (1, 2), ",
        "",
    ]
) | st.text(max_size=40)
LINES = st.one_of(
    st.tuples(st.sampled_from(KEYS), VALUES).map(lambda kv: f"{kv[0]}: {kv[1]}"),
    st.just(""),
    st.text(max_size=40),
)


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(LINES, max_size=12), zone=st.sampled_from([None, "UTC", "America/New_York", "Pacific/Kiritimati"])
)
def test_fuzzed_logs_give_records_or_a_format_error(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], zone: str | None
) -> None:
    path = tmp_path_factory.mktemp("apt") / "history.log"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    try:
        records = import_path(FORMAT, path, asset_id=ASSET, timezone=zone)
    except ImportFormatError as error:
        failure = error
    else:
        assert all(r.data["status"] in ("succeeded", "failed", "rolled_back") for r in records)
        return
    assert failure.location.file == "history.log"
    assert failure.location.line is not None


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(max_size=80),
    key=st.sampled_from(sorted(["Install", "Reinstall", "Upgrade", "Downgrade", "Remove", "Purge", "Disappeared"])),
)
def test_fuzzed_package_lists_parse_or_raise_the_format_error(text: str, key: str) -> None:
    try:
        packages = parse_packages(text, key, Where("h.log", 7, key))
    except ImportFormatError as error:
        failure = error
    else:
        assert packages
        return
    assert failure.location.line == 7
    assert failure.location.field == key
