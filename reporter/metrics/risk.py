"""R1–R3: risk-weighted exposure, the prioritisation view (metrics.md §3.5)."""

from __future__ import annotations

from typing import Any

from reporter.checks.base import CheckContext, count
from reporter.metrics.activity import TIER_WEIGHTS
from reporter.metrics.base import metric, rows
from reporter.models.results import Measure

Result = tuple[Measure, dict[str, Any]]
ASSET_WEIGHTS = {"high": 3, "moderate": 2, "low": 1, "unknown": 2}


@metric(
    "R1",
    "Tier distribution",
    formula="open finding-instances at as_of, and their exposure-days in the period, per BOD 26-04 outcome "
    "(3DF, 3D, 14D, 60D, FSU) computed from KEV, internet exposure, SSVC Automatable and Technical impact "
    "(missing SSVC data: the published defaults, Automatable no, Technical impact total)",
    source="CISA BOD 26-04 Table 1 (CERT/CC SSVC cisa:BOD2604:1.0.0)",
    threshold="report; SLA per tier",
    needs=("findings",),
)
def r1(ctx: CheckContext) -> Result | str:
    sql = (
        "SELECT bod_outcome, count(*) FILTER (WHERE is_open AND asset_active), "
        "round(sum(exposure_seconds) / 86400.0, 1) "
        "FROM a_ledger WHERE NOT not_affected GROUP BY ALL ORDER BY ALL"
    )
    tiers = {str(t): {"open": int(n), "exposure_days": float(d or 0)} for t, n, d in rows(ctx, sql)}
    open_total = sum(int(v["open"]) for v in tiers.values())
    return count(open_total, "finding-instances"), {"by_tier": tiers}


@metric(
    "R2",
    "Internet-facing critical exposure",
    formula="open KEV or critical finding-instances on active internet-facing assets at as_of; and their "
    "exposure-days in the period",
    source="CISA BOD 19-02, BOD 26-04; ASD Essential Eight",
    threshold="0 past their deadline",
    needs=("findings", "assets"),
)
def r2(ctx: CheckContext) -> Result | str:
    sql = (
        "SELECT count(*) FILTER (WHERE is_open AND asset_active), round(sum(exposure_seconds) / 86400.0, 1), "
        "count(*) FILTER (WHERE is_open AND asset_active AND due_at < (SELECT max(period_end_at) FROM bundle)) "
        "FROM a_ledger WHERE internet_facing AND (kev OR severity = 'critical') AND NOT not_affected"
    )
    open_now, days, overdue = rows(ctx, sql)[0]
    return count(int(open_now or 0), "finding-instances"), {
        "exposure_days": float(days or 0),
        "open_past_deadline": int(overdue or 0),
    }


@metric(
    "R3",
    "Risk-weighted exposure index (organisation-local)",
    formula="Σ over finding-instances of w_tier × w_asset × exposure-days in the period, w_tier 3DF=16, 3D=8, "
    "14D=4, 60D=2, FSU=1 and w_asset high=3, moderate=2, low=1, unknown=2; EPSS and CVSS are not multiplied in",
    source="Not an authority's definition: constraints from the FIRST EPSS FAQ and 'CVSS measures severity, "
    "not risk' (metrics.md §3.5). Trend only; never compare across organisations.",
    threshold="trend only [O]",
    needs=("findings",),
    unit_of_count="weighted instance-days",
)
def r3(ctx: CheckContext) -> Result | str:
    sql = (
        "SELECT bod_outcome, asset_importance, sum(exposure_seconds) / 86400.0 FROM a_ledger WHERE NOT not_affected "
        "GROUP BY ALL ORDER BY ALL"
    )
    index = sum(
        TIER_WEIGHTS.get(str(t), 1) * ASSET_WEIGHTS.get(str(a), 2) * float(d or 0) for t, a, d in rows(ctx, sql)
    )
    value = round(index, 1)
    return Measure(value=value, unit="index", display=f"{value:,.1f}"), {
        "tier_weights": TIER_WEIGHTS,
        "asset_weights": ASSET_WEIGHTS,
    }
