"""DSSE envelopes: the pre-authentication encoding of the specification, signing and verification,
defensive parsing; and interoperability with an independent implementation (securesystemslib, the
library in-toto uses) in both directions."""

from __future__ import annotations

import base64
import json

import pytest
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.signer import CryptoSigner, SSlibKey

from reporter.attest import dsse, keys
from reporter.attest.interface import PAYLOAD_TYPE
from reporter.errors import VerificationError


def test_pae_matches_the_specification() -> None:
    # DSSE protocol.md test vector
    expected = b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    assert dsse.pae("http://example.com/HelloWorld", b"hello world") == expected
    assert dsse.pae("t", b"") == b"DSSEv1 1 t 0 "


def test_sign_and_verify_round_trip() -> None:
    key = keys.generate()
    envelope = dsse.sign(b'{"a":1}', PAYLOAD_TYPE, key)
    raw = dsse.dumps(envelope)
    assert raw.endswith(b"\n")
    assert raw.count(b"\n") == 1
    assert dsse.verify(dsse.parse(raw, "x.jsonl"), key.public_key(), "x.jsonl") == b'{"a":1}'


def test_any_change_breaks_the_signature() -> None:
    key = keys.generate()
    data = json.loads(dsse.dumps(dsse.sign(b'{"a":1}', PAYLOAD_TYPE, key)))
    changed_payload = dict(data, payload=base64.b64encode(b'{"a":2}').decode())
    changed_type = dict(data, payloadType="application/json")
    for variant in (changed_payload, changed_type):
        envelope = dsse.parse(json.dumps(variant).encode(), "x.json")
        with pytest.raises(VerificationError, match="does not verify"):
            dsse.verify(envelope, key.public_key(), "x.json")


def test_another_key_is_named() -> None:
    signer, other = keys.generate(), keys.generate()
    envelope = dsse.sign(b"{}", PAYLOAD_TYPE, signer)
    with pytest.raises(VerificationError) as caught:
        dsse.verify(envelope, other.public_key(), "a.jsonl")
    assert keys.key_id(other.public_key()) in str(caught.value)
    assert keys.key_id(signer.public_key()) in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not a DSSE envelope"),
        (b'{"payload": "e30=", "payloadType": "t", "signatures": []}', "not a DSSE envelope"),
        (b'{"payload": "e30=", "payloadType": "t", "signatures": [{"sig": "AA=="}], "x": 1}', "not a DSSE envelope"),
        (b'{"payload": "e30=", "payload": "e31=", "payloadType": "t", "signatures": [{"sig": "AA=="}]}', "duplicate"),
        (b'{"payload": "***", "payloadType": "t", "signatures": [{"sig": "AA=="}]}', "not base64"),
        (b'{"payload": NaN, "payloadType": "t", "signatures": [{"sig": "AA=="}]}', "not a DSSE envelope"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 100_000, "not a DSSE envelope"),
    ],
)
def test_malformed_envelopes_are_refused_naming_the_file(raw: bytes, message: str) -> None:
    with pytest.raises(VerificationError, match=message) as caught:
        dsse.parse(raw, "attestation.intoto.jsonl")
    assert str(caught.value).startswith("attestation.intoto.jsonl: ")


def test_a_jsonl_file_holds_exactly_one_envelope() -> None:
    line = dsse.dumps(dsse.sign(b"{}", PAYLOAD_TYPE, keys.generate()))
    with pytest.raises(VerificationError, match="holds 2 envelopes"):
        dsse.parse(line + line, "attestation.intoto.jsonl")


def test_url_safe_unpadded_base64_is_accepted() -> None:
    key = keys.generate()
    data = json.loads(dsse.dumps(dsse.sign(b"{}?>", PAYLOAD_TYPE, key)))
    data["payload"] = base64.urlsafe_b64encode(b"{}?>").decode().rstrip("=")
    data["signatures"][0]["sig"] = base64.urlsafe_b64encode(base64.b64decode(data["signatures"][0]["sig"])).decode()
    assert dsse.verify(dsse.parse(json.dumps(data).encode(), "x"), key.public_key(), "x") == b"{}?>"


def test_securesystemslib_verifies_our_envelopes() -> None:
    key = keys.generate()
    raw = dsse.dumps(dsse.sign(b'{"_type": "x"}', PAYLOAD_TYPE, key))
    theirs = SslibEnvelope.from_dict(json.loads(raw))
    public = SSlibKey.from_crypto(key.public_key(), keyid=keys.key_id(key.public_key()))
    assert set(theirs.verify([public], 1)) == {keys.key_id(key.public_key())}


def test_we_verify_securesystemslib_envelopes() -> None:
    key = keys.generate()
    public = SSlibKey.from_crypto(key.public_key(), keyid=keys.key_id(key.public_key()))
    theirs = SslibEnvelope(payload=b'{"k": "v"}', payload_type=PAYLOAD_TYPE, signatures={})
    theirs.sign(CryptoSigner(key, public))
    envelope = dsse.parse(json.dumps(theirs.to_dict()).encode(), "theirs.json")
    assert dsse.verify(envelope, key.public_key(), "theirs.json") == b'{"k": "v"}'
