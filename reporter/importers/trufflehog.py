"""TruffleHog v3 `--json` (NDJSON; also an array, pretty-printed or concatenated objects) →
secret_exposures. Raw/RawV2 only feed a hash; SecretParts, Redacted and ExtraData are never read;
every location field is scrubbed of credentials."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from reporter.errors import ImportFormatError
from reporter.importers._common import (
    Where,
    as_list,
    as_obj,
    compact,
    digest,
    first_char,
    iso,
    iter_json_stream,
    load_json,
    looks_like_tool,
    opt_bool,
    opt_line,
    opt_obj,
    opt_str,
    safe_key,
    scan_time,
    scrub_location,
    secret_location,
    stable_id,
    start,
    timestamp_at,
)
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="trufflehog-jsonl",
    tool="TruffleHog",
    kinds=("secret_exposures",),
    tested_versions=(
        "v3 --json (3.x: git, github, filesystem, docker sources; DetectorDescription, "
        "VerificationError, VerificationFromCache); early v3 (2022) with base64 Raw"
    ),
    produce_with="trufflehog git|github|filesystem|docker ... --json > trufflehog.jsonl",
    notes="No scan time in the output: set collected_at. Exact duplicate lines are merged.",
    extensions=(".jsonl", ".ndjson", ".json"),
)

# SourceMetadata.Data.<Kind> fields naming the place (proto/source_metadata.proto): the first
# present is the container; `link` stands in only when neither a container nor a file is known.
_CONTAINER_KEYS = ("repository", "bucket", "image", "container", "project", "repo")
_FILE_KEYS = ("file", "filename", "path")
_FINDING_KEYS = frozenset({"SourceMetadata", "DetectorName", "DetectorType"})


class TrufflehogImporter:
    """Reads one TruffleHog JSON stream."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield one secret exposure per distinct finding (repeats merged, verified wins)."""
        kept: dict[str, ImportedRecord] = {}
        detected: datetime | None = None
        for where, value in _values(path, context):
            finding = as_obj(value, where)
            if not _FINDING_KEYS & set(finding):
                raise _not_a_finding(finding, where)
            if detected is None:
                detected = scan_time(None, context, where, "the detection time (TruffleHog records none)")
            record = _exposure(finding, where, context, detected)
            previous = kept.get(record.data["id"])
            if previous is None or record.data.get("verified_live") is True:
                kept[record.data["id"]] = record
        yield from kept.values()


def _not_a_finding(value: dict[str, Any], where: Where) -> ImportFormatError:
    """The error refusing an object that is no finding, naming what it looks like when known."""
    seen = looks_like_tool(value)
    return where.error(
        f"is not a TruffleHog v3 finding: {f'it looks like {seen}' if seen else 'no SourceMetadata or Detector'}"
    )


def _values(path: Path, context: ImportContext) -> Iterator[tuple[Where, Any]]:
    """Each top-level value with its position; a stream wrapped in an array is unwrapped."""
    where = start(context)
    if first_char(path, where) == "[":
        for i, value in enumerate(as_list(load_json(path, context), where)):
            yield where.at(i), value
        return
    for line, value in iter_json_stream(path, context):
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield where.on_line(line).at(i), item
        else:
            yield where.on_line(line), value


def _exposure(finding: dict[str, Any], where: Where, context: ImportContext, detected: datetime) -> ImportedRecord:
    detector = opt_str(finding, "DetectorName", where) or opt_str(finding, "DetectorType", where)
    if detector is None:
        raise where.at("DetectorName").error("is missing")
    kind, meta, meta_where = _source(finding, where)
    commit = _scrubbed(meta, ("commit",), meta_where)
    file = _scrubbed(meta, _FILE_KEYS, meta_where)
    line = opt_line(meta, "line", meta_where)
    container = _container(kind, meta, meta_where, file)
    secret_hash = _secret_hash(finding, where)
    fingerprint = (
        "trufflehog:"
        + digest(
            kind,
            container,
            commit,
            file,
            None if line is None else str(line),  # as text, so fingerprints match earlier releases
            opt_str(finding, "DetectorType", where) or detector,
            secret_hash,
        )[:32]
    )
    data = {
        "id": stable_id("trufflehog", context.asset_id or "", fingerprint),
        "asset_id": context.asset_id,
        "detector": detector,
        "location": secret_location(container or context.asset_id, commit, file, line),
        "fingerprint": fingerprint,
        "verified_live": _verified(finding, where),
        "exposed_at": iso(timestamp_at(meta, "timestamp", meta_where)),
        "detected_at": iso(detected),
    }
    return ImportedRecord("secret_exposures", compact(data), str(where))


def _scrubbed(meta: dict[str, Any], keys: tuple[str, ...], where: Where) -> str | None:
    """The first of `keys` that is set, scrubbed of credentials."""
    value = next((v for k in keys if (v := opt_str(meta, k, where))), None)
    return scrub_location(value) if value else None


def _container(kind: str, meta: dict[str, Any], where: Where, file: str | None) -> str | None:
    """Repository, bucket, image:tag... (scrubbed); the link when nothing else names the place."""
    container = _scrubbed(meta, _CONTAINER_KEYS, where)
    if container and kind == "Docker" and (tag := _scrubbed(meta, ("tag",), where)):
        return f"{container}:{tag}"
    return container or (None if file else _scrubbed(meta, ("link",), where))


def _source(finding: dict[str, Any], where: Where) -> tuple[str, dict[str, Any], Where]:
    """(kind, fields, position) of SourceMetadata.Data.<Kind>; an unknown layout gives no fields."""
    data_where = where.at("SourceMetadata").at("Data")
    data = opt_obj(opt_obj(finding, "SourceMetadata", where), "Data", where.at("SourceMetadata"))
    for kind in sorted(data):
        if isinstance(data[kind], dict):
            return kind, data[kind], data_where.at(safe_key(kind))  # a map key: printed only if a plain name
    return opt_str(finding, "SourceName", where) or "unknown", {}, data_where


def _verified(finding: dict[str, Any], where: Where) -> bool | None:
    """True: authenticated at detection. None: verification errored (unknown, not a false
    positive). False: not confirmed."""
    if opt_bool(finding, "Verified", where):
        return True
    return None if finding.get("VerificationError") else False


def _secret_hash(finding: dict[str, Any], where: Where) -> str:
    """sha256 of the secret, so one secret at one place is one finding. Early v3 wrote Raw as
    base64 (no DecoderName key then): it is decoded first so fingerprints match newer output."""
    raw = finding.get("Raw") or finding.get("RawV2") or ""
    if not isinstance(raw, str):
        raise where.at("Raw").error("expected a string")
    if "DecoderName" not in finding and raw:
        with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):  # plain after all
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


IMPORTER = TrufflehogImporter()
