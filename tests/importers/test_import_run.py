"""The registry and the importer runner: every format registered, records validated, merged,
ordered, and serialised as records-jsonl."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from importer_helpers import SAMPLES

from reporter.errors import ExitCode, ImportFormatError
from reporter.importers.interface import (
    ImportContext,
    ImportedRecord,
    ImporterInfo,
    UnknownFormatError,
)
from reporter.importers.registry import IMPORTERS, get_importer, importer_formats
from reporter.importers.run import collect, records_jsonl_line
from reporter.models.kinds import KINDS

EXPECTED_FORMATS = [
    "apt-history-log",
    "aws-ssm-instance-patches",
    "aws-ssm-patch-states",
    "cyclonedx-json",
    "epss-csv",
    "gitleaks-json",
    "grype-json",
    "kev-json",
    "nessus-xml",
    "trivy-json",
    "trufflehog-jsonl",
    "windows-hotfix-csv",
]


def test_every_format_is_registered_with_samples_and_known_kinds() -> None:
    assert importer_formats() == EXPECTED_FORMATS
    for name, importer in IMPORTERS.items():
        assert importer.info.format == name
        assert set(importer.info.kinds) <= set(KINDS)
        assert importer.info.tested_versions
        assert importer.info.produce_with
        assert (SAMPLES / name).is_dir(), f"no samples for {name}"


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(UnknownFormatError) as caught:
        get_importer("nmap-xml")
    assert caught.value.exit_code == ExitCode.USAGE
    assert all(name in caught.value.message for name in EXPECTED_FORMATS)


class _Fixed:
    """An importer that yields what it is given."""

    def __init__(self, *records: ImportedRecord) -> None:
        self.records = records
        self.info = ImporterInfo("fixed", "Fixed", ("scans",), "n/a", "n/a")

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        yield from self.records


def _scan(id_: str, **extra: Any) -> ImportedRecord:
    data = {
        "id": id_,
        "asset_id": "a-1",
        "tool": "t",
        "authenticated": True,
        "completed_at": "2026-01-01T00:00:00+00:00",
    } | extra
    return ImportedRecord("scans", data, f"item {id_}")


CONTEXT = ImportContext(source_path="in.json")


def test_records_are_sorted_by_kind_then_id_and_exact_repeats_merged() -> None:
    finding = ImportedRecord(
        "observations",
        {
            "id": "o-1",
            "asset_key": "h",
            "source": "s",
            "source_type": "scanner",
            "observed_at": "2026-01-01T00:00:00Z",
        },
    )
    importer = _Fixed(_scan("s-2"), finding, _scan("s-1"), _scan("s-2"))
    records = collect(importer, Path("unused"), CONTEXT)
    assert [(r.kind, r.data["id"]) for r in records] == [
        ("observations", "o-1"),
        ("scans", "s-1"),
        ("scans", "s-2"),
    ]


def test_two_different_records_with_one_id_are_an_error() -> None:
    importer = _Fixed(_scan("s-1"), _scan("s-1", authenticated=False))
    with pytest.raises(ImportFormatError, match="item s-1 and item s-1 describe the same scans"):
        collect(importer, Path("unused"), CONTEXT)


def test_a_record_that_breaks_its_model_is_an_error_without_the_value() -> None:
    importer = _Fixed(_scan("s-1", tool="", extra_field="PLANTED-VALUE"))
    with pytest.raises(ImportFormatError) as caught:
        collect(importer, Path("unused"), CONTEXT)
    assert "cannot become a scans record" in caught.value.message
    assert "PLANTED-VALUE" not in str(caught.value)


def test_lone_surrogates_are_refused() -> None:
    importer = _Fixed(_scan("s-1", tool="bad\ud800"))
    with pytest.raises(ImportFormatError, match=r"(?i)unicode"):
        collect(importer, Path("unused"), CONTEXT)


def test_records_jsonl_line_puts_kind_first_and_sorts_fields() -> None:
    line = records_jsonl_line(_scan("s-1"))
    assert line.startswith('{"kind":"scans","asset_id":"a-1",')
    body = json.loads(line)
    assert list(body)[1:] == sorted(k for k in body if k != "kind")
