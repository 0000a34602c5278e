"""The headline's counts over the targeted instances come from one pass over the ledger, "targeted" a
filter on the row's last successful deployment (`_by_state_and_targeted`, D111); each must equal the
inner join of the ledger with the targeted instances it stands for, written out here as it was computed
before (one query per count)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.bundles import example, minimal_valid
from support.engine import assess_builder, assessed_in_store, replace_kind

from reporter.bundle.interface import LoadedBundle
from reporter.catalog.loader import load_library
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
    targeted = _inner(loaded, assessment, "TRUE")
    removed = _inner(loaded, assessment, "l.is_fixed")
    by_rescan = _inner(loaded, assessment, "l.is_fixed AND l.fix_evidence.derived")
    inferred = _inner(loaded, assessment, "NOT list_contains(l.link_rules, 'named')")
    assert removed > 0  # the sample quarter has verified fixes: a count of zero would prove nothing
    if assessment.bundle.organisation.startswith("Larkspur"):
        assert by_rescan > 0
        assert inferred > 0
    assert (headline.verified_by_rescan, headline.verified_by_record) == (by_rescan, removed - by_rescan)
    assert headline.targeted_by_inference == inferred
    # the per-state split of the same pass still sums to the figure
    assert sum(headline.reconciliation["by_state"]["targeted"].values()) == targeted
    assert sum(headline.reconciliation["by_state"]["verified_removed"].values()) == removed


def test_instances_deployed_only_before_the_period_are_not_targeted(tmp_path: Path) -> None:
    """The filter's other side (D111): an instance whose last successful deployment completed before the
    period is not targeted, one with a success in the period is even if an earlier one came before it,
    and a failed deployment targets nothing."""
    builder = minimal_valid(tmp_path / "b")
    findings = [
        example("findings", id="f-000001", first_detected_at="2026-05-02T03:00:00Z"),
        example(
            "findings",
            id="f-000002",
            asset_id="a-erp-01",
            vuln_id="CVE-2024-3094",
            first_detected_at="2026-05-02T03:00:00Z",
        ),
        example("findings", id="f-000003", asset_id="a-batch-02", vuln_id="CVE-2023-44487"),
    ]
    deployments = [
        example("deployments", started_at="2026-06-20T22:00:00Z", completed_at="2026-06-20T22:14:00Z"),
        example(
            "deployments",
            id="d-000002",
            asset_id="a-erp-01",
            finding_ids=["f-000002"],
            started_at="2026-06-25T22:00:00Z",
            completed_at="2026-06-25T22:14:00Z",
        ),
        example("deployments", id="d-000003", asset_id="a-erp-01", finding_ids=["f-000002"]),
        example("deployments", id="d-000004", asset_id="a-batch-02", finding_ids=["f-000003"], status="failed"),
    ]
    replace_kind(builder, "findings", findings)
    replace_kind(builder, "deployments", deployments)
    headline = assess_builder(builder, load_library()).headline
    targeted = headline.reconciliation["by_state"]["targeted"]
    assert headline.targeted_instances == sum(targeted.values()) == 1
