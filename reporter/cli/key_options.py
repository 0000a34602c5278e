"""Options that name keys: --seal-key (commands that load a bundle: the preparer keys to trust) and
the signing key of `report --sign`, `seal --key` (read once, before any evidence; exit 2 if unusable)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reporter.attest.keys import key_id, read_public_key

SealKeyOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--seal-key",
        help="Public key (PEM or OpenSSH) of a preparer you trust; repeatable. The bundle must then be sealed by "
        "one of these keys (bundle.seal.json), else it is invalid.",
        dir_okay=False,
        show_default=False,
    ),
]


def seal_key_ids(paths: list[Path] | None) -> frozenset[str]:
    """The key ids of the --seal-key files."""
    return frozenset(key_id(read_public_key(path, "--seal-key")) for path in paths or [])
