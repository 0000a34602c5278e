"""The registry of checks by permanent id. Controls in `mappings/controls/` name a check id.

Check modules register their functions with `@register("family.name")`. The mappings linter asks
`known_check_ids()` which ids exist, so a control naming an unimplemented check fails the lint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_CHECKS: dict[str, Callable[..., Any]] = {}


def register(check_id: str) -> Callable[[F], F]:
    """Decorator: register a check function under a permanent id."""

    def decorate(func: F) -> F:
        if check_id in _CHECKS:
            raise RuntimeError(f"check id registered twice: {check_id}")
        _CHECKS[check_id] = func
        return func

    return decorate


def _load_all() -> None:
    # Importing the package's check modules registers them.
    from reporter.checks import load_all  # noqa: PLC0415

    load_all()


def known_check_ids() -> frozenset[str]:
    """Ids of every implemented check."""
    _load_all()
    return frozenset(_CHECKS)


def get_check(check_id: str) -> Callable[..., Any]:
    """The function of a check; KeyError if unknown."""
    _load_all()
    return _CHECKS[check_id]
