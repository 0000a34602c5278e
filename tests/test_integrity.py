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
