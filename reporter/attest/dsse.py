"""DSSE (Dead Simple Signing Envelope, protocol v1): sign bytes with an Ed25519 key over the
pre-authentication encoding PAE(payloadType, payload), parse an envelope defensively, verify it.

Pure functions over bytes; a malformed or unverifiable envelope is a VerificationError naming the file.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from pydantic import ValidationError

from reporter.attest.interface import Envelope, Signature
from reporter.attest.keys import Ed25519PrivateKey, Ed25519PublicKey, key_id
from reporter.errors import VerificationError

MAX_ENVELOPE_BYTES = 16 * 1024 * 1024  # a report set's statement is a few kilobytes


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSEv1 SP LEN(type) SP type SP LEN(body) SP body, lengths as ASCII decimal byte counts."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def sign(payload: bytes, payload_type: str, key: Ed25519PrivateKey) -> Envelope:
    """An envelope with one signature by `key` (its key id in `keyid`)."""
    signature = key.sign(pae(payload_type, payload))
    return Envelope(
        payload=base64.b64encode(payload).decode("ascii"),
        payload_type=payload_type,
        signatures=(Signature(keyid=key_id(key.public_key()), sig=base64.b64encode(signature).decode("ascii")),),
    )


def dumps(envelope: Envelope) -> bytes:
    """The envelope as one line of JSON (the `.intoto.jsonl` convention), newline-terminated."""
    data = envelope.model_dump(by_alias=True, mode="json")
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"


def b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (DSSE allows either); ValueError otherwise."""
    text = "".join(text.split())
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded.encode("ascii"))
        return base64.b64decode(padded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("not base64") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"duplicate key {key!r}")
        data[key] = value
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_json(raw: bytes, name: str, what: str) -> Any:
    """Strict JSON of a signed document: UTF-8, no duplicate keys (a reader keeping the other value
    would see another document), no NaN; VerificationError naming the file otherwise."""
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise VerificationError(f"{name}: larger than {MAX_ENVELOPE_BYTES // (1024 * 1024)} MiB; not {what}")
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)[:120] or "too deeply nested"
        raise VerificationError(f"{name}: not {what} ({reason})") from None


def parse(raw: bytes, name: str) -> Envelope:
    """A DSSE envelope from JSON bytes (one envelope; a `.jsonl` file holds it on its only line)."""
    lines = [line for line in raw.splitlines() if line.strip()]
    if len(lines) > 1 and name.endswith(".jsonl"):
        raise VerificationError(f"{name}: holds {len(lines)} envelopes; a report set has exactly one")
    data = load_json(raw, name, "a DSSE envelope")
    try:
        envelope = Envelope.model_validate(data)
        b64decode(envelope.payload)
        for signature in envelope.signatures:
            b64decode(signature.sig)
    except (ValidationError, ValueError) as exc:
        reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise VerificationError(f"{name}: not a DSSE envelope ({reason})") from None
    return envelope


def verify(envelope: Envelope, public: Ed25519PublicKey, name: str) -> bytes:
    """The payload, when a signature of the envelope verifies with `public`; VerificationError
    (naming the file and both key ids when they differ) otherwise."""
    payload = b64decode(envelope.payload)
    message = pae(envelope.payload_type, payload)
    for signature in envelope.signatures:
        try:
            public.verify(b64decode(signature.sig), message)
        except (InvalidSignature, ValueError):
            continue
        return payload
    expected = key_id(public)
    named = sorted({s.keyid for s in envelope.signatures if s.keyid and s.keyid != expected})
    other = f"; it names key {', '.join(named)}" if named else ""
    raise VerificationError(
        f"{name}: the signature does not verify with key {expected}{other}: the signed content was changed, "
        "or it was signed with another key"
    )
