"""Quarter over quarter: units on every delta, the trend over several baselines, new / closed / repeat
gaps per control, the `comparison` section of results.json and the --fail-on-regression ratchet."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest
from report_helpers import SAMPLES, run_cli

from reporter.cli.assess_cmd import FailOn, exit_code
from reporter.models.results import Assessment, ControlResult, Gap
from reporter.models.status import Status
from reporter.report.baseline import compare_results, gap_key
from reporter.report.baseline import view as baseline_view
from reporter.report.interface import ReportInputs
from reporter.report.view.build import build_view
from reporter.report.view.model import Table


def _earlier(assessment: Assessment, quarters: int, e2: float | None = None) -> Assessment:
    """The assessment moved `quarters` quarters back (another digest), optionally with another E2."""
    b = assessment.bundle
    start = date(b.period_start.year, b.period_start.month - 3 * quarters, 1)
    end = date(b.period_end.year, b.period_end.month - 3 * quarters, 30)
    bundle = b.model_copy(update={"period_start": start, "period_end": end, "digest": f"{quarters:02d}" * 32})
    headline = assessment.headline
    if e2 is not None:
        removed = headline.verified_removed.model_copy(update={"value": e2, "display": f"{100 * e2:.1f} %"})
        headline = headline.model_copy(update={"verified_removed": removed})
    return assessment.model_copy(update={"bundle": bundle, "headline": headline})


def _gap(control_id: str, record_id: str, **ids: str) -> Gap:
    return Gap(
        control_id=control_id,
        kind="findings" if "vuln_id" in ids else "identities" if "identity_id" in ids else "rollout_events",
        record_id=record_id,
        source="x.jsonl",
        message=record_id,
        severity="high",
        **ids,
    )


def _with_gaps(assessment: Assessment, control: ControlResult, gaps: list[Gap], total: int | None = None) -> Assessment:
    changed = control.model_copy(update={"gaps": gaps, "gap_total": len(gaps) if total is None else total})
    controls = [changed if c.control_id == control.control_id else c for c in assessment.controls]
    return assessment.model_copy(update={"controls": controls})


def test_every_delta_carries_its_unit(q3_inputs: ReportInputs) -> None:
    current = q3_inputs.assessment
    comparison = compare_results(current, [_earlier(current, 1, e2=0.5)])
    changes = comparison.headline + comparison.normalised + comparison.metrics
    comparable = [c for c in changes if c.change is not None]
    assert len(comparable) > 40
    for c in comparable:  # "+0.3" alone never: the unit follows the number
        assert c.change_display.endswith(f" {c.change_unit}" if c.change_unit != "ratio" else " (ratio)"), c
    e2 = next(c for c in comparison.headline if c.id == "E2")
    assert (e2.unit, e2.change_unit, e2.direction) == ("percent", "pp", "better")
    assert e2.change_display == f"+{(e2.after or 0) - 50:.1f} pp"
    e10 = next(c for c in comparison.metrics if c.id == "E10")
    assert e10.unit == "ratio"  # fixed per new is a quotient: never percentage points
    assert "pp" not in e10.change_display
    e7 = next(c for c in comparison.metrics if c.id == "E7")
    assert e7.change_unit == "instance-days"
    deployments = next(c for c in comparison.headline if c.id == "deployments_attempted")
    assert deployments.change_display.endswith(" deployments")


def test_report_only_measures_are_never_better_or_worse(q3_inputs: ReportInputs) -> None:
    current = q3_inputs.assessment
    earlier = _earlier(current, 1)
    activity = earlier.headline.activity.model_copy(update={"value": 0.2})
    earlier = earlier.model_copy(update={"headline": earlier.headline.model_copy(update={"activity": activity})})
    comparison = compare_results(current, [earlier])
    e1 = next(c for c in comparison.headline if c.id == "E1")
    assert e1.change is not None
    assert e1.change > 0
    assert e1.direction == "report only"
    for metric_id in ("E1", "E6", "E8", "E9", "R1", "T4", "X4"):
        change = next((c for c in comparison.metrics if c.id == metric_id), None)
        assert change is None or change.direction in ("report only", "same", "n/a"), change


def test_normalised_exposure_divides_by_days_assets_and_instances(q3_inputs: ReportInputs) -> None:
    current = q3_inputs.assessment
    comparison = compare_results(current, [_earlier(current, 1)])
    per = {c.id: c for c in comparison.normalised}
    e7 = current.headline.exposure_days
    assert per["exposure_days_per_day"].after == round(e7 / 92, 2)  # 2026-07-01 … 2026-09-30
    instances = sum(n for s, n in current.ledger.items() if s != "not_affected")
    assert per["exposure_days_per_instance"].after == round(e7 / instances, 2)
    assert per["exposure_days_per_asset"].change_unit == "instance-days per asset"


def test_trend_spans_every_baseline_in_period_order(q3_inputs: ReportInputs) -> None:
    current = q3_inputs.assessment
    q1, q2 = _earlier(current, 2, e2=0.4), _earlier(current, 1, e2=0.6)
    comparison = compare_results(current, [q2, q1])  # given out of order
    assert [p.period_end for p in comparison.baselines] == [q1.bundle.period_end, q2.bundle.period_end]
    assert comparison.against.period_end == q2.bundle.period_end  # deltas are against the latest
    e2 = next(s for s in comparison.trend if s.id == "E2")
    assert [p.value for p in e2.points] == [
        40.0,
        60.0,
        pytest.approx(100 * (current.headline.verified_removed.value or 0)),
    ]
    view = baseline_view(comparison)
    assert view.periods[-1] == "this period"
    assert len(view.periods) == 3
    assert view.ratios[1].before == "60.0 %"


def test_new_closed_and_repeat_gaps_use_the_gap_key(q3_inputs: ReportInputs) -> None:
    current = q3_inputs.assessment
    control = current.controls[0]
    cid = control.control_id
    before = [
        _gap(cid, "f-1", asset_id="a-1", vuln_id="CVE-1"),
        _gap(cid, "nhi-1", identity_id="nhi-1"),
        _gap(cid, "r-1"),
    ]
    after = [
        _gap(cid, "f-9", asset_id="a-1", vuln_id="CVE-1"),  # the same instance under a new finding id
        _gap(cid, "nhi-1", identity_id="nhi-1"),
        _gap(cid, "f-10", asset_id="a-2", vuln_id="CVE-1"),
        _gap(cid, "r-2"),
    ]
    assert gap_key(before[0]) == gap_key(after[0])
    baseline = _with_gaps(_earlier(current, 1), control, before)
    change = next(
        c for c in compare_results(_with_gaps(current, control, after), [baseline]).controls if c.control_id == cid
    )
    assert (change.gaps_before, change.gaps_after) == (3, 4)
    assert (change.new, change.closed, change.repeat, change.exact) == (2, 1, 2, True)


def test_capped_gap_lists_give_bounds_not_exact_counts(q3_inputs: ReportInputs) -> None:
    current = q3_inputs.assessment
    control = current.controls[0]
    cid = control.control_id
    listed = [_gap(cid, "nhi-1", identity_id="nhi-1")]
    baseline = _with_gaps(_earlier(current, 1), control, listed, total=5)
    comparison = compare_results(_with_gaps(current, control, listed, total=7), [baseline])
    change = next(c for c in comparison.controls if c.control_id == cid)
    assert (change.exact, change.repeat, change.new, change.closed) == (False, 1, 6, 4)
    assert change.new + change.repeat == change.gaps_after
    assert any(cid in n and "upper bounds" in n for n in comparison.notes)


def test_regressions_and_the_ratchet_exit_code(q3_inputs: ReportInputs) -> None:
    current = q3_inputs.assessment
    failing = next(c for c in current.controls if c.status is Status.FAIL)
    passed = failing.model_copy(update={"status": Status.PASS})
    baseline = _earlier(current, 1, e2=0.99)
    baseline = baseline.model_copy(
        update={"controls": [passed if c.control_id == failing.control_id else c for c in baseline.controls]}
    )
    comparison = compare_results(current, [baseline])
    assert any(r.startswith("E2 verified removal fell") for r in comparison.regressions)
    assert f"{failing.control_id} fell back: pass → fail" in comparison.regressions
    with_regressions = current.model_copy(update={"comparison": comparison})
    assert exit_code(with_regressions, FailOn.NONE, fail_on_regression=True) == 1
    assert exit_code(with_regressions, FailOn.NONE, fail_on_regression=False) == 0
    steady = current.model_copy(update={"comparison": compare_results(current, [_earlier(current, 1)])})
    assert steady.comparison is not None
    assert steady.comparison.regressions == []
    assert exit_code(steady, FailOn.NONE, fail_on_regression=True) == 0


def test_results_json_has_the_comparison_only_with_a_baseline(q3_inputs: ReportInputs) -> None:
    current = q3_inputs.assessment
    assert "comparison" not in json.loads(current.model_dump_json())
    comparison = compare_results(current, [_earlier(current, 1)])
    data = json.loads(current.model_copy(update={"comparison": comparison}).model_dump_json())
    section = data["comparison"]
    assert section["format_version"] == 1
    assert {"against", "baselines", "headline", "normalised", "metrics", "controls", "trend", "regressions"} <= set(
        section
    )
    assert Assessment.model_validate(data).comparison == comparison  # a results.json with it reads back


def test_fail_on_regression_needs_a_baseline(tmp_path: Path) -> None:
    code, _, err = run_cli("assess", str(SAMPLES / "minimal"), "--fail-on-regression")
    assert code == 2
    assert "--fail-on-regression needs at least one --baseline" in err


def test_assess_ratchet_exits_1_when_verified_removal_falls(
    tmp_path: Path, q2_results: Path, q3_inputs: ReportInputs
) -> None:
    later = tmp_path / "q3.json"  # Q3 as the "baseline" of Q2: E2 was 70.9 %, Q2 has 67.6 %
    later.write_text(q3_inputs.assessment.model_dump_json(), encoding="utf-8")
    out = tmp_path / "results.json"
    code, stdout, err = run_cli(
        "assess",
        str(SAMPLES / "northwind-2026-q2"),
        "-o",
        str(out),
        "--baseline",
        str(later),
        "--baseline",
        str(q2_results),
        "--fail-on-regression",
    )
    assert code == 1, err
    assert "regression: E2 verified removal fell: 70.9 %" in err
    assert "against 2 baseline(s)" in stdout
    comparison = json.loads(out.read_bytes())["comparison"]
    assert comparison["against"]["period_end"] == "2026-09-30"
    assert {len(s["points"]) for s in comparison["trend"]} == {3}


def test_the_trends_section_prints_the_trend_units_and_bounds(q3_inputs: ReportInputs) -> None:
    current = q3_inputs.assessment
    control = current.controls[0]
    listed = [_gap(control.control_id, "nhi-1", identity_id="nhi-1")]
    q1, q2 = _earlier(current, 2), _with_gaps(_earlier(current, 1), control, listed, total=5)
    now = _with_gaps(current, control, listed, total=7)
    now = now.model_copy(update={"comparison": compare_results(now, [q1, q2])})
    view = build_view(dataclasses.replace(q3_inputs, assessment=now))
    trends = next(s for s in view.sections if s.id == "trends")
    tables = {b.id: b for b in trends.blocks if isinstance(b, Table)}
    periods = tables["tbl-trend-periods"]
    assert [c.label for c in periods.cols[1:]] == [
        f"{q1.bundle.period_start} – {q1.bundle.period_end}",
        f"{q2.bundle.period_start} – {q2.bundle.period_end}",
        "this period",
    ]
    gaps = {row[0].text: row for row in tables["tbl-trend-gaps"].rows}
    row = gaps[control.control_id]
    assert [cell.text for cell in row[3:]] == ["≤ 6", "≤ 4", "≥ 1"]
    counts = tables["tbl-trend-counts"]
    assert all(
        row[3].text.endswith(("deployments", "finding-instances", "exceptions", "secrets", "instance-days"))
        for row in counts.rows
    )
    first = {row[0].text: row for row in counts.rows}["Deployments attempted"]
    assert first[3].note in ("", "report only")
