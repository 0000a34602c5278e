"""Audit framing blocks: roles, document control, scope exclusions, source extraction notes,
management assertions and management responses, from `Assessment.bundle.framing`."""

from __future__ import annotations

from reporter.models.manifest import ManagementResponse, Person, Recipient
from reporter.models.results import ControlResult
from reporter.report import fmt
from reporter.report.view.common import Ctx
from reporter.report.view.model import Cell, Col, Table, Terms

NO_RESPONSE = "no management response"
NOT_GIVEN = "not given in bundle.yaml"
STATUS_TEXT = {
    "agreed": "agreed",
    "in-progress": "in progress",
    "completed": "completed",
    "risk-accepted": "risk accepted",
    "disagreed": "management disagrees",
}


def person(who: Person | Recipient | None, fallback: str | None = None) -> str:
    """'Name, role title', or the fallback name (a results.json written before roles were carried)."""
    if who is None:
        return fallback or ""
    return f"{who.name}, {who.role}" if who.role else who.name


def preparer(ctx: Ctx) -> str:
    """The preparer with role title."""
    roles = ctx.assessment.bundle.framing.roles
    return person(roles.preparer if roles else None, ctx.assessment.bundle.prepared_by)


def reviewer(ctx: Ctx) -> str:
    """The reviewer with role title, or empty."""
    roles = ctx.assessment.bundle.framing.roles
    return person(roles.reviewer if roles else None, ctx.assessment.bundle.reviewed_by)


def approver(ctx: Ctx) -> str:
    """The approver with role title, or empty."""
    roles = ctx.assessment.bundle.framing.roles
    return person(roles.approver if roles else None)


def version_text(ctx: Ctx) -> str:
    """'1.0 (final)', or a plain statement that bundle.yaml gives no version."""
    doc = ctx.assessment.bundle.framing.document
    if doc is None:
        return f"{NOT_GIVEN} (document.version)"
    return f"{doc.version} ({doc.status})" if doc.status else doc.version


def document_control(ctx: Ctx) -> Terms:
    """Version, status and distribution of the report."""
    doc = ctx.assessment.bundle.framing.document
    recipients = "; ".join(person(r) for r in doc.distribution) if doc and doc.distribution else ""
    return Terms(
        (
            ("Document version", version_text(ctx)),
            ("Distribution", recipients or f"{NOT_GIVEN} (document.distribution)"),
            ("Approved by", approver(ctx) or f"{NOT_GIVEN} (approved_by)"),
        )
    )


def exclusions_table(ctx: Ctx) -> Table:
    """What the scope deliberately leaves out, and why."""
    rows = tuple(
        (Cell(x.item), Cell(x.reason), Cell(x.approved_by or "not named"))
        for x in ctx.assessment.bundle.framing.scope_exclusions
    )
    return Table(
        "tbl-exclusions",
        "Scope exclusions",
        (Col("Excluded", 30), Col("Reason", 50), Col("Agreed by", 20)),
        rows,
        empty="bundle.yaml declares no scope exclusions (scope_exclusions): nothing is declared out of scope "
        "beyond the scope statement above.",
    )


def extraction_table(ctx: Ctx) -> Table:
    """How each source export was produced and checked for completeness."""
    notes = ctx.assessment.bundle.framing.extraction
    rows = []
    for source in ctx.assessment.bundle.sources[: ctx.rows]:
        note = notes.get(source.path)
        made_by = ", ".join(
            x for x in (f"by {note.by}" if note and note.by else "", note.tool_version if note else "") if x
        )
        rows.append(
            (
                Cell(source.ref, kind="mono", note=source.path),
                Cell(
                    note.method if note else f"no extraction note in bundle.yaml ({source.tool or 'tool not named'})",
                    note=made_by,
                ),
                Cell(note.query if note and note.query else "not recorded"),
                Cell(note.completeness if note and note.completeness else "completeness check not documented"),
            )
        )
    total = len(ctx.assessment.bundle.sources)
    return Table(
        "tbl-extraction",
        "How each source was extracted and checked for completeness",
        (Col("Source", 18), Col("Produced", 30), Col("Query or filter", 22), Col("Completeness check", 30)),
        tuple(rows),
        more=f"{fmt.count(total - ctx.rows)} more sources: see bundle.yaml." if total > ctx.rows else "",
        empty="No sources.",
    )


def assertions_table(ctx: Ctx) -> Table:
    """Management's assertions, as bundle.yaml records them."""
    rows = tuple((Cell(a.statement), Cell(a.by or "management")) for a in ctx.assessment.bundle.framing.assertions)
    return Table(
        "tbl-assertions",
        "Management assertions",
        (Col("Assertion", 75), Col("Asserted by", 25)),
        rows,
        empty="bundle.yaml records no management assertions (assertions).",
    )


def responses(ctx: Ctx) -> dict[str, ManagementResponse]:
    """Management responses by control id."""
    return {r.control: r for r in ctx.assessment.bundle.framing.responses}


def plan_cells(ctx: Ctx, control: ControlResult, shown: int = 3) -> tuple[Cell, Cell]:
    """The owner and target-date cells of a plan item: the management response, else the owners the
    evidence names (with no target date), else an honest 'no management response'."""
    answer = responses(ctx).get(control.control_id)
    if answer is not None:
        due = fmt.day(answer.target_date)
        late = answer.status != "completed" and answer.target_date < ctx.assessment.as_of.date()
        status = STATUS_TEXT[answer.status] + ("; past due at the as-of date" if late else "")
        return Cell(answer.owner, note="management response"), Cell(due, note=status)
    if control.owners:
        rest = len(control.owners) - shown
        more = f"; +{rest} more (findings.csv)" if rest > 0 else ""
        owners = Cell(", ".join(control.owners[:shown]), note=f"named by the evidence{more}")
        return owners, Cell(NO_RESPONSE, kind="blank")
    return Cell(NO_RESPONSE, kind="blank"), Cell(NO_RESPONSE, kind="blank")


def responses_table(ctx: Ctx, controls: list[ControlResult]) -> Table:
    """Management's responses in its own words, in plan order; responses to controls without open
    gaps follow, marked as such."""
    answers = responses(ctx)
    planned = [c.control_id for c in controls]
    order = [c for c in planned if c in answers] + sorted(c for c in answers if c not in set(planned))
    rows = []
    for control_id in order:
        answer = answers[control_id]
        rows.append(
            (
                Cell(control_id, kind="mono", note="" if control_id in planned else "no open gaps at as-of"),
                Cell(answer.response or "(no text given)"),
                Cell(STATUS_TEXT[answer.status]),
                Cell(answer.owner, note=f"target {fmt.day(answer.target_date)}"),
            )
        )
    source = ctx.assessment.bundle.framing.responses_file
    answered = sum(1 for c in planned if c in answers)
    caption = f"Management responses: {fmt.count(answered)} of {fmt.plural(len(planned), 'plan item')}"
    return Table(
        "tbl-responses",
        f"{caption} ({source or 'no responses file'})",
        (Col("Plan item", 14), Col("Response", 50), Col("Status", 14), Col("Owner and target date", 22)),
        tuple(rows),
        empty="No management response was given: bundle.yaml names no management responses file."
        if source is None
        else "The management responses file answers no plan item.",
    )
