"""Gitleaks JSON (v8 and legacy v7 lowercase keys) → secret_exposures. `Secret`, `Match`, `Line`,
`line`, `offender`, author, email and commit message are never read; only locations and
fingerprints, scrubbed of credentials."""

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
    looks_like_tool,
    opt_line,
    opt_str,
    scan_time,
    scrub_location,
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
    tested_versions=(
        "v8 (golden files, --redact, dir mode, jsonextra template, multi-line secrets, no Fingerprint); "
        "v7 lowercase keys (7.x, also no-git mode); null and [] for no leaks"
    ),
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
        document = load_json(path, context)
        if isinstance(document, dict):
            seen = looks_like_tool(document)
            raise where.error(
                f"is not a Gitleaks report (an array of leaks){f': it looks like {seen}' if seen else ''}"
            )
        detected: datetime | None = None
        for i, item in enumerate(as_list(document, where)):
            leak = as_obj(item, where.at(i))
            keys = _keys(leak, where.at(i))  # another tool's file is named before anything is asked
            detected = detected or scan_time(None, context, where, "the detection time (Gitleaks records none)")
            yield _exposure(leak, keys, where.at(i), context, detected)


def _exposure(
    leak: dict[str, Any], keys: _Keys, where: Where, context: ImportContext, detected: datetime
) -> ImportedRecord:
    legacy = keys is _V7
    rule = opt_str(leak, keys.rule, where)
    if rule is None:
        raise where.at(keys.rule).error("is missing")
    file = opt_str(leak, keys.file, where)
    commit = opt_str(leak, keys.commit, where)
    line = opt_line(leak, keys.line, where)
    native = None if legacy else opt_str(leak, "Fingerprint", where)
    fingerprint = _fingerprint(native, commit, file, rule, line)
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


def _keys(leak: dict[str, Any], where: Where) -> _Keys:
    """The generation of one leak's keys; another tool's object is refused by name."""
    if "RuleID" in leak:
        return _V8
    if isinstance(leak.get("rule"), str) and {"offender", "lineNumber", "line", "commit", "file"} & set(leak):
        return _V7
    seen = looks_like_tool(leak)
    raise where.error(f"is not a Gitleaks leak{f': it looks like {seen}' if seen else ' (no RuleID or rule)'}")


def _fingerprint(native: str | None, commit: str | None, file: str | None, rule: str, line: int | None) -> str:
    """Gitleaks' own fingerprint (what .gitleaksignore uses), credentials scrubbed. Early v8 and
    v7 lack it, so it is computed the same way: commit:file:rule:line, or file:rule:line without
    git; a native one of that shape is rebuilt from the scrubbed parts, any other is scrubbed whole."""
    parts = (commit, file, rule, line)
    if native is None or native == ":".join(str(p) for p in parts if p is not None):
        clean = (scrub_location(commit) if commit else None, scrub_location(file) if file else None, rule, line)
        return ":".join(str(p) for p in clean if p is not None)
    return scrub_location(native)


def _repository(leak: dict[str, Any], legacy: bool, context: ImportContext, where: Where) -> str | None:
    """The manifest's asset, else (v7 only) the repository the report names."""
    if context.asset_id or not legacy:
        return context.asset_id
    repo = opt_str(leak, "repoURL", where) or opt_str(leak, "repo", where)
    return None if repo in (None, ".") else repo


IMPORTER = GitleaksImporter()
