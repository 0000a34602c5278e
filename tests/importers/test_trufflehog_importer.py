"""TruffleHog JSON stream: every real file of the sample folder (git, github, filesystem and docker
sources; NDJSON, arrays, one pretty object; base64 Raw), line numbers, credentials in every
location field, and other tools' files (TruffleHog 2, trufflehog3, Gitleaks...) refused by name."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from importer_helpers import COLLECTED_AT, SAMPLES, counts, import_path, of_kind, run_import
from typer.testing import CliRunner

from reporter.cli import app
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


def _findings(path: Path) -> list[dict[str, Any]]:
    """The findings of a real file, read independently of the importer (array, NDJSON or pretty)."""
    text = path.read_text(encoding="utf-8")
    decoder, index, found = json.JSONDecoder(), 0, []
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        value, index = decoder.raw_decode(text, index)
        found.extend(value if isinstance(value, list) else [value])
    return found


def _raw_values(finding: dict[str, Any]) -> set[str]:
    """The secret as TruffleHog writes it: Raw, RawV2, Redacted, SecretParts, and Raw decoded."""
    values = {str(finding.get(k) or "") for k in ("Raw", "RawV2", "Redacted")}
    values |= {str(v) for v in (finding.get("SecretParts") or {}).values()}
    with contextlib.suppress(binascii.Error, UnicodeDecodeError):
        values.add(base64.b64decode(finding.get("Raw") or "", validate=True).decode("utf-8"))
    return {v for v in values if len(v) >= 6 and "*" not in v}


REAL = sorted(p.name for p in (SAMPLES / FORMAT).iterdir() if not p.name.startswith(("variant-", "other-tool-")))


@pytest.mark.parametrize("name", REAL)
def test_every_real_file_imports_without_its_secrets(name: str) -> None:
    path = SAMPLES / FORMAT / name
    findings = _findings(path)
    records = import_path(FORMAT, path, collected_at=COLLECTED_AT)
    assert 0 < len(records) <= len(findings)
    text = json.dumps([r.data for r in records])
    secrets = set().union(*(_raw_values(f) for f in findings))
    assert secrets, "the file holds secrets to look for"
    for value in secrets:
        assert value not in text, name


def test_newer_fields_filesystem_source_and_exact_duplicates() -> None:
    # Six lines with DetectorDescription, VerificationError and VerificationFromCache; one repeated.
    records = of_kind(
        run_import(FORMAT, "heimdall-filesystem-dup.ndjson", collected_at=COLLECTED_AT), "secret_exposures"
    )
    assert len(records) == 5
    assert {r["location"] for r in records} >= {".git/config:13", "github.com/jackc/pgx/v5/pgxpool/pool.go:297"}
    assert all("verified_live" not in r for r in records)  # VerificationError: unknown


def test_docker_source_names_image_and_tag() -> None:
    records = of_kind(run_import(FORMAT, "heimdall-docker.json", collected_at=COLLECTED_AT), "secret_exposures")
    assert all(r["location"].startswith("golang:1.12-alpine:/usr/local/go/") for r in records)


def test_github_source_and_unterminated_last_line() -> None:
    records = of_kind(run_import(FORMAT, "defectdojo-v3-github.json", collected_at=COLLECTED_AT), "secret_exposures")
    assert len(records) == 3  # the third line has no newline
    assert all(r["location"].startswith("https://github.com/trufflesecurity/test_keys.git@") for r in records)


# (file of another tool, what the refusal must name)
OTHER_TOOLS = [
    ("other-tool-defectdojo-trufflehog-v2.json", "TruffleHog 2.x"),
    ("other-tool-defectdojo-trufflehog3-legacy.json", "TruffleHog 2.x"),
    ("other-tool-defectdojo-trufflehog3-current.json", "trufflehog3"),
    ("../gitleaks-json/defectdojo-v8-many.json", "a Gitleaks report"),
    ("../gitleaks-json/defectdojo-v7-data-many.json", "a Gitleaks v7 report"),
    ("../trivy-json/trivy-repo-secrets.json", "a Trivy JSON report"),
    ("../grype-json/grype-presenter-golden-kev-epss.json", "a Grype JSON report"),
]


@pytest.mark.parametrize(("name", "seen"), OTHER_TOOLS)
def test_other_tools_files_are_refused_by_name(tmp_path: Path, name: str, seen: str) -> None:
    with pytest.raises(ImportFormatError, match="looks like") as caught:
        run_import(FORMAT, name)
    assert seen in caught.value.message
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["import", FORMAT, str(SAMPLES / FORMAT / name), "--output", str(out)])
    assert result.exit_code == 3, result.output
    assert seen in result.output
    assert not out.exists()


def test_json_log_lines_are_refused_as_logs(tmp_path: Path) -> None:
    path = tmp_path / "merged.jsonl"
    log = {"level": "info-0", "ts": "2026-01-05T10:00:00Z", "logger": "trufflehog", "msg": "running source"}
    path.write_text(json.dumps(log) + "\n" + (SAMPLES / FORMAT / "trufflehog-v3-git-readme-example.jsonl").read_text())
    with pytest.raises(ImportFormatError, match="log line") as caught:
        import_path(FORMAT, path, collected_at=COLLECTED_AT)
    assert caught.value.location.line == 1


def _git_finding(**git: Any) -> dict[str, Any]:
    base = {"commit": "abc123", "file": "keys", "line": 4, "repository": "https://git.example/o/r"}
    return {
        "SourceMetadata": {"Data": {"Git": base | git}},
        "DetectorType": 2,
        "DetectorName": "AWS",
        "Verified": False,
        "Raw": "dummy-raw",
    }


def _one(tmp_path: Path, finding: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(finding) + "\n")
    (record,) = import_path(FORMAT, path, collected_at=COLLECTED_AT)
    return record.data


@pytest.mark.parametrize("line", ["4; echo TOKEN", 4.5, -1, True, {"n": 4}, "https://u:TOKEN@h/"])
def test_a_line_that_is_not_an_integer_is_refused_with_its_path(tmp_path: Path, line: Any) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(_git_finding(line=line)) + "\n")
    with pytest.raises(ImportFormatError) as caught:
        import_path(FORMAT, path, collected_at=COLLECTED_AT)
    assert caught.value.location.field == "SourceMetadata.Data.Git.line"
    assert "TOKEN" not in str(caught.value)


def test_line_as_digits_keeps_the_fingerprint(tmp_path: Path) -> None:
    assert _one(tmp_path, _git_finding(line="4")) == _one(tmp_path, _git_finding(line=4))


@pytest.mark.parametrize(
    ("data", "location"),
    [
        (
            {
                "Git": {
                    "repository": "https://ci:TOKEN@git.example/o/r?access_token=TOKEN",
                    "commit": "abc",
                    "file": "k",
                }
            },
            "https://git.example/o/r@abc:k",
        ),
        (
            {"Github": {"repository": "git@github.com:o/r.git", "link": "https://TOKEN@github.com/x", "file": "k"}},
            "github.com:o/r.git:k",
        ),
        ({"Filesystem": {"file": "https://u:TOKEN@h.example/f.env", "line": 2}}, "repo-1:https://h.example/f.env:2"),
        (
            {
                "S3": {
                    "bucket": "b",
                    "file": "k.txt?X-Amz-Signature=TOKEN",
                    "link": "https://b.s3/k?X-Amz-Credential=TOKEN",
                }
            },
            "b:k.txt",
        ),
        (
            {"Docker": {"image": "u:TOKEN@registry.example/img", "tag": "1.0", "file": "/etc/f"}},
            "registry.example/img:1.0:/etc/f",
        ),
        (
            {"Slack": {"link": "https://x.slack.com/archives/C1/p1?token=TOKEN", "channel_name": "dev"}},
            "https://x.slack.com/archives/C1/p1",
        ),
        ({"Jira": {"link": "https://u:TOKEN@TAIL@jira.example/browse/X-1"}}, "<redacted-url:"),
    ],
)
def test_credentials_in_every_location_field_are_scrubbed(tmp_path: Path, data: dict[str, Any], location: str) -> None:
    finding = {"SourceMetadata": {"Data": data}, "DetectorType": 2, "DetectorName": "AWS", "Raw": "dummy-raw"}
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(finding) + "\n")
    (record,) = import_path(FORMAT, path, asset_id="repo-1", collected_at=COLLECTED_AT)
    assert "TOKEN" not in json.dumps(record.data)
    assert "TAIL" not in json.dumps(record.data)
    assert record.data["location"].startswith(location)


def test_a_secret_as_a_source_kind_stays_out_of_error_paths(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    kind = "PLANTED-0f9e8d7c6b5a-Secret"
    path.write_text(json.dumps({"SourceMetadata": {"Data": {kind: {"line": "x"}}}, "DetectorName": "AWS"}) + "\n")
    with pytest.raises(ImportFormatError) as caught:
        import_path(FORMAT, path, collected_at=COLLECTED_AT)
    assert kind not in str(caught.value)
    assert caught.value.location.field == "SourceMetadata.Data.?.line"
