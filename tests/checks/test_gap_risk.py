"""The gap risk rule (docs/report.md, "Gap risk") on hand-built derived tables: each gap carries the
risk of what it is about, and a control lists its gaps riskiest first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import duckdb
import pytest

from reporter.checks.base import (
    GAPS_DDL,
    CheckContext,
    CheckOutcome,
    ExceptionScope,
    evaluate,
    gap_select,
    unit_select,
)
from reporter.models.manifest import Period
from reporter.models.results import Gap
from reporter.policy import default_policy

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)

# Only the columns the gap insert reads: a ledger row per (asset, vulnerability), the assets with
# their importance, the identities, and the tables the owner joins name.
_TABLES = """
CREATE TABLE a_ledger (asset_id VARCHAR, vuln_id VARCHAR, severity VARCHAR, kev BOOLEAN, ssvc_exploitation VARCHAR,
    internet_facing BOOLEAN, asset_importance VARCHAR, due_at TIMESTAMPTZ, fixed_at TIMESTAMPTZ,
    retired_effective_at TIMESTAMPTZ, not_affected BOOLEAN, is_open BOOLEAN);
CREATE TABLE a_assets (id VARCHAR, owner VARCHAR, importance VARCHAR, internet_facing BOOLEAN);
CREATE TABLE identities (id VARCHAR, owner VARCHAR, privilege_admin BOOLEAN, enabled BOOLEAN);
CREATE TABLE exceptions (id VARCHAR, owner VARCHAR);
CREATE TABLE agents (id VARCHAR, owner VARCHAR);
CREATE TABLE sources (path VARCHAR, sha256 VARCHAR);
CREATE TABLE hand_gaps (id VARCHAR, asset_id VARCHAR, vuln_id VARCHAR, identity_id VARCHAR);
"""


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute(_TABLES)
    connection.execute(GAPS_DDL)
    yield connection
    connection.close()


def _finding(
    con: duckdb.DuckDBPyConnection,
    gap_id: str,
    *,
    severity: str = "medium",
    kev: bool = False,
    internet_facing: bool = False,
    importance: str = "moderate",
    due: datetime | None = None,
    fixed: datetime | None = None,
) -> None:
    """A gap about a finding-instance (asset × vulnerability) with its ledger row."""
    asset, vuln = f"a-{gap_id}", f"CVE-{gap_id}"
    con.execute(
        "INSERT INTO a_ledger VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, NULL, FALSE, ?)",
        [asset, vuln, severity, kev, internet_facing, importance, due, fixed, fixed is None],
    )
    con.execute("INSERT INTO a_assets VALUES (?, NULL, ?, ?)", [asset, importance, internet_facing])
    con.execute("INSERT INTO hand_gaps VALUES (?, ?, ?, NULL)", [gap_id, asset, vuln])


def _run(con: duckdb.DuckDBPyConnection, severity: str = "critical", cap: int = 1000) -> list[Gap]:
    return _outcome(con, severity, cap).gaps


def _outcome(con: duckdb.DuckDBPyConnection, severity: str = "critical", cap: int = 1000) -> CheckOutcome:
    ctx = CheckContext(
        con=con,
        policy=default_policy(),
        period=Period(start=date(2026, 7, 1), end=date(2026, 9, 30)),
        as_of=AS_OF,
        kinds_present=frozenset({"findings"}),
        gap_cap=cap,
    ).for_control("TST-01", severity)
    select = gap_select(
        kind="findings",
        record_id="h.id",
        source="'hand.jsonl'",
        message="'gap ' || h.id",
        asset_id="h.asset_id",
        vuln_id="h.vuln_id",
        identity_id="h.identity_id",
    )
    gaps = f"SELECT {select} FROM hand_gaps h"
    unit = unit_select(kind="findings", record_id="h.id", source="'hand.jsonl'")  # one unit more than gaps
    return evaluate(
        ctx,
        needs=("findings",),
        population_sql=f"SELECT {unit} FROM (SELECT id FROM hand_gaps UNION ALL SELECT 'extra') h",
        gaps_sql=gaps,
        noun="hand-built gaps",
        exceptions=ExceptionScope.NONE,
    )


def test_open_gaps_per_risk_level_are_exact_when_the_list_is_capped(con: duckdb.DuckDBPyConnection) -> None:
    due = datetime(2026, 9, 1, tzinfo=UTC)
    for n in range(30):
        _finding(con, f"m{n:02d}", due=due)  # medium, open
    for n in range(4):
        _finding(con, f"h{n}", severity="high", due=due)  # high, open
    _finding(con, "closed", severity="high", due=due, fixed=datetime(2026, 9, 10, tzinfo=UTC))  # low: not open
    outcome = _outcome(con, severity="medium", cap=3)
    assert len(outcome.gaps) == 3
    assert outcome.gap_total == 35
    assert outcome.open_by_risk == {"high": 4, "medium": 30}  # the closed instance's gap is not current


def test_kev_internet_facing_overdue_gap_outranks_a_hundred_medium_ones(con: duckdb.DuckDBPyConnection) -> None:
    for n in range(100):
        _finding(con, f"m{n:03d}", due=datetime(2026, 9, 1, tzinfo=UTC))  # medium, overdue 30 days
    _finding(
        con,
        "zkev",
        severity="high",
        kev=True,
        internet_facing=True,
        importance="high",
        due=datetime(2025, 9, 1, tzinfo=UTC),
    )
    gaps = _run(con, severity="medium", cap=5)
    first = gaps[0]
    assert first.record_id == "zkev"  # listed first although its id sorts last
    assert first.risk is not None
    assert (first.risk.level, first.risk.basis, first.risk.kev, first.risk.internet_facing) == (
        "critical",
        "finding",
        True,
        True,
    )
    assert first.risk.days_overdue == 395
    assert first.risk.open_at_as_of is True
    assert {g.risk.level for g in gaps[1:] if g.risk} == {"medium"}  # the control's severity does not lift them
    assert first.severity == "medium"  # the control's severity is kept beside the gap's risk


def test_a_gap_verified_fixed_at_as_of_is_lowered(con: duckdb.DuckDBPyConnection) -> None:
    due = datetime(2026, 8, 1, tzinfo=UTC)
    _finding(con, "open", severity="high", due=due)
    _finding(con, "fixed", severity="high", due=due, fixed=datetime(2026, 8, 11, tzinfo=UTC))
    _finding(
        con, "kevfixed", severity="critical", kev=True, internet_facing=True, fixed=datetime(2026, 8, 1, tzinfo=UTC)
    )
    by_id = {g.record_id: g.risk for g in _run(con)}
    assert by_id["open"] is not None
    assert by_id["fixed"] is not None
    assert by_id["kevfixed"] is not None
    assert (by_id["open"].level, by_id["open"].days_overdue) == ("high", 61)
    assert (by_id["fixed"].level, by_id["fixed"].open_at_as_of, by_id["fixed"].days_overdue) == ("low", False, 10)
    assert by_id["kevfixed"].level == "low"  # even a KEV: the exposure is gone, the process gap remains
    assert [g.record_id for g in _run_again(con)][:1] == ["open"]


def _run_again(con: duckdb.DuckDBPyConnection) -> list[Gap]:
    con.execute("DELETE FROM a_gaps")
    return _run(con)


@pytest.mark.parametrize(
    ("severity", "internet_facing", "importance", "level"),
    [
        ("medium", True, "moderate", "high"),  # internet-facing raises one level
        ("medium", False, "high", "high"),  # so does a high-importance asset
        ("medium", True, "high", "high"),  # together still one level
        ("medium", False, "low", "low"),  # a low-importance asset lowers one level
        ("high", True, "high", "high"),  # critical only from critical, KEV or active exploitation
        ("critical", False, "low", "high"),
        ("critical", True, "moderate", "critical"),
        ("low", False, "low", "low"),  # never below low
    ],
)
def test_exposure_and_importance_move_the_vulnerability_severity(
    con: duckdb.DuckDBPyConnection, severity: str, internet_facing: bool, importance: str, level: str
) -> None:
    _finding(con, "g", severity=severity, internet_facing=internet_facing, importance=importance)
    [gap] = _run(con)
    assert gap.risk is not None
    assert gap.risk.level == level


def test_asset_and_identity_gaps_use_the_control_severity_and_what_the_evidence_says(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute("INSERT INTO a_assets VALUES ('a-edge', 'ops', 'high', TRUE), ('a-lab', 'ops', 'low', FALSE)")
    con.execute("INSERT INTO identities VALUES ('nhi-admin', 'iam', TRUE, TRUE), ('nhi-off', 'iam', FALSE, FALSE)")
    con.execute(
        "INSERT INTO hand_gaps VALUES ('edge', 'a-edge', NULL, NULL), ('lab', 'a-lab', NULL, NULL), "
        "('admin', NULL, NULL, 'nhi-admin'), ('off', NULL, NULL, 'nhi-off'), ('file', NULL, NULL, NULL)"
    )
    gaps = _run(con, severity="medium")
    by_id = {g.record_id: g.risk for g in gaps}
    levels = {k: (r.level, r.basis) for k, r in by_id.items() if r}
    assert levels == {
        "edge": ("high", "asset"),
        "admin": ("high", "identity"),
        "file": ("medium", "control"),
        "lab": ("low", "asset"),
        "off": ("low", "identity"),
    }
    assert [g.record_id for g in gaps] == ["edge", "admin", "file", "lab", "off"]  # riskiest first, then by id


def test_gaps_with_and_without_a_vulnerability_in_one_check_each_get_their_own_facts(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """The ledger rows joined are those some gap names (D92): the asset's other instance, which no
    gap names, lends its facts to nothing, and the gap without a vulnerability takes the asset's."""
    _finding(con, "kev", severity="high", kev=True, importance="high")
    con.execute(
        "INSERT INTO a_ledger VALUES ('a-kev', 'CVE-other', 'critical', TRUE, 'active', TRUE, 'high', NULL, NULL, "
        "NULL, FALSE, TRUE)"
    )
    con.execute("INSERT INTO hand_gaps VALUES ('asset', 'a-kev', NULL, NULL), ('none', 'a-missing', 'CVE-x', NULL)")
    gaps = {g.record_id: g.risk for g in _run(con, severity="low")}
    facts = {k: (r.level, r.basis, r.kev, r.vuln_severity) for k, r in gaps.items() if r}
    assert facts == {
        "kev": ("critical", "finding", True, "high"),
        "asset": ("medium", "asset", None, None),
        "none": ("low", "control", None, None),
    }


def test_gap_order_is_total_and_deterministic(con: duckdb.DuckDBPyConnection) -> None:
    for n in (3, 1, 2):
        _finding(con, f"same{n}")
    first = [g.record_id for g in _run(con)]
    assert first == ["same1", "same2", "same3"]
    assert [g.record_id for g in _run_again(con)] == first
