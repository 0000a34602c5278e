"""in-toto Statements v1: build one over named artifacts and their SHA-256 digests, sign it into a
DSSE envelope, and read one back from a verified payload. Pure; canonical JSON (sorted keys, no
spaces) so the same content always gives the same signed bytes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from reporter.attest import dsse
from reporter.attest.interface import PAYLOAD_TYPE, STATEMENT_TYPE, Envelope, Statement
from reporter.attest.keys import Ed25519PrivateKey, Ed25519PublicKey
from reporter.errors import VerificationError


def sha256(data: bytes) -> str:
    """Lower-case hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def canonical(data: Any) -> bytes:
    """JSON with sorted keys and no insignificant whitespace (UTF-8)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def statement(digests: Mapping[str, str], predicate_type: str, predicate: Mapping[str, Any]) -> bytes:
    """The statement's bytes: one subject per (name, SHA-256), in name order."""
    body = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digests[name]}} for name in sorted(digests)],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }
    return canonical(body)


def sign_statement(
    digests: Mapping[str, str], predicate_type: str, predicate: Mapping[str, Any], key: Ed25519PrivateKey
) -> Envelope:
    """A DSSE envelope (payload type application/vnd.in-toto+json) over the statement."""
    return dsse.sign(statement(digests, predicate_type, predicate), PAYLOAD_TYPE, key)


def open_statement(envelope: Envelope, public: Ed25519PublicKey, name: str, predicate_type: str) -> Statement:
    """Verify the envelope with `public`, then read its statement and check its types. Every
    failure is a VerificationError naming the file."""
    payload = dsse.verify(envelope, public, name)
    if envelope.payload_type != PAYLOAD_TYPE:
        raise VerificationError(f"{name}: payload type {envelope.payload_type!r}, expected {PAYLOAD_TYPE!r}")
    data = dsse.load_json(payload, name, "an in-toto Statement")
    try:
        parsed = Statement.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(statement)"
        raise VerificationError(f"{name}: not an in-toto Statement v1 ({where}: {first['msg']})") from None
    if parsed.predicate_type != predicate_type:
        raise VerificationError(f"{name}: predicate type {parsed.predicate_type!r}, expected {predicate_type!r}")
    return parsed


def subject_digests(parsed: Statement, name: str) -> dict[str, str]:
    """{subject name: SHA-256} of a statement; a subject without SHA-256 or named twice is refused."""
    digests: dict[str, str] = {}
    for subject in parsed.subject:
        value = subject.digest.get("sha256")
        if value is None or len(value) != 64 or value.strip("0123456789abcdef"):
            raise VerificationError(f"{name}: subject {subject.name!r} has no SHA-256 digest")
        if subject.name in digests:
            raise VerificationError(f"{name}: subject {subject.name!r} is listed twice")
        digests[subject.name] = value
    return digests
