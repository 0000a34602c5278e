"""EXC checks and the X metrics on one small inline estate (as_of 2026-10-01): every exception below
is clean for every EXC control except the one situation its id names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.bundles import example, minimal_valid
from support.engine import assess_builder, control, gap_messages, metric, replace_kind

from reporter.catalog.library import Library
from reporter.models.results import Assessment
from reporter.models.status import Status

CONTROL_VERIFIED = "2026-09-20T00:00:00Z"


def _finding(fid: str, asset: str, vuln: str, **changes: Any) -> dict[str, Any]:
    return example(
        "findings",
        id=fid,
        asset_id=asset,
        vuln_id=vuln,
        state="open",
        closed_at=None,
        first_detected_at="2026-06-01T00:00:00Z",
        last_seen_at="2026-09-28T00:00:00Z",
        **changes,
    )


def _exception(eid: str, asset: str | None, vuln: str, **changes: Any) -> dict[str, Any]:
    control = {"description": "Reachable only from the jump host", "verified_at": CONTROL_VERIFIED}
    record = {
        "title": eid,
        "asset_ids": [asset] if asset else [],
        "vuln_ids": [vuln],
        "approved_at": "2026-07-20T00:00:00Z",
        "expires_at": "2026-10-15T00:00:00Z",
        "compensating_controls": [control],
        **changes,
    }
    return example("exceptions", id=eid, **record)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory, library: Library) -> Assessment:
    builder = minimal_valid(tmp_path_factory.mktemp("estate"))
    kev = {"kev": True, "kev_date_added": "2026-06-01", "kev_due_date": "2026-06-22"}
    replace_kind(
        builder,
        "findings",
        [
            example("findings"),  # fixed and verified: the expired example exception leaves nothing open
            _finding("f-1", "a-erp-01", "CVE-2024-5535"),  # overdue; its exception expired
            _finding("f-2", "a-batch-02", "CVE-2024-5536"),  # overdue; covered by valid exceptions
            _finding("f-3", "a-erp-01", "CVE-2024-3400", **kev),
            _finding("f-4", "a-batch-02", "CVE-2024-3401", **kev),
        ],
    )
    # The example rollback would re-open the example finding; a failed rollout leaves its fix in place.
    replace_kind(builder, "rollout_events", [example("rollout_events", type="failed_rollout")])
    replace_kind(
        builder,
        "exceptions",
        [
            example("exceptions", vuln_ids=["CVE-2024-6387"], asset_ids=["a-web-01"]),  # expired 2026-09-15
            _exception(
                "X-EXPIRED",
                "a-erp-01",
                "CVE-2024-5535",
                approved_at="2026-06-15T00:00:00Z",
                expires_at="2026-09-01T00:00:00Z",
            ),
            _exception("X-VALID", "a-batch-02", "CVE-2024-5536"),
            _exception(
                "X-KEV-STALE",
                "a-erp-01",
                "CVE-2024-3400",
                compensating_controls=[{"description": "WAF rule", "verified_at": "2026-06-03T00:00:00Z"}],
            ),
            _exception("X-KEV-FRESH", "a-batch-02", "CVE-2024-3401"),
            _exception("X-NO-OWNER", "a-batch-02", "CVE-2024-5536", owner=None),
            _exception("X-NO-CONTROL", "a-batch-02", "CVE-2024-5536", compensating_controls=[]),
            _exception("X-NO-EXPIRY", "a-batch-02", "CVE-2024-5536", expires_at=None),
            _exception("X-LONG", "a-batch-02", "CVE-2024-5536", expires_at="2027-02-05T00:00:00Z"),  # 200 days
            _exception("X-TAG", None, "CVE-2024-5536", asset_tags=["nope"]),  # matches no asset
            _exception("X-ALL", None, "CVE-2024-5536"),  # no asset criterion: every asset
        ],
        "yaml",
    )
    return assess_builder(builder, library)


def test_expired_exception_leaving_an_open_finding_is_flagged(estate: Assessment) -> None:
    messages = gap_messages(estate, "EXC-02")
    assert set(messages) == {"X-EXPIRED"}  # EXC-2026-014 expired too, but its finding was fixed and verified
    assert "expired 2026-09-01, 30 days before as_of; still open: CVE-2024-5535 on a-erp-01" in messages["X-EXPIRED"]
    assert control(estate, "EXC-02").population == 2


def test_expired_exception_reverts_the_finding_to_the_backlog_immediately(estate: Assessment) -> None:
    excepted = {g.record_id: g.excepted_by for g in control(estate, "PRI-04").gaps}
    assert excepted["f-1"] is None  # X-EXPIRED no longer covers it
    assert excepted["f-2"] is not None  # X-VALID (and others) still in force: the gap stays listed, excepted


def test_exception_without_owner_or_compensating_control_is_incomplete(estate: Assessment) -> None:
    messages = gap_messages(estate, "EXC-01")
    assert set(messages) == {"X-NO-OWNER", "X-NO-CONTROL", "X-NO-EXPIRY"}  # expired ones are not active
    assert messages["X-NO-OWNER"].endswith("has no owner")
    assert "mitigate but no compensating control" in messages["X-NO-CONTROL"]
    assert control(estate, "EXC-01").status is Status.FAIL


def test_urgent_exception_needs_a_recently_verified_control(estate: Assessment) -> None:
    messages = gap_messages(estate, "EXC-03")
    assert set(messages) == {"X-KEV-STALE"}  # X-KEV-FRESH's control was verified 11 days before as_of
    assert "CVE-2024-3400 on a-erp-01 (KEV)" in messages["X-KEV-STALE"]
    assert "last verified 2026-06-03, 120 days before as_of (limit 90 days)" in messages["X-KEV-STALE"]


def test_exceptions_are_time_boxed(estate: Assessment) -> None:
    messages = gap_messages(estate, "EXC-04")
    assert set(messages) == {"X-NO-EXPIRY", "X-LONG"}
    assert "has no expiry date" in messages["X-NO-EXPIRY"]
    assert "200 days (limit 92 days)" in messages["X-LONG"]


def test_exception_scope_is_specific_and_matches_evidence(estate: Assessment) -> None:
    messages = gap_messages(estate, "EXC-05")
    assert set(messages) == {"X-TAG", "X-ALL"}
    assert "matches no inventory asset" in messages["X-TAG"]
    assert "(CVE-2024-5536) are not limited to assets or tags: it covers them on every asset" in messages["X-ALL"]


def test_stale_compensating_control_excepts_nothing(estate: Assessment) -> None:
    """X-KEV-STALE fails EXC-03 (control verified 120 days ago): it is not sound and leaves the KEV
    finding in the backlog; X-KEV-FRESH still covers its own (item 15)."""
    excepted = {g.record_id: g.excepted_by for g in control(estate, "PRI-04").gaps}
    assert excepted["f-3"] is None
    assert excepted["f-4"] == "X-KEV-FRESH"
    assert {e.id: e.valid for e in estate.exceptions}["X-KEV-STALE"] is False


def test_scopes_of_findings_identities_or_controls_need_no_asset(tmp_path: Path, library: Library) -> None:
    """EXC-05 flagged every exception without assets as covering every asset (item 11)."""
    builder = minimal_valid(tmp_path)
    replace_kind(builder, "findings", [example("findings"), _finding("f-2", "a-batch-02", "CVE-2024-5536")])
    by_finding = _exception("X-FINDING", None, "CVE-2024-5536", vuln_ids=[], finding_ids=["f-2"])
    by_identity = _exception("X-IDENTITY", None, "CVE-2024-5536", vuln_ids=[], identity_ids=["nhi-0042"])
    by_control = _exception("X-CONTROL", None, "CVE-2024-5536", vuln_ids=[], control_ids=["DEP-02"])
    ghost_finding = _exception("X-GHOST", None, "CVE-2024-5536", vuln_ids=[], finding_ids=["f-000001"])
    on_nothing = _exception("X-NOTHING", None, "CVE-2024-5536", vuln_ids=[])
    replace_kind(builder, "exceptions", [by_finding, by_identity, by_control, ghost_finding, on_nothing], "yaml")
    messages = gap_messages(assess_builder(builder, library), "EXC-05")
    assert set(messages) == {"X-NOTHING"}
    nothing = "names nothing it covers (no asset, tag, vulnerability, finding, identity or control)"
    assert messages["X-NOTHING"].endswith(nothing)


def test_inline_controls_are_evidence_without_a_compensating_controls_file(tmp_path: Path, library: Library) -> None:
    """An accepted KEV finding on an internet-facing host with no control named fails EXC-03, though
    the bundle has no compensating_controls file (item 10)."""
    builder = minimal_valid(tmp_path)
    builder.sources = [s for s in builder.sources if s.get("kind") != "compensating_controls"]
    kev = {"kev": True, "kev_date_added": "2026-06-01", "kev_due_date": "2026-06-22"}
    replace_kind(builder, "findings", [example("findings"), _finding("f-9", "a-web-01", "CVE-2024-3400", **kev)])
    bare = _exception("X-BARE", "a-web-01", "CVE-2024-3400", risk_response="accept", compensating_controls=[])
    inline = _exception("X-INLINE", "a-web-01", "CVE-2024-3400")
    replace_kind(builder, "exceptions", [bare, inline], "yaml")
    result = assess_builder(builder, library)
    exc03 = control(result, "EXC-03")
    assert exc03.status is Status.FAIL
    assert set(gap_messages(result, "EXC-03")) == {"X-BARE"}
    assert "names no compensating control" in gap_messages(result, "EXC-03")["X-BARE"]
    assert metric(result, "X3").measurable
    assert _measured(result, "X3")[2] == 1
    assert _measured(result, "X6")[:2] == (1, 1)  # X-INLINE's inline control, verified 11 days before as_of
    assert "compensating_controls" not in {g.record_id for g in control(result, "EVD-01").gaps}


def _measured(result: Assessment, metric_id: str) -> tuple[int | None, int | None, float | None]:
    measure = metric(result, metric_id).measure
    assert measure is not None, metric_id
    return measure.numerator, measure.denominator, measure.value


def test_exception_metrics(estate: Assessment) -> None:
    assert _measured(estate, "X1")[:2] == (6, 9)  # active: not expired; three incomplete
    assert _measured(estate, "X2")[2] == 1
    assert metric(estate, "X2").breakdown["expired_exceptions"] == ["X-EXPIRED"]
    assert _measured(estate, "X3")[2] == 0  # both urgent exceptions have a verified control
    assert _measured(estate, "X6")[:2] == (7, 8)  # X-KEV-STALE's control is 120 days old
    x5 = metric(estate, "X5").breakdown
    assert (x5["longer_than_limit"], x5["without_expiry"]) == (1, 1)


def test_exceptions_never_cover_exception_controls(estate: Assessment) -> None:
    for control_id in ("EXC-01", "EXC-02", "EXC-03", "EXC-04", "EXC-05"):
        assert control(estate, control_id).gaps_excepted == 0


def test_no_exceptions_kind_is_insufficient_evidence(tmp_path: Path, library: Library) -> None:
    builder = minimal_valid(tmp_path)
    builder.sources = [s for s in builder.sources if s.get("kind") != "exceptions"]
    result = assess_builder(builder, library)
    assert {control(result, f"EXC-0{n}").status for n in range(1, 6)} == {Status.INSUFFICIENT_EVIDENCE}
    assert not metric(result, "X1").measurable
