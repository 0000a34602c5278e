"""Builds the report's display view from the inputs: pure, deterministic, no I/O.

The outline follows DESIGN.md §4 and metrics.md §5; each section module returns (intro, blocks).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from reporter.report.baseline import Comparison, report_id, view
from reporter.report.interface import ReportInputs
from reporter.report.view import closing, frameworks, governance, operations, reconciliation, sampling, scope, summary
from reporter.report.view.common import Ctx
from reporter.report.view.model import Block, ReportView, Section

Builder = Callable[[], tuple[str, tuple[Block, ...]]]


def build_view(inputs: ReportInputs) -> ReportView:
    """The whole report as display data."""
    ctx = Ctx(inputs)
    found = inputs.assessment.comparison
    comparison = view(found) if found is not None else None
    plan = _plan(ctx, comparison)
    numbers = {section_id: n for n, (section_id, _, _) in enumerate(plan, start=1)}
    trend = str(numbers["trends"])
    sections = []
    for n, (section_id, title, builder) in enumerate(plan, start=1):
        if section_id == "summary":
            intro, blocks = summary.executive_summary(ctx, comparison, trend)
        else:
            intro, blocks = builder()
        sections.append(Section(section_id, n, title, intro, blocks))
    a = inputs.assessment
    cover = summary.cover(ctx, comparison)
    return ReportView(
        lang="en",
        title=f"{cover.title} — {a.bundle.organisation}, {summary.period_text(ctx)}",
        running_head=f"{a.bundle.organisation} · {summary.period_text(ctx)} · {cover.classification}",
        classification=cover.classification,
        report_id=report_id(a.bundle.digest),
        generated_iso=inputs.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        cover=cover,
        sections=tuple(sections),
        caps={
            "detail_rows": inputs.limits.detail_rows,
            "section_gap_rows": inputs.limits.section_gap_rows,
            "gaps_per_control": inputs.limits.gaps_per_control,
        },
        ref_anchors=scope.index_anchors(ctx),
    )


def _plan(ctx: Ctx, comparison: Comparison | None) -> list[tuple[str, str, Builder]]:
    """(id, title, builder) in report order."""
    plan: list[tuple[str, str, Builder]] = [
        ("summary", "Executive summary", lambda: ("", ())),
        ("scope", "Scope and evidence index", lambda: scope.scope_section(ctx)),
        ("reconciliation", "Reconciliation of the figures", lambda: reconciliation.reconciliation_section(ctx)),
        ("methodology", "Methodology", lambda: scope.methodology_section(ctx)),
        ("coverage", "Coverage", lambda: operations.coverage_section(ctx)),
        ("activity", "Patching activity", lambda: operations.activity_section(ctx)),
        ("verification", "Verified remediation and the gap", lambda: operations.verification_section(ctx)),
        ("timeliness", "Timeliness", lambda: operations.timeliness_section(ctx)),
        ("exposure", "Exploited and internet-facing exposure", lambda: operations.exposure_section(ctx)),
        ("changes", "Change events", lambda: operations.change_events_section(ctx)),
        ("exceptions", "Exceptions register", lambda: governance.exceptions_section(ctx)),
        ("nhi", "Non-human identities", lambda: governance.nhi_section(ctx)),
        ("agents", "AI agents", lambda: governance.agents_section(ctx)),
        ("frameworks", "Framework coverage", lambda: _frameworks_overview(ctx)),
    ]
    for result in frameworks.framework_order(ctx):
        plan.append(
            (
                f"fw-{result.framework}",
                f"Framework: {result.name}",
                partial(frameworks.framework_section, ctx, result),
            )
        )
    plan += [
        ("trends", "Trends against the baseline", lambda: closing.trends_section(ctx, comparison)),
        ("findings", "Findings and remediation actions", lambda: closing.findings_section(ctx)),
        ("samples", "Audit samples", lambda: sampling.sampling_section(ctx)),
        ("limitations", "Limitations", lambda: closing.limitations_section(ctx)),
        ("signoff", "Sign-off", lambda: closing.signoff_section(ctx)),
    ]
    return plan


def _frameworks_overview(ctx: Ctx) -> tuple[str, tuple[Block, ...]]:
    intro = (
        "How much of each framework this assessment speaks for. Each framework section follows, with its score "
        "always printed beside its coverage."
    )
    return intro, (frameworks.overview_figure(ctx),)


__all__ = ["build_view"]
