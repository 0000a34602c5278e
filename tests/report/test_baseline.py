"""Baseline comparison and the report's own inputs (baseline file, logo, document date)."""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reporter.errors import UsageError
from reporter.models.results import Assessment
from reporter.models.status import Status
from reporter.report.baseline import compare_results, report_id, view
from reporter.report.interface import DateBasis, ReportInputs
from reporter.report.loaders import MAX_LOGO_BYTES, document_date, read_baseline, read_logo


def png(width: int = 1, height: int = 1) -> bytes:
    """A minimal valid PNG header + IDAT of the given declared size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b"")


def _changed(assessment: Assessment) -> Assessment:
    """A copy with one control flipped and the verified-removal ratio lowered."""
    controls = list(assessment.controls)
    controls[0] = controls[0].model_copy(
        update={"status": Status.PASS if controls[0].status is not Status.PASS else Status.FAIL}
    )
    headline = assessment.headline
    removed = headline.verified_removed.model_copy(
        update={"value": (headline.verified_removed.value or 0) - 0.1, "display": "older"}
    )
    return assessment.model_copy(
        update={"controls": controls, "headline": headline.model_copy(update={"verified_removed": removed})}
    )


def test_compare_reports_deltas_and_transitions(q3_inputs: ReportInputs) -> None:
    current = q3_inputs.assessment
    comparison = view(compare_results(current, [_changed(current)]))
    e2 = next(d for d in comparison.ratios if d.label.startswith("E2 "))
    assert e2.change == "+10.0 pp"
    assert e2.direction == "better"
    assert e2.before == "older"
    [transition] = comparison.transitions
    assert transition.control_id == current.controls[0].control_id
    assert transition.after == current.controls[0].status.value
    assert comparison.unchanged_controls == len(current.controls) - 1
    assert any("same evidence bundle" in n for n in comparison.notes)


def test_report_id_comes_from_the_digest() -> None:
    assert report_id("6e78a86a0fdfcd94411d3890") == "ER-6E78A86A-0FDFCD94"


def test_read_baseline_round_trip(tmp_path: Path, q3_inputs: ReportInputs) -> None:
    path = tmp_path / "results.json"
    path.write_text(q3_inputs.assessment.model_dump_json())
    assert read_baseline(path) == q3_inputs.assessment


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe not json", "not a JSON document"),
        (b"[1, 2]", "not a results.json"),
        (json.dumps({"format_version": 2}).encode(), "format_version 2; this version of exposure-reporter reads"),
        (json.dumps({"format_version": 1, "tool": {}}).encode(), "not a valid results.json"),
        (b'{"format_version": 1, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested deeper than 64 levels"),
    ],
)
def test_unusable_baselines_are_usage_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "results.json"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message) as caught:
        read_baseline(path)
    assert caught.value.exit_code == 2


def test_missing_baseline_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read it"):
        read_baseline(tmp_path / "absent.json")


def test_logo_must_be_a_small_sane_png(tmp_path: Path) -> None:
    good = tmp_path / "logo.png"
    good.write_bytes(png(120, 40))
    assert read_logo(good) == good.read_bytes()
    cases = {
        "logo.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "not a PNG"),
        "big.png": (png() + b"\0" * MAX_LOGO_BYTES, "the limit is"),
        "bomb.png": (png(100_000, 100_000), "at most 4096 a side"),
        "fake.png": (b"\x89PNG\r\n\x1a\nnot really", "not a PNG"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(UsageError, match=message):
            read_logo(path)


def test_document_date_is_never_the_clock() -> None:
    assert document_date(None, {}) is None  # the caller uses the assessment instant
    assert document_date(None, {"SOURCE_DATE_EPOCH": "0"}) == (datetime(1970, 1, 1, tzinfo=UTC), DateBasis.EPOCH)
    given = document_date("2026-10-05", {"SOURCE_DATE_EPOCH": "0"})  # the option wins over the variable
    assert given == (datetime(2026, 10, 5, tzinfo=UTC), DateBasis.GIVEN)
    assert document_date("2026-10-05T12:30:00.5+02:00", {}) == (
        datetime(2026, 10, 5, 10, 30, tzinfo=UTC),
        DateBasis.GIVEN,
    )


@pytest.mark.parametrize(
    ("option", "environ", "message"),
    [
        (None, {"SOURCE_DATE_EPOCH": "yesterday"}, "SOURCE_DATE_EPOCH"),
        ("soon", {}, "--generated-at 'soon' is not a date"),
        ("2026-10-05T12:00:00", {}, "has no time zone"),
        ("9999-12-31", {}, "--generated-at"),
    ],
)
def test_bad_document_dates_are_usage_errors(option: str | None, environ: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        document_date(option, environ)
