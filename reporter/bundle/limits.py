"""Resource limits applied to untrusted bundles (archives, files, lines, YAML documents)."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True)
class Limits:
    """Every limit is a refusal with one clear message; all are documented in docs/security.md."""

    max_files: int = 10_000
    max_file_bytes: int = 4 * GIB
    max_total_bytes: int = 16 * GIB
    max_compression_ratio: int = 200  # decompressed / compressed, for archives and members
    ratio_grace_bytes: int = 1 * MIB  # ratios are only enforced past this many bytes
    max_line_bytes: int = 16 * MIB
    max_yaml_bytes: int = 64 * MIB
    max_yaml_aliases: int = 100
    max_nesting_depth: int = 64
    max_issues_per_group: int = 20  # issues listed per (file, code, field); the rest are counted


DEFAULT_LIMITS = Limits()
