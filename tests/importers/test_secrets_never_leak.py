"""A secret planted in every secret-bearing field of gitleaks, trufflehog and trivy input never
reaches a record, an `import` output file, a log line or an error message, broken file or not."""

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
    return [
        {
            "RuleID": "generic-api-key",
            "Description": "Generic API Key",
            "StartLine": 3,
            "EndLine": 3,
            "Match": f'token = "{SECRET}"',
            "Secret": SECRET,
            "File": "cfg/app.py",
            "Commit": "abc123",
            "Author": "dev",
            "Email": f"{SECRET}@example.invalid",
            "Date": "2024-01-01T00:00:00Z",
            "Message": f"add {SECRET}",
            "Tags": [SECRET],
            "Fingerprint": "abc123:cfg/app.py:generic-api-key:3",
        }
    ]


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
