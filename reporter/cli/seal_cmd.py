"""`exposure-reporter seal`: the preparer signs bundle.yaml — which lists the SHA-256 of every evidence
file and of the policy — into bundle.seal.json, so that an edited and re-hashed bundle no longer passes
for the original. Exit 0, 2 usage (key, not a bundle directory), 3 the bundle cannot be sealed as it is."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from reporter.attest.interface import SEAL_FILE
from reporter.attest.keys import key_id, read_private_key
from reporter.attest.seal import SEALED_FILE, mismatched, seal
from reporter.bundle.limits import DEFAULT_LIMITS
from reporter.bundle.safeyaml import load_yaml
from reporter.cli.common import app, echo, guarded
from reporter.errors import BundleError, UsageError
from reporter.models.manifest import Manifest
from reporter.output import write_atomic


def _manifest(bundle: Path) -> tuple[bytes, Manifest]:
    path = bundle / SEALED_FILE
    if not bundle.is_dir() or not path.is_file():
        raise UsageError(f"{bundle} is not a bundle directory with {SEALED_FILE} (seal a bundle before archiving it)")
    if path.stat().st_size > DEFAULT_LIMITS.max_yaml_bytes:
        raise BundleError(f"{SEALED_FILE}: larger than the YAML limit", code="manifest.invalid")
    raw = path.read_bytes()
    document = load_yaml(raw, SEALED_FILE, DEFAULT_LIMITS)
    try:
        return raw, Manifest.model_validate(document.data)
    except ValidationError as exc:
        raise BundleError(
            f"{SEALED_FILE} is not valid ({exc.error_count()} problem(s)); `exposure-reporter validate` shows them",
            code="manifest.invalid",
        ) from None


@app.command("seal")
def seal_bundle(
    bundle: Annotated[
        Path, typer.Argument(help="The bundle directory (seal it before archiving).", show_default=False)
    ],
    key: Annotated[
        Path,
        typer.Option(
            "--key",
            help="The preparer's Ed25519 private key, whose public key bundle.yaml declares in prepared_by.public_key.",
            dir_okay=False,
            show_default=False,
        ),
    ],
) -> None:
    """Seal a bundle as its preparer: sign bundle.yaml (which lists every file's SHA-256) into
    bundle.seal.json. Every later load verifies the seal and every report shows it on its cover. Refused
    when a listed file has no hash or does not match it."""
    with guarded():
        private = read_private_key(key, os.environ)
        raw, manifest = _manifest(bundle)
        wrong = mismatched(bundle, manifest)
        if wrong:
            raise BundleError(
                f"cannot seal: {wrong[0]} does not match its sha256 in {SEALED_FILE} ({len(wrong)} file(s) in all); "
                "run `exposure-reporter validate`",
                code="source.hash-mismatch",
            )
        data = seal(raw, manifest, private, datetime.now(UTC).replace(microsecond=0))
        replaced = (bundle / SEAL_FILE).exists()
        write_atomic(bundle / SEAL_FILE, data)
    echo(
        f"sealed {bundle / SEALED_FILE} with key {key_id(private.public_key())}: "
        f"{'replaced' if replaced else 'wrote'} {bundle / SEAL_FILE}"
    )
