"""Small inline-SVG chart components: deterministic (ids from the caller, fixed number formatting),
accessible (role="img", aria-label, <title> and <desc> carrying the numbers), escaped throughout.

They draw the same in a browser and in WeasyPrint: plain rect/text/line elements, presentation
attributes only (no CSS, no scripts, no external references), sizes in viewBox units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
FONT = "DejaVu Sans, Verdana, sans-serif"
# Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
TONES = {
    "blue": "#0072B2",
    "sky": "#56B4E9",
    "green": "#009E73",
    "orange": "#E69F00",
    "red": "#D55E00",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "grey": "#8C8C8C",
    "light": "#D9D9D9",
}
TEXT = "#1A1A1A"
WHITE = "#FFFFFF"
# The smallest text a chart prints: 640 units span the PDF's 516 pt text width, so 10.6 units print at
# 8.5 pt, the report's floor for any text (D53).
SMALL = 10.6
AA_CONTRAST = 4.5  # WCAG 2 AA for normal text


def _luminance(colour: str) -> float:
    """WCAG relative luminance of a #RRGGBB colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #RRGGBB colours (1..21)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def ink(fill: str) -> str:
    """Text colour for a label drawn on `fill`: white or near-black, whichever contrasts more (every fill
    the charts use gives at least 4.5:1 with one of them; the chart tests check it)."""
    return WHITE if contrast(WHITE, fill) >= contrast(TEXT, fill) else TEXT


def _num(value: float) -> str:
    """A coordinate with at most two decimals, no trailing zeros (stable across platforms)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _el(tag: str, attrs: dict[str, str | float], *children: str) -> Markup:
    """One element; attribute values and text children are escaped, Markup children kept."""
    rendered = "".join(
        f' {name}="{escape(_num(value) if isinstance(value, float | int) else value)}"' for name, value in attrs.items()
    )
    inner = "".join(str(escape(child)) for child in children)
    return Markup(f"<{tag}{rendered}>{inner}</{tag}>")  # noqa: S704 - every part escaped above


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", size: float = 11, fill: str = TEXT, weight: str = "normal"
) -> Markup:
    return _el(
        "text",
        {
            "x": x,
            "y": y,
            "font-size": size,
            "font-family": FONT,
            "fill": fill,
            "text-anchor": anchor,
            "font-weight": weight,
        },
        text,
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, *, stroke: str | None = None) -> Markup:
    attrs: dict[str, str | float] = {"x": x, "y": y, "width": max(w, 0.0), "height": h, "fill": fill}
    if stroke:
        attrs |= {"stroke": stroke, "stroke-width": 0.5}
    return _el("rect", attrs)


def _clip(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered chart and its text alternative."""

    id: str
    title: str
    desc: str
    svg: Markup


def _svg(
    chart_id: str, title: str, desc: str, height: float, body: Sequence[Markup], *, width: int = WIDTH, kind: str = ""
) -> Chart:
    head = _el("title", {"id": f"{chart_id}-title"}, title) + _el("desc", {"id": f"{chart_id}-desc"}, desc)
    css_class = f"chart {kind}" if kind else "chart"
    attrs = (
        f'xmlns="http://www.w3.org/2000/svg" class="{css_class}" role="img" id="{escape(chart_id)}" '
        f'aria-label="{escape(title)}" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {width} {_num(height)}" width="{width}" height="{_num(height)}"'
    )
    opening = Markup(f"<svg {attrs}>")  # noqa: S704 - attrs built from escaped values
    svg = opening + head + Markup("").join(body) + Markup("</svg>")
    return Chart(chart_id, title, desc, svg)


@dataclass(frozen=True, slots=True)
class Bar:
    """One horizontal bar: its share of the scale (0..1) and the number printed beside it."""

    label: str
    fraction: float
    display: str
    tone: str = "blue"


def bar_chart(chart_id: str, title: str, desc: str, bars: Sequence[Bar], *, label_width: int = 230) -> Chart:
    """Horizontal bars, one per row, each labelled with its printed value."""
    row, top = 24, 8
    area = WIDTH - label_width - 130
    body: list[Markup] = []
    for i, bar in enumerate(bars):
        y = top + i * row
        body.append(_text(label_width - 8, y + 15, _clip(bar.label, 40), anchor="end"))
        body.append(_rect(label_width, y + 3, area, 16, "#F2F2F2"))
        body.append(_rect(label_width, y + 3, area * min(max(bar.fraction, 0.0), 1.0), 16, TONES[bar.tone]))
        body.append(_text(label_width + area + 8, y + 15, bar.display))
    return _svg(chart_id, title, desc, top * 2 + row * max(len(bars), 1), body)


@dataclass(frozen=True, slots=True)
class Stage:
    """One funnel stage; width is value / base of its own unit (deployments or finding-instances)."""

    label: str
    unit: str
    fraction: float
    display: str
    tone: str


FUNNEL_WIDTH = 380  # narrow enough to be read, not scrolled, on a 390 px phone screen (D54)


def funnel(chart_id: str, title: str, desc: str, stages: Sequence[Stage]) -> Chart:
    """Centred bars narrowing from activity to verified outcome: each stage's label and unit on a line
    above its bar, the count inside the bar (or beside it when the bar is too narrow for it)."""
    row, top, bar = 50, 4, 24
    area = FUNNEL_WIDTH - 4
    centre = FUNNEL_WIDTH / 2
    body: list[Markup] = []
    for i, stage in enumerate(stages):
        y = top + i * row
        width = area * min(max(stage.fraction, 0.0), 1.0)
        tone = TONES[stage.tone]
        body.append(_text(2, y + 12, stage.label, weight="bold"))
        body.append(_text(FUNNEL_WIDTH - 2, y + 12, stage.unit, anchor="end", size=SMALL, fill="#555555"))
        body.append(_rect(centre - width / 2, y + 17, width, bar, tone))
        if width >= 8.0 * len(stage.display) + 12:
            body.append(_text(centre, y + 34, stage.display, anchor="middle", size=11.5, weight="bold", fill=ink(tone)))
        else:
            body.append(_text(centre + width / 2 + 6, y + 34, stage.display, size=11.5, weight="bold"))
    height = top * 2 + row * max(len(stages), 1)
    return _svg(chart_id, title, desc, height, body, width=FUNNEL_WIDTH, kind="funnel")


@dataclass(frozen=True, slots=True)
class Cell:
    """A heat-map cell: intensity 0..1 sets the shade; the number is always printed."""

    display: str
    intensity: float
    note: str = ""


def heatmap(
    chart_id: str,
    title: str,
    desc: str,
    rows: Sequence[str],
    cols: Sequence[str],
    cells: Sequence[Sequence[Cell]],
    *,
    axis: tuple[str, str],
) -> Chart:
    """A grid of shaded cells (rows × columns), each printing its value (and an optional note)."""
    left, top, height = 120, 40, 38
    width = (WIDTH - left - 4) / max(len(cols), 1)
    body: list[Markup] = [
        _text(left + (WIDTH - left) / 2, 12, axis[1], anchor="middle", size=SMALL, fill="#555555"),
        _text(4, 12, axis[0], size=SMALL, fill="#555555"),
    ]
    for j, col in enumerate(cols):
        body.append(_text(left + width * (j + 0.5), 32, col, anchor="middle", weight="bold"))
    for i, row_label in enumerate(rows):
        y = top + i * height
        body.append(_text(left - 8, y + height / 2 + 4, row_label, anchor="end", weight="bold"))
        for j, cell in enumerate(cells[i]):
            body.extend(_heat_cell(left + j * width, y, width, height, cell))
    return _svg(chart_id, title, desc, top + height * max(len(rows), 1) + 4, body)


def _heat_cell(x: float, y: float, w: float, h: float, cell: Cell) -> list[Markup]:
    shade = _shade(cell.intensity)
    text_ink = ink(shade)
    out = [
        _rect(x + 1, y + 1, w - 2, h - 2, shade, stroke="#BBBBBB"),
        _text(
            x + w / 2,
            y + (h / 2 if cell.note else h / 2 + 4),
            cell.display,
            anchor="middle",
            weight="bold",
            fill=text_ink,
        ),
    ]
    if cell.note:
        out.append(_text(x + w / 2, y + h / 2 + 13, cell.note, anchor="middle", size=SMALL, fill=text_ink))
    return out


def _shade(intensity: float) -> str:
    """White → deep vermilion, in eight fixed steps (so equal inputs give equal bytes)."""
    ramp = ("#FFFFFF", "#FDE9DF", "#FBD0BA", "#F7AF8E", "#EF8A62", "#E06538", "#C4461E", "#9E2F10")
    step = round(min(max(intensity, 0.0), 1.0) * (len(ramp) - 1))
    return ramp[step]


@dataclass(frozen=True, slots=True)
class Segment:
    """A part of a stacked bar."""

    fraction: float
    tone: str
    label: str


@dataclass(frozen=True, slots=True)
class StackedRow:
    """One stacked bar and the text printed after it."""

    label: str
    segments: tuple[Segment, ...]
    display: str


def stacked_bars(
    chart_id: str, title: str, desc: str, rows: Sequence[StackedRow], legend: Sequence[tuple[str, str]]
) -> Chart:
    """100 % bars split into segments, with a legend (tone, label) under them."""
    row, top, label_width = 26, 6, 170
    area = WIDTH - label_width - 150
    body: list[Markup] = []
    for i, stacked in enumerate(rows):
        y = top + i * row
        body.append(_text(label_width - 8, y + 15, _clip(stacked.label, 28), anchor="end"))
        x = float(label_width)
        body.append(_rect(x, y + 3, area, 16, "#F2F2F2"))
        for segment in stacked.segments:
            width = area * min(max(segment.fraction, 0.0), 1.0)
            body.append(_rect(x, y + 3, width, 16, TONES[segment.tone]))
            x += width
        body.append(_text(label_width + area + 8, y + 15, stacked.display))
    body.extend(_legend(top + row * len(rows) + 8, legend))
    return _svg(chart_id, title, desc, top + row * len(rows) + 30, body)


def _legend(y: float, legend: Sequence[tuple[str, str]]) -> list[Markup]:
    out: list[Markup] = []
    x = 10.0
    for tone, label in legend:
        out.append(_rect(x, y, 12, 12, TONES[tone]))
        out.append(_text(x + 17, y + 10, label, size=SMALL))
        x += 30 + 6.6 * len(label)
    return out


@dataclass(frozen=True, slots=True)
class Pair:
    """A before/after pair: fractions of the scale and the printed values."""

    label: str
    before: float
    after: float
    before_display: str
    after_display: str


def paired_bars(
    chart_id: str, title: str, desc: str, pairs: Sequence[Pair], legend: tuple[str, str] = ("Baseline", "This period")
) -> Chart:
    """Two bars per row (baseline in grey, this period in blue), each with its value."""
    row, top, label_width = 40, 6, 230
    area = WIDTH - label_width - 120
    body: list[Markup] = []
    for i, pair in enumerate(pairs):
        y = top + i * row
        body.append(_text(label_width - 8, y + 20, _clip(pair.label, 38), anchor="end"))
        for k, (fraction, display, tone) in enumerate(
            ((pair.before, pair.before_display, "grey"), (pair.after, pair.after_display, "blue"))
        ):
            by = y + 3 + k * 16
            body.append(_rect(label_width, by, area * min(max(fraction, 0.0), 1.0), 13, TONES[tone]))
            body.append(_text(label_width + area + 8, by + 11, display, size=SMALL))
    body.extend(_legend(top + row * len(pairs) + 6, (("grey", legend[0]), ("blue", legend[1]))))
    return _svg(chart_id, title, desc, top + row * len(pairs) + 28, body)


def empty(chart_id: str, title: str, message: str) -> Chart:
    """A placeholder that says why there is nothing to draw (never an empty box)."""
    body = [_rect(0, 0, WIDTH, 40, "#F7F7F7", stroke="#CCCCCC"), _text(WIDTH / 2, 25, message, anchor="middle")]
    return _svg(chart_id, title, message, 40, body)
