"""JSON Schemas of the bundle files, exported from the models (editor validation, CI checks)."""

from __future__ import annotations

from typing import Any

from reporter import __version__
from reporter.models.common import StrictModel
from reporter.models.kinds import KINDS
from reporter.models.manifest import Manifest, ResponsesFile
from reporter.models.policy import PolicyFile

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _documents() -> dict[str, type[StrictModel]]:
    from reporter.bundle.interface import ValidationReport  # noqa: PLC0415
    from reporter.models.results import Assessment  # noqa: PLC0415

    return {
        "manifest": Manifest,
        "policy": PolicyFile,
        "responses": ResponsesFile,
        "results": Assessment,
        "validation": ValidationReport,
    }


def schema_names() -> list[str]:
    """Every name `schema` accepts: the record kinds, then the manifest and policy files."""
    return [*KINDS, *_documents()]


def json_schema(name: str, *, array: bool = False) -> dict[str, Any]:
    """The JSON Schema of a record kind (one record, or with `array` a whole JSON/YAML file)
    or of `manifest` (bundle.yaml), `policy` (policy.yaml), `results` (results.json) or
    `validation` (validate --format json). KeyError if unknown."""
    model: type[StrictModel] = KINDS[name].model if name in KINDS else _documents()[name]
    schema = model.model_json_schema()
    header = {
        "$schema": DRAFT,
        "$comment": f"exposure-reporter {__version__}, bundle format 1",
    }
    if array and name in KINDS:
        defs = schema.pop("$defs", {})
        body: dict[str, Any] = {"title": f"{name} file", "type": "array", "items": schema}
        if defs:
            body["$defs"] = defs
        return {**header, **body}
    return {**header, **schema}
