"""SQL building blocks: bound parameters and quoted identifiers.

Identifiers in generated SQL come only from the models (field names) and from this package's own
constants. Everything that comes from evidence — values, paths, patterns — is a bound parameter.
"""

from __future__ import annotations

import re
from typing import Any

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\$(p\d+)\b")


def ident(name: str) -> str:
    """A double-quoted identifier; refuses anything that is not a plain model field name."""
    if not _IDENT.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return f'"{name}"'


def literal(text: str) -> str:
    """A SQL string literal for this package's own constants (codes, field names) only."""
    if not re.match(r"^[A-Za-z0-9_.:\- ]*$", text):
        raise ValueError(f"not a safe SQL constant: {text!r}")
    return f"'{text}'"


class Params:
    """Collects bound parameters and hands out `$pN` placeholders."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        """Bind `value`; return its placeholder."""
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def for_sql(self, sql: str) -> dict[str, Any]:
        """Exactly the parameters `sql` references (DuckDB refuses unused named parameters)."""
        used = set(_PLACEHOLDER.findall(sql))
        return {name: value for name, value in self.values.items() if name in used}
