"""`exposure-reporter keygen`: create an Ed25519 key pair for signing report sets (`report --sign`) and
sealing bundles (`seal`). Exit 0, 4 when a key file exists (without --force) or cannot be written."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from reporter.attest.keys import KEY_PASSWORD_ENV, generate, key_id, private_pem, public_pem, public_text
from reporter.cli.common import app, echo, guarded
from reporter.errors import OutputError
from reporter.output import write_private


def key_paths(prefix: Path) -> tuple[Path, Path]:
    """PREFIX.key and PREFIX.pub ('signing.key' as a prefix means 'signing')."""
    if prefix.suffix in (".key", ".pub"):
        prefix = prefix.with_suffix("")
    return prefix.with_name(prefix.name + ".key"), prefix.with_name(prefix.name + ".pub")


@app.command()
def keygen(
    prefix: Annotated[
        Path,
        typer.Argument(help="Where to write the pair: PREFIX.key (private, mode 600) and PREFIX.pub.", dir_okay=False),
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace existing key files.")] = False,
) -> None:
    """Create an Ed25519 key pair for `report --sign` and `seal`. The private key is PKCS#8 PEM, encrypted
    with EXPOSURE_REPORTER_KEY_PASSWORD when that variable is set; the public key is PEM. Prints the key
    id and the line that declares the key in bundle.yaml."""
    with guarded():
        private_path, public_path = key_paths(prefix)
        for path in (private_path, public_path):
            if os.path.lexists(path) and not force:
                raise OutputError(f"cannot write {path}: it exists; refusing to overwrite it (--force replaces it)")
        key = generate()
        password = os.environ.get(KEY_PASSWORD_ENV)
        write_private(private_path, private_pem(key, password.encode("utf-8") if password else None), overwrite=force)
        write_private(public_path, public_pem(key.public_key()), mode=0o644, overwrite=force)
    protection = "encrypted" if password else f"NOT encrypted: keep it secret, or set {KEY_PASSWORD_ENV}"
    echo(f"wrote {private_path} (private key, {protection}) and {public_path} (public key)")
    echo(f"key id: {key_id(key.public_key())}")
    echo("to seal bundles with it, declare it in bundle.yaml under prepared_by:")
    echo(f"  public_key: {public_text(key.public_key())}")
