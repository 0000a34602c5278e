"""Gitleaks JSON: every real report in the sample folder (v8 golden files, --redact, jsonextra,
multi-line keys; v7 git and no-git; null), credentials in locations and fingerprints, and other
tools' files refused by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from importer_helpers import COLLECTED_AT, SAMPLES, counts, import_path, of_kind, run_import
from typer.testing import CliRunner

from reporter.cli import app
from reporter.errors import ImportFormatError

FORMAT = "gitleaks-json"


def test_golden_computes_the_missing_fingerprint_and_reads_the_us_date() -> None:
    with pytest.raises(ImportFormatError, match="collected_at"):
        run_import(FORMAT, "gitleaks-v8-json-reporter-golden.json")
    records = run_import(
        FORMAT,
        "gitleaks-v8-json-reporter-golden.json",
        asset_id="repo-auth",
        collected_at=COLLECTED_AT,
    )
    assert counts(records) == {"secret_exposures": 1}
    exposure = of_kind(records, "secret_exposures")[0]
    assert exposure["fingerprint"] == "0000000000000000:auth.py:test-rule:1"  # "Fingerprint": ""
    assert exposure["location"] == "repo-auth@0000000000000000:auth.py:1"
    assert exposure["exposed_at"] == "2003-10-19T00:00:00+00:00"  # "10-19-2003"
    assert exposure["detected_at"] == "2026-01-05T10:00:00+00:00"
    assert exposure["detector"] == "test-rule"


def test_redacted_baseline_keeps_native_fingerprints() -> None:
    records = run_import(FORMAT, "gitleaks-v8-redacted-baseline.json", collected_at=COLLECTED_AT)
    assert counts(records) == {"secret_exposures": 2}
    assert sorted(e["fingerprint"] for e in of_kind(records, "secret_exposures")) == [
        "9326f35380636bcbe61e94b0584d1618c4b5c2c2:detect/detect_test.go:pypi-upload-token:32",
        "9326f35380636bcbe61e94b0584d1618c4b5c2c2:detect/detect_test.go:pypi-upload-token:33",
    ]


def test_legacy_v7_keys_and_credentials_in_repo_url_are_dropped() -> None:
    records = run_import(FORMAT, "variant-v7-legacy.json", collected_at=COLLECTED_AT)
    assert counts(records) == {"secret_exposures": 2}
    exposures = {e["detector"]: e for e in of_kind(records, "secret_exposures")}
    aws = exposures["AWS Access Key"]
    assert aws["location"] == (
        "https://git.example/payments-api@1111111111111111111111111111111111111111:config/dev.ini:12"
    )
    assert aws["fingerprint"] == ("1111111111111111111111111111111111111111:config/dev.ini:AWS Access Key:12")
    assert aws["exposed_at"] == "2021-07-15T15:00:32+00:00"
    key = exposures["Asymmetric Private Key"]  # no lineNumber, repo "."
    assert key["location"] == "2222222222222222222222222222222222222222:cert-key.pem"


def test_dir_mode_without_fingerprint_key() -> None:
    records = run_import(
        FORMAT,
        "variant-v8-dir-mode-no-fingerprint.json",
        asset_id="svc-a",
        collected_at=COLLECTED_AT,
    )
    exposure = of_kind(records, "secret_exposures")[0]
    assert exposure["fingerprint"] == "settings/local.py:generic-api-key:4"
    assert exposure["location"] == "svc-a:settings/local.py:4"
    assert "exposed_at" not in exposure  # Date ""


def test_empty_report_needs_nothing() -> None:
    assert run_import(FORMAT, "variant-empty.json") == []


def test_legacy_v7_without_git_and_null_report() -> None:
    records = run_import(FORMAT, "gitleaks-v7-no-git-dir.json", collected_at=COLLECTED_AT)
    assert [e["location"] for e in of_kind(records, "secret_exposures")] == [
        "../test_data/test_repos/test_dir_1/server.test.py:5",
        "../test_data/test_repos/test_dir_1/server.test2.py:5",
    ]
    assert all("exposed_at" not in e for e in of_kind(records, "secret_exposures"))  # Go zero time
    assert run_import(FORMAT, "defectdojo-null.json") == []  # "null": no leaks


def test_multi_line_secret_keeps_the_native_fingerprint() -> None:
    records = run_import(FORMAT, "gitleaks-v8-private-key-multiline.json", collected_at=COLLECTED_AT)
    (exposure,) = of_kind(records, "secret_exposures")
    assert exposure["fingerprint"] == "e55e00ca1690a6b5b612d28b3d9ada3fd1775ac4:key.txt:private-key:1"


REAL = sorted(p.name for p in (SAMPLES / FORMAT).iterdir() if not p.name.startswith("variant-"))
SECRET_FIELDS = ("Secret", "Match", "Line", "offender", "line")


def _secret_values(document: Any) -> set[str]:
    """The raw secret values of a report: the fields Gitleaks puts the secret in."""
    leaks = document if isinstance(document, list) else []
    values = {str(leak.get(field) or "") for leak in leaks for field in SECRET_FIELDS}
    return {v for v in values if len(v) >= 4 and v != "REDACTED"}


@pytest.mark.parametrize("name", REAL)
def test_every_real_report_imports_without_its_secrets(name: str) -> None:
    path = SAMPLES / FORMAT / name
    document = json.loads(path.read_text(encoding="utf-8"))
    records = import_path(FORMAT, path, collected_at=COLLECTED_AT)
    assert len(records) <= len(document or [])
    assert bool(records) == bool(document)
    text = json.dumps([r.data for r in records])
    secrets = _secret_values(document)
    assert bool(secrets) == bool(document), "a report with leaks holds secrets to look for"
    for value in secrets:
        assert value not in text, name


def _leak(**fields: Any) -> dict[str, Any]:
    base = {"RuleID": "generic-api-key", "StartLine": 3, "Commit": "abc123", "Secret": "s3cr3t-value"}
    return base | fields


@pytest.mark.parametrize(
    ("file", "location", "fingerprint"),
    [
        (
            "https://ci:TOKEN1@git.example/o/r?private_token=TOKEN2",
            "repo-1@abc123:https://git.example/o/r:3",
            "abc123:https://git.example/o/r:generic-api-key:3",
        ),
        (
            "user:TOKEN1@host.example:o/r",
            "repo-1@abc123:host.example:o/r:3",
            "abc123:host.example:o/r:generic-api-key:3",
        ),
    ],
)
def test_credentials_in_file_and_fingerprint_are_scrubbed(
    tmp_path: Path, file: str, location: str, fingerprint: str
) -> None:
    native = f"abc123:{file}:generic-api-key:3"
    path = tmp_path / "g.json"
    path.write_text(json.dumps([_leak(File=file, Fingerprint=native), _leak(File=file, StartLine=4)]))
    records = of_kind(import_path(FORMAT, path, asset_id="repo-1", collected_at=COLLECTED_AT), "secret_exposures")
    assert "TOKEN" not in json.dumps(records)
    by_line = {r["location"].rsplit(":", 1)[1]: r for r in records}
    assert (by_line["3"]["location"], by_line["3"]["fingerprint"]) == (location, fingerprint)
    assert by_line["4"]["fingerprint"] == fingerprint[: -len("3")] + "4"  # computed the same way


def test_a_native_fingerprint_of_another_shape_is_scrubbed_whole(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text(json.dumps([_leak(File="a.py", Fingerprint="x:https://u:TOKEN1@h/r?sig=TOKEN2:y")]))
    (record,) = import_path(FORMAT, path, collected_at=COLLECTED_AT)
    assert "TOKEN" not in json.dumps(record.data)
    assert record.data["fingerprint"].startswith("<redacted-url:")


# (sample of another tool, what the refusal must name)
OTHER_TOOLS = [
    ("../grype-json/grype-presenter-golden-kev-epss.json", "a Grype JSON report"),
    ("../trivy-json/trivy-repo-secrets.json", "a Trivy JSON report"),
    ("../trufflehog-jsonl/heimdall-array.json", "a TruffleHog finding"),
    ("../trufflehog-jsonl/heimdall-single-pretty-object.json", "a TruffleHog finding"),
    ("../trufflehog-jsonl/defectdojo-v3-git.json", "TruffleHog"),  # NDJSON: several values
    ("../trufflehog-jsonl/other-tool-defectdojo-trufflehog-v2.json", "TruffleHog 2.x"),
    ("../trufflehog-jsonl/other-tool-defectdojo-trufflehog3-current.json", "trufflehog3"),
    ("../cyclonedx-json/cisa-vex-case8-multi-product-status.json", "CycloneDX"),
]


@pytest.mark.parametrize(("name", "seen"), OTHER_TOOLS)
def test_other_tools_files_are_refused_by_name(tmp_path: Path, name: str, seen: str) -> None:
    path = (SAMPLES / FORMAT / name).resolve()
    with pytest.raises(ImportFormatError, match="looks like") as caught:
        run_import(FORMAT, name, collected_at=COLLECTED_AT)
    assert seen in caught.value.message
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["import", FORMAT, str(path), "--output", str(out)])
    assert result.exit_code == 3, result.output
    assert seen in result.output
    assert not out.exists()
