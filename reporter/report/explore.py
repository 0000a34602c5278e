"""The explorer of the HTML report: the pipeline's explore.json made safe to embed in a data island,
the inline script and stylesheet that read it, and the sentences that say where the rest of each table is.
The PDF renders none of it."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

from reporter.output import Payload, payload_bytes
from reporter.resources import templates_dir

EXPORT = "explore.json"
# In a <script> element only "</script" (and "<!--") can end or confuse the element: every "<", ">"
# and "&" becomes a JSON escape, and U+2028/U+2029 too (line terminators in older JavaScript); so do
# bidi, control and zero-width characters, so that the file's source never shows them applied.
_UNSAFE = re.compile("[<>&\u2028\u2029\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\x7f]")
_WHERE = frozenset({"findings.csv", "ledger.csv", "exceptions.csv"})  # files of the report set


@dataclass(frozen=True)
class Explorer:
    """What report.html embeds: the data island (escaped JSON), the script, its CSP hash and the notes."""

    island: Markup
    script: Markup
    notes: tuple[str, ...]

    @property
    def script_hash(self) -> str:
        """The CSP source that allows the inline script: 'sha256-<base64>'."""
        return sha256_source(str(self.script))


def sha256_source(text: str) -> str:
    """A CSP hash source for an inline element's text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def island_text(document: bytes) -> str:
    """JSON text that cannot end its <script> element early: no "<", ">", "&", U+2028, U+2029, bidi or
    control character left (they can appear only inside JSON strings, where the escapes mean the same)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", document.decode("utf-8"))


@lru_cache(maxsize=1)
def script() -> str:
    """explore.js as shipped; refused if it could end its own element."""
    text = (templates_dir() / "static" / "explore.js").read_text(encoding="utf-8")
    if "</" in text or "<!--" in text:
        raise ValueError("explore.js must not contain '</' or '<!--' (it is inlined into <script>)")
    return text


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """explore.css (screen only), appended to the HTML report's inline stylesheet."""
    text = (templates_dir() / "static" / "explore.css").read_text(encoding="utf-8")
    if "</" in text:
        raise ValueError("explore.css must not contain '</' (it is inlined into <style>)")
    return text


def explorer(exports: Mapping[str, Payload]) -> Explorer | None:
    """The explorer for these exports; None when the pipeline produced no explore.json."""
    made = exports.get(EXPORT)
    if made is None:
        return None
    document = payload_bytes(made)  # capped at EXPLORE_ROWS rows per table
    tables = json.loads(document)["tables"]
    island = Markup(island_text(document))  # noqa: S704 - escaped above: cannot leave its element
    code = Markup(script())  # noqa: S704 - our own script, checked for "</" above
    return Explorer(island, code, tuple(_note(t) for t in tables))


def _note(table: Mapping[str, object]) -> str:
    rows = table["rows"]
    embedded = len(rows) if isinstance(rows, list) else 0
    total = int(str(table["total"]))
    title = str(table["title"])
    where = str(table["file"])
    if embedded >= total:
        return f"{title}: all {total:,} embedded."
    place = f"in {where}, written next to this file, and in" if where in _WHERE else "in"
    return (
        f"{title}: the first {embedded:,} of {total:,} embedded (the cap per table); all {total:,} are "
        f"{place} the evidence store kept with `report --db`."
    )
