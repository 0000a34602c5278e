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
    field: str
    message: str


class Collector:
    """Turns query rows into capped issues: the first N of each (code, file, field). A deferred
    collector only queues its rules; `finish` runs them side by side (they must only read)."""

    def __init__(self, store: EvidenceStore, cap: int, *, deferred: bool = False) -> None:
        self.store, self.cap = store, cap
        self.issues: list[Issue] = []
        self._deferred: list[_Rule] | None = [] if deferred else None

    def run(self, sql: str, params: Params, code: str, severity: IssueSeverity, field: str, message: str) -> None:
        """`sql` selects (_source, _rec, _line, detail); `message` formats {detail}."""
        rule = _Rule(sql, params, code, severity, field, message)
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
        wrapped = (
            f"SELECT _source, _rec, _line, detail, count(*) OVER (PARTITION BY _source) AS total "
            f"FROM ({rule.sql}) QUALIFY row_number() OVER (PARTITION BY _source ORDER BY _rec) <= {int(self.cap)} "
            f"ORDER BY _source, _rec"
        )
        issues: list[Issue] = []
        summarised: set[str] = set()
        for source, rec, line, detail, total in con.execute(wrapped, rule.params.values).fetchall():
            issues.append(
                Issue(
                    code=rule.code,
                    severity=rule.severity,
                    file=source,
                    record=rec,
                    line=line,
                    field=rule.field or None,
                    message=rule.message.format(detail=detail),
                )
            )
            if total > self.cap and source not in summarised:
                summarised.add(source)
                issues.append(
                    Issue(
                        code=rule.code,
                        severity=rule.severity,
                        file=source,
                        field=rule.field or None,
                        more=total - self.cap,
                        message=f"{total - self.cap} more records with this problem (first {self.cap} listed)",
                    )
                )
        return issues
