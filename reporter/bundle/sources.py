"""Reading a bundle's files: manifest and policy, every listed file hashed and read into the
evidence store (through an importer for tool formats), freshness and the bundle digest.

Problems become `Issue`s so one run reports as many as possible. Nothing here prints.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
from pydantic import ValidationError

from reporter.attest.dsse import MAX_ENVELOPE_BYTES
from reporter.attest.interface import SEAL_FILE
from reporter.attest.seal import check_seal
from reporter.bundle.interface import LoadedBundle, Progress, SourceSummary
from reporter.bundle.lanes import ALONE_FRACTION, Lanes
from reporter.bundle.limits import Limits
from reporter.bundle.opener import MANIFEST_NAME
from reporter.bundle.prescan import FileFacts, prescan
from reporter.bundle.report import issue_of
from reporter.bundle.safeyaml import YamlDocument, load_yaml
from reporter.errors import EvidenceError, Location
from reporter.importers.interface import ImportContext, ImportedRecord
from reporter.models.issues import Issue, IssueSeverity
from reporter.models.kinds import KINDS
from reporter.models.manifest import TABULAR_FORMATS, Manifest, Source
from reporter.models.policy import Policy, PolicyFile
from reporter.policy import default_policy, resolve_policy
from reporter.store.messages import pydantic_issues
from reporter.store.parallel import default_workers, sessions, side_by_side
from reporter.store.store import EvidenceStore, LoadResult

RECORDS_JSONL = "records-jsonl"


def _issue(code: str, message: str, severity: IssueSeverity = IssueSeverity.ERROR, **where: Any) -> Issue:
    return Issue(code=code, severity=severity, message=message, **where)


def read_sources(
    loaded: LoadedBundle, limits: Limits, progress: Progress | None, seal_keys: frozenset[str] = frozenset()
) -> None:
    """Read the manifest, check its seal, read the policy and every listed evidence file into the store."""
    manifest = _read_manifest(loaded, limits)
    if manifest is None:
        return
    loaded.manifest = manifest
    _check_seal(loaded, manifest, seal_keys)
    loaded.policy = _read_policy(loaded, manifest, limits)
    _check_listing(loaded, manifest)
    present = [s for s in manifest.sources if s.path in loaded.opened.files]
    for read in _read_side_by_side(loaded, present, limits, progress):
        loaded.sources.append(read.summary)
        loaded.issues.extend(read.issues)
        if read.row is not None:
            loaded.store.add_source(read.row)
    if progress:
        progress("loaded evidence files", len(present), len(present))
    _check_freshness(loaded, manifest)
    loaded.digest = _digest(loaded)
    period = manifest.period
    loaded.store.set_bundle(
        {
            "organisation": manifest.organisation,
            "scope": manifest.scope,
            "period_start": period.start,
            "period_end": period.end,
            "period_end_at": period.end_at,
            "prepared_by": manifest.prepared_by.name,
            "classification": manifest.classification,
            "digest": loaded.digest,
        }
    )


# --- manifest and policy -------------------------------------------------------------------------


def read_document(loaded: LoadedBundle, rel: str, limits: Limits) -> tuple[bytes, YamlDocument] | None:
    """A YAML document of the bundle (manifest, policy, responses): its bytes and its parse, or None
    with the issue recorded."""
    path = loaded.opened.root / rel
    try:
        prescan(path, rel, limits, text=True)
        raw = path.read_bytes()
        return raw, load_yaml(raw, rel, limits)
    except EvidenceError as error:
        loaded.issues.append(issue_of(error))
    except OSError as exc:  # removed or made unreadable while the bundle was being read
        loaded.issues.append(_issue("file.unreadable", f"cannot read: {exc.strerror or exc}", file=rel))
    return None


def _read_manifest(loaded: LoadedBundle, limits: Limits) -> Manifest | None:
    read = read_document(loaded, MANIFEST_NAME, limits)
    if read is None:
        return None
    raw, document = read
    loaded.manifest_sha256 = hashlib.sha256(raw).hexdigest()
    if not isinstance(document.data, dict):
        loaded.issues.append(_issue("manifest.invalid", "must be a mapping of keys", file=MANIFEST_NAME, line=1))
        return None
    try:
        manifest = Manifest.model_validate(document.data)
    except ValidationError as exc:
        loaded.issues.extend(pydantic_issues(exc, MANIFEST_NAME, None, document.line_of, prefix="manifest"))
        return None
    problems = _source_problems(manifest, document)
    loaded.issues.extend(problems)
    return None if problems else manifest


def _source_problems(manifest: Manifest, document: YamlDocument) -> list[Issue]:
    issues = []
    for i, source in enumerate(manifest.sources):
        fmt = source.effective_format
        line = document.line_of(("sources", i, "kind"))
        if fmt in TABULAR_FORMATS:
            if source.kind is None:
                issues.append(
                    _issue(
                        "manifest.invalid",
                        f"source {source.path} needs a kind (one of: {', '.join(KINDS)})",
                        field=f"sources[{i}].kind",
                        file=MANIFEST_NAME,
                        line=line,
                    )
                )
            elif source.kind not in KINDS:
                issues.append(
                    _issue(
                        "manifest.invalid",
                        f"unknown kind '{source.kind[:40]}' (one of: {', '.join(KINDS)})",
                        field=f"sources[{i}].kind",
                        file=MANIFEST_NAME,
                        line=line,
                    )
                )
        elif fmt != RECORDS_JSONL and not _importer_known(fmt):
            issues.append(
                _issue(
                    "manifest.invalid",
                    f"unknown format '{fmt[:40]}' (one of: {', '.join(_formats())})",
                    field=f"sources[{i}].format",
                    file=MANIFEST_NAME,
                    line=document.line_of(("sources", i, "format")),
                )
            )
    return issues


def _formats() -> list[str]:
    from reporter.importers.registry import importer_formats  # noqa: PLC0415

    return [*TABULAR_FORMATS, RECORDS_JSONL, *importer_formats()]


def _importer_known(fmt: str) -> bool:
    return fmt in _formats()


def _read_policy(loaded: LoadedBundle, manifest: Manifest, limits: Limits) -> Policy:
    if manifest.policy is None:
        return default_policy()
    rel = manifest.policy
    if rel not in loaded.opened.files:
        loaded.issues.append(_issue("policy.invalid", "policy file named in bundle.yaml is missing", file=rel))
        return default_policy()
    read = read_document(loaded, rel, limits)
    if read is None:
        return default_policy()
    raw, document = read
    # The policy decides deadlines as much as the evidence does: its hash is checked like a source's.
    actual = hashlib.sha256(raw).hexdigest()
    if manifest.policy_sha256 is None:
        message = "bundle.yaml gives no policy_sha256 for the policy file; its integrity cannot be checked"
        loaded.issues.append(_issue("policy.no-hash", message, IssueSeverity.WARNING, file=rel))
    elif manifest.policy_sha256 != actual:
        message = (
            f"sha256 is {actual}, bundle.yaml says {manifest.policy_sha256}: the policy changed after the "
            "manifest was written"
        )
        loaded.issues.append(_issue("policy.hash-mismatch", message, file=rel))
    try:
        policy_file = PolicyFile.model_validate(document.data or {})
    except ValidationError as exc:
        loaded.issues.extend(pydantic_issues(exc, rel, None, document.line_of, prefix="policy"))
        return default_policy()
    from reporter.models.plausible import implausible_fields  # noqa: PLC0415
    from reporter.store.messages import field_path  # noqa: PLC0415

    odd = list(implausible_fields(policy_file))
    for path, problem in odd:
        line, name = document.line_of(path), field_path(path)
        loaded.issues.append(_issue("policy.invalid", f"implausible date: {problem}", file=rel, line=line, field=name))
    if odd:
        return default_policy()
    try:
        return resolve_policy(policy_file)
    except ValueError as exc:
        loaded.issues.append(_issue("policy.invalid", str(exc), file=rel))
    return default_policy()


def _check_seal(loaded: LoadedBundle, manifest: Manifest, trusted: frozenset[str]) -> None:
    """The preparer's seal over bundle.yaml (reporter/attest/seal.py): verified, or an error."""
    size = loaded.opened.files.get(SEAL_FILE)
    if size is not None and size > MAX_ENVELOPE_BYTES:
        message = f"larger than {MAX_ENVELOPE_BYTES // (1024 * 1024)} MiB; not a bundle seal"
        loaded.issues.append(_issue("seal.invalid", message, file=SEAL_FILE))
        return
    path = loaded.opened.root / SEAL_FILE
    loaded.seal, problems = check_seal(
        path.read_bytes if size is not None else None, loaded.manifest_sha256, manifest, trusted
    )
    loaded.issues.extend(problems)


def _check_listing(loaded: LoadedBundle, manifest: Manifest) -> None:
    listed = {s.path for s in manifest.sources}
    for source in manifest.sources:
        if source.path not in loaded.opened.files:
            loaded.issues.append(
                _issue(
                    "source.missing",
                    "listed in bundle.yaml but not in the bundle",
                    file=source.path,
                )
            )
    known = listed | {MANIFEST_NAME, SEAL_FILE} | ({manifest.policy} if manifest.policy else set())
    known |= {manifest.management_responses} if manifest.management_responses else set()
    for rel in sorted(set(loaded.opened.files) - known):
        loaded.issues.append(
            _issue(
                "source.unlisted",
                "file is in the bundle but not listed in bundle.yaml; it was not read",
                IssueSeverity.WARNING,
                file=rel,
            )
        )


# --- evidence files ------------------------------------------------------------------------------


# DuckDB enforces the line limit itself on these, so hashing can overlap with loading; other
# formats are parsed as whole documents and must pass the prescan before anything parses them.
_OVERLAPPED = frozenset({"csv", "jsonl", "parquet"})


@dataclass
class _SourceRead:
    """What reading one evidence file gave: its summary, its issues in the order they were found,
    and its row of the `sources` table (None when the file was refused as a whole)."""

    summary: SourceSummary
    issues: list[Issue] = field(default_factory=list)
    row: dict[str, Any] | None = None


def _read_side_by_side(
    loaded: LoadedBundle, present: list[Source], limits: Limits, progress: Progress | None
) -> list[_SourceRead]:
    """Read every present file into the store, two at a time on their own connections when DuckDB
    has two threads (D104; `lanes` says which file goes next); the results in the manifest's order."""
    limit = loaded.store.memory_limit()
    alone_above = None if limit is None else limit // ALONE_FRACTION
    lanes = Lanes(present, [loaded.opened.files[s.path] for s in present], progress, alone_above)
    reads: dict[int, _SourceRead] = {}
    workers = min(default_workers(loaded.store.con), len(present)) or 1
    with (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prescan") as pool,
        sessions(loaded.store.con, workers) as connections,
    ):

        def work(con: duckdb.DuckDBPyConnection) -> None:
            store = EvidenceStore(con)
            while (item := lanes.next()) is not None:
                i, source = item
                try:
                    reads[i] = _load_source(loaded.opened.root, store, source, limits, pool)
                except BaseException:
                    lanes.stop()  # the other worker takes no further file
                    raise
                lanes.done(i)

        side_by_side(work, connections, lanes.stop)
    return [reads[i] for i in range(len(present))]


def _load_source(
    root: Path, store: EvidenceStore, source: Source, limits: Limits, pool: ThreadPoolExecutor
) -> _SourceRead:
    rel, fmt = source.path, source.effective_format
    path = root / rel
    text = fmt != "parquet" and not fmt.endswith(("-xml", ".gz")) and _utf8_text(fmt)
    facts: Future[FileFacts] = pool.submit(prescan, path, rel, limits, text=text)
    read = _SourceRead(SourceSummary(path=rel, format=fmt, kinds=[source.kind] if source.kind else []))
    if fmt not in _OVERLAPPED and not _prescan_ok(read.issues, facts):
        return read
    try:
        results = _read(store, read.issues, source, path, limits, lambda: _lines(facts))
        load_error: Issue | None = None
    except EvidenceError as error:
        results, load_error = {}, issue_of(error)
    except OSError as exc:  # e.g. removed or unreadable while the bundle was being read
        results, load_error = {}, _issue("file.unreadable", f"cannot read: {exc.strerror or exc}", file=rel)
    if fmt in _OVERLAPPED and not _prescan_ok(read.issues, facts):
        for kind in results:  # the file is refused as a whole: drop what was read
            store.con.execute(f'DELETE FROM "{kind}" WHERE _source = $s', {"s": rel})
        return read
    if load_error:
        read.issues.append(load_error)
    for result in results.values():
        read.issues.extend(result.issues)
    fact = facts.result()
    summary = read.summary
    summary.kinds = sorted(results) or summary.kinds
    summary.records = sum(r.records for r in results.values())
    summary.sha256, summary.bytes = fact.sha256, fact.size
    read.issues.extend(_hash_issues(source, fact))
    read.row = {
        "path": rel,
        "kinds": summary.kinds,
        "format": fmt,
        "tool": source.tool,
        "collected_at": source.collected_at,
        "sha256": fact.sha256,
        "sha256_declared": source.sha256,
        "bytes": fact.size,
        "records": summary.records,
        "description": source.description,
    }
    return read


def _utf8_text(fmt: str) -> bool:
    """False for a tool format whose importer reads gzip or UTF-16 and checks its lines itself."""
    from reporter.importers.registry import IMPORTERS  # noqa: PLC0415

    importer = IMPORTERS.get(fmt)
    return importer is None or importer.info.utf8_text


def _prescan_ok(issues: list[Issue], facts: Future[FileFacts]) -> bool:
    try:
        facts.result()
    except EvidenceError as error:
        issues.append(issue_of(error))
        return False
    except OSError as exc:
        issues.append(_issue("file.unreadable", f"cannot read: {exc.strerror or exc}", file=exc.filename))
        return False
    return True


def _lines(facts: Future[FileFacts]) -> int | None:
    """The file's line count from its prescan; None when the prescan refused the file (the file is
    then refused as a whole after it is read) or counted none (not a text file)."""
    try:
        return facts.result().lines or None
    except (EvidenceError, OSError):
        return None


def _read(
    store: EvidenceStore,
    issues: list[Issue],
    source: Source,
    path: Path,
    limits: Limits,
    lines: Callable[[], int | None],
) -> dict[str, LoadResult]:
    """Read one file into the store; `lines()` gives its line count once a CSV file is staged (from
    its prescan, which runs beside the read)."""
    fmt = source.effective_format
    if fmt in TABULAR_FORMATS:
        assert source.kind is not None
        return {source.kind: store.load_file(KINDS[source.kind], path, source.path, fmt, limits, lines)}
    if fmt == RECORDS_JSONL:
        records = _read_records_jsonl(path, source.path)
    else:
        from reporter.importers.registry import get_importer  # noqa: PLC0415
        from reporter.importers.run import collect_all  # noqa: PLC0415

        context = ImportContext(
            source_path=source.path,
            asset_id=source.asset_id,
            collected_at=source.collected_at,
            timezone=source.timezone,
            date_order=source.date_order,
        )
        records, notes = collect_all(get_importer(fmt), path, context)
        for note in notes:  # valid records that prove less than they seem to
            warning = _issue("import.warning", note.message, IssueSeverity.WARNING, file=source.path)
            issues.append(warning.model_copy(update={"field": note.location or None}))
    by_kind: dict[str, list[ImportedRecord]] = {}
    for record in records:
        by_kind.setdefault(record.kind, []).append(record)
    return {
        kind: store.load_imported(KINDS[kind], items, source.path, limits) for kind, items in sorted(by_kind.items())
    }


def _read_records_jsonl(path: Path, rel: str, limits: Limits | None = None) -> list[ImportedRecord]:
    """`exposure-reporter import` output: one record per line with a `kind` key. Each line is
    parsed with the nesting, duplicate-key and number checks of every JSON reader."""
    from reporter.bundle.limits import DEFAULT_LIMITS  # noqa: PLC0415
    from reporter.bundle.safetext import load_json, reading  # noqa: PLC0415

    records = []
    with reading(rel), path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            data = load_json(line, _at(rel, number), limits or DEFAULT_LIMITS)
            if not isinstance(data, dict) or data.get("kind") not in KINDS:
                raise EvidenceError(
                    f"each line needs a 'kind' key naming a record kind ({', '.join(KINDS)})",
                    code="record.missing-field",
                    location=_at(rel, number, "kind"),
                )
            kind = data.pop("kind")
            records.append(ImportedRecord(kind=kind, data=data, location=f"line {number}"))
    return records


def _at(rel: str, line: int, fld: str | None = None) -> Location:
    return Location(file=rel, line=line, field=fld)


def _hash_issues(source: Source, fact: FileFacts) -> list[Issue]:
    if source.sha256 is None:
        return [
            _issue(
                "source.no-hash",
                "bundle.yaml gives no sha256 for this file; its integrity cannot be checked",
                IssueSeverity.WARNING,
                file=source.path,
            )
        ]
    if source.sha256 != fact.sha256:
        return [
            _issue(
                "source.hash-mismatch",
                f"sha256 is {fact.sha256}, bundle.yaml says {source.sha256}: the file changed after the "
                "manifest was written",
                file=source.path,
            )
        ]
    return []


def _check_freshness(loaded: LoadedBundle, manifest: Manifest) -> None:
    fresh = loaded.policy.freshness
    end = manifest.period.end_at
    for source in manifest.sources:
        kinds = [source.kind] if source.kind else []
        max_age = min([fresh.per_kind.get(k, fresh.max_age_days) for k in kinds] or [fresh.max_age_days])
        if source.collected_at < end - timedelta(days=max_age):
            loaded.issues.append(
                _issue(
                    "source.stale",
                    f"collected {source.collected_at:%Y-%m-%d}, more than {max_age} days before the period end "
                    f"{manifest.period.end}; it may not show the state at the end of the period",
                    IssueSeverity.WARNING,
                    file=source.path,
                )
            )
        elif source.collected_at > end + timedelta(days=fresh.max_lag_days):
            loaded.issues.append(
                _issue(
                    "source.late",
                    f"collected {source.collected_at:%Y-%m-%d}, more than {fresh.max_lag_days} days after the "
                    "period end; records after the period end are ignored by the assessment",
                    IssueSeverity.WARNING,
                    file=source.path,
                )
            )


def _digest(loaded: LoadedBundle) -> str:
    """The bundle digest: manifest hash, the policy file's hash (it sets the deadlines, so changing
    an SLA must change the digest and the report id), and every source's path and hash."""
    parts: dict[str, Any] = {
        "manifest": loaded.manifest_sha256,
        "sources": sorted((s.path, s.sha256 or "") for s in loaded.sources),
    }
    policy = loaded.manifest.policy if loaded.manifest else None
    if policy is not None and policy in loaded.opened.files:
        try:  # read again: the policy is small, and LoadedBundle keeps no hash of it
            parts["policy"] = hashlib.sha256((loaded.opened.root / policy).read_bytes()).hexdigest()
        except OSError:
            parts["policy"] = "unreadable"
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
