"""Audit framing in the report view: roles, version and conclusion on the cover, scope exclusions
and extraction notes, assertions and document control at sign-off, and the plan's owner and
target date from management responses (else the evidence's owners, else an honest blank)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from report_helpers import GENERATED_AT, SAMPLES, assess_for_report

from reporter.assess.conclusion import conclusion_of
from reporter.catalog.loader import load_library
from reporter.models.manifest import (
    Assertion,
    DocumentInfo,
    Extraction,
    Framing,
    ManagementResponse,
    Person,
    Recipient,
    Roles,
    ScopeExclusion,
)
from reporter.models.results import Assessment
from reporter.models.status import Status
from reporter.report.interface import ReportInputs
from reporter.report.view import closing, framing, scope, summary
from reporter.report.view.build import build_view
from reporter.report.view.common import Ctx
from reporter.report.view.model import Cell, Signatures, Table, Terms

FRAMING = Framing(
    document=DocumentInfo(version="2.1", status="draft", distribution=[Recipient(name="Audit Committee")]),
    roles=Roles(
        preparer=Person(name="Eva Smit", role="VM Lead"),
        reviewer=Person(name="Pieter Bakker", role="Internal Audit"),
        approver=Person(name="Sanne de Vries", role="CISO"),
    ),
    scope_exclusions=[ScopeExclusion(item="BYOD phones", reason="Not managed by IT", approved_by="CISO")],
    assertions=[Assertion(statement="The CMDB is complete.", by="Head of IT")],
    extraction={"inventory/assets.csv": Extraction(method="ServiceNow report", completeness="row count compared")},
    responses_file="management-responses.yaml",
    responses=[
        ManagementResponse(
            control="VER-02", owner="VM team", target_date=date(2026, 12, 31), response="Re-queue failed patches."
        ),
        ManagementResponse(control="VER-01", owner="VM team", target_date=date(2026, 9, 1), status="in-progress"),
    ],
)


@pytest.fixture(scope="module")
def minimal() -> tuple[Assessment, dict[str, bytes]]:
    """The minimal sample, assessed once (it has no framing of its own)."""
    return assess_for_report(SAMPLES / "minimal")


def _ctx(assessment: Assessment, exports: dict[str, bytes]) -> Ctx:
    return Ctx(ReportInputs(assessment, exports, load_library(), GENERATED_AT))


def _framed(base: tuple[Assessment, dict[str, bytes]], **controls: dict[str, Any]) -> Ctx:
    """The minimal assessment with FRAMING and some controls turned into failures."""
    assessment, exports = base
    changed = [
        c.model_copy(update={"status": Status.FAIL, "gap_total": 3, **controls[c.control_id]})
        if c.control_id in controls
        else c
        for c in assessment.controls
    ]
    bundle = assessment.bundle.model_copy(update={"framing": FRAMING})
    # the conclusion is part of the results: recomputed by the rule for the changed controls
    found = conclusion_of(changed, assessment.metrics, assessment.headline.verified_removed)
    return _ctx(assessment.model_copy(update={"bundle": bundle, "controls": changed, "conclusion": found}), exports)


def _table(blocks: tuple[Any, ...], table_id: str) -> Table:
    found = [b for b in blocks if isinstance(b, Table) and b.id == table_id]
    assert len(found) == 1, table_id
    return found[0]


def _plan_row(ctx: Ctx, control_id: str) -> tuple[Cell, ...]:
    _, blocks = closing.findings_section(ctx)
    rows = [r for r in _table(blocks, "tbl-actions").rows if r[0].text == control_id]
    assert len(rows) == 1
    return rows[0]


def test_plan_owner_and_target_date_come_from_the_responses(minimal: tuple[Assessment, dict[str, bytes]]) -> None:
    ctx = _framed(minimal, **{"VER-02": {}, "VER-01": {}, "INV-01": {"owners": ["team-a"]}, "INV-02": {}})
    owner, due = _plan_row(ctx, "VER-02")[-2:]
    assert (owner.text, owner.note, due.text, due.note) == ("VM team", "management response", "2026-12-31", "agreed")
    owner, due = _plan_row(ctx, "VER-01")[-2:]
    assert due.text == "2026-09-01"
    assert due.note == "in progress; past due at the as-of date"
    owner, due = _plan_row(ctx, "INV-01")[-2:]  # no response: the evidence's owners, and no date
    assert (owner.text, owner.note, due.text) == ("team-a", "named by the evidence", "no management response")
    owner, due = _plan_row(ctx, "INV-02")[-2:]  # nobody at all
    assert (owner.text, due.text) == ("no management response", "no management response")
    assert "to be assigned" not in repr(closing.findings_section(ctx))


def test_responses_table_lists_answers_in_plan_order(minimal: tuple[Assessment, dict[str, bytes]]) -> None:
    ctx = _framed(minimal, **{"VER-02": {}, "INV-01": {}})
    _, blocks = closing.findings_section(ctx)
    table = _table(blocks, "tbl-responses")
    assert table.caption == "Management responses: 1 of 2 plan items (management-responses.yaml)"
    assert [(r[0].text, r[0].note, r[1].text) for r in table.rows] == [
        ("VER-02", "", "Re-queue failed patches."),
        ("VER-01", "no open gaps at as-of", "(no text given)"),
    ]


def test_cover_shows_roles_version_and_conclusion(minimal: tuple[Assessment, dict[str, bytes]]) -> None:
    ctx = _framed(minimal, **{"VER-02": {"severity": "critical"}})
    cover = summary.cover(ctx, None)
    assert cover.prepared_by == "Eva Smit, VM Lead"
    assert cover.reviewed_by == "Pieter Bakker, Internal Audit"
    assert cover.approved_by == "Sanne de Vries, CISO"
    assert cover.version == "2.1 (draft)"
    assert cover.conclusion.startswith("Not effective (")
    notice = summary.conclusion_notice(ctx)
    assert notice.text.startswith("Not effective: critical controls fail (VER-02).")


def test_scope_section_shows_exclusions_and_extraction_notes(minimal: tuple[Assessment, dict[str, bytes]]) -> None:
    ctx = _framed(minimal)
    _, blocks = scope.scope_section(ctx)
    exclusions = _table(blocks, "tbl-exclusions")
    assert [tuple(c.text for c in r) for r in exclusions.rows] == [("BYOD phones", "Not managed by IT", "CISO")]
    extraction = {r[0].note: r for r in _table(blocks, "tbl-extraction").rows}
    noted = extraction["inventory/assets.csv"]
    assert (noted[1].text, noted[3].text) == ("ServiceNow report", "row count compared")
    other = next(r for path, r in extraction.items() if path != "inventory/assets.csv")
    assert other[1].text.startswith("no extraction note in bundle.yaml")
    assert other[3].text == "completeness check not documented"


def test_signoff_names_roles_assertions_and_distribution(minimal: tuple[Assessment, dict[str, bytes]]) -> None:
    _, blocks = closing.signoff_section(_framed(minimal))
    terms = next(b for b in blocks if isinstance(b, Terms))
    assert dict(terms.items) == {
        "Document version": "2.1 (draft)",
        "Distribution": "Audit Committee",
        "Approved by": "Sanne de Vries, CISO",
    }
    assert [r[0].text for r in _table(blocks, "tbl-assertions").rows] == ["The CMDB is complete."]
    signatures = next(b for b in blocks if isinstance(b, Signatures))
    assert [s.name for s in signatures.items] == [
        "Eva Smit, VM Lead",
        "Pieter Bakker, Internal Audit",
        "Sanne de Vries, CISO",
    ]
    assert "makes the assertions listed above" in signatures.items[2].statement


def test_without_framing_the_report_says_what_is_missing(minimal: tuple[Assessment, dict[str, bytes]]) -> None:
    ctx = _ctx(*minimal)
    assert summary.cover(ctx, None).version == "not given in bundle.yaml (document.version)"
    _, blocks = closing.signoff_section(ctx)
    assert _table(blocks, "tbl-assertions").rows == ()
    _, blocks = scope.scope_section(ctx)
    assert _table(blocks, "tbl-exclusions").rows == ()
    assert framing.approver(ctx) == ""


def test_the_quick_start_sample_carries_its_framing() -> None:
    """bundle.yaml → results.json → report: the Q3 sample's own framing reaches the view."""
    assessment, exports = assess_for_report(SAMPLES / "northwind-2026-q3")
    f = assessment.bundle.framing
    assert f.document is not None
    assert f.document.version == "1.0"
    assert f.responses_file == "management-responses.yaml"
    assert len(f.responses) == 6
    assert len(f.scope_exclusions) == 3
    assert "discovery/runzero-netscan.parquet" not in f.extraction  # left without a note on purpose
    view = build_view(ReportInputs(assessment, exports, load_library(), GENERATED_AT))
    assert view.cover.approved_by == "Sanne de Vries, Chief Information Security Officer"
    assert view.cover.conclusion.startswith("Not effective")
    round_trip = Assessment.model_validate_json(assessment.model_dump_json())
    assert round_trip.bundle.framing == f
