"""Base model configuration and shared field types for everything read from untrusted files."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Record identifiers: stable, unique within their kind, safe to print and to use in file names.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/@#+=~-]{0,255}$"

RecordId = Annotated[
    str,
    Field(pattern=ID_PATTERN, description="Identifier, unique within its kind.", examples=["a-0001"]),
]


class StrictModel(BaseModel):
    """Frozen, forbids unknown fields: typos in evidence are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)
