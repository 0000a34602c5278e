"""Gitleaks JSON (v8 and legacy v7 lowercase keys) → secret_exposures. `Secret`, `Match`, `line`,
`offender`, author, email and commit message are never read; only locations and fingerprints."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reporter.importers._common import (
    Where,
    as_list,
    as_obj,
    compact,
    iso,
    load_json,
    opt_int,
    opt_str,
    scan_time,
    secret_location,
    stable_id,
    start,
    timestamp_at,
)
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="gitleaks-json",
    tool="Gitleaks",
    kinds=("secret_exposures",),
    tested_versions="v8 JSON reporter golden and --redact baseline (8.x); legacy v7 lowercase keys",
    produce_with="gitleaks git|dir --report-format json --report-path gitleaks.json",
    notes="The report names neither the repository nor the scan time: set asset_id and collected_at.",
    extensions=(".json",),
)


@dataclass(frozen=True)
class _Keys:
    """Where each field lives in one generation of the format."""

    rule: str
    file: str
    commit: str
    line: str
    date: str


_V8 = _Keys(rule="RuleID", file="File", commit="Commit", line="StartLine", date="Date")
_V7 = _Keys(rule="rule", file="file", commit="commit", line="lineNumber", date="date")


class GitleaksImporter:
    """Reads one Gitleaks JSON report (an array of leaks)."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield one secret exposure per leak."""
        where = start(context)
        leaks = as_list(load_json(path, context), where)
        if not leaks:
            return
        detected = scan_time(None, context, where, "the detection time (Gitleaks records none)")
        for i, item in enumerate(leaks):
            yield _exposure(as_obj(item, where.at(i)), where.at(i), context, detected)


def _exposure(leak: dict[str, Any], where: Where, context: ImportContext, detected: datetime) -> ImportedRecord:
    legacy = "RuleID" not in leak and "rule" in leak
    keys = _V7 if legacy else _V8
    rule = opt_str(leak, keys.rule, where)
    if rule is None:
        raise where.at(keys.rule).error("is missing")
    file = opt_str(leak, keys.file, where)
    commit = opt_str(leak, keys.commit, where)
    line = opt_int(leak, keys.line, where)
    # Gitleaks' own fingerprint (what .gitleaksignore uses); early v8 and v7 lack it, so it is
    # computed the same way: commit:file:rule:line, or file:rule:line without git.
    native = None if legacy else opt_str(leak, "Fingerprint", where)
    fingerprint = native or ":".join(str(p) for p in (commit, file, rule, line) if p is not None)
    data = {
        "id": stable_id("gitleaks", context.asset_id or "", fingerprint),
        "asset_id": context.asset_id,
        "detector": rule,
        "location": secret_location(_repository(leak, legacy, context, where), commit, file, line),
        "fingerprint": fingerprint,
        "exposed_at": iso(timestamp_at(leak, keys.date, where)),
        "detected_at": iso(detected),
    }
    return ImportedRecord("secret_exposures", compact(data), str(where))


def _repository(leak: dict[str, Any], legacy: bool, context: ImportContext, where: Where) -> str | None:
    """The manifest's asset, else (v7 only) the repository the report names."""
    if context.asset_id or not legacy:
        return context.asset_id
    repo = opt_str(leak, "repoURL", where) or opt_str(leak, "repo", where)
    return None if repo in (None, ".") else repo


IMPORTER = GitleaksImporter()
