"""The loading stage end to end: open → read every source → resolve asset keys → fold scan series
→ cross-file integrity → validation report. The one entry point later stages call."""

from __future__ import annotations

from pathlib import Path

from reporter.bundle import assets, integrity, series
from reporter.bundle.interface import LoadedBundle, LoadOptions
from reporter.bundle.opener import open_bundle
from reporter.bundle.report import build_report, with_record_lines
from reporter.bundle.responses import read_responses
from reporter.bundle.sources import read_sources
from reporter.policy import default_policy
from reporter.store.store import EvidenceStore


def load_bundle(path: Path, options: LoadOptions | None = None) -> LoadedBundle:
    """Open, load and validate a bundle; `loaded.report` says whether it is valid. Raises only for
    unsafe archives and paths that are not bundles (BundleError / UsageError). The caller closes
    the result."""
    options = options or LoadOptions()
    opened = open_bundle(path, options.limits)
    try:
        store = EvidenceStore.create(
            options.database, memory_limit=options.memory_limit, evidence_bytes=sum(opened.files.values())
        )
    except BaseException:
        opened.close()
        raise
    loaded = LoadedBundle(opened=opened, store=store, manifest=None, policy=default_policy())
    try:
        _stages(loaded, options)
    except BaseException:
        loaded.close()
        raise
    return loaded


def _stages(loaded: LoadedBundle, options: LoadOptions) -> None:
    read_sources(loaded, options.limits, options.progress, options.seal_keys)
    loaded.store.compact()  # the evidence is in: compress it before the cross-file passes read it
    if loaded.manifest is not None:
        read_responses(loaded, options.limits, options.control_ids)
        cap = options.limits.max_issues_per_group
        found = assets.resolve_asset_keys(loaded.store, cap)
        found += series.fold_scan_series(loaded.store, cap)
        found += integrity.check_integrity(loaded.store, loaded.manifest, loaded.policy, cap, options.control_ids)
        loaded.issues.extend(with_record_lines(loaded, found))
    loaded.report = build_report(loaded.opened.display, loaded)
