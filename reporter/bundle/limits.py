"""Resource limits applied to untrusted bundles (archives, files, lines, YAML documents)."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True)
class Limits:
    """Every limit is a refusal with one clear message; all are documented in docs/security.md."""

    max_files: int = 10_000
    max_members: int = 20_000  # archive entries of any type (files, directories, links...)
    max_file_bytes: int = 4 * GIB
    max_total_bytes: int = 16 * GIB
    max_compression_ratio: int = 200  # decompressed / compressed, for archives and members
    ratio_grace_bytes: int = 1 * MIB  # ratios are only enforced past this many bytes
    max_name_bytes: int = 1024  # a member or file path inside the bundle (UTF-8 bytes)
    max_tar_header_bytes: int = 64 * 1024  # a tar GNU long-name or PAX header's data
    max_line_bytes: int = 16 * MIB
    max_yaml_bytes: int = 64 * MIB
    max_yaml_aliases: int = 100
    max_nesting_depth: int = 64  # YAML collections and JSON arrays/objects
    max_parquet_rows_per_byte: int = 4  # rows a Parquet file may declare per byte of file...
    parquet_rows_grace: int = 10_000  # ...plus this many
    max_parquet_columns: int = 1_000
    max_issues_per_group: int = 20  # issues listed per (file, code, field); the rest are counted


DEFAULT_LIMITS = Limits()
