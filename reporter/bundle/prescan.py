"""One streaming pass over each evidence file: SHA-256, and for text files the checks DuckDB and
the YAML parser do not make (NUL bytes, invalid UTF-8, over-long lines), each with its line."""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

from reporter.bundle.limits import MIB, Limits
from reporter.bundle.safetext import decode_reason, encoding_error, foreign_encoding
from reporter.errors import EvidenceError, Location


@dataclass(frozen=True)
class FileFacts:
    """What the prescan learnt about one file."""

    sha256: str
    size: int
    lines: int  # lines as DuckDB reads them: newlines, plus a last line without one (text files; else 0)


def prescan(path: Path, rel: str, limits: Limits, *, text: bool) -> FileFacts:
    """Hash a file; for text files also refuse NUL bytes, bad UTF-8 and lines over the limit.

    Chunks are never longer than the line limit, so a line can only be too long if it spans
    chunk boundaries: checking the run since the last newline is enough (O(1) per chunk).
    """
    chunk_size = max(1, min(8 * MIB, limits.max_line_bytes))
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = lines = since_newline = 0
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
            if text and size == 0 and foreign_encoding(chunk):
                raise encoding_error(rel, 1, 0, head=chunk[:4])
            if text:
                _check_chunk(chunk, rel, lines, since_newline, limits, decoder, size)
                first = chunk.find(b"\n")
                if first < 0:
                    since_newline += len(chunk)
                else:
                    since_newline = len(chunk) - chunk.rfind(b"\n") - 1
                lines += chunk.count(b"\n")
            size += len(chunk)
    if text:
        _check_line_length(since_newline, rel, lines + 1, limits)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            pending = len(decoder.getstate()[0])
            raise encoding_error(
                rel, lines + 1, size - pending, "a multi-byte character is cut off at the end of the file"
            ) from None
    return FileFacts(sha256=digest.hexdigest(), size=size, lines=lines + (since_newline > 0))


def _check_chunk(
    chunk: bytes,
    rel: str,
    lines_before: int,
    since_newline: int,
    limits: Limits,
    decoder: codecs.IncrementalDecoder,
    offset: int,
) -> None:
    nul = chunk.find(b"\x00")
    if nul >= 0:
        line = lines_before + chunk.count(b"\n", 0, nul) + 1
        raise EvidenceError(
            "contains a NUL byte; evidence files must be text (UTF-8)",
            Location(file=rel, line=line),
            code="file.nul-byte",
        )
    first = chunk.find(b"\n")
    run = since_newline + (first if first >= 0 else len(chunk))
    _check_line_length(run, rel, lines_before + 1, limits)
    pending = len(decoder.getstate()[0])  # bytes of a character begun in the previous chunk
    if not pending and chunk.isascii():
        return  # ASCII is valid UTF-8: no need to decode it (a third of the time)
    try:
        decoder.decode(chunk)
    except UnicodeDecodeError as exc:
        start = max(exc.start - pending, 0)
        line = lines_before + chunk.count(b"\n", 0, start) + 1
        raise encoding_error(rel, line, offset + exc.start - pending, decode_reason(exc)) from None


def _check_line_length(run: int, rel: str, line: int, limits: Limits) -> None:
    if run > limits.max_line_bytes:
        raise EvidenceError(
            f"line longer than {limits.max_line_bytes} bytes; refusing it (pretty-print JSON, "
            "or use JSON Lines, or raise --max-line-mib)",
            Location(file=rel, line=line),
            code="file.line-too-long",
        )
