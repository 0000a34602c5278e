"""Audit samples: each control's stored sample (a_sample, drawn by `evaluate`) turned into a typed
`Sample`, every record with its evidence and what the control says of it (docs/report.md, "Audit samples").

A gap belongs to a sampled record when kind and record_id are equal and each of asset_id, vuln_id
and identity_id is NULL on the record or equal to the gap's: a population unit names only the ids
that tell it apart, a gap may name more (the first vulnerability of a deployment, say).
"""

from __future__ import annotations

from typing import Any

import duckdb

from reporter.checks.sampling import METHOD, sample_seed
from reporter.models.policy import SamplingPolicy
from reporter.models.results import Certainty, Sample, SampleRecord, SampleResult

_RECORDS = (
    "SELECT s.kind, s.record_id, s.asset_id, s.vuln_id, s.identity_id, s._source, s._line, s._rec, src.sha256, "
    "s.key, s.rank FROM a_sample s LEFT JOIN sources src ON src.path = s._source "
    "WHERE s.control_id = $c ORDER BY s.rank, s._source, s._rec"
)
_MATCHES = (
    "SELECT s.rank, g.certainty, g.excepted_by IS NOT NULL, g.message FROM a_sample s JOIN a_gaps g "
    "ON g.control_id = s.control_id AND g.kind = s.kind AND g.record_id = s.record_id "
    "AND (s.asset_id IS NULL OR g.asset_id = s.asset_id) AND (s.vuln_id IS NULL OR g.vuln_id = s.vuln_id) "
    "AND (s.identity_id IS NULL OR g.identity_id = s.identity_id) "
    "WHERE s.control_id = $c ORDER BY s.rank, g.message"
)
# When several gaps fall on one record, the strongest finding decides and its message is shown.
_STRENGTH = {SampleResult.DEVIATION: 3, SampleResult.UNDETERMINED: 2, SampleResult.EXCEPTED: 1}


def build_sample(
    con: duckdb.DuckDBPyConnection, control_id: str, population: int, policy: SamplingPolicy, digest: str
) -> Sample:
    """The audit sample of one control, from a_sample and the control's gaps in a_gaps."""
    params = {"c": control_id}
    findings = _findings(con.execute(_MATCHES, params).fetchall())
    records = [_record(row, findings.get(str(row[10]))) for row in con.execute(_RECORDS, params).fetchall()]
    return Sample(
        population=population,
        confidence=policy.confidence,
        tolerable_rate=policy.tolerable_rate,
        size=len(records),
        seed=sample_seed(digest, control_id),
        method=METHOD,
        deviations=sum(r.result is SampleResult.DEVIATION for r in records),
        records=records,
    )


def _findings(rows: list[tuple[Any, ...]]) -> dict[str, tuple[SampleResult, str]]:
    """Per sampled rank: the strongest result among its gaps and that gap's message."""
    out: dict[str, tuple[SampleResult, str]] = {}
    for rank, certainty, excepted, message in rows:
        if excepted:
            result = SampleResult.EXCEPTED
        elif certainty == Certainty.VIOLATION.value:
            result = SampleResult.DEVIATION
        else:
            result = SampleResult.UNDETERMINED
        held = out.get(str(rank))
        if held is None or _STRENGTH[result] > _STRENGTH[held[0]]:
            out[str(rank)] = (result, str(message))
    return out


def _record(row: tuple[Any, ...], finding: tuple[SampleResult, str] | None) -> SampleRecord:
    kind, record_id, asset_id, vuln_id, identity_id, source, line, rec, sha256, key, rank = row
    result, message = finding if finding else (SampleResult.CONFORMS, None)
    return SampleRecord(
        kind=str(kind),
        record_id=str(record_id) if record_id is not None else "",
        asset_id=asset_id,
        vuln_id=vuln_id,
        identity_id=identity_id,
        source=str(source or ""),
        line=line,
        record=rec,
        sha256=sha256,
        key=str(key),
        rank=str(rank),
        result=result,
        message=message,
    )
