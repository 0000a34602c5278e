"""Scan series: finding records that name their scan are sightings; the same id in several scans
is one finding seen several times."""

from __future__ import annotations

from reporter.models.issues import Issue
from reporter.store.store import EvidenceStore


def fold_scan_series(store: EvidenceStore, cap: int) -> list[Issue]:
    """Fold sightings into one finding per id, keeping every sighting in `finding_sightings`."""
    return []
