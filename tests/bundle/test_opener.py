"""Opening bundles: confinement, limits, archive attacks."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from reporter.bundle.limits import Limits
from reporter.bundle.opener import open_bundle
from reporter.errors import BundleError, UsageError

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
