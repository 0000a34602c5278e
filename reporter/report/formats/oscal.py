"""OSCAL Assessment Results 1.2.1 (assessment-results.json): one result for the assessment over the
reporting period; an observation per control citing its evidence (file, line or record, SHA-256); a
risk per control with gaps; a finding per framework item assessed, its state from the framework status
(satisfied only for a pass). UUIDs are derived from the evidence: the same bundle gives the same bytes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time

from reporter.attest.report_set import library_digest
from reporter.models.catalog import FrameworkResult, ItemStatus, ItemStatusValue
from reporter.models.results import Assessment
from reporter.report import fmt
from reporter.report.baseline import report_id
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
    origins,
    props,
    resource_id,
    resources,
    risk,
    timestamp,
    token,
    uid,
)
from reporter.report.interface import RenderContext

FILES = ("assessment-results.json",)
TITLE = "Exposure assessment results"

# Findings: items assessed with evidence, plus those a control tried and could not decide (they must
# not look satisfied). 'supported' items (reached only through 'supports' mappings) are not assessed.
SATISFIED = {ItemStatusValue.PASS}
FINDING_STATUSES = {
    ItemStatusValue.PASS: "pass",
    ItemStatusValue.FAIL: "fail",
    ItemStatusValue.PARTIAL: "fail",
    ItemStatusValue.EXCEPTED: "other",
    ItemStatusValue.INSUFFICIENT_EVIDENCE: "other",
    ItemStatusValue.ERROR: "other",
}
# Statement ids as the framework's own OSCAL catalog writes them, where one exists.
STATEMENT_IDS = {"nist-csf-2.0": "{id}_statement"}


def render(ctx: RenderContext) -> dict[str, bytes]:
    """assessment-results.json."""
    document = {"assessment-results": assessment_results(ctx)}
    return {"assessment-results.json": document_bytes(document)}


def assessment_results(ctx: RenderContext) -> Json:
    """The assessment-results object."""
    a = ctx.inputs.assessment
    ids = Ids(a)
    plan = ids.of("assessment-plan")
    results_sha256 = hashlib.sha256(results_json(a)).hexdigest()
    return {
        "uuid": ids.of("assessment-results"),
        "metadata": metadata(ctx, TITLE, results_sha256),
        "import-ap": {
            "href": f"#{plan}",
            "remarks": "No separate assessment plan: the plan is the control library and policy in force, named in "
            "the back-matter resource this points to.",
        },
        "results": [result(ctx, ids)],
        "back-matter": {
            "resources": [plan_resource(ctx, plan), *resources(ctx, ids), results_resource(ids, results_sha256)]
        },
    }


def result(ctx: RenderContext, ids: Ids) -> Json:
    """The one result: period, reviewed framework items, observations, risks and findings."""
    a = ctx.inputs.assessment
    b = a.bundle
    library = ctx.inputs.library
    controls = a.controls
    with_risk = {c.control_id: ids.of("risk", c.control_id) for c in controls if c.gap_total}
    findings = [
        finding(ids, fw, item, with_risk, item_label(ctx, fw.framework, item.item_id))
        for fw in a.frameworks.frameworks
        for item in assessed(fw)
    ]
    return compact(
        {
            "uuid": ids.of("result"),
            "title": line(f"Exposure assessment: {b.organisation}, {b.period_start} to {b.period_end}"),
            "description": description(a),
            "start": timestamp(_start(a)),
            "end": timestamp(a.as_of) if a.as_of > _start(a) else None,
            "props": props(
                report_id=report_id(b.digest),
                bundle_digest=b.digest,
                manifest_sha256=b.manifest_sha256,
                as_of=timestamp(a.as_of),
            ),
            "local-definitions": {"assessment-assets": assessment_assets(a)},
            "reviewed-controls": {"control-selections": selections(a)},
            "observations": [observation(ids, c, a) for c in controls],
            "risks": [risk(with_risk[c.control_id], ids, c, objective_of(ctx, c)) for c in controls if c.gap_total],
            "findings": findings,
            "remarks": not_assessed_remark(a) if library.frameworks else None,
        }
    )


def _start(a: Assessment) -> datetime:
    return datetime.combine(a.bundle.period_start, time.min, tzinfo=UTC)


def description(a: Assessment) -> str:
    """The result in words: scope, activity beside verified reduction, control outcomes."""
    h, b = a.headline, a.bundle
    counts = ", ".join(f"{n} {fmt.words(s)}" for s, n in a.status_counts.items())
    return (
        f"Scope: {b.scope}.\n\n"
        f"Patching activity: {h.deployments_attempted:,} deployments attempted, {h.activity.display} reported "
        f"successful. Verified risk reduction: {h.verified_removed.display} of the targeted finding-instances "
        f"verified removed by {fmt.moment(a.as_of)}.\n\n"
        f"Controls: {counts}. results.json holds every figure; findings.csv every gap."
    )


def assessed(framework: FrameworkResult) -> list[ItemStatus]:
    """The items that get a finding, in catalog order."""
    return [item for item in framework.items if item.status in FINDING_STATUSES]


def selections(a: Assessment) -> list[Json]:
    """One control selection per framework with findings (else the library's controls)."""
    chosen = [
        {
            "description": line(f"{_named(fw)}: the items a control of the library assessed."),
            "props": props(framework=fw.framework),
            "include-controls": [{"control-id": token(item.item_id)} for item in assessed(fw)],
        }
        for fw in a.frameworks.frameworks
        if assessed(fw)
    ]
    return chosen or [
        {
            "description": "The exposure-reporter control library (no framework item could be assessed).",
            "include-controls": [{"control-id": token(c.control_id)} for c in a.controls],
        }
    ]


def _named(framework: FrameworkResult) -> str:
    """The framework's name with its version (unless the name already says it)."""
    return framework.name if framework.version in framework.name else f"{framework.name} {framework.version}"


def target_id(framework: str, item_id: str) -> str:
    """The statement the finding targets, as the framework's OSCAL catalog names it (else '<id>_smt')."""
    return token(STATEMENT_IDS.get(framework, "{id}_smt").format(id=item_id))


def finding(ids: Ids, framework: FrameworkResult, item: ItemStatus, risks: dict[str, str], label: str) -> Json:
    """One framework item: its status, the controls behind it and their observations and risks."""
    basis = ", ".join(
        f"{b.control_id} ({fmt.words(b.control_status.value)}, {'direct' if b.direct else 'inferred'})"
        for b in item.basis
    )
    state = "satisfied" if item.status in SATISFIED else "not-satisfied"
    controls = list(dict.fromkeys(b.control_id for b in item.basis))
    return compact(
        {
            "uuid": ids.of("finding", framework.framework, item.item_id),
            "title": line(f"{framework.name}: {item.item_id} {label}"),
            "description": (
                f"{label}\n\nStatus: {fmt.words(item.status.value)}, from the controls {basis or '(none)'}. "
                "A framework item is satisfied only when its direct controls pass."
            ),
            "props": props(
                framework=framework.framework,
                item_id=item.item_id,
                status=item.status.value,
                basis="direct" if item.direct else "inferred",
            ),
            "origins": origins(),
            "target": {
                "type": "statement-id",
                "target-id": target_id(framework.framework, item.item_id),
                "title": line(label),
                "status": {"state": state, "reason": FINDING_STATUSES[item.status]},
            },
            "related-observations": [{"observation-uuid": observation_id(ids, c)} for c in controls],
            "related-risks": [{"risk-uuid": risks[c]} for c in controls if c in risks],
        }
    )


def item_label(ctx: RenderContext, framework: str, item_id: str) -> str:
    """The item's title (else its statement) from the catalog, else its id."""
    found = ctx.inputs.library.item(framework, item_id)
    return found.label if found else item_id


def not_assessed_remark(a: Assessment) -> str:
    """Framework items no finding speaks for, counted per framework and status."""
    parts = []
    for fw in a.frameworks.frameworks:
        rest = [item for item in fw.items if item.status not in FINDING_STATUSES]
        if rest:
            by_status: dict[str, int] = {}
            for item in rest:
                by_status[fmt.words(item.status.value)] = by_status.get(fmt.words(item.status.value), 0) + 1
            counts = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
            parts.append(f"{fw.name}: {counts}")
    return "Items without a finding (not assessed with evidence): " + "; ".join(parts) + "." if parts else ""


def plan_resource(ctx: RenderContext, plan: str) -> Json:
    """What stands in for the assessment plan: the control library, its catalogs and the policy."""
    a = ctx.inputs.assessment
    catalogs = ", ".join(f"{f} {v}" for f, v in sorted(a.tool.catalogs.items()))
    return {
        "uuid": plan,
        "title": "Assessment plan: the exposure-reporter control library and policy",
        "description": (
            f"{len(a.controls)} controls evaluated by {a.tool.name} {a.tool.version} against the policy recorded in "
            f"results.json (SLA rules, windows, limits), mapped to: {catalogs}."
        ),
        "props": [*props(library_digest=library_digest(ctx.inputs.library))],
    }


def results_resource(ids: Ids, results_sha256: str) -> Json:
    """results.json of the same assessment, by its SHA-256 (written with --format json, attached to the PDF)."""
    return {
        "uuid": ids.of("resource", "results.json"),
        "title": "results.json",
        "description": "Every figure of this assessment (format_version 1), byte for byte what `assess` writes.",
        "rlinks": [
            {
                "href": "results.json",
                "media-type": "application/json",
                "hashes": [{"algorithm": "SHA-256", "value": results_sha256}],
            }
        ],
    }


__all__ = ["FILES", "assessment_results", "render", "resource_id", "uid"]
