"""Change against baselines: earlier results.json compared with this assessment — headline, normalised
exposure and metric deltas with their units, new / closed / repeat gaps and status per control, the
trend over every baseline, and the regressions `--fail-on-regression` fails on. Pure: models in, models out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reporter.models.results import (
    Assessment,
    ComparedPeriod,
    ControlChange,
    ControlResult,
    Gap,
    Headline,
    Measure,
    MeasureChange,
    MetricValue,
    TrendPoint,
    TrendSeries,
)
from reporter.models.results import Comparison as ResultsComparison
from reporter.report import fmt

# Whether higher is better: True, False, or None for a measure reported without a better direction
# (D44). E1 is activity, not safety: its threshold is "report only".
Better = bool | None
HEADLINE_RATIOS: tuple[tuple[str, str, Callable[[Headline], Measure], Better], ...] = (
    ("E1", "E1 Deployments reported successful (activity)", lambda h: h.activity, None),
    ("E2", "E2 Targeted exposure verified removed", lambda h: h.verified_removed, True),
    ("T1", "T1 Remediated by the deadline", lambda h: h.sla_met, True),
    ("E3", "E3 Successes still vulnerable", lambda h: h.still_vulnerable, False),
    ("E4", "E4 Successes never verified", lambda h: h.unverified, False),
)
# Chart labels: short enough for the chart's label column.
SHORT = {
    "E1": "E1 reported successful",
    "E2": "E2 verified removed",
    "T1": "T1 by the deadline",
    "E3": "E3 still vulnerable",
    "E4": "E4 never verified",
}
# (id, label, getter, unit, better). More deployments is more activity, not more safety.
HEADLINE_COUNTS: tuple[tuple[str, str, Callable[[Headline], float], str, Better], ...] = (
    ("deployments_attempted", "Deployments attempted", lambda h: h.deployments_attempted, "deployments", None),
    (
        "open_critical_high",
        "Open critical/high finding-instances",
        lambda h: h.open_critical_high,
        "finding-instances",
        False,
    ),
    (
        "open_internet_facing",
        "Open KEV/critical on internet-facing assets (R2)",
        lambda h: h.open_internet_facing,
        "finding-instances",
        False,
    ),
    ("expired_exceptions", "Expired exceptions", lambda h: h.expired_exceptions, "exceptions", False),
    ("leaked_secrets_valid", "Leaked secrets still valid", lambda h: h.leaked_secrets_valid, "secrets", False),
    ("exposure_days", "Exposure-days in the period (E7)", lambda h: h.exposure_days, "instance-days", False),
)
# Metric directions from each metric's threshold (docs/metrics.md); a metric not listed is reported
# without better/worse wording: its threshold says "report", "trend" or gives no direction (D44).
HIGHER_BETTER = frozenset(
    "V1 V2 V5 V6 V7 V8 T1 T6 T7 E2 E5 E10 E11 X1 X6 N2 N5 N7 N9".split()  # noqa: SIM905 - readable as ids
)
LOWER_BETTER = frozenset(
    "V3 V4 T2 T3 T5 E3 E4 E7 E12 X2 X3 R2 R3 N1 N3 N4 N6 N8 N10".split()  # noqa: SIM905 - readable as ids
)
# Ratios that are quotients, not shares: they change as plain numbers, never in percentage points.
PLAIN_RATIOS = frozenset({"E10"})
# A control that passed and now has one of these statuses is a regression (D45).
FALLEN = frozenset({"fail", "partial", "error", "insufficient_evidence"})


@dataclass(frozen=True, slots=True)
class Delta:
    """One compared measure as printed: both values, the change with its unit, and its direction."""

    label: str
    before: str
    after: str
    change: str
    direction: str  # better | worse | same | report only | n/a
    before_value: float | None = None
    after_value: float | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """A control whose status changed (or that is new / gone)."""

    control_id: str
    title: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Comparison:
    """Everything the trend section and the executive summary show about the baselines."""

    label: str
    notes: tuple[str, ...]
    ratios: tuple[Delta, ...]
    counts: tuple[Delta, ...]
    metrics: tuple[Delta, ...]
    transitions: tuple[Transition, ...]
    unchanged_controls: int
    normalised: tuple[Delta, ...] = ()
    gaps: tuple[ControlChange, ...] = ()
    trend: tuple[TrendSeries, ...] = ()
    periods: tuple[str, ...] = ()  # the trend's column heads, oldest first, this period last
    regressions: tuple[str, ...] = ()


def compare_results(current: Assessment, baselines: Sequence[Assessment]) -> ResultsComparison:
    """The `comparison` section of results.json: deltas against the latest baseline by period, the
    trend over all of them. At least one baseline."""
    ordered = sorted(baselines, key=lambda a: (a.bundle.period_end, a.bundle.period_start, a.bundle.digest))
    last = ordered[-1]
    controls = _control_changes(current, last)
    result = ResultsComparison(
        against=period_of(last),
        baselines=[period_of(a) for a in ordered],
        notes=_notes(current, ordered, controls),
        headline=_headline_changes(last, current),
        normalised=_normalised_changes(last, current),
        metrics=_metric_changes(current.metrics, last.metrics),
        controls=controls,
        trend=_trend([*ordered, current]),
        regressions=[],
    )
    return result.model_copy(update={"regressions": regressions(result)})


def period_of(assessment: Assessment) -> ComparedPeriod:
    """Which assessment a baseline is."""
    b = assessment.bundle
    return ComparedPeriod(
        organisation=b.organisation,
        period_start=b.period_start,
        period_end=b.period_end,
        report_id=report_id(b.digest),
        digest=b.digest,
        tool_version=assessment.tool.version,
    )


def baseline_label(baseline: Assessment) -> str:
    """'Northwind Logistics 2026-04-01 – 2026-06-30 (report ER-…)'."""
    return _label(period_of(baseline))


def _label(p: ComparedPeriod) -> str:
    return f"{p.organisation}, {p.period_start} – {p.period_end} (report {p.report_id})"


def report_id(digest: str) -> str:
    """The report id: derived from the bundle digest, so the same evidence gives the same id."""
    return f"ER-{digest[:8].upper()}-{digest[8:16].upper()}"


def regressions(comparison: ResultsComparison) -> list[str]:
    """What the CI ratchet fails on (D45): verified removal (E2) fell, or could no longer be measured,
    against the latest baseline; or a control that passed there now fails, is partial, errs or lacks
    evidence."""
    out = []
    e2 = next(c for c in comparison.headline if c.id == "E2")
    if e2.before is not None and (e2.after is None or round(e2.after - e2.before, 1) < 0):
        out.append(f"E2 verified removal fell: {e2.before_display} → {e2.after_display} ({e2.change_display})")
    for c in comparison.controls:
        if c.regression:
            out.append(f"{c.control_id} fell back: {c.status_before} → {c.status_after}")
    return out


# --- measures -------------------------------------------------------------------------------------


def _is_percent(m: Measure, id_: str) -> bool:
    """A ratio is a share printed as a percentage, except the plain quotients (E10: fixed per new)."""
    return m.unit == "ratio" and id_ not in PLAIN_RATIOS


def _unit(m: Measure, id_: str, metric: MetricValue | None = None) -> str:
    if _is_percent(m, id_):
        return "percent"
    if metric is None:
        return m.unit
    noun = metric.unit_of_count.split(" (")[0]
    if m.unit == "count":
        return noun if noun.endswith("s") else noun + "s"
    if (m.unit == "days" and noun.endswith("-days")) or m.unit == "index":
        return noun  # E7 instance-days, R3 weighted instance-days
    return m.unit


def _digits(unit: str, before: float, after: float) -> int:
    if unit == "ratio":
        return 2
    whole = float(before).is_integer() and float(after).is_integer()
    return 1 if unit in ("percent", "index") or unit.endswith("days") or not whole else 0


def _change(
    id_: str, label: str, a: Measure | None, b: Measure | None, better: Better, metric: MetricValue | None = None
) -> MeasureChange:
    """A measure's change; percentages change in percentage points, everything else in its own unit."""
    known = b or a
    unit = _unit(known, id_, metric) if known else "n/a"
    before, after = _value(a, id_), _value(b, id_)
    comparable = a is not None and b is not None and _unit(a, id_) == _unit(b, id_)
    change = round(after - before, 6) if comparable and before is not None and after is not None else None
    change_unit = "pp" if unit == "percent" else unit
    digits = _digits(unit, before or 0.0, after or 0.0)
    return MeasureChange(
        id=id_,
        label=label,
        unit=unit,
        change_unit=change_unit,
        before=before,
        after=after,
        change=change,
        before_display=a.display if a else "not measurable",
        after_display=b.display if b else "not measurable",
        change_display="n/a (not comparable)" if change is None else _signed(change, digits, change_unit),
        direction="n/a" if change is None else _direction(round(change, digits), better),
    )


def _signed(change: float, digits: int, unit: str) -> str:
    return fmt.signed(change, digits, f" {unit}" if unit != "ratio" else " (ratio)")


def _value(m: Measure | None, id_: str) -> float | None:
    if m is None or m.value is None:
        return None
    return round(100.0 * m.value, 6) if _is_percent(m, id_) else m.value


def _direction(change: float, better: Better) -> str:
    if change == 0:
        return "same"
    if better is None:
        return "report only"
    return "better" if (change > 0) == better else "worse"


def _count_measure(value: float, unit: str) -> Measure:
    digits = 1 if unit.endswith("days") or not float(value).is_integer() else 0
    shown = fmt.count(value) if digits == 0 else fmt.number(value)
    return Measure(value=float(value), unit=unit, display=shown)


def _headline_changes(old: Assessment, new: Assessment) -> list[MeasureChange]:
    h0, h1 = old.headline, new.headline
    out = [_change(id_, label, get(h0), get(h1), better) for id_, label, get, better in HEADLINE_RATIOS]
    for id_, label, get_count, unit, better in HEADLINE_COUNTS:
        before, after = _count_measure(get_count(h0), unit), _count_measure(get_count(h1), unit)
        out.append(_change(id_, label, before, after, better))
    return out


# Exposure-days normalised so that quarters of different length and estate size compare (D44).
NORMALISED: tuple[tuple[str, str, str], ...] = (
    ("exposure_days_per_day", "E7 per day of the period (mean open finding-instances)", "instance-days per day"),
    ("exposure_days_per_asset", "E7 per inventory asset", "instance-days per asset"),
    ("exposure_days_per_instance", "E7 per finding-instance in the ledger", "days per finding-instance"),
)


def normalised(assessment: Assessment) -> dict[str, Measure | None]:
    """E7 exposure-days divided by the period's days, the inventory assets (V2's denominator) and the
    finding-instances of the ledger (not_affected left out, as E7 leaves them out)."""
    b = assessment.bundle
    days = (b.period_end - b.period_start).days + 1
    v2 = next((m.measure for m in assessment.metrics if m.id == "V2"), None)
    assets = v2.denominator if v2 is not None else None
    instances = sum(n for state, n in assessment.ledger.items() if state != "not_affected")
    e7 = assessment.headline.exposure_days
    out: dict[str, Measure | None] = {}
    for (id_, _, unit), (total, what) in zip(
        NORMALISED, ((days, "days"), (assets, "assets"), (instances, "finding-instances")), strict=True
    ):
        if not total:
            out[id_] = None
            continue
        value = round(e7 / total, 2)
        out[id_] = Measure(
            value=value, unit=unit, display=f"{fmt.number(value, 2)} ({fmt.number(e7)} / {total:,} {what})"
        )
    return out


def _normalised_changes(old: Assessment, new: Assessment) -> list[MeasureChange]:
    before, after = normalised(old), normalised(new)
    return [_change(id_, label, before[id_], after[id_], False) for id_, label, _ in NORMALISED]


def metric_better(metric_id: str) -> Better:
    """Whether a metric is better higher (True), lower (False), or reported without direction (None)."""
    if metric_id in HIGHER_BETTER:
        return True
    return False if metric_id in LOWER_BETTER else None


def _metric_changes(current: list[MetricValue], baseline: list[MetricValue]) -> list[MeasureChange]:
    before = {m.id: m for m in baseline}
    out = []
    for metric in current:
        old = before.get(metric.id)
        if metric.measure is None and (old is None or old.measure is None):
            continue  # not measurable on either side: the limitations section says why
        label = f"{metric.id} {metric.title}"
        change = _change(
            metric.id, label, old.measure if old else None, metric.measure, metric_better(metric.id), metric
        )
        if old is None:
            change = change.model_copy(update={"before_display": "not in baseline"})
        out.append(change)
    return out


# --- controls and gaps ----------------------------------------------------------------------------


def gap_key(gap: Gap) -> tuple[str | None, ...]:
    """What identifies a gap across periods (D43). A finding-instance (asset × vulnerability) and an
    identity keep their ids from quarter to quarter; a tool's finding id, a deployment or an event id
    need not, so a gap about a finding-instance is keyed by the instance, not by the finding record."""
    if gap.asset_id and gap.vuln_id:
        return (gap.control_id, "instance", gap.asset_id, gap.vuln_id)
    if gap.identity_id:
        return (gap.control_id, "identity", gap.identity_id)
    return (gap.control_id, gap.kind, gap.record_id)


def _control_changes(current: Assessment, baseline: Assessment) -> list[ControlChange]:
    before = {c.control_id: c for c in baseline.controls}
    now = {c.control_id: c for c in current.controls}
    return [_control_change(before.get(i), now.get(i)) for i in sorted(set(before) | set(now))]


def _control_change(old: ControlResult | None, new: ControlResult | None) -> ControlChange:
    known = new or old
    if known is None:  # pragma: no cover - the ids come from one side or the other
        raise ValueError("a control change needs a control on one side")
    listed_before = Counter(gap_key(g) for g in old.gaps) if old else Counter()
    listed_after = Counter(gap_key(g) for g in new.gaps) if new else Counter()
    total_before = old.gap_total if old else 0
    total_after = new.gap_total if new else 0
    repeat = sum((listed_before & listed_after).values())
    status_before = old.status.value if old else "absent"
    status_after = new.status.value if new else "absent"
    return ControlChange(
        control_id=known.control_id,
        title=known.title,
        status_before=status_before,
        status_after=status_after,
        gaps_before=total_before,
        gaps_after=total_after,
        new=total_after - repeat,
        closed=total_before - repeat,
        repeat=repeat,
        exact=(old is None or len(old.gaps) == total_before) and (new is None or len(new.gaps) == total_after),
        regression=status_before == "pass" and status_after in FALLEN,
    )


# --- notes and trend ------------------------------------------------------------------------------


def _notes(current: Assessment, ordered: list[Assessment], controls: list[ControlChange]) -> list[str]:
    last = ordered[-1]
    notes = []
    others = sorted({a.bundle.organisation for a in ordered} - {current.bundle.organisation})
    if others:
        notes.append(f"A baseline is for another organisation ({', '.join(others)}).")
    if last.bundle.period_end >= current.bundle.period_start:
        notes.append("The latest baseline period does not end before this period starts; changes may double-count.")
    if len({(a.bundle.period_start, a.bundle.period_end) for a in ordered}) < len(ordered):
        notes.append("Two baselines cover the same period; the trend shows both.")
    if last.tool.catalogs != current.tool.catalogs or last.tool.version != current.tool.version:
        notes.append(
            f"The baseline was assessed with exposure-reporter {last.tool.version} and other catalog versions "
            "or another tool version; definitions may differ."
        )
    if any(a.bundle.digest == current.bundle.digest for a in ordered):
        notes.append("The baseline was produced from the same evidence bundle (same digest).")
    capped = [c.control_id for c in controls if not c.exact]
    if capped:
        notes.append(
            f"{fmt.plural(len(capped), 'control')} ({', '.join(capped)}) list fewer gaps than their gap_total in "
            "results.json (--max-gaps): their new and closed counts are upper bounds and repeat a lower bound."
        )
    return notes


def _trend(assessments: list[Assessment]) -> list[TrendSeries]:
    series: list[TrendSeries] = []
    for id_, label, get, _ in HEADLINE_RATIOS:
        series.append(_series(id_, label, "percent", [(a, get(a.headline)) for a in assessments]))
    for id_, label, get_count, unit, _ in HEADLINE_COUNTS:
        points = [(a, _count_measure(get_count(a.headline), unit)) for a in assessments]
        series.append(_series(id_, label, unit, list(points)))
    norms = [normalised(a) for a in assessments]
    for id_, label, unit in NORMALISED:
        series.append(_series(id_, label, unit, [(a, n[id_]) for a, n in zip(assessments, norms, strict=True)]))
    return series


def _series(id_: str, label: str, unit: str, points: Sequence[tuple[Assessment, Measure | None]]) -> TrendSeries:
    return TrendSeries(
        id=id_,
        label=label,
        unit=unit,
        points=[
            TrendPoint(
                period_end=a.bundle.period_end, value=_value(m, id_), display=m.display if m else "not measurable"
            )
            for a, m in points
        ],
    )


# --- the report's view ----------------------------------------------------------------------------


def view(c: ResultsComparison) -> Comparison:
    """The printed comparison, from the results' comparison section (one source for both)."""
    n_ratios = len(HEADLINE_RATIOS)
    changed = [x for x in c.controls if x.status_before != x.status_after]
    return Comparison(
        label=_label(c.against),
        notes=tuple(c.notes),
        ratios=tuple(_shown(d) for d in c.headline[:n_ratios]),
        counts=tuple(_shown(d) for d in c.headline[n_ratios:]),
        metrics=tuple(_shown(d) for d in c.metrics),
        transitions=tuple(Transition(x.control_id, x.title, x.status_before, x.status_after) for x in changed),
        unchanged_controls=len(c.controls) - len(changed),
        normalised=tuple(_shown(d) for d in c.normalised),
        gaps=tuple(c.controls),
        trend=tuple(c.trend),
        periods=(*(f"{p.period_start} – {p.period_end}" for p in c.baselines), "this period"),
        regressions=tuple(c.regressions),
    )


def _shown(d: MeasureChange) -> Delta:
    return Delta(d.label, d.before_display, d.after_display, d.change_display, d.direction, d.before, d.after)
