"""Framework status from control results: precedence, not assessed, inferred, coverage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporter.catalog.library import Framework, Library
from reporter.catalog.loader import load_library
from reporter.catalog.status import combine, framework_status
from reporter.models.catalog import (
    Condition,
    Control,
    ControlSeverity,
    Crosswalk,
    FrameworkItem,
    FrameworkMeta,
    ItemStatus,
    ItemStatusValue,
    Reference,
    Relationship,
)
from reporter.models.status import Status

S = Status
V = ItemStatusValue


def _framework(fid: str, item_ids: list[str], crosswalks: tuple[Crosswalk, ...] = ()) -> Framework:
    meta = FrameworkMeta(id=fid, name=fid.upper(), version="1", license="x", assessed_kinds=("req",))
    items = {i: FrameworkItem(id=i, kind="req", title=f"item {i}") for i in item_ids}
    items["GROUP"] = FrameworkItem(id="GROUP", kind="group", title="not assessed kind")
    return Framework(meta=meta, items=items, crosswalks=crosswalks)


def _control(cid: str, *refs: tuple[str, str, Relationship]) -> Control:
    return Control(
        id=cid,
        title=cid,
        objective="x",
        check=f"t.c{cid[-2:]}",
        severity=ControlSeverity.HIGH,
        evidence=("assets",),
        references=tuple(Reference(framework=f, id=i, relationship=r, rationale="x") for f, i, r in refs),
    )


D, SUP = Relationship.INTERSECTS, Relationship.SUPPORTS


def _library() -> Library:
    """fw: A (C-01 direct, C-02 direct), B (C-03 supports), C (C-01 direct, C-03 supports),
    D (nothing), E (C-04 direct); other: X crosswalked to fw A; Y nothing."""
    controls = [
        _control("CT-01", ("fw", "A", D), ("fw", "C", D)),
        _control("CT-02", ("fw", "A", Relationship.SUBSET)),
        _control("CT-03", ("fw", "B", SUP), ("fw", "C", SUP)),
        _control("CT-04", ("fw", "E", D)),
    ]
    walk = Crosswalk(item="X", framework="fw", target="A", relationship=D, rationale="x")
    frameworks = {
        "fw": _framework("fw", ["A", "B", "C", "D", "E"]),
        "other": _framework("other", ["X", "Y"], (walk,)),
    }
    return Library(frameworks=frameworks, controls={c.id: c for c in controls})


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([S.PASS, S.FAIL], V.FAIL),
        ([S.PARTIAL, S.INSUFFICIENT_EVIDENCE], V.PARTIAL),
        ([S.INSUFFICIENT_EVIDENCE, S.PASS], V.INSUFFICIENT_EVIDENCE),
        ([S.EXCEPTED, S.PASS], V.EXCEPTED),
        ([S.ERROR, S.EXCEPTED], V.ERROR),
        ([S.NOT_APPLICABLE, S.PASS], V.PASS),
        ([S.NOT_APPLICABLE], V.NOT_APPLICABLE),
        ([], V.NOT_ASSESSED),
    ],
)
def test_precedence(statuses: list[Status], expected: ItemStatusValue) -> None:
    assert combine(statuses) is expected


def _items(results: dict[str, Status], framework: str = "fw") -> dict[str, ItemStatus]:
    status = framework_status(_library(), results).get(framework)
    return {i.item_id: i for i in status.items}


def test_direct_mappings_decide_and_are_marked_direct() -> None:
    items = _items({"CT-01": S.PASS, "CT-02": S.FAIL, "CT-03": S.PASS})
    a, c = items["A"], items["C"]
    assert (a.status, a.direct) == (V.FAIL, True)
    assert {b.control_id for b in a.basis} == {"CT-01", "CT-02"}
    # C: C-01 direct pass decides; C-03's supporting result is listed but does not decide.
    assert (c.status, c.direct) == (V.PASS, True)
    assert [b.direct for b in c.basis] == [True, False]


def test_supports_only_gives_an_inferred_status() -> None:
    item = _items({"CT-03": S.FAIL})["B"]
    assert (item.status, item.direct) == (V.FAIL, False)
    [basis] = item.basis
    assert (basis.relationship, basis.direct) == (SUP, False)


def test_supports_only_never_passes_an_item() -> None:
    """A 'supports' mapping is evidence for an item, not an assessment of it (docs/mappings.md)."""
    result = framework_status(_library(), {"CT-01": S.PASS, "CT-03": S.PASS}).get("fw")
    b = {i.item_id: i for i in result.items}["B"]
    assert (b.status, b.direct) == (V.SUPPORTED, False)
    assert result.counts[V.SUPPORTED] == 1
    assert result.counts[V.PASS] == 2  # A and C pass directly
    assert result.coverage.assessed_with_evidence == 2  # B is not assessed with evidence
    assert result.score_pct == 100.0


def test_supports_only_failure_is_listed_but_not_scored() -> None:
    result = framework_status(_library(), {"CT-01": S.PASS, "CT-03": S.FAIL}).get("fw")
    assert {i.item_id: i.status for i in result.items}["B"] is V.FAIL
    assert (result.coverage.assessed_with_evidence, result.score_pct) == (2, 100.0)


def _scoped_library() -> Library:
    ref = Reference(framework="fw", id="B", relationship=SUP, rationale="x", applies_when=Condition.AGENTS_PRESENT)
    library = _library()
    controls = dict(library.controls)
    controls["CT-05"] = Control(
        id="CT-05",
        title="CT-05",
        objective="x",
        check="t.c05",
        severity=ControlSeverity.HIGH,
        evidence=("assets",),
        references=(ref, Reference(framework="fw", id="D", relationship=D, rationale="x")),
    )
    del controls["CT-03"]
    return Library(frameworks=library.frameworks, controls=controls)


def test_scoped_reference_counts_only_where_its_condition_holds() -> None:
    results = {"CT-01": S.PASS, "CT-05": S.FAIL}
    without = framework_status(_scoped_library(), results, conditions=()).get("fw")
    b = {i.item_id: i for i in without.items}["B"]
    assert (b.status, b.basis) == (V.NOT_ASSESSED, ())
    assert [(o.control_id, o.applies_when) for o in b.out_of_scope] == [("CT-05", Condition.AGENTS_PRESENT)]
    assert {i.item_id: i.status for i in without.items}["D"] is V.FAIL  # the unscoped reference still counts
    assert without.coverage.with_control == 4  # A, C, D, E: B is mapped only for bundles with agents
    with_agents = framework_status(_scoped_library(), results, conditions=[Condition.AGENTS_PRESENT]).get("fw")
    b = {i.item_id: i for i in with_agents.items}["B"]
    assert (b.status, b.out_of_scope) == (V.FAIL, ())
    assert with_agents.coverage.with_control == 5


def test_item_without_an_assessed_control_is_not_assessed_never_pass() -> None:
    items = _items({"CT-01": S.PASS})
    assert items["D"].status is V.NOT_ASSESSED  # no control at all
    assert items["E"].status is V.NOT_ASSESSED  # C-04 not run
    assert "GROUP" not in items  # kinds outside assessed_kinds get no status


def test_crosswalk_status_is_inferred_with_its_path() -> None:
    items = _items({"CT-01": S.PASS, "CT-02": S.EXCEPTED}, "other")
    x = items["X"]
    assert (x.status, x.direct) == (V.EXCEPTED, False)
    assert {b.via for b in x.basis} == {"fw:A"}
    assert items["Y"].status is V.NOT_ASSESSED


def test_coverage_and_score_beside_every_framework() -> None:
    result = framework_status(_library(), {"CT-01": S.PASS, "CT-02": S.PASS, "CT-03": S.INSUFFICIENT_EVIDENCE}).get(
        "fw"
    )
    cov = result.coverage
    assert (cov.total, cov.with_control, cov.assessed_with_evidence) == (5, 4, 2)  # A, C assessed
    assert (cov.with_control_pct, cov.assessed_pct) == (80.0, 40.0)
    assert result.score_pct == 100.0
    assert result.counts[V.INSUFFICIENT_EVIDENCE] == 1  # B
    assert result.counts[V.NOT_ASSESSED] == 2  # D, E
    assert sum(result.counts.values()) == 5


def test_no_results_means_no_score() -> None:
    result = framework_status(_library(), {}).get("fw")
    assert result.score_pct is None
    assert result.counts[V.NOT_ASSESSED] == 5


def test_shipped_library_all_pass() -> None:
    library = load_library()
    status = framework_status(library, dict.fromkeys(library.controls, S.PASS))
    owasp = status.get("owasp-nhi-top10-2025")
    assert owasp.counts[V.PASS] == 10
    assert owasp.coverage.assessed_pct == 100.0
    csf = status.get("nist-csf-2.0")
    assert csf.counts[V.NOT_ASSESSED] == csf.coverage.total - csf.coverage.with_control
    assert csf.coverage.assessed_pct < 100.0  # honest: most of CSF is not what evidence shows


def test_atlas_techniques_are_supported_never_passed() -> None:
    """Techniques are mapped only through 'supports': passing controls lower exposure to them, they
    do not pass them (item 18); scoped to AI, they are not assessed in a bundle without agents."""
    library = load_library()
    results = dict.fromkeys(library.controls, S.PASS)
    atlas = framework_status(library, results, conditions=[Condition.AGENTS_PRESENT]).get("mitre-atlas")
    techniques = [i for i in atlas.items if i.kind in {"technique", "sub-technique"} and i.basis]
    assert techniques
    assert {i.status for i in techniques} == {V.SUPPORTED}
    assert all(not i.direct for i in techniques)
    no_ai = framework_status(library, results, conditions=()).get("mitre-atlas")
    valid_accounts = {i.item_id: i for i in no_ai.items}["AML.T0012"]
    assert (valid_accounts.status, valid_accounts.basis) == (V.NOT_ASSESSED, ())
    assert {b.control_id for b in valid_accounts.out_of_scope} == {"NHI-01", "NHI-02", "NHI-12", "NHI-14"}


def test_framework_selection() -> None:
    library = load_library()
    status = framework_status(library, {}, frameworks=["mitre-atlas"])
    assert [f.framework for f in status.frameworks] == ["mitre-atlas"]


CONTROL_IDS = ["CT-01", "CT-02", "CT-03", "CT-04"]


@given(st.dictionaries(st.sampled_from(CONTROL_IDS), st.sampled_from(list(S))))
def test_pass_only_when_a_deciding_control_passed(results: dict[str, Status]) -> None:
    for framework in framework_status(_library(), results).frameworks:
        for item in framework.items:
            if item.status is V.PASS:
                assert any(b.control_status is S.PASS and b.relationship.direct for b in item.basis)
            if not item.basis:
                assert item.status is V.NOT_ASSESSED
