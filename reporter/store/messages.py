"""Human messages for validation rule hits and pydantic errors, with permanent issue codes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from reporter.models.common import ID_PATTERN
from reporter.models.evidence import CVE_PATTERN, CVSS_VECTOR_PATTERN, GHSA_PATTERN, VULN_ID_PATTERN
from reporter.models.issues import Issue, IssueSeverity
from reporter.models.plausible import RANGE_TEXT, implausible
from reporter.store.columns import ColumnSpec
from reporter.store.rules import RuleHit

_PATTERN_TEXT = {
    ID_PATTERN: "is not a valid identifier (letters, digits and . _ : / @ # + = ~ -; at most 256 "
    "characters; starting with a letter or digit)",
    CVE_PATTERN: "is not a valid CVE id (CVE-YYYY-NNNN with at least four digits)",
    GHSA_PATTERN: "is not a valid GHSA id (GHSA-xxxx-xxxx-xxxx)",
    VULN_ID_PATTERN: "is not a vulnerability id (CVE-YYYY-NNNN…, GHSA-…, or a prefixed vendor id "
    "such as RHSA-2024:1234)",
    CVSS_VECTOR_PATTERN: "is not a CVSS v2, v3.x or v4.0 vector",
}

_JSON_NAMES = {
    "VARCHAR": "a string",
    "BIGINT": "an integer",
    "UBIGINT": "an integer",
    "DOUBLE": "a number",
    "BOOLEAN": "a boolean",
    "ARRAY": "an array",
    "OBJECT": "an object",
    "NULL": "null",
}
_EXPECTED = {
    "string": "a string",
    "date": "a date string (YYYY-MM-DD)",
    "datetime": "a timestamp string with a time zone",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "list": "an array of strings",
    "object": "an array of objects",
}


def _shown(value: str | None) -> str:
    text = (value or "").replace("\n", "\\n")
    return f"'{text}'"


_YEAR = re.compile(r"^\s*([+-]?\d{4,})-")
_OFFSET = re.compile(r"[Tt ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*([+-])(\d{2}):?(\d{2})?\s*$")


def time_problem(text: str | None) -> str | None:
    """Why a date or timestamp that looks well-formed lies outside the plausible range (year 0,
    2150, an offset of 99 hours), or None when it is simply not a date or timestamp."""
    value = (text or "").strip()
    year = _YEAR.match(value)
    if year and not 1970 <= int(year[1]) <= 2100:
        return f"year {year[1]} is not {RANGE_TEXT}"
    offset = _OFFSET.search(value)
    if offset and int(offset[2]) * 60 + int(offset[3] or 0) > 14 * 60:
        return f"its UTC offset {offset[1]}{offset[2]}:{offset[3] or '00'} is beyond ±14:00"
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return implausible(moment) or implausible(moment.date())


def _pattern_text(pattern: str) -> str:
    return _PATTERN_TEXT.get(pattern, f"does not match the required format {pattern}")


def _hit_message(hit: RuleHit, column: ColumnSpec | None) -> tuple[str, str]:
    rule, shown = hit.rule, _shown(hit.value)
    if rule == "doc":
        if hit.value == "INVALID":
            return "record.invalid-json", "is not valid JSON"
        return (
            "record.not-an-object",
            f"must be a JSON object, found {_JSON_NAMES.get(hit.value or '', hit.value)}",
        )
    if rule == "unknown":
        return (
            "record.unknown-field",
            f"unknown field(s): {hit.value} (see `exposure-reporter schema`)",
        )
    assert column is not None
    if rule == "missing":
        return "record.missing-field", "required field is missing or empty"
    if rule == "jsontype":
        found = _JSON_NAMES.get(hit.value or "", hit.value)
        hint = " (quote it in YAML: yes/no/on/off are booleans there)" if found == "a boolean" else ""
        return "record.bad-type", f"expected {_EXPECTED[column.scalar]}, found {found}{hint}"
    if rule == "null":
        return (
            "record.bad-type",
            f"must not be null; leave the field out to use the default ({column.default!r})",
        )
    if rule == "naive":
        return (
            "time.naive",
            f"timestamp {shown} has no time zone; add Z or an offset such as +02:00",
        )
    if rule == "parse":
        return _parse_message(hit, column, shown)
    if rule in ("enum", "item-enum"):
        allowed = ", ".join(column.enum or column.item_enum)
        return "record.bad-enum", f"{shown} is not one of: {allowed}"
    if rule.startswith("pattern:"):
        return "record.bad-format", f"{shown} {_pattern_text(column.rules[int(rule[8:])].pattern)}"
    if rule.startswith("item-pattern:"):
        item_rule = column.item_rules[int(rule[13:])]
        return "record.bad-format", f"list item {shown} {_pattern_text(item_rule.pattern)}"
    if rule == "range":
        return "record.out-of-range", f"{shown} is outside [{column.minimum}, {column.maximum}]"
    return "record.invalid", f"{rule}: {shown}"  # pragma: no cover - every rule is named above


def _parse_message(hit: RuleHit, column: ColumnSpec, shown: str) -> tuple[str, str]:
    problem = time_problem(hit.value) if column.scalar in ("date", "datetime") else None
    if problem:
        return "time.implausible", f"{shown}: implausible date or time: {problem}"
    return "record.bad-type", f"{shown} is not {_EXPECTED[column.scalar]}"


def hit_issues(hits: list[RuleHit], columns: tuple[ColumnSpec, ...], rel: str, cap: int) -> list[Issue]:
    """Issues for the hits of one file; groups over the cap get one summary issue."""
    by_name = {c.name: c for c in columns}
    issues: list[Issue] = []
    summarised: set[tuple[str, str]] = set()
    for hit in hits:
        code, message = _hit_message(hit, by_name.get(hit.field))
        if hit.loc:
            message = f"{message} (at {hit.loc})"
        issues.append(
            Issue(
                code=code,
                severity=IssueSeverity.ERROR,
                message=message,
                file=rel,
                line=hit.line,
                record=hit.rec,
                field=hit.field or None,
            )
        )
        key = (hit.rule, hit.field)
        if hit.total > cap and key not in summarised:
            summarised.add(key)
            issues.append(
                Issue(
                    code=code,
                    severity=IssueSeverity.ERROR,
                    file=rel,
                    field=hit.field or None,
                    more=hit.total - cap,
                    message=f"{hit.total - cap} more records with this problem (first {cap} listed)",
                )
            )
    return issues


def field_path(loc: tuple[str | int, ...]) -> str:
    """Pydantic location → a.b[2].c"""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_PYDANTIC_CODES = {
    "missing": "record.missing-field",
    "extra_forbidden": "record.unknown-field",
    "enum": "record.bad-enum",
    "literal_error": "record.bad-enum",
    "string_pattern_mismatch": "record.bad-format",
    "timezone_aware": "time.naive",
    "greater_than_equal": "record.out-of-range",
    "less_than_equal": "record.out-of-range",
}


_TIME_ERRORS = frozenset(
    {"datetime_parsing", "datetime_from_date_parsing", "date_parsing", "date_from_datetime_parsing"}
)


def _pydantic_message(item: Any) -> tuple[str | None, str]:
    """(a more precise code or None, the message) for one pydantic error. Evidence values are not
    quoted (pydantic's input may be long); a date or time that parses as a shape but lies outside
    the plausible range says so instead of "unexpected extra characters"."""
    if item["type"] == "extra_forbidden":
        return None, "unknown field (see `exposure-reporter schema`)"
    value = item.get("input")
    problem = time_problem(value) if item["type"] in _TIME_ERRORS and isinstance(value, str) else None
    if problem:
        return "time.implausible", f"implausible date or time: {problem}"
    return None, str(item["msg"]).removeprefix("Value error, ")


def pydantic_issues(
    error: ValidationError, file: str, record: int | None, line_of: Any, prefix: str = "record"
) -> list[Issue]:
    """Issues for one failed pydantic validation; `line_of(loc)` gives a line when known."""
    issues = []
    for item in error.errors(include_url=False, include_input=True):
        loc = tuple(item["loc"])
        specific, message = _pydantic_message(item)
        code = specific or _PYDANTIC_CODES.get(item["type"], "record.bad-type")
        if prefix != "record":
            code = f"{prefix}.invalid"
        issues.append(
            Issue(
                code=code,
                severity=IssueSeverity.ERROR,
                message=message,
                file=file,
                line=line_of(loc),
                record=record,
                field=field_path(loc) or None,
            )
        )
    return issues
