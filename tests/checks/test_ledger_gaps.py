"""Gaps that are ledger rows (`ledger_gaps`) carry their own risk facts instead of being joined back to
the ledger, the inventory and the identities: on the sample bundles, every control's gaps come out
the same, row for row, as when the same gap query goes through the generic joins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.library import Library
from reporter.checks import base, priority, rollout, verification
from reporter.checks.base import GAP_COLUMNS, LedgerGaps

SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"
BUNDLES = ("kestrel-2026-q3", "larkspur-2026-q3", "northwind-2026-q3")
MODULES = (priority, verification, rollout)  # the checks whose gaps are ledger rows


def _all_gaps(library: Library, bundle: str) -> list[tuple[Any, ...]]:
    loaded = load_bundle(SAMPLES / bundle)
    try:
        assert loaded.valid
        assess(loaded, library, AssessOptions())
        return loaded.store.con.execute("SELECT * FROM a_gaps ORDER BY ALL").fetchall()
    finally:
        loaded.close()


def test_ledger_gaps_equal_the_same_gaps_joined_back_to_the_ledger(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = {bundle: _all_gaps(library, bundle) for bundle in BUNDLES}
    joined_controls: set[str] = set()

    def joined(ctx: base.CheckContext, *, gaps_sql: str | LedgerGaps, **kwargs: Any) -> base.CheckOutcome:
        if isinstance(gaps_sql, LedgerGaps):  # the same rows, without their facts: the generic path
            joined_controls.add(ctx.control_id)
            gaps_sql = f"SELECT {', '.join(GAP_COLUMNS)} FROM ({gaps_sql.sql})"
        return base.evaluate(ctx, gaps_sql=gaps_sql, **kwargs)

    for module in MODULES:
        monkeypatch.setattr(module, "evaluate", joined)
    generic = {bundle: _all_gaps(library, bundle) for bundle in BUNDLES}

    assert sorted(joined_controls) == ["PRI-01", "PRI-02", "PRI-03", "PRI-04", "RLB-02", "VER-03", "VER-04", "VER-05"]
    ledger_rows = [row for rows in direct.values() for row in rows if row[0] in joined_controls]
    assert {row[0] for row in ledger_rows} == joined_controls  # each of them has gaps in some bundle
    assert len(ledger_rows) > 100
    for bundle in BUNDLES:
        assert direct[bundle] == generic[bundle], bundle
