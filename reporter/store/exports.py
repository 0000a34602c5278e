"""CSV exports straight from the evidence store: findings (every gap), the remediation ledger and the
exceptions register. Set-based (DuckDB COPY), deterministic order, every cell quoted, and every text
cell that a spreadsheet would evaluate (= + - @ tab CR NUL first) prefixed with a single quote.

Run after `assess` (they read the a_* tables). Columns are documented in docs/results-format.md.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from reporter.checks.base import GAP_ORDER
from reporter.models.results import Assessment
from reporter.output import Payload
from reporter.store.sql import ident

# CWE-1236 / OWASP "CSV injection": neutralise with a leading apostrophe (Symfony CVE-2021-41270).
# A value the pattern matches starts with one of these characters (RE2's \s is [\t\n\f\r ]), so the
# pattern runs only on those values: most cells start with a letter or a digit (D94).
_FORMULA_FIRST = "0, 9, 10, 12, 13, 32, 43, 45, 61, 64"  # NUL, tab, LF, FF, CR, space, + - = @
_NEUTRAL = (
    f"CASE WHEN ascii({{0}}) IN ({_FORMULA_FIRST}) AND regexp_matches({{0}}, '^[\\s]*[=+\\-@\\t\\r\\x00]') "
    "THEN '''' || {0} ELSE {0} END"
)
_TS = "strftime({0}, '%Y-%m-%dT%H:%M:%SZ')"
UTF8_BOM = b"\xef\xbb\xbf"


def _text(expr: str) -> str:
    return _NEUTRAL.format(f"({expr})::VARCHAR")


def _columns(spec: list[tuple[str, str, str]]) -> str:
    """(name, expression, type) → SELECT list; type 'text' is neutralised, 'ts' formatted, 'raw' as is."""
    out = []
    for name, expr, kind in spec:
        value = _text(expr) if kind == "text" else _TS.format(expr) if kind == "ts" else expr
        out.append(f"{value} AS {ident(name)}")
    return ", ".join(out)


FINDINGS = [
    ("control_id", "g.control_id", "text"),
    ("control_title", "c.title", "text"),
    ("severity", "g.severity", "text"),
    # the gap's own risk and the facts it rests on (docs/report.md, "Gap risk")
    ("risk", "g.risk", "text"),
    ("risk_basis", "g.risk_basis", "text"),
    ("vuln_severity", "g.vuln_severity", "text"),
    ("kev", "g.kev", "raw"),
    ("internet_facing", "g.internet_facing", "raw"),
    ("asset_importance", "g.asset_importance", "text"),
    ("identity_privileged", "g.identity_privileged", "raw"),
    ("days_overdue", "g.days_overdue", "raw"),
    ("open_at_as_of", "g.open_at_as_of", "raw"),
    (
        "status",
        "CASE WHEN g.excepted_by IS NOT NULL THEN 'excepted' WHEN g.certainty = 'unknown' THEN 'undecided' "
        "ELSE 'gap' END",
        "text",
    ),
    ("excepted_by", "g.excepted_by", "text"),
    ("kind", "g.kind", "text"),
    ("record_id", "g.record_id", "text"),
    ("asset_id", "g.asset_id", "text"),
    ("vuln_id", "g.vuln_id", "text"),
    ("identity_id", "g.identity_id", "text"),
    ("owner", "g.owner", "text"),
    ("source", "g._source", "text"),
    ("line", "g._line", "raw"),
    ("record", "g._rec", "raw"),
    ("sha256", "g.sha256", "text"),
    ("message", "g.message", "text"),
]
LEDGER = [
    ("asset_id", "l.asset_id", "text"),
    ("vuln_id", "l.vuln_id", "text"),
    ("finding_ids", "array_to_string(l.finding_ids, ';')", "text"),
    ("state", "l.state", "text"),
    ("severity", "l.severity", "text"),
    ("vuln_importance", "l.vuln_importance", "text"),
    ("asset_importance", "l.asset_importance", "text"),
    ("kev", "l.kev", "raw"),
    ("bod2604_outcome", "l.bod_outcome", "text"),
    ("internet_facing", "l.internet_facing", "raw"),
    ("first_detected_at", "l.first_detected_at", "ts"),
    ("due_at", "l.due_at", "ts"),
    ("sla_rule", "l.sla_rule", "text"),
    ("sla_status", "l.sla_status", "text"),
    ("fixed_at", "l.fixed_at", "ts"),
    ("last_deployment_at", "l.last_success_at", "ts"),
    ("deployments", "l.deployments", "raw"),
    ("deployment_link", "array_to_string(l.link_rules, ';')", "text"),
    ("verification_id", "l.evidence.id", "text"),
    ("verification_result", "l.evidence.result", "text"),
    ("verification_at", "l.evidence.at", "ts"),
    ("verification_derived", "l.evidence.derived", "raw"),
    ("verification_rule", "l.evidence.rule", "text"),
    ("verification_scan_id", "l.evidence.scan_id", "text"),
    ("verification_source", "l.evidence.src", "text"),
    ("verification_line", "l.evidence.line", "raw"),
    ("verification_record", "l.evidence.rec", "raw"),
    ("verification_sha256", "vs.sha256", "text"),
    ("rollback_at", "l.rollback_at", "ts"),
    ("excepted_by", "l.excepted_by", "text"),
    ("exposure_days", "round(l.exposure_days, 2)", "raw"),
    ("source", "l._source", "text"),
    ("line", "l._line", "raw"),
    ("record", "l._rec", "raw"),
]
EXCEPTIONS = [
    ("id", "e.id", "text"),
    ("title", "e.title", "text"),
    ("risk_response", "e.risk_response", "text"),
    ("deviation_type", "e.deviation_type", "text"),
    ("owner", "e.owner", "text"),
    ("approver", "e.approver", "text"),
    ("approved_at", "e.approved_at", "ts"),
    ("expires_at", "e.expires_at", "ts"),
    (
        "state_at_as_of",
        "CASE WHEN e.approved_at IS NULL OR e.approved_at > $as_of THEN 'not approved' "
        "WHEN e.expires_at IS NULL THEN 'no expiry' WHEN e.expires_at <= $as_of THEN 'expired' ELSE 'active' END",
        "text",
    ),
    ("complete", "e.complete", "raw"),
    ("valid", "e.sound", "raw"),
    ("compensating_controls", "e.control_count", "raw"),
    ("control_verified_at", "e.control_verified_at", "ts"),
    ("covered_instances", "(SELECT count(*) FROM a_exc_scope s WHERE s.exception_id = e.id)", "raw"),
    (
        "scope",
        "concat_ws(' | ', 'assets: ' || nullif(array_to_string(e.asset_ids, ';'), ''), "
        "'tags: ' || nullif(array_to_string(e.asset_tags, ';'), ''), "
        "'vulns: ' || nullif(array_to_string(e.vuln_ids, ';'), ''), "
        "'findings: ' || nullif(array_to_string(e.finding_ids, ';'), ''), "
        "'identities: ' || nullif(array_to_string(e.identity_ids, ';'), ''), "
        "'controls: ' || nullif(array_to_string(e.control_ids, ';'), ''))",
        "text",
    ),
    ("justification", "e.justification", "text"),
    ("source", "e._source", "text"),
    ("line", "e._line", "raw"),
]


def _copy(con: duckdb.DuckDBPyConnection, query: str, params: dict[str, object], target: Path | None) -> Payload:
    """COPY the query's rows to CSV: into the file `target` (spooled, for any size) when given, else in memory.

    RFC 4180 (CRLF after every record, the last one too) in UTF-8 with a byte order mark, so that
    spreadsheet programs that guess the encoding (Excel opened by double-click) read non-ASCII names
    right (docs/decisions.md). DuckDB writes the mark itself (PREFIX, which comes before the header),
    so the file is written once, never copied to prepend it; SUFFIX ends the last record."""
    with tempfile.TemporaryDirectory(prefix="exposure-reporter-csv-") as tmp:
        rows = target or Path(tmp) / "out.csv"
        # The path is our own (the run's spool or a temporary one), never evidence; values stay bound parameters.
        con.execute(
            f"COPY ({query}) TO '{rows}' (FORMAT csv, DELIMITER ',', QUOTE '\"', ESCAPE '\"', FORCE_QUOTE *, "
            "NULLSTR '', PREFIX '\ufeff', NEW_LINE '\\r\\n', SUFFIX '\r\n')",
            params,
        )
        return rows if target else rows.read_bytes()


def findings_csv(con: duckdb.DuckDBPyConnection, assessment: Assessment, spool: Path | None = None) -> Payload:
    """Every gap of every control (results.json lists the first ones per control); written into the
    directory `spool` when given (the caller owns it), else returned in memory."""
    con.execute("CREATE OR REPLACE TEMP TABLE a_control_titles (control_id VARCHAR, title VARCHAR)")
    con.executemany(
        "INSERT INTO a_control_titles VALUES (?, ?)", [[c.control_id, c.title] for c in assessment.controls]
    )
    query = (
        f"SELECT {_columns(FINDINGS)} FROM a_gaps g LEFT JOIN a_control_titles c USING (control_id) "
        f"ORDER BY g.control_id, {GAP_ORDER}"  # per control, in the order results.json lists them (riskiest first)
    )
    return _copy(con, query, {}, _in(spool, "findings.csv"))


def findings_min_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """A lower bound of findings.csv's size, from one pass over the gaps that neither sorts nor formats
    them: the byte order mark and the header, then per gap its commas and line end, and each text value
    of the gap itself with its two quotes (neutralising a formula or doubling a quote only adds to it;
    the control's title and the other columns are counted as empty). `report` starts the PDF before
    findings.csv is written when this is already over the attachment cap (D110)."""
    per_row = len(FINDINGS) - 1 + 2  # the commas between the fields and CRLF
    texts = " + ".join(
        f"COALESCE(strlen(({expr})::VARCHAR) + 2, 0)"
        for _, expr, kind in FINDINGS
        if kind == "text" and not expr.startswith("c.")
    )
    row = con.execute(f"SELECT count(*), COALESCE(sum({texts}), 0) FROM a_gaps g").fetchone()
    rows, text_bytes = (int(row[0]), int(row[1])) if row else (0, 0)
    header = sum(len(name) for name, _, _ in FINDINGS) + len(FINDINGS) - 1 + 2
    return len(UTF8_BOM) + header + rows * per_row + text_bytes


def ledger_csv(con: duckdb.DuckDBPyConnection, spool: Path | None = None) -> Payload:
    """The remediation ledger: one row per finding-instance (asset × vulnerability)."""
    # The verification the state rests on: the fix when fixed, else the first result after the last
    # successful deployment (derived from a rescan, or a record of the bundle).
    ledger = "SELECT *, CASE WHEN is_fixed THEN fix_evidence ELSE after_success END AS evidence FROM a_ledger"
    query = (
        f"SELECT {_columns(LEDGER)} FROM ({ledger}) l LEFT JOIN sources vs ON vs.path = l.evidence.src "
        "ORDER BY l.asset_id, l.vuln_id"
    )
    return _copy(con, query, {}, _in(spool, "ledger.csv"))


def exceptions_csv(con: duckdb.DuckDBPyConnection, assessment: Assessment, spool: Path | None = None) -> Payload:
    """The exceptions register with completeness, validity and state at as_of."""
    query = f"SELECT {_columns(EXCEPTIONS)} FROM a_exc e ORDER BY e.id"
    return _copy(con, query, {"as_of": assessment.as_of}, _in(spool, "exceptions.csv"))


def _in(spool: Path | None, name: str) -> Path | None:
    return None if spool is None else spool / name
