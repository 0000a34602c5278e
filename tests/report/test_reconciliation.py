"""The reconciliation section and the evidence integrity marks, on the Q3 sample: every headline figure
equals the sum of the ledger states it is built from, recounted here from ledger.csv alone."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections import Counter
from datetime import datetime

import pytest

from reporter.report.interface import ReportInputs
from reporter.report.view.build import build_view
from reporter.report.view.model import Compare, Figure, ReportView, Section, Table
from reporter.report.view.reconciliation import MARK

OPEN_STATES = {"open", "excepted", "deployed_still_vulnerable", "deployed_unverified", "not_in_scan_scope", "reopened"}
FIXED_STATES = {"verified_fixed", "fixed_without_change_record"}


@pytest.fixture(scope="module")
def view(q3_inputs: ReportInputs) -> ReportView:
    return build_view(q3_inputs)


@pytest.fixture(scope="module")
def ledger(q3_inputs: ReportInputs) -> list[dict[str, str]]:
    text = q3_inputs.exports["ledger.csv"].decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _section(view: ReportView, section_id: str) -> Section:
    return next(s for s in view.sections if s.id == section_id)


def _tables(section: Section) -> dict[str, Table]:
    out = {}
    for block in section.blocks:
        table = block if isinstance(block, Table) else block.table if isinstance(block, Figure) else None
        if table is not None:
            out[table.id] = table
    return out


def _count(text: str) -> int:
    return int(text.replace(",", ""))


def _in_period(q3_inputs: ReportInputs, value: str) -> bool:
    b = q3_inputs.assessment.bundle
    return bool(value) and b.period_start.isoformat() <= value[:10] <= b.period_end.isoformat()


def test_headline_figures_are_sums_of_ledger_states_recounted_from_ledger_csv(
    q3_inputs: ReportInputs, ledger: list[dict[str, str]]
) -> None:
    a = q3_inputs.assessment
    h = a.headline
    by_state = h.reconciliation["by_state"]
    states = Counter(r["state"] for r in ledger)
    assert dict(states) == a.ledger == by_state["instances"]
    open_ch = Counter(r["state"] for r in ledger if r["state"] in OPEN_STATES and r["severity"] in ("critical", "high"))
    assert dict(open_ch) == by_state["open_critical_high"]
    assert sum(open_ch.values()) == h.open_critical_high == 231
    internet = Counter(
        r["state"]
        for r in ledger
        if r["state"] in OPEN_STATES
        and r["internet_facing"] == "true"
        and (r["kev"] == "true" or r["severity"] == "critical")
    )
    assert dict(internet) == by_state["open_internet_facing"]
    assert sum(internet.values()) == h.open_internet_facing
    assert h.sla_met.denominator == sum(by_state["due_in_period"].values())
    assert h.sla_met.numerator == h.sla_met.denominator - sum(by_state["due_missed"].values())
    start = q3_inputs.assessment.bundle.period_start.isoformat()
    as_of = q3_inputs.assessment.as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
    due = [  # PRI-01's cohort: due by as-of, and due or first detected in the period
        r
        for r in ledger
        if r["due_at"]
        and r["due_at"] <= as_of
        and r["state"] != "not_affected"
        and (r["due_at"][:10] >= start or r["first_detected_at"][:10] >= start)
    ]
    assert dict(Counter(r["state"] for r in due)) == by_state["due_in_period"]
    missed = Counter(r["state"] for r in due if r["sla_status"] == "missed")
    assert dict(missed) == by_state["due_missed"]
    targeted = Counter(r["state"] for r in ledger if _in_period(q3_inputs, r["last_deployment_at"]))
    assert dict(targeted) == by_state["targeted"]
    assert sum(targeted.values()) == h.targeted_instances
    removed = {s: n for s, n in targeted.items() if s in FIXED_STATES}
    assert removed == by_state["verified_removed"]
    assert sum(removed.values()) == h.verified_removed.numerator == 1283
    fixes = {s: n for s, n in states.items() if s in FIXED_STATES}
    assert fixes == by_state["verified_fixes"]
    ver03, ver04 = (next(c for c in a.controls if c.control_id == i) for i in ("VER-03", "VER-04"))
    assert sum(fixes.values()) == ver04.population == 1287
    assert sum(by_state["source_closed"].values()) == ver03.population == 1292
    assert sum(by_state["source_closed_evidenced"].values()) == ver03.population - ver03.gap_total == 1288


def test_other_populations_reconcile(q3_inputs: ReportInputs) -> None:
    a = q3_inputs.assessment
    rec = a.headline.reconciliation
    controls = {c.control_id: c for c in a.controls}
    p = rec["population"]
    assert (p["inventory_records"], p["active"], p["in_scan_scope"], p["discovered_keys"]) == (347, 336, 328, 329)
    assert p["active"] - p["active_saas"] == p["in_scan_scope"] == controls["INV-03"].population
    cmdb = next(s for s in a.bundle.sources if "assets" in s.kinds)
    assert cmdb.records == p["inventory_records"]
    s = rec["secrets"]
    assert s["detected"] == controls["NHI-02"].population == 18
    assert s["still_valid"] == a.headline.leaked_secrets_valid == 5
    assert s["still_valid"] + s["closed_late"] == controls["NHI-02"].gap_total == 6
    expired = [e for e in a.exceptions if e.state == "expired"]
    assert len(expired) == controls["EXC-02"].population == 5
    assert a.headline.expired_exceptions == controls["EXC-02"].gap_total == 3
    e7 = next(m for m in a.metrics if m.id == "E7")
    assert e7.measure is not None
    assert e7.measure.value == a.headline.exposure_days


def test_reconciliation_section_prints_every_total_as_the_report_does(view: ReportView) -> None:
    section = _section(view, "reconciliation")
    assert section.title == "Reconciliation of the figures"
    tables = _tables(section)
    assert set(tables) >= {
        "tbl-rec-states",
        "tbl-rec-remediation",
        "tbl-rec-verified",
        "tbl-rec-deployments",
        "tbl-rec-population",
        "tbl-rec-exceptions",
        "tbl-rec-secrets",
        "tbl-rec-integrity",
    }
    for table in tables.values():
        assert "unit:" in table.caption, table.id
    totals = []
    for table_id in ("tbl-rec-states", "tbl-rec-remediation"):
        total, printed = tables[table_id].rows[-2], tables[table_id].rows[-1]
        assert total[0].text.startswith("Total")
        assert printed[0].text.startswith("Printed")
        assert [c.text for c in total[1:]] == [c.text for c in printed[1:]]
        assert not any("differs" in c.note for c in printed)
        totals += [c.text for c in total[1:]]
    assert totals == ["2,304", "231", "7", "767", "9", "1,809", "1,283", "1,287", "1,292", "1,288"]
    verified = [r[0].text for r in tables["tbl-rec-verified"].rows]
    assert verified == ["1,283", "1,284", "1,287", "1,288", "1,292"]
    population = {r[0].text: r[1].text for r in tables["tbl-rec-population"].rows}
    assert population["Inventory (CMDB) records"] == "347"
    assert population["= active assets in scan scope"] == "328"
    assert "329" in population.values()


def test_summary_panels_have_one_unit_and_exact_labels(view: ReportView) -> None:
    summary = _section(view, "summary")
    compare = next(b for b in summary.blocks if isinstance(b, Compare))
    assert "unit: deployment" in compare.left_title
    assert "unit: finding-instance" in compare.right_title
    assert {f.label for f in compare.left} >= {"Never verified (E4)", "Reported successful, still vulnerable (E3)"}
    assert not any("(E3)" in f.label or "(E4)" in f.label for f in compare.right)
    assert all(f.note.startswith("of ") for f in compare.right[1:])
    remaining = _tables(summary)["tbl-remaining"]
    assert [c.label for c in remaining.cols][:4] == ["Figure", "Value", "Unit", "Out of / counted as"]
    rows = {r[0].text: r for r in remaining.rows}
    assert all(r[2].text for r in remaining.rows)
    expired = rows["Expired exceptions still covering open findings (EXC-02)"]
    assert expired[1].text == "3"
    assert "of 5 exceptions expired" in expired[3].text
    secrets = rows["Leaked secrets still valid"]
    assert "of 18 detected" in secrets[3].text
    assert "NHI-02 flags 6" in secrets[3].text
    assert "222 open, 8 excepted, 1 deployed still vulnerable" in rows["Open critical/high finding-instances"][3].text


def test_funnel_has_two_labelled_scales(view: ReportView) -> None:
    funnel = _tables(_section(view, "summary"))["tbl-funnel"]
    scales = {r[3].text for r in funnel.rows}
    assert scales == {"1,666", "1,809"}
    figure = next(b for b in _section(view, "summary").blocks if isinstance(b, Figure) and b.table is funnel)
    assert "scale: 1,666" in str(figure.svg)
    assert "scale: 1,809" in str(figure.svg)
    assert "Two separately labelled scales" in figure.caption


def _marks(view: ReportView) -> tuple[list[str], list[str], str]:
    index = _tables(_section(view, "scope"))["evidence-index"]
    hashes = [r[0].text for r in index.rows if MARK in r[-1].note]
    register = _tables(_section(view, "exceptions"))["tbl-exc-register"]
    valid_marked = [r[0].text for r in register.rows if "valid" in r[4].note and MARK in r[4].note]
    return hashes, valid_marked, _section(view, "scope").intro


def test_integrity_marks_for_unhashed_and_stale_sources(view: ReportView, q3_inputs: ReportInputs) -> None:
    sources = {s.ref: s for s in q3_inputs.assessment.bundle.sources}
    assert not sources["E9"].hash_declared
    assert not sources["E9"].fresh
    hashes, valid_marked, intro = _marks(view)
    assert hashes == [r for r, s in sources.items() if not s.hash_declared] == ["E1", "E9"]
    mitigated = [e.id for e in q3_inputs.assessment.exceptions if e.compensating_controls]
    assert valid_marked == mitigated
    assert mitigated
    assert "each file's SHA-256 was verified" not in intro
    assert "21 of 23 files" in intro
    assert "E1, E9 have no declared hash" in intro
    integrity = _tables(_section(view, "reconciliation"))["tbl-rec-integrity"]
    assert [r[0].text for r in integrity.rows] == [f"{MARK} E1", f"{MARK} E8", f"{MARK} E9"]


def test_no_marks_when_every_source_is_hashed_and_fresh(q3_inputs: ReportInputs) -> None:
    a = q3_inputs.assessment
    sources = [s.model_copy(update={"hash_declared": True, "fresh": True}) for s in a.bundle.sources]
    controls = [c.model_copy(update={"gaps": []}) if c.control_id in ("EVD-02", "EVD-03") else c for c in a.controls]
    clean = a.model_copy(update={"bundle": a.bundle.model_copy(update={"sources": sources}), "controls": controls})
    view = build_view(dataclasses.replace(q3_inputs, assessment=clean))
    hashes, valid_marked, intro = _marks(view)
    assert hashes == []
    assert valid_marked == []
    assert "23 of 23 files" in intro
    assert MARK not in intro
    assert _tables(_section(view, "reconciliation"))["tbl-rec-integrity"].rows == ()


def test_a_stale_source_alone_marks_the_exceptions_it_underpins(q3_inputs: ReportInputs) -> None:
    a = q3_inputs.assessment
    sources = [
        s.model_copy(update={"hash_declared": True, "fresh": "compensating_controls" not in s.kinds})
        for s in a.bundle.sources
    ]
    controls = [c.model_copy(update={"gaps": []}) if c.control_id in ("EVD-02", "EVD-03") else c for c in a.controls]
    stale = a.model_copy(update={"bundle": a.bundle.model_copy(update={"sources": sources}), "controls": controls})
    view = build_view(dataclasses.replace(q3_inputs, assessment=stale))
    hashes, valid_marked, _ = _marks(view)
    assert hashes == []
    assert valid_marked
    assert all(e.startswith("EXC-") for e in valid_marked)
    register = _tables(_section(view, "exceptions"))["tbl-exc-register"]
    assert all("(stale)" in r[4].note for r in register.rows if MARK in r[4].note)


def test_ledger_csv_dates_are_iso(ledger: list[dict[str, str]]) -> None:
    """The recount above compares ISO dates as text: guard that assumption."""
    value = next(r["last_deployment_at"] for r in ledger if r["last_deployment_at"])
    assert datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def test_a_summary_figure_resting_on_a_stale_file_carries_the_mark(q3_inputs: ReportInputs) -> None:
    a = q3_inputs.assessment
    sources = [s.model_copy(update={"fresh": s.ref != "E3"}) for s in a.bundle.sources]
    stale = a.model_copy(update={"bundle": a.bundle.model_copy(update={"sources": sources})})
    summary = _section(build_view(dataclasses.replace(q3_inputs, assessment=stale)), "summary")
    compare = next(b for b in summary.blocks if isinstance(b, Compare))
    attempted = next(f for f in compare.left if f.label == "Deployments attempted")
    assert f"{MARK} rests on E3 (stale)" in attempted.note
    remaining = _tables(summary)["tbl-remaining"]
    assert not any("E3" in r[-1].note for r in remaining.rows)  # no remaining figure cites the deployments
