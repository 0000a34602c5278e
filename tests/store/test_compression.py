"""How the store compresses identifier columns (D115): uncompressed while the evidence is under a
quarter of the memory limit, DuckDB's own choice (dict_fsst) beyond it and when the size is not
known. Only the storage differs: the values read back are the same."""

from __future__ import annotations

import pytest

from reporter.checks.base import GAPS_DDL, gaps_ddl
from reporter.store.store import PLAIN_IDS_SHARE, EvidenceStore

_ROWS = 20_000


def _compressions(evidence_bytes: int | None) -> tuple[dict[str, set[str]], tuple[int, int]]:
    store = EvidenceStore.create(memory_limit="1GB", evidence_bytes=evidence_bytes)
    try:
        con = store.con
        con.execute(gaps_ddl(plain=store.plain_ids))  # the assessment's gaps follow the store (D115)
        gaps = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'a_gaps'").fetchone()
        assert gaps is not None
        assert ("message VARCHAR USING COMPRESSION Uncompressed" in gaps[0]) is store.plain_ids
        con.execute(
            "INSERT INTO findings (id, asset_id, vuln_id, title, severity, _source, _rec) "
            "SELECT 'F-' || lpad(i::VARCHAR, 7, '0'), 'A-' || lpad((i % 500)::VARCHAR, 6, '0'), "
            "'CVE-2026-' || (i % 90 + 1000), 'title ' || (i % 7), 'high', 'findings.csv', i "
            f"FROM range({_ROWS}) t(i)"
        )
        con.execute("CHECKPOINT")
        rows = con.execute(
            "SELECT column_name, compression FROM pragma_storage_info('findings') WHERE segment_type = 'VARCHAR'"
        ).fetchall()
        read = con.execute("SELECT count(DISTINCT id), count(DISTINCT asset_id) FROM findings").fetchone()
    finally:
        store.close()
    found: dict[str, set[str]] = {}
    for column, compression in rows:
        found.setdefault(column, set()).add(compression)
    assert read is not None
    return found, (int(read[0]), int(read[1]))


def test_small_evidence_keeps_its_identifiers_uncompressed() -> None:
    small = int(10**9 * PLAIN_IDS_SHARE) // 2
    found, read = _compressions(small)
    assert found["id"] == {"Uncompressed"}
    assert found["asset_id"] == {"Uncompressed"}
    assert found["vuln_id"] == {"Uncompressed"}
    assert found["severity"] != {"Uncompressed"}  # not an identifier: compressed as before
    assert read == (_ROWS, 500)


@pytest.mark.parametrize("evidence_bytes", [None, 10**9])
def test_large_or_unknown_evidence_lets_duckdb_compress_them(evidence_bytes: int | None) -> None:
    found, read = _compressions(evidence_bytes)
    assert "Uncompressed" not in found["asset_id"]
    assert "Uncompressed" not in found["id"]
    assert read == (_ROWS, 500)


def test_the_gaps_table_is_the_same_but_for_its_storage() -> None:
    assert gaps_ddl(plain=False) == GAPS_DDL
    plain = gaps_ddl(plain=True)
    assert plain.count("USING COMPRESSION uncompressed") == 5
    assert plain.replace(" USING COMPRESSION uncompressed", "") == GAPS_DDL
