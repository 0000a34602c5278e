"""Get-HotFix CSV: one deployment per row; UTF-16/UTF-8 input, locale dates read in the declared
order and zone, a whole day completing at its last second, and every bad row an error naming its line."""

from __future__ import annotations

import codecs
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from importer_helpers import import_path, of_kind, run_import, sample
from typer.testing import CliRunner

from reporter.bundle.load import load_bundle
from reporter.cli import app
from reporter.errors import ImportFormatError
from reporter.importers._common import Where, stable_id
from reporter.importers.windows_hotfix import TOOL, Installed, parse_installed_on

FORMAT = "windows-hotfix-csv"
PS51 = "variant-ps51-en-us-utf16.csv"
PS7 = "variant-ps7-en-gb-utf8.csv"
SUBSET = "variant-select-de-de-semicolon.csv"
TWO_HOSTS = "variant-two-hosts-zh-cn.csv"


def _deployments(name: str, **context: Any) -> list[dict[str, Any]]:
    return sorted(
        of_kind(run_import(FORMAT, name, **context), "deployments"), key=lambda d: (d["asset_id"], d["patch_id"])
    )


def _dep(asset: str, kb: str, wall_clock: str | None, started: str | None, completed: str | None) -> dict[str, Any]:
    data = {
        "id": stable_id("hotfix", TOOL, asset, kb, wall_clock),
        "asset_id": asset,
        "patch_id": kb,
        "status": "succeeded",
        "tool": TOOL,
    }
    data |= {k: v for k, v in (("started_at", started), ("completed_at", completed)) if v}
    return data


def test_windows_powershell_51_utf16_file_with_type_line() -> None:
    # Chicago is UTC-6 in January, UTC-5 in May; a date is the whole local day
    assert _deployments(PS51, timezone="America/Chicago") == [
        _dep("SERVER01", "KB4470788", "2019-01-22", "2019-01-22T06:00:00+00:00", "2019-01-23T05:59:59+00:00"),
        _dep("SERVER01", "KB4480056", "2019-01-24", "2019-01-24T06:00:00+00:00", "2019-01-25T05:59:59+00:00"),
        _dep("SERVER01", "KB4493510", None, None, None),  # empty InstalledOn: no time is invented
        _dep("SERVER01", "KB4495590", "2019-05-16", "2019-05-16T05:00:00+00:00", "2019-05-17T04:59:59+00:00"),
    ]


def test_the_export_time_caps_a_day_that_was_still_running() -> None:
    collected = datetime(2019, 5, 16, 15, 0, tzinfo=UTC)  # the list was taken that afternoon
    records = {d["patch_id"]: d for d in _deployments(PS51, timezone="America/Chicago", collected_at=collected)}
    assert records["KB4495590"]["completed_at"] == "2019-05-16T15:00:00+00:00"
    assert records["KB4495590"]["id"] == _deployments(PS51, timezone="America/Chicago")[3]["id"]  # id unchanged
    assert records["KB4470788"]["completed_at"] == "2019-01-23T05:59:59+00:00"  # earlier days: untouched


def test_powershell_7_file_without_type_line_in_day_month_order() -> None:
    # CSName (the computer's own name) wins over PSComputerName (the name it was reached by)
    assert _deployments(PS7, timezone="Europe/London", date_order="dmy") == [
        _dep("SERVER02", "KB4470788", "2019-01-22", "2019-01-22T00:00:00+00:00", "2019-01-22T23:59:59+00:00"),
        _dep("SERVER02", "KB4495590", "2019-05-16", "2019-05-15T23:00:00+00:00", "2019-05-16T22:59:59+00:00"),
        _dep("SERVER02", "KB5034441", "2024-01-09T14:05:33", None, "2024-01-09T14:05:33+00:00"),  # a real time
    ]


def test_a_day_month_file_read_month_first_is_an_error_naming_the_row() -> None:
    with pytest.raises(ImportFormatError, match=r"not a valid date when read as mdy \(set date_order") as caught:
        run_import(FORMAT, PS7)
    assert (caught.value.location.line, caught.value.location.field) == (2, "InstalledOn")


def test_select_object_subset_with_semicolons_needs_the_asset() -> None:
    assert _deployments(SUBSET, asset_id="a-win-07", date_order="dmy", timezone="Europe/Berlin") == [
        _dep("a-win-07", "KB4470788", "2019-01-22", "2019-01-21T23:00:00+00:00", "2019-01-22T22:59:59+00:00"),
        _dep("a-win-07", "KB4495590", "2019-05-16", "2019-05-15T22:00:00+00:00", "2019-05-16T21:59:59+00:00"),
    ]
    with pytest.raises(ImportFormatError, match="names no computer") as caught:
        run_import(FORMAT, SUBSET, date_order="dmy")
    assert caught.value.location.line == 3  # after the #TYPE line and the header


def test_two_hosts_year_first_and_one_asset_id_cannot_stand_for_both() -> None:
    assert [(d["asset_id"], d["started_at"]) for d in _deployments(TWO_HOSTS, timezone="Asia/Shanghai")] == [
        ("SERVER01", "2019-05-15T16:00:00+00:00"),
        ("SERVER03", "2019-05-16T16:00:00+00:00"),
    ]
    with pytest.raises(ImportFormatError, match="second asset") as caught:
        run_import(FORMAT, TWO_HOSTS, asset_id="a-win-01")
    assert (caught.value.location.line, caught.value.location.field) == (4, "CSName")


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom"],
)
def test_every_accepted_encoding_gives_the_same_records(tmp_path: Path, encode: Any) -> None:
    path = tmp_path / "hotfix.csv"
    path.write_bytes(encode(sample(FORMAT, PS7).read_text(encoding="utf-8")))
    reencoded = [r.data for r in import_path(FORMAT, path, date_order="dmy")]
    assert reencoded == [r.data for r in run_import(FORMAT, PS7, date_order="dmy")]


def test_utf16_without_bom_and_broken_utf16_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "hotfix.csv"
    path.write_bytes(sample(FORMAT, PS7).read_text(encoding="utf-8").encode("utf-16-le"))
    with pytest.raises(ImportFormatError, match="UTF-16 without a byte-order mark"):
        import_path(FORMAT, path)
    path.write_bytes(codecs.BOM_UTF16_LE + '"HotFixID"\r\n"KB1"\r\n'.encode("utf-16-le") + b"\x00\xd8\x41")
    with pytest.raises(ImportFormatError, match="not valid UTF-16") as caught:
        import_path(FORMAT, path, asset_id="a-1")
    assert caught.value.location.line == 3
    path.write_bytes(b'"HotFixID","CSName"\n"KB1","H\xe9"\n')  # Windows-1252 from Export-Csv -Encoding Default
    with pytest.raises(ImportFormatError, match="not valid UTF-8") as caught:
        import_path(FORMAT, path)
    assert caught.value.location.line == 2


HEADER = '"CSName","HotFixID","InstalledOn"\n'


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (HEADER + '"H1","KB1","3/12/2024 12:00:00 AM","extra"\n', 2, "has 4 fields, the header has 3"),
        (HEADER + '"H1","KB1","3/12/2024"\n"H1","KB2"\n', 3, "has 2 fields, the header has 3"),
        (HEADER + '"H1","","3/12/2024"\n', 2, "HotFixID.*is empty"),
        (HEADER + '"H1","KB1","13/12/2024 12:00:00 AM"\n', 2, "not a valid date when read as mdy"),
        (HEADER + '"H1","KB1","3/12/24"\n', 2, "has no four-digit year"),
        (HEADER + '"H1","KB1","3/12/2024 13:00:00 PM"\n', 2, "hour outside 1-12"),
        (HEADER + '"H1","KB1","3/12/2024 24:00:00"\n', 2, "not a valid time of day"),
        (HEADER + '"H1","KB1","2024-03-12T00:00:00Z"\n', 2, "is not a date"),
        (HEADER + '"H1","KB1","3/12-2024"\n', 2, "is not a date"),
        (HEADER + '"H1","KB1","3/12/2024"\n"H1","KB2","3/13/2024\n', 3, "not valid CSV"),
        (HEADER + '"H1","KB1","3/12/2024"x\n', 2, "not valid CSV"),
        (HEADER + '"H 1","KB1","3/12/2024"\n', 2, "not usable as an asset id"),
        ('"CSName","HotFixID","hotfixid"\n', 1, "names a column twice"),
        ('"CSName","Description","InstalledOn"\n"H1","Update","3/12/2024"\n', 1, "has no HotFixID column"),
        ('#TYPE System.Management.ManagementObject\n"CSName","KB"\n', 2, "has no HotFixID column"),
        ("", None, "is empty"),
    ],
)
def test_every_bad_row_is_an_error_naming_its_line(tmp_path: Path, text: str, line: int | None, message: str) -> None:
    path = tmp_path / "hotfix.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFormatError, match=message) as caught:
        import_path(FORMAT, path)
    assert caught.value.location.file == "hotfix.csv"
    assert caught.value.location.line == line
    assert "KB2" not in caught.value.message  # host names are quoted by the shared asset-id check, nothing else


def test_installed_on_forms_and_date_orders() -> None:
    where = Where("f.csv", 2, "InstalledOn")
    day = Installed(datetime(2024, 3, 12), whole_day=True)
    assert parse_installed_on("3/12/2024 12:00:00 AM", "mdy", where) == day
    assert parse_installed_on("3/12/2024", "mdy", where) == day
    assert parse_installed_on("12/03/2024 00:00:00", "dmy", where) == day
    assert parse_installed_on("12.03.2024 00:00", "dmy", where) == day
    assert parse_installed_on("2024/3/12 0:00:00", "mdy", where) == day  # a leading year is unambiguous
    assert parse_installed_on("2024-03-12", "ymd", where) == day
    assert parse_installed_on("3/12/2024 12:30:05 PM", "mdy", where) == Installed(
        datetime(2024, 3, 12, 12, 30, 5), False
    )
    assert parse_installed_on("3/12/2024 12:30:05 am", "mdy", where) == Installed(
        datetime(2024, 3, 12, 0, 30, 5), False
    )
    # the ambiguity the declared order resolves
    assert parse_installed_on("3/4/2024", "mdy", where).local.month == 3  # type: ignore[union-attr]
    assert parse_installed_on("3/4/2024", "dmy", where).local.month == 4  # type: ignore[union-attr]
    assert parse_installed_on("", "mdy", where) is None
    with pytest.raises(ImportFormatError, match="as date_order ymd says"):
        parse_installed_on("3/12/2024", "ymd", where)


def test_hotfix_ids_and_unknown_context_values(tmp_path: Path) -> None:
    path = tmp_path / "hotfix.csv"
    path.write_text('"CSName","HotFixID","InstalledOn"\n"H1","kb123",""\n"H1","File 1",""\n', encoding="utf-8")
    assert sorted(r.data["patch_id"] for r in import_path(FORMAT, path)) == ["File 1", "KB123"]
    with pytest.raises(ImportFormatError, match="unknown date_order"):
        import_path(FORMAT, path, date_order="ydm")
    with pytest.raises(ImportFormatError, match="unknown timezone"):
        import_path(FORMAT, path, timezone="Europe/Atlantis")


def test_dates_at_the_ends_of_the_calendar_are_errors_not_crashes(tmp_path: Path) -> None:
    path = tmp_path / "hotfix.csv"
    for text, zone in (("12/31/9999", "America/Los_Angeles"), ("1/1/0001", "Asia/Tokyo")):
        path.write_text(f'"CSName","HotFixID","InstalledOn"\n"H1","KB1","{text}"\n', encoding="utf-8")
        with pytest.raises(ImportFormatError, match="out of the supported range") as caught:
            import_path(FORMAT, path, timezone=zone)
        assert caught.value.location.line == 2


def test_cli_is_deterministic_and_bad_rows_exit_3(tmp_path: Path) -> None:
    outputs = []
    for name in ("a.jsonl", "b.jsonl"):
        out = tmp_path / name
        args = ["import", FORMAT, str(sample(FORMAT, PS51)), "-o", str(out), "--timezone", "America/Chicago"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    result = CliRunner().invoke(app, ["import", FORMAT, str(sample(FORMAT, PS7)), "-o", str(tmp_path / "c.jsonl")])
    assert result.exit_code == 3
    assert "variant-ps7-en-gb-utf8.csv:2" in result.output
    assert "16/05/2019" not in result.output
    result = CliRunner().invoke(
        app, ["import", FORMAT, str(sample(FORMAT, PS7)), "-o", str(tmp_path / "c.jsonl"), "--date-order", "dmy"]
    )
    assert result.exit_code == 0, result.output


def test_a_utf16_export_loads_as_a_bundle_source_with_zone_and_date_order(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(Path(__file__).resolve().parents[2] / "evidence-samples" / "minimal", bundle)
    shutil.copy(sample(FORMAT, PS51), bundle / "deployments" / "hotfix.csv")
    shutil.copy(sample(FORMAT, PS7), bundle / "deployments" / "hotfix-gb.csv")
    manifest = yaml.safe_load((bundle / "bundle.yaml").read_text())
    common = {"format": FORMAT, "collected_at": "2026-09-30T21:00:00Z"}
    manifest["sources"] += [
        {"path": "deployments/hotfix.csv", "timezone": "America/Chicago", "asset_id": "a-web-01", **common},
        {"path": "deployments/hotfix-gb.csv", "timezone": "Europe/London", "date_order": "dmy", **common},
    ]
    (bundle / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    loaded = load_bundle(bundle)
    try:
        rows = loaded.store.con.execute(
            "SELECT _source, patch_id, strftime(completed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S') FROM deployments "
            "WHERE _source LIKE 'deployments/hotfix%' AND patch_id = 'KB4495590' ORDER BY _source"
        ).fetchall()
        codes = {i.code for i in loaded.issues if str(i.file).startswith("deployments/hotfix")}
    finally:
        loaded.close()
    assert rows == [
        ("deployments/hotfix-gb.csv", "KB4495590", "2019-05-16T22:59:59"),
        ("deployments/hotfix.csv", "KB4495590", "2019-05-17T04:59:59"),
    ]
    assert codes == {"source.no-hash", "ref.unknown-asset"}  # SERVER02 is not in the minimal inventory


CELLS = st.sampled_from(
    ["KB1", "H1", "", "3/12/2024", "13/13/2024", "2024/3/12 0:00:00", "3/12/2024 1:00 PM", '"', ","]
)
ROWS = st.lists(st.lists(CELLS | st.text(max_size=12), min_size=2, max_size=4), max_size=5)


@settings(max_examples=400, deadline=None)
@given(rows=ROWS, order=st.sampled_from(["mdy", "dmy", "ymd"]), type_line=st.booleans())
def test_fuzzed_csv_gives_records_or_a_format_error(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], order: str, type_line: bool
) -> None:
    lines = ["#TYPE x"] if type_line else []
    lines.append('"CSName","HotFixID","InstalledOn"')
    lines += [",".join(f'"{c}"' if i % 2 else c for i, c in enumerate(row)) for row in rows]
    path = tmp_path_factory.mktemp("hotfix") / "hotfix.csv"
    path.write_text("\r\n".join(lines), encoding="utf-8", errors="surrogatepass")
    try:
        records = import_path(FORMAT, path, date_order=order, timezone="Pacific/Kiritimati")
    except ImportFormatError as error:
        failure = error
    else:
        assert all(r.data["status"] == "succeeded" for r in records)
        return
    assert failure.location.file == "hotfix.csv"


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet="0123456789/.- :APMapm", max_size=24), order=st.sampled_from(["mdy", "dmy", "ymd"]))
def test_fuzzed_installed_on_parses_or_raises_the_format_error(text: str, order: str) -> None:
    try:
        parsed = parse_installed_on(text, order, Where("f.csv", 9, "InstalledOn"))
    except ImportFormatError as error:
        failure = error
    else:
        assert parsed is None or 1 <= parsed.local.year <= 9999
        return
    assert failure.location.line == 9
