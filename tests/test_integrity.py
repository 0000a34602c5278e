"""Cross-file integrity rules, each on a small inline bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.bundles import example, minimal_valid

from reporter.bundle.limits import Limits
from reporter.pipeline import LoadOptions, validate_bundle


def _codes(root: Path) -> set[tuple[str, str, str | None]]:
    report = validate_bundle(root, LoadOptions(limits=Limits()))
    return {(i.code, i.file or "", i.field) for i in report.issues}


def _replace(builder: Any, kind: str, records: list[dict[str, Any]], fmt: str = "jsonl") -> None:
    builder.sources = [s for s in builder.sources if s["kind"] != kind]
    builder.add(kind, records, fmt)


def test_minimal_bundle_has_no_issues(tmp_path: Path) -> None:
    minimal_valid(tmp_path).write()
    assert _codes(tmp_path) == set()


@pytest.mark.parametrize(
    ("kind", "change", "expected"),
    [
        ("findings", {"asset_id": "a-ghost"}, ("ref.unknown-asset", "findings.jsonl", "asset_id")),
        (
            "verifications",
            {"finding_id": "f-ghost"},
            ("ref.unknown-finding", "verifications.jsonl", "finding_id"),
        ),
        (
            "verifications",
            {"deployment_id": "d-ghost"},
            ("ref.unknown-deployment", "verifications.jsonl", "deployment_id"),
        ),
        (
            "deployments",
            {"finding_ids": ["f-000001", "f-ghost"]},
            ("ref.unknown-finding", "deployments.jsonl", "finding_ids"),
        ),
        (
            "agents",
            {"identity_ids": ["nhi-ghost"]},
            ("ref.unknown-identity", "agents.jsonl", "identity_ids"),
        ),
        (
            "secret_exposures",
            {"identity_id": "nhi-ghost"},
            ("ref.unknown-identity", "secret_exposures.jsonl", "identity_id"),
        ),
        (
            "rollout_events",
            {"asset_ids": ["a-ghost"]},
            ("ref.unknown-asset", "rollout_events.jsonl", "asset_ids"),
        ),
        (
            "identities",
            {"used_by": ["a-ghost"]},
            ("ref.unknown-asset", "identities.jsonl", "used_by"),
        ),
        (
            "verifications",
            {"asset_id": "a-erp-01"},
            ("ref.asset-mismatch", "verifications.jsonl", "asset_id"),
        ),
        (
            "verifications",
            {"observed_at": "2026-07-10T21:00:00Z"},
            ("time.verification-before-deployment", "verifications.jsonl", "observed_at"),
        ),
        (
            "deployments",
            {"started_at": "2026-07-11T00:00:00Z"},
            ("time.out-of-order", "deployments.jsonl", "completed_at"),
        ),
        (
            "findings",
            {"last_seen_at": "2026-10-02T00:00:00Z"},
            ("time.after-collection", "findings.jsonl", "last_seen_at"),
        ),
        (
            "findings",
            {"last_seen_at": "2026-10-01T01:00:00Z"},
            ("time.after-period", "findings.jsonl", "last_seen_at"),
        ),
        (
            "exceptions",
            {"vuln_ids": ["CVE-2020-0001"], "asset_ids": []},
            ("ref.scope-matches-nothing", "exceptions.jsonl", "id"),
        ),
    ],
)
def test_integrity_rule(tmp_path: Path, kind: str, change: dict[str, Any], expected: tuple[str, str, str]) -> None:
    builder = minimal_valid(tmp_path)
    record = next(s for s in builder.sources if s["kind"] == kind)
    import json

    rows = [json.loads(line) for line in (tmp_path / record["path"]).read_text().splitlines()]
    rows[0].update(change)
    _replace(builder, kind, rows)
    builder.write()
    assert expected in _codes(tmp_path)


def test_clock_skew_within_tolerance_is_accepted(tmp_path: Path) -> None:
    builder = minimal_valid(tmp_path)
    from support.bundles import example

    _replace(builder, "verifications", [example("verifications", observed_at="2026-07-10T22:05:00Z")])
    builder.write()
    assert _codes(tmp_path) == set()


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    builder = minimal_valid(tmp_path)
    from support.bundles import example

    builder.add("findings", [example("findings")], "csv", path="more/findings.csv")
    builder.write()
    report = validate_bundle(tmp_path, LoadOptions(limits=Limits()))
    [dup] = [i for i in report.issues if i.code == "record.duplicate-id"]
    assert dup.file == "more/findings.csv"
    assert "first in findings.jsonl record 1" in dup.message


@pytest.mark.parametrize(
    ("kind", "change", "words"),
    [
        ("secret_exposures", {"identity_id": "nhi-ghost"}, "refers to identity 'nhi-ghost'"),
        ("identities", {"used_by": ["ghost-01"]}, "refers to asset or agent 'ghost-01'"),
    ],
)
def test_unknown_reference_names_the_kind_in_the_singular(
    tmp_path: Path, kind: str, change: dict[str, Any], words: str
) -> None:
    """'identities' is not made singular by dropping an s ("refers to identitie")."""
    builder = minimal_valid(tmp_path)
    _replace(builder, kind, [example(kind, **change)])
    builder.write()
    report = validate_bundle(tmp_path, LoadOptions(limits=Limits()))
    assert any(i.message.startswith(words) for i in report.issues), [i.message for i in report.issues]


def test_references_of_two_kinds_in_one_file_are_capped_kind_by_kind(tmp_path: Path) -> None:
    """The reference fields that name assets are checked in one query (D115); a Trivy report yields
    findings and a scan from one file, and each kind's unknown assets keep their own cap and summary."""
    builder = minimal_valid(tmp_path)
    sample = Path(__file__).parent / "fixtures" / "tool-samples" / "trivy-json" / "trivy-image-centos-7.json"
    builder.add_raw("trivy.json", sample.read_bytes(), format="trivy-json")
    builder.write()
    report = validate_bundle(tmp_path, LoadOptions(limits=Limits(max_issues_per_group=2)))
    unknown = [i for i in report.issues if i.code == "ref.unknown-asset"]
    assert {(i.file, i.field) for i in unknown} == {("trivy.json", "asset_id")}
    listed = [i for i in unknown if i.more is None]
    assert [i.record for i in listed] == [1, 1, 2]  # the scan's record 1; the findings' records 1 and 2
    [summary] = [i for i in unknown if i.more is not None]
    assert summary.message == f"{summary.more} more records with this problem (first 2 listed)"
    assert summary.more >= 1


def test_a_record_with_more_bad_references_than_the_cap_keeps_the_lowest_ids(tmp_path: Path) -> None:
    builder = minimal_valid(tmp_path)
    ghosts = ["f-ghost-c", "f-ghost-a", "f-ghost-b"]
    _replace(builder, "deployments", [example("deployments", finding_ids=ghosts)])
    builder.write()
    report = validate_bundle(tmp_path, LoadOptions(limits=Limits(max_issues_per_group=2)))
    unknown = [i for i in report.issues if i.code == "ref.unknown-finding" and i.file == "deployments.jsonl"]
    assert [i.message for i in unknown] == [
        "refers to finding 'f-ghost-a', which is not in the bundle",
        "refers to finding 'f-ghost-b', which is not in the bundle",
        "1 more records with this problem (first 2 listed)",
    ]
    assert {i.field for i in unknown} == {"finding_ids"}
