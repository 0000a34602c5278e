"""The Jinja environment (autoescape on, StrictUndefined) and the one document template, rendered
for a target: "html" (self-contained, CSP-hashed style) or "pdf" (adds the shipped fonts and pages)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache, partial
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from reporter.report.explore import Explorer
from reporter.report.explore import stylesheet as explore_css
from reporter.report.sandbox import LOGO_ASSET
from reporter.report.view.model import Figure, ReportView, Table
from reporter.resources import templates_dir

Target = Literal["html", "pdf"]


# Bidirectional overrides and isolates, marks and other control characters in evidence text can
# reorder or hide what a reader sees (a file name that reads backwards, a forged line), and zero-width
# spaces and joiners without a linguistic use make two ids look the same: the report prints them as
# visible code points instead.
_INVISIBLE = re.compile(
    "[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
)


def visible(value: object) -> object:
    """Every printed value (Jinja `finalize`): control and bidi characters of text shown as ⟨U+202E⟩;
    markup the view built (charts) is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _INVISIBLE.sub(lambda m: f"⟨U+{ord(m[0]):04X}⟩", value)
    return value


# Safe line-break points (D53): after the separators of ids, paths, e-mail addresses and key=value
# filters, and every 8 characters of a long hex digest; words never break inside.
_LONG_TOKEN = re.compile(r"\S{12,}")
_SEPARATORS = re.compile(r"([-_./:@=\\]+)(?=[^\s\-_./:@=\\])")
_HEX_RUN = re.compile(r"[0-9a-fA-F]{16,}")


# The break opportunity itself (D96): <wbr> in the HTML, which browsers leave out when text is copied;
# in the PDF a zero-width space (U+200B) in the text. WeasyPrint draws <wbr> as that very character in a
# ::before of an element of its own (its html5_ua.css): three boxes to style and lay out per break point,
# where the character in the text adds none. Glyphs, lines and extracted text are the same.
BREAKS: dict[Target, Markup] = {"html": Markup("<wbr>"), "pdf": Markup("\u200b")}


def _break_token(token: str, mark: Markup) -> Markup:
    out: list[Markup] = []
    for n, part in enumerate(_SEPARATORS.split(token)):
        if n % 2:  # a run of separators: a break opportunity after it
            out += [escape(part), mark]
        else:
            out.append(mark.join(escape(piece) for piece in _hex_groups(part)))
    return Markup("").join(out)


def _hex_groups(part: str) -> list[str]:
    """The part cut after every 8 characters of its long hex runs (a digest reads in groups)."""
    pieces: list[str] = []
    last = 0
    for m in _HEX_RUN.finditer(part):
        groups = [m[0][i : i + 8] for i in range(0, len(m[0]), 8)]
        groups[0] = part[last : m.start()] + groups[0]
        if pieces:
            pieces[-1] += groups.pop(0)
        pieces += groups
        last = m.end()
    if not pieces:
        return [part]
    pieces[-1] += part[last:]
    return pieces


def breakable(value: object, mark: Markup = BREAKS["html"]) -> Markup:
    """Text with break opportunities (`mark`, <wbr> by default) at the safe points of its long tokens
    (ids, hashes, paths, e-mail addresses), escaped; control and bidi characters shown as for every value."""
    text = str(visible(str(value)))
    pieces = []
    last = 0
    for m in _LONG_TOKEN.finditer(text):
        pieces.append(escape(text[last : m.start()]))
        pieces.append(_break_token(m[0], mark))
        last = m.end()
    pieces.append(escape(text[last:]))
    return Markup("").join(pieces)


@lru_cache(maxsize=4)
def environment(target: Target = "html", root: Path | None = None) -> Environment:
    """The report environment for a target: every template autoescaped, undefined names are errors,
    control and bidi characters made visible; the `breakable` filter marks safe line-break points in
    the target's way (BREAKS)."""
    env = Environment(
        loader=FileSystemLoader(str(root or templates_dir())),
        autoescape=True,
        finalize=visible,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["breakable"] = partial(breakable, mark=BREAKS[target])
    return env


@lru_cache(maxsize=4)
def _static_css(target: Target) -> str:
    static = templates_dir() / "static"
    parts = [(static / "report.css").read_text(encoding="utf-8")]
    if target == "pdf":
        parts.append((static / "pdf.css").read_text(encoding="utf-8"))
    css = "\n".join(parts)
    if "</" in css:
        raise ValueError("a stylesheet must not contain '</' (it is inlined into <style>)")
    return css


def stylesheet(target: Target, widths: Iterable[int] = ()) -> str:
    """The inline stylesheet: report.css (+ pdf.css for the PDF) and one column-width class per width
    the tables use (percent), so no element needs an inline style attribute."""
    rules = "\n".join(f"col.w{n} {{ width: {n}%; }}" for n in sorted(set(widths)) if 0 < n <= 100)
    return _static_css(target) + "\n" + rules + "\n"


def column_widths(view: ReportView) -> set[int]:
    """Every column width the view's tables use."""
    widths: set[int] = set()
    for section in view.sections:
        for block in section.blocks:
            table = block if isinstance(block, Table) else block.table if isinstance(block, Figure) else None
            if table is not None:
                widths.update(col.width for col in table.cols)
    return widths


def csp(css: str, script_hash: str | None = None) -> str:
    """Content-Security-Policy: nothing may load; the one inline style is allowed by its hash; images
    only as data: URIs (the logo); no forms, no base URL; no script, or only the explorer's inline
    script by its hash (never 'unsafe-inline')."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
    scripts = script_hash or "'none'"
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; font-src 'none'; script-src {scripts}; "
        "connect-src 'none'; base-uri 'none'; form-action 'none'"
    )


def render_document(view: ReportView, target: Target, explorer: Explorer | None = None) -> str:
    """The report as one HTML document for the target; the HTML with the explorer when given (the PDF
    never has it)."""
    explorer = explorer if target == "html" else None
    css = stylesheet(target, column_widths(view))
    if explorer is not None:
        css += explore_css()
    template = environment(target).get_template("report.html")
    logo = view.cover.logo_data_uri if target == "html" else LOGO_ASSET
    style = Markup(css)  # noqa: S704 - our own stylesheets, checked for "</" above
    policy = csp(css, explorer.script_hash if explorer else None)
    return template.render(view=view, target=target, css=style, csp=policy, logo_src=logo, explorer=explorer)
