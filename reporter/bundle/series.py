"""Scan series: finding records that name their scan (`scan_id`) are sightings. The same finding id
reported by several scans is one finding seen several times, not a duplicate: every sighting is
kept in `finding_sightings`, and `findings` holds one row per id — the latest sighting's fields,
the earliest first detection, and the last sighting as `last_seen_at`. Canonical findings without
a scan keep the usual rule (an id is unique).

Two scans of an asset completed at the same instant that disagree about a vulnerability (one
reports it, the other covers the component and does not) are a warning; the assessment keeps the
vulnerable result (docs/verification.md)."""

from __future__ import annotations

from reporter.bundle.collect import Collector
from reporter.models.issues import Issue, IssueSeverity
from reporter.store.coverage import covers
from reporter.store.sql import Params
from reporter.store.store import EvidenceStore

_SIGHTINGS_COLUMNS = (
    "finding_id VARCHAR, scan_id VARCHAR, asset_id VARCHAR, vuln_id VARCHAR, seen_at TIMESTAMPTZ, "
    "installed_version VARCHAR, fixed_version VARCHAR, state VARCHAR, _source VARCHAR, _rec BIGINT, _line BIGINT"
)

# Every finding row that names a scan, once, with the row it came from (for the fold) and the time
# of its scan (one completion time per scan id; a duplicated scan id is reported by integrity).
_SIGHTED = """
CREATE OR REPLACE TEMP TABLE _sighted AS
SELECT f.rowid AS _rid, f.id AS finding_id, f.scan_id, f.asset_id, f.vuln_id,
    COALESCE(s.completed_at, f.last_seen_at, f.first_detected_at) AS seen_at,
    f.installed_version, f.fixed_version, f.state, f._source, f._rec, f._line, f.first_detected_at
FROM findings f LEFT JOIN (SELECT id, min(completed_at) AS completed_at FROM scans GROUP BY id) s ON s.id = f.scan_id
WHERE f.scan_id IS NOT NULL"""

# Ids seen more than once, every time in a scan, and the row of their latest sighting. An id also
# repeated without a scan stays repeated, for the duplicate-id rule to report.
_LATEST = """
CREATE OR REPLACE TEMP TABLE _latest AS
SELECT finding_id AS id, arg_max(_rid, struct_pack(t := seen_at, s := _source, r := _rec)) AS _rid,
    min(least(first_detected_at, seen_at)) AS first_at, max(seen_at) AS last_at
FROM _sighted GROUP BY finding_id HAVING count(*) > 1"""

_FOLDED = """
CREATE OR REPLACE TEMP TABLE _folded AS
SELECT f.* REPLACE (l.first_at AS first_detected_at, l.last_at AS last_seen_at)
FROM findings f JOIN _latest l ON l.id = f.id AND l._rid = f.rowid"""


def fold_scan_series(store: EvidenceStore, cap: int) -> list[Issue]:
    """Fold sightings into one finding per id, keeping every sighting in `finding_sightings`;
    return the warnings about scans that disagree at the same instant."""
    con = store.con
    con.execute(f"CREATE OR REPLACE TABLE finding_sightings ({_SIGHTINGS_COLUMNS})")
    row = con.execute("SELECT count(*) FROM findings WHERE scan_id IS NOT NULL").fetchone()
    if not row or not row[0]:
        return []
    con.execute(_SIGHTED)
    con.execute("INSERT INTO finding_sightings SELECT * EXCLUDE (_rid, first_detected_at) FROM _sighted")
    con.execute(_LATEST)
    # an id that also appears without a scan is not a series: the duplicate-id rule reports it
    con.execute("DELETE FROM _latest WHERE id IN (SELECT id FROM findings WHERE scan_id IS NULL)")
    folded = con.execute("SELECT count(*) FROM _latest").fetchone()
    if folded and folded[0]:
        con.execute(_FOLDED)
        con.execute("DELETE FROM findings WHERE id IN (SELECT id FROM _latest)")
        con.execute("INSERT INTO findings SELECT * FROM _folded")
        con.execute("DROP TABLE _folded")
    con.execute("DROP TABLE _latest")
    con.execute("DROP TABLE _sighted")
    out = Collector(store, cap)
    _conflicts(out)
    return out.issues


def _conflicts(out: Collector) -> None:
    """A scan covering a series, completed at the instant another scan of the asset reports the same
    vulnerability, that does not report it itself."""
    pairs = out.store.con.execute(
        "SELECT count(*) FROM scans a JOIN scans b ON a.asset_id = b.asset_id AND a.completed_at = b.completed_at "
        "AND a.id <> b.id"
    ).fetchone()
    if not pairs or not pairs[0]:
        return
    sql = f"""
    WITH series AS (
        SELECT x.finding_id, any_value(x.asset_id) AS asset_id, any_value(x.vuln_id) AS vuln_id,
            lower(min(s.tool)) AS tool, any_value(f.scope_keys) AS scope_keys
        FROM finding_sightings x JOIN scans s ON s.id = x.scan_id JOIN findings f ON f.id = x.finding_id
        GROUP BY x.finding_id
    )
    SELECT DISTINCT s2._source, s2._rec, s2._line,
        s2.id || ' of ' || s2.asset_id || ' at ' || strftime(s2.completed_at, '%Y-%m-%dT%H:%M:%SZ')
        || ' does not report ' || seen.vuln_id || ', which ' || seen.scan_id || ' (' || seen._source
        || ') reports at the same time' AS detail
    FROM finding_sightings seen
    JOIN scans s1 ON s1.id = seen.scan_id
    JOIN scans s2 ON s2.asset_id = s1.asset_id AND s2.completed_at = s1.completed_at AND s2.id <> s1.id
    JOIN series y ON y.asset_id = seen.asset_id AND y.vuln_id = seen.vuln_id AND y.finding_id <> seen.finding_id
    WHERE {covers("s2", "y")}
    AND NOT EXISTS (SELECT 1 FROM finding_sightings z WHERE z.scan_id = s2.id AND z.vuln_id = seen.vuln_id)"""
    out.run(
        sql,
        Params(),
        "scan.conflicting-results",
        IssueSeverity.WARNING,
        "",
        "scan {detail}: the evidence disagrees; the assessment keeps the vulnerable result",
    )
