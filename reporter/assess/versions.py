"""Does a deployed package version fix a finding? Versions compare per ecosystem with univers
(Debian, RPM, Alpine, semver, PyPI, Maven, Go, RubyGems, NuGet, Composer…), the ecosystem taken
from the finding's package URL. Anything that cannot be compared answers "no": an inferred link
must be earned, never guessed."""

from __future__ import annotations

import re
from functools import lru_cache

from univers.versions import (
    AlpineLinuxVersion,
    ArchLinuxVersion,
    ComposerVersion,
    DebianVersion,
    GentooVersion,
    GolangVersion,
    InvalidVersion,
    MavenVersion,
    NugetVersion,
    PypiVersion,
    RpmVersion,
    RubygemsVersion,
    SemverVersion,
    Version,
)

# purl type → univers version class (https://github.com/package-url/purl-spec types).
ECOSYSTEMS: dict[str, type[Version]] = {
    "deb": DebianVersion,
    "rpm": RpmVersion,
    "apk": AlpineLinuxVersion,
    "alpm": ArchLinuxVersion,
    "ebuild": GentooVersion,
    "npm": SemverVersion,
    "cargo": SemverVersion,
    "pypi": PypiVersion,
    "maven": MavenVersion,
    "golang": GolangVersion,
    "gem": RubygemsVersion,
    "nuget": NugetVersion,
    "composer": ComposerVersion,
}

_PURL_TYPE = re.compile(r"^pkg:([A-Za-z][A-Za-z0-9.+-]*)/")
_LINE = re.compile(r"^(?:\d+:)?v?(\d+)")  # the release line: first numeric component (epoch dropped)


def ecosystem(purl: str | None) -> str | None:
    """The purl type (`deb`, `npm`…) when univers can compare its versions, else None."""
    match = _PURL_TYPE.match(purl or "")
    kind = match[1].lower() if match else None
    return kind if kind in ECOSYSTEMS else None


def _parse(cls: type[Version], text: str) -> Version | None:
    text = text.strip()
    if cls is GolangVersion and text and not text.startswith("v"):
        text = f"v{text}"
    try:
        return cls(text)
    except (InvalidVersion, ValueError, TypeError, IndexError):
        return None


def _line(text: str) -> str | None:
    match = _LINE.match(text.strip())
    return match[1] if match else None


def fixes(purl: str, deployed: str, fixed: str) -> bool:
    """`fixes_in` for the ecosystem of a package URL."""
    kind = ecosystem(purl)
    return kind is not None and fixes_in(kind, deployed, fixed)


@lru_cache(maxsize=65_536)
def fixes_in(kind: str, deployed: str, fixed: str) -> bool:
    """True when `deployed` is at or above a fixed version of `fixed` (a version, or a
    comma-separated list of fixed versions, one per release line as Trivy writes them), compared
    the way ecosystem `kind` (a purl type) orders versions. With a list, a version below the highest
    fix counts only when it is in the same release line (first numeric component) as a fix it
    reaches: 2.6.10 fixes "3.1.0, 2.6.9"; 3.0.5 does not."""
    cls = ECOSYSTEMS.get(kind)
    if cls is None:
        return False
    version = _parse(cls, deployed)
    parsed = [(text, _parse(cls, text)) for text in fixed.split(",") if text.strip()]
    fixes_at = [(text, v) for text, v in parsed if v is not None]
    if version is None or not fixes_at or len(fixes_at) != len(parsed):
        return False
    try:
        if version >= max(v for _, v in fixes_at):
            return True
        line = _line(deployed)
        return any(version >= v and line is not None and _line(text) == line for text, v in fixes_at)
    except TypeError:  # univers refuses to order some mixed forms
        return False
