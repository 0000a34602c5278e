"""Turning set-based rule queries over the evidence store into capped, located issues."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from reporter.models.issues import Issue, IssueSeverity
from reporter.store.parallel import in_order
from reporter.store.sql import Params
from reporter.store.store import EvidenceStore


@dataclass(frozen=True)
class _Rule:
    sql: str
    params: Params
    code: str
    severity: IssueSeverity
    field: str | None  # None: the query gives each row's kind and field (`run_fields`)
    message: str


class Collector:
    """Turns query rows into capped issues: the first N of each (code, file, field). A deferred
    collector only queues its rules; `finish` runs them side by side (they must only read)."""

    def __init__(self, store: EvidenceStore, cap: int, *, deferred: bool = False) -> None:
        self.store, self.cap = store, cap
        self.issues: list[Issue] = []
        self._deferred: list[_Rule] | None = [] if deferred else None

    def run(self, sql: str, params: Params, code: str, severity: IssueSeverity, field: str, message: str) -> None:
        """`sql` selects (_source, _rec, _line, detail); `message` formats {detail}. The first `cap`
        issues of each file are listed, the rest counted."""
        self._add(_Rule(sql, params, code, severity, field, message))

    def run_fields(self, sql: str, params: Params, code: str, severity: IssueSeverity, message: str) -> None:
        """One query for fields of several kinds (D115): `sql` selects (_source, _rec, _line, _kind,
        _field, detail), and each file's kind and field is capped as its own `run` would be."""
        self._add(_Rule(sql, params, code, severity, None, message))

    def _add(self, rule: _Rule) -> None:
        if self._deferred is not None:
            self._deferred.append(rule)
        else:
            self.issues += self._issues(self.store.con, rule)

    def finish(self, workers: int) -> list[Issue]:
        """Run the queued rules, `workers` side by side; every issue, in the order the rules were given."""
        if self._deferred:
            for found in in_order(self.store.con, self._deferred, self._issues, workers):
                self.issues += found
            self._deferred = []
        return self.issues

    def _issues(self, con: duckdb.DuckDBPyConnection, rule: _Rule) -> list[Issue]:
        several = rule.field is None
        columns = "_kind, _field" if several else "NULL AS _kind, NULL::VARCHAR AS _field"
        group = "_source, _kind, _field" if several else "_source"
        # detail breaks ties: a record with several bad references keeps the same ones at the cap
        wrapped = (
            f"SELECT _source, _rec, _line, detail, {columns}, "
            f"count(*) OVER (PARTITION BY {group}) AS total FROM ({rule.sql}) "
            f"QUALIFY row_number() OVER (PARTITION BY {group} ORDER BY _rec, detail) <= {int(self.cap)} "
            f"ORDER BY {group}, _rec, detail"
        )
        issues: list[Issue] = []
        summarised: set[tuple[str, str | None, str | None]] = set()
        for source, rec, line, detail, kind, named, total in con.execute(wrapped, rule.params.values).fetchall():
            field: str | None = (named if several else rule.field) or None
            issues.append(
                Issue(
                    code=rule.code,
                    severity=rule.severity,
                    file=source,
                    record=rec,
                    line=line,
                    field=field,
                    message=rule.message.format(detail=detail),
                )
            )
            if total > self.cap and (source, kind, field) not in summarised:
                summarised.add((source, kind, field))
                issues.append(
                    Issue(
                        code=rule.code,
                        severity=rule.severity,
                        file=source,
                        field=field,
                        more=total - self.cap,
                        message=f"{total - self.cap} more records with this problem (first {self.cap} listed)",
                    )
                )
        return issues
