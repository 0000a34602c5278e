"""Sealed test bundles: a preparer key declared in bundle.yaml and bundle.seal.json written with it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from reporter.attest import keys
from reporter.attest.interface import SEAL_FILE
from reporter.attest.seal import seal
from reporter.models.manifest import Manifest

SEALED_AT = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)


def declare_key(bundle: Path, public: keys.Ed25519PublicKey) -> None:
    """Put the preparer's public key into bundle.yaml."""
    path = bundle / "bundle.yaml"
    manifest = yaml.safe_load(path.read_text())
    manifest["prepared_by"]["public_key"] = keys.public_text(public)
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))


def seal_bundle(bundle: Path, key: keys.Ed25519PrivateKey, *, declare: bool = True) -> Path:
    """Declare the key (unless told not to) and write bundle.seal.json; returns the bundle."""
    if declare:
        declare_key(bundle, key.public_key())
    raw = (bundle / "bundle.yaml").read_bytes()
    manifest = Manifest.model_validate(yaml.safe_load(raw))
    (bundle / SEAL_FILE).write_bytes(seal(raw, manifest, key, SEALED_AT))
    return bundle
