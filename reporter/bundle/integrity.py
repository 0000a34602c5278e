"""Cross-file integrity of a loaded bundle, set-based over the evidence store.

References resolve (finding → asset, verification → finding, agent → identity...), ids are unique
per kind, timestamps are possible (not after the file was collected; in order within a record; a
verification not before its deployment beyond the clock-skew tolerance), and each exception's scope
matches something. Every issue names the file and record it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporter.bundle.collect import Collector
from reporter.models.issues import Issue, IssueSeverity
from reporter.models.kinds import KINDS
from reporter.models.manifest import Manifest
from reporter.models.policy import Policy
from reporter.store.columns import columns_of
from reporter.store.parallel import default_workers
from reporter.store.sql import Params, ident, literal
from reporter.store.store import EvidenceStore

ERROR, WARNING = IssueSeverity.ERROR, IssueSeverity.WARNING


@dataclass(frozen=True)
class Ref:
    """A reference field and the kinds (tables) it may point to."""

    kind: str
    field: str
    targets: tuple[str, ...]
    code: str
    many: bool = False  # the field is a list


REFS: tuple[Ref, ...] = (
    Ref("findings", "asset_id", ("assets",), "ref.unknown-asset"),
    Ref("scans", "asset_id", ("assets",), "ref.unknown-asset"),
    Ref("deployments", "asset_id", ("assets",), "ref.unknown-asset"),
    Ref("verifications", "asset_id", ("assets",), "ref.unknown-asset"),
    Ref("observations", "asset_id", ("assets",), "ref.unknown-asset"),
    Ref("agents", "asset_id", ("assets",), "ref.unknown-asset"),
    Ref("assets", "parent_image_id", ("assets",), "ref.unknown-asset"),
    Ref("rollout_events", "asset_ids", ("assets",), "ref.unknown-asset", many=True),
    Ref("exceptions", "asset_ids", ("assets",), "ref.unknown-asset", many=True),
    Ref("identities", "used_by", ("assets", "agents"), "ref.unknown-asset", many=True),
    Ref("deployments", "finding_ids", ("findings",), "ref.unknown-finding", many=True),
    Ref("verifications", "finding_id", ("findings",), "ref.unknown-finding"),
    Ref("rollout_events", "finding_ids", ("findings",), "ref.unknown-finding", many=True),
    Ref("exceptions", "finding_ids", ("findings",), "ref.unknown-finding", many=True),
    Ref("verifications", "deployment_id", ("deployments",), "ref.unknown-deployment"),
    Ref("findings", "scan_id", ("scans",), "ref.unknown-scan"),
    Ref("rollout_events", "deployment_ids", ("deployments",), "ref.unknown-deployment", many=True),
    Ref("agents", "identity_ids", ("identities",), "ref.unknown-identity", many=True),
    Ref("secret_exposures", "identity_id", ("identities",), "ref.unknown-identity"),
    Ref("secret_exposures", "asset_id", ("assets",), "ref.unknown-asset"),
    Ref("exceptions", "identity_ids", ("identities",), "ref.unknown-identity", many=True),
    Ref(
        "exceptions",
        "compensating_control_ids",
        ("compensating_controls",),
        "ref.unknown-control",
        many=True,
    ),
)

# Timestamps that are legitimately in the future of the export (expiry dates).
_FUTURE_FIELDS = frozenset({"expires_at"})


def check_integrity(
    store: EvidenceStore, manifest: Manifest, policy: Policy, cap: int, control_ids: frozenset[str] = frozenset()
) -> list[Issue]:
    """Every cross-file rule; returns issues in a deterministic order. With the control library's
    ids, exceptions that name controls are checked against them too."""
    out = Collector(store, cap, deferred=True)  # the rules only read: two run side by side (D104)
    if control_ids:
        _control_ids(out, control_ids)
    _duplicate_ids(out)
    _references(out)
    _asset_consistency(out)
    _after_collection(out, manifest)
    _time_order(out)
    _verification_before_deployment(out, policy.verification.clock_skew_minutes)
    _exception_scope(out)
    _untargeted(out)
    return sorted(out.finish(default_workers(store.con)), key=Issue.sort_key)


def _control_ids(out: Collector, control_ids: frozenset[str]) -> None:
    params = Params()
    known = params.add(sorted(control_ids))
    sql = (
        f"SELECT _source, _rec, _line, cid AS detail FROM (SELECT *, unnest(control_ids) AS cid FROM exceptions) "
        f"WHERE NOT list_contains({known}, cid)"
    )
    out.run(
        sql,
        params,
        "ref.unknown-control-id",
        WARNING,
        "control_ids",
        "names control '{detail}', which is not in the control library; it covers nothing",
    )


def _untargeted(out: Collector) -> None:
    # Not invalid, but such records cannot be linked to the exposure they claim to address.
    sql = (
        "SELECT _source, _rec, _line, id AS detail FROM deployments "
        "WHERE len(finding_ids) = 0 AND len(vuln_ids) = 0 AND patch_id IS NULL"
    )
    out.run(
        sql,
        Params(),
        "ref.no-target",
        WARNING,
        "finding_ids",
        "deployment {detail} names no finding, vulnerability or patch; it cannot be matched to what it fixes",
    )
    sql = (
        "SELECT _source, _rec, _line, id AS detail FROM verifications "
        "WHERE finding_id IS NULL AND vuln_id IS NULL AND deployment_id IS NULL"
    )
    out.run(
        sql,
        Params(),
        "ref.no-target",
        WARNING,
        "finding_id",
        "verification {detail} names no finding, vulnerability or deployment; it verifies nothing",
    )


def _duplicate_ids(out: Collector) -> None:
    for kind in KINDS:
        # Aggregate first: only ids that really repeat get the (costlier) positional work.
        table = ident(kind)
        sql = (
            "SELECT _source, _rec, _line, "
            "id || ' (first in ' || first_source || ' record ' || first_rec || ')' AS detail "
            f"FROM (SELECT id, _source, _rec, _line, first_value(_source) OVER w AS first_source, "
            f"first_value(_rec) OVER w AS first_rec, row_number() OVER w AS n FROM {table} "
            f"WHERE id IN (SELECT id FROM {table} WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1) "
            f"WINDOW w AS (PARTITION BY id ORDER BY _source, _rec)) WHERE n > 1"
        )
        out.run(
            sql,
            Params(),
            "record.duplicate-id",
            ERROR,
            "id",
            f"id {{detail}} is used twice in {kind}",
        )


def _references(out: Collector) -> None:
    """Every reference field that points to the same kinds is checked in one query, so the targets'
    ids are read and hashed once, not once per field (D115): at a million findings the four fields
    that name findings took 0.06 s together against 0.19 s one by one."""
    groups: dict[tuple[tuple[str, ...], str], list[Ref]] = {}
    for ref in REFS:
        groups.setdefault((ref.targets, ref.code), []).append(ref)
    for (targets, code), refs in groups.items():
        known = " UNION ALL ".join(f"SELECT id FROM {ident(t)}" for t in targets)
        if "assets" in targets:  # an ambiguous asset key is reported once, as ref.ambiguous-asset
            known += " UNION ALL SELECT key FROM asset_key_map WHERE asset_id IS NULL"
        referring = " UNION ALL ".join(_referring(ref) for ref in refs)
        sql = f"SELECT _source, _rec, _line, _kind, _field, ref AS detail FROM ({referring}) WHERE ref NOT IN ({known})"
        what = " or ".join((t[:-3] + "y" if t.endswith("ies") else t[:-1]).replace("_", " ") for t in targets)
        out.run_fields(sql, Params(), code, ERROR, f"refers to {what} '{{detail}}', which is not in the bundle")


def _referring(ref: Ref) -> str:
    """The references one field makes: (_source, _rec, _line, _kind, _field, ref)."""
    column, kind = ident(ref.field), ident(ref.kind)
    head = f"SELECT _source, _rec, _line, {literal(ref.kind)} AS _kind, {literal(ref.field)} AS _field"
    if ref.many:
        return f"{head}, unnest({column}) AS ref FROM {kind}"
    return f"{head}, {column} AS ref FROM {kind} WHERE {column} IS NOT NULL"


# A duplicated id is reported once (record.duplicate-id); references resolve to its first record so
# that the duplicate does not cascade into further errors.
_FIRST_FINDINGS = "(SELECT * FROM findings QUALIFY row_number() OVER (PARTITION BY id ORDER BY _source, _rec) = 1)"


def _asset_consistency(out: Collector) -> None:
    duplicated = out.store.con.execute(
        "SELECT count(*) FROM (SELECT id FROM findings GROUP BY id HAVING count(*) > 1)"
    ).fetchone()
    first = _FIRST_FINDINGS if duplicated and duplicated[0] else "findings"  # the window only when needed
    sql = (
        "SELECT v._source, v._rec, v._line, f.id || ' is on ' || f.asset_id || ', not ' || v.asset_id AS detail "
        f"FROM verifications v JOIN {first} f ON v.finding_id = f.id WHERE v.asset_id <> f.asset_id"
    )
    out.run(sql, Params(), "ref.asset-mismatch", ERROR, "asset_id", "finding {detail}")
    sql = (
        "SELECT d._source, d._rec, d._line, f.id || ' is on ' || f.asset_id || ', not ' || d.asset_id AS detail "
        f"FROM (SELECT *, unnest(finding_ids) AS fid FROM deployments) d JOIN {first} f ON d.fid = f.id "
        "WHERE d.asset_id <> f.asset_id"
    )
    out.run(sql, Params(), "ref.asset-mismatch", ERROR, "finding_ids", "finding {detail}")
    sql = (
        "SELECT x._source, x._rec, x._line, x.finding_id || ' is on ' || x.asset_id || ', but its scan ' || s.id "
        "|| ' is of ' || s.asset_id AS detail FROM finding_sightings x JOIN scans s ON s.id = x.scan_id "
        "WHERE x.asset_id <> s.asset_id"
    )
    out.run(sql, Params(), "ref.asset-mismatch", ERROR, "scan_id", "finding {detail}")


def _after_collection(out: Collector, manifest: Manifest) -> None:
    params = Params()
    period_end = params.add(manifest.period.end_at)
    for kind, spec in KINDS.items():
        for column in columns_of(spec.model):
            if column.scalar != "datetime" or column.name in _FUTURE_FIELDS:
                continue
            col = ident(column.name)
            joined = f"FROM {ident(kind)} k JOIN sources s ON k._source = s.path WHERE k.{col} IS NOT NULL"
            sql = (
                f"SELECT k._source, k._rec, k._line, strftime(k.{col}, '%Y-%m-%dT%H:%M:%SZ') || ' > ' || "
                f"strftime(s.collected_at, '%Y-%m-%dT%H:%M:%SZ') AS detail {joined} AND k.{col} > s.collected_at"
            )
            out.run(
                sql,
                Params(),
                "time.after-collection",
                ERROR,
                column.name,
                "timestamp is after the file was collected ({detail}): impossible evidence",
            )
            sql = (
                f"SELECT k._source, k._rec, k._line, strftime(k.{col}, '%Y-%m-%dT%H:%M:%SZ') AS detail "
                f"{joined} AND k.{col} >= {period_end} AND k.{col} <= s.collected_at"
            )
            out.run(
                sql,
                params,
                "time.after-period",
                WARNING,
                column.name,
                f"{{detail}} is after the period end ({manifest.period.end}); the assessment ignores it",
            )


_ORDER_RULES: tuple[tuple[str, str, str], ...] = (
    ("deployments", "completed_at", "started_at"),
    ("findings", "closed_at", "first_detected_at"),
    ("exceptions", "expires_at", "approved_at"),
    ("secret_exposures", "detected_at", "exposed_at"),
)


def _time_order(out: Collector) -> None:
    for kind, later, earlier in _ORDER_RULES:
        sql = (
            f"SELECT _source, _rec, _line, strftime({ident(later)}, '%Y-%m-%dT%H:%M:%SZ') || ' < ' || "
            f"strftime({ident(earlier)}, '%Y-%m-%dT%H:%M:%SZ') AS detail FROM {ident(kind)} "
            f"WHERE {ident(later)} < {ident(earlier)}"
        )
        out.run(
            sql,
            Params(),
            "time.out-of-order",
            ERROR,
            later,
            f"{later} is before {earlier} ({{detail}})",
        )


def _verification_before_deployment(out: Collector, skew_minutes: int) -> None:
    params = Params()
    sql = (
        "SELECT v._source, v._rec, v._line, v.deployment_id || ' completed ' || "
        "strftime(d.completed_at, '%Y-%m-%dT%H:%M:%SZ') || ', observed ' || "
        "strftime(v.observed_at, '%Y-%m-%dT%H:%M:%SZ') AS detail FROM verifications v "
        "JOIN deployments d ON v.deployment_id = d.id "
        f"WHERE v.observed_at < d.completed_at - to_minutes({params.add(skew_minutes)})"
    )
    out.run(
        sql,
        params,
        "time.verification-before-deployment",
        ERROR,
        "observed_at",
        f"verification is earlier than its deployment by more than the {skew_minutes}-minute clock-skew "
        "tolerance (deployment {detail})",
    )


def _exception_scope(out: Collector) -> None:
    # An exception matches: a listed finding; a finding whose vuln is listed (on the listed assets
    # or tags when given); a listed identity; or, with no finding criteria, a listed asset or tag.
    # Each criterion joins its unnested list (exceptions × findings would compare every pair); a
    # record is identified by its position, as an id may be duplicated at this stage.
    sql = """
    WITH matched AS (
        SELECT n._source, n._rec FROM (SELECT _source, _rec, unnest(finding_ids) AS finding_id FROM exceptions) n
        JOIN findings f ON f.id = n.finding_id
        UNION ALL
        SELECT n._source, n._rec
        FROM (SELECT _source, _rec, asset_ids, asset_tags, unnest(vuln_ids) AS vuln_id FROM exceptions) n
        JOIN findings f ON f.vuln_id = n.vuln_id JOIN assets a ON f.asset_id = a.id
        WHERE (len(n.asset_ids) = 0 AND len(n.asset_tags) = 0)
            OR list_contains(n.asset_ids, a.id) OR len(list_intersect(n.asset_tags, a.tags)) > 0
        UNION ALL
        SELECT n._source, n._rec FROM (SELECT _source, _rec, unnest(identity_ids) AS identity_id FROM exceptions) n
        JOIN identities i ON i.id = n.identity_id
        UNION ALL
        SELECT n._source, n._rec FROM (SELECT _source, _rec, unnest(asset_ids) AS asset_id FROM exceptions
            WHERE len(vuln_ids) = 0 AND len(finding_ids) = 0) n JOIN assets a ON a.id = n.asset_id
        UNION ALL
        SELECT n._source, n._rec FROM (SELECT _source, _rec, unnest(asset_tags) AS tag FROM exceptions
            WHERE len(vuln_ids) = 0 AND len(finding_ids) = 0) n WHERE n.tag IN (SELECT unnest(tags) FROM assets)
    )
    SELECT e._source, e._rec, e._line, e.id AS detail FROM exceptions e
    WHERE len(e.control_ids) = 0
    AND NOT EXISTS (SELECT 1 FROM matched m WHERE m._source = e._source AND m._rec = e._rec)"""
    out.run(
        sql,
        Params(),
        "ref.scope-matches-nothing",
        WARNING,
        "id",
        "exception {detail} matches no finding, asset or identity in the bundle",
    )
