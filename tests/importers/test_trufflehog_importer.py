"""TruffleHog JSON stream: README NDJSON line, early v3 base64 Raw, array and pretty framing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from importer_helpers import COLLECTED_AT, counts, import_path, of_kind, run_import

from reporter.errors import ImportFormatError

FORMAT = "trufflehog-jsonl"


def test_readme_example() -> None:
    records = run_import(FORMAT, "trufflehog-v3-git-readme-example.jsonl", collected_at=COLLECTED_AT)
    assert counts(records) == {"secret_exposures": 1}
    exposure = of_kind(records, "secret_exposures")[0]
    assert exposure["detector"] == "AWS"
    assert exposure["verified_live"] is True
    assert exposure["location"] == (
        "https://github.com/trufflesecurity/test_keys@fbc14303ffbf8fb1c2c1914e8dda7d0121633aca:keys:4"
    )
    assert exposure["exposed_at"] == "2022-06-16T17:17:40+00:00"  # "-0700 PDT"
    assert exposure["fingerprint"].startswith("trufflehog:")


def test_early_v3_duplicates_and_unterminated_last_line() -> None:
    # Four lines: the first is repeated exactly as the third; the last has no newline.
    records = run_import(FORMAT, "variant-early-v3-base64.jsonl", collected_at=COLLECTED_AT)
    assert counts(records) == {"secret_exposures": 3}
    by_detector = {e["detector"]: e for e in of_kind(records, "secret_exposures")}
    assert by_detector["URI"]["verified_live"] is True
    assert by_detector["URI"]["exposed_at"] == "2022-06-16T17:27:56+00:00"  # "-0700 -0700"
    assert "verified_live" not in by_detector["AWS"]  # VerificationError: unknown, not false
    assert by_detector["Github"]["verified_live"] is False
    assert by_detector["Github"]["location"] == "/srv/app/.env:2"


@pytest.mark.parametrize("name", ["variant-array-wrapped.json", "variant-pretty-concatenated.jsonl"])
def test_other_framings_give_the_same_records(name: str) -> None:
    plain = run_import(FORMAT, "variant-early-v3-base64.jsonl", collected_at=COLLECTED_AT)
    other = run_import(FORMAT, name, collected_at=COLLECTED_AT)
    plain_ids = {r.data["id"] for r in plain}
    assert {r.data["id"] for r in other} <= plain_ids
    assert len(other) >= 2


def test_base64_raw_and_plain_raw_give_one_fingerprint(tmp_path: Path) -> None:
    line = {
        "SourceMetadata": {"Data": {"Filesystem": {"file": "a.env", "line": 1}}},
        "DetectorType": 2,
        "DetectorName": "AWS",
        "Verified": False,
    }
    early = tmp_path / "early.jsonl"
    early.write_text(json.dumps(line | {"Raw": "QUtJQUVYQU1QTEU="}) + "\n")  # "AKIAEXAMPLE"
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps(line | {"Raw": "AKIAEXAMPLE", "DecoderName": "PLAIN"}) + "\n")
    fingerprints = {import_path(FORMAT, p, collected_at=COLLECTED_AT)[0].data["fingerprint"] for p in (early, newer)}
    assert len(fingerprints) == 1


def test_merged_log_lines_are_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "merged.jsonl"
    path.write_text("🐷🔑🐷  TruffleHog. Unearth your secrets. 🐷🔑🐷\n{}\n")
    with pytest.raises(ImportFormatError, match="standard output") as caught:
        import_path(FORMAT, path, collected_at=COLLECTED_AT)
    assert caught.value.location.line == 1


def test_truncated_stream_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    path.write_text('{"DetectorName": "AWS"}\n{"DetectorName": "A\n')
    with pytest.raises(ImportFormatError) as caught:
        import_path(FORMAT, path, collected_at=COLLECTED_AT)
    assert caught.value.location.line == 2
