"""The preparer's seal, checked on every load: a sealed bundle is valid and carries the seal into the
results; an edited-and-rehashed bundle, a forged or foreign seal, a missing seal the manifest promises
and an untrusted key are each one clear error."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
import yaml
from support.bundles import minimal_valid
from support.sealing import SEALED_AT, declare_key, seal_bundle

from reporter.attest import dsse, keys
from reporter.attest.interface import SEAL_FILE, SEAL_PREDICATE_TYPE
from reporter.attest.intoto import sign_statement
from reporter.attest.seal import seal
from reporter.bundle.interface import ValidationReport
from reporter.errors import UsageError
from reporter.models.manifest import Manifest
from reporter.pipeline import LoadOptions, validate_bundle


def _errors(report: ValidationReport) -> list[tuple[str, str | None]]:
    return [(i.code, i.file) for i in report.issues if i.severity.value == "error"]


@pytest.fixture
def key() -> keys.Ed25519PrivateKey:
    return keys.generate()


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return minimal_valid(tmp_path / "bundle").write()


def test_a_sealed_bundle_is_valid_and_the_seal_is_trusted_when_asked(bundle: Path, key: keys.Ed25519PrivateKey) -> None:
    seal_bundle(bundle, key)
    report = validate_bundle(bundle, LoadOptions())
    assert report.valid, _errors(report)
    assert not [i for i in report.issues if i.file == SEAL_FILE]  # not an unlisted file either
    trusted = LoadOptions(seal_keys=frozenset({keys.key_id(key.public_key())}))
    assert validate_bundle(bundle, trusted).valid


def test_an_edited_and_rehashed_bundle_is_told_apart(bundle: Path, key: keys.Ed25519PrivateKey) -> None:
    seal_bundle(bundle, key)
    evidence = bundle / "findings.jsonl"
    record = json.loads(evidence.read_text())
    assert record["severity"] != "low"
    evidence.write_text(json.dumps({**record, "severity": "low"}) + "\n")  # a finding downgraded
    manifest = yaml.safe_load((bundle / "bundle.yaml").read_text())
    for source in manifest["sources"]:  # the forger updates every hash: the bundle is consistent again
        source["sha256"] = hashlib.sha256((bundle / source["path"]).read_bytes()).hexdigest()
    (bundle / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    report = validate_bundle(bundle, LoadOptions())
    assert _errors(report) == [("seal.mismatch", "bundle.yaml")]
    assert "changed after it was sealed" in report.issues[0].message


def test_resealing_with_another_key_is_caught_by_the_trusted_key(bundle: Path, key: keys.Ed25519PrivateKey) -> None:
    forger = keys.generate()
    seal_bundle(bundle, forger)  # declares the forger's key and seals with it
    trusted = LoadOptions(seal_keys=frozenset({keys.key_id(key.public_key())}))
    report = validate_bundle(bundle, trusted)
    assert _errors(report) == [("seal.untrusted", SEAL_FILE)]
    assert keys.key_id(forger.public_key()) in report.issues[0].message


def test_a_seal_by_a_key_other_than_the_declared_one_is_invalid(bundle: Path, key: keys.Ed25519PrivateKey) -> None:
    declare_key(bundle, key.public_key())
    raw = (bundle / "bundle.yaml").read_bytes()
    other = keys.generate()
    manifest = Manifest.model_validate(yaml.safe_load(raw))
    forged = manifest.model_copy(
        update={
            "prepared_by": manifest.prepared_by.model_copy(update={"public_key": keys.public_text(other.public_key())})
        }
    )
    (bundle / SEAL_FILE).write_bytes(seal(raw, forged, other, SEALED_AT))
    assert _errors(validate_bundle(bundle, LoadOptions())) == [("seal.invalid", SEAL_FILE)]


def test_a_changed_seal_is_invalid(bundle: Path, key: keys.Ed25519PrivateKey) -> None:
    seal_bundle(bundle, key)
    envelope = json.loads((bundle / SEAL_FILE).read_bytes())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["sealed_at"] = "2026-09-01T00:00:00Z"  # backdate the seal
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (bundle / SEAL_FILE).write_text(json.dumps(envelope))
    assert _errors(validate_bundle(bundle, LoadOptions())) == [("seal.invalid", SEAL_FILE)]
    (bundle / SEAL_FILE).write_bytes(b"{not json")
    assert _errors(validate_bundle(bundle, LoadOptions())) == [("seal.invalid", SEAL_FILE)]


def test_a_promised_seal_must_be_there(bundle: Path, key: keys.Ed25519PrivateKey) -> None:
    declare_key(bundle, key.public_key())
    assert _errors(validate_bundle(bundle, LoadOptions())) == [("seal.missing", SEAL_FILE)]


def test_a_trusted_key_requires_a_seal(bundle: Path, key: keys.Ed25519PrivateKey) -> None:
    trusted = LoadOptions(seal_keys=frozenset({keys.key_id(key.public_key())}))
    assert _errors(validate_bundle(bundle, trusted)) == [("seal.missing", SEAL_FILE)]
    assert validate_bundle(bundle, LoadOptions()).valid  # unsealed bundles stay valid otherwise


def test_a_seal_without_its_key_proves_nothing(bundle: Path, key: keys.Ed25519PrivateKey) -> None:
    seal_bundle(bundle, key)
    manifest = yaml.safe_load((bundle / "bundle.yaml").read_text())
    del manifest["prepared_by"]["public_key"]
    (bundle / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    assert _errors(validate_bundle(bundle, LoadOptions())) == [("seal.no-key", SEAL_FILE)]


def test_a_file_without_hash_is_not_covered(tmp_path: Path, key: keys.Ed25519PrivateKey) -> None:
    bundle = minimal_valid(tmp_path / "bundle").write()
    seal_bundle(bundle, key)
    manifest = yaml.safe_load((bundle / "bundle.yaml").read_text())
    del manifest["sources"][0]["sha256"]
    raw = yaml.safe_dump(manifest, sort_keys=False).encode()
    (bundle / "bundle.yaml").write_bytes(raw)
    with pytest.raises(UsageError, match="has no sha256"):  # the seal command refuses
        seal(raw, Manifest.model_validate(manifest), key, SEALED_AT)
    # a seal made some other way over such a manifest is refused on load
    predicate = {
        "format_version": 1,
        "organisation": "Test Org",
        "period_start": "2026-07-01",
        "period_end": "2026-09-30",
        "preparer": "Tester",
        "sealed_at": "2026-10-02T09:00:00Z",
    }
    envelope = sign_statement({"bundle.yaml": hashlib.sha256(raw).hexdigest()}, SEAL_PREDICATE_TYPE, predicate, key)
    (bundle / SEAL_FILE).write_bytes(dsse.dumps(envelope))
    errors = _errors(validate_bundle(bundle, LoadOptions()))
    assert ("seal.incomplete", SEAL_FILE) in errors


def test_seal_refuses_a_key_the_manifest_does_not_declare(bundle: Path, key: keys.Ed25519PrivateKey) -> None:
    raw = (bundle / "bundle.yaml").read_bytes()
    with pytest.raises(UsageError, match=r"names no prepared_by\.public_key"):
        seal(raw, Manifest.model_validate(yaml.safe_load(raw)), key, SEALED_AT)
    declare_key(bundle, keys.generate().public_key())
    raw = (bundle / "bundle.yaml").read_bytes()
    with pytest.raises(UsageError, match=r"is not the one bundle\.yaml declares"):
        seal(raw, Manifest.model_validate(yaml.safe_load(raw)), key, SEALED_AT)


def test_a_malformed_public_key_is_a_manifest_error(bundle: Path) -> None:
    manifest = yaml.safe_load((bundle / "bundle.yaml").read_text())
    manifest["prepared_by"]["public_key"] = "not-a-key"
    (bundle / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    report = validate_bundle(bundle, LoadOptions())
    [issue] = [i for i in report.issues if i.severity.value == "error"]
    assert issue.code == "manifest.invalid"
    assert issue.field == "prepared_by.public_key"
    assert issue.line is not None
