"""The plausible range of evidence dates and timestamps (docs/security.md): years 1970 to 2100 and
UTC offsets within ±14:00. Anything outside is refused with its file, line and field, because a due
date computed from year 0 or an offset of 99 hours is nonsense that would otherwise reach a report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2100, 12, 31)
FIRST_MOMENT = datetime(1970, 1, 1, tzinfo=UTC)
END_MOMENT = datetime(2101, 1, 1, tzinfo=UTC)  # exclusive
MAX_OFFSET = timedelta(hours=14)
RANGE_TEXT = "between 1970-01-01 and 2100-12-31, with a UTC offset within ±14:00"


def implausible(value: date | datetime) -> str | None:
    """Why a date or timestamp is outside the plausible range, or None when it is inside."""
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is not None and abs(offset) > MAX_OFFSET:
            return f"its UTC offset {_offset(offset)} is beyond ±14:00"
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if not FIRST_MOMENT <= moment < END_MOMENT:
            return f"{value.isoformat()} is not {RANGE_TEXT}"
        return None
    if not FIRST_DAY <= value <= LAST_DAY:
        return f"{value.isoformat()} is not {RANGE_TEXT}"
    return None


def _offset(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"{sign}{minutes // 60:02}:{minutes % 60:02}"


def check_plausible(value: Any) -> Any:
    """A pydantic after-validator: ValueError for a date or timestamp outside the range."""
    if isinstance(value, date):
        problem = implausible(value)
        if problem:
            raise ValueError(f"implausible date or time: {problem}")
    return value


def implausible_fields(model: BaseModel) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every (field path, reason) of a validated model whose date or timestamp is implausible."""
    yield from _walk(model, ())


def _walk(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, date):
        problem = implausible(value)
        if problem:
            yield path, problem
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), (*path, name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, str(key)))
