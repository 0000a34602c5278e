"""Shared fixtures: the sample quarter assessed once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.models.results import Assessment

SAMPLES = Path(__file__).resolve().parents[2] / "evidence-samples"


def assess_dir(path: Path, gap_cap: int = 100_000) -> Assessment:
    """Load and assess a bundle directory (must be valid)."""
    loaded = load_bundle(path)
    try:
        errors = [i for i in loaded.issues if i.severity == "error"]
        assert errors == [], errors[:5]
        return assess(loaded, load_library(), AssessOptions(gap_cap=gap_cap))
    finally:
        loaded.close()


@pytest.fixture(scope="session")
def q3() -> Assessment:
    """The 2026-Q3 sample, assessed with every gap listed."""
    return assess_dir(SAMPLES / "northwind-2026-q3")
