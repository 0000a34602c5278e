"""Checks: one module per topic; each check is a pure function of the evidence store and policy."""

from __future__ import annotations

import importlib

# Topic modules, imported on demand so that they register their checks.
CHECK_MODULES: tuple[str, ...] = (
    "inventory",
    "priority",
    "deployment",
    "verification",
    "exceptions",
    "rollout",
    "nhi",
    "agents",
    "evidence",
)


def load_all() -> None:
    """Import every check module (idempotent)."""
    for name in CHECK_MODULES:
        importlib.import_module(f"reporter.checks.{name}")
