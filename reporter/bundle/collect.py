"""Turning set-based rule queries over the evidence store into capped, located issues."""

from __future__ import annotations

from reporter.models.issues import Issue, IssueSeverity
from reporter.store.sql import Params
from reporter.store.store import EvidenceStore


class Collector:
    """Turns query rows into capped issues: the first N of each (code, file, field)."""

    def __init__(self, store: EvidenceStore, cap: int) -> None:
        self.store, self.cap = store, cap
        self.issues: list[Issue] = []

    def run(self, sql: str, params: Params, code: str, severity: IssueSeverity, field: str, message: str) -> None:
        """`sql` selects (_source, _rec, _line, detail); `message` formats {detail}."""
        wrapped = (
            f"SELECT _source, _rec, _line, detail, count(*) OVER (PARTITION BY _source) AS total "
            f"FROM ({sql}) QUALIFY row_number() OVER (PARTITION BY _source ORDER BY _rec) <= {int(self.cap)} "
            f"ORDER BY _source, _rec"
        )
        summarised: set[str] = set()
        for source, rec, line, detail, total in self.store.con.execute(wrapped, params.values).fetchall():
            self.issues.append(
                Issue(
                    code=code,
                    severity=severity,
                    file=source,
                    record=rec,
                    line=line,
                    field=field or None,
                    message=message.format(detail=detail),
                )
            )
            if total > self.cap and source not in summarised:
                summarised.add(source)
                self.issues.append(
                    Issue(
                        code=code,
                        severity=severity,
                        file=source,
                        field=field or None,
                        more=total - self.cap,
                        message=f"{total - self.cap} more records with this problem (first {self.cap} listed)",
                    )
                )
