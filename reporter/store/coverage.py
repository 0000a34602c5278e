"""When does a scan cover a finding? One SQL predicate, shared by the loading stage (conflicting
scans) and the assessment (verifications derived from rescans), so the two cannot disagree.

A scan covers a finding's series when it completed, was authenticated (credentialed host scan,
agent, or an image/filesystem scan that reads the package databases), was made by the same tool as
the series' sightings, and examined the finding's part of the asset: the finding lists no scope
keys, or the scan lists one of them (docs/verification.md)."""

from __future__ import annotations


def covers(scan: str, series: str) -> str:
    """SQL: scan alias `scan` (a `scans` row) covers `series` (a row with `tool` and `scope_keys`)."""
    return (
        f"({scan}.status = 'completed' AND {scan}.authenticated AND lower({scan}.tool) = {series}.tool "
        f"AND (len({series}.scope_keys) = 0 OR list_has_any({scan}.scope_keys, {series}.scope_keys)))"
    )
