"""Set-based validation of a staged evidence file, and the typed expressions that load it.

Every rule is one SQL predicate over the staging table, generated from the kind's column specs.
One query evaluates all of them, keeps the first rows of each (rule, field) group and counts the
rest, so a million-row file with one bad column costs one scan and yields a handful of messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporter.store.columns import ColumnSpec, Rule
from reporter.store.sql import Params, ident, literal

ZONE_SUFFIX_RE = r"([Zz]|[+-]\d{2}(:?\d{2})?)$"  # the value ends with a time zone
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")
JSON_TYPES: dict[str, tuple[str, ...]] = {
    "string": ("VARCHAR",),
    "date": ("VARCHAR",),
    "datetime": ("VARCHAR",),
    "integer": ("BIGINT", "UBIGINT"),
    "number": ("BIGINT", "UBIGINT", "DOUBLE"),
    "boolean": ("BOOLEAN",),
    "list": ("ARRAY",),
    "object": ("ARRAY",),
}


@dataclass(frozen=True)
class RuleHit:
    """One row of the validation query."""

    rule: str  # missing, jsontype, null, parse, naive, enum, pattern:N, range, item-pattern:N, ...
    field: str
    rec: int
    line: int | None
    loc: str | None
    value: str | None
    total: int  # rows in the file with this (rule, field)


def normalise(raw: str) -> str:
    """The normalised text of a raw value: trimmed, empty as NULL (computed once, in staging)."""
    return f"NULLIF(trim({raw}), '')"


def value(column: ColumnSpec) -> str:
    """The staged, normalised text of a field."""
    return ident(column.name)


def has_typed_column(column: ColumnSpec) -> bool:
    """Text fields are their own typed value: only parsed kinds get a `__v` column."""
    return column.scalar != "string"


def typed(column: ColumnSpec) -> str:
    """The staged typed value of a field (NULL when the text does not parse)."""
    return ident(column.name + "__v") if has_typed_column(column) else ident(column.name)


def _select(rule: str, field: str, condition: str, shown: str, json_shape: bool) -> str:
    guard = "_doc = 'OBJECT' AND " if json_shape and rule not in ("doc", "unknown") else ""
    return (
        f"SELECT {literal(rule)} AS rule, {literal(field)} AS field, _rec, _line, _loc, "
        f"left(({shown})::VARCHAR, 80) AS value FROM _stg WHERE {guard}({condition})"
    )


def _pattern_rules(column: ColumnSpec, params: Params, json_shape: bool) -> list[str]:
    v = value(column)
    out = []
    for n, rule in enumerate(column.rules):
        # `when` is a search (e.g. ^CVE-: "looks like a CVE id"), `pattern` a full match.
        when = f"regexp_matches({v}, {params.add(rule.when)}) AND " if rule.when else ""
        cond = f"{v} IS NOT NULL AND {when}NOT regexp_full_match({v}, {params.add(_re2(rule.pattern))})"
        out.append(_select(f"pattern:{n}", column.name, cond, v, json_shape))
    return out


def _re2(pattern: str | None) -> str:
    # Model patterns are written for Python and RE2 alike; anchors are implied by full match.
    return (pattern or "").removeprefix("^").removesuffix("$")


def _type_rules(column: ColumnSpec, params: Params, json_shape: bool) -> list[str]:
    v, name = value(column), column.name
    out: list[str] = []
    if json_shape:
        t = ident(name + "__t")
        allowed = params.add(list(JSON_TYPES[column.scalar]))
        out.append(
            _select(
                "jsontype",
                name,
                f"{t} IS NOT NULL AND {t} <> 'NULL' AND NOT list_contains({allowed}, {t})",
                t,
                json_shape,
            )
        )
        if not column.nullable and not column.required:
            out.append(_select("null", name, f"{t} = 'NULL'", t, json_shape))
    scalar = column.scalar
    parsed = typed(column)
    if scalar in ("integer", "number", "boolean") and not (json_shape and scalar == "boolean"):
        out.append(_select("parse", name, f"{v} IS NOT NULL AND {parsed} IS NULL", v, json_shape))
    elif scalar == "date":
        date_re = params.add(_re2(DATE_RE))
        cond = f"{v} IS NOT NULL AND ({parsed} IS NULL OR NOT regexp_full_match({v}, {date_re}))"
        out.append(_select("parse", name, cond, v, json_shape))
    elif scalar == "datetime":
        zone = params.add(ZONE_SUFFIX_RE)
        out.append(_select("naive", name, f"{parsed} IS NOT NULL AND NOT regexp_matches({v}, {zone})", v, json_shape))
        out.append(_select("parse", name, f"{v} IS NOT NULL AND {parsed} IS NULL", v, json_shape))
    elif scalar == "list" and not json_shape:
        out.append(_select("parse", name, f"{v} IS NOT NULL AND {parsed} IS NULL", v, json_shape))
    return out


def _value_rules(column: ColumnSpec, params: Params, json_shape: bool) -> list[str]:
    v, name = value(column), column.name
    out: list[str] = []
    if column.required and column.scalar not in ("list", "object"):
        out.append(_select("missing", name, f"{v} IS NULL", "NULL", json_shape))
    if column.enum:
        out.append(
            _select(
                "enum",
                name,
                f"{v} IS NOT NULL AND NOT list_contains({params.add(list(column.enum))}, {v})",
                v,
                json_shape,
            )
        )
    out.extend(_pattern_rules(column, params, json_shape))
    number = f"{typed(column)}::DOUBLE"
    if column.minimum is not None:
        out.append(_select("range", name, f"{number} < {params.add(float(column.minimum))}", v, json_shape))
    if column.maximum is not None:
        out.append(_select("range", name, f"{number} > {params.add(float(column.maximum))}", v, json_shape))
    if column.scalar == "list":
        items = f"COALESCE({typed(column)}, []::VARCHAR[])"
        if column.item_enum:
            allowed = params.add(list(column.item_enum))
            bad = f"list_filter({items}, lambda x: NOT list_contains({allowed}, x))"
            out.append(_select("item-enum", name, f"len({bad}) > 0", f"{bad}[1]", json_shape))
        for n, rule in enumerate(column.item_rules):
            bad = _bad_items(items, rule, params)
            out.append(_select(f"item-pattern:{n}", name, f"len({bad}) > 0", f"{bad}[1]", json_shape))
    return out


def _bad_items(items: str, rule: Rule, params: Params) -> str:
    pattern = params.add(_re2(rule.pattern))
    if rule.when:
        when = params.add(rule.when)
        return f"list_filter({items}, lambda x: regexp_matches(x, {when}) AND NOT regexp_full_match(x, {pattern}))"
    return f"list_filter({items}, lambda x: NOT regexp_full_match(x, {pattern}))"


def validation_query(columns: tuple[ColumnSpec, ...], json_shape: bool, cap: int, params: Params) -> str:
    """One query returning the first `cap` hits of every (rule, field) with the group's total."""
    selects: list[str] = []
    if json_shape:
        selects.append(_select("doc", "", "_doc <> 'OBJECT'", "_doc", True))
        selects.append(_select("unknown", "", "len(_unknown) > 0", "array_to_string(_unknown, ', ')", True))
    for column in columns:
        selects.extend(_type_rules(column, params, json_shape))
        selects.extend(_value_rules(column, params, json_shape))
    union = "\nUNION ALL ".join(selects)
    return (
        f"SELECT rule, field, _rec, _line, _loc, value, count(*) OVER (PARTITION BY rule, field) AS total "
        f"FROM ({union}) QUALIFY row_number() OVER (PARTITION BY rule, field ORDER BY _rec) <= {int(cap)} "
        f"ORDER BY field, rule, _rec"
    )


def typed_expression(column: ColumnSpec, source: str) -> str:
    """The typed value of a field computed from its normalised text `source` (in staging)."""
    v = source
    scalar = column.scalar
    if scalar == "integer":
        return f"TRY_CAST({v} AS BIGINT)"
    if scalar == "number":
        return f"TRY_CAST({v} AS DOUBLE)"
    if scalar == "boolean":
        return (
            f"(CASE WHEN lower({v}) IN ('true', 'yes', '1') THEN TRUE "
            f"WHEN lower({v}) IN ('false', 'no', '0') THEN FALSE END)"
        )
    if scalar == "date":
        return f"TRY_CAST({v} AS DATE)"
    if scalar == "datetime":
        return f"TRY_CAST({v} AS TIMESTAMPTZ)"
    if scalar == "list":
        return (
            f"(CASE WHEN {v} IS NULL THEN []::VARCHAR[] WHEN starts_with({v}, '[') THEN "
            f"(CASE WHEN json_valid({v}) AND json_type({v}) = 'ARRAY' THEN TRY_CAST({v}::JSON AS VARCHAR[]) END) "
            f"ELSE list_filter(list_transform(string_split({v}, ';'), lambda x: trim(x)), lambda x: x <> '') END)"
        )
    if scalar == "object":
        return f"(CASE WHEN {v} IS NULL THEN '[]' ELSE {v} END)::JSON"
    return v


def stored_expression(column: ColumnSpec, params: Params) -> str:
    """The value inserted into the evidence store: the typed value, or the model's default."""
    expr = typed(column)
    if column.default is not None and column.scalar not in ("list", "object"):
        expr = f"COALESCE({expr}, {params.add(column.default)}::{column.duck_type})"
    return f"{expr} AS {ident(column.name)}"
