"""Scope and evidence index (E1…En: every source with tool, time, hash, records, freshness) and the
methodology (statuses, metric formulas and sources, SLA rules and policy windows in force)."""

from __future__ import annotations

from reporter.models.policy import (
    ExceptionPolicy,
    NhiPolicy,
    RolloutPolicy,
    ScanPolicy,
    SlaRule,
    VerificationPolicy,
)
from reporter.models.results import DURATION_SUMMARIES
from reporter.report import fmt
from reporter.report.view import framing
from reporter.report.view.common import MANIFEST_REF, Ctx, control_table
from reporter.report.view.model import Block, Cell, Col, Para, Table, Terms
from reporter.report.view.reconciliation import MARK, NO_HASH, STALE, integrity_flags

LEDGER_MEANING = {
    "verified_fixed": "a verification after the last deployment shows the vulnerability gone",
    "fixed_without_change_record": "verified gone, but no deployment record explains the fix",
    "deployed_unverified": "deployment reported successful, no verification yet",
    "deployed_still_vulnerable": "deployment reported successful, a later verification still finds it",
    "reopened": "verified fixed, then re-opened (rollback or re-detection)",
    "retired": "the asset was decommissioned with a record",
    "not_in_scan_scope": "the asset is outside scan coverage: exposure unknown, not zero",
    "excepted": "covered by a valid exception",
    "not_affected": "assessed as not affected",
    "open": "open with no deployment",
}
STATUS_MEANING = {
    "pass": "the control's population was evaluated with evidence and nothing was flagged",
    "fail": "at least one record violates the control (each gap cites its evidence)",
    "partial": "records the evidence cannot decide, and no confirmed violation",
    "excepted": "every gap is covered by a valid exception (owner, approver, expiry, verified compensating control)",
    "insufficient_evidence": "the bundle lacks the evidence to evaluate the control; never counted as a pass",
    "not_applicable": "the control's population is empty in this estate",
    "error": "the check could not run; never counted as a pass",
    "supported": "(framework items) only 'supports' mappings reach the item and their controls pass: "
    "evidence for the item, not an assessment of it",
    "not_assessed": "(framework items) no control with a result covers the item",
}


def scope_section(ctx: Ctx) -> tuple[str, tuple[Block, ...]]:
    """(intro, blocks) of scope and evidence."""
    a = ctx.assessment
    b = a.bundle
    intro = (
        "What was assessed, from which files. Every number in this report cites the files it comes from as "
        "E-references into the index below. " + integrity_statement(ctx)
    )
    terms = Terms(
        (
            ("Organisation", b.organisation),
            ("Scope", b.scope),
            ("Period", f"{b.period_start} – {b.period_end} (UTC, inclusive)"),
            ("Assessed as of", fmt.moment(a.as_of)),
            ("Prepared by", framing.preparer(ctx)),
            ("Reviewed by", framing.reviewer(ctx) or "not named in the bundle"),
            ("Policy in force", a.policy.name),
            ("Bundle digest (SHA-256)", b.digest),
            ("Manifest SHA-256", b.manifest_sha256),
        )
    )
    total = sum(a.ledger.values())
    blocks: list[Block] = [
        terms,
        framing.exclusions_table(ctx),
        Para(
            f"The remediation ledger holds {fmt.count(total)} finding-instances (asset × vulnerability); it is the "
            "denominator of the remediation figures.",
            ctx.refs_for_kinds(["findings", "deployments", "verifications"]),
        ),
        _ledger_table(ctx),
        evidence_index(ctx),
        framing.extraction_table(ctx),
        control_table(ctx, "tbl-evd", "Evidence checks (EVD)", ctx.family("EVD")),
    ]
    return intro, tuple(blocks)


def _ledger_table(ctx: Ctx) -> Table:
    ledger = ctx.assessment.ledger
    total = sum(ledger.values())
    rows = tuple(
        (
            Cell(fmt.words(state)),
            Cell(LEDGER_MEANING.get(state, "")),
            Cell(fmt.count(n), kind="num"),
            Cell(fmt.share(n, total), kind="num"),
        )
        for state, n in sorted(ledger.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    cols = (Col("Ledger state", 22), Col("Meaning", 46), Col("Instances", 12, "r"), Col("Share", 20, "r"))
    return Table(
        "tbl-ledger",
        "Remediation ledger at the as-of time (ledger.csv has one row per instance; the reconciliation section "
        "walks these states to every headline figure)",
        cols,
        rows,
        compact=True,
    )


def integrity_statement(ctx: Ctx) -> str:
    """What was verified when the bundle was opened: only files whose SHA-256 bundle.yaml declares."""
    sources = ctx.assessment.bundle.sources
    flags = integrity_flags(ctx)
    unhashed = [ref for ref, issues in flags.items() if NO_HASH in issues]
    stale = [ref for ref, issues in flags.items() if STALE in issues]
    text = (
        f"The SHA-256 of {fmt.count(len(sources) - len(unhashed))} of {fmt.plural(len(sources), 'file')} was "
        "verified against bundle.yaml when the bundle was opened"
    )
    if unhashed:
        text += f"; {', '.join(unhashed)} {'has' if len(unhashed) == 1 else 'have'} no declared hash (EVD-03)"
    if stale:
        text += f"; {', '.join(stale)} {'is' if len(stale) == 1 else 'are'} stale (EVD-02)"
    if unhashed or stale:
        text += f". Each is marked {MARK} wherever it is relied on; the reconciliation section lists what rests on it"
    return text + "."


def index_anchor(ref: str) -> str:
    """The fragment id of an evidence index entry (E0 is the manifest)."""
    return f"ev-{ref}"


def index_anchors(ctx: Ctx) -> dict[str, str]:
    """Citation label -> fragment id, for every entry the evidence index prints (the same row cap)."""
    shown = (MANIFEST_REF, *(s.ref for s in ctx.assessment.bundle.sources[: ctx.rows]))
    return {ref: index_anchor(ref) for ref in shown}


def evidence_index(ctx: Ctx) -> Table:
    """E1…En: every evidence file (capped, with a pointer to results.json for the rest)."""
    bundle = ctx.assessment.bundle
    sources = bundle.sources
    shown = sources[: ctx.rows]
    flags = integrity_flags(ctx)
    manifest = (
        Cell(MANIFEST_REF, kind="mono", anchor=index_anchor(MANIFEST_REF)),
        Cell("bundle.yaml", kind="mono", note="manifest: lists every file below with its SHA-256"),
        Cell("bundle author"),
        Cell(fmt.DASH),
        Cell(fmt.count(len(sources)), kind="num", note="files listed"),
        Cell(fmt.DASH),
        Cell(bundle.manifest_sha256, kind="hash"),
    )
    rows = (
        manifest,
        *(
            (
                Cell(s.ref, kind="mono", anchor=index_anchor(s.ref)),
                Cell(s.path, kind="mono", note=f"{', '.join(s.kinds) or 'no records'} · {s.format}"),
                Cell(s.tool or "not stated"),
                Cell(fmt.moment(s.collected_at)),
                Cell(fmt.count(s.records), kind="num"),
                Cell(
                    kind="status",
                    badge=fmt.Badge(
                        "pass" if s.fresh else "fail", "✓" if s.fresh else "✗", "fresh" if s.fresh else "stale"
                    ),
                    note=f"{MARK} relied on while stale (EVD-02)" if STALE in flags.get(s.ref, ()) else "",
                ),
                Cell(
                    s.sha256,
                    kind="hash",
                    note=f"{MARK} computed on load: bundle.yaml declares no SHA-256, so it was not verified (EVD-03)"
                    if NO_HASH in flags.get(s.ref, ())
                    else "verified against bundle.yaml",
                ),
            )
            for s in shown
        ),
    )
    cols = (
        Col("Ref", 5),
        Col("File", 20),
        Col("Tool", 14),
        Col("Collected", 12),
        Col("Records", 9, "r"),
        Col("Freshness", 11),
        Col("SHA-256", 29),
    )
    more = (
        f"Showing {fmt.count(len(shown))} of {fmt.count(len(sources))} files; results.json lists every one."
        if len(sources) > len(shown)
        else ""
    )
    limit = ctx.assessment.policy.freshness.max_age_days
    return Table(
        "evidence-index",
        f"Evidence index ({fmt.plural(len(sources), 'file')}; fresh = collected no "
        f"earlier than {limit} days before the period end)",
        cols,
        rows,
        more=more,
    )


def methodology_section(ctx: Ctx) -> tuple[str, tuple[Block, ...]]:
    """(intro, blocks) of the methodology."""
    a = ctx.assessment
    intro = (
        "How each number is defined. Counting unit, unless a metric says otherwise: the finding-instance (one "
        "vulnerability on one asset). All times are UTC; the assessment instant (as-of) is "
        f"{fmt.moment(a.as_of)}. Statuses are honest: missing evidence is never a pass. {DURATION_SUMMARIES}"
    )
    blocks: list[Block] = [
        Terms(tuple((f"{fmt.STATUS_ICON[s]} {fmt.STATUS_LABEL[s]}", STATUS_MEANING[s]) for s in fmt.STATUS_ORDER)),
        _metric_definitions(ctx),
        _sla_rules(ctx),
        _policy_terms(ctx),
        _bod_table(ctx),
    ]
    return intro, tuple(blocks)


def _metric_definitions(ctx: Ctx) -> Table:
    rows = tuple(
        (
            Cell(m.id, kind="mono", note=m.title),
            Cell(m.formula, note=f"unit: {m.unit_of_count}"),
            Cell(m.source),
            Cell(m.threshold or fmt.DASH),
        )
        for m in ctx.assessment.metrics
    )
    cols = (Col("Metric", 16), Col("Formula", 42), Col("Source", 24), Col("Threshold", 18))
    return Table("tbl-metric-defs", "Metric definitions (reference: metrics.md §3)", cols, rows)


def _rule_match(rule: SlaRule) -> str:
    m = rule.match
    parts = []
    if m.kev is not None:
        parts.append("KEV" if m.kev else "not KEV")
    if m.internet_facing is not None:
        parts.append("internet-facing" if m.internet_facing else "not internet-facing")
    if m.severity:
        parts.append("severity " + "/".join(s.value for s in m.severity))
    if m.asset_criticality:
        parts.append("asset criticality " + "/".join(c.value for c in m.asset_criticality))
    if m.bod2604_outcome:
        parts.append("BOD 26-04 outcome " + "/".join(o.value for o in m.bod2604_outcome))
    if m.compliance_scope:
        parts.append(f"scope {m.compliance_scope}")
    return ", ".join(parts) or "every finding"


def _sla_rules(ctx: Ctx) -> Table:
    rows = []
    for rule in ctx.assessment.policy.sla.rules:
        deadline = "KEV due date as published" if rule.deadline == "kev_due_date" else f"{rule.days} days"
        if rule.forensic_triage:
            deadline += " + forensic triage"
        effective = (
            f"{fmt.day(rule.effective_from) if rule.effective_from else 'always'} – "
            f"{fmt.day(rule.effective_to) if rule.effective_to else 'open'}"
        )
        rows.append(
            (
                Cell(rule.id, kind="mono", note=rule.title),
                Cell(_rule_match(rule)),
                Cell(deadline, note=f"clock: {fmt.words(rule.clock_start.value)}"),
                Cell(rule.source),
                Cell(effective),
                Cell("in force" if rule.enabled else "disabled"),
            )
        )
    cols = (
        Col("Rule", 18),
        Col("Applies to", 20),
        Col("Deadline", 15),
        Col("Source", 23),
        Col("Effective", 14),
        Col("State", 10),
    )
    return Table("tbl-sla", "SLA rules in force (the strictest applicable deadline wins)", cols, tuple(rows))


def _cited(value: int, default: int, source: str) -> str:
    """Name the source of a default; an organisation's own value is labelled as such."""
    return f"default, {source}" if value == default else "organisation policy"


def _policy_terms(ctx: Ctx) -> Terms:
    p = ctx.assessment.policy
    nhi, exc, ver, rol, scan = NhiPolicy(), ExceptionPolicy(), VerificationPolicy(), RolloutPolicy(), ScanPolicy()
    return Terms(
        (
            (
                "Credential rotation",
                f"at most {p.nhi.rotation_max_days} days "
                f"({_cited(p.nhi.rotation_max_days, nhi.rotation_max_days, 'CIS AWS 2.12')})",
            ),
            (
                "Dormant identity",
                f"unused for {p.nhi.dormant_days} days "
                f"({_cited(p.nhi.dormant_days, nhi.dormant_days, 'CIS Controls 5.3')})",
            ),
            (
                "Identity review",
                f"at least every {p.nhi.review_max_days} days "
                f"({_cited(p.nhi.review_max_days, nhi.review_max_days, 'CIS Controls 5.5')})",
            ),
            (
                "Longest static secret lifetime",
                f"{p.nhi.max_lifetime_days} days "
                f"({_cited(p.nhi.max_lifetime_days, nhi.max_lifetime_days, 'OWASP NHI7')})",
            ),
            (
                "Leaked secret revocation",
                f"within {p.nhi.leak_revoke_hours} hours "
                f"({_cited(p.nhi.leak_revoke_hours, nhi.leak_revoke_hours, 'organisation target')})",
            ),
            (
                "Exception duration",
                f"at most {p.exceptions.max_duration_days} days per approval "
                f"({_cited(p.exceptions.max_duration_days, exc.max_duration_days, 'one quarter')})",
            ),
            ("Compensating-control verification", f"within {p.exceptions.control_verification_max_days} days"),
            (
                "Verification window",
                f"{p.verification.window_days_urgent} days for urgent tiers, "
                f"{p.verification.window_days_default} days otherwise; clock skew tolerance "
                f"{p.verification.clock_skew_minutes} minutes"
                + ("" if p.verification == ver else " (organisation policy)"),
            ),
            (
                "Reassessment after change events",
                f"{p.rollout.reassessment_hours_urgent} hours urgent, "
                f"{p.rollout.reassessment_hours_default} hours otherwise"
                + ("" if p.rollout == rol else " (organisation policy)"),
            ),
            (
                "Scan cadence",
                f"internal {p.scans.internal_cadence_days} days, external {p.scans.external_cadence_days} "
                "days" + (" (default, CIS 7.5/7.6)" if p.scans == scan else " (organisation policy)"),
            ),
            ("Evidence freshness", f"collected at most {p.freshness.max_age_days} days before the period end"),
        )
    )


def _bod_table(ctx: Ctx) -> Table:
    def yn(value: bool) -> str:
        return "yes" if value else "no"

    sla = ctx.assessment.policy.sla
    rows = tuple(
        (
            Cell(yn(r.kev)),
            Cell(yn(r.exposed)),
            Cell(yn(r.automatable)),
            Cell(r.technical_impact.value),
            Cell(r.outcome.value, kind="mono"),
        )
        for r in sla.bod2604_table
    )
    cols = (
        Col("In KEV", 16),
        Col("Publicly exposed", 22),
        Col("Automatable", 20),
        Col("Technical impact", 22),
        Col("Outcome", 20),
    )
    caption = (
        f"BOD 26-04 decision table (missing SSVC data: automatable = {yn(sla.missing_automatable)}, "
        f"technical impact = {sla.missing_technical_impact.value})"
    )
    return Table("tbl-bod", caption, cols, rows, compact=True)
