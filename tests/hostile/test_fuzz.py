"""Bundle-level property-based fuzzing: whatever bytes the manifest, a CSV, a JSON Lines or a YAML
evidence file holds, loading ends with a validation report or one of the tool's own errors — never
another exception, so no input can reach exit 5. A few seeded examples also go through the command
line in a subprocess."""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile.corpus import COLLECTED, dump, encode, exception_record, manifest, more_assets, source, write_bundle
from hostile.runner import run_cli
from reporter.bundle.load import load_bundle
from reporter.errors import ReporterError
from reporter.models.kinds import KINDS
from reporter.store.columns import columns_of

FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples on every run: a failure reproduces
)
ASSET_FIELDS = [c.name for c in columns_of(KINDS["assets"].model)]
EXCEPTION_FIELDS = [c.name for c in columns_of(KINDS["exceptions"].model)]

# Values that have broken readers before: dates out of range, offsets, deep nesting, huge numbers,
# control characters, quotes, byte-order marks, surrogates.
TRICKY = [
    "",
    " ",
    '"',
    '""',
    "'",
    "a,b",
    "line\nbreak",
    "\r",
    "\x1b[31m",
    "\u202e",
    "\ufeff",
    "\x00",
    "0000-01-01T00:00:00Z",
    "2026-02-30",
    "2026-07-01T00:00:00+99:00",
    "9999-12-31",
    "1969-12-31T23:59:59-01:00",
    "2026-09-30T10:00:00Z",
    "9" * 5000,
    "1e999",
    "NaN",
    "-0",
    "[" * 200,
    "[" * 80 + "]" * 80,
    '{"a": 1, "a": 2}',
    "true",
    "yes",
    "a-web-01",
    "CVE-2024-6387",
    "x" * 200_000,
]
scalars = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=30),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(ASSET_FIELDS + EXCEPTION_FIELDS), st.text(max_size=8)), children, max_size=5
        ),
    ),
    max_leaves=20,
)


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Replace a few slices of `data` with fuzz bytes."""
    out = bytearray(data)
    for position, length, insert in edits:
        at = position % (len(out) + 1)
        out[at : at + length % 8] = insert
    return bytes(out)


edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 7), st.binary(max_size=12)), max_size=4)


def _loads_or_refuses(build: Callable[[Path], Path]) -> None:
    """Load a bundle in-process: a report or a ReporterError, nothing else."""
    with tempfile.TemporaryDirectory() as scratch:
        root = build(Path(scratch) / "bundle")
        try:
            loaded = load_bundle(root)
        except ReporterError:
            return
        try:
            assert loaded.report is not None
            assert all(issue.code for issue in loaded.report.issues)
        finally:
            loaded.close()


@pytest.mark.slow
@FUZZ
@given(
    kind=st.sampled_from(["mutated", "structure", "bytes", "dates"]),
    date=st.sampled_from([t for t in TRICKY if t[:1].isdigit()] + ["2026-13-01", "2026-07-01 25:00:00", "2026-7-1"]),
    changes=st.dictionaries(st.sampled_from(["period", "sources", "policy", "scope", "x"]), json_values, max_size=2),
    fuzz=edits,
    raw=st.binary(max_size=200),
)
def test_any_manifest_loads_or_is_refused(
    kind: str, date: str, changes: dict[str, Any], fuzz: list[Any], raw: bytes
) -> None:
    def build(root: Path) -> Path:
        write_bundle(root)
        text = (root / "bundle.yaml").read_bytes()
        if kind == "mutated":
            text = _mutate(text, fuzz)
        elif kind == "dates":  # unquoted, so that YAML itself reads them as timestamps
            text = text.replace(b"'2026-07-01'", date.encode()[:40]).replace(
                b"'" + COLLECTED.encode() + b"'", date.encode()[:40]
            )
        elif kind == "structure":
            sources = yaml.safe_load(text)["sources"]
            text = dump({**manifest([]), "sources": sources, **changes})
        else:
            text = raw
        (root / "bundle.yaml").write_bytes(text)
        return root

    _loads_or_refuses(build)


@pytest.mark.slow
@FUZZ
@given(
    header=st.lists(st.sampled_from([*ASSET_FIELDS, "x", ""]), min_size=1, max_size=8),
    rows=st.lists(st.lists(st.sampled_from(TRICKY) | st.text(max_size=12), max_size=8), max_size=5),
    fuzz=edits,
    document=st.booleans(),
)
def test_any_csv_loads_or_is_refused(header: list[str], rows: list[list[str]], fuzz: list[Any], document: bool) -> None:
    import csv
    import io

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header if not document else [*EXCEPTION_FIELDS[:6], *header[:2]])
    writer.writerows(rows)
    data = _mutate(text.getvalue().encode("utf-8", "surrogatepass"), fuzz)
    kind = "exceptions" if document else "assets"
    _loads_or_refuses(lambda root: write_bundle(root, source("f.csv", data, kind, "csv")))


@pytest.mark.slow
@FUZZ
@given(
    records=st.lists(st.dictionaries(st.sampled_from([*ASSET_FIELDS, "kind"]), json_values, max_size=6), max_size=4),
    extra=st.lists(
        st.sampled_from(['{"id": "a", "id": "b"}', "[" * 90 + "]" * 90, "not json", "", '{"kind": "assets"}']),
        max_size=2,
    ),
    fuzz=edits,
    fmt=st.sampled_from(["jsonl", "records-jsonl", "exceptions"]),
)
def test_any_json_lines_load_or_are_refused(
    records: list[dict[str, Any]], extra: list[str], fuzz: list[Any], fmt: str
) -> None:
    lines = [json.dumps(r, allow_nan=True) for r in records] + extra
    data = _mutate(("\n".join(lines) + "\n").encode(), fuzz)
    if fmt == "records-jsonl":
        item = source("i.jsonl", data, fmt="records-jsonl")
    else:
        item = source("f.jsonl", data, "exceptions" if fmt == "exceptions" else "assets", "jsonl")
    _loads_or_refuses(lambda root: write_bundle(root, item))


@pytest.mark.slow
@FUZZ
@given(
    records=st.lists(json_values, max_size=4),
    fuzz=edits,
    document=st.booleans(),
    seed=st.sampled_from([more_assets(), [exception_record()], None]),
)
def test_any_yaml_evidence_loads_or_is_refused(records: list[Any], fuzz: list[Any], document: bool, seed: Any) -> None:
    data = _mutate(dump(seed if seed is not None else records), fuzz)
    kind = "exceptions" if document else "assets"
    _loads_or_refuses(lambda root: write_bundle(root, source("f.yaml", data, kind, "yaml")))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_seeded_random_bundles_never_reach_exit_5_on_the_command_line(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    rows = more_assets(first_seen_at=rng.choice(TRICKY), name=rng.choice(TRICKY), criticality=rng.choice(TRICKY))
    csv_data = bytearray(encode(rows, "csv"))
    jsonl = bytearray(encode([exception_record(owner=rng.choice(TRICKY))], "jsonl"))
    for data in (csv_data, jsonl):
        for _ in range(3):
            at = rng.randrange(len(data))
            data[at : at + rng.randrange(4)] = rng.randbytes(rng.randrange(1, 6))
    root = write_bundle(
        tmp_path / "bundle",
        source("more.csv", bytes(csv_data), "assets", "csv"),
        source("e.jsonl", bytes(jsonl), "exceptions", "jsonl"),
    )
    (tmp_path / "tmp").mkdir()
    result = run_cli(["validate", str(root)], tmpdir=tmp_path / "tmp")
    assert result.code in (0, 3), result.output
    assert "internal error" not in result.output
    assert "Traceback" not in result.output
    assert list((tmp_path / "tmp").iterdir()) == []
    assert COLLECTED  # the bundle was dated like every corpus bundle
