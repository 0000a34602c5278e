"""Column specifications of the evidence store, derived from each kind's JSON Schema.

The JSON Schema users validate their files with is the same document the store's types and the
set-based validation rules are generated from, so the three cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from reporter.models.common import StrictModel

Scalar = Literal["string", "integer", "number", "boolean", "date", "datetime", "list", "object"]

_DUCK_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMPTZ",
    "list": "VARCHAR[]",
    "object": "JSON",
}


@dataclass(frozen=True)
class Rule:
    """A regular-expression rule; `when` restricts it to values matching another pattern."""

    pattern: str
    when: str | None = None


@dataclass(frozen=True)
class ColumnSpec:
    """One field of a record kind, as the store sees it."""

    name: str
    scalar: Scalar
    required: bool
    nullable: bool
    default: Any = None
    enum: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    item_enum: tuple[str, ...] = ()
    item_rules: tuple[Rule, ...] = ()
    description: str = ""

    @property
    def duck_type(self) -> str:
        """DuckDB type of the column."""
        return _DUCK_TYPES[self.scalar]


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return {**defs[ref.rsplit("/", 1)[-1]], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _variants(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The non-null alternatives of a property, and whether null is allowed."""
    options = prop.get("anyOf")
    if not options:
        return [_resolve(prop, defs)], False
    nullable = any(o.get("type") == "null" for o in options)
    return [_resolve(o, defs) for o in options if o.get("type") != "null"], nullable


def _rules(schema: dict[str, Any]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    if "pattern" in schema:
        rules.append(Rule(schema["pattern"]))
    for clause in schema.get("allOf", []):
        when = clause.get("if", {}).get("pattern")
        then = clause.get("then", {}).get("pattern")
        if when and then:
            rules.append(Rule(then, when))
    return tuple(rules)


def _scalar(schema: dict[str, Any]) -> Scalar:
    kind = schema.get("type")
    fmt = schema.get("format")
    if kind == "string" and fmt == "date-time":
        return "datetime"
    if kind == "string" and fmt == "date":
        return "date"
    if kind in ("string", "integer", "number", "boolean"):
        return kind  # type: ignore[no-any-return]
    if kind == "array":
        item = schema.get("items", {})
        return "list" if item.get("type") == "string" or "enum" in item else "object"
    if "enum" in schema:
        return "string"
    return "object"


def _column(name: str, prop: dict[str, Any], required: bool, defs: dict[str, Any]) -> ColumnSpec:
    variants, nullable = _variants(prop, defs)
    base = variants[0]
    scalar = _scalar(base)
    item = _resolve(base.get("items", {}), defs) if scalar in ("list", "object") else {}
    return ColumnSpec(
        name=name,
        scalar=scalar,
        required=required,
        nullable=nullable,
        default=prop.get("default"),
        enum=tuple(base.get("enum", ())),
        rules=_rules({**base, **{k: v for k, v in prop.items() if k == "allOf"}}),
        minimum=base.get("minimum"),
        maximum=base.get("maximum"),
        min_length=base.get("minLength"),
        item_enum=tuple(item.get("enum", ())),
        item_rules=_rules(item),
        description=str(prop.get("description", "")),
    )


@cache
def columns_of(model: type[StrictModel]) -> tuple[ColumnSpec, ...]:
    """The store columns of a record kind, in model field order."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    return tuple(_column(name, prop, name in required, defs) for name, prop in schema["properties"].items())


META_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_source", "VARCHAR"),  # path of the evidence file, relative to the bundle root
    ("_rec", "BIGINT"),  # 1-based record number within that file
    ("_line", "BIGINT"),  # 1-based line, when the format has one
)
