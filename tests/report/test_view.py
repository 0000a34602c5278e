"""The display view built from the Q3 sample: outline, caps, citations, honest statuses."""

from __future__ import annotations

import dataclasses

import pytest

from reporter.models.status import Status
from reporter.report import fmt
from reporter.report.interface import RenderLimits, ReportInputs
from reporter.report.templating import render_document
from reporter.report.view.build import build_view
from reporter.report.view.model import Figure, ReportView, Table

OUTLINE = [
    "Executive summary",
    "Scope and evidence index",
    "Reconciliation of the figures",
    "Methodology",
    "Coverage",
    "Patching activity",
    "Verified remediation and the gap",
    "Timeliness",
    "Exploited and internet-facing exposure",
    "Change events",
    "Exceptions register",
    "Non-human identities",
    "AI agents",
    "Framework coverage",
]
CLOSING = [
    "Trends against the baseline",
    "Findings and remediation actions",
    "Audit samples",
    "Limitations",
    "Sign-off",
]


@pytest.fixture(scope="module")
def view(q3_inputs: ReportInputs) -> ReportView:
    return build_view(q3_inputs)


def _tables(view: ReportView) -> dict[str, Table]:
    out = {}
    for section in view.sections:
        for block in section.blocks:
            table = block if isinstance(block, Table) else block.table if isinstance(block, Figure) else None
            if table is not None:
                out[table.id] = table
    return out


def test_outline_in_order_with_one_section_per_framework(view: ReportView) -> None:
    titles = [s.title for s in view.sections]
    assert titles[: len(OUTLINE)] == OUTLINE
    assert titles[-len(CLOSING) :] == CLOSING
    frameworks = titles[len(OUTLINE) : -len(CLOSING)]
    assert [t.split(": ", 1)[0] for t in frameworks] == ["Framework"] * 4
    assert "OWASP" in frameworks[0]
    assert "CSF" in frameworks[1]
    assert "AI RMF" in frameworks[2]
    assert "ATLAS" in frameworks[3]
    assert [s.number for s in view.sections] == list(range(1, len(titles) + 1))
    assert all(s.blocks for s in view.sections)


def test_every_owasp_risk_listed_with_status_and_basis(view: ReportView) -> None:
    table = _tables(view)["tbl-owasp-nhi-top10-2025-items"]
    assert [r[0].text for r in table.rows] == [f"NHI{n}:2025" for n in range(1, 11)]
    assert all(r[2].badge is not None for r in table.rows)
    assert all(r[2].note in ("direct", "inferred") for r in table.rows)


def test_every_citation_points_into_the_evidence_index(view: ReportView) -> None:
    tables = _tables(view)
    index = {row[0].text for row in tables["evidence-index"].rows}
    assert "E0" in index
    assert "E1" in index
    cited = {ref for t in tables.values() for row in t.rows for cell in row for ref in cell.refs}
    assert cited
    assert cited <= index


def test_activity_and_outcome_side_by_side(view: ReportView, q3_inputs: ReportInputs) -> None:
    summary = view.sections[0]
    compare = next(b for b in summary.blocks if b.kind == "compare")
    h = q3_inputs.assessment.headline
    assert h.activity.display in [f.value for f in compare.left]  # type: ignore[union-attr]
    assert h.verified_removed.display in [f.value for f in compare.right]  # type: ignore[union-attr]
    assert "tbl-heat" in _tables(view)  # the importance matrix, never one number


def test_caps_bound_every_gap_table_and_say_what_is_left_out(q3_inputs: ReportInputs) -> None:
    small = dataclasses.replace(q3_inputs, limits=RenderLimits(detail_rows=3, section_gap_rows=2, gaps_per_control=1))
    tables = _tables(build_view(small))
    ver02 = next(c for c in q3_inputs.assessment.controls if c.control_id == "VER-02")
    assert len(tables["tbl-ver02"].rows) == 3
    assert f"Showing 3 of {fmt.count(ver02.gap_total)} gaps" in tables["tbl-ver02"].more
    assert "findings.csv" in tables["tbl-ver02"].more
    failing = [c for c in q3_inputs.assessment.controls if c.gap_total - c.gaps_excepted > 0]
    assert len(tables["tbl-first-gaps"].rows) <= len(failing)
    assert len(tables["tbl-overdue"].rows) <= 2


def test_statuses_print_a_word_and_a_glyph() -> None:
    for status in fmt.STATUS_ORDER:
        badge = fmt.badge(status)
        assert badge.label
        assert badge.icon
        assert badge.key == status
    assert fmt.badge("weird_new").label == "weird new"


def test_no_baseline_is_said_not_hidden(view: ReportView) -> None:
    trends = next(s for s in view.sections if s.id == "trends")
    assert trends.blocks[0].kind == "notice"
    assert view.cover.baseline == "none given"


def test_limitations_list_unmeasurable_metrics(view: ReportView, q3_inputs: ReportInputs) -> None:
    unmeasured = {m.id for m in q3_inputs.assessment.metrics if not m.measurable}
    table = _tables(view)["tbl-lim-metrics"]
    assert {r[0].text for r in table.rows} == unmeasured


@pytest.mark.parametrize("status", list(Status))
def test_every_status_renders(q3_inputs: ReportInputs, status: Status) -> None:
    """A whole assessment in one status (an engine bug, an empty bundle...) still gives a readable report."""
    assessment = q3_inputs.assessment
    controls = [c.model_copy(update={"status": status}) for c in assessment.controls]
    changed = dataclasses.replace(q3_inputs, assessment=assessment.model_copy(update={"controls": controls}))
    html = render_document(build_view(changed), "html")
    assert f"{fmt.badge(status.value).icon}</span> {fmt.badge(status.value).label}" in html


def test_catalog_label_prints_the_version_once() -> None:
    from reporter.report.fmt import catalog_label

    assert catalog_label("NIST Cybersecurity Framework (CSF) 2.0", "2.0") == "NIST Cybersecurity Framework (CSF) 2.0"
    assert catalog_label("MITRE ATLAS", "5.6.0") == "MITRE ATLAS 5.6.0"
    assert catalog_label("Top 10 - 2025", "2025") == "Top 10 - 2025"
    assert catalog_label("Framework (AI RMF 1.0)", "1.0") == "Framework (AI RMF 1.0)"
    assert catalog_label("Framework (AI RMF 1.0)", "1.01") == "Framework (AI RMF 1.0) 1.01"
