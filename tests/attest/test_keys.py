"""Ed25519 keys: PEM and OpenSSH forms, encryption with EXPOSURE_REPORTER_KEY_PASSWORD, the key id, and
one clear usage error (never the key bytes) for anything else."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from reporter.attest import keys
from reporter.errors import UsageError


def test_pem_round_trip_and_key_id() -> None:
    key = keys.generate()
    public = key.public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert keys.key_id(public) == hashlib.sha256(der).hexdigest()
    assert keys.public_text(public) == base64.b64encode(der).decode()
    for text in (keys.public_pem(public).decode(), keys.public_text(public)):
        assert keys.key_id(keys.parse_public(text)) == keys.key_id(public)
    back = keys.parse_private(keys.private_pem(key, None), None)
    assert keys.key_id(back.public_key()) == keys.key_id(public)


def test_openssh_forms_are_read() -> None:
    key = keys.generate()
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    assert keys.key_id(keys.parse_public(line.decode() + " dana@laptop")) == keys.key_id(key.public_key())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.BestAvailableEncryption(b"pw")
    )
    with pytest.raises(PermissionError):
        keys.parse_private(private, None)
    assert keys.key_id(keys.parse_private(private, b"pw").public_key()) == keys.key_id(key.public_key())


def test_encrypted_key_needs_the_password_variable(tmp_path: Path) -> None:
    key = keys.generate()
    path = tmp_path / "signer.key"
    path.write_bytes(keys.private_pem(key, b"correct horse"))
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    with pytest.raises(UsageError, match="encrypted; set EXPOSURE_REPORTER_KEY_PASSWORD"):
        keys.read_private_key(path, {})
    with pytest.raises(UsageError, match="password is wrong"):
        keys.read_private_key(path, {keys.KEY_PASSWORD_ENV: "wrong"})
    found = keys.read_private_key(path, {keys.KEY_PASSWORD_ENV: "correct horse"})
    assert keys.key_id(found.public_key()) == keys.key_id(key.public_key())


def test_an_unencrypted_key_ignores_a_password_set_for_another_key(tmp_path: Path) -> None:
    key = keys.generate()
    path = tmp_path / "plain.key"
    path.write_bytes(keys.private_pem(key, None))
    assert keys.read_private_key(path, {keys.KEY_PASSWORD_ENV: "unrelated"}).public_key() == key.public_key()


def _other_keys() -> list[bytes]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    return [
        k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        for k in (rsa_key, ec_key)
    ]


@pytest.mark.parametrize("pem", _other_keys())
def test_other_algorithms_are_refused(tmp_path: Path, pem: bytes) -> None:
    path = tmp_path / "other.pub"
    path.write_bytes(pem)
    with pytest.raises(UsageError, match="not an Ed25519 key"):
        keys.read_public_key(path)


def test_unusable_files_are_one_clear_usage_error(tmp_path: Path) -> None:
    key = keys.generate()
    public = tmp_path / "signer.pub"
    public.write_bytes(keys.public_pem(key.public_key()))
    with pytest.raises(UsageError, match="that is a public key; sign with the private one"):
        keys.read_private_key(public, {}, "--sign")
    with pytest.raises(UsageError, match="cannot read it"):
        keys.read_public_key(tmp_path / "absent.pub")
    garbage = tmp_path / "garbage.pub"
    garbage.write_bytes(b"\xff\xfe not a key")
    with pytest.raises(UsageError, match="not a public key"):
        keys.read_public_key(garbage)
    big = tmp_path / "big.key"
    big.write_bytes(b"-----BEGIN PRIVATE KEY-----\n" + b"A" * (keys.MAX_KEY_BYTES + 1))
    with pytest.raises(UsageError, match="not a key file"):
        keys.read_private_key(big, {})
    secret = keys.private_pem(key, None).decode()
    with pytest.raises(UsageError) as caught:
        keys.read_public_key(_write(tmp_path / "private-as-public.pub", secret))
    assert secret.splitlines()[1] not in str(caught.value)  # key bytes never reach a message


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
