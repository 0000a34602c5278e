"""Opening bundles: confinement, limits, archive attacks."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from reporter.bundle.limits import Limits
from reporter.bundle.opener import open_bundle
from reporter.errors import BundleError, OutputError, UsageError

MANIFEST = b"bundle_version: 1\n"


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_directory_lists_files_and_never_writes(tmp_path: Path) -> None:
    (tmp_path / "bundle.yaml").write_bytes(MANIFEST)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.csv").write_bytes(b"id\n1\n")
    before = sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("*"))
    with open_bundle(tmp_path, Limits()) as bundle:
        assert bundle.files == {"bundle.yaml": len(MANIFEST), "sub/a.csv": 5}
        assert bundle.root == tmp_path.resolve()
    assert sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("*")) == before


def test_directory_without_manifest_is_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no bundle\.yaml"):
        open_bundle(tmp_path, Limits())


def test_missing_path_and_plain_file_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        open_bundle(tmp_path / "nope", Limits())
    plain = tmp_path / "notes.txt"
    plain.write_text("hello")
    with pytest.raises(UsageError, match="not a bundle"):
        open_bundle(plain, Limits())


def test_symlink_pointing_outside_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bundle.yaml").write_bytes(MANIFEST)
    (tmp_path / "passwd.csv").symlink_to("/etc/passwd")
    with pytest.raises(BundleError, match="outside the bundle") as info:
        open_bundle(tmp_path, Limits())
    assert info.value.location.file == "passwd.csv"


def test_symlink_inside_directory_is_followed(tmp_path: Path) -> None:
    (tmp_path / "bundle.yaml").write_bytes(MANIFEST)
    (tmp_path / "real.csv").write_bytes(b"id\n")
    (tmp_path / "alias.csv").symlink_to(tmp_path / "real.csv")
    with open_bundle(tmp_path, Limits()) as bundle:
        assert bundle.files["alias.csv"] == 3


def test_fifo_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bundle.yaml").write_bytes(MANIFEST)
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(BundleError, match="not a regular file"):
        open_bundle(tmp_path, Limits())


def test_zip_with_single_top_folder(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "b.zip", {"northwind/bundle.yaml": MANIFEST, "northwind/a.csv": b"id\n"})
    with open_bundle(archive, Limits()) as bundle:
        assert set(bundle.files) == {"bundle.yaml", "a.csv"}
        assert (bundle.root / "a.csv").read_bytes() == b"id\n"
        extracted = bundle.root
    assert not extracted.exists()  # closing removes the extraction directory


@pytest.mark.parametrize("name", ["../evil.csv", "a/../../evil.csv", "/etc/evil.csv", "C:\\evil.csv"])
def test_zip_member_escaping_is_refused(tmp_path: Path, name: str) -> None:
    archive = _zip(tmp_path / "b.zip", {"bundle.yaml": MANIFEST, name: b"x"})
    with pytest.raises(BundleError):
        open_bundle(archive, Limits())
    assert not (tmp_path / "evil.csv").exists()


def test_zip_symlink_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("bundle.yaml", MANIFEST)
        link = zipfile.ZipInfo("passwd.csv")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(BundleError, match="symbolic link"):
        open_bundle(path, Limits())


def _tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for member in members:
            payload = data.get(member.name)
            archive.addfile(member, io.BytesIO(payload) if payload is not None else None)
    return path


def _file(name: str, data: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE])
def test_tar_links_and_devices_are_refused(tmp_path: Path, kind: bytes) -> None:
    special = tarfile.TarInfo("evil.csv")
    special.type = kind
    special.linkname = "/etc/passwd"
    archive = _tar(tmp_path / "b.tar.gz", [_file("bundle.yaml", MANIFEST), special], {"bundle.yaml": MANIFEST})
    with pytest.raises(BundleError):
        open_bundle(archive, Limits())


def test_tar_traversal_is_refused(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "b.tar.gz",
        [_file("bundle.yaml", MANIFEST), _file("../evil.csv", b"x")],
        {"bundle.yaml": MANIFEST, "../evil.csv": b"x"},
    )
    with pytest.raises(BundleError, match=r"\.\."):
        open_bundle(archive, Limits())
    assert not (tmp_path / "evil.csv").exists()


def test_tar_gz_opens(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "b.tar.gz",
        [_file("bundle.yaml", MANIFEST), _file("x/a.csv", b"id\n")],
        {"bundle.yaml": MANIFEST, "x/a.csv": b"id\n"},
    )
    with open_bundle(archive, Limits()) as bundle:
        assert set(bundle.files) == {"bundle.yaml", "x/a.csv"}


def test_duplicate_zip_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("bundle.yaml", MANIFEST)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("bundle.yaml", b"bundle_version: 2\n")
    with pytest.raises(BundleError, match="twice"):
        open_bundle(path, Limits())


def test_file_count_and_size_limits(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "b.zip", {"bundle.yaml": MANIFEST, **{f"f{i}.csv": b"x" for i in range(5)}})
    with pytest.raises(BundleError, match="more than 3 files"):
        open_bundle(archive, Limits(max_files=3))
    archive = _zip(tmp_path / "c.zip", {"bundle.yaml": MANIFEST, "big.csv": b"x" * 5000})
    with pytest.raises(BundleError, match="per-file limit"):
        open_bundle(archive, Limits(max_file_bytes=4096))


@pytest.mark.slow
def test_zip_bomb_of_one_gib_is_refused_before_extraction(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    chunk = b"\0" * (16 * 1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("bundle.yaml", MANIFEST)
        with archive.open("bomb.csv", "w", force_zip64=True) as member:
            for _ in range(64):  # 1 GiB of zeros
                member.write(chunk)
    assert path.stat().st_size < 20 * 1024 * 1024
    with pytest.raises(BundleError, match="decompression bomb"):
        open_bundle(path, Limits())


def test_gzip_bomb_inside_tar_is_refused(tmp_path: Path) -> None:
    data = b"\0" * (64 * 1024 * 1024)
    archive = _tar(
        tmp_path / "b.tar.gz",
        [_file("bundle.yaml", MANIFEST), _file("bomb.csv", data)],
        {"bundle.yaml": MANIFEST, "bomb.csv": data},
    )
    with pytest.raises(BundleError, match="decompression bomb"):
        open_bundle(archive, Limits())


# --- collisions, names and links (issue 11) --------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([("notes", b"x"), ("notes/", b"")], "as a file and as a directory"),
        ([("notes/", b""), ("notes", b"x")], "as a file and as a directory"),
        ([("notes", b"x"), ("notes/a.csv", b"y")], "as a file and as a directory"),
        ([("Notes.csv", b"x"), ("notes.csv", b"y")], "differ only in case"),
        ([("caf\u00e9.csv", b"x"), ("cafe\u0301.csv", b"y")], "Unicode normalisation"),
        ([("a/", b""), ("a/", b""), ("a/x.csv", b"x"), ("A/y.csv", b"y")], "differ only in case"),
    ],
)
def test_members_that_would_collide_when_extracted_are_refused(
    tmp_path: Path, members: list[tuple[str, bytes]], message: str
) -> None:
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("bundle.yaml", MANIFEST)
        for name, data in members:
            archive.writestr(name, data)
    with pytest.raises(BundleError, match=message):
        open_bundle(path, Limits())


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_a_directory_listed_twice_is_harmless(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "b.zip", {"bundle.yaml": MANIFEST, "d/": b"", "d/a.csv": b"x"})
    with zipfile.ZipFile(archive, "a") as again:
        again.writestr("d/", b"")
    with open_bundle(archive, Limits()) as bundle:
        assert set(bundle.files) == {"bundle.yaml", "d/a.csv"}


@pytest.mark.parametrize("name", ["a\x1b[31m.csv", "a\nerror: forged.csv", "a\u202egpj.csv", "a\x7f.csv", "a\x9b.csv"])
def test_names_with_control_characters_are_refused_and_shown_escaped(tmp_path: Path, name: str) -> None:
    archive = _zip(tmp_path / "b.zip", {"bundle.yaml": MANIFEST, name: b"x"})
    with pytest.raises(BundleError, match="control character") as info:
        open_bundle(archive, Limits())
    shown = info.value.location.file or ""
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in shown)


def test_long_names_are_refused_and_truncated_in_the_message(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "b.tar.gz",
        [_file("bundle.yaml", MANIFEST), _file("d/" + "n" * 2000, b"x")],
        {"bundle.yaml": MANIFEST, "d/" + "n" * 2000: b"x"},
    )
    with pytest.raises(BundleError, match="longer than 1024 bytes") as info:
        open_bundle(archive, Limits())
    assert len(str(info.value)) < 300
    assert "2,002 characters" in str(info.value)


def test_a_name_component_longer_than_file_systems_allow_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "b.zip", {"bundle.yaml": MANIFEST, "c" * 300 + ".csv": b"x"})
    with pytest.raises(BundleError, match="component is longer than 255"):
        open_bundle(archive, Limits())


@pytest.mark.parametrize("links", [{"a": "b", "b": "a"}, {"a": "a"}, {"gone.csv": "missing.csv"}])
def test_unresolvable_links_in_a_directory_are_refused(tmp_path: Path, links: dict[str, str]) -> None:
    (tmp_path / "bundle.yaml").write_bytes(MANIFEST)
    for name, target in links.items():
        (tmp_path / name).symlink_to(target)
    with pytest.raises(BundleError, match="cannot be resolved"):
        open_bundle(tmp_path, Limits())


def test_control_character_in_a_directory_entry_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bundle.yaml").write_bytes(MANIFEST)
    (tmp_path / "x\x1b[2J").mkdir()
    with pytest.raises(BundleError, match="control character"):
        open_bundle(tmp_path, Limits())


# --- tar headers and ratios measured on real bytes ---------------------------------------------------


def _raw_header(name: str, kind: bytes, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


@pytest.mark.parametrize("kind", [tarfile.GNUTYPE_LONGNAME, tarfile.XHDTYPE, tarfile.XGLTYPE])
def test_tar_header_data_is_bounded_before_it_is_read(tmp_path: Path, kind: bytes) -> None:
    body = _raw_header("././@LongLink", kind, 200_000) + b"a" * 200_000 + bytes(-200_000 % 512) + bytes(1024)
    path = tmp_path / "b.tar.gz"
    path.write_bytes(gzip.compress(body))
    with pytest.raises(BundleError, match="declares 200,000 bytes; the limit is 65,536"):
        open_bundle(path, Limits())


def test_bomb_refusal_happens_within_the_grace_and_a_little(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reporter.bundle import opener

    seen: list[int] = []
    original = opener._Extractor._check

    def spy(self: opener._Extractor, rel: str, size: int, compressed: int | None) -> None:
        seen.append(self.total)
        original(self, rel, size, compressed)

    monkeypatch.setattr(opener._Extractor, "_check", spy)
    zipped = tmp_path / "bomb.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bundle.yaml", MANIFEST)
        archive.writestr("zeros.csv", bytes(128 * 1024 * 1024))
    with pytest.raises(BundleError, match="decompression bomb"):
        open_bundle(zipped, Limits())
    assert max(seen) < 4 * 1024 * 1024


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress, lambda data: data])
def test_tar_in_every_supported_compression_opens(tmp_path: Path, compress: Any) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in {"bundle.yaml": MANIFEST, "x/a.csv": b"id\n1\n"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    path = tmp_path / "b.tar"
    path.write_bytes(compress(buffer.getvalue()))
    with open_bundle(path, Limits()) as bundle:
        assert (bundle.root / "x/a.csv").read_bytes() == b"id\n1\n"


def test_concatenated_gzip_members_are_one_stream(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("bundle.yaml")
        info.size = len(MANIFEST)
        archive.addfile(info, io.BytesIO(MANIFEST))
    data = buffer.getvalue()
    path = tmp_path / "b.tar.gz"
    path.write_bytes(gzip.compress(data[:512]) + gzip.compress(data[512:]))
    with open_bundle(path, Limits()) as bundle:
        assert (bundle.root / "bundle.yaml").read_bytes() == MANIFEST


def test_entries_of_any_type_count_against_the_member_limit(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "b.zip", {"bundle.yaml": MANIFEST, **{f"d{i}/": b"" for i in range(20)}})
    with pytest.raises(BundleError, match="declares 21 entries; the limit is 10"):
        open_bundle(archive, Limits(max_members=10))
    directories = [tarfile.TarInfo(f"d{i}") for i in range(20)]
    for info in directories:
        info.type = tarfile.DIRTYPE
    tarred = _tar(tmp_path / "b.tar.gz", [_file("bundle.yaml", MANIFEST), *directories], {"bundle.yaml": MANIFEST})
    with pytest.raises(BundleError, match="holds more than 10 entries"):
        open_bundle(tarred, Limits(max_members=10))


def test_full_temporary_directory_is_an_output_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _zip(tmp_path / "b.zip", {"bundle.yaml": MANIFEST, "a.csv": b"x"})
    real_open = Path.open

    def full(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode == "xb":  # creating an extracted file
            raise OSError(28, "No space left on device")
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", full)
    with pytest.raises(OutputError, match="No space left on device"):
        open_bundle(archive, Limits())


def test_an_unreadable_archive_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _zip(tmp_path / "b.zip", {"bundle.yaml": MANIFEST})
    real_open = Path.open

    def denied(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self == archive:
            raise PermissionError(13, "Permission denied")
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(BundleError, match="Permission denied"):
        open_bundle(archive, Limits())
