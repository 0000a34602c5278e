"""The preparer's seal on a bundle: bundle.yaml signed at collection time. `bundle.seal.json` is a
DSSE envelope over an in-toto Statement whose one subject is bundle.yaml; since bundle.yaml lists the
SHA-256 of every evidence file and of the policy, the seal covers the whole bundle. Made by
`exposure-reporter seal`, checked on every load (reporter/bundle/sources.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from reporter.attest import dsse
from reporter.attest.interface import SEAL_FILE, SEAL_PREDICATE_TYPE, SealPredicate
from reporter.attest.intoto import open_statement, sha256, sign_statement, subject_digests
from reporter.attest.keys import Ed25519PrivateKey, key_id, parse_public
from reporter.errors import UsageError, VerificationError
from reporter.models.issues import Issue, IssueSeverity
from reporter.models.manifest import BundleSeal, Manifest

SEALED_FILE = "bundle.yaml"


def unhashed(manifest: Manifest) -> list[str]:
    """Files bundle.yaml names without a SHA-256: a seal over bundle.yaml would not cover them."""
    missing = [s.path for s in manifest.sources if s.sha256 is None]
    if manifest.policy is not None and manifest.policy_sha256 is None:
        missing.append(manifest.policy)
    return missing


def mismatched(root: Path, manifest: Manifest) -> list[str]:
    """Files whose SHA-256 differs from the one bundle.yaml records (or that cannot be read): a seal
    must never vouch for them."""
    listed = [(s.path, s.sha256) for s in manifest.sources if s.sha256 is not None]
    if manifest.policy is not None and manifest.policy_sha256 is not None:
        listed.append((manifest.policy, manifest.policy_sha256))
    wrong = []
    for path, expected in listed:
        digest = hashlib.sha256()
        try:
            with (root / path).open("rb") as handle:
                for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                    digest.update(chunk)
        except OSError:
            wrong.append(path)
            continue
        if digest.hexdigest() != expected:
            wrong.append(path)
    return wrong


def seal(manifest_raw: bytes, manifest: Manifest, key: Ed25519PrivateKey, sealed_at: datetime) -> bytes:
    """bundle.seal.json for this bundle.yaml. UsageError when the key is not the one bundle.yaml
    declares for its preparer, or when a file is not hashed (the seal would not cover it)."""
    own = key_id(key.public_key())
    declared = manifest.prepared_by.public_key
    if declared is None:
        raise UsageError(
            f"bundle.yaml names no prepared_by.public_key; add the public key of this signing key (key id {own}) "
            "under prepared_by, then seal (docs/security.md)"
        )
    if key_id(parse_public(declared)) != own:
        raise UsageError(
            f"the key (key id {own}) is not the one bundle.yaml declares for its preparer "
            f"(key id {key_id(parse_public(declared))})"
        )
    missing = unhashed(manifest)
    if missing:
        raise UsageError(
            f"cannot seal: {missing[0]} has no sha256 in bundle.yaml ({len(missing)} file(s) in all); "
            "a seal covers only files whose hash bundle.yaml records"
        )
    predicate = SealPredicate(
        organisation=manifest.organisation,
        period_start=manifest.period.start,
        period_end=manifest.period.end,
        preparer=manifest.prepared_by.name,
        sealed_at=sealed_at,
    )
    digests = {SEALED_FILE: sha256(manifest_raw)}
    envelope = sign_statement(digests, SEAL_PREDICATE_TYPE, predicate.model_dump(mode="json"), key)
    return dsse.dumps(envelope)


def _issue(code: str, message: str, file: str = SEAL_FILE) -> Issue:
    return Issue(code=code, severity=IssueSeverity.ERROR, message=message, file=file)


def check_seal(
    read_seal: Callable[[], bytes] | None, manifest_sha256: str, manifest: Manifest, trusted: frozenset[str]
) -> tuple[BundleSeal | None, list[Issue]]:
    """The verified seal, or the problems that make the bundle invalid. `read_seal` returns the seal
    file's bytes (None: the bundle has no seal); `trusted` holds key ids given with --seal-key."""
    declared = manifest.prepared_by.public_key
    if read_seal is None:
        if declared is not None:
            return None, [
                _issue(
                    "seal.missing",
                    "bundle.yaml names a public key for its preparer but the bundle "
                    f"has no {SEAL_FILE}: seal it with `exposure-reporter seal`",
                )
            ]
        if trusted:
            return None, [_issue("seal.missing", f"--seal-key was given but the bundle has no {SEAL_FILE}")]
        return None, []
    if declared is None:
        return None, [
            _issue(
                "seal.no-key",
                f"{SEAL_FILE} is present but bundle.yaml names no prepared_by.public_key to check it with",
            )
        ]
    public = parse_public(declared)
    try:
        statement = open_statement(dsse.parse(read_seal(), SEAL_FILE), public, SEAL_FILE, SEAL_PREDICATE_TYPE)
        digests = subject_digests(statement, SEAL_FILE)
        predicate = SealPredicate.model_validate(statement.predicate)
    except VerificationError as error:
        return None, [_issue("seal.invalid", error.message)]
    except ValidationError as exc:
        return None, [_issue("seal.invalid", f"not a bundle seal ({exc.errors()[0]['msg']})")]
    except OSError as exc:
        return None, [_issue("seal.invalid", f"cannot read: {exc.strerror or exc}")]
    return _judge(digests, predicate, manifest, key_id(public), manifest_sha256, trusted)


def _judge(
    digests: dict[str, str],
    predicate: SealPredicate,
    manifest: Manifest,
    kid: str,
    manifest_sha256: str,
    trusted: frozenset[str],
) -> tuple[BundleSeal | None, list[Issue]]:
    sealed = digests.get(SEALED_FILE)
    if sealed is None or set(digests) != {SEALED_FILE}:
        return None, [_issue("seal.invalid", f"the seal does not name {SEALED_FILE} as its only subject")]
    if sealed != manifest_sha256:
        message = (
            f"sha256 is {manifest_sha256}, the seal says {sealed}: bundle.yaml changed after it was sealed by key {kid}"
        )
        return None, [_issue("seal.mismatch", message, SEALED_FILE)]
    problems = [
        _issue("seal.incomplete", f"sealed, but bundle.yaml gives no sha256 for {path}: the seal does not cover it")
        for path in unhashed(manifest)
    ]
    if trusted and kid not in trusted:
        problems.append(
            _issue("seal.untrusted", f"sealed with key {kid}, which is none of the keys given with --seal-key")
        )
    found = BundleSeal(signer=manifest.prepared_by.name, key_id=kid, sealed_at=predicate.sealed_at)
    return (None if problems else found), problems
