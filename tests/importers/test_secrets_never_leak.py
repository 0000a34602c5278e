"""A secret planted in every secret-bearing field of gitleaks, trufflehog and trivy input never
reaches a record, an `import` output file, a log line or an error message, broken file or not;
nor does a credential in any of 30 URL shapes planted in every location field."""

from __future__ import annotations

import base64
import copy
import json
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.leaks import gitleaks_v8_finding
from typer.testing import CliRunner

from reporter.cli import app
from reporter.errors import ImportFormatError
from reporter.importers.interface import ImportContext
from reporter.importers.registry import IMPORTERS
from reporter.importers.run import collect, records_jsonl_line

SECRET = "PLANTED-0f9e8d7c6b5a-Secret"
FORBIDDEN = (SECRET, base64.b64encode(SECRET.encode()).decode(), SECRET.lower())
COLLECTED = "2026-01-05T10:00:00Z"


def gitleaks_v8() -> list[dict[str, Any]]:
    return [gitleaks_v8_finding(SECRET)]


def gitleaks_v7() -> list[dict[str, Any]]:
    return [
        {
            "line": f"key={SECRET}",
            "lineNumber": 3,
            "offender": SECRET,
            "commit": "abc123",
            "repo": "r",
            "rule": "AWS",
            "commitMessage": SECRET,
            "author": "dev",
            "email": "dev@example.invalid",
            "file": "cfg/app.py",
            "date": "2021-07-15T22:00:32+07:00",
            "tags": f"key, {SECRET}",
        }
    ]


def _truffle(**fields: Any) -> dict[str, Any]:
    git = {
        "commit": "abc123",
        "file": "keys",
        "email": SECRET,
        "line": 4,
        "repository": "https://git.example/r",
        "timestamp": "2022-06-16 10:17:40 -0700 PDT",
    }
    return {
        "SourceMetadata": {"Data": {"Git": git}},
        "SourceType": 16,
        "DetectorType": 2,
        "DetectorName": "AWS",
        "Verified": True,
    } | fields


def trufflehog() -> list[dict[str, Any]]:
    return [
        _truffle(
            Raw=SECRET,
            RawV2=f"AKIAID:{SECRET}",
            Redacted=SECRET,
            DecoderName="PLAIN",
            SecretParts={"key": SECRET},
            ExtraData={"user": SECRET},
            StructuredData={"k": [SECRET]},
            VerificationError=f"401 for {SECRET}",
        ),
        _truffle(Raw=base64.b64encode(SECRET.encode()).decode(), Redacted=SECRET, Verified=False),
    ]


def trivy() -> dict[str, Any]:
    lines = [
        {
            "Number": 1,
            "Content": f"export TOKEN={SECRET}",
            "IsCause": False,
            "Highlighted": f"export TOKEN={SECRET}",
        },
        {"Number": 2, "Content": "export KEY=****", "IsCause": True, "Highlighted": SECRET},
    ]
    secret = {
        "RuleID": "generic",
        "Category": "Generic",
        "Severity": "HIGH",
        "Title": SECRET,
        "StartLine": 2,
        "EndLine": 2,
        "Code": {"Lines": lines},
        "Match": SECRET,
    }
    return {
        "SchemaVersion": 2,
        "CreatedAt": "2024-01-01T00:00:00Z",
        "ArtifactName": "repo-1",
        "Results": [
            {
                "Target": "deploy.sh",
                "Class": "secret",
                "Secrets": [secret],
                "ExperimentalModifiedFindings": [
                    {"Type": "secret", "Status": "ignored", "Statement": SECRET, "Finding": secret}
                ],
            }
        ],
    }


def _jsonl(values: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(v) for v in values) + "\n"


@dataclass(frozen=True)
class Case:
    """One secret-scanner input with secrets planted in every secret-bearing field."""

    format_name: str
    name: str
    build: Callable[[], Any]
    dump: Callable[[Any], str]

    def text(self, change: Callable[[Any], Any] | None = None) -> str:
        document = self.build()
        return self.dump(change(document) if change else document)


CASES = [
    Case("gitleaks-json", "v8.json", gitleaks_v8, json.dumps),
    Case("gitleaks-json", "v7.json", gitleaks_v7, json.dumps),
    Case("trufflehog-jsonl", "th.jsonl", trufflehog, _jsonl),
    Case("trivy-json", "trivy.json", trivy, json.dumps),
]


def _set(path: tuple[Any, ...], value: Any) -> Callable[[Any], Any]:
    def change(document: Any) -> Any:
        document = copy.deepcopy(document)
        target = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return document

    return change


# (format, a change that breaks the document in a field next to the secret)
BREAKS: dict[str, list[Callable[[Any], Any]]] = {
    "v8.json": [
        _set((0, "StartLine"), SECRET),
        _set((0, "Date"), SECRET),
        _set((0, "RuleID"), None),
        _set((0, "File"), {"x": SECRET}),
    ],
    "v7.json": [_set((0, "lineNumber"), SECRET), _set((0, "date"), SECRET)],
    "th.jsonl": [
        _set((0, "DetectorName"), [SECRET]),
        _set((0, "Verified"), SECRET),
        _set((1, "Raw"), {"v": SECRET}),
        _set((0, "SourceMetadata", "Data", "Git", "timestamp"), SECRET),
    ],
    "trivy.json": [
        _set(("Results", 0, "Secrets", 0, "StartLine"), SECRET),
        _set(("Results", 0, "Secrets", 0, "RuleID"), [SECRET]),
    ],
}
BREAKS["th.jsonl"] += [
    _set((0, "SourceMetadata", "Data", "Git", "line"), SECRET),
    _set((0, "SourceMetadata", "Data", "Git", "line"), f"4 {SECRET}"),
    _set((0, "SourceMetadata", "Data"), {SECRET: {"line": SECRET}}),
]
BREAKS["v8.json"] += [_set((0, "StartLine"), f"-{SECRET}"), _set((0, "File"), [f"https://u:{SECRET}@h/r"])]


def _clean(text: str) -> None:
    for value in FORBIDDEN:
        assert value not in text


def _context(name: str) -> ImportContext:
    return ImportContext(source_path=name, asset_id="repo-1", collected_at=datetime(2026, 1, 5, 10, tzinfo=UTC))


def _cli(format_name: str, path: Path, out: Path) -> Any:
    args = [
        "--debug",
        "import",
        format_name,
        str(path),
        "--output",
        str(out),
        "--asset-id",
        "repo-1",
        "--collected-at",
        COLLECTED,
    ]
    return CliRunner().invoke(app, args)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_planted_secret_reaches_no_record_file_or_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, case: Case
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / case.name
    path.write_text(case.text())
    assert SECRET in path.read_text()
    records = collect(IMPORTERS[case.format_name], path, _context(case.name))
    assert records
    _clean("\n".join(records_jsonl_line(r) + r.location for r in records))
    out = tmp_path / "out.jsonl"
    result = _cli(case.format_name, path, out)
    assert result.exit_code == 0, result.output
    _clean(out.read_text())
    _clean(result.output)
    _clean(caplog.text)


# -1: the file cut inside the secret (a syntax error); n >= 0: BREAKS[name][n] applied
MALFORMED = [(case, i) for case in CASES for i in range(-1, len(BREAKS[case.name]))]


@pytest.mark.parametrize(("case", "break_at"), MALFORMED, ids=lambda v: getattr(v, "name", v))
def test_planted_secret_stays_out_of_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, case: Case, break_at: int
) -> None:
    caplog.set_level(logging.DEBUG)
    whole = case.text()
    text = whole[: whole.index(SECRET) + 9] if break_at < 0 else case.text(BREAKS[case.name][break_at])
    path = tmp_path / case.name
    path.write_text(text)
    with pytest.raises(ImportFormatError) as caught:
        collect(IMPORTERS[case.format_name], path, _context(case.name))
    _clean("".join(traceback.format_exception(caught.value)))
    out = tmp_path / "out.jsonl"
    result = _cli(case.format_name, path, out)
    assert result.exit_code == 3, result.output
    assert not out.exists()
    _clean(result.output)
    _clean(caplog.text)


def test_a_secret_as_a_repeated_key_stays_out_of_errors(tmp_path: Path) -> None:
    for case in CASES:
        text = case.text()
        brace = text.index("{")
        doubled = text[: brace + 1] + f'"{SECRET}": 1, "{SECRET}": 2, ' + text[brace + 1 :]
        path = tmp_path / case.name
        path.write_text(doubled)
        with pytest.raises(ImportFormatError, match="repeats a key") as caught:
            collect(IMPORTERS[case.format_name], path, _context(case.name))
        _clean("".join(traceback.format_exception(caught.value)))


# ---------------------------------------------------------------------------------------------
# Credentials in locations (issues 10.4 and 11): every shape, in every location field

TAIL = "TAILPART-4c3b2a190e8f-Secret"
MARKERS = (SECRET, TAIL, SECRET.lower(), TAIL.lower(), "0f9e8d7c6b5a", "4c3b2a190e8f")
URL_SHAPES = [
    f"https://user:{SECRET}@git.example/o/r",
    f"https://{SECRET}@git.example/o/r",  # a token as the user name
    f"https://user:{SECRET}/{TAIL}@git.example/o/r",  # '/' in the password
    f"https://user:{SECRET}+{TAIL}@git.example/o/r",
    f"https://u:{SECRET}@{TAIL}@git.example/r",  # several '@': the tail leaked before
    f"user:{SECRET}@git.example:o/r.git",  # scp-style
    f"{SECRET}@git.example:o/r.git",
    f"{SECRET}@git.example/o/r",
    f"https://git.example/o/r?access_token={SECRET}",
    f"https://git.example/o/r?x=1&token={SECRET}",
    f"https://git.example/o/r?private_token={SECRET}",
    f"https://git.example/o/r?key={SECRET}",
    f"https://git.example/o/r?api_key={SECRET}",
    f"https://git.example/o/r?sig={SECRET}",
    f"https://git.example/o/r?password={SECRET}",
    f"https://b.s3.example/k?X-Amz-Credential={TAIL}&X-Amz-Signature={SECRET}",
    f"https://git.example/o/r#access_token={SECRET}",
    f"https://git.example/o/r?{SECRET}",
    f"https://u:{SECRET}@git.example/r\\@x",  # backslash: browsers read it as '/'
    f"https:/u:{SECRET}@git.example/r",  # one slash
    f"https://u:{SECRET}@git.example:port/r",  # not a port
    f"https://git.example/{TAIL}@{SECRET}/r",  # '@' in the path
    f"HTTPS://U:{SECRET}@GIT.EXAMPLE/R",
    f"ssh://git:{SECRET}@git.example:22/o/r",
    f"git+https://u:{SECRET}@git.example/o/r",
    f"jdbc:postgresql://u:{SECRET}@db.example/app",  # a URL after other text
    f"u:{SECRET}@tcp(db.example:3306)/app",  # a Go DSN
    f"mongodb+srv://u:{SECRET}@cluster.example/db?authSource=admin",
    f"https://u:{SECRET}@git.example/r x",  # whitespace
    f"https://[::1]:8080/r?token={SECRET}",
]


def _leaks_v8(field: str) -> list[dict[str, Any]]:
    base = gitleaks_v8()[0] | {"Fingerprint": ""}
    return [base | {"StartLine": i, field: url} for i, url in enumerate(URL_SHAPES, 1)]


def _leaks_v7(field: str) -> list[dict[str, Any]]:
    return [gitleaks_v7()[0] | {"lineNumber": i, field: url} for i, url in enumerate(URL_SHAPES, 1)]


def _truffle_lines(kind: str, field: str) -> list[dict[str, Any]]:
    lines = []
    for i, url in enumerate(URL_SHAPES, 1):
        data = {"line": i, field: url} if kind != "Jira" else {field: url}  # Jira: the link only
        lines.append(_truffle(Raw=f"raw-{i}") | {"SourceMetadata": {"Data": {kind: data}}})
    return lines


# (format, file name, document with the shapes in one location field, its serialiser)
LOCATIONS = [
    ("gitleaks-json", "v8-File.json", lambda: _leaks_v8("File"), json.dumps),
    ("gitleaks-json", "v8-Commit.json", lambda: _leaks_v8("Commit"), json.dumps),
    ("gitleaks-json", "v7-repoURL.json", lambda: _leaks_v7("repoURL"), json.dumps),
    ("gitleaks-json", "v7-file.json", lambda: _leaks_v7("file"), json.dumps),
    ("trufflehog-jsonl", "Git-repository.jsonl", lambda: _truffle_lines("Git", "repository"), _jsonl),
    ("trufflehog-jsonl", "Git-file.jsonl", lambda: _truffle_lines("Git", "file"), _jsonl),
    ("trufflehog-jsonl", "Git-commit.jsonl", lambda: _truffle_lines("Git", "commit"), _jsonl),
    ("trufflehog-jsonl", "S3-bucket.jsonl", lambda: _truffle_lines("S3", "bucket"), _jsonl),
    ("trufflehog-jsonl", "Docker-image.jsonl", lambda: _truffle_lines("Docker", "image"), _jsonl),
    ("trufflehog-jsonl", "GCS-filename.jsonl", lambda: _truffle_lines("GCS", "filename"), _jsonl),
    ("trufflehog-jsonl", "Jira-link.jsonl", lambda: _truffle_lines("Jira", "link"), _jsonl),
]


def _no_marker(text: str) -> None:
    for marker in MARKERS:
        assert marker not in text


def test_the_url_corpus_is_nasty_enough() -> None:
    assert len(URL_SHAPES) >= 20
    assert all(SECRET in url for url in URL_SHAPES)


@pytest.mark.parametrize(("format_name", "name", "build", "dump"), LOCATIONS, ids=[loc[1] for loc in LOCATIONS])
def test_credentials_in_location_fields_reach_no_output(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    format_name: str,
    name: str,
    build: Callable[[], Any],
    dump: Callable[[Any], str],
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / name
    path.write_text(dump(build()))
    assert path.read_text().count(SECRET) >= len(URL_SHAPES)
    context = ImportContext(source_path=name, collected_at=datetime(2026, 1, 5, 10, tzinfo=UTC))
    records = collect(IMPORTERS[format_name], path, context)
    assert len(records) == len(URL_SHAPES)  # scrubbed locations stay apart (distinct lines)
    _no_marker("\n".join(records_jsonl_line(r) + r.location for r in records))
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app, ["--debug", "import", format_name, str(path), "--output", str(out), "--collected-at", COLLECTED]
    )
    assert result.exit_code == 0, result.output
    _no_marker(out.read_text())
    _no_marker(result.output)
    _no_marker(caplog.text)


@pytest.mark.parametrize(("format_name", "name", "build", "dump"), LOCATIONS, ids=[loc[1] for loc in LOCATIONS])
def test_credentials_in_location_fields_stay_out_of_errors(
    tmp_path: Path, format_name: str, name: str, build: Callable[[], Any], dump: Callable[[Any], str]
) -> None:
    document = build()
    broken = ("DetectorName",) if format_name == "trufflehog-jsonl" else ("Date", "date")
    document[-1] |= {key: [1] for key in broken}  # the last entry no longer fits its format
    path = tmp_path / name
    path.write_text(dump(document))
    with pytest.raises(ImportFormatError) as caught:
        collect(
            IMPORTERS[format_name], path, ImportContext(source_path=name, collected_at=datetime(2026, 1, 5, tzinfo=UTC))
        )
    _no_marker("".join(traceback.format_exception(caught.value)))
