"""Validating outputs against the official schemas in tests/schemas/ (README there: provenance).

OSCAL's token pattern uses \\p{L}/\\p{N}, which Python's `re` rejects, and JSON Schema patterns are
ECMA-262 (`$` only at the very end): the `pattern` keyword is checked with the `regex` module and a
final `$` read as `\\Z`. Formats are checked (date-time, uri, uri-reference, email, regex)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import regex
from jsonschema import Draft4Validator, Draft7Validator, FormatChecker, ValidationError

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
OSCAL_AR = SCHEMAS / "oscal" / "oscal_assessment-results_schema.json"
OSCAL_COMPLETE = SCHEMAS / "oscal" / "oscal_complete_schema.json"
SARIF = SCHEMAS / "sarif-schema-2.1.0.json"


@cache
def _compiled(pattern: str) -> Any:
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return regex.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    del validator, schema
    if isinstance(instance, str) and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("regex", raises=regex.error)
    def _regex(value: object) -> bool:
        return not isinstance(value, str) or bool(regex.compile(value))

    return checker


def _validator(base: Any, path: Path, model: str | None = None) -> Any:
    schema = json.loads(path.read_bytes())
    if model is not None:  # the complete schema's root is oneOf every model: keep one, for precise messages
        schema["oneOf"] = [branch for branch in schema["oneOf"] if branch["required"] == [model]]
    cls = jsonschema.validators.extend(base, {"pattern": _pattern})
    return cls(schema, format_checker=_format_checker())


@cache
def validator(name: str) -> Any:
    """The validator for 'sarif', 'oscal-ar' (the assessment-results schema), 'oscal-complete' (the
    complete schema as published) or 'oscal-poam' (the complete schema narrowed to the POA&M model)."""
    if name == "sarif":
        return _validator(Draft4Validator, SARIF)
    if name == "oscal-ar":
        return _validator(Draft7Validator, OSCAL_AR)
    if name == "oscal-poam":
        return _validator(Draft7Validator, OSCAL_COMPLETE, "plan-of-action-and-milestones")
    return _validator(Draft7Validator, OSCAL_COMPLETE)


def errors(name: str, document: Any) -> list[str]:
    """Every schema violation, as 'path: message' lines (empty: valid)."""
    found = sorted(validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:300]}" for e in found]


def check_jsonschema(schema: Path, document: Path) -> subprocess.CompletedProcess[str]:
    """Run the check-jsonschema tool (ECMA-262 regular expressions through `regress`, formats checked)."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema), str(document)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
