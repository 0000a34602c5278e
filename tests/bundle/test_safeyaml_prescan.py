"""Safe YAML loading and the prescan of evidence files."""

from __future__ import annotations

import hashlib
import re
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


# --- values the parser would choke on, duplicate keys, encodings (issue 11) -----------------------


@pytest.mark.parametrize(
    "text",
    ["0000-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-07-01T00:00:00+99:00", "9999-12-31", "2026-02-30"],
)
def test_timestamps_stay_text_for_the_models_to_judge(text: str) -> None:
    doc = load_yaml(f"a: {text}\n".encode(), "x.yaml", Limits())
    assert doc.data == {"a": text}


def test_a_value_python_cannot_build_names_its_line() -> None:
    with pytest.raises(EvidenceError, match="cannot read this value") as info:
        load_yaml(b"a: 1\nb: " + b"9" * 5000 + b"\n", "x.yaml", Limits())
    assert (info.value.code, info.value.location.line) == ("file.bad-yaml", 2)
    assert "9999" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        (b"a: 1\na: 2\n", 2, "a"),
        (b"s:\n  - p: 1\n    q: 2\n    p: 3\n", 4, "s[0].p"),
        (b"'a': 1\n\"a\": 2\n", 2, "a"),
    ],
)
def test_duplicate_keys_are_refused_with_line_and_field(text: bytes, line: int, field: str) -> None:
    with pytest.raises(EvidenceError, match="appears twice") as info:
        load_yaml(text, "x.yaml", Limits())
    assert info.value.code == "file.duplicate-key"
    assert (info.value.location.line, info.value.location.field) == (line, field)


def test_merge_keys_and_repeated_anchors_are_not_duplicates() -> None:
    doc = load_yaml(b"base: &b {x: 1}\none: {<<: *b, y: 2}\ntwo: {<<: *b, y: 3}\n", "x.yaml", Limits())
    assert doc.data["two"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    ("data", "reason", "line", "byte"),
    [
        (b"id\nab\xc0\xaf\n", "an overlong encoding", 2, 5),
        (b"id\n\n\xed\xa0\x80\n", "an encoded surrogate", 3, 4),
        (b"id\nok\n\xff\n", "invalid start byte", 3, 6),
        (b"id\n\xe2\x82", "cut off at the end", 2, 3),
    ],
)
def test_prescan_names_line_byte_and_what_is_accepted(
    tmp_path: Path, data: bytes, reason: str, line: int, byte: int
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with pytest.raises(EvidenceError) as info:
        prescan(path, "f.csv", Limits(), text=True)
    message = str(info.value)
    assert info.value.code == "file.bad-encoding"
    assert info.value.location.line == line
    assert f"byte {byte}" in message
    assert reason in message
    assert "must be UTF-8" in message


def test_prescan_offset_is_exact_across_chunks(tmp_path: Path) -> None:
    # A four-byte character cut by the chunk boundary, then an invalid byte: the offset is in the file.
    data = b"a" * 100 + b"\n" + b"a" * (8190 - 101) + "\U0001f600".encode() + b"\n\xff"
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with pytest.raises(EvidenceError, match=f"f.csv:3: not valid UTF-8 at byte {len(data) - 1}:"):
        prescan(path, "f.csv", Limits(max_line_bytes=8192), text=True)


@pytest.mark.parametrize(
    ("bom", "name"),
    [(b"\xff\xfe", "UTF-16 (little-endian)"), (b"\xfe\xff", "UTF-16 (big-endian)"), (b"\xff\xfe\0\0", "UTF-32")],
)
def test_utf16_and_utf32_are_named_not_called_nul_bytes(tmp_path: Path, bom: bytes, name: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(bom + "id\n1\n".encode("utf-16-le"))
    with pytest.raises(EvidenceError, match=re.escape(f"is {name}")) as info:
        prescan(path, "f.csv", Limits(), text=True)
    assert info.value.code == "file.bad-encoding"


def test_a_utf8_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"\xef\xbb\xbfid\n1\n")
    assert prescan(path, "f.csv", Limits(), text=True).lines == 2


@pytest.mark.parametrize(
    ("tail", "line"),
    [(b"\xa9" + b"b" * 100 + b"\n", 0), (b"b" * 100 + b"\n", 3), (b"\xa9\n" + b"b" * 100 + b"\xff\n", 4)],
)
def test_ascii_chunks_skip_decoding_but_not_a_pending_character(tmp_path: Path, tail: bytes, line: int) -> None:
    """A chunk of ASCII is not decoded, unless a character begun in the chunk before is still
    pending: "é" cut by the chunk boundary is fine when its second byte follows, an error when
    ASCII follows; and bad UTF-8 after ASCII chunks is still found. Chunks are 4,096 bytes here."""
    path = tmp_path / "f.csv"
    head = b"id\n" + b"a" * 4000 + b"\n" + b"a" * 91 + b"\xc3"  # the chunk ends with the first byte of "é"
    assert len(head) == 4096
    path.write_bytes(head + tail)
    if not line:
        assert prescan(path, "f.csv", Limits(max_line_bytes=4096), text=True).lines == 3
        return
    with pytest.raises(EvidenceError) as info:
        prescan(path, "f.csv", Limits(max_line_bytes=4096), text=True)
    assert (info.value.code, info.value.location.line) == ("file.bad-encoding", line)
    assert "cut off at the end" not in str(info.value)  # found where it is, not at the end of the file


def test_lines_count_a_last_line_without_newline(tmp_path: Path) -> None:
    """The count is the lines DuckDB reads, which the CSV stager compares with the records."""
    path = tmp_path / "f.csv"
    path.write_bytes(b"id\n1\n2")
    assert prescan(path, "f.csv", Limits(), text=True).lines == 3
    path.write_bytes(b"")
    assert prescan(path, "f.csv", Limits(), text=True).lines == 0
