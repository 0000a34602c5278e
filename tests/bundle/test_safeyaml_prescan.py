"""Safe YAML loading and the prescan of evidence files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from reporter.bundle.limits import Limits
from reporter.bundle.prescan import prescan
from reporter.bundle.safeyaml import load_yaml
from reporter.errors import EvidenceError

LAUGHS = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(EvidenceError, match="billion laughs") as info:
        load_yaml(LAUGHS, "bundle.yaml", Limits())
    assert info.value.code == "file.yaml-limit"


def test_too_many_aliases_is_refused() -> None:
    text = b"a: &a 1\nb: [" + b",".join([b"*a"] * 150) + b"]\n"
    with pytest.raises(EvidenceError, match="more than 100 YAML aliases"):
        load_yaml(text, "x.yaml", Limits())


def test_python_tags_are_refused() -> None:
    with pytest.raises(EvidenceError, match="constructor") as info:
        load_yaml(b"a: !!python/object/apply:os.system ['true']\n", "x.yaml", Limits())
    assert info.value.location.line == 1


def test_modest_anchors_are_allowed_and_lines_are_indexed() -> None:
    doc = load_yaml(
        b"t: &t 2026-10-01T00:00:00Z\nsources:\n  - {path: a, c: *t}\n  - path: b\n    c: *t\n",
        "m.yaml",
        Limits(),
    )
    assert doc.data["sources"][1]["path"] == "b"
    assert doc.line_of(("sources", 1, "c")) == 5
    assert doc.line_of(("sources", 1, "missing")) == 4


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(EvidenceError) as info:
        load_yaml(b"a: 1\nb: [1,\n  2\nc: 3\n", "x.yaml", Limits())
    assert info.value.code == "file.bad-yaml"
    assert info.value.location.line == 4


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(EvidenceError, match="nesting"):
        load_yaml(b"[" * 100 + b"]" * 100, "x.yaml", Limits())


def test_prescan_hashes_and_counts(tmp_path: Path) -> None:
    data = b"id,name\n1,a\n2,b\n"
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    facts = prescan(path, "a.csv", Limits(), text=True)
    assert facts.sha256 == hashlib.sha256(data).hexdigest()
    assert (facts.size, facts.lines) == (len(data), 3)


@pytest.mark.parametrize(
    ("data", "code", "line"),
    [
        (b"id\n1\n2\x003\n", "file.nul-byte", 3),
        (b"id\n\xff\n", "file.bad-encoding", 2),
        (b"id\n" + b"x" * 5000 + b"\n", "file.line-too-long", 2),
        (b"x" * 5000, "file.line-too-long", 1),
    ],
)
def test_prescan_refuses_bad_text(tmp_path: Path, data: bytes, code: str, line: int) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with pytest.raises(EvidenceError) as info:
        prescan(path, "f.csv", Limits(max_line_bytes=4096), text=True)
    assert info.value.code == code
    assert info.value.location.line == line


def test_long_line_across_chunks_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"{}\n" + b"a" * 10_000 + b"\n{}\n")
    with pytest.raises(EvidenceError, match="longer than 3000"):
        prescan(path, "f.jsonl", Limits(max_line_bytes=3000), text=True)


def test_binary_files_are_only_hashed(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    path.write_bytes(b"PAR1\x00\x00\xffPAR1")
    assert prescan(path, "f.parquet", Limits(), text=False).size == 11
