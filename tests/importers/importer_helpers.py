"""Helpers of the importer tests: where the copied tool samples are, and a runner that checks
every record against its kind's model before the records are compared."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reporter.importers.interface import ImportContext, ImportedRecord
from reporter.importers.registry import IMPORTERS
from reporter.importers.run import collect
from reporter.models.kinds import KINDS

SAMPLES = Path(__file__).parents[1] / "fixtures" / "tool-samples"
COLLECTED_AT = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def sample(format_name: str, name: str) -> Path:
    """A copied sample or hand-made variant."""
    path = SAMPLES / format_name / name
    assert path.is_file(), path
    return path


def import_path(format_name: str, path: Path, **context: Any) -> list[ImportedRecord]:
    """Records of a file: each raw record must validate, and `collect` must agree with them."""
    ctx = ImportContext(source_path=path.name, **context)
    importer = IMPORTERS[format_name]
    raw = [r for r in importer.read(path, ctx) if isinstance(r, ImportedRecord)]  # notes aside
    for record in raw:
        assert record.kind in importer.info.kinds, record.kind
        KINDS[record.kind].model.model_validate(record.data)
    collected = collect(importer, path, ctx)
    assert {r.data["id"] for r in collected} == {r.data["id"] for r in raw}
    return collected


def run_import(format_name: str, name: str, **context: Any) -> list[ImportedRecord]:
    """Import a sample by format and file name."""
    return import_path(format_name, sample(format_name, name), **context)


def counts(records: list[ImportedRecord]) -> dict[str, int]:
    """Records per kind."""
    return dict(Counter(r.kind for r in records))


def of_kind(records: list[ImportedRecord], kind: str) -> list[dict[str, Any]]:
    """The data of the records of one kind."""
    return [r.data for r in records if r.kind == kind]


_PURL = re.compile(r"pkg:[a-z][a-z0-9.+-]*/\S+")
_FIX_REF = re.compile(
    r"KB\d{6,7}|MS\d{2}-\d{3}|(RHSA|CESA|RLSA|ALSA)-\d{4}:\d+|ELSA-\d{4}-\d+|USN-\d+-\d+|(DSA|DLA)-\d+(-\d+)?|ALAS\d*-\d{4}-\d+"
)


def check_sightings(records: list[ImportedRecord], *, covered: bool = True) -> None:
    """The scan-series contract of a scanner import: every finding names a scan of its asset
    emitted from the same file and has scope keys (with `covered`, all listed by that scan), and
    its purl and fix refs are well formed."""
    scans = {d["id"]: d for d in of_kind(records, "scans")}
    for finding in of_kind(records, "findings"):
        scan = scans[finding["scan_id"]]
        assert scan["asset_id"] == finding["asset_id"], finding["id"]
        assert finding["scope_keys"], finding["id"]
        if covered:
            assert set(finding["scope_keys"]) <= set(scan.get("scope_keys", [])), finding["id"]
        assert "purl" not in finding or _PURL.fullmatch(finding["purl"]), finding["purl"]
        assert all(_FIX_REF.fullmatch(ref) for ref in finding.get("fix_refs", [])), finding["fix_refs"]


def finding_ids(records: list[ImportedRecord]) -> set[str]:
    """The ids of the findings."""
    return {d["id"] for d in of_kind(records, "findings")}
