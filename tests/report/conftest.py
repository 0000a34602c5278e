"""Fixtures of the report tests: the sample quarter's report rendered once per session, golden files.

Update the golden files with `pytest tests/report --update-golden` (the option belongs to these tests).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from report_helpers import GENERATED_AT, SAMPLES, SampleReport, assess_for_report, render_sample, run_cli

from reporter.catalog.loader import load_library
from reporter.report.interface import ReportInputs


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/report/golden/ from the current output instead of comparing.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run should rewrite golden files."""
    try:
        return bool(request.config.getoption("--update-golden"))
    except ValueError:  # the option is registered only when this conftest loads at start-up
        return False


@pytest.fixture(scope="session")
def q2_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """results.json of the Q2 sample (the baseline)."""
    path = tmp_path_factory.mktemp("q2") / "results.json"
    code, _, err = run_cli("assess", str(SAMPLES / "northwind-2026-q2"), "--output", str(path))
    assert code == 0, err
    return path


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory: pytest.TempPathFactory, q2_results: Path) -> SampleReport:
    """The Q3 sample's full report set, rendered once per session (the PDF takes ~20 s)."""
    return render_sample(tmp_path_factory.mktemp("report-q3"), q2_results)


@pytest.fixture(scope="session")
def q3_inputs() -> ReportInputs:
    """Renderer inputs for the Q3 sample (assessed once per session; no PDF)."""
    assessment, exports = assess_for_report(SAMPLES / "northwind-2026-q3")
    return ReportInputs(assessment, exports, load_library(), GENERATED_AT)
