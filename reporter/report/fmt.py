"""Fixed, locale-free spelling of numbers, dates and statuses in reports (one spelling everywhere)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

DASH = "—"
MINUS = "−"  # U+2212: a real minus sign, so "−3" never reads as a hyphenated word

STATUS_LABEL = {
    "pass": "Pass",
    "fail": "Fail",
    "partial": "Partial",
    "excepted": "Excepted",
    "insufficient_evidence": "Insufficient evidence",
    "not_applicable": "Not applicable",
    "error": "Error",
    "supported": "Supported",
    "not_assessed": "Not assessed",
}
# Colour is never the only signal: every status also has a word and a distinct glyph.
STATUS_ICON = {
    "pass": "✓",
    "fail": "✗",
    "partial": "◐",
    "excepted": "⚑",
    "insufficient_evidence": "?",
    "not_applicable": "–",
    "error": "!",
    "supported": "◇",
    "not_assessed": "○",
}
# Display order, worst first (how an auditor reads a status table).
STATUS_ORDER = (
    "fail",
    "error",
    "partial",
    "insufficient_evidence",
    "excepted",
    "pass",
    "supported",
    "not_applicable",
    "not_assessed",
)
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


@dataclass(frozen=True, slots=True)
class Badge:
    """A status as printed: css key (colour), glyph and word."""

    key: str
    icon: str
    label: str


def badge(status: str) -> Badge:
    """The badge of a status value (unknown values print as themselves, neutral colour)."""
    if status not in STATUS_LABEL:
        return Badge("unknown", "·", status.replace("_", " "))
    return Badge(status, STATUS_ICON[status], STATUS_LABEL[status])


def count(value: int | float | None) -> str:
    """An integer count with thousands separators; a dash when absent."""
    if value is None:
        return DASH
    return f"{int(value):,}".replace("-", MINUS)


def number(value: float | None, digits: int = 1) -> str:
    """A decimal with thousands separators and a fixed number of digits."""
    if value is None:
        return DASH
    return f"{value:,.{digits}f}".replace("-", MINUS)


def percent(value: float | None, digits: int = 1) -> str:
    """A percentage given in percent (71.4 → '71.4 %')."""
    if value is None:
        return DASH
    return f"{number(value, digits)} %"


def share(part: int, whole: int) -> str:
    """part/whole as '71.4 % (312/437)', or 'n/a (no population)'."""
    if whole == 0:
        return "n/a (no population)"
    return f"{percent(100.0 * part / whole)} ({count(part)}/{count(whole)})"


def fraction(part: int, whole: int) -> float:
    """part/whole in 0..1, 0 when whole is 0 (for bar lengths, never printed alone)."""
    return part / whole if whole else 0.0


def days(value: float | None) -> str:
    """A duration in days."""
    return DASH if value is None else f"{number(value)} d"


def signed(value: float, digits: int = 1, unit: str = "") -> str:
    """A change with its sign: '+2.3 pp', '−12', '±0'."""
    if round(value, digits) == 0:
        return f"±0{unit}"
    sign = "+" if value > 0 else MINUS
    text = f"{abs(value):,.{digits}f}" if digits else f"{abs(round(value)):,}"
    return f"{sign}{text}{unit}"


def day(value: date | None) -> str:
    """An ISO date."""
    return DASH if value is None else value.isoformat()


def moment(value: datetime | None) -> str:
    """A UTC timestamp to the minute: '2026-10-01 00:00 UTC'."""
    if value is None:
        return DASH
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def moment_seconds(value: datetime) -> str:
    """A UTC timestamp to the second (generation time)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def words(value: str) -> str:
    """A vocabulary value as words: 'deployed_still_vulnerable' → 'deployed still vulnerable'."""
    return value.replace("_", " ")


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """'1 gap', '3 gaps'."""
    return f"{count(n)} {noun if n == 1 else (nouns or noun + 's')}"


def catalog_label(name: str, version: str) -> str:
    """A framework catalog as printed: its name and version, the version once (some titles hold it,
    also in brackets: "... (AI RMF 1.0)")."""
    return name if version and version in re.split(r"[\s()\[\],;:]+", name) else f"{name} {version}".strip()
