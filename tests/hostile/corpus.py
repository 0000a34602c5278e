"""The hostile-input corpus (issue 11): every malformed or hostile bundle, archive and tool file is
generated here — no committed binaries — with the answer the command line must give: exit code, a
message (regular expression), and the wall time and peak memory it may take.

Each case writes its input under a directory and returns the command line to run. Every bundle also
carries a gitleaks file with a planted secret (SECRET), which must appear in no output.

`python tests/hostile/corpus.py OUTDIR` writes the whole corpus to OUTDIR for inspection.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import tarfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

if __package__ in (None, ""):  # run as a script: make `support` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.bundles import encode, example
from support.leaks import gitleaks_v8_finding

SECRET = "ghp_Pl4ntedH0stileCorpusT0ken9Qx"
COLLECTED = "2026-10-01T02:00:00Z"
MIB = 1024 * 1024
GIB = 1024 * MIB
DEEP = 5000  # nesting levels of the deep-JSON cases (Python's recursion limit is 1000)


@dataclass(frozen=True)
class Run:
    """A command line over a built input, and the inputs that must not change."""

    args: tuple[str, ...]
    inputs: tuple[Path, ...]


Builder = Callable[[Path, Path], Run]  # (input directory, output directory) -> Run


@dataclass(frozen=True)
class Case:
    """One hostile input and the answer it must get."""

    name: str
    build: Builder
    code: int
    message: str  # a regular expression that the output (stdout + stderr) must match
    slow: bool = False
    seconds: float = 45.0
    rss_mib: int = 700
    fsize_mib: int | None = None  # RLIMIT_FSIZE of the run: a bomb must be refused before writing this much
    absent: tuple[str, ...] = field(default=())  # strings that must appear in no output
    forbidden: tuple[tuple[str, str], ...] = field(default=())  # (output file glob, pattern it must not match)


# --- bundles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One file of a bundle and its manifest entry."""

    path: str
    data: bytes
    entry: dict[str, Any]


def source(path: str, data: bytes, kind: str | None = None, fmt: str | None = None, **entry: Any) -> Source:
    """A bundle file; kind and format go into its manifest entry when given."""
    extra = {k: v for k, v in (("kind", kind), ("format", fmt)) if v is not None}
    return Source(path, data, {**extra, **entry})


def leak() -> bytes:
    """A gitleaks report whose Secret and Match carry the planted secret."""
    return json.dumps([gitleaks_v8_finding(SECRET, "2026-08-01T00:00:00Z", in_metadata=False)]).encode()


def assets(**changes: Any) -> list[dict[str, Any]]:
    """Two valid assets; `changes` alter the first."""
    return [
        example("assets", **changes),
        example("assets", id="a-erp-01", name="erp-01", internet_facing=False, aliases=[]),
    ]


def base_sources() -> list[Source]:
    """What every corpus bundle holds: two assets and a gitleaks file with the planted secret."""
    return [
        source("inventory/assets.csv", encode(assets(), "csv"), "assets", "csv"),
        source("secrets/gitleaks.json", leak(), fmt="gitleaks-json", asset_id="a-web-01"),
    ]


def manifest(sources: list[Source], **changes: Any) -> dict[str, Any]:
    """bundle.yaml for these sources, with their hashes."""
    entries = [
        {"path": s.path, "collected_at": COLLECTED, "tool": "corpus", **s.entry, "sha256": sha256(s.data)}
        for s in sources
    ]
    return {
        "bundle_version": 1,
        "organisation": "Corpus Org",
        "scope": "Hostile inputs",
        "period": {"start": "2026-07-01", "end": "2026-09-30"},
        "prepared_by": {"name": "Tester", "role": "QA"},
        "sources": entries,
        **changes,
    }


def sha256(data: bytes) -> str:
    """Lower-case hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def dump(document: Any) -> bytes:
    """YAML as the tests write it."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode()


def write_bundle(
    root: Path,
    *extra: Source,
    edit: Callable[[bytes], bytes] | None = None,
    policy: bytes | None = None,
    **changes: Any,
) -> Path:
    """A bundle directory: the base sources, `extra`, a manifest (optionally edited as text)."""
    sources = [*base_sources(), *extra]
    for item in sources:
        target = root / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.data)
    if policy is not None:
        (root / "policy.yaml").write_bytes(policy)
        changes = {"policy": "policy.yaml", "policy_sha256": sha256(policy), **changes}
    document = {k: v for k, v in manifest(sources, **changes).items() if v is not None}
    text = dump(document)
    (root / "bundle.yaml").write_bytes(edit(text) if edit else text)
    return root


def validate(root: Path, *more: str) -> Run:
    """`validate ROOT`."""
    return Run(("validate", str(root), *more), (root,))


def bundle_case(*extra: Source, edit: Callable[[bytes], bytes] | None = None, **changes: Any) -> Builder:
    """A builder that validates a directory bundle with these extra sources."""

    def build(inp: Path, out: Path) -> Run:
        del out
        return validate(write_bundle(inp / "bundle", *extra, edit=edit, **changes))

    return build


def replace(old: str, new: str) -> Callable[[bytes], bytes]:
    """A manifest edit: replace the first `old` by `new` (as text)."""

    def edit(text: bytes) -> bytes:
        assert old.encode() in text, old
        return text.replace(old.encode(), new.encode(), 1)

    return edit


# --- archives ------------------------------------------------------------------------------------


def bundle_files(*extra: Source) -> dict[str, bytes]:
    """A valid bundle as {member name: bytes}, for archives."""
    sources = [*base_sources(), *extra]
    return {"bundle.yaml": dump(manifest(sources)), **{s.path: s.data for s in sources}}


def write_zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    """A zip with exactly these members (names unchecked: that is the point)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": some cases want exactly that
        for info, data in members:
            archive.writestr(info, data)
    return path


def zip_case(extra: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Builder:
    """A valid bundle zipped with extra (hostile) members."""

    def build(inp: Path, out: Path) -> Run:
        del out
        members: list[tuple[zipfile.ZipInfo | str, bytes]] = list(bundle_files().items())
        return validate(write_zip(inp / "bundle.zip", members + extra))

    return build


def symlink_member(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    """A zip member that unzip would create as a symbolic link."""
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16
    return info, target.encode()


def zip_bomb(inp: Path, out: Path) -> Run:
    """One 1 GiB member of zeros (about 1 MiB compressed) next to a valid bundle."""
    del out
    path = inp / "bomb.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in bundle_files().items():
            archive.writestr(name, data)
        with archive.open("inventory/zeros.csv", "w", force_zip64=True) as member:
            chunk = bytes(4 * MIB)
            for _ in range(GIB // len(chunk)):
                member.write(chunk)
    return validate(path)


def zip_spread_bomb(inp: Path, out: Path) -> Run:
    """Four hundred members of 512 KiB of zeros each: no member is large, the archive is a bomb."""
    del out
    members: list[tuple[zipfile.ZipInfo | str, bytes]] = list(bundle_files().items())
    members += [(f"pad/z{i:03}.bin", bytes(MIB // 2)) for i in range(400)]
    return validate(write_zip(inp / "spread.zip", members))


def zip_many_files(inp: Path, out: Path) -> Run:
    """More members than the file limit."""
    del out
    members: list[tuple[zipfile.ZipInfo | str, bytes]] = list(bundle_files().items())
    members += [(f"many/{i:05}.txt", b"") for i in range(10_001)]
    return validate(write_zip(inp / "many.zip", members))


def zip_truncated(inp: Path, out: Path) -> Run:
    """The first half of a valid zip."""
    del out
    whole = write_zip(inp / "whole.zip", list(bundle_files().items())).read_bytes()
    path = inp / "truncated.zip"
    path.write_bytes(whole[: len(whole) // 2])
    (inp / "whole.zip").unlink()
    return validate(path)


def _tar_bytes(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    """A regular tar member."""
    return tarfile.TarInfo(name), data


def special(name: str, kind: bytes, link: str = "") -> tuple[tarfile.TarInfo, None]:
    """A link, device or FIFO tar member."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info, None


def tar_case(extra: list[tuple[tarfile.TarInfo, bytes | None]]) -> Builder:
    """A valid bundle as .tar.gz with extra (hostile) members."""

    def build(inp: Path, out: Path) -> Run:
        del out
        members: list[tuple[tarfile.TarInfo, bytes | None]] = [regular(n, d) for n, d in bundle_files().items()]
        path = inp / "bundle.tar.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(zlib_gzip(_tar_bytes(members + extra)))
        return validate(path)

    return build


def zlib_gzip(data: bytes) -> bytes:
    """gzip framing around zlib (deterministic: no file name, no time)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def _gzip_stream(path: Path, parts: Iterator[bytes]) -> None:
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    with path.open("wb") as handle:
        for part in parts:
            handle.write(compressor.compress(part))
        handle.write(compressor.flush())


def _header(name: str, kind: bytes, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


def _members(files: dict[str, bytes]) -> Iterator[bytes]:
    """Tar members (header, data, padding) without the end-of-archive blocks."""
    for name, data in files.items():
        yield _header(name, tarfile.REGTYPE, len(data)) + data + bytes(-len(data) % 512)


def _huge_header(kind: bytes) -> Builder:
    """A tar.gz whose first header (GNU long name or PAX) declares 1 GiB of header data, all present."""

    def build(inp: Path, out: Path) -> Run:
        del out
        path = inp / "header.tar.gz"
        path.parent.mkdir(parents=True, exist_ok=True)

        def parts() -> Iterator[bytes]:
            yield _header("././@LongLink" if kind == tarfile.GNUTYPE_LONGNAME else "pax", kind, GIB)
            chunk = b"a" * (4 * MIB)
            for _ in range(GIB // len(chunk)):
                yield chunk
            yield from _members(bundle_files())
            yield bytes(1024)

        _gzip_stream(path, parts())
        return validate(path)

    return build


def tar_bomb(inp: Path, out: Path) -> Run:
    """A valid bundle plus one member of 1 GiB of zeros, as .tar.gz (about 1 MiB)."""
    del out
    path = inp / "bomb.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)

    def parts() -> Iterator[bytes]:
        yield from _members(bundle_files())
        yield _header("inventory/zeros.csv", tarfile.REGTYPE, GIB)
        chunk = bytes(4 * MIB)
        for _ in range(GIB // len(chunk)):
            yield chunk
        yield bytes(1024)

    _gzip_stream(path, parts())
    return validate(path)


def tar_truncated(inp: Path, out: Path) -> Run:
    """The first 60 % of a valid .tar.gz."""
    del out
    whole = zlib_gzip(_tar_bytes([regular(n, d) for n, d in bundle_files().items()]))
    path = inp / "truncated.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(whole[: len(whole) * 6 // 10])
    return validate(path)


# --- directories ---------------------------------------------------------------------------------


def dir_case(prepare: Callable[[Path], None]) -> Builder:
    """A valid directory bundle, then `prepare(root)` adds the hostile entry."""

    def build(inp: Path, out: Path) -> Run:
        del out
        root = write_bundle(inp / "bundle")
        prepare(root)
        return validate(root)

    return build


def _loop(root: Path) -> None:
    (root / "loop-a").symlink_to("loop-b")
    (root / "loop-b").symlink_to("loop-a")


def _dangling(root: Path) -> None:
    (root / "gone.csv").symlink_to("does-not-exist.csv")


def _outside(root: Path) -> None:
    (root / "passwd.csv").symlink_to("/etc/passwd")


def _fifo(root: Path) -> None:
    os.mkfifo(root / "pipe.csv")


def _control_name(root: Path) -> None:
    (root / "notes\x1b[2J\nerror: forged.csv").write_bytes(b"x\n")


# --- files inside bundles ------------------------------------------------------------------------


def deep_json(levels: int = DEEP) -> str:
    """A JSON value nested `levels` deep."""
    return "[" * levels + "]" * levels


def exception_record(**changes: Any) -> dict[str, Any]:
    """A valid exception on the corpus assets."""
    return example("exceptions", asset_ids=["a-erp-01"], vuln_ids=["CVE-2024-5535"], **changes)


def json_text(record: dict[str, Any], key: str, raw: str) -> str:
    """A JSON object with `key` set to the raw JSON text `raw` (deep, huge, duplicated...)."""
    text = json.dumps({k: v for k, v in record.items() if k != key})
    return text[:-1] + f', "{key}": {raw}' + "}"


def csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    """Canonical CSV of these records."""
    return encode(rows, "csv")


def more_assets(**changes: Any) -> list[dict[str, Any]]:
    """Two more valid assets (ids unused by the base bundle); `changes` alter the first."""
    return [
        example("assets", **{"id": "a-more-01", "name": "more-01", "internet_facing": False, "aliases": [], **changes}),
        example("assets", id="a-more-02", name="more-02", internet_facing=False, aliases=[]),
    ]


def more_assets_csv(**changes: Any) -> bytes:
    """`more_assets` as CSV."""
    return encode(more_assets(**changes), "csv")


def extra_assets(data: bytes) -> Source:
    """A second assets file (the base one stays) with these bytes."""
    return source("inventory/more-assets.csv", data, "assets", "csv")


def parquet_bomb(inp: Path, out: Path) -> Run:
    """A small Parquet file that expands to 20 million observation rows."""
    del out
    root = inp / "bundle"
    target = root / "discovery" / "bomb.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'o-1' AS id, 'a-web-01' AS asset_id, 'edr' AS source, "
        "TIMESTAMPTZ '2026-09-01 00:00:00+00' AS observed_at FROM range(20000000)) "
        f"TO '{target}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2000000)"
    )
    con.close()
    data = target.read_bytes()
    return validate(write_bundle(root, source("discovery/bomb.parquet", data, "observations", "parquet")))


def records_jsonl(*lines: str) -> Source:
    """An `exposure-reporter import` output file with these raw lines."""
    return source("imported/records.jsonl", "".join(line + "\n" for line in lines).encode(), fmt="records-jsonl")


def baseline_deep(inp: Path, out: Path) -> Run:
    """report --baseline with a results.json nested 5000 levels deep."""
    root = write_bundle(inp / "bundle")
    baseline = inp / "baseline.json"
    baseline.write_text('{"format_version": 1, "x": ' + deep_json() + "}")
    return Run(("report", str(root), "-o", str(out), "--format", "json", "--baseline", str(baseline)), (inp,))


def nessus_xxe(inp: Path, out: Path) -> Run:
    """A Nessus file whose external entity names a local file: it must never be read."""
    del out
    private = inp / "private.txt"
    private.parent.mkdir(parents=True, exist_ok=True)
    private.write_text(XXE_SECRET)
    xml = (
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file://{private}">]>\n'
        "<NessusClientData_v2><Report name='r'><ReportHost name='web-01'><ReportItem port='22' "
        "pluginID='1' severity='3'><cve>CVE-2024-6387</cve><plugin_output>&x;</plugin_output>"
        "</ReportItem></ReportHost></Report></NessusClientData_v2>\n"
    )
    root = write_bundle(inp / "bundle", source("scans/web.nessus", xml.encode(), fmt="nessus-xml"))
    return Run(("validate", str(root)), (inp,))


XXE_SECRET = "XXE-private-file-content-5b1f"


def report_case(*extra: Source, formats: str = "html,csv,json") -> Builder:
    """`report` on a valid bundle whose free text is hostile."""

    def build(inp: Path, out: Path) -> Run:
        root = write_bundle(inp / "bundle", *extra)
        return Run(("report", str(root), "-o", str(out), "--format", formats), (root,))

    return build


INJECTION = '<script>alert(1)</script><img src=file:///etc/hostname>=HYPERLINK("http://127.0.0.1/","x")'
CONTROL = "\x1b[31mred\x1b[0m\r\nerror: forged line\u202etxt.exe"


def policy_case(policy: bytes, declared: str | None) -> Builder:
    """A bundle with policy.yaml declared with `declared` as its sha256 (None: no hash)."""

    def build(inp: Path, out: Path) -> Run:
        del out
        return validate(write_bundle(inp / "bundle", policy=policy, policy_sha256=declared))

    return build


POLICY = b"policy_version: 1\nsla:\n  rules: []\n"


def issue(file: str, detail: str) -> str:
    """A pattern for one issue line of `validate`'s text output, under the heading of `file`."""
    return rf"(?m)^{re.escape(file)}(?:  \(.*\))?\n(?:  .*\n)*?  .*{detail}"


def unsafe(file: str, detail: str) -> str:
    """A pattern for the one `bundle.unsafe` issue of a refused archive or directory."""
    return issue(file, rf"bundle\.unsafe\s.*{detail}")


def _cases() -> Iterator[Case]:
    yield from _archive_cases()
    yield from _directory_cases()
    yield from _yaml_cases()
    yield from _json_cases()
    yield from _csv_cases()
    yield from _time_cases()
    yield from _other_cases()


def _archive_cases() -> Iterator[Case]:
    yield Case(
        "zip-names-differ-by-trailing-slash",
        zip_case([("notes", b"x"), ("notes/", b"")]),
        3,
        unsafe("notes", "archive holds this member as a file and as a directory"),
    )
    yield Case(
        "zip-names-differ-by-case",
        zip_case([("notes.txt", b"x"), ("NOTES.txt", b"y")]),
        3,
        unsafe("NOTES.txt", "archive members 'notes.txt' and 'NOTES.txt' differ only in case"),
    )
    yield Case(
        "zip-file-and-directory",
        zip_case([("notes", b"x"), ("notes/a.csv", b"y")]),
        3,
        unsafe("notes", "as a file and as a directory"),
    )
    yield Case("zip-slip", zip_case([("../evil.csv", b"x")]), 3, unsafe("../evil.csv", r"archive member path .*'\.\.'"))
    yield Case("zip-absolute-member", zip_case([("/etc/evil.csv", b"x")]), 3, unsafe("/etc/evil.csv", "absolute"))
    yield Case("zip-drive-letter", zip_case([("C:\\evil.csv", b"x")]), 3, unsafe("C:\\evil.csv", "backslash"))
    yield Case(
        "zip-symlink-member",
        zip_case([symlink_member("passwd.csv", "/etc/passwd")]),
        3,
        unsafe("passwd.csv", "symbolic link"),
    )
    yield Case(
        "zip-duplicate-member",
        zip_case([("inventory/assets.csv", b"id\n")]),
        3,
        unsafe("inventory/assets.csv", "archive holds this member twice"),
    )
    yield Case(
        "zip-control-character-name",
        zip_case([("notes\x1b[2J\nerror: forged.csv", b"x")]),
        3,
        unsafe(r"notes\x1b[2J\x0aerror: forged.csv", "control character"),
        absent=("\x1b", "\nerror: forged"),
    )
    yield Case("zip-too-many-files", zip_many_files, 3, unsafe("(bundle)", "the archive holds more than 10000 files"))
    yield Case("zip-truncated", zip_truncated, 3, unsafe("truncated.zip", "not a readable zip archive"))
    bomb = "refusing a likely decompression bomb"
    yield Case(
        "zip-bomb-1gib",
        zip_bomb,
        3,
        unsafe("inventory/zeros.csv", f"compression ratio above 200:1; {bomb}"),
        slow=True,
        fsize_mib=4,
        seconds=60,
        rss_mib=400,
    )
    yield Case(
        "zip-bomb-spread-over-members",
        zip_spread_bomb,
        3,
        unsafe("(bundle)", f"the archive expands more than 200 times; {bomb}"),
        fsize_mib=4,
    )
    yield Case("tar-slip", tar_case([regular("../evil.csv", b"x")]), 3, unsafe("../evil.csv", r"'\.\.'"))
    yield Case(
        "tar-absolute-member", tar_case([regular("/etc/evil.csv", b"x")]), 3, unsafe("/etc/evil.csv", "absolute")
    )
    for name, kind, what in (
        ("symlink", tarfile.SYMTYPE, "is a link"),
        ("hardlink", tarfile.LNKTYPE, "is a link"),
        ("device", tarfile.CHRTYPE, "device"),
        ("fifo", tarfile.FIFOTYPE, "FIFO"),
    ):
        yield Case(f"tar-{name}", tar_case([special("evil.csv", kind, "/etc/passwd")]), 3, unsafe("evil.csv", what))
    yield Case(
        "tar-duplicate-member",
        tar_case([regular("inventory/assets.csv", b"id\n")]),
        3,
        unsafe("inventory/assets.csv", "twice"),
    )
    yield Case(
        "tar-names-differ-by-case",
        tar_case([regular("Bundle.yaml", b"x")]),
        3,
        unsafe("Bundle.yaml", "differ only in case"),
    )
    yield Case(
        "tar-long-member-name",
        tar_case([regular("d/" + "n" * 8000, b"x")]),
        3,
        unsafe("d/" + "n" * 118 + "… (8,002 characters)", "name is longer than 1024 bytes"),
    )
    yield Case("tar-truncated", tar_truncated, 3, unsafe("truncated.tar.gz", "damaged tar archive"))
    for name, kind in (("gnu-longname", tarfile.GNUTYPE_LONGNAME), ("pax-header", tarfile.XHDTYPE)):
        yield Case(
            f"tar-{name}-1gib",
            _huge_header(kind),
            3,
            unsafe("(bundle)", "a tar header block .* declares 1,073,741,824 bytes; the limit is 65,536"),
            slow=True,
            seconds=60,
            rss_mib=400,
        )
    yield Case(
        "tar-bomb-1gib",
        tar_bomb,
        3,
        unsafe("(bundle)", f"the archive expands more than 200 times; {bomb}"),
        slow=True,
        fsize_mib=4,
        seconds=60,
        rss_mib=400,
    )


def _directory_cases() -> Iterator[Case]:
    unresolvable = "is a symbolic link that cannot be resolved"
    yield Case("dir-symlink-loop", dir_case(_loop), 3, unsafe("loop-a", unresolvable))
    yield Case("dir-dangling-symlink", dir_case(_dangling), 3, unsafe("gone.csv", unresolvable))
    yield Case("dir-symlink-outside", dir_case(_outside), 3, unsafe("passwd.csv", "outside the bundle"))
    yield Case("dir-fifo", dir_case(_fifo), 3, unsafe("pipe.csv", "not a regular file"))
    yield Case(
        "dir-control-character-name",
        dir_case(_control_name),
        3,
        unsafe(r"notes\x1b[2J\x0aerror: forged.csv", "control character"),
        absent=("\x1b", "\nerror: forged"),
    )


def _yaml_cases() -> Iterator[Case]:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    yield Case(
        "yaml-billion-laughs",
        bundle_case(source("l.yaml", laughs.encode(), "assets", "yaml")),
        3,
        issue("l.yaml", "file.yaml-limit .*billion laughs"),
    )
    tag = b"- !!python/object/apply:os.system ['touch /tmp/pwned']\n"
    yield Case(
        "yaml-python-tag",
        bundle_case(source("a.yaml", tag, "assets", "yaml")),
        3,
        issue("a.yaml", "file.bad-yaml .*line 1: invalid YAML"),
    )
    nested = ("- " * 200 + "x\n").encode()
    yield Case(
        "yaml-deep-nesting",
        bundle_case(source("a.yaml", nested, "assets", "yaml")),
        3,
        issue("a.yaml", "file.yaml-limit .*nesting deeper than 64"),
    )
    year0 = dump([exception_record()]).replace(b"'2026-06-15T10:00:00Z'", b"0000-01-01T00:00:00Z")
    yield Case(
        "yaml-year-zero",
        bundle_case(source("e.yaml", year0, "exceptions", "yaml")),
        3,
        issue("e.yaml", r"time.implausible .*line \d+, field approved_at: implausible date or time: year 0000"),
    )
    feb30 = dump(more_assets(first_seen_at="@")).replace(b"first_seen_at: '@'", b"first_seen_at: 2026-02-30T00:00:00Z")
    yield Case(
        "yaml-february-30",
        bundle_case(source("a.yaml", feb30, "assets", "yaml")),
        3,
        issue("a.yaml", "record.bad-type .*line 1, field first_seen_at: '2026-02-30T00:00:00Z' is not"),
    )
    offset = dump([exception_record()]).replace(b"'2026-06-15T10:00:00Z'", b"2026-06-15T10:00:00+99:00")
    yield Case(
        "yaml-offset-99-hours",
        bundle_case(source("e.yaml", offset, "exceptions", "yaml")),
        3,
        issue("e.yaml", r"time.implausible .*field approved_at: implausible date or time: its UTC offset \+99:00"),
    )
    huge = dump([exception_record()]).replace(b"owner: erp-team", b"owner: " + b"9" * 5000)
    yield Case(
        "yaml-huge-integer",
        bundle_case(source("e.yaml", huge, "exceptions", "yaml")),
        3,
        issue("e.yaml", r"file.bad-yaml .*line \d+: invalid YAML: cannot read this value"),
    )
    dup = dump(more_assets()).replace(b"  name: more-02\n", b"  name: more-02\n  name: other\n")
    yield Case(
        "yaml-duplicate-key",
        bundle_case(source("a.yaml", dup, "assets", "yaml")),
        3,
        issue("a.yaml", r"file.duplicate-key .*line \d+, field \[1\]\.name: key 'name' appears twice"),
    )
    yield Case(
        "manifest-duplicate-key",
        bundle_case(edit=replace("scope: Hostile inputs\n", "scope: Hostile inputs\nscope: Other\n")),
        3,
        issue("bundle.yaml", "file.duplicate-key .*line 4, field scope: key 'scope' appears twice"),
    )
    yield Case(
        "manifest-period-end-9999",
        bundle_case(edit=replace("end: '2026-09-30'", "end: '9999-12-31'")),
        3,
        issue("bundle.yaml", r"manifest.invalid .*line \d+, field period.end: .*implausible"),
    )
    yield Case(
        "manifest-year-zero",
        bundle_case(edit=replace("start: '2026-07-01'", "start: 0000-01-01")),
        3,
        issue("bundle.yaml", r"manifest.invalid .*field period.start: implausible date or time: year 0000"),
    )
    yield Case(
        "manifest-february-30",
        bundle_case(edit=replace("start: '2026-07-01'", "start: 2026-02-30")),
        3,
        issue("bundle.yaml", r"manifest.invalid .*field period.start"),
    )
    yield Case(
        "manifest-offset-99-hours",
        bundle_case(edit=replace(f"collected_at: '{COLLECTED}'", "collected_at: 2026-10-01T02:00:00+99:00")),
        3,
        issue("bundle.yaml", r"manifest.invalid .*field sources\[0\].collected_at: implausible .* \+99:00 is beyond"),
    )
    yield Case(
        "manifest-utf16",
        bundle_case(edit=lambda text: "\ufeff".encode("utf-16-le") + text.decode().encode("utf-16-le")),
        3,
        issue("bundle.yaml", "file.bad-encoding .*line 1: is UTF-16 .*must be UTF-8"),
    )
    yield Case(
        "policy-hash-mismatch",
        policy_case(POLICY, "0" * 64),
        3,
        issue("policy.yaml", "policy.hash-mismatch .*the policy changed after the manifest was written"),
    )
    yield Case("policy-without-hash", policy_case(POLICY, None), 0, issue("policy.yaml", "warning +policy.no-hash"))
    policy_dup = POLICY + b"policy_version: 2\n"
    yield Case(
        "policy-duplicate-key",
        policy_case(policy_dup, sha256(policy_dup)),
        3,
        issue("policy.yaml", "file.duplicate-key .*line 4, field policy_version"),
    )


def _json_cases() -> Iterator[Case]:
    deep = issue  # the deep cases all answer "nested deeper than 64 levels"
    exc = exception_record()
    text = "[" + json_text(exc, "justification", deep_json()) + "]"
    yield Case(
        "json-deep-exceptions",
        bundle_case(source("e.json", text.encode(), "exceptions", "json")),
        3,
        deep("e.json", "file.json-limit .*record 1: JSON nested deeper than 64 levels"),
    )
    agent = json_text(example("agents", identity_ids=[]), "tools", deep_json()) + "\n"
    yield Case(
        "jsonl-deep-agents",
        bundle_case(source("g.jsonl", agent.encode(), "agents", "jsonl")),
        3,
        deep("g.jsonl", "file.json-limit .*line 1: JSON nested deeper than 64 levels"),
    )
    record = json_text({"kind": "assets", "id": "a-x"}, "tags", deep_json())
    yield Case(
        "records-jsonl-deep",
        bundle_case(records_jsonl(record)),
        3,
        deep("imported/records.jsonl", "file.json-limit .*line 1: JSON nested deeper than 64 levels"),
    )
    cell = csv_bytes([{**{k: v for k, v in exc.items() if k != "compensating_controls"}, "compensating_controls": ""}])
    cell = cell.rstrip(b"\n") + b'"' + deep_json().encode() + b'"\n'
    yield Case(
        "csv-json-cell-deep",
        bundle_case(source("e.csv", cell, "exceptions", "csv")),
        3,
        deep("e.csv", "file.json-limit .*line 2, field compensating_controls: JSON nested deeper than 64"),
    )
    yield Case("baseline-deep-json", baseline_deep, 2, r"error: --baseline .*baseline\.json: .*nested deeper than")
    dup_line = json.dumps(more_assets()[0])[:-1] + ', "id": "a-other"}\n'
    yield Case(
        "jsonl-duplicate-key",
        bundle_case(source("a.jsonl", dup_line.encode(), "assets", "jsonl")),
        3,
        issue("a.jsonl", "file.duplicate-key .*line 1, field id: key 'id' appears twice"),
    )
    dup_array = "[\n" + json.dumps(more_assets()[0])[:-1] + ', "id": "a-other"}\n]'
    yield Case(
        "json-duplicate-key",
        bundle_case(source("a.json", dup_array.encode(), "assets", "json")),
        3,
        issue("a.json", "file.duplicate-key .*record 1, field id: key 'id' appears twice"),
    )
    nested = json.dumps(exc).replace('"evidence_ref": "fw-rule-7781"', '"evidence_ref": "a", "evidence_ref": "b"')
    yield Case(
        "jsonl-duplicate-nested-key",
        bundle_case(source("e.jsonl", (nested + "\n").encode(), "exceptions", "jsonl")),
        3,
        issue("e.jsonl", "file.duplicate-key .*line 1, field evidence_ref: key 'evidence_ref' appears twice"),
    )
    yield Case(
        "records-jsonl-duplicate-key",
        bundle_case(records_jsonl('{"kind": "assets", "id": "a-x", "id": "a-y", "name": "n"}')),
        3,
        issue("imported/records.jsonl", "file.duplicate-key .*line 1, field id"),
    )
    big = json_text(exc, "owner", "9" * 5000) + "\n"
    yield Case(
        "jsonl-huge-integer",
        bundle_case(source("e.jsonl", big.encode(), "exceptions", "jsonl")),
        3,
        issue("e.jsonl", "record.invalid-json .*line 1: not valid JSON: Exceeds the limit"),
    )


def _csv_cases() -> Iterator[Case]:
    exc = exception_record()
    wide = "w" * 200_000
    yield Case(
        "csv-cell-over-python-field-limit",
        bundle_case(extra_assets(more_assets_csv(name=wide, criticality="urgent"))),
        3,
        issue("inventory/more-assets.csv", "record.bad-enum .*line 2, field criticality: 'urgent'"),
    )
    yield Case(
        "csv-document-cell-over-python-field-limit",
        bundle_case(source("e.csv", csv_bytes([{**exc, "justification": wide}]), "exceptions", "csv")),
        0,
        r"valid — 0 error\(s\)",
    )
    plain = more_assets_csv()
    encoding = issue(
        "inventory/more-assets.csv", r"file.bad-encoding .*line 3: not valid UTF-8 at byte \d+: {}; .*UTF-8"
    )
    yield Case(
        "csv-invalid-utf8",
        bundle_case(extra_assets(plain.replace(b"more-02", b"more-\xff2", 1))),
        3,
        encoding.format("invalid start byte"),
    )
    yield Case(
        "csv-overlong-encoding",
        bundle_case(extra_assets(plain.replace(b"more-02", b"more-\xc0\xaf2", 1))),
        3,
        encoding.format("an overlong encoding"),
    )
    yield Case(
        "csv-lone-surrogate",
        bundle_case(extra_assets(plain.replace(b"more-02", b"more-\xed\xa0\x802", 1))),
        3,
        encoding.format(r"an encoded surrogate \(UTF-16 leaking into UTF-8\)"),
    )
    utf16 = "\ufeff".encode("utf-16-le") + plain.decode().encode("utf-16-le")
    yield Case(
        "csv-utf16-bom",
        bundle_case(extra_assets(utf16)),
        3,
        issue("inventory/more-assets.csv", r"file.bad-encoding .*line 1: is UTF-16 \(little-endian\)"),
    )
    yield Case(
        "csv-document-invalid-utf8",
        bundle_case(source("e.csv", csv_bytes([exc]).replace(b"ERP", b"\xffRP", 1), "exceptions", "csv")),
        3,
        issue("e.csv", r"file.bad-encoding .*line 2: not valid UTF-8 at byte \d+"),
    )
    yield Case(
        "csv-nul-byte",
        bundle_case(extra_assets(plain.replace(b"more-02", b"more\x0002", 1))),
        3,
        issue("inventory/more-assets.csv", "file.nul-byte .*line 3"),
    )
    long_line = plain + b"a-long," + b"x" * (2 * MIB) + b"\n"

    def line_limit(inp: Path, out: Path) -> Run:
        run = bundle_case(extra_assets(long_line))(inp, out)
        return Run((*run.args, "--max-line-mib", "1"), run.inputs)

    yield Case("csv-line-too-long", line_limit, 3, issue("inventory/more-assets.csv", "file.line-too-long .*line 4"))
    yield Case(
        "csv-control-characters",
        bundle_case(extra_assets(more_assets_csv(criticality=CONTROL))),
        3,
        issue("inventory/more-assets.csv", r"record.bad-enum .*field criticality: '\\x1b\[31mred"),
        absent=("\x1b", "\nerror: forged", "\u202e"),
    )


def _time_cases() -> Iterator[Case]:
    finding = encode([example("findings", first_detected_at="0000-01-01T00:00:00Z")], "jsonl")
    yield Case(
        "jsonl-timestamp-year-zero",
        bundle_case(source("f.jsonl", finding, "findings", "jsonl")),
        3,
        issue("f.jsonl", "time.implausible .*line 1, field first_detected_at: '0000-01-01T00:00:00Z'"),
    )
    yield Case(
        "csv-timestamp-offset-99-hours",
        bundle_case(extra_assets(more_assets_csv(first_seen_at="2026-01-10T00:00:00+99:00"))),
        3,
        issue("inventory/more-assets.csv", r"time.implausible .*line 2, field first_seen_at: .*\+99:00"),
    )
    late = encode([example("findings", closed_at="2150-01-01T00:00:00Z")], "jsonl")
    yield Case(
        "jsonl-timestamp-year-2150",
        bundle_case(source("f.jsonl", late, "findings", "jsonl")),
        3,
        issue("f.jsonl", "time.implausible .*field closed_at: '2150-01-01T00:00:00Z'"),
    )
    old = dump([exception_record(expires_at="0001-01-01T00:00:00Z")])
    yield Case(
        "yaml-document-timestamp-year-1",
        bundle_case(source("e.yaml", old, "exceptions", "yaml")),
        3,
        issue("e.yaml", r"time.implausible .*line \d+, field expires_at: implausible"),
    )
    kev = encode([example("kev_entries", date_added="2026-02-30")], "csv")
    yield Case(
        "csv-date-february-30",
        bundle_case(source("k.csv", kev, "kev_entries", "csv")),
        3,
        issue("k.csv", "record.bad-type .*line 2, field date_added: '2026-02-30' is not a date"),
    )


def _other_cases() -> Iterator[Case]:
    yield Case(
        "parquet-row-bomb",
        parquet_bomb,
        3,
        issue("discovery/bomb.parquet", "file.parquet-limit .*declares 20,000,000 rows"),
        slow=True,
        seconds=60,
        rss_mib=400,
    )
    yield Case(
        "parquet-not-parquet",
        bundle_case(source("o.parquet", b"PAR1" + bytes(range(64)), "observations", "parquet")),
        3,
        issue("o.parquet", "file.bad-syntax"),
    )
    yield Case("nessus-xxe", nessus_xxe, 3, issue("scans/web.nessus", "file.bad-tool-format"), absent=(XXE_SECRET,))
    deep_tool = '{"SchemaVersion": 2, "Results": ' + deep_json() + "}"
    yield Case(
        "tool-file-deep-json",
        bundle_case(source("t.json", deep_tool.encode(), fmt="trivy-json", asset_id="a-web-01")),
        3,
        issue("t.json", "nested deeper than 64"),
    )
    hostile = example("assets", id="a-evil", name=INJECTION, internet_facing=False, aliases=[])
    yield Case(
        "report-injection-html-csv",
        report_case(extra_assets(csv_bytes([hostile]))),
        0,
        "wrote report.html, results.json, findings.csv, ledger.csv, exceptions.csv",
        forbidden=(("report.html", r"<script>alert|<img|file:///etc"), ("*.csv", r'"=HYPERLINK')),
    )
    yield Case(
        "report-injection-pdf",
        report_case(extra_assets(csv_bytes([hostile])), formats="pdf"),
        0,
        "wrote report.pdf",
        slow=True,
        seconds=180,
        rss_mib=900,
    )
    yield Case("not-a-bundle", lambda inp, out: validate(_plain(inp)), 2, "error: .*notes.txt is not a bundle")


def _plain(inp: Path) -> Path:
    inp.mkdir(parents=True, exist_ok=True)
    (inp / "notes.txt").write_text("hello\n")
    return inp / "notes.txt"


CASES: tuple[Case, ...] = tuple(_cases())


def main(argv: list[str]) -> int:
    """Write every case under OUTDIR/<case>/ with the command line in command.txt."""
    if len(argv) != 2:
        sys.stderr.write("usage: python tests/hostile/corpus.py OUTDIR\n")
        return 2
    base = Path(argv[1])
    for case in CASES:
        if case.slow and os.environ.get("CORPUS_SKIP_SLOW"):
            continue
        inp, out = base / case.name / "in", base / case.name / "out"
        inp.mkdir(parents=True, exist_ok=True)
        run = case.build(inp, out)
        (base / case.name / "command.txt").write_text(
            " ".join(["exposure-reporter", *run.args]) + f"\n# expect exit {case.code}, /{case.message}/\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
