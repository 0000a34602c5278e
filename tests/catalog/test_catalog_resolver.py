"""Resolving ids as people write them: legacy CSF 1.1 ids, OWASP spellings, case and padding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporter.catalog.library import resolve_id
from reporter.catalog.loader import load_library
from reporter.catalog.resolver import describe, id_key


@pytest.mark.parametrize(
    ("a", "b"),
    [("NHI-03", "NHI3"), ("nhi3", "NHI3"), ("NHI03", "NHI3"), ("ID.AM-1", "ID.AM-01")],
)
def test_spellings_share_a_key(a: str, b: str) -> None:
    assert id_key(a) == id_key(b)


@pytest.mark.parametrize(("a", "b"), [("NHI1", "NHI10"), ("ID.RA-1", "ID.RA-10"), ("AML.T0053", "AML.TA0053")])
def test_different_ids_keep_different_keys(a: str, b: str) -> None:
    assert id_key(a) != id_key(b)


@pytest.mark.parametrize("written", ["NHI-03", "NHI3", "nhi3", "NHI03", "nhi-3:2025"])
def test_owasp_spellings_resolve_to_the_canonical_id(written: str) -> None:
    [resolution] = load_library().resolve(written, "owasp-nhi-top10-2025")
    assert resolution.canonical_ids == ("NHI3:2025",)
    assert resolution.how == "spelling"
    assert resolution.pairs() == [("NHI3:2025", written)]
    assert "NHI3:2025" in describe(resolution)


def test_canonical_id_resolves_exactly() -> None:
    [resolution] = load_library().resolve("NHI3:2025")
    assert (resolution.how, resolution.pairs()) == ("exact", [("NHI3:2025", None)])


def test_withdrawn_csf_id_resolves_to_its_successors() -> None:
    [resolution] = load_library().resolve("PR.IP-12")
    assert resolution.framework == "nist-csf-2.0"
    assert resolution.how == "legacy"
    assert resolution.relation == "moved_to"
    assert resolution.canonical_ids == ("ID.RA-01", "PR.PS-02")
    assert resolution.legacy_text == "A vulnerability management plan is developed and implemented"
    message = describe(resolution)
    assert "ID.RA-01" in message
    assert "PR.PS-02" in message


def test_resolver_function_returns_canonical_and_written_ids() -> None:
    assert resolve_id(load_library(), "PR.IP-12") == [
        ("nist-csf-2.0", "ID.RA-01", "PR.IP-12"),
        ("nist-csf-2.0", "PR.PS-02", "PR.IP-12"),
    ]
    assert resolve_id(load_library(), "ID.RA-01") == [("nist-csf-2.0", "ID.RA-01", None)]


def test_unpadded_csf_1_1_spelling_of_a_withdrawn_id() -> None:
    [resolution] = load_library().resolve("pr.ip-1")
    assert resolution.how == "legacy"
    assert resolution.legacy_id == "PR.IP-01"
    assert resolution.canonical_ids == ("PR.PS-01",)


def test_unpadded_spelling_of_a_current_csf_id() -> None:
    [resolution] = load_library().resolve("ID.AM-1")
    assert (resolution.canonical_ids, resolution.how) == (("ID.AM-01",), "spelling")


def test_withdrawn_category_without_successor_points_to_its_subcategories() -> None:
    [resolution] = load_library().resolve("PR.IP")
    assert resolution.canonical_ids == ()
    assert "PR.IP-12" in resolution.see_also
    assert "no successor" in describe(resolution)


def test_atlas_id_shows_the_current_name() -> None:
    library = load_library()
    [resolution] = library.resolve("aml.t0053")
    assert resolution.canonical_ids == ("AML.T0053",)
    item = library.item("mitre-atlas", "AML.T0053")
    assert item is not None
    assert item.title == "AI Agent Tool Invocation"


def test_ai_rmf_spelling() -> None:
    [resolution] = load_library().resolve("govern1.6")
    assert resolution.canonical_ids == ("GOVERN 1.6",)


def test_unknown_id_resolves_to_nothing() -> None:
    assert load_library().resolve("XX.YY-99") == []
    assert load_library().resolve("NHI3:2025", "nist-csf-2.0") == []


def test_shipped_catalogs_have_no_ambiguous_spellings() -> None:
    library = load_library()
    for framework_id in library.frameworks:
        assert library.resolver.ambiguous_keys(framework_id) == {}, framework_id


def test_every_current_id_resolves_to_itself_in_any_case() -> None:
    library = load_library()
    for framework in library.frameworks.values():
        for item_id in framework.items:
            found = library.resolver.resolve_one(item_id.lower(), framework.id)
            assert found is not None, item_id
            assert found.canonical_ids == (item_id,)


@given(st.text(max_size=40))
def test_resolving_arbitrary_text_never_raises(raw: str) -> None:
    for resolution in load_library().resolve(raw):
        assert resolution.canonical_ids or resolution.how == "legacy"
