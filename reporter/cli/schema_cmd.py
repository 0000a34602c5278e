"""`exposure-reporter schema [KIND]`: the JSON Schema of a bundle file, for editors and CI."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from reporter.cli.common import app, echo, guarded
from reporter.errors import UsageError
from reporter.models.kinds import KINDS
from reporter.models.schema import json_schema, schema_names

_PURPOSE = {
    "manifest": "bundle.yaml: organisation, period, and every evidence source with its hash.",
    "policy": "policy.yaml: overrides of the default policy (SLA rules, NHI limits, windows).",
    "responses": "the management responses file bundle.yaml names (owner, target date per plan item).",
    "results": "results.json written by assess and report (docs/results-format.md).",
    "validation": "the output of validate --format json (docs/validation.md).",
}


@app.command()
def schema(
    kind: Annotated[
        str | None,
        typer.Argument(help="A record kind, or manifest, or policy.", show_default=False),
    ] = None,
    array: Annotated[
        bool,
        typer.Option(
            "--array",
            help="Schema of a whole JSON/YAML file (a list of records) rather than of one record "
            "(a JSON Lines line or CSV row).",
        ),
    ] = False,
) -> None:
    """Print the JSON Schema of a bundle file. Without KIND, list the kinds."""
    with guarded():
        if kind is None:
            for name in schema_names():
                purpose = KINDS[name].purpose if name in KINDS else _PURPOSE[name]
                echo(f"{name:<24}{purpose}")
            return
        if kind not in schema_names():
            raise UsageError(f"unknown kind '{kind}'; one of: {', '.join(schema_names())}")
        echo(json.dumps(json_schema(kind, array=array), indent=2, sort_keys=False))
