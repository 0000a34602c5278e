"""The assessment engine: derived tables, every control's check, metrics, framework status.

`assess` is pure with respect to the outside world: it reads the evidence store of a loaded bundle,
the control library and the policy; the assessment instant `as_of` comes in as an argument
(default: the first instant after the period end), never from the clock.
"""

from __future__ import annotations

from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime

import duckdb

from reporter import __version__
from reporter.assess import derive
from reporter.assess.conclusion import conclusion_of
from reporter.assess.headline import build_headline
from reporter.assess.sampling import build_sample
from reporter.bundle.interface import LoadedBundle, Progress, no_progress
from reporter.catalog.library import Library
from reporter.catalog.status import framework_status
from reporter.checks.base import SAMPLE_DDL, CheckContext, CheckOutcome, bundle_conditions, gaps_ddl
from reporter.checks.registry import get_check
from reporter.metrics import compute_metrics
from reporter.models.catalog import Control
from reporter.models.manifest import Manifest, framing_of
from reporter.models.results import (
    Assessment,
    BundleInfo,
    ControlResult,
    ExceptionEntry,
    Measure,
    MetricValue,
    Sample,
    SourceRef,
    ToolInfo,
)
from reporter.models.status import Status
from reporter.store.parallel import Handout, default_workers, sessions, side_by_side


@dataclass(frozen=True)
class AssessOptions:
    """Knobs of an assessment."""

    as_of: datetime | None = None  # default: the end of the period
    gap_cap: int = 1000  # gaps listed per control in the results; gap_total is always exact
    progress: Progress | None = None  # (stage, done, total) per derived table, control and metric pass
    check_workers: int | None = None  # checks run side by side (D103); default: parallel.default_workers


def assess(loaded: LoadedBundle, library: Library, options: AssessOptions) -> Assessment:
    """Evaluate a valid, loaded bundle."""
    manifest = loaded.manifest
    assert manifest is not None, "assess needs a valid bundle"
    as_of = options.as_of or manifest.period.end_at
    con = loaded.store.con
    # Record numbers came from insertion order while loading; from here every query that feeds an
    # output has its own ORDER BY, and DuckDB needs less memory without the ordering guarantee.
    con.execute("SET preserve_insertion_order = false")
    progress = options.progress or no_progress
    derive.build(
        con,
        derive.DeriveInput(policy=loaded.policy, period=manifest.period, as_of=as_of, plain_ids=loaded.store.small),
        lambda done, total: progress("deriving the ledger", done, total),
    )
    con.execute(gaps_ddl(plain=loaded.store.small))
    con.execute(SAMPLE_DDL)
    context = CheckContext(
        con=con,
        policy=loaded.policy,
        period=manifest.period,
        as_of=as_of,
        kinds_present=_kinds_present(con),
        gap_cap=options.gap_cap,
        digest=loaded.digest,
    )
    workers = options.check_workers or default_workers(con)
    controls = _evaluate_controls(context, list(library.controls.values()), progress, workers)
    progress("metrics", len(library.controls), len(library.controls))
    controls.sort(key=lambda c: c.control_id)
    # two metrics at once only where the store is small (D116): at ten million findings the peak is
    # within about 30 MB of its target (performance.md)
    metrics = compute_metrics(context, workers if loaded.store.small else 1)
    statuses = {c.control_id: c.status for c in controls}
    headline = build_headline(context, controls, metrics)
    return Assessment(
        tool=ToolInfo(
            version=__version__, catalogs={f: fw.meta.version for f, fw in sorted(library.frameworks.items())}
        ),
        bundle=_bundle_info(loaded, manifest, con),
        as_of=as_of,
        policy=loaded.policy,
        headline=headline,
        status_counts=dict(sorted(Counter(c.status.value for c in controls).items())),
        controls=controls,
        metrics=metrics,
        ledger=_ledger_counts(con),
        exceptions=_exceptions(con, as_of),
        frameworks=framework_status(library, statuses, conditions=bundle_conditions(context)),
        limitations=_limitations(controls, metrics),
        conclusion=conclusion_of(controls, metrics, headline.verified_removed),
    )


class _CheckFailed(Exception):
    """A check failed inside the checks' transaction, which DuckDB has then aborted."""


_CHECK_ERRORS = (duckdb.Error, ValueError, KeyError, TypeError)


def _evaluate_controls(
    context: CheckContext, controls: list[Control], progress: Progress, workers: int
) -> list[ControlResult]:
    """Every control's check, `workers` side by side, each worker in one transaction of its own: the
    checks append their gaps a few thousand rows at a time, and inside one transaction DuckDB gathers
    them into whole row groups and writes each to the store compressed once, where committing every
    append put it in the write-ahead log and each checkpoint compressed the partly filled row group
    again (D91, D98). Two checks side by side keep both cores busy where one check's queries leave
    one idle (D103). A failing check aborts its transaction; then every transaction is rolled back and
    the checks run again one by one, so that it is that control's `error` result and the others'
    results are the same. Results are in the order of `controls` whichever worker ran them."""
    try:
        return _in_transactions(context, controls, progress, workers)
    except _CheckFailed:
        pass
    again = []
    for done, control in enumerate(controls):
        progress(f"checks again, one by one: {control.id}", done, len(controls))
        again.append(_evaluate_control(context, control, strict=False))
    return again


def _in_transactions(
    context: CheckContext, controls: list[Control], progress: Progress, workers: int
) -> list[ControlResult]:
    """The checks in `workers` transactions, one per worker (one worker: the store's own connection);
    committed together when every check ran, rolled back together when one failed."""
    queue = Handout(controls, lambda done, control: progress(f"checks: {control.id}", done, len(controls)))
    results: dict[int, ControlResult] = {}

    def work(con: duckdb.DuckDBPyConnection) -> None:
        ctx = replace(context, con=con)
        while (item := queue.next()) is not None:
            done, control = item
            try:
                results[done] = _evaluate_control(ctx, control, strict=True)
            except BaseException:
                queue.stop()  # the other workers take no further check
                raise

    with sessions(context.con, workers) as connections:
        try:
            for con in connections:
                con.execute("BEGIN TRANSACTION")
            # a resource limit or an interruption wins over a failed check, which only makes them run again
            side_by_side(work, connections, queue.stop, minor=(_CheckFailed,))
        except BaseException:
            for con in connections:
                with suppress(duckdb.Error):  # e.g. out of memory: the run stops with that error, not this one
                    con.execute("ROLLBACK")
            raise
        for con in connections:
            con.execute("COMMIT")
    return [results[done] for done in range(len(controls))]


def _evaluate_control(context: CheckContext, control: Control, *, strict: bool) -> ControlResult:
    """Run one control's check and draw its audit sample; a failure of either is that control's
    `error` result, never a crash (`strict`: it raises `_CheckFailed`, for the checks' transaction
    to be rolled back)."""
    ctx = context.for_control(control.id, control.severity.value)
    sample: Sample | None = None
    try:
        outcome = get_check(control.check)(ctx)
        sample = build_sample(ctx.con, control.id, outcome.population, ctx.policy.sampling, ctx.digest)
    except duckdb.OutOfMemoryException:
        raise  # a resource limit stops the run (exit 7), it is not a finding about this control
    except _CHECK_ERRORS as exc:
        if strict:
            raise _CheckFailed(control.id) from exc
        ctx.con.execute("DELETE FROM a_gaps WHERE control_id = $c", {"c": control.id})
        ctx.con.execute("DELETE FROM a_sample WHERE control_id = $c", {"c": control.id})
        outcome = CheckOutcome.unevaluated(
            Status.ERROR,
            f"the check could not run: {type(exc).__name__}: {str(exc)[:200]}",
            Measure(display="n/a (error)"),
        )
        sample = None
    return ControlResult(
        control_id=control.id,
        title=control.title,
        family=control.family,
        check=control.check,
        severity=control.severity.value,
        status=outcome.status,
        reason=outcome.reason,
        measure=outcome.measure,
        population=outcome.population,
        gap_total=outcome.gap_total,
        gaps_excepted=outcome.gaps_excepted,
        gaps=outcome.gaps,
        owners=list(outcome.owners),
        evidence_kinds=list(control.evidence),
        metrics=list(control.metrics),
        deviation=outcome.deviation,
        open_by_risk=outcome.open_by_risk,
        sample=sample,
    )


def _kinds_present(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Kinds with at least one record (an empty file is not evidence). Verifications are also
    present when they can be derived: findings that name their scans (scan series) are verified or
    contradicted by rescans (docs/verification.md)."""
    rows = con.execute("SELECT DISTINCT unnest(kinds) FROM sources WHERE records > 0").fetchall()
    kinds = {str(r[0]) for r in rows}
    derivable = con.execute("SELECT EXISTS (SELECT 1 FROM finding_sightings)").fetchone()
    if derivable and derivable[0]:
        kinds.add("verifications")
    return frozenset(kinds)


def _bundle_info(loaded: LoadedBundle, manifest: Manifest, con: duckdb.DuckDBPyConnection) -> BundleInfo:
    fresh_limit = loaded.policy.freshness.max_age_days
    rows = con.execute(
        "SELECT path, kinds, format, tool, collected_at, sha256, records, "
        f"collected_at >= $end - to_days({int(fresh_limit)}) AS fresh, "
        "NULLIF(trim(sha256_declared), '') IS NOT NULL AS declared FROM sources ORDER BY path",
        {"end": manifest.period.end_at},
    ).fetchall()
    sources = [
        SourceRef(
            ref=f"E{n}",
            path=p,
            kinds=list(k),
            format=f,
            tool=t,
            collected_at=c,
            sha256=s,
            records=r,
            fresh=fr,
            hash_declared=d,
        )
        for n, (p, k, f, t, c, s, r, fr, d) in enumerate(rows, start=1)
    ]
    return BundleInfo(
        organisation=manifest.organisation,
        scope=manifest.scope,
        period_start=manifest.period.start,
        period_end=manifest.period.end,
        prepared_by=manifest.prepared_by.name,
        reviewed_by=manifest.reviewed_by.name if manifest.reviewed_by else None,
        classification=manifest.classification,
        digest=loaded.digest,
        manifest_sha256=loaded.manifest_sha256,
        seal=loaded.seal,
        sources=sources,
        framing=framing_of(manifest, loaded.responses),
    )


def _exceptions(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[ExceptionEntry]:
    cursor = con.execute(
        "SELECT e.id, e.title, e.risk_response, e.deviation_type, e.owner, e.approver, e.approved_at, e.expires_at, "
        "CASE WHEN e.approved_at IS NULL OR e.approved_at > $as_of THEN 'not approved' "
        "WHEN e.expires_at IS NULL THEN 'no expiry' WHEN e.expires_at <= $as_of THEN 'expired' ELSE 'active' END, "
        "e.complete, e.sound, e.control_count, e.control_verified_at, "
        "(SELECT count(*) FROM a_exc_scope s WHERE s.exception_id = e.id), "
        "concat_ws(' | ', 'assets: ' || nullif(array_to_string(e.asset_ids, ', '), ''), "
        "'tags: ' || nullif(array_to_string(e.asset_tags, ', '), ''), "
        "'vulnerabilities: ' || nullif(array_to_string(e.vuln_ids, ', '), ''), "
        "'findings: ' || nullif(array_to_string(e.finding_ids, ', '), ''), "
        "'identities: ' || nullif(array_to_string(e.identity_ids, ', '), ''), "
        "'controls: ' || nullif(array_to_string(e.control_ids, ', '), '')), "
        "e.justification, e._source, e._line, e._rec FROM a_exc e ORDER BY e.id",
        {"as_of": as_of},
    )
    names = [
        "id",
        "title",
        "risk_response",
        "deviation_type",
        "owner",
        "approver",
        "approved_at",
        "expires_at",
        "state",
        "complete",
        "valid",
        "compensating_controls",
        "control_verified_at",
        "covered_instances",
        "scope",
        "justification",
        "source",
        "line",
        "record",
    ]
    return [ExceptionEntry(**dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def _ledger_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    rows = con.execute("SELECT state, count(*) FROM a_ledger GROUP BY state ORDER BY state").fetchall()
    return {str(state): int(n) for state, n in rows}


def _limitations(controls: list[ControlResult], metrics: list[MetricValue]) -> list[str]:
    out = [
        f"{c.control_id} {c.title}: {c.reason}"
        for c in controls
        if c.status in (Status.INSUFFICIENT_EVIDENCE, Status.ERROR, Status.NOT_APPLICABLE)
    ]
    out += [f"{m.id} {m.title}: not measurable — {m.reason}" for m in metrics if not m.measurable]
    return out
