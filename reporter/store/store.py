"""The evidence store: one DuckDB table per record kind, typed from the models, plus `sources`
and `bundle` tables, so an auditor can query the evidence with SQL (`--db PATH`)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from reporter.bundle.limits import GIB, MIB, Limits
from reporter.importers.interface import ImportedRecord
from reporter.models.issues import Issue, IssueSeverity
from reporter.models.kinds import KINDS, KindSpec
from reporter.store import documents, staging
from reporter.store.columns import META_COLUMNS, ColumnSpec, columns_of
from reporter.store.compression import plain_clause
from reporter.store.csvlines import with_csv_lines
from reporter.store.messages import hit_issues
from reporter.store.rules import RuleHit, stored_expression, validation_query
from reporter.store.sql import Params, ident


@dataclass(frozen=True)
class LoadResult:
    """What loading one file (or one importer's output for one kind) produced."""

    records: int
    issues: list[Issue]


# The default limit's ceiling (D95): a third gigabyte bought no speed beyond noise at three million findings
# and about 11 % at ten million, for a gigabyte more of the process's peak.
MAX_DEFAULT_GB = 2


def default_memory_limit() -> str:
    """The evidence store's default memory limit, following the machine: an eighth of its memory
    (the smaller of physical memory and the cgroup's limit), at least 1 GB and at most
    MAX_DEFAULT_GB (docs/performance.md, D95). Beyond it DuckDB spills to the run's temporary directory."""
    total = _machine_memory()
    if total is None:
        return "1GB"
    return f"{min(max(total // 8 // 10**9, 1), MAX_DEFAULT_GB)}GB"


def _machine_memory() -> int | None:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system that reports it
        return None
    try:  # a container's own limit (cgroup v2), when it is lower than the machine's memory
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return total
    return min(total, int(text)) if text.isdigit() else total


# The units DuckDB reports a memory setting in (current_setting('memory_limit') gives '1.8 GiB').
_UNITS = {"bytes": 1, "KiB": 1024, "MiB": MIB, "GiB": GIB, "TiB": 1024 * GIB, "PiB": 1024**2 * GIB}

# Evidence under this share of the memory limit makes a small store (D117: half; 966 MB with the 2 GB
# default, which DuckDB reports as 1.8 GiB; three million findings of the benchmark, not ten). A small
# store keeps its identifiers uncompressed (D115, D116), computes two metrics at a time (D116) and
# gives the PDF renderer one of DuckDB's threads (D118).
SMALL_SHARE = 0.5

# The write-ahead log size at which DuckDB checkpoints the store (D91).
CHECKPOINT_THRESHOLD = "256MiB"

# The rows of a row group in a store whose evidence is under SMALL_ROWS_SHARE of its memory limit (D120),
# against DuckDB's 122,880: DuckDB splits a scan among its threads by row group, so a table of 100,000
# rows was read on one thread of two. A quarter is 483 MB with the 2 GB default: the benchmark's million
# findings are under it, its three million are not (there the small row groups gained no time and
# raised the run's peak by 100 to 170 MB).
SMALL_ROW_GROUP = 16_384
SMALL_ROWS_SHARE = 0.25

# The name the store's database file is attached under, and every connection's default database (D120).
STORE_CATALOG = "evidence"

# The store's settings that DuckDB keeps per connection; the others (memory limit, threads, spill
# directory, checkpoint threshold, insertion order) belong to the database and every connection shares them.
_SESSION_SETTINGS = ("SET TimeZone = 'UTC'", f"USE {STORE_CATALOG}")


def _under(evidence_bytes: int | None, limit: int | None, share: float) -> bool:
    """Whether evidence of `evidence_bytes` is under `share` of the memory limit (False when either is unknown)."""
    return evidence_bytes is not None and limit is not None and evidence_bytes < limit * share


def _reported_bytes(con: duckdb.DuckDBPyConnection) -> int | None:
    """The memory limit in bytes as DuckDB reports it (to a tenth of its unit); None when it reports
    no figure in a unit we know."""
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    number, _, unit = str(row[0] if row else "").partition(" ")
    try:
        return int(float(number) * _UNITS[unit])
    except (KeyError, ValueError):
        return None


def session(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Another connection to the store that `con` is connected to, with the store's per-connection
    settings, for work run side by side (`store.parallel`). The caller closes it."""
    other = con.cursor()
    try:
        for setting in _SESSION_SETTINGS:
            other.execute(setting)
    except BaseException:
        other.close()
        raise
    return other


def duckdb_threads(con: duckdb.DuckDBPyConnection) -> int:
    """The threads of the DuckDB database `con` is connected to (a setting of the database, which
    every connection shares): by default one per core of the machine."""
    row = con.execute("SELECT current_setting('threads')").fetchone()
    return max(1, int(row[0])) if row else 1


def _storage(column: ColumnSpec, small: bool) -> str:
    """The column's storage clause: identifiers (`id`, `*_id(s)`, `*_ref(s)`) of evidence that is
    small against the memory limit are kept uncompressed. DuckDB's dict_fsst compression of these
    mostly distinct strings costs about 0.6 s of a million findings' 5 s load, for memory that a store
    of that size does not need; at ten million findings it keeps the peak down (D115, D117)."""
    return plain_clause(column.name, text=column.scalar in ("string", "list")) if small else ""


_SOURCES_DDL = """
CREATE TABLE sources (
    path VARCHAR PRIMARY KEY, kinds VARCHAR[], format VARCHAR, tool VARCHAR,
    collected_at TIMESTAMPTZ, sha256 VARCHAR, sha256_declared VARCHAR, bytes BIGINT,
    records BIGINT, description VARCHAR
)"""
_BUNDLE_DDL = """
CREATE TABLE bundle (
    organisation VARCHAR, scope VARCHAR, period_start DATE, period_end DATE,
    period_end_at TIMESTAMPTZ, prepared_by VARCHAR, classification VARCHAR, digest VARCHAR
)"""


class EvidenceStore:
    """Owns the DuckDB connection. Evidence values only ever travel as bound parameters."""

    def __init__(self, con: duckdb.DuckDBPyConnection, spill: tempfile.TemporaryDirectory[str] | None = None) -> None:
        self.con = con
        self._spill = spill
        self._limit: int | None = None  # the memory limit in bytes as make_room or take_back last set it
        self._lent = 0  # bytes make_room lowered the limit by, not taken back
        self._threads_lent = 0  # DuckDB threads make_room gave up, not taken back (D118)
        self.small = False  # evidence under SMALL_SHARE of the memory limit (D117): set by `create`

    @classmethod
    def create(
        cls, database: Path | None = None, *, memory_limit: str | None = None, evidence_bytes: int | None = None
    ) -> EvidenceStore:
        """A new store (a database file in a private temporary directory, or at `database`) with
        every kind's table. With `evidence_bytes` under SMALL_SHARE of the memory limit the store is
        small, and the tables' identifier columns are stored uncompressed (D115, D117); under
        SMALL_ROWS_SHARE its row groups hold SMALL_ROW_GROUP rows (D120).

        DuckDB spills to disk beyond its memory limit (default: `default_memory_limit()`, an
        eighth of the machine's memory, 1 GB to MAX_DEFAULT_GB); the spill directory is a private
        temporary directory, never the current directory (DuckDB's default for an in-memory database)."""
        spill = tempfile.TemporaryDirectory(prefix="exposure-reporter-store-")
        # Without --db the store is still a database file, in the private directory: DuckDB
        # compresses what it writes to a file (the evidence and the derived tables, about a fifth of
        # their plain size on the benchmark bundle) and drops cached blocks instead of spilling them,
        # so ten million findings fit the memory limit (docs/performance.md). The file is attached
        # to a connection of its own, because a row group's size is an option of ATTACH (D120); only
        # the runtime's catalog is in memory, and nothing is written there.
        con = duckdb.connect()
        try:
            con.execute("SET preserve_insertion_order = true")
            con.execute("SET temp_directory = $d", {"d": spill.name})
            con.execute("SET memory_limit = $m", {"m": memory_limit or default_memory_limit()})
            limit = _reported_bytes(con)
            small = _under(evidence_bytes, limit, SMALL_SHARE)
            rows = f" (ROW_GROUP_SIZE {SMALL_ROW_GROUP})" if _under(evidence_bytes, limit, SMALL_ROWS_SHARE) else ""
            path = str(database or Path(spill.name) / "evidence.duckdb")
            con.execute(f"ATTACH $path AS {STORE_CATALOG}{rows}", {"path": path})
            for setting in _SESSION_SETTINGS:
                con.execute(setting)
            # Checkpoint when the write-ahead log reaches 256 MiB, not DuckDB's 16 MiB: each checkpoint
            # compresses the rows appended since the last one again with the partly filled row group
            # they went into, and the checks append their gaps a few thousand rows at a time (D91).
            con.execute("SET checkpoint_threshold = $t", {"t": CHECKPOINT_THRESHOLD})
            if database is None:
                # the file is removed with the private directory: closing it need not checkpoint it
                con.execute("PRAGMA disable_checkpoint_on_shutdown")
        except BaseException:
            con.close()
            spill.cleanup()
            raise
        store = cls(con, spill)
        store.small = small
        store._create_schema()
        return store

    def memory_limit(self) -> int | None:
        """The store's memory limit in bytes, as DuckDB reports it (`_reported_bytes`)."""
        return _reported_bytes(self.con)

    def make_room(self, elsewhere: int, threads: int = 0) -> int | None:
        """Lower the memory limit by `elsewhere` bytes, which another process of the run needs (the
        PDF renderer), but never below half of it; return the new limit. DuckDB gives back what it
        holds beyond the new limit at once, and spills from then on (D97). When it cannot free
        enough, the limit stays as it was: this only keeps the run's processes together smaller.
        `threads`: the cores that process keeps busy. A small store (SMALL_SHARE) gives up as
        many of DuckDB's threads, never its last, so that the process does not share its core with
        the store's exports (D118). A larger store keeps them: its exports outlast the renderer (ten
        million findings: about 70 s of exports beside a PDF of 25 s), and a query begun on fewer
        threads keeps to them after the renderer has exited."""
        if self.small:
            self._lend_threads(threads)
        limit = self._limit_bytes()
        if limit is None or elsewhere <= 0:
            return limit
        lowered = max(limit - elsewhere, limit // 2)
        try:
            self._set_limit(lowered)
        except duckdb.OutOfMemoryException:
            return limit
        self._lent += limit - lowered
        return lowered

    def take_back(self, share: float) -> int | None:
        """Raise the memory limit again by `share` of the room `make_room` made, once the process it
        was made for has exited (D114); the rest stays lent. The threads it gave up come back, all of
        them (D118). Return the new limit."""
        self.return_threads()
        limit, amount = self._limit_bytes(), int(self._lent * share)
        if limit is None or amount <= 0:
            return limit
        self._set_limit(limit + amount)
        self._lent = 0
        return limit + amount

    def return_threads(self) -> None:
        """Take back every DuckDB thread `make_room` gave up (D118), whether or not the process it gave
        them to has exited: for work that would outlast it."""
        if self._threads_lent:
            self._set_threads(self.threads() + self._threads_lent)
            self._threads_lent = 0

    def threads(self) -> int:
        """DuckDB's threads: by default one per core of the machine."""
        return duckdb_threads(self.con)

    def _lend_threads(self, wanted: int) -> None:
        if wanted <= 0:
            return
        current = self.threads()
        lowered = max(1, current - wanted)
        if lowered < current:
            self._set_threads(lowered)
            self._threads_lent += current - lowered

    def _set_threads(self, threads: int) -> None:
        self.con.execute(f"SET threads = {int(threads)}")

    def _limit_bytes(self) -> int | None:
        """The memory limit in bytes: as this store last set it, else as DuckDB reports it (to a
        tenth of its unit, which would lose up to 50 MiB each time the limit moves)."""
        return self._limit if self._limit is not None else self.memory_limit()

    def _set_limit(self, limit: int) -> None:
        self.con.execute("SET memory_limit = $m", {"m": f"{limit}B"})
        self._limit = limit

    def compact(self) -> None:
        """Write what has been loaded to the database file, compressed (DuckDB's CHECKPOINT):
        called after the bulk loads, so the cross-file passes read compressed blocks."""
        self.con.execute("CHECKPOINT")

    def close(self) -> None:
        """Close the connection (flushes a file database) and remove the private directory: the
        temporary database file and spilled data. The temporary file is not checkpointed first
        (`create` turns that off): it is removed with the directory (D91)."""
        self.con.close()
        if self._spill is not None:
            self._spill.cleanup()
            self._spill = None

    def _create_schema(self) -> None:
        for spec in KINDS.values():
            cols = [f"{ident(c.name)} {c.duck_type}{_storage(c, self.small)}" for c in columns_of(spec.model)]
            cols += [f"{ident(name)} {kind}" for name, kind in META_COLUMNS]
            self.con.execute(f"CREATE TABLE {ident(spec.name)} ({', '.join(cols)})")
        self.con.execute(_SOURCES_DDL)
        self.con.execute(_BUNDLE_DDL)

    # --- loading -------------------------------------------------------------------------------

    def load_file(
        self,
        spec: KindSpec,
        path: Path,
        rel: str,
        fmt: str,
        limits: Limits,
        lines: Callable[[], int | None] | None = None,
    ) -> LoadResult:
        """Load one canonical evidence file of one kind; return its record count and issues. `lines`
        gives the file's line count when something else has counted them (the prescan)."""
        if spec.validation == "document":
            raws = documents.read_raw(self.con, path, rel, fmt, columns_of(spec.model), limits)
            return self._load_documents(spec, raws, rel)
        columns = columns_of(spec.model)
        if fmt == "csv":
            staged = staging.stage_csv(self.con, path, rel, columns, limits, lines)
        elif fmt == "jsonl":
            staged = staging.stage_jsonl(self.con, path, rel, limits)
        elif fmt == "json":
            staged = staging.stage_json_array(self.con, path, rel)
        elif fmt == "yaml":
            staged = staging.stage_yaml(self.con, path, rel, limits)
        else:
            staged = staging.stage_parquet(self.con, path, rel)
        issues = [
            Issue(
                code="record.unknown-field",
                severity=IssueSeverity.ERROR,
                file=rel,
                line=1,
                field=name[:80],
                message="unknown column (see `exposure-reporter schema`)",
            )
            for name in staged.unknown
        ]
        issues += self._validate_and_insert(spec, rel, json_shape=staged.shape == "json", limits=limits)
        staging.drop_staging(self.con)
        if fmt == "csv":
            issues = with_csv_lines(path, issues)
        return LoadResult(staged.records, issues)

    def load_imported(self, spec: KindSpec, records: list[ImportedRecord], rel: str, limits: Limits) -> LoadResult:
        """Load the records an importer produced for one kind from one native file."""
        if spec.validation == "document":
            raws = [documents.RawRecord(r.data, i, None) for i, r in enumerate(records, start=1)]
            return self._load_documents(spec, raws, rel)
        docs = [json.dumps(r.data, default=str) for r in records]
        staging.stage_documents(self.con, docs, [None] * len(docs), [r.location or None for r in records])
        issues = self._validate_and_insert(spec, rel, json_shape=True, limits=limits)
        staging.drop_staging(self.con)
        return LoadResult(len(records), issues)

    def _validate_and_insert(self, spec: KindSpec, rel: str, *, json_shape: bool, limits: Limits) -> list[Issue]:
        columns = columns_of(spec.model)
        if json_shape:
            staging.extract_json_fields(self.con, columns)
        params = Params()
        query = validation_query(columns, json_shape, limits.max_issues_per_group, params)
        hits = [RuleHit(*row) for row in self.con.execute(query, params.values).fetchall()]
        self._insert_typed(spec, rel, json_shape)
        return hit_issues(hits, columns, rel, limits.max_issues_per_group)

    def _insert_typed(self, spec: KindSpec, rel: str, json_shape: bool) -> None:
        params = Params()
        exprs = ", ".join(stored_expression(c, params) for c in columns_of(spec.model))
        where = "WHERE _doc = 'OBJECT'" if json_shape else ""
        sql = (
            f"INSERT INTO {ident(spec.name)} SELECT {exprs}, {params.add(rel)} AS _source, _rec, _line "
            f"FROM {staging.STAGING} {where}"
        )
        self.con.execute(sql, params.values)

    def _load_documents(self, spec: KindSpec, raws: list[documents.RawRecord], rel: str) -> LoadResult:
        valid, issues = documents.validate_documents(spec.model, raws, rel)
        if valid:
            staging.stage_documents(
                self.con,
                [model.model_dump_json() for model, _ in valid],
                [raw.line for _, raw in valid],
                [None] * len(valid),
                records=[raw.record for _, raw in valid],
            )
            staging.extract_json_fields(self.con, columns_of(spec.model))
            self._insert_typed(spec, rel, json_shape=True)
            staging.drop_staging(self.con)
        return LoadResult(len(raws), issues)

    # --- metadata ------------------------------------------------------------------------------

    def add_source(self, row: dict[str, Any]) -> None:
        """Record one evidence file in the `sources` table."""
        params = Params()
        names = (
            "path",
            "kinds",
            "format",
            "tool",
            "collected_at",
            "sha256",
            "sha256_declared",
            "bytes",
            "records",
            "description",
        )
        values = ", ".join(params.add(row.get(n)) for n in names)
        self.con.execute(f"INSERT INTO sources VALUES ({values})", params.values)

    def set_bundle(self, row: dict[str, Any]) -> None:
        """Record the manifest's metadata in the `bundle` table."""
        params = Params()
        names = (
            "organisation",
            "scope",
            "period_start",
            "period_end",
            "period_end_at",
            "prepared_by",
            "classification",
            "digest",
        )
        values = ", ".join(params.add(row.get(n)) for n in names)
        self.con.execute("DELETE FROM bundle")
        self.con.execute(f"INSERT INTO bundle VALUES ({values})", params.values)

    def count(self, kind: str) -> int:
        """Rows of one kind's table."""
        row = self.con.execute(f"SELECT count(*) FROM {ident(kind)}").fetchone()
        return int(row[0]) if row else 0
