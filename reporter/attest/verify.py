"""Verifying a signed report set: the attestation's signature with a public key, then the SHA-256 of
every attested file, and report-set files the attestation does not name; and, given the assessment
re-performed from the bundle, whether it reproduces results.json byte for byte.

Reads only the output directory it is given (plain file names from the signed statement, never paths).
"""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reporter.attest import dsse
from reporter.attest.interface import (
    ATTESTATION_FILE,
    REPORT_PREDICATE_TYPE,
    FileCheck,
    ReportPredicate,
    Verification,
)
from reporter.attest.intoto import open_statement, sha256, subject_digests
from reporter.attest.keys import Ed25519PublicKey, key_id
from reporter.errors import VerificationError, printable
from reporter.models.results import Assessment, Comparison
from reporter.report.formats.json import results_json

CHUNK = 1024 * 1024


def read_attestation(directory: Path) -> bytes:
    """The attestation's bytes; VerificationError when it is missing or unreadable."""
    path = directory / ATTESTATION_FILE
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise VerificationError(f"{ATTESTATION_FILE}: not a regular file")
        if info.st_size > dsse.MAX_ENVELOPE_BYTES:
            raise VerificationError(f"{ATTESTATION_FILE}: larger than any attestation this tool writes")
        return path.read_bytes()
    except FileNotFoundError:
        raise VerificationError(
            f"{directory} has no {ATTESTATION_FILE}: the report set was not signed (report --sign KEY)"
        ) from None
    except OSError as exc:
        raise VerificationError(f"{ATTESTATION_FILE}: cannot read it ({exc.strerror or exc})") from None


def open_attestation(raw: bytes, public: Ed25519PublicKey) -> tuple[dict[str, str], ReportPredicate]:
    """The attested {file: SHA-256} and the predicate, once the signature verifies with `public`."""
    statement = open_statement(dsse.parse(raw, ATTESTATION_FILE), public, ATTESTATION_FILE, REPORT_PREDICATE_TYPE)
    digests = subject_digests(statement, ATTESTATION_FILE)
    for name in digests:
        if name != Path(name).name or name in (".", "..", ATTESTATION_FILE) or "\\" in name or "\0" in name:
            raise VerificationError(f"{ATTESTATION_FILE}: subject {printable(name)!r} is not a report file name")
    try:
        predicate = ReportPredicate.model_validate(statement.predicate)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise VerificationError(f"{ATTESTATION_FILE}: not a report attestation ({where}: {first['msg']})") from None
    return digests, predicate


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a regular file (read in chunks), None when it is absent or not a regular file."""
    try:
        with path.open("rb") as handle:
            if not stat.S_ISREG(path.stat().st_mode):
                return None
            digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def check_files(directory: Path, digests: dict[str, str], owned: frozenset[str]) -> list[FileCheck]:
    """Every attested file against its digest, then the report-set files present but not attested."""
    checks = []
    for name in sorted(digests):
        actual = file_sha256(directory / name)
        status = "missing" if actual is None else "ok" if actual == digests[name] else "changed"
        checks.append(FileCheck(name=name, status=status, attested_sha256=digests[name], sha256=actual))
    for name in sorted(owned - set(digests) - {ATTESTATION_FILE}):
        actual = file_sha256(directory / name)
        if actual is not None:
            checks.append(FileCheck(name=name, status="unattested", sha256=actual))
    return checks


def problems_of(checks: list[FileCheck]) -> list[str]:
    """One line per file that does not verify, naming it."""
    lines = []
    for check in checks:
        if check.status == "changed":
            lines.append(
                f"{check.name}: SHA-256 is {check.sha256}, the attestation says {check.attested_sha256}: "
                "the file changed after it was signed"
            )
        elif check.status == "missing":
            lines.append(f"{check.name}: attested but missing (or not a regular file)")
        elif check.status == "unattested":
            lines.append(f"{check.name}: in the report directory but not covered by the attestation")
    return lines


def verify_report_set(
    directory: Path, public: Ed25519PublicKey, owned: frozenset[str]
) -> tuple[Verification, ReportPredicate | None]:
    """The whole check of a report directory — signature, then files — and the verified predicate
    (None when the signature or the statement does not verify). Never raises for a mismatch."""
    kid = key_id(public)
    try:
        digests, predicate = open_attestation(read_attestation(directory), public)
    except VerificationError as error:
        return Verification(directory=str(directory), verified=False, key_id=kid, problems=[error.message]), None
    checks = check_files(directory, digests, owned)
    problems = problems_of(checks)
    outcome = Verification(
        directory=str(directory),
        verified=not problems,
        key_id=kid,
        signed_at=predicate.signed_at,
        report_id=predicate.assessment.report_id,
        files=checks,
        problems=problems,
    )
    return outcome, predicate


def compare_reperformed(assessment: Assessment, predicate: ReportPredicate, written: bytes | None) -> list[str]:
    """Problems when the re-performed assessment does not reproduce the attested results (empty: it
    does). `written` is the verified results.json of the set, when the set has one."""
    attested = predicate.bundle.digest
    if assessment.bundle.digest != attested:
        return [
            f"the bundle is not the attested evidence: its digest is {assessment.bundle.digest}, the attestation "
            f"names {attested}"
        ]
    fresh = results_json(with_attested_comparison(assessment, written))
    if sha256(fresh) == predicate.assessment.results_sha256 and (written is None or written == fresh):
        return []
    if written is None:
        return [
            f"results.json: re-performing the assessment gives results with SHA-256 {sha256(fresh)}, the attestation "
            f"says {predicate.assessment.results_sha256} (the set holds no results.json to show where they differ)"
        ]
    return [f"results.json: re-performing the assessment gives different results ({first_difference(written, fresh)})"]


def with_attested_comparison(assessment: Assessment, written: bytes | None) -> Assessment:
    """The re-performed assessment with the `comparison` section of the signed results.json: the
    baselines it compares with are earlier report sets, not evidence of this bundle, so that one section
    is taken from the (already verified) file and every other byte must be reproduced."""
    try:
        data = json.loads(written) if written is not None else None
        found = data.get("comparison") if isinstance(data, dict) else None
        comparison = Comparison.model_validate(found) if found is not None else None
    except (ValueError, ValidationError):
        return assessment
    return assessment if comparison is None else assessment.model_copy(update={"comparison": comparison})


def first_difference(expected: bytes, actual: bytes) -> str:
    """Where two results documents first differ: a JSON path with both values, else a byte offset."""
    try:
        left, right = json.loads(expected), json.loads(actual)
    except ValueError:
        offset = next((i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b), None)
        return f"first differing byte at offset {offset if offset is not None else min(len(expected), len(actual))}"
    for path, a, b in _walk(left, right, "$"):
        return f"first difference at {path}: attested {_short(a)}, re-performed {_short(b)}"
    return "same content, different bytes"


def _walk(a: Any, b: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            yield from _walk(a.get(key, "(absent)"), b.get(key, "(absent)"), f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            yield from _walk(a[i] if i < len(a) else "(absent)", b[i] if i < len(b) else "(absent)", f"{path}[{i}]")
    elif a != b:
        yield path, a, b


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return printable(text if len(text) <= 80 else text[:77] + "...")
