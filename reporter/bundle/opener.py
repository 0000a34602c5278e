"""Opening a bundle (directory, .zip, .tar.gz) without trusting it.

Archives are extracted into a private temporary directory, member by member, after checking that
every member stays inside the bundle (no absolute paths, no `..`, no links, no devices) and within
the size, count and compression-ratio limits. Directories are read in place and never modified.
"""

from __future__ import annotations

import os
import stat
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO

from reporter.bundle.limits import Limits
from reporter.errors import BundleError, Location, UsageError

MANIFEST_NAME = "bundle.yaml"
_CHUNK = 1024 * 1024


@dataclass
class OpenedBundle:
    """A bundle on disk, ready to read: `root` holds bundle.yaml. Close it to drop temp files."""

    root: Path
    display: str  # what the user passed, for messages
    container: str  # "directory", "zip" or "tar"
    files: dict[str, int] = field(default_factory=dict)  # relative posix path -> size
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    def close(self) -> None:
        """Remove the extraction directory, if any."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> OpenedBundle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_bundle(path: Path, limits: Limits) -> OpenedBundle:
    """Open `path` as a bundle. UsageError if it is not one; BundleError if it is unsafe."""
    if not path.exists():
        raise UsageError(f"no such file or directory: {path}")
    if path.is_dir():
        return _open_directory(path, limits)
    name = path.name.lower()
    if name.endswith(".zip") or zipfile.is_zipfile(path):
        return _open_archive(path, limits, "zip")
    if name.endswith((".tar.gz", ".tgz", ".tar")) or _is_tar(path):
        return _open_archive(path, limits, "tar")
    raise UsageError(f"{path} is not a bundle: give a directory, .zip or .tar.gz containing {MANIFEST_NAME}")


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


# --- directories -------------------------------------------------------------------------------


def _open_directory(path: Path, limits: Limits) -> OpenedBundle:
    root = path.resolve()
    if not (root / MANIFEST_NAME).is_file():
        raise UsageError(f"{path} is not a bundle: it has no {MANIFEST_NAME}")
    files: dict[str, int] = {}
    total = 0
    for current, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames) + [d for d in dirnames if (Path(current) / d).is_symlink()]:
            full = Path(current) / name
            rel = full.relative_to(root).as_posix()
            size = _check_directory_entry(full, rel, root)
            if size is None:
                continue
            files[rel] = size
            total += size
            _check_counts(len(files), size, total, rel, limits)
    return OpenedBundle(root=root, display=str(path), container="directory", files=files)


def _check_directory_entry(full: Path, rel: str, root: Path) -> int | None:
    info = full.lstat()
    if stat.S_ISLNK(info.st_mode):
        target = full.resolve()
        if not target.is_relative_to(root):
            raise BundleError(
                "is a symbolic link pointing outside the bundle; refusing to follow it",
                Location(file=rel),
            )
        if target.is_dir():
            return None  # a link to a directory inside the bundle: its files are listed anyway
        info = target.stat()
    if stat.S_ISDIR(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        raise BundleError(
            "is not a regular file (device, FIFO or socket); refusing to read it",
            Location(file=rel),
        )
    return info.st_size


def _check_counts(count: int, size: int, total: int, rel: str, limits: Limits) -> None:
    if count > limits.max_files:
        raise BundleError(f"the bundle holds more than {limits.max_files} files")
    if size > limits.max_file_bytes:
        raise BundleError(f"is {size} bytes; the per-file limit is {limits.max_file_bytes}", Location(file=rel))
    if total > limits.max_total_bytes:
        raise BundleError(f"the bundle is larger than {limits.max_total_bytes} bytes in total")


# --- archives ----------------------------------------------------------------------------------


def _safe_member_name(name: str) -> str:
    """The member's relative path, or BundleError if it could escape the extraction directory."""
    if not name or "\x00" in name:
        raise BundleError("archive member with an empty or NUL-containing name")
    if "\\" in name:
        raise BundleError("archive member name contains a backslash; use '/' separators", Location(file=name))
    posix = PurePosixPath(name)
    if posix.is_absolute() or (len(name) > 1 and name[1] == ":"):
        raise BundleError("archive member has an absolute path", Location(file=name))
    if ".." in posix.parts:
        raise BundleError("archive member path contains '..' and would escape the bundle", Location(file=name))
    return posix.as_posix()  # PurePosixPath drops "./" prefixes and trailing slashes


class _Extractor:
    """Writes members into the temp dir while enforcing the limits on real (not declared) sizes."""

    def __init__(self, dest: Path, archive_size: int, limits: Limits) -> None:
        self.dest = dest
        self.archive_size = max(archive_size, 1)
        self.limits = limits
        self.files: dict[str, int] = {}
        self.total = 0

    def add_dir(self, rel: str) -> None:
        (self.dest / rel).mkdir(parents=True, exist_ok=True)

    def add_file(self, rel: str, stream: IO[bytes], compressed: int | None) -> None:
        if rel in self.files:
            raise BundleError("archive holds this member twice", Location(file=rel))
        if len(self.files) + 1 > self.limits.max_files:
            raise BundleError(f"the archive holds more than {self.limits.max_files} files")
        target = self.dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with target.open("xb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                self.total += len(chunk)
                self._check(rel, size, compressed)
                out.write(chunk)
        self.files[rel] = size

    def _check(self, rel: str, size: int, compressed: int | None) -> None:
        limits = self.limits
        if size > limits.max_file_bytes:
            raise BundleError(
                f"decompresses to more than {limits.max_file_bytes} bytes (per-file limit)",
                Location(file=rel),
            )
        if self.total > limits.max_total_bytes:
            raise BundleError(f"the archive decompresses to more than {limits.max_total_bytes} bytes in total")
        grace = limits.ratio_grace_bytes
        if compressed is not None and size > grace and size > compressed * limits.max_compression_ratio:
            raise BundleError(
                f"compression ratio above {limits.max_compression_ratio}:1; refusing a likely decompression bomb",
                Location(file=rel),
            )
        if self.total > grace and self.total > self.archive_size * limits.max_compression_ratio:
            raise BundleError(
                f"the archive expands more than {limits.max_compression_ratio} times its size; "
                "refusing a likely decompression bomb"
            )


def _open_archive(path: Path, limits: Limits, container: str) -> OpenedBundle:
    tmp = tempfile.TemporaryDirectory(prefix="exposure-reporter-")
    dest = Path(tmp.name)
    try:
        extractor = _Extractor(dest, path.stat().st_size, limits)
        if container == "zip":
            _extract_zip(path, extractor)
        else:
            _extract_tar(path, extractor)
        root = _find_root(dest, extractor.files, path)
    except BaseException:
        tmp.cleanup()
        raise
    prefix = root.relative_to(dest).as_posix()
    files = {
        (rel[len(prefix) + 1 :] if prefix != "." else rel): size
        for rel, size in extractor.files.items()
        if prefix == "." or rel.startswith(prefix + "/")
    }
    return OpenedBundle(root=root, display=str(path), container=container, files=files, _tmp=tmp)


def _extract_zip(path: Path, extractor: _Extractor) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"not a readable zip archive: {exc}", Location(file=path.name)) from None
    with archive:
        for info in archive.infolist():
            rel = _safe_member_name(info.filename)
            if rel == ".":
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise BundleError(
                    "archive member is a symbolic link; bundles may only hold regular files",
                    Location(file=rel),
                )
            if info.is_dir():
                extractor.add_dir(rel)
                continue
            file_type = stat.S_IFMT(mode)  # zip tools often leave the type bits unset
            if file_type and file_type != stat.S_IFREG:
                raise BundleError("archive member is not a regular file", Location(file=rel))
            try:
                with archive.open(info) as stream:
                    extractor.add_file(rel, stream, info.compress_size)
            except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as exc:
                raise BundleError(f"cannot extract: {exc}", Location(file=rel)) from None


def _extract_tar(path: Path, extractor: _Extractor) -> None:
    try:
        archive = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed by the `with` below
    except (tarfile.TarError, OSError) as exc:
        raise BundleError(f"not a readable tar archive: {exc}", Location(file=path.name)) from None
    try:
        with archive:
            for member in archive:  # streams: never loads the member list first
                _extract_tar_member(archive, member, extractor)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleError(f"damaged tar archive: {exc}", Location(file=path.name)) from None


def _extract_tar_member(archive: tarfile.TarFile, member: tarfile.TarInfo, ex: _Extractor) -> None:
    rel = _safe_member_name(member.name)
    if rel == ".":
        return
    if member.issym() or member.islnk():
        raise BundleError(
            f"archive member is a link (to {member.linkname[:100]!r}); bundles may only hold regular files",
            Location(file=rel),
        )
    if member.isdir():
        ex.add_dir(rel)
        return
    if not member.isreg():
        raise BundleError("archive member is a device, FIFO or other special file", Location(file=rel))
    if member.size > ex.limits.max_file_bytes:
        raise BundleError(
            f"declares {member.size} bytes; the per-file limit is {ex.limits.max_file_bytes}",
            Location(file=rel),
        )
    stream = archive.extractfile(member)
    if stream is None:  # pragma: no cover - regular members always have a stream
        raise BundleError("cannot read archive member", Location(file=rel))
    with stream:
        ex.add_file(rel, stream, None)


def _find_root(dest: Path, files: dict[str, int], archive: Path) -> Path:
    """bundle.yaml at the top, or inside a single top-level folder (a zipped directory)."""
    if MANIFEST_NAME in files:
        return dest
    tops = {rel.split("/", 1)[0] for rel in files}
    if len(tops) == 1:
        top = next(iter(tops))
        if f"{top}/{MANIFEST_NAME}" in files:
            return dest / top
    raise UsageError(f"{archive} is not a bundle: it has no {MANIFEST_NAME} at its top")
