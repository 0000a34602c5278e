"""Ed25519 keys: generate them, write them as PEM, read PEM, OpenSSH or a bare base64 public key, and
name them by key id (SHA-256 of the public key's DER SubjectPublicKeyInfo, lower-case hex).

A key that cannot be used is a UsageError (exit 2) with one message; key bytes never appear in it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from reporter.errors import UsageError

KEY_PASSWORD_ENV = "EXPOSURE_REPORTER_KEY_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
MAX_KEY_BYTES = 64 * 1024
ALGORITHM = "ed25519"

__all__ = [
    "ALGORITHM",
    "KEY_PASSWORD_ENV",
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "generate",
    "key_id",
    "parse_private",
    "parse_public",
    "private_pem",
    "public_pem",
    "public_text",
    "read_private_key",
    "read_public_key",
]


def generate() -> Ed25519PrivateKey:
    """A new Ed25519 private key from the operating system's random source."""
    return Ed25519PrivateKey.generate()


def _spki(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(public: Ed25519PublicKey) -> str:
    """The key id: SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex (64 digits)."""
    return hashlib.sha256(_spki(public)).hexdigest()


def public_text(public: Ed25519PublicKey) -> str:
    """The public key on one line (base64 of its DER SubjectPublicKeyInfo: the body of its PEM), for
    `prepared_by.public_key` in bundle.yaml."""
    return base64.b64encode(_spki(public)).decode("ascii")


def public_pem(public: Ed25519PublicKey) -> bytes:
    """The public key as PEM ("PUBLIC KEY")."""
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_pem(private: Ed25519PrivateKey, password: bytes | None) -> bytes:
    """The private key as PKCS#8 PEM, encrypted with the password when one is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def parse_public(text: str) -> Ed25519PublicKey:
    """A public key written as PEM, as an OpenSSH line (`ssh-ed25519 AAAA… comment`) or as the base64
    of its DER SubjectPublicKeyInfo. ValueError with a short reason otherwise."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key: object = serialization.load_pem_public_key(text.encode("ascii"))
        elif text.startswith("ssh-"):
            key = serialization.load_ssh_public_key(text.encode("ascii"))
        else:
            key = serialization.load_der_public_key(base64.b64decode("".join(text.split()), validate=True))
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeEncodeError, binascii.Error):
        raise ValueError("not a public key in PEM, OpenSSH or base64 DER form") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 key; only Ed25519 is used")
    return key


def parse_private(data: bytes, password: bytes | None) -> Ed25519PrivateKey:
    """A private key in PKCS#8 PEM (encrypted or not) or OpenSSH form. ValueError with a short reason;
    PermissionError when the key is encrypted and no password was given."""
    try:
        if data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
            key = _openssh(data, password)
        else:
            encrypted = b"ENCRYPTED" in data  # PKCS#8 "ENCRYPTED PRIVATE KEY", legacy "Proc-Type: 4,ENCRYPTED"
            if encrypted and password is None:
                raise PermissionError("the key is encrypted")
            key = serialization.load_pem_private_key(data, password if encrypted else None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("not a private key, or the password is wrong") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 key; only Ed25519 is used")
    return key


def _openssh(data: bytes, password: bytes | None) -> object:
    try:
        return serialization.load_ssh_private_key(data, None)
    except TypeError:  # "Password was not given but private key is encrypted"
        if password is None:
            raise PermissionError("the key is encrypted") from None
    return serialization.load_ssh_private_key(data, password)


def _read(path: Path, option: str) -> bytes:
    try:
        if path.stat().st_size > MAX_KEY_BYTES:
            raise UsageError(f"{option} {path}: larger than {MAX_KEY_BYTES // 1024} KiB; not a key file")
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot read it ({exc.strerror or exc})") from None


def read_public_key(path: Path, option: str = "--key") -> Ed25519PublicKey:
    """An Ed25519 public key from a file (PEM, OpenSSH or base64 DER)."""
    data = _read(path, option)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise UsageError(f"{option} {path}: not a public key (not text)") from None
    try:
        return parse_public(text)
    except ValueError as exc:
        raise UsageError(f"{option} {path}: {exc}") from None


def read_private_key(path: Path, environ: Mapping[str, str], option: str = "--key") -> Ed25519PrivateKey:
    """An Ed25519 private key from a file; an encrypted key is decrypted with the password in
    EXPOSURE_REPORTER_KEY_PASSWORD."""
    data = _read(path, option)
    if b"PRIVATE KEY" not in data:
        public = b"PUBLIC KEY" in data or data.startswith(b"ssh-")
        hint = " (that is a public key; sign with the private one)" if public else ""
        raise UsageError(f"{option} {path}: not a private key{hint}")
    password = environ.get(KEY_PASSWORD_ENV)
    try:
        return parse_private(data, password.encode("utf-8") if password else None)
    except PermissionError:
        raise UsageError(f"{option} {path}: the key is encrypted; set {KEY_PASSWORD_ENV} to its password") from None
    except ValueError as exc:
        raise UsageError(f"{option} {path}: {exc}") from None
