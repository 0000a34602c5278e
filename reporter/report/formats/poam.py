"""OSCAL Plan of Action and Milestones 1.2.1 (plan-of-action-and-milestones.json): the remediation
plan of the report (section "Findings and remediation actions") as POA&M items — one per control with
unexcepted gaps, riskiest first — each with its risk (status open, the action as a recommended
remediation, management's response when the bundle has one, the owners the evidence names) and the
observation citing the evidence. Item and risk UUIDs are stable for the same organisation, scope and
control, so a weakness keeps its id across quarters; observations belong to this assessment."""

from __future__ import annotations

import hashlib

from reporter.models.manifest import ManagementResponse
from reporter.models.results import Assessment, ControlResult
from reporter.report import fmt
from reporter.report.formats.json import results_json
from reporter.report.formats.oscal_common import (
    Ids,
    Json,
    assessment_assets,
    compact,
    document_bytes,
    line,
    metadata,
    objective_of,
    observation,
    observation_id,
    open_gaps,
    origins,
    props,
    resources,
    risk,
    timestamp,
)
from reporter.report.interface import RenderContext
from reporter.report.view.closing import plan_key
from reporter.report.view.common import control_risk

FILES = ("plan-of-action-and-milestones.json",)
TITLE = "Plan of action and milestones"


def render(ctx: RenderContext) -> dict[str, bytes]:
    """plan-of-action-and-milestones.json."""
    document = {"plan-of-action-and-milestones": plan(ctx)}
    return {FILES[0]: document_bytes(document)}


def actionable(a: Assessment) -> list[ControlResult]:
    """Controls with unexcepted gaps, riskiest first: the report's remediation plan order
    (docs/report.md, "Gap risk")."""
    open_ = [c for c in a.controls if open_gaps(c) > 0]
    return sorted(open_, key=plan_key)


def _response(a: Assessment, control: ControlResult) -> ManagementResponse | None:
    return next((r for r in a.bundle.framing.responses if r.control == control.control_id), None)


def plan(ctx: RenderContext) -> Json:
    """The plan-of-action-and-milestones object."""
    a = ctx.inputs.assessment
    ids = Ids(a)
    controls = actionable(a)
    risks = [_risk(ctx, ids, c) for c in controls]
    return compact(
        {
            "uuid": ids.across("plan-of-action-and-milestones"),
            "metadata": metadata(ctx, TITLE, hashlib.sha256(results_json(a)).hexdigest()),
            "system-id": {
                "identifier-type": "https://exposure-reporter.dev/ns/oscal/scope",
                "id": line(f"{a.bundle.organisation}: {a.bundle.scope}"),
            },
            "local-definitions": {
                "assessment-assets": assessment_assets(a),
                "remarks": f"No system security plan is imported: the system is the scope of the evidence bundle "
                f"({a.bundle.scope}).",
            },
            "observations": [observation(ids, c, a) for c in controls],
            "risks": risks,
            "poam-items": [item(ids, c, _response(a, c)) for c in controls] or [nothing_open(ids, a)],
            "back-matter": {"resources": resources(ctx, ids)},
        }
    )


def _risk(ctx: RenderContext, ids: Ids, control: ControlResult) -> Json:
    found = risk(ids.across("risk", control.control_id), ids, control, objective_of(ctx, control))
    answer = _response(ctx.inputs.assessment, control)
    if answer is None:
        plan_text = "No management response in the bundle: owner and target date are to be set at sign-off."
    else:
        plan_text = (
            f"Management response ({answer.status}): owner {answer.owner}, target date {answer.target_date}."
            + (f" {answer.response}" if answer.response else "")
        )
    found["remediations"] = [
        {
            "uuid": ids.across("remediation", control.control_id),
            "lifecycle": "recommendation",
            "title": line(f"Restore the objective of {control.control_id}"),
            "description": f"{objective_of(ctx, control)}\n\n{plan_text}",
            "origins": origins(),
        }
    ]
    return found


def item(ids: Ids, control: ControlResult, answer: ManagementResponse | None = None) -> Json:
    """One POA&M item: the control's deviation, its severity and the risk of its gaps, open gaps,
    owners, and management's response (owner, target date, status) when the bundle has one."""
    risk_level = control_risk(control)
    return compact(
        {
            "uuid": ids.across("poam-item", control.control_id),
            "title": line(f"{control.control_id} {control.title}"),
            "description": f"{fmt.plural(open_gaps(control), 'open gap')}: {control.reason}",
            "props": props(
                control_id=control.control_id,
                severity=control.severity,
                risk_level=risk_level.top if control.gaps else None,
                open_gaps=open_gaps(control),
                gaps_excepted=control.gaps_excepted or None,
                owners=", ".join(control.owners) or None,
                responsible=answer.owner if answer else None,
                target_date=answer.target_date.isoformat() if answer else None,
                response_status=answer.status if answer else None,
            ),
            "origins": origins(),
            "related-observations": [{"observation-uuid": observation_id(ids, control.control_id)}],
            "related-risks": [{"risk-uuid": ids.across("risk", control.control_id)}],
            "remarks": "findings.csv lists every gap of this control with its owner, evidence file, line and SHA-256.",
        }
    )


def nothing_open(ids: Ids, a: Assessment) -> Json:
    """The one item of a plan with nothing to remediate (a POA&M needs at least one item)."""
    return {
        "uuid": ids.of("poam-item", "none"),
        "title": "No open control deviations",
        "description": (
            f"At {timestamp(a.as_of)} no control of the library had gaps outside a valid exception: nothing to "
            "remediate."
        ),
        "origins": origins(),
    }
