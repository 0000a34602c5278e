"""The headline's counts over the targeted instances come from one left join of the ledger with them
(`_by_state_and_targeted`); each must equal the inner join it stands for, written out here as it was computed
before (one query per count)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.engine import assessed_in_store

from reporter.bundle.interface import LoadedBundle
from reporter.models.results import Assessment

SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"


# larkspur's deployments are linked by inference and its fixes verified by rescans: every count is above zero
@pytest.fixture(scope="module", params=["northwind-2026-q3", "larkspur-2026-q3"])
def assessed(request: pytest.FixtureRequest) -> Iterator[tuple[LoadedBundle, Assessment]]:
    with assessed_in_store(SAMPLES / request.param) as pair:
        yield pair


def _inner(loaded: LoadedBundle, assessment: Assessment, where: str) -> int:
    targeted = (
        "SELECT DISTINCT asset_id, i_vuln FROM a_dep WHERE status = 'succeeded' AND completed_at >= $start "
        "AND completed_at < $as_of"
    )
    sql = (
        f"SELECT count(*) FROM ({targeted}) t JOIN a_ledger l ON l.asset_id = t.asset_id AND l.vuln_id = t.i_vuln "
        f"WHERE {where}"
    )
    assert loaded.manifest is not None
    params = {"start": loaded.manifest.period.start_at, "as_of": assessment.as_of}
    row = loaded.store.con.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def test_the_targeted_counts_equal_their_inner_joins(assessed: tuple[LoadedBundle, Assessment]) -> None:
    loaded, assessment = assessed
    headline = assessment.headline
    removed = _inner(loaded, assessment, "l.is_fixed")
    by_rescan = _inner(loaded, assessment, "l.is_fixed AND l.fix_evidence.derived")
    inferred = _inner(loaded, assessment, "NOT list_contains(l.link_rules, 'named')")
    assert removed > 0  # the sample quarter has verified fixes: a count of zero would prove nothing
    if assessment.bundle.organisation.startswith("Larkspur"):
        assert by_rescan > 0
        assert inferred > 0
    assert (headline.verified_by_rescan, headline.verified_by_record) == (by_rescan, removed - by_rescan)
    assert headline.targeted_by_inference == inferred
    # the per-state split of the same join still sums to the figure
    assert sum(headline.reconciliation["by_state"]["verified_removed"].values()) == removed
