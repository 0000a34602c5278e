"""Gap risk in the outputs of the Q3 sample: the remediation plan ranked by risk, findings.csv with
the risk columns in the order results.json lists the gaps (docs/report.md, "Gap risk")."""

from __future__ import annotations

import csv
import io
from collections import Counter

from reporter.report.interface import ReportInputs
from reporter.report.view.closing import actionable, findings_section
from reporter.report.view.common import Ctx, control_risk
from reporter.report.view.model import Table

RISK_COLUMNS = [
    "risk",
    "risk_basis",
    "vuln_severity",
    "kev",
    "internet_facing",
    "asset_importance",
    "identity_privileged",
    "days_overdue",
    "open_at_as_of",
]


def _findings(q3_inputs: ReportInputs) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(q3_inputs.exports["findings.csv"].decode("utf-8-sig"))))


def test_plan_puts_the_overdue_kev_on_internet_facing_assets_first(q3_inputs: ReportInputs) -> None:
    ctx = Ctx(q3_inputs)
    plan = actionable(ctx)
    order = [c.control_id for c in plan]
    # the controls whose riskiest gap is the KEV on an internet-facing asset, overdue for over a year
    assert order[:4] == ["PRI-04", "PRI-01", "PRI-02", "PRI-03"]
    lead = plan[0].gaps[0].risk
    assert lead is not None
    assert (lead.level, lead.kev, lead.internet_facing) == ("critical", True, True)
    assert lead.days_overdue is not None
    assert lead.days_overdue > 365
    # VER-02 is a critical control, but none of its gaps is critical: it ranks after every control with one
    ver02 = next(c for c in plan if c.control_id == "VER-02")
    assert control_risk(ver02).top == "high"
    with_critical = [c.control_id for c in plan if control_risk(c).top == "critical"]
    assert order.index("VER-02") > max(order.index(c) for c in with_critical)
    ranks = [control_risk(c).rank for c in plan]
    assert ranks == sorted(ranks, reverse=True)


def test_plan_rows_show_the_highest_risk_and_the_open_counts(q3_inputs: ReportInputs) -> None:
    _, blocks = findings_section(Ctx(q3_inputs))
    tables = {b.id: b for b in blocks if isinstance(b, Table)}
    rows = {r[0].text: r for r in tables["tbl-actions"].rows}
    assert rows["VER-02"][1].text == "high"
    assert rows["VER-02"][1].note == "control severity critical"
    assert rows["VER-02"][2].text == "135"
    assert rows["VER-02"][2].note.startswith("15 high open at as-of")
    matrix = list(tables["tbl-plan-matrix"].rows)
    ver02 = matrix[[r[0].text for r in matrix].index("VER-02") :][:3]
    assert [r[1].text for r in ver02] == ["high", "medium", "low"]
    assert [r[-1].text for r in ver02] == ["1", "113", "21"]  # the auditor's 1 high, 113 medium, 21 low
    assert sum(int(r[-2].text) for r in ver02) == 46  # closed at as-of: 45 verified fixed and 1 retired
    assert all(int(r[-3].text) == 0 for r in ver02)  # none KEV or internet-facing
    first = tables["tbl-first-gaps"].rows[0]  # the plan's first control, its riskiest gap: level and why
    assert (first[0].text, first[3].text) == ("PRI-04", "critical")
    assert first[3].note.startswith("critical vulnerability, KEV, internet-facing, high importance asset, ")
    assert first[3].note.endswith(" days overdue")


def test_findings_csv_carries_the_risk_in_results_order(q3_inputs: ReportInputs) -> None:
    rows = _findings(q3_inputs)
    header = list(rows[0])
    assert header[header.index("severity") + 1 : header.index("severity") + 1 + len(RISK_COLUMNS)] == RISK_COLUMNS
    ver02 = [r for r in rows if r["control_id"] == "VER-02"]
    assert len(ver02) == 135
    assert Counter(r["risk"] for r in ver02) == {"high": 15, "medium": 47, "low": 73}
    closed = [r for r in ver02 if r["open_at_as_of"] == "false"]
    assert len(closed) == 46
    assert {r["risk"] for r in closed} == {"low"}
    assert {r["severity"] for r in ver02} == {"critical"}  # the control's severity is kept
    control = next(c for c in q3_inputs.assessment.controls if c.control_id == "VER-02")
    assert [r["record_id"] for r in ver02] == [g.record_id for g in control.gaps]
    pri02 = next(r for r in rows if r["control_id"] == "PRI-02")
    assert (pri02["risk"], pri02["kev"], pri02["internet_facing"], pri02["risk_basis"]) == (
        "critical",
        "true",
        "true",
        "finding",
    )
    assert int(pri02["days_overdue"]) > 365
