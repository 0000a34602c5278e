"""EVD: the evidence itself — complete for every control family, fresh for the period, and
integrity-protected (auditree: stale evidence is an error, not a pass). Read from the manifest
(`sources`), never from the records; exceptions cannot cover these gaps."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckOutcome, ExceptionScope, evaluate, gap_select, unit_select
from reporter.checks.registry import register
from reporter.store.sql import Params

_DAY = "strftime({0}, '%Y-%m-%d')"

# Record kinds each control family reads: the `evidence` lists of mappings/controls/*.yaml, without
# `manifest` and `policy` (always present). tests/checks/test_evidence.py keeps the two in step.
FAMILY_KINDS: dict[str, tuple[str, ...]] = {
    "INV": ("assets", "identities", "observations", "scans", "secret_exposures", "verifications"),
    "PRI": ("assets", "findings", "verifications"),
    "DEP": ("deployments",),
    "VER": ("assets", "deployments", "findings", "scans", "verifications"),
    "EXC": ("assets", "exceptions", "findings", "identities"),
    "RLB": ("deployments", "rollout_events", "verifications"),
    "NHI": ("agents", "assets", "findings", "identities", "secret_exposures", "verifications"),
    "AGT": ("agents", "identities"),
}


def needed_kinds() -> dict[str, list[str]]:
    """Every needed kind and the families that need it, sorted."""
    needed: dict[str, list[str]] = {}
    for family, kinds in FAMILY_KINDS.items():
        for kind in kinds:
            needed.setdefault(kind, []).append(family)
    return {kind: sorted(families) for kind, families in sorted(needed.items())}


def _join(names: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


@register("evidence.completeness")
def completeness(ctx: CheckContext) -> CheckOutcome:
    """A control that cannot see its evidence is "insufficient evidence", never a pass; this control
    makes the hole visible in one place. Every record kind a control family reads (the evidence lists
    of the control library: assets, observations, scans, findings, deployments, verifications,
    exceptions, rollout_events, identities, secret_exposures, agents) has at least one record in the
    bundle. A kind no source lists is a gap, and so is a kind
    whose files hold no record: an empty file is not evidence. One gap per missing kind. Evidence:
    the manifest and the record counts. Example gaps: "no source of the bundle provides agents
    records, needed by the AGT and NHI controls"; "agents/ai-agents.yaml lists agents records but
    holds none (an empty file is not evidence), needed by the AGT and NHI controls"."""
    params = Params()
    needed = needed_kinds()
    rows = [f"({params.add(kind)}, {params.add(_join(families))})" for kind, families in needed.items()]
    table = f"SELECT * FROM (VALUES {', '.join(rows)}) t(kind, families)"
    listed = "SELECT kind, string_agg(path, ', ' ORDER BY path) AS paths, min(path) AS first, count(*) AS files FROM "
    listed += "(SELECT unnest(kinds) AS kind, path FROM sources) GROUP BY kind"
    present = params.add(sorted(ctx.kinds_present))
    message = (
        "CASE WHEN s.kind IS NULL THEN 'no source of the bundle provides ' || k.kind || ' records' "
        "ELSE s.paths || CASE WHEN s.files > 1 THEN ' list ' ELSE ' lists ' END || k.kind "
        "|| CASE WHEN s.files > 1 THEN ' records but hold' ELSE ' records but holds' END "
        "|| ' none (an empty file is not evidence)' END || ', needed by the ' || k.families || ' controls'"
    )
    gaps = f"""
        SELECT {gap_select(kind="kinds", record_id="k.kind", source="COALESCE(s.first, '')", message=message)}
        FROM ({table}) k LEFT JOIN ({listed}) s ON s.kind = k.kind
        WHERE NOT list_contains({present}::VARCHAR[], k.kind)"""
    unit = unit_select(kind="kinds", record_id="k.kind", source="COALESCE(s.first, '')")
    return evaluate(
        ctx,
        needs=(),
        population_sql=f"SELECT {unit} FROM ({table}) k LEFT JOIN ({listed}) s ON s.kind = k.kind",
        gaps_sql=gaps,
        noun="record kinds the control families need",
        params=params,
        exceptions=ExceptionScope.NONE,
    )


def max_age_days(ctx: CheckContext, params: Params) -> str:
    """SQL: the freshness limit in days of a source (alias s): policy.freshness.per_kind for its
    kinds when set (the strictest), else max_age_days."""
    fresh = ctx.policy.freshness
    overrides = [f"({params.add(kind)}, {params.add(days)})" for kind, days in sorted(fresh.per_kind.items())]
    table = (
        f"(VALUES {', '.join(overrides)}) o(kind, days)"
        if overrides
        else "(SELECT NULL::VARCHAR AS kind, NULL::INTEGER AS days WHERE FALSE) o"
    )
    default = params.add(fresh.max_age_days)
    return f"COALESCE((SELECT min(o.days) FROM {table} WHERE list_contains(s.kinds, o.kind)), {default})"


@register("evidence.freshness")
def freshness(ctx: CheckContext) -> CheckOutcome:
    """Evidence describes the state when it was collected: a source collected long before the period
    end shows another period. Every source's collected_at is no earlier than the period end minus
    policy.freshness.max_age_days (default 14; per_kind overrides, the strictest of a source's kinds,
    apply). The period end is its exclusive bound, the first instant after the last day. One gap per
    stale source. Evidence: the manifest. Example gap: "discovery/runzero-netscan.parquet
    (observations) collected 2026-09-12, 18 days before the period end 2026-09-30 (limit 14 days)"."""
    params = Params()
    end = params.add(ctx.period.end_at)
    limit = max_age_days(ctx, params)
    aged = f"SELECT s.*, {limit} AS max_age FROM sources s"
    message = (
        "s.path || ' (' || array_to_string(s.kinds, ', ') || ') collected ' || "
        f"{_DAY.format('s.collected_at')} || ', ' || floor(epoch({end} - s.collected_at) / 86400)::INTEGER "
        f"|| ' days before the period end ' || {_DAY.format(f'{end} - INTERVAL 1 DAY')} "
        "|| ' (limit ' || s.max_age || ' days)'"
    )
    gaps = f"""
        SELECT {gap_select(kind="sources", record_id="s.path", source="s.path", message=message)}
        FROM ({aged}) s WHERE s.collected_at < {end} - to_days(s.max_age)"""
    return evaluate(
        ctx,
        needs=(),
        population_sql=f"SELECT {unit_select(kind='sources', record_id='s.path', source='s.path')} FROM sources s",
        gaps_sql=gaps,
        noun="evidence sources",
        params=params,
        exceptions=ExceptionScope.NONE,
    )


@register("evidence.integrity")
def integrity(ctx: CheckContext) -> CheckOutcome:
    """The report cites files by hash, so every source listed in bundle.yaml carries its sha256: a
    file without one could be swapped after the manifest was written without anyone noticing. (A
    declared hash that does not match makes the bundle invalid; it never reaches this check.) One gap
    per unhashed source. Evidence: the manifest. Example gap: "exceptions/compensating-controls.csv
    (compensating_controls) is listed in bundle.yaml without a sha256: its integrity cannot be checked"."""
    message = (
        "s.path || ' (' || array_to_string(s.kinds, ', ') || ') is listed in bundle.yaml without a sha256: "
        "its integrity cannot be checked'"
    )
    gaps = f"""
        SELECT {gap_select(kind="sources", record_id="s.path", source="s.path", message=message)}
        FROM sources s WHERE NULLIF(trim(s.sha256_declared), '') IS NULL"""
    return evaluate(
        ctx,
        needs=(),
        population_sql=f"SELECT {unit_select(kind='sources', record_id='s.path', source='s.path')} FROM sources s",
        gaps_sql=gaps,
        noun="evidence sources",
        exceptions=ExceptionScope.NONE,
    )
