"""Opening a bundle (directory, .zip, .tar.gz) without trusting it.

Archives are extracted into a private temporary directory, member by member, after checking that
every member stays inside the bundle (no absolute paths, no `..`, no links, no devices), that no two
members collide once extracted (same name, a trailing slash, names differing only in case or
Unicode normalisation, a file where a directory is needed), that names are short and free of
control characters, and that the archive stays within the count, size and compression-ratio
limits. Ratios are measured on the bytes actually read and written, so a bomb is refused after
about a mebibyte of output. Tar header blocks (GNU long names, PAX) are bounded before they are
read. Directories are read in place and never modified; links in them must resolve inside.
"""

from __future__ import annotations

import bz2
import lzma
import os
import stat
import tarfile
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, Any, Protocol

from reporter.bundle.limits import Limits
from reporter.errors import CONTROL_CHARACTERS, BundleError, Location, OutputError, UsageError, printable

MANIFEST_NAME = "bundle.yaml"
_CHUNK = 1024 * 1024
_SMALL_CHUNK = 4096  # member reads start small, so a bomb's ratio shows after little output
_SHOWN_NAME = 120  # characters of a name quoted in a message
_MAX_COMPONENT = 255  # bytes of one path component (file systems refuse longer ones)


def shown(name: str) -> str:
    """A name from the bundle as a message may quote it: control characters escaped, truncated."""
    head = printable(name[:_SHOWN_NAME])
    return head if len(name) <= _SHOWN_NAME else f"{head}… ({len(name):,} characters)"


def check_name(name: str, limits: Limits) -> None:
    """Refuse a file or member name that is too long or holds a control or bidi character."""
    if len(name.encode("utf-8", "surrogateescape")) > limits.max_name_bytes:
        raise BundleError(f"name is longer than {limits.max_name_bytes} bytes", Location(file=shown(name)))
    if any(len(part.encode("utf-8", "surrogateescape")) > _MAX_COMPONENT for part in name.split("/")):
        raise BundleError(f"a name component is longer than {_MAX_COMPONENT} bytes", Location(file=shown(name)))
    if any(ord(c) in CONTROL_CHARACTERS for c in name):
        raise BundleError(
            "name contains a control character (or a bidirectional-text control); rename the file",
            Location(file=shown(name)),
        )


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
    if name.endswith((".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")) or _is_tar(path):
        return _open_archive(path, limits, "tar")
    raise UsageError(f"{path} is not a bundle: give a directory, .zip or .tar.gz containing {MANIFEST_NAME}")


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


# --- directories -------------------------------------------------------------------------------


def _open_directory(path: Path, limits: Limits) -> OpenedBundle:
    try:
        root = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise UsageError(f"{path}: cannot resolve the bundle directory ({exc})") from None
    if not (root / MANIFEST_NAME).is_file():
        raise UsageError(f"{path} is not a bundle: it has no {MANIFEST_NAME}")
    files: dict[str, int] = {}
    total = 0
    for current, dirnames, filenames in os.walk(root, followlinks=False, onerror=_walk_error):
        dirnames.sort()
        for name in sorted(filenames) + [d for d in dirnames if (Path(current) / d).is_symlink()]:
            full = Path(current) / name
            rel = full.relative_to(root).as_posix()
            check_name(rel, limits)
            size = _check_directory_entry(full, rel, root)
            if size is None:
                continue
            files[rel] = size
            total += size
            _check_counts(len(files), size, total, rel, limits)
        for name in dirnames:
            check_name((Path(current) / name).relative_to(root).as_posix(), limits)
    return OpenedBundle(root=root, display=str(path), container="directory", files=files)


def _walk_error(error: OSError) -> None:
    where = Path(error.filename).name if error.filename else None
    raise BundleError(f"cannot list a directory of the bundle: {error.strerror or error}", Location(file=where))


def _check_directory_entry(full: Path, rel: str, root: Path) -> int | None:
    try:
        info = full.lstat()
        if stat.S_ISLNK(info.st_mode):
            target = _link_target(full, rel, root)
            if target.is_dir():
                return None  # a link to a directory inside the bundle: its files are listed anyway
            info = target.stat()
    except OSError as exc:
        raise BundleError(f"cannot read: {exc.strerror or exc}", Location(file=shown(rel))) from None
    if stat.S_ISDIR(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        raise BundleError(
            "is not a regular file (device, FIFO or socket); refusing to read it",
            Location(file=shown(rel)),
        )
    return info.st_size


def _link_target(full: Path, rel: str, root: Path) -> Path:
    try:
        target = full.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a loop (Python 3.11/3.12); OSError: missing, ELOOP
        raise BundleError(
            "is a symbolic link that cannot be resolved (its target is missing, or the links form a loop)",
            Location(file=shown(rel)),
        ) from None
    if not target.is_relative_to(root):
        raise BundleError(
            "is a symbolic link pointing outside the bundle; refusing to follow it",
            Location(file=shown(rel)),
        )
    return target


def _check_counts(count: int, size: int, total: int, rel: str, limits: Limits) -> None:
    if count > limits.max_files:
        raise BundleError(f"the bundle holds more than {limits.max_files} files")
    if size > limits.max_file_bytes:
        raise BundleError(f"is {size} bytes; the per-file limit is {limits.max_file_bytes}", Location(file=shown(rel)))
    if total > limits.max_total_bytes:
        raise BundleError(f"the bundle is larger than {limits.max_total_bytes} bytes in total")


# --- archives ----------------------------------------------------------------------------------


def _safe_member_name(name: str, limits: Limits) -> str:
    """The member's relative path, or BundleError if it could escape the extraction directory or
    has a name no bundle file may have."""
    if not name or "\x00" in name:
        raise BundleError("archive member with an empty or NUL-containing name")
    check_name(name, limits)
    if "\\" in name:
        raise BundleError("archive member name contains a backslash; use '/' separators", Location(file=shown(name)))
    posix = PurePosixPath(name)
    if posix.is_absolute() or (len(name) > 1 and name[1] == ":"):
        raise BundleError("archive member has an absolute path", Location(file=shown(name)))
    if ".." in posix.parts:
        raise BundleError("archive member path contains '..' and would escape the bundle", Location(file=shown(name)))
    return posix.as_posix()  # PurePosixPath drops "./" prefixes and trailing slashes


def _key(rel: str) -> str:
    """What makes two names collide on some file system: case and Unicode normalisation."""
    return unicodedata.normalize("NFC", rel).casefold()


class _Counted(Protocol):
    """Something that knows how many compressed bytes it has consumed."""

    consumed: int


class _Extractor:
    """Writes members into the temp dir while enforcing the limits on real (not declared) sizes."""

    def __init__(self, dest: Path, source: _Counted, limits: Limits) -> None:
        self.dest = dest
        self.source = source  # compressed bytes consumed so far, for the whole-archive ratio
        self.limits = limits
        self.files: dict[str, int] = {}
        self.names: dict[str, tuple[str, bool]] = {}  # collision key -> (name, is a directory)
        self.members = 0
        self.total = 0

    def count_member(self) -> None:
        """Every entry counts, whatever its type: millions of empty directories are an attack too."""
        self.members += 1
        if self.members > self.limits.max_members:
            raise BundleError(f"the archive holds more than {self.limits.max_members} entries")

    def _register(self, rel: str, is_dir: bool) -> None:
        parts = rel.split("/")
        for depth in range(1, len(parts) + 1):
            name = "/".join(parts[:depth])
            directory = is_dir or depth < len(parts)
            known = self.names.get(_key(name))
            if known is None:
                self.names[_key(name)] = (name, directory)
                continue
            previous, previous_dir = known
            if previous != name:
                raise BundleError(
                    f"archive members '{shown(previous)}' and '{shown(name)}' differ only in case or Unicode "
                    "normalisation; they would collide when extracted",
                    Location(file=shown(rel)),
                )
            if not (previous_dir and directory):
                what = "twice" if depth == len(parts) and previous_dir == directory else "as a file and as a directory"
                raise BundleError(f"archive holds this member {what}", Location(file=shown(name)))

    def add_dir(self, rel: str) -> None:
        """A directory member."""
        if _key(rel) in self.names and self.names[_key(rel)] == (rel, True):
            return  # the same directory listed again is harmless
        self._register(rel, True)
        try:
            (self.dest / rel).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot_extract(rel, exc) from None

    def add_file(self, rel: str, stream: IO[bytes], measure: _Counted | None) -> None:
        """A regular member, copied while its own ratio (when `measure` counts its compressed bytes)
        and the archive's are checked, so a member that inflates a few kilobytes into gigabytes is
        refused after about two mebibytes of output."""
        self._register(rel, False)
        if len(self.files) + 1 > self.limits.max_files:
            raise BundleError(f"the archive holds more than {self.limits.max_files} files")
        start = measure.consumed if measure is not None else 0
        target = self.dest / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            out = target.open("xb")
        except OSError as exc:
            raise _cannot_extract(rel, exc) from None
        size = 0
        with out:
            while True:
                # zipfile reads ahead about as many compressed bytes as output is asked for, so small
                # reads keep the measured ratio honest until the member has proved ordinary.
                small = measure is not None and size < 2 * self.limits.ratio_grace_bytes
                chunk = stream.read(_SMALL_CHUNK if small else _CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                self.total += len(chunk)
                self._check(rel, size, measure.consumed - start if measure is not None else None)
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise _cannot_extract(rel, exc) from None
        self.files[rel] = size

    def _check(self, rel: str, size: int, compressed: int | None) -> None:
        limits = self.limits
        if size > limits.max_file_bytes:
            raise BundleError(
                f"decompresses to more than {limits.max_file_bytes} bytes (per-file limit)",
                Location(file=shown(rel)),
            )
        if self.total > limits.max_total_bytes:
            raise BundleError(f"the archive decompresses to more than {limits.max_total_bytes} bytes in total")
        grace, ratio = limits.ratio_grace_bytes, limits.max_compression_ratio
        if compressed is not None and size > grace and size > max(compressed, 1) * ratio:
            raise BundleError(
                f"compression ratio above {ratio}:1; refusing a likely decompression bomb",
                Location(file=shown(rel)),
            )
        if self.total > grace and self.total > max(self.source.consumed, 1) * ratio:
            raise BundleError(f"the archive expands more than {ratio} times; refusing a likely decompression bomb")


def _cannot_extract(rel: str, exc: OSError) -> OutputError:
    # The temporary directory is full or unwritable: not the bundle's fault, so exit 4, not 3.
    return OutputError(
        f"cannot extract {shown(rel)} into the temporary directory ({exc.strerror or exc}); free space or set TMPDIR"
    )


def _open_raw(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise BundleError(f"cannot read the archive: {exc.strerror or exc}", Location(file=shown(path.name))) from None


def _open_archive(path: Path, limits: Limits, container: str) -> OpenedBundle:
    try:
        tmp = tempfile.TemporaryDirectory(prefix="exposure-reporter-")
    except OSError as exc:
        raise OutputError(f"cannot create a temporary directory ({exc.strerror or exc}); set TMPDIR") from None
    dest = Path(tmp.name)
    try:
        files = _extract_zip(path, dest, limits) if container == "zip" else _extract_tar(path, dest, limits)
        root = _find_root(dest, files, path)
    except BaseException:
        tmp.cleanup()
        raise
    prefix = root.relative_to(dest).as_posix()
    inside = {
        (rel[len(prefix) + 1 :] if prefix != "." else rel): size
        for rel, size in files.items()
        if prefix == "." or rel.startswith(prefix + "/")
    }
    return OpenedBundle(root=root, display=str(path), container=container, files=inside, _tmp=tmp)


class _CountingFile:
    """A read-only file that counts the bytes read through it (zip members' compressed bytes)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.consumed += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def seekable(self) -> bool:
        return True


def _extract_zip(path: Path, dest: Path, limits: Limits) -> dict[str, int]:
    with _open_raw(path) as raw:
        declared = _declared_entries(raw)
        if declared is not None and declared > limits.max_members:  # before zipfile lists them all in memory
            raise BundleError(f"the archive declares {declared:,} entries; the limit is {limits.max_members:,}")
        counted = _CountingFile(raw)
        try:
            archive = zipfile.ZipFile(counted)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise BundleError(f"not a readable zip archive: {exc}", Location(file=shown(path.name))) from None
        with archive:
            infos = archive.infolist()
            if len(infos) > limits.max_members:
                raise BundleError(f"the archive holds more than {limits.max_members} entries")
            extractor = _Extractor(dest, counted, limits)
            for info in infos:
                _extract_zip_member(archive, info, extractor, counted)
            return extractor.files


def _declared_entries(raw: IO[bytes]) -> int | None:
    """The entry count of the zip's end-of-central-directory record (zip64 aware), if readable."""
    end_record = getattr(zipfile, "_EndRecData", None)  # private, but stable since Python 2
    try:
        record = end_record(raw) if end_record is not None else None
    except (OSError, ValueError, IndexError):
        return None
    finally:
        raw.seek(0)
    return int(record[4]) if record else None


def _extract_zip_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, ex: _Extractor, counted: _CountingFile
) -> None:
    ex.count_member()
    rel = _safe_member_name(info.filename, ex.limits)
    if rel == ".":
        return
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise BundleError(
            "archive member is a symbolic link; bundles may only hold regular files",
            Location(file=shown(rel)),
        )
    if info.is_dir():
        ex.add_dir(rel)
        return
    file_type = stat.S_IFMT(mode)  # zip tools often leave the type bits unset
    if file_type and file_type != stat.S_IFREG:
        raise BundleError("archive member is not a regular file", Location(file=shown(rel)))
    if info.file_size > ex.limits.max_file_bytes:
        raise BundleError(
            f"declares {info.file_size} bytes; the per-file limit is {ex.limits.max_file_bytes}",
            Location(file=shown(rel)),
        )
    try:
        with archive.open(info) as stream:
            ex.add_file(rel, stream, counted)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError, zlib.error) as exc:
        raise BundleError(f"cannot extract: {exc}", Location(file=shown(rel))) from None


class _Inflater:
    """The decompressed bytes of a (gzip, bzip2, xz or plain) tar stream, counting exactly how many
    compressed bytes produced them, and refusing a stream that expands beyond the ratio limit.
    Compressed input is read in small pieces while the stream is young, so a bomb is refused
    after about a mebibyte of output."""

    def __init__(self, raw: IO[bytes], limits: Limits) -> None:
        self.raw = raw
        self.limits = limits
        self.consumed = 0
        self.produced = 0
        head = raw.read(6)
        raw.seek(0)
        self.method = next((name for magic, name in _MAGIC if head.startswith(magic)), "plain")
        self._decoder: Any = self._new_decoder()
        self._pending = b""  # compressed bytes read but not yet decompressed
        self._done = False

    def _new_decoder(self) -> Any:
        if self.method == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.method == "bz2":
            return bz2.BZ2Decompressor()
        if self.method == "xz":
            return lzma.LZMADecompressor()
        return None

    def read(self, size: int = -1) -> bytes:
        """Up to `size` decompressed bytes (b"" at the end)."""
        size = _CHUNK if size is None or size < 0 else size
        out = self._take(size) if self._decoder is None else self._inflate(size)
        self.produced += len(out)
        ratio = self.limits.max_compression_ratio
        if self.produced > self.limits.ratio_grace_bytes and self.produced > self.consumed * ratio:
            raise BundleError(f"the archive expands more than {ratio} times; refusing a likely decompression bomb")
        return out

    def _take(self, size: int) -> bytes:
        data = self.raw.read(size)
        self.consumed += len(data)
        return data

    def _inflate(self, size: int) -> bytes:
        parts: list[bytes] = []
        wanted = size
        while wanted > 0 and not self._done:
            if not self._pending and self._needs_input():
                self._pending = self._take(min(64 * 1024, max(4096, self.consumed // 8)))
                if not self._pending:  # end of the file: whatever the decoder still holds
                    self._done = True
                    parts.append(self._decoder.flush() if hasattr(self._decoder, "flush") else b"")
                    break
            data = self._decoder.decompress(self._pending, wanted)
            self._pending = b""
            self._after_decompress()
            parts.append(data)
            wanted -= len(data)
        return b"".join(parts)

    def _needs_input(self) -> bool:
        return getattr(self._decoder, "needs_input", True)  # zlib: its unconsumed tail is kept as pending

    def _after_decompress(self) -> None:
        decoder = self._decoder
        tail = getattr(decoder, "unconsumed_tail", b"")
        if tail:
            self._pending = tail
        elif decoder.eof:
            if decoder.unused_data:  # concatenated members (gzip -c a >> b)
                self._pending = decoder.unused_data
                self._decoder = self._new_decoder()
            else:
                self._done = True


_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))


def _bounded_tarinfo(limits: Limits) -> type[tarfile.TarInfo]:
    """A TarInfo that refuses a GNU long-name or PAX header declaring more data than the limit,
    before tarfile reads that data into memory (it would read all of it at once)."""
    extended = (
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
    )

    class BoundedTarInfo(tarfile.TarInfo):
        def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
            if self.type in extended and self.size > limits.max_tar_header_bytes:
                raise BundleError(
                    f"a tar header block (GNU long name or PAX) declares {self.size:,} bytes; the limit is "
                    f"{limits.max_tar_header_bytes:,}"
                )
            result: tarfile.TarInfo = super()._proc_member(tarfile_)  # type: ignore[misc]
            return result

    return BoundedTarInfo


def _extract_tar(path: Path, dest: Path, limits: Limits) -> dict[str, int]:
    with _open_raw(path) as raw:
        inflater = _Inflater(raw, limits)
        extractor = _Extractor(dest, inflater, limits)
        try:
            archive = tarfile.open(  # type: ignore[call-overload]  # noqa: SIM115 - closed by `with`
                fileobj=inflater, mode="r|", tarinfo=_bounded_tarinfo(limits)
            )
            with archive:
                for member in archive:  # streams: never loads the member list first
                    _extract_tar_member(archive, member, extractor)
        except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError) as exc:
            raise BundleError(f"damaged tar archive: {str(exc)[:200]}", Location(file=shown(path.name))) from None
        return extractor.files


def _extract_tar_member(archive: tarfile.TarFile, member: tarfile.TarInfo, ex: _Extractor) -> None:
    ex.count_member()
    rel = _safe_member_name(member.name, ex.limits)
    if rel == ".":
        return
    if member.issym() or member.islnk():
        raise BundleError(
            f"archive member is a link (to {shown(member.linkname)!r}); bundles may only hold regular files",
            Location(file=shown(rel)),
        )
    if member.isdir():
        ex.add_dir(rel)
        return
    if not member.isreg() or member.issparse():
        raise BundleError("archive member is a device, FIFO, sparse or other special file", Location(file=shown(rel)))
    if member.size > ex.limits.max_file_bytes:
        raise BundleError(
            f"declares {member.size} bytes; the per-file limit is {ex.limits.max_file_bytes}",
            Location(file=shown(rel)),
        )
    stream = archive.extractfile(member)
    if stream is None:  # pragma: no cover - regular members always have a stream
        raise BundleError("cannot read archive member", Location(file=shown(rel)))
    with stream:
        ex.add_file(rel, stream, None)  # the inflater measures the whole stream's ratio


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


__all__ = ["MANIFEST_NAME", "OpenedBundle", "check_name", "open_bundle", "shown"]
