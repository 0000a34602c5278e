"""The reconciliation section: every headline figure walked back to the ledger states, deployments,
assets, exceptions and secret exposures it counts (one unit per table), and the evidence integrity
marks for files relied on without a manifest hash or past their freshness limit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from reporter.models.results import ControlResult, LedgerState
from reporter.report import fmt
from reporter.report.view.common import HEADLINE_KINDS, Ctx
from reporter.report.view.model import Block, Cell, Col, Notice, Para, Table

MARK = "⚠"
NO_HASH = "no manifest hash"
STALE = "stale"
STATE_ORDER = tuple(s.value for s in LedgerState)

# headline.reconciliation["by_state"] keys, as the columns of the state tables: (key, header, printed as)
EXPOSURE_FIGURES = (
    ("instances", "Ledger", "ledger table, scope section"),
    ("open_critical_high", "Open critical/high", "summary: open critical/high finding-instances"),
    ("open_internet_facing", "Open KEV/critical internet-facing", "summary: R2"),
    ("due_in_period", "Due in the period", "T1 denominator; PRI-01 population"),
    ("due_missed", "Deadline missed", "T1: due − met; PRI-01 gaps"),
)
REMEDIATION_FIGURES = (
    ("targeted", "Targeted", "E2 denominator"),
    ("verified_removed", "Verified removed", "E2 numerator"),
    ("verified_fixes", "Verified fixes", "VER-04 population; T2 n; E9, E10 numerator"),
    ("source_closed", "Closed by source", "VER-03 population; E5 denominator"),
    ("source_closed_evidenced", "Closed with evidence", "VER-03 met; E5 numerator; E6 denominator"),
)
INSTANCE_FIGURES = EXPOSURE_FIGURES + REMEDIATION_FIGURES


def integrity_flags(ctx: Ctx) -> dict[str, tuple[str, ...]]:
    """Citation label → what is wrong with its file: no manifest hash (EVD-03), stale (EVD-02)."""
    unhashed = _gap_records(ctx, "EVD-03")
    stale = _gap_records(ctx, "EVD-02")
    flags: dict[str, tuple[str, ...]] = {}
    for s in ctx.assessment.bundle.sources:
        found = ((NO_HASH,) if not s.hash_declared or s.path in unhashed else ()) + (
            (STALE,) if not s.fresh or s.path in stale else ()
        )
        if found:
            flags[s.ref] = found
    return flags


def _gap_records(ctx: Ctx, control_id: str) -> set[str]:
    control = ctx.controls.get(control_id)
    return {g.record_id for g in control.gaps} if control else set()


def integrity_note(ctx: Ctx, refs: Iterable[str]) -> str:
    """'⚠ rests on E9 (stale; no manifest hash)' for the flagged files among refs, else ''."""
    flags = integrity_flags(ctx)
    flagged = [f"{r} ({'; '.join(flags[r])})" for r in refs if r in flags]
    return f"{MARK} rests on {', '.join(flagged)}" if flagged else ""


def with_mark(note: str, mark: str) -> str:
    """A cell note with an integrity mark appended."""
    return f"{note}; {mark}" if note and mark else note or mark


def reconciliation_section(ctx: Ctx) -> tuple[str, tuple[Block, ...]]:
    """(intro, blocks): states → instance figures, deployments, assets, exceptions, secrets, integrity."""
    intro = (
        "How each headline figure is built, so that every number can be found again. Each table counts one unit, "
        "named in its caption; each figure gives what it counts, what it is out of and where the report prints it. "
        "Every count comes from results.json (headline.reconciliation, controls, exceptions) and, for "
        "finding-instances, can be recounted from ledger.csv."
    )
    rec = ctx.assessment.headline.reconciliation
    if not rec.get("by_state"):
        return intro, (
            Notice(
                "Reconciliation not available",
                "These results carry no headline.reconciliation (written by an earlier version of the tool).",
            ),
        )
    blocks: list[Block] = [
        _states_table(
            ctx,
            rec["by_state"],
            EXPOSURE_FIGURES,
            "tbl-rec-states",
            "Ledger states → exposure and timeliness figures (unit: finding-instance, asset × vulnerability). Open: "
            "the open states, on assets active at the as-of time (open instances on inactive assets, "
            f"{fmt.count(_total(rec['by_state'].get('open_on_inactive_assets', {})))} of any severity, are left "
            "out); due in the period: PRI-01's cohort, due by the as-of time and due or detected in the period",
        ),
        _states_table(
            ctx,
            rec["by_state"],
            REMEDIATION_FIGURES,
            "tbl-rec-remediation",
            "Ledger states → remediation figures (unit: finding-instance). Targeted: a successful deployment "
            "completed in the period; closed by source: the scanner or ticket system marked the finding closed",
        ),
        _verified_table(ctx, rec["by_state"]),
        _deployments_table(ctx),
    ]
    if rec.get("population"):
        blocks.append(_population_table(ctx, rec["population"]))
    blocks.append(_exceptions_table(ctx))
    if rec.get("secrets"):
        blocks.append(_secrets_table(ctx, rec["secrets"]))
    blocks += _integrity_blocks(ctx)
    return intro, tuple(blocks)


def _total(split: Mapping[str, int]) -> int:
    return sum(split.values())


def _printed(ctx: Ctx) -> dict[str, int | None]:
    """The figure each instance column must sum to, as the rest of the report prints it."""
    h = ctx.assessment.headline
    ver03, ver04, pri01 = _assessed(ctx, "VER-03"), _assessed(ctx, "VER-04"), _assessed(ctx, "PRI-01")
    return {
        "instances": sum(ctx.assessment.ledger.values()),
        "open_critical_high": h.open_critical_high,
        "open_internet_facing": h.open_internet_facing,
        "due_in_period": pri01.population if pri01 else None,
        "due_missed": pri01.gap_total if pri01 else None,
        "targeted": h.targeted_instances,
        "verified_removed": h.verified_removed.numerator,
        "verified_fixes": ver04.population if ver04 else None,
        "source_closed": ver03.population if ver03 else None,
        "source_closed_evidenced": ver03.population - ver03.gap_total if ver03 else None,
    }


def _assessed(ctx: Ctx, control_id: str) -> ControlResult | None:
    """The control when it ran on evidence (a control that could not run prints no population)."""
    control = ctx.controls.get(control_id)
    unassessed = ("insufficient_evidence", "error")
    return control if control is not None and control.status.value not in unassessed else None


def _states_table(
    ctx: Ctx,
    by_state: Mapping[str, Mapping[str, int]],
    figures: tuple[tuple[str, str, str], ...],
    table_id: str,
    caption: str,
) -> Table:
    """Ledger states × figures; the sum of each column beside the figure as the report prints it."""
    states = [s for s in STATE_ORDER if any(s in by_state.get(k, {}) for k, _, _ in figures)]
    rows: list[tuple[Cell, ...]] = [
        (Cell(fmt.words(state)), *(_num(by_state.get(k, {}).get(state, 0)) for k, _, _ in figures)) for state in states
    ]
    totals = [_total(by_state.get(k, {})) for k, _, _ in figures]
    rows.append((Cell("Total (sum of the states)"), *(_num(t) for t in totals)))
    printed = _printed(ctx)
    rows.append(
        (
            Cell("Printed in the report as"),
            *(
                Cell(
                    fmt.count(printed[k]),
                    kind="num",
                    note=where if printed[k] in (None, t) else f"{where}; {MARK} differs from the sum",
                )
                for (k, _, where), t in zip(figures, totals, strict=True)
            ),
        )
    )
    width = 84 // len(figures)
    cols = (Col("Ledger state", 100 - width * len(figures)), *(Col(header, width, "r") for _, header, _ in figures))
    return Table(table_id, caption, cols, tuple(rows), compact=True)


def _num(value: int | None) -> Cell:
    return Cell(fmt.count(value), kind="num")


def _split(split: Mapping[str, int]) -> str:
    order = {s: n for n, s in enumerate(STATE_ORDER)}
    parts = sorted(split.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    return " + ".join(f"{fmt.count(n)} {fmt.words(s)}" for s, n in parts) or "none"


def _verified_table(ctx: Ctx, by_state: Mapping[str, Mapping[str, int]]) -> Table:
    """The several 'verified' counts, each a different population of finding-instances."""
    what = (
        ("verified_removed", "targeted instances verified fixed: the outcome of this period's deployments"),
        ("verified_fixes", "every instance verified fixed, with or without a deployment or change record"),
        ("source_closed_evidenced", "instances the source closed that a verification or retirement backs"),
        ("source_closed", "instances the source system closed, backed or not"),
    )
    fixed = by_state.get("instances", {}).get(LedgerState.VERIFIED_FIXED.value, 0)
    items = [
        (
            fixed,
            "instances in the ledger state verified fixed: fixed, and a deployment or change record explains it",
            "verified fixed",
            "ledger table",
        )
    ]
    labels = {k: where for k, _, where in INSTANCE_FIGURES}
    items += [(_total(by_state.get(k, {})), text, _split(by_state.get(k, {})), labels[k]) for k, text in what]
    rows = tuple(
        (_num(n), Cell(text), Cell(states), Cell(where)) for n, text, states, where in sorted(items, key=lambda i: i[0])
    )
    return Table(
        "tbl-rec-verified",
        "The verified counts: different populations (unit: finding-instance)",
        (Col("Count", 10, "r"), Col("What is counted", 40), Col("Ledger states", 28), Col("Printed as", 22)),
        rows,
        compact=True,
    )


def _deployments_table(ctx: Ctx) -> Table:
    h = ctx.assessment.headline
    refs = ctx.refs_for_kinds(["deployments", "verifications"])
    rows = (
        ("Deployments attempted in the period", h.deployments_attempted, "E1 denominator; funnel"),
        ("Reported successful", h.deployments_succeeded, "E1 numerator; funnel"),
        (
            "Successful deployments whose verification window ended by the as-of time",
            h.unverified.denominator,
            "E4 denominator; VER-01 population",
        ),
        (
            "… with no conclusive verification in the window (never verified)",
            h.unverified.numerator,
            "E4 numerator; VER-01 gaps",
        ),
        (
            "Successful deployments with a later conclusive verification",
            h.still_vulnerable.denominator,
            "E3 denominator; VER-02 population",
        ),
        (
            "… whose first later verification still finds the vulnerability",
            h.still_vulnerable.numerator,
            "E3 numerator; VER-02 gaps",
        ),
    )
    return Table(
        "tbl-rec-deployments",
        "Deployments (unit: deployment). A deployment can target several finding-instances, so these counts are "
        "never compared with instance counts; the verification rows count successful deployments whatever the date "
        "they completed. Evidence: " + (", ".join(refs) or "none"),
        (Col("What is counted", 55), Col("Deployments", 15, "r"), Col("Printed as", 30)),
        tuple((Cell(text), _num(n), Cell(where)) for text, n, where in rows),
        compact=True,
    )


def _population_table(ctx: Ctx, p: Mapping[str, Any]) -> Table:
    """Inventory → active → scan scope → scanned, and discovery keys → inventory (assets)."""
    records, active, saas = int(p["inventory_records"]), int(p["active"]), int(p["active_saas"])
    scoped, unscanned = p.get("in_scan_scope"), p.get("not_scanned_within_cadence")
    keys, unknown = p.get("discovered_keys"), p.get("discovered_unknown")
    rows: list[tuple[str, int | None, str, str]] = [
        ("Inventory (CMDB) records", records, "", "evidence index: records of the inventory file"),
        ("− retired or vanished by the as-of time", records - active, "", ""),
        ("= active assets", active, f"{fmt.count(records)} − {fmt.count(records - active)}", "INV-02, INV-05"),
        ("− active SaaS (no host to scan)", saas, "", ""),
    ]
    if scoped is not None and unscanned is not None:
        rows += [
            (
                "= active assets in scan scope",
                scoped,
                f"{fmt.count(active)} − {fmt.count(saas)}",
                "INV-03; V5 denominator",
            ),
            ("− not scanned within their cadence", unscanned, "", "INV-03 gaps"),
            (
                "= scanned within cadence",
                scoped - unscanned,
                f"{fmt.count(scoped)} − {fmt.count(unscanned)}",
                "V5 numerator",
            ),
        ]
    if keys is not None and unknown is not None:
        rows += [
            (
                "Asset keys observed by discovery in the period (a separate count, not a step above)",
                keys,
                "",
                "INV-01; V1 denominator",
            ),
            ("− keys that resolve to no inventory asset", unknown, "", "INV-01 gaps; V3"),
            (
                "= discovered keys found in the inventory",
                keys - unknown,
                f"{fmt.count(keys)} − {fmt.count(unknown)}",
                "V1 numerator",
            ),
        ]
    refs = ctx.refs_for_kinds(["assets", "observations", "scans"])
    return Table(
        "tbl-rec-population",
        "Population: inventory → active → scan scope → scanned, and discovery → inventory (unit: asset; discovery "
        "counts distinct observed asset keys). Evidence: " + (", ".join(refs) or "none"),
        (Col("Step", 50), Col("Assets", 12, "r"), Col("Arithmetic", 18), Col("Printed as", 20)),
        tuple((Cell(text), _num(n), Cell(arith), Cell(where)) for text, n, arith, where in rows),
        compact=True,
    )


def _exceptions_table(ctx: Ctx) -> Table:
    register = ctx.assessment.exceptions
    states = Counter(e.state for e in register)
    exc02 = _assessed(ctx, "EXC-02")
    rows: list[tuple[str, int | None, str]] = [("Exceptions in the register", len(register), "exceptions register")]
    rows += [(f"… in state '{state}' at the as-of time", n, "register: state") for state, n in sorted(states.items())]
    if exc02 is not None:
        rows += [
            ("Expired before the as-of time", exc02.population, "EXC-02 population"),
            (
                "… still matching an open finding-instance",
                exc02.gap_total,
                "summary: expired exceptions still covering open findings; EXC-02 gaps",
            ),
            ("… matching no open finding-instance", exc02.population - exc02.gap_total, "EXC-02 met"),
        ]
    refs = ctx.refs_for_kinds(["exceptions"])
    return Table(
        "tbl-rec-exceptions",
        "Exceptions (unit: exception). Evidence: " + (", ".join(refs) or "none"),
        (Col("What is counted", 50), Col("Exceptions", 15, "r"), Col("Printed as", 35)),
        tuple((Cell(text), _num(n), Cell(where)) for text, n, where in rows),
        compact=True,
    )


def _secrets_table(ctx: Ctx, s: Mapping[str, int]) -> Table:
    detected, valid, late = s["detected"], s["still_valid"], s["closed_late"]
    rows = (
        ("Secret exposures detected before the as-of time", detected, "", "NHI-02 population"),
        ("− revoked or verified invalid within the policy's hours", detected - valid - late, "", "NHI-02 met"),
        ("− revoked or verified invalid, but later than the policy allows", late, "", "NHI-02 gaps"),
        (
            "= still valid at the as-of time",
            valid,
            f"{fmt.count(detected)} − {fmt.count(detected - valid - late)} − {fmt.count(late)}",
            "summary: leaked secrets still valid; N6",
        ),
        ("NHI-02 gaps: still valid + closed late", valid + late, f"{fmt.count(valid)} + {fmt.count(late)}", "NHI-02"),
    )
    refs = ctx.refs_for_kinds(["secret_exposures"])
    return Table(
        "tbl-rec-secrets",
        "Leaked secrets (unit: secret exposure). Evidence: " + (", ".join(refs) or "none"),
        (Col("What is counted", 50), Col("Exposures", 12, "r"), Col("Arithmetic", 18), Col("Printed as", 20)),
        tuple((Cell(text), _num(n), Cell(arith), Cell(where)) for text, n, arith, where in rows),
        compact=True,
    )


def _integrity_blocks(ctx: Ctx) -> list[Block]:
    """Files relied on without a manifest hash or past their freshness limit, and what rests on them."""
    flags = integrity_flags(ctx)
    sources = {s.ref: s for s in ctx.assessment.bundle.sources}
    mitigated = sum(1 for e in ctx.assessment.exceptions if e.compensating_controls)
    rows = []
    for ref, issues in flags.items():
        source = sources[ref]
        kinds = set(source.kinds)
        relied = [c.control_id for c in ctx.assessment.controls if kinds.intersection(c.evidence_kinds)]
        relied += [m.id for m in ctx.assessment.metrics if ref in ctx.refs_for_metric(m)]
        if "compensating_controls" in kinds:
            relied.append(f"the validity of {fmt.plural(mitigated, 'exception')} with compensating controls")
        headline = kinds.intersection(HEADLINE_KINDS)
        rows.append(
            (
                Cell(f"{MARK} {ref}", kind="mono"),
                Cell(source.path, kind="mono", note=", ".join(source.kinds)),
                Cell("; ".join(_issue_text(i) for i in issues)),
                Cell(", ".join(relied) or "nothing cited", note="and the headline figures" if headline else ""),
            )
        )
    lead = Para(
        f"{MARK} marks a file the report relies on although bundle.yaml declares no SHA-256 for it (its hash was "
        "computed when the bundle was opened, so nothing ties the file to the manifest: EVD-03) or although it was "
        "collected before its freshness limit (EVD-02). The mark follows the file wherever it is cited: the evidence "
        "index, the exceptions register and the figures below.",
        ctx.refs_for_kinds(["manifest"]),
    )
    table = Table(
        "tbl-rec-integrity",
        "Evidence relied on without integrity protection or freshness (unit: evidence file)",
        (Col("Ref", 8), Col("File", 30), Col("Integrity", 27), Col("Relied on by", 35)),
        tuple(rows),
        empty="Every file has a manifest hash and is fresh.",
    )
    return [lead, table]


def _issue_text(issue: str) -> str:
    return {
        NO_HASH: "no SHA-256 in bundle.yaml: hash computed on load, not verified",
        STALE: "stale: collected before the freshness limit",
    }.get(issue, issue)


__all__ = ["MARK", "integrity_flags", "integrity_note", "reconciliation_section", "with_mark"]
