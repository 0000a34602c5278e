"""Audit samples (docs/report.md, "Audit samples"): the size formula, a selection an auditor re-derives
with SHA-256 alone, reproducible from the bundle digest, and sampled records whose results agree with
the control's gaps."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.checks import base
from reporter.checks.sampling import design_size, sample_size
from reporter.models.policy import PolicyFile, SamplingPolicy
from reporter.models.results import Assessment, ControlResult, Gap, SampleRecord, SampleResult
from reporter.policy import default_policy, resolve_policy

SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"
# Everything: the smallest n with (1 - 0.00001)^n <= 1e-6 exceeds every sample bundle's populations.
WHOLE = SamplingPolicy(confidence=0.999999, tolerable_rate=0.00001)


@pytest.mark.parametrize(
    ("confidence", "rate", "size"),
    [(0.95, 0.05, 59), (0.95, 0.10, 29), (0.90, 0.05, 45), (0.90, 0.10, 22), (0.99, 0.05, 90), (0.95, 0.02, 149)],
)
def test_size_is_the_zero_deviation_attribute_sampling_size(confidence: float, rate: float, size: int) -> None:
    assert design_size(confidence, rate) == size
    # the defining property: the smallest n whose chance of no deviation at the tolerable rate is below 1 - c
    assert (1 - rate) ** size <= 1 - confidence < (1 - rate) ** (size - 1)


def test_a_population_smaller_than_the_design_is_taken_whole_and_max_size_caps() -> None:
    policy = SamplingPolicy()
    assert [sample_size(n, policy) for n in (0, 1, 58, 59, 60, 10_000)] == [0, 1, 58, 59, 59, 59]
    assert sample_size(10_000, SamplingPolicy(max_size=25)) == 25
    assert sample_size(10, SamplingPolicy(max_size=25)) == 10


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_selection_is_re_derived_with_sha256_alone(q3: Assessment) -> None:
    sampled = [c for c in q3.controls if c.sample is not None and c.sample.size]
    assert len(sampled) > 30
    for control in sampled:
        sample = control.sample
        assert sample is not None
        assert sample.seed == _sha(f"{q3.bundle.digest}:{control.control_id}")
        assert sample.size == min(control.population, 59) == len(sample.records)
        for r in sample.records:
            key = "|".join(v or "" for v in (r.kind, r.record_id, r.asset_id, r.vuln_id, r.identity_id))
            assert r.key == key
            assert r.rank == _sha(f"{sample.seed}:{key}")
        assert [r.rank for r in sample.records] == sorted(r.rank for r in sample.records)
    # a control with more units than the design size samples, not the first records
    big = next(c for c in sampled if c.population > 59 * 4)
    assert big.sample is not None
    assert big.sample.size == 59


def _belongs(record: SampleRecord, gap: Gap) -> bool:
    ids = ((record.asset_id, gap.asset_id), (record.vuln_id, gap.vuln_id), (record.identity_id, gap.identity_id))
    same = (gap.kind, gap.record_id) == (record.kind, record.record_id)
    return same and all(mine is None or mine == theirs for mine, theirs in ids)


def _expected(control: ControlResult, record: SampleRecord) -> SampleResult:
    gaps = [g for g in control.gaps if _belongs(record, g)]
    if any(g.excepted_by is None and g.certainty.value == "violation" for g in gaps):
        return SampleResult.DEVIATION
    if any(g.excepted_by is None for g in gaps):
        return SampleResult.UNDETERMINED
    return SampleResult.EXCEPTED if gaps else SampleResult.CONFORMS


def test_each_sampled_record_says_what_the_control_says_of_it(q3: Assessment) -> None:
    results = set()
    for control in q3.controls:
        if control.sample is None:
            continue
        assert control.gap_total == len(control.gaps)  # the fixture lists every gap
        for record in control.sample.records:
            assert record.result is _expected(control, record), (control.control_id, record.key)
            assert (record.message is None) is (record.result is SampleResult.CONFORMS)
            results.add(record.result)
        assert control.sample.deviations == sum(r.result is SampleResult.DEVIATION for r in control.sample.records)
    assert {SampleResult.DEVIATION, SampleResult.CONFORMS} <= results


def test_sampled_records_cite_their_evidence_file_and_its_hash(q3: Assessment) -> None:
    hashes = {s.path: s.sha256 for s in q3.bundle.sources}
    records = [r for c in q3.controls if c.sample for r in c.sample.records]
    cited = [r for r in records if r.kind not in ("kinds", "sources")]
    assert cited
    assert all(r.source in hashes and r.sha256 == hashes[r.source] for r in cited)
    assert sum(r.line is not None or r.record is not None for r in cited) > len(cited) * 0.9


def _assess(policy: SamplingPolicy, digest: str) -> Assessment:
    """The minimal sample bundle assessed with `policy` and the bundle digest replaced by `digest`."""
    loaded = load_bundle(SAMPLES / "minimal")
    try:
        loaded.policy = loaded.policy.model_copy(update={"sampling": policy})
        loaded.digest = digest
        return assess(loaded, load_library(), AssessOptions(gap_cap=100_000))
    finally:
        loaded.close()


def _selected(result: Assessment) -> dict[str, list[str]]:
    return {c.control_id: [r.key for r in c.sample.records] for c in result.controls if c.sample}


def test_same_digest_same_sample_and_another_digest_another() -> None:
    small = SamplingPolicy(max_size=3)
    first = _selected(_assess(small, "sha256:" + "a" * 64))
    again = _selected(_assess(small, "sha256:" + "a" * 64))
    other = _selected(_assess(small, "sha256:" + "b" * 64))
    assert first == again
    assert first != other
    assert any(len(keys) == 3 and set(keys) != set(other[c]) for c, keys in first.items())


def test_with_the_whole_population_sampled_every_gap_lies_on_a_sampled_unit() -> None:
    """Population units and gaps are the same records: sampling everything finds every gap's record,
    and the sample's deviations are the control's unexcepted violations (one gap per unit here)."""
    result = _assess(WHOLE, "sha256:" + "c" * 64)
    for control in result.controls:
        sample = control.sample
        assert sample is not None
        assert sample.size == control.population
        for gap in control.gaps:
            assert any(_belongs(r, gap) for r in sample.records), (control.control_id, gap.record_id)
        violations = sum(g.excepted_by is None and g.certainty.value == "violation" for g in control.gaps)
        assert sample.deviations <= violations
        if len({g.record_id for g in control.gaps}) == len(control.gaps):
            assert sample.deviations == violations, control.control_id


def test_the_samples_carry_the_policy_design(q3: Assessment) -> None:
    designs = {(c.sample.confidence, c.sample.tolerable_rate) for c in q3.controls if c.sample}
    assert designs == {(q3.policy.sampling.confidence, q3.policy.sampling.tolerable_rate)} == {(0.95, 0.05)}


def test_a_bundle_policy_sets_the_design_and_the_shipped_default_is_95_5() -> None:
    assert default_policy().sampling == SamplingPolicy(confidence=0.95, tolerable_rate=0.05, max_size=None)
    mine = resolve_policy(PolicyFile(sampling=SamplingPolicy(confidence=0.90, tolerable_rate=0.10, max_size=20)))
    assert mine.sampling.max_size == 20
    assert sample_size(1_000, mine.sampling) == 20
    assert sample_size(1_000, resolve_policy(PolicyFile(sampling=SamplingPolicy(confidence=0.9))).sampling) == 45


def test_the_worked_example_in_the_docs_is_the_q3_sample(q3: Assessment) -> None:
    """docs/report.md re-derives VER-01's first sampled record of the Q3 sample with sha256sum."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "report.md").read_text("utf-8")
    ver01 = next(c for c in q3.controls if c.control_id == "VER-01")
    assert ver01.sample is not None
    first = ver01.sample.records[0]
    assert f"printf '%s' \"{q3.bundle.digest}:VER-01\" | sha256sum" in docs
    assert f"printf '%s' \"{ver01.sample.seed}:{first.key}\" | sha256sum" in docs
    assert f"# → {first.rank[:12]}…" in docs


def _samples(policy: SamplingPolicy) -> dict[str, tuple[int, list[tuple[str, str, str, int | None]]]]:
    loaded = load_bundle(SAMPLES / "northwind-2026-q3")
    try:
        loaded.policy = loaded.policy.model_copy(update={"sampling": policy})
        result = assess(loaded, load_library(), AssessOptions())
    finally:
        loaded.close()
    return {
        c.control_id: (c.population, [(r.key, r.rank, r.source, r.record) for r in c.sample.records])
        for c in result.controls
        if c.sample is not None
    }


@pytest.mark.parametrize(
    "policy",
    [SamplingPolicy(), SamplingPolicy(max_size=3), SamplingPolicy(confidence=0.99, tolerable_rate=0.01)],
    ids=["59", "3", "459"],
)
def test_the_one_pass_draw_selects_what_count_then_sort_selects(
    monkeypatch: pytest.MonkeyPatch, policy: SamplingPolicy
) -> None:
    """Samples up to DRAW_IN_ONE_PASS units are drawn in the pass that counts the population (`min_by`
    with a count); larger designs count, then sort. Both give every control the same population and
    the same records in the same order, with designs smaller than most populations (59, 3) and one
    larger than most (459: every unit of those)."""
    one_pass = _samples(policy)
    monkeypatch.setattr(base, "DRAW_IN_ONE_PASS", 0)
    count_then_sort = _samples(policy)
    assert len(one_pass) > 30
    assert any(population > len(records) > 0 for population, records in one_pass.values())
    assert one_pass == count_then_sort
