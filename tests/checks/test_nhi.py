"""NHI checks on small inline bundles: the edge cases of metrics.md §6.21 and the plan's NHI rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.bundles import BundleBuilder, example, minimal_valid

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.models.results import Assessment, ControlResult
from reporter.models.status import Status

# The period is 2026-07-01 … 2026-09-30: as_of is 2026-10-01T00:00Z.
FRESH = {"created_at": "2026-06-01T00:00:00Z", "last_rotated_at": "2026-09-01T00:00:00Z"}


def identity(ident: str, **changes: Any) -> dict[str, Any]:
    """A clean, enabled, static identity used by a-batch-02 (None removes a field)."""
    fields: dict[str, Any] = {
        "id": ident,
        "name": f"svc-{ident}",
        "type": "service_account",
        "expires_at": "2027-03-01T00:00:00Z",
        "prior_secret_valid": False,
        **FRESH,
    }
    fields.update(changes)
    return example("identities", **fields)


def exposure(ident: str, identity_id: str, detected: str, **changes: Any) -> dict[str, Any]:
    """A leaked secret of `identity_id`, detected at `detected`, neither revoked nor re-tested."""
    fields = {"id": ident, "identity_id": identity_id, "fingerprint": f"fp-{ident}", "detected_at": detected}
    fields |= {"exposed_at": detected, "revoked_at": None, "verified_invalid_at": None, **changes}
    return example("secret_exposures", **fields)


def replace(builder: BundleBuilder, kind: str, records: list[dict[str, Any]] | None) -> None:
    """Swap the records of one kind (None: no source of that kind at all)."""
    builder.sources = [s for s in builder.sources if s["kind"] != kind]
    if records is not None:
        builder.add(kind, records)


def bundle(tmp_path: Path, **kinds: list[dict[str, Any]] | None) -> BundleBuilder:
    """minimal_valid with some kinds replaced. By default no exposure or agent references identities, and
    no rollback re-opens f-000001 (verified fixed on a-web-01 2026-07-12)."""
    builder = minimal_valid(tmp_path)
    defaults: dict[str, list[dict[str, Any]] | None] = {"secret_exposures": [], "agents": [], "rollout_events": []}
    for kind, records in {**defaults, **kinds}.items():
        replace(builder, kind, records)
    return builder


def run(builder: BundleBuilder) -> Assessment:
    """Load and assess the bundle; it must be valid."""
    loaded = load_bundle(builder.write())
    try:
        errors = [i for i in loaded.issues if i.severity == "error"]
        assert errors == []
        return assess(loaded, load_library(), AssessOptions())
    finally:
        loaded.close()


def control(result: Assessment, control_id: str) -> ControlResult:
    return next(c for c in result.controls if c.control_id == control_id)


def gap_message(result: ControlResult, record_id: str) -> str:
    return next(g.message for g in result.gaps if g.record_id == record_id)


def flagged(result: Assessment, control_id: str) -> set[str]:
    """Record ids of the control's gaps no exception covers."""
    return {g.record_id for g in control(result, control_id).gaps if g.excepted_by is None}


def test_rotation_without_revocation_is_not_rotation(tmp_path: Path) -> None:
    result = run(
        bundle(
            tmp_path,
            identities=[identity("nhi-0001", prior_secret_valid=True), identity("nhi-0002", prior_secret_valid=False)],
        )
    )
    nhi07 = control(result, "NHI-07")
    assert flagged(result, "NHI-07") == {"nhi-0001"}
    assert "previous secret still authenticates" in nhi07.gaps[0].message
    assert nhi07.status is Status.FAIL


def test_rotation_age_counts_from_the_later_of_creation_and_rotation(tmp_path: Path) -> None:
    old = {"created_at": "2025-01-01T00:00:00Z"}
    result = run(
        bundle(
            tmp_path,
            identities=[
                identity("nhi-0001", **old, last_rotated_at="2026-06-15T00:00:00Z"),  # 108 days: breach
                identity("nhi-0002", **old, last_rotated_at="2026-07-15T00:00:00Z"),  # 78 days: in time
                identity("nhi-0003", **old, last_rotated_at=None),  # never rotated
                identity("nhi-0004", **old, last_rotated_at="2026-10-01T01:00:00Z", enabled=False),  # disabled
            ],
        )
    )
    assert flagged(result, "NHI-07") == {"nhi-0001", "nhi-0003"}
    assert control(result, "NHI-07").population == 3


def test_short_lived_tokens_are_excluded_from_rotation_age(tmp_path: Path) -> None:
    token = identity(
        "nhi-0001", type="workload_identity", short_lived=True, created_at="2025-01-01T00:00:00Z", last_rotated_at=None
    )
    result = run(bundle(tmp_path, identities=[token, identity("nhi-0002")]))
    assert flagged(result, "NHI-07") == set()
    assert control(result, "NHI-07").population == 1
    assert flagged(result, "NHI-11") == set()
    metric = next(m for m in result.metrics if m.id == "N2")
    assert metric.breakdown["short_lived_excluded"] == 1


def test_missing_last_used_at_is_unknown_not_dormant(tmp_path: Path) -> None:
    """Unknown last use is undecidable (partial), as a missing auth_method is for NHI-04 (item 14),
    unless the identity is too new to be dormant."""
    result = run(
        bundle(
            tmp_path,
            identities=[
                identity("nhi-0001", created_at="2025-01-01T00:00:00Z", last_used_at=None),
                identity("nhi-0002", last_used_at="2026-06-01T00:00:00Z"),
                identity("nhi-0003", last_used_at="2026-09-20T00:00:00Z"),
                identity("nhi-0004", created_at="2026-09-15T00:00:00Z", last_rotated_at=None, last_used_at=None),
            ],
        )
    )
    nhi12 = control(result, "NHI-12")
    assert flagged(result, "NHI-12") == {"nhi-0001", "nhi-0002"}
    certainty = {g.record_id: g.certainty.value for g in nhi12.gaps}
    assert certainty == {"nhi-0001": "unknown", "nhi-0002": "violation"}
    assert "has no recorded last use: dormancy undecidable" in gap_message(nhi12, "nhi-0001")
    assert nhi12.population == 4
    only_unknown = run(bundle(tmp_path / "unknown", identities=[identity("nhi-0001", last_used_at=None)]))
    assert control(only_unknown, "NHI-12").status is Status.PARTIAL
    metric = next(m for m in result.metrics if m.id == "N4")
    assert metric.breakdown["last_use_unknown"] == 2


def _patched_pair(tmp_path: Path, **kinds: list[dict[str, Any]] | None) -> BundleBuilder:
    """a-web-01 (production) and a-dev-01 (development), each with a high finding verified fixed."""
    dev = example("assets", id="a-dev-01", name="dev-01", environment="development", internet_facing=False, aliases=[])
    assets = [
        example("assets"),
        example("assets", id="a-erp-01", name="erp-01", internet_facing=False, aliases=[]),
        example("assets", id="a-batch-02", name="batch-02", internet_facing=False, aliases=[]),
        dev,
    ]
    dev_finding = example("findings", id="f-000002", asset_id="a-dev-01", state="open", closed_at=None)
    fixed = example("verifications", id="v-000002", asset_id="a-dev-01", finding_id="f-000002", deployment_id=None)
    return bundle(
        tmp_path,
        assets=assets,
        findings=[example("findings"), dev_finding],
        verifications=[example("verifications"), fixed],
        **kinds,
    )


def test_shared_credential_is_flagged_by_nhi08_and_links_both_assets_for_nhi14(tmp_path: Path) -> None:
    shared = identity("nhi-0001", used_by=["a-web-01", "a-dev-01"], environments=["production"])
    leak = exposure("sx-0001", "nhi-0001", "2026-09-01T10:00:00Z")
    result = run(_patched_pair(tmp_path, identities=[shared], secret_exposures=[leak]))
    assert flagged(result, "NHI-08") == {"nhi-0001"}
    assert "development (a-dev-01)" in control(result, "NHI-08").gaps[0].message
    assert flagged(result, "NHI-14") == {"a-web-01", "a-dev-01"}
    assert all("sx-0001 still valid" in g.message for g in control(result, "NHI-14").gaps)


def test_leaked_secret_revocation_within_24_hours(tmp_path: Path) -> None:
    detected = "2026-09-01T10:00:00Z"
    leaks = [
        exposure("sx-0001", "nhi-0001", detected, revoked_at="2026-09-01T12:00:00Z"),  # 2 hours: in time
        exposure("sx-0002", "nhi-0001", detected, revoked_at="2026-09-04T10:00:00Z"),  # 3 days (target 24 h)
        exposure("sx-0003", "nhi-0001", detected),  # never revoked
        exposure("sx-0004", "nhi-0001", detected, verified_invalid_at="2026-09-01T20:00:00Z"),  # re-tested dead
    ]
    result = run(bundle(tmp_path, identities=[identity("nhi-0001")], secret_exposures=leaks))
    nhi02 = control(result, "NHI-02")
    assert flagged(result, "NHI-02") == {"sx-0002", "sx-0003"}
    messages = {g.record_id: g.message for g in nhi02.gaps}
    assert "(72.0 h; target 24 h)" in messages["sx-0002"]
    assert "neither revoked nor verified invalid" in messages["sx-0003"]
    n6 = next(m for m in result.metrics if m.id == "N6")
    assert n6.measure is not None
    assert (n6.measure.numerator, n6.measure.denominator) == (1, 4)
    assert n6.breakdown["revoked_later_than_policy"] == 1


def test_a_revocation_after_as_of_does_not_count(tmp_path: Path) -> None:
    leak = exposure("sx-0001", "nhi-0001", "2026-09-30T20:00:00Z", revoked_at="2026-10-01T00:30:00Z")
    result = run(bundle(tmp_path, identities=[identity("nhi-0001")], secret_exposures=[leak]))
    [gap] = control(result, "NHI-02").gaps
    assert "neither revoked nor verified invalid" in gap.message


def test_patched_but_exposed_asset(tmp_path: Path) -> None:
    """a-web-01's urgent finding is verified fixed, but its credential leaked and stays valid; a-dev-01
    uses a clean credential; the open finding of a third asset keeps it out of the population."""
    leaky = identity("nhi-0001", used_by=["a-web-01"])
    clean = identity("nhi-0002", used_by=["a-dev-01"], environments=["development"])
    leak = exposure("sx-0001", "nhi-0001", "2026-08-01T10:00:00Z")
    result = run(_patched_pair(tmp_path, identities=[leaky, clean], secret_exposures=[leak]))
    nhi14 = control(result, "NHI-14")
    assert flagged(result, "NHI-14") == {"a-web-01"}
    assert nhi14.population == 2
    metric = next(m for m in result.metrics if m.id == "N8")
    assert metric.measure is not None
    assert (metric.measure.numerator, metric.measure.denominator) == (1, 2)


def test_patched_assets_no_identity_uses_are_not_a_pass(tmp_path: Path) -> None:
    """Identities and leaks on record, but none used by a patched asset: nothing shows whether patched
    assets are exposed through credentials, so NHI-14 is not_applicable and N8 not measurable (item 16)."""
    unused = identity("nhi-0001", used_by=[])
    leak = exposure("sx-0001", "nhi-0001", "2026-08-01T10:00:00Z")
    result = run(_patched_pair(tmp_path, identities=[unused], secret_exposures=[leak]))
    nhi14 = control(result, "NHI-14")
    assert (nhi14.status, nhi14.population) == (Status.NOT_APPLICABLE, 0)
    n8 = next(m for m in result.metrics if m.id == "N8")
    assert not n8.measurable
    assert "no patched asset uses an enabled non-human identity" in (n8.reason or "")


def test_rotation_breach_also_leaves_a_patched_asset_exposed(tmp_path: Path) -> None:
    stale = identity("nhi-0001", used_by=["a-web-01"], last_rotated_at="2026-03-01T00:00:00Z")
    closed = exposure("sx-0001", "nhi-0001", "2026-08-01T10:00:00Z", revoked_at="2026-08-01T11:00:00Z")
    result = run(_patched_pair(tmp_path, identities=[stale], secret_exposures=[closed]))
    [gap] = control(result, "NHI-14").gaps
    assert gap.record_id == "a-web-01"
    assert "rotation in breach" in gap.message


def test_post_patch_rotation_after_a_kev_fix(tmp_path: Path) -> None:
    """f-000001 (made KEV) is verified fixed 2026-07-12 03:00; one credential was rotated the day
    before, one two days after."""
    kev = example("findings", kev=True, kev_date_added="2026-07-01", kev_due_date="2026-07-22")
    before_fix = identity("nhi-0001", used_by=["a-web-01"], last_rotated_at="2026-07-11T00:00:00Z")
    after_fix = identity("nhi-0002", used_by=["a-web-01"], last_rotated_at="2026-07-14T00:00:00Z")
    result = run(bundle(tmp_path, findings=[kev], identities=[before_fix, after_fix]))
    [gap] = control(result, "NHI-15").gaps
    assert (gap.record_id, gap.kind) == ("f-000001", "findings")
    assert "nhi-0001" in gap.message
    assert "nhi-0002" not in gap.message
    rotated = run(bundle(tmp_path / "rotated", findings=[kev], identities=[after_fix]))
    assert control(rotated, "NHI-15").status is Status.PASS


def test_admin_exception_covers_only_the_identity_it_names(tmp_path: Path) -> None:
    """An exception naming NHI-05 for one identity must not cover another identity's admin rights."""
    accepted = identity("nhi-0001", privilege_admin=True)
    other = identity("nhi-0002", privilege_admin=True)
    waiver = example(
        "exceptions",
        id="EXC-2026-900",
        asset_ids=["a-batch-02"],
        vuln_ids=[],
        control_ids=["NHI-05"],
        identity_ids=["nhi-0001"],
        approved_at="2026-08-01T00:00:00Z",
        expires_at="2026-10-15T00:00:00Z",
        compensating_controls=[{"description": "Admin use alerts to the SOC", "verified_at": "2026-09-20T00:00:00Z"}],
    )
    result = run(bundle(tmp_path, identities=[accepted, other], exceptions=[waiver]))
    assert flagged(result, "NHI-05") == {"nhi-0002"}


@pytest.mark.parametrize("records", [[], None], ids=["empty-identities-file", "no-identities-source"])
def test_zero_identities_is_never_a_pass(tmp_path: Path, records: list[dict[str, Any]] | None) -> None:
    """An empty identity inventory is no evidence: NHI-14 too is insufficient, not a pass (items 9, 16)."""
    result = run(bundle(tmp_path, identities=records))
    for control_id in ("NHI-01", "NHI-04", "NHI-07", "NHI-12", "NHI-13", "NHI-14"):
        assert control(result, control_id).status is Status.INSUFFICIENT_EVIDENCE, control_id
