"""Change against a baseline: a previous results.json compared with this assessment — headline
deltas, metric deltas and control status transitions. Pure: both assessments come in as models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reporter.models.results import Assessment, Headline, Measure, MetricValue
from reporter.report import fmt

# (label, getter, higher is better). Ratios compare in percentage points, counts as numbers.
HEADLINE_RATIOS: tuple[tuple[str, Callable[[Headline], Measure], bool], ...] = (
    ("E1 Deployments reported successful (activity)", lambda h: h.activity, True),
    ("E2 Targeted exposure verified removed", lambda h: h.verified_removed, True),
    ("T1 Remediated by the deadline", lambda h: h.sla_met, True),
    ("E3 Successes still vulnerable", lambda h: h.still_vulnerable, False),
    ("E4 Successes never verified", lambda h: h.unverified, False),
)
# Chart labels: short enough for the chart's label column.
SHORT = {
    "E1": "E1 reported successful",
    "E2": "E2 verified removed",
    "T1": "T1 by the deadline",
    "E3": "E3 still vulnerable",
    "E4": "E4 never verified",
}
# None: no direction is better (more deployments is more activity, not more safety).
HEADLINE_COUNTS: tuple[tuple[str, Callable[[Headline], float], bool | None], ...] = (
    ("Deployments attempted", lambda h: h.deployments_attempted, None),
    ("Open critical/high finding-instances", lambda h: h.open_critical_high, False),
    ("Open KEV/critical on internet-facing assets (R2)", lambda h: h.open_internet_facing, False),
    ("Expired exceptions", lambda h: h.expired_exceptions, False),
    ("Leaked secrets still valid", lambda h: h.leaked_secrets_valid, False),
    ("Exposure-days in the period (E7)", lambda h: h.exposure_days, False),
)


@dataclass(frozen=True, slots=True)
class Delta:
    """One compared measure: both printed values, the change, and whether it is better or worse."""

    label: str
    before: str
    after: str
    change: str
    direction: str  # better | worse | same | n/a
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
    """Everything the trend section and the executive summary show about the baseline."""

    label: str
    notes: tuple[str, ...]
    ratios: tuple[Delta, ...]
    counts: tuple[Delta, ...]
    metrics: tuple[Delta, ...]
    transitions: tuple[Transition, ...]
    unchanged_controls: int


def compare(current: Assessment, baseline: Assessment) -> Comparison:
    """Compare this assessment with a previous one."""
    h0, h1 = baseline.headline, current.headline
    ratios = tuple(_ratio_delta(label, get(h0), get(h1), up) for label, get, up in HEADLINE_RATIOS)
    counts = tuple(_count_delta(label, get(h0), get(h1), up) for label, get, up in HEADLINE_COUNTS)
    transitions, same = _transitions(current, baseline)
    return Comparison(
        label=baseline_label(baseline),
        notes=_notes(current, baseline),
        ratios=ratios,
        counts=counts,
        metrics=_metric_deltas(current.metrics, baseline.metrics),
        transitions=transitions,
        unchanged_controls=same,
    )


def baseline_label(baseline: Assessment) -> str:
    """'Northwind Logistics 2026-04-01 – 2026-06-30 (report ER-…)'."""
    b = baseline.bundle
    return f"{b.organisation}, {b.period_start} – {b.period_end} (report {report_id(b.digest)})"


def report_id(digest: str) -> str:
    """The report id: derived from the bundle digest, so the same evidence gives the same id."""
    return f"ER-{digest[:8].upper()}-{digest[8:16].upper()}"


def _notes(current: Assessment, baseline: Assessment) -> tuple[str, ...]:
    notes = []
    if baseline.bundle.organisation != current.bundle.organisation:
        notes.append(f"The baseline is for another organisation ({baseline.bundle.organisation}).")
    if baseline.bundle.period_end >= current.bundle.period_start:
        notes.append("The baseline period does not end before this period starts; changes may double-count.")
    if baseline.tool.catalogs != current.tool.catalogs or baseline.tool.version != current.tool.version:
        notes.append(
            f"The baseline was assessed with exposure-reporter {baseline.tool.version} and other catalog versions "
            "or another tool version; definitions may differ."
        )
    if baseline.bundle.digest == current.bundle.digest:
        notes.append("The baseline was produced from the same evidence bundle (same digest).")
    return tuple(notes)


def _ratio_delta(label: str, before: Measure, after: Measure, higher_better: bool) -> Delta:
    if before.value is None or after.value is None or before.unit != "ratio" or after.unit != "ratio":
        return Delta(label, before.display, after.display, "n/a", "n/a")
    change = 100.0 * (after.value - before.value)
    return Delta(
        label,
        before.display,
        after.display,
        fmt.signed(change, 1, " pp"),
        _direction(change, higher_better),
        100.0 * before.value,
        100.0 * after.value,
    )


def _count_delta(label: str, before: float, after: float, higher_better: bool | None) -> Delta:
    digits = 0 if float(before).is_integer() and float(after).is_integer() else 1
    show = fmt.count if digits == 0 else fmt.number
    return Delta(
        label,
        show(before),
        show(after),
        fmt.signed(after - before, digits),
        _direction(after - before, higher_better),
        float(before),
        float(after),
    )


def _direction(change: float, higher_better: bool | None) -> str:
    if round(change, 1) == 0:
        return "same"
    if higher_better is None:
        return "n/a"
    return "better" if (change > 0) == higher_better else "worse"


def _metric_deltas(current: list[MetricValue], baseline: list[MetricValue]) -> tuple[Delta, ...]:
    before = {m.id: m for m in baseline}
    out = []
    for metric in current:
        old = before.get(metric.id)
        if metric.measure is None and (old is None or old.measure is None):
            continue  # not measurable on either side: the limitations section says why
        if old is None:
            out.append(Delta(f"{metric.id} {metric.title}", "not in baseline", _shown(metric), "n/a", "n/a"))
            continue
        out.append(_metric_delta(old, metric))
    return tuple(out)


def _shown(metric: MetricValue) -> str:
    return metric.measure.display if metric.measure else "not measurable"


def _metric_delta(old: MetricValue, new: MetricValue) -> Delta:
    label = f"{new.id} {new.title}"
    a, b = old.measure, new.measure
    if a is None or b is None or a.value is None or b.value is None or a.unit != b.unit:
        return Delta(label, _shown(old), _shown(new), "n/a", "n/a")
    if b.unit == "ratio":
        change = 100.0 * (b.value - a.value)
        return Delta(label, a.display, b.display, fmt.signed(change, 1, " pp"), "n/a", a.value, b.value)
    return Delta(label, a.display, b.display, fmt.signed(b.value - a.value, 1), "n/a", a.value, b.value)


def _transitions(current: Assessment, baseline: Assessment) -> tuple[tuple[Transition, ...], int]:
    before = {c.control_id: c for c in baseline.controls}
    now = {c.control_id: c for c in current.controls}
    out, same = [], 0
    for control_id in sorted(set(before) | set(now)):
        old, new = before.get(control_id), now.get(control_id)
        old_status = old.status.value if old else "absent"
        new_status = new.status.value if new else "absent"
        if old_status == new_status:
            same += 1
            continue
        known = new or old
        out.append(Transition(control_id, known.title if known else "", old_status, new_status))
    return tuple(out), same
