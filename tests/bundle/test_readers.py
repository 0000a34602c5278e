"""The loading stage's readers against hostile values: plausible dates and times, duplicate keys,
deep JSON, encodings, CSV fields beyond Python's default limit, Parquet bombs, and the policy's
hash (verified, warned about when absent, part of the bundle digest)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from hostile.corpus import POLICY, dump, encode, exception_record, more_assets, sha256, source, write_bundle

from reporter.bundle.interface import LoadedBundle
from reporter.bundle.load import load_bundle
from reporter.models.issues import Issue


def _load(root: Path) -> LoadedBundle:
    loaded = load_bundle(root)
    loaded.close()
    return loaded


def _errors(loaded: LoadedBundle) -> list[Issue]:
    return [i for i in loaded.issues if i.severity.value == "error"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0000-01-01T00:00:00Z", "year 0000"),
        ("1969-12-31T23:59:59Z", "year 1969"),
        ("2150-01-01T00:00:00Z", "year 2150"),
        ("2026-07-01T00:00:00+99:00", "offset +99:00"),
        ("2026-07-01T00:00:00-14:30", "offset -14:30"),
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_implausible_timestamps_are_refused_with_file_line_and_field(
    tmp_path: Path, fmt: str, value: str, problem: str
) -> None:
    records = more_assets(first_seen_at=value)
    loaded = _load(write_bundle(tmp_path, source(f"more.{fmt}", encode(records, fmt), "assets", fmt)))
    [issue] = _errors(loaded)
    assert (issue.code, issue.file, issue.line, issue.field) == (
        "time.implausible",
        f"more.{fmt}",
        2 if fmt == "csv" else 1,
        "first_seen_at",
    )
    assert problem in issue.message


@pytest.mark.parametrize("value", ["1970-01-01T00:00:00Z", "2100-12-31T23:59:59Z", "2026-07-01T00:00:00+14:00"])
def test_timestamps_at_the_edges_of_the_range_are_accepted(tmp_path: Path, value: str) -> None:
    loaded = _load(
        write_bundle(tmp_path, source("more.jsonl", encode(more_assets(first_seen_at=value), "jsonl"), "assets"))
    )
    assert [i for i in loaded.issues if i.code == "time.implausible"] == []


def test_dates_ending_in_a_day_over_14_are_not_mistaken_for_offsets(tmp_path: Path) -> None:
    kev = encode(
        [
            {
                "id": "CVE-2024-3400",
                "vendor_project": "v",
                "product": "p",
                "name": "n",
                "date_added": "2024-04-30",
                "due_date": "2024-05-31",
            }
        ],
        "csv",
    )
    loaded = _load(write_bundle(tmp_path, source("kev.csv", kev, "kev_entries", "csv")))
    assert _errors(loaded) == []


def test_implausible_times_in_document_kinds_name_the_nested_field(tmp_path: Path) -> None:
    record = exception_record()
    record["compensating_controls"][0]["verified_at"] = "0001-01-01T00:00:00Z"
    loaded = _load(write_bundle(tmp_path, source("e.yaml", dump([record]), "exceptions", "yaml")))
    [issue] = _errors(loaded)
    assert (issue.code, issue.field) == ("time.implausible", "compensating_controls[0].verified_at")
    assert issue.line is not None
    assert issue.line > 1


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (("end: '2026-09-30'", "end: '9999-12-31'"), "period.end"),
        (("start: '2026-07-01'", "start: 0000-01-01"), "period.start"),
        (("start: '2026-07-01'", "start: 2026-02-30"), "period.start"),
        (
            ("collected_at: '2026-10-01T02:00:00Z'", "collected_at: 2026-10-01T02:00:00+99:00"),
            "sources[0].collected_at",
        ),
        (("collected_at: '2026-10-01T02:00:00Z'", "collected_at: '1960-10-01T02:00:00Z'"), "sources[0].collected_at"),
    ],
)
def test_impossible_manifest_dates_are_manifest_errors(tmp_path: Path, edit: tuple[str, str], field: str) -> None:
    root = write_bundle(tmp_path)
    text = (root / "bundle.yaml").read_text().replace(edit[0], edit[1], 1)
    (root / "bundle.yaml").write_text(text)
    loaded = _load(root)
    assert loaded.manifest is None
    assert [(i.code, i.file, i.field) for i in _errors(loaded)] == [("manifest.invalid", "bundle.yaml", field)]
    assert _errors(loaded)[0].line is not None


@pytest.mark.parametrize(
    ("name", "text", "kind", "where"),
    [
        ("a.jsonl", '{"id": "a-1", "name": "x", "id": "a-2"}\n', "assets", (1, "id")),
        ("a.json", '[\n{"id": "a-1", "name": "x", "name": "y"}\n]', "assets", (None, "name")),
        ("e.jsonl", None, "exceptions", (1, "evidence_ref")),
    ],
)
def test_duplicate_json_keys_refuse_the_file(
    tmp_path: Path, name: str, text: str | None, kind: str, where: tuple[int | None, str]
) -> None:
    if text is None:
        text = (
            json.dumps(exception_record()).replace(
                '"evidence_ref": "fw-rule-7781"', '"evidence_ref": "a", "evidence_ref": "b"'
            )
            + "\n"
        )
    loaded = _load(write_bundle(tmp_path, source(name, text.encode(), kind, name.rsplit(".", 1)[1])))
    [issue] = _errors(loaded)
    assert (issue.code, issue.file, issue.line, issue.field) == ("file.duplicate-key", name, *where)


def test_deep_json_in_a_document_kind_is_refused_not_a_crash(tmp_path: Path) -> None:
    record = json.dumps(exception_record())[:-1] + ', "note": ' + "[" * 3000 + "]" * 3000 + "}\n"
    loaded = _load(write_bundle(tmp_path, source("e.jsonl", record.encode(), "exceptions", "jsonl")))
    [issue] = _errors(loaded)
    assert (issue.code, issue.line) == ("file.json-limit", 1)


def test_a_csv_cell_beyond_pythons_default_limit_is_read(tmp_path: Path) -> None:
    records = more_assets(name="n" * 300_000, criticality="urgent")
    loaded = _load(write_bundle(tmp_path, source("more.csv", encode(records, "csv"), "assets", "csv")))
    [issue] = _errors(loaded)
    assert (issue.code, issue.line, issue.field) == ("record.bad-enum", 2, "criticality")


def test_a_parquet_file_declaring_more_rows_than_it_could_hold_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "o.parquet"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'o-1' AS id, 'a-web-01' AS asset_id, 'edr' AS source, "
        "TIMESTAMPTZ '2026-09-01 00:00:00+00' AS observed_at FROM range(300000)) "
        f"TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
    )
    con.close()
    data = target.read_bytes()
    target.unlink()
    assert len(data) * 4 + 10_000 < 300_000
    loaded = _load(write_bundle(tmp_path / "b", source("o.parquet", data, "observations", "parquet")))
    [issue] = _errors(loaded)
    assert (issue.code, issue.file) == ("file.parquet-limit", "o.parquet")
    assert "declares 300,000 rows" in issue.message


def test_policy_hash_is_verified(tmp_path: Path) -> None:
    loaded = _load(write_bundle(tmp_path, policy=POLICY, policy_sha256="0" * 64))
    assert [(i.code, i.file) for i in _errors(loaded)] == [("policy.hash-mismatch", "policy.yaml")]


def test_missing_policy_hash_is_a_warning(tmp_path: Path) -> None:
    loaded = _load(write_bundle(tmp_path, policy=POLICY, policy_sha256=None))
    assert _errors(loaded) == []
    assert ("policy.no-hash", "policy.yaml") in [(i.code, i.file) for i in loaded.issues]
    assert loaded.valid


def test_changing_the_policy_changes_the_digest(tmp_path: Path) -> None:
    strict = b"policy_version: 1\nsla:\n  rules: []\n"
    lenient = b"policy_version: 1\nsla:\n  rules: []  \n"
    first = _load(write_bundle(tmp_path / "a", policy=strict, policy_sha256=None))
    second = _load(write_bundle(tmp_path / "b", policy=lenient, policy_sha256=None))
    assert (tmp_path / "a" / "bundle.yaml").read_bytes() == (tmp_path / "b" / "bundle.yaml").read_bytes()
    assert first.digest != second.digest
    declared = _load(write_bundle(tmp_path / "c", policy=strict))
    assert declared.digest not in (first.digest, second.digest)  # the manifest changed: it carries the hash
    assert sha256(strict) in (tmp_path / "c" / "bundle.yaml").read_text()


def test_policy_sha256_without_a_policy_is_a_manifest_error(tmp_path: Path) -> None:
    loaded = _load(write_bundle(tmp_path, policy_sha256="0" * 64))
    assert [i.code for i in _errors(loaded)] == ["manifest.invalid"]
