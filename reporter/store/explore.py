"""The data of the HTML report's explorer (explore.json): the first rows of the gap, ledger, exception
and identity tables, in the order of the CSV exports, with exact totals; every gap with the fields of
the record it cites. Set-based from the store (the cap is a SQL LIMIT); run after `assess`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from reporter.checks.base import GAP_ORDER
from reporter.models.results import Assessment
from reporter.store.exports import EXCEPTIONS, FINDINGS, LEDGER
from reporter.store.sql import ident

FORMAT_VERSION = 1
# Rows embedded per table. Measured (docs/report.md, "Explorable HTML"): at 1M gaps, 10,000 gaps with their
# record fields and 10,000 ledger rows make report.html ~13 MB, which Chromium opens in ~2-3 s with a search
# under 0.25 s (20,000: ~23 MB); the complete tables are in the CSVs and the store.
EXPLORE_ROWS = 10_000
# The tables a gap can cite (docs/evidence-store.md): one row per record, keyed by (_source, _rec).
RECORD_TABLES = frozenset(
    {
        "assets",
        "observations",
        "scans",
        "findings",
        "deployments",
        "verifications",
        "exceptions",
        "rollout_events",
        "identities",
        "secret_exposures",
        "agents",
        "compensating_controls",
    }
)
_TS = "strftime({0}, '%Y-%m-%dT%H:%M:%SZ')"
LEVELS = ("critical", "high", "medium", "low", "info", "none")


@dataclass(frozen=True)
class Column:
    """One embedded column: its export name, a label, whether the table shows it (the others appear when
    a row is opened) and whether it gets a filter list."""

    name: str
    label: str
    show: bool = True
    facet: bool = False
    rank: tuple[str, ...] = ()  # sort order of the values, when it is not alphabetical (riskiest first)


def _spec(source: Sequence[tuple[str, str, str]], names: Iterable[str]) -> list[tuple[str, str, str]]:
    by_name = {name: (name, expr, kind) for name, expr, kind in source}
    return [by_name[name] for name in names]


def _select(spec: Iterable[tuple[str, str, str]]) -> str:
    """(name, expression, type) → SELECT list, unneutralised (JSON is no spreadsheet): text as text,
    timestamps as ISO 8601 UTC, the rest as it is."""
    out = []
    for name, expr, kind in spec:
        value = f"({expr})::VARCHAR" if kind == "text" else _TS.format(expr) if kind == "ts" else expr
        out.append(f"{value} AS {ident(name)}")
    return ", ".join(out)


GAP_COLUMNS = (
    Column("control_id", "Control", facet=True),
    Column("risk", "Risk", facet=True, rank=LEVELS),
    Column("status", "Status", facet=True),
    Column("kind", "Record kind", facet=True),
    Column("record_id", "Record"),
    Column("asset_id", "Asset"),
    Column("vuln_id", "Vulnerability"),
    Column("identity_id", "Identity", show=False),
    Column("owner", "Owner", facet=True),
    Column("days_overdue", "Days overdue"),
    Column("message", "Finding"),
    Column("control_title", "Control title", show=False),
    Column("severity", "Control severity", show=False, rank=LEVELS),
    Column("risk_basis", "Risk basis", show=False),
    Column("vuln_severity", "Vulnerability severity", show=False, rank=LEVELS),
    Column("kev", "KEV", show=False),
    Column("internet_facing", "Internet-facing", show=False),
    Column("asset_importance", "Asset importance", show=False),
    Column("identity_privileged", "Privileged identity", show=False),
    Column("open_at_as_of", "Open at as-of", show=False),
    Column("excepted_by", "Excepted by", show=False),
    Column("source", "File", show=False),
    Column("line", "Line", show=False),
    Column("record", "Record number", show=False),
    Column("sha256", "File SHA-256", show=False),
)
LEDGER_COLUMNS = (
    Column("asset_id", "Asset"),
    Column("vuln_id", "Vulnerability"),
    Column("state", "State", facet=True),
    Column("severity", "Severity", facet=True, rank=LEVELS),
    Column("kev", "KEV", facet=True),
    Column("internet_facing", "Internet-facing", facet=True),
    Column("due_at", "Due"),
    Column("sla_status", "SLA", facet=True),
    Column("fixed_at", "Fixed"),
    Column("exposure_days", "Exposure days"),
    Column("asset_importance", "Asset importance", show=False),
    Column("first_detected_at", "First detected", show=False),
    Column("sla_rule", "SLA rule", show=False),
    Column("last_deployment_at", "Last deployment", show=False),
    Column("deployments", "Deployments", show=False),
    Column("verification_id", "Verification", show=False),
    Column("verification_result", "Verification result", show=False),
    Column("verification_source", "Verification file", show=False),
    Column("verification_line", "Verification line", show=False),
    Column("verification_sha256", "Verification file SHA-256", show=False),
    Column("excepted_by", "Excepted by", show=False),
    Column("source", "File", show=False),
    Column("line", "Line", show=False),
    Column("record", "Record number", show=False),
)
EXCEPTION_COLUMNS = (
    Column("id", "Exception"),
    Column("title", "Title"),
    Column("risk_response", "Risk response", facet=True),
    Column("owner", "Owner", facet=True),
    Column("expires_at", "Expires"),
    Column("state_at_as_of", "State at as-of", facet=True),
    Column("valid", "Valid", facet=True),
    Column("covered_instances", "Covered instances"),
    Column("approver", "Approver", show=False),
    Column("approved_at", "Approved", show=False),
    Column("scope", "Scope", show=False),
    Column("justification", "Justification", show=False),
    Column("source", "File", show=False),
    Column("line", "Line", show=False),
)
IDENTITY_COLUMNS = (
    Column("id", "Identity"),
    Column("name", "Name"),
    Column("type", "Type", facet=True),
    Column("platform", "Platform", facet=True),
    Column("owner", "Owner", facet=True),
    Column("privilege_admin", "Admin", facet=True),
    Column("last_rotated_at", "Last rotated"),
    Column("last_used_at", "Last used"),
    Column("owner_active", "Owner active", show=False),
    Column("enabled", "Enabled", show=False),
    Column("expires_at", "Expires", show=False),
    Column("storage", "Storage", show=False),
    Column("used_by", "Used by", show=False),
    Column("source", "File", show=False),
    Column("line", "Line", show=False),
    Column("record", "Record number", show=False),
    Column("sha256", "File SHA-256", show=False),
)
IDENTITY_SPEC = [
    ("id", "i.id", "text"),
    ("name", "i.name", "text"),
    ("type", "i.type", "text"),
    ("platform", "i.platform", "text"),
    ("owner", "i.owner", "text"),
    ("privilege_admin", "i.privilege_admin", "raw"),
    ("last_rotated_at", "i.last_rotated_at", "ts"),
    ("last_used_at", "i.last_used_at", "ts"),
    ("owner_active", "i.owner_active", "raw"),
    ("enabled", "i.enabled", "raw"),
    ("expires_at", "i.expires_at", "ts"),
    ("storage", "i.storage", "text"),
    ("used_by", "array_to_string(i.used_by, ';')", "text"),
    ("source", "i._source", "text"),
    ("line", "i._line", "raw"),
    ("record", "i._rec", "raw"),
    ("sha256", "s.sha256", "text"),
]


def explore_json(con: duckdb.DuckDBPyConnection, assessment: Assessment, cap: int | None = None) -> bytes:
    """explore.json: at most `cap` rows per table (default EXPLORE_ROWS); sorted keys, compact, UTF-8;
    the same store gives the same bytes."""
    cap = max(0, int(EXPLORE_ROWS if cap is None else cap))
    tables = [
        _gaps(con, assessment, cap),
        _ledger(con, cap),
        _exceptions(con, assessment, cap),
        _identities(con, cap),
    ]
    document = {"format_version": FORMAT_VERSION, "cap": cap, "tables": tables}
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _table(
    table_id: str, title: str, file: str, columns: Sequence[Column], total: int, rows: list[list[Any]]
) -> dict[str, Any]:
    return {
        "id": table_id,
        "title": title,
        "file": file,
        "total": total,
        "columns": [
            {"name": c.name, "label": c.label, "show": c.show, "facet": c.facet, "rank": list(c.rank)} for c in columns
        ],
        "rows": rows,
    }


def _gaps(con: duckdb.DuckDBPyConnection, assessment: Assessment, cap: int) -> dict[str, Any]:
    titles = {c.control_id: c.title for c in assessment.controls}
    spec = [s for s in _spec(FINDINGS, [c.name for c in GAP_COLUMNS]) if s[0] != "control_title"]
    # The findings.csv order; `n` keeps it through the joins below. The first `cap` gaps are chosen
    # first (a top-N, not a sort of every gap), and only they are numbered and formatted.
    order = f"control_id, {GAP_ORDER}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE x_gaps AS SELECT row_number() OVER (ORDER BY {order}) AS n, "
        f"g.kind AS _kind, g._source AS _src, g._rec AS _r, g.record_id AS _id, {_select(spec)} "
        f"FROM (SELECT * FROM a_gaps ORDER BY {order} LIMIT {cap}) g"
    )
    names = [name for name, _, _ in spec]
    rows = con.execute(f"SELECT {', '.join(ident(n) for n in names)} FROM x_gaps ORDER BY n").fetchall()
    fields = _record_fields(con)
    con.execute("DROP TABLE x_gaps")
    out = []
    for n, row in enumerate(rows, start=1):
        values = dict(zip(names, row, strict=True))
        values["control_title"] = titles.get(str(values["control_id"]), "")
        out.append([_json_value(values[c.name]) for c in GAP_COLUMNS] + [fields.get(n, {})])
    total = _count(con, "a_gaps")
    columns = (*GAP_COLUMNS, Column("fields", "Record fields", show=False))
    return _table("gaps", "Gaps", "findings.csv", columns, total, out)


def _record_fields(con: duckdb.DuckDBPyConnection) -> dict[int, dict[str, str]]:
    """Row number → the cited record's own fields as text, for the embedded gaps (one join per kind)."""
    existing = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    kinds = [r[0] for r in con.execute("SELECT DISTINCT _kind FROM x_gaps ORDER BY 1").fetchall()]
    fields: dict[int, dict[str, str]] = {}
    for kind in kinds:
        if kind == "sources":  # a file cited as a whole: its row in `sources`
            query = "SELECT g.n, t.* FROM x_gaps g JOIN sources t ON t.path = g._id WHERE g._kind = 'sources'"
        elif kind in RECORD_TABLES and kind in existing:
            query = (
                f"SELECT g.n, t.* FROM x_gaps g JOIN {ident(kind)} t ON t._source = g._src AND t._rec = g._r "
                f"WHERE g._kind = '{kind}'"
            )
        else:
            continue
        cursor = con.execute(query)
        names = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            fields[int(row[0])] = {
                name: _text(value)
                for name, value in zip(names[1:], row[1:], strict=True)
                if value is not None and not name.startswith("_")
            }
    return fields


def _ledger(con: duckdb.DuckDBPyConnection, cap: int) -> dict[str, Any]:
    ledger = "SELECT *, CASE WHEN is_fixed THEN fix_evidence ELSE after_success END AS evidence FROM a_ledger"
    spec = _spec(LEDGER, [c.name for c in LEDGER_COLUMNS])
    query = (
        f"SELECT {_select(spec)} FROM ({ledger}) l LEFT JOIN sources vs ON vs.path = l.evidence.src "
        f"ORDER BY l.asset_id, l.vuln_id LIMIT {cap}"
    )
    rows = [[_json_value(v) for v in row] for row in con.execute(query).fetchall()]
    return _table("ledger", "Remediation ledger", "ledger.csv", LEDGER_COLUMNS, _count(con, "a_ledger"), rows)


def _exceptions(con: duckdb.DuckDBPyConnection, assessment: Assessment, cap: int) -> dict[str, Any]:
    spec = _spec(EXCEPTIONS, [c.name for c in EXCEPTION_COLUMNS])
    query = f"SELECT {_select(spec)} FROM a_exc e ORDER BY e.id LIMIT {cap}"
    rows = [[_json_value(v) for v in row] for row in con.execute(query, {"as_of": assessment.as_of}).fetchall()]
    total = _count(con, "a_exc")
    return _table("exceptions", "Exceptions", "exceptions.csv", EXCEPTION_COLUMNS, total, rows)


def _identities(con: duckdb.DuckDBPyConnection, cap: int) -> dict[str, Any]:
    query = (
        f"SELECT {_select(IDENTITY_SPEC)} FROM identities i LEFT JOIN sources s ON s.path = i._source "
        f"ORDER BY i.id, i._source, i._rec LIMIT {cap}"
    )
    rows = [[_json_value(v) for v in row] for row in con.execute(query).fetchall()]
    total = _count(con, "identities")
    return _table("identities", "Identities", "the evidence store (--db)", IDENTITY_COLUMNS, total, rows)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {ident(table)}").fetchone()
    return int(row[0]) if row else 0


def _json_value(value: Any) -> Any:
    """A cell as JSON: numbers and booleans as they are, everything else as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return round(value, 4)
    return _text(value)


def _text(value: Any) -> str:
    """A record field as text: ISO 8601 UTC instants, lists joined with ';', nested values as JSON."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)
