"""The SVG chart components: deterministic, accessible, escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from reporter.report import charts

SVG = "{http://www.w3.org/2000/svg}"


def _bars() -> list[charts.Bar]:
    return [charts.Bar("<script>alert(1)</script>", 0.5, "50 %"), charts.Bar("b & c", 1.5, "150 %", "red")]


def test_same_input_same_bytes_and_no_random_ids() -> None:
    one = charts.bar_chart("chart-x", "Title", "Desc", _bars()).svg
    two = charts.bar_chart("chart-x", "Title", "Desc", _bars()).svg
    assert one == two
    assert set(re.findall(r'id="([^"]+)"', str(one))) == {"chart-x", "chart-x-title", "chart-x-desc"}


def test_accessible_name_description_and_role() -> None:
    svg = str(
        charts.funnel(
            "chart-f",
            "From A to B",
            "A 10; B 5",
            [charts.Stage("A", "things", 1.0, "10", "blue"), charts.Stage("B", "things", 0.5, "5", "green")],
        ).svg
    )
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == "From A to B"
    assert root.get("aria-labelledby") == "chart-f-title chart-f-desc"
    assert root.find(f"{SVG}title").text == "From A to B"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "A 10; B 5"  # type: ignore[union-attr]


def test_text_is_escaped_and_markup_stays_well_formed() -> None:
    svg = str(charts.bar_chart("c", "<b>t</b>", "d \" '", _bars()).svg)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "<b>" not in svg
    ET.fromstring(svg)


def test_fractions_are_clamped_and_numbers_fixed() -> None:
    svg = str(charts.bar_chart("c", "t", "d", _bars()).svg)
    widths = [float(w) for w in re.findall(r'<rect x="230" y="[^"]+" width="([^"]+)" height="16" fill="#(?!F2)', svg)]
    assert max(widths) <= 640 - 230 - 130  # 150 % is drawn as a full bar, never past the axis
    assert "e-" not in svg
    assert "e+" not in svg


def test_heatmap_prints_every_value_and_note() -> None:
    cells = [[charts.Cell("21", 0.2, "met 98 %"), charts.Cell("340", 1.0, "met 100 %")]]
    svg = str(charts.heatmap("h", "Heat", "d", ["Critical"], ["High", "Low"], cells, axis=("V", "A")).svg)
    for text in ("21", "340", "met 98 %", "met 100 %", "Critical", "High", "Low"):
        assert f">{text}</text>" in svg
    assert 'fill="#FFFFFF"' in svg  # white ink on the darkest cell: the number stays readable


def test_empty_chart_says_why() -> None:
    chart = charts.empty("e", "Trend", "No baseline given.")
    assert "No baseline given." in str(chart.svg)
