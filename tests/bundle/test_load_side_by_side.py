"""Evidence files load two at a time on two cores (D104), each on its own connection, and the cross-file
rules run two at a time: the store's tables, row for row in their stored order, and the validation
report are the same as when everything runs on one connection. A worker that fails stops the load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reporter.bundle import sources
from reporter.bundle.load import load_bundle
from reporter.models.kinds import KINDS
from reporter.store import parallel

SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"
# kestrel: two findings, scans and observations files, three of deployments; larkspur: importers
# (trivy, grype, nessus, apt, SSM) that write several kinds each; broken/duplicate-id: an error in a
# cross-file rule.
BUNDLES = ["kestrel-2026-q3", "larkspur-2026-q3", "northwind-2026-q3", "broken/duplicate-id"]
_TABLES = [*KINDS, "sources", "bundle", "asset_key_map", "finding_sightings"]


def _load(bundle: str, workers: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, list[Any]], int]:
    monkeypatch.setattr(parallel, "MAX_WORKERS", workers)
    used: list[int] = []
    real = sources.side_by_side

    def spy(work: Any, connections: list[Any], stop: Any, minor: Any = ()) -> None:
        used.append(len(connections))
        real(work, connections, stop, minor)

    monkeypatch.setattr(sources, "side_by_side", spy)
    loaded = load_bundle(SAMPLES / bundle)
    try:
        con = loaded.store.con
        tables = {name: con.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall() for name in _TABLES}
        assert loaded.report is not None
        return loaded.report.model_dump(), tables, used[0]
    finally:
        loaded.close()


@pytest.mark.parametrize("bundle", BUNDLES)
def test_two_workers_store_and_report_what_one_does(bundle: str, monkeypatch: pytest.MonkeyPatch) -> None:
    report_one, tables_one, workers_one = _load(bundle, 1, monkeypatch)
    report_two, tables_two, workers_two = _load(bundle, 2, monkeypatch)
    assert (workers_one, workers_two) == (1, 2)
    assert sum(len(rows) for rows in tables_one.values()) > 20
    assert report_two == report_one
    for name in _TABLES:
        assert tables_two[name] == tables_one[name], name


def test_a_failing_worker_stops_the_load_and_its_error_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    real = sources._load_source
    started: list[str] = []

    def failing(root: Path, store: Any, source: Any, limits: Any, pool: Any) -> Any:
        started.append(source.path)
        if len(started) == 1:  # the first file handed out
            raise RuntimeError("worker failed")
        return real(root, store, source, limits, pool)

    monkeypatch.setattr(sources, "_load_source", failing)
    monkeypatch.setattr(parallel, "MAX_WORKERS", 2)
    with pytest.raises(RuntimeError, match="worker failed"):
        load_bundle(SAMPLES / "kestrel-2026-q3")
    listed = (SAMPLES / "kestrel-2026-q3" / "bundle.yaml").read_text().count("- path:")
    assert 0 < len(started) < listed  # the other worker took no further file after the failure
