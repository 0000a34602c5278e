"""AGT checks on small inline bundles: agent inventory, agent credentials, tool approval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.bundles import BundleBuilder, example, minimal_valid

from reporter.assess.engine import AssessOptions, assess
from reporter.bundle.load import load_bundle
from reporter.catalog.loader import load_library
from reporter.models.results import Assessment, ControlResult
from reporter.models.status import Status

# The period is 2026-07-01 … 2026-09-30: as_of is 2026-10-01T00:00Z.


def credential(ident: str, **changes: Any) -> dict[str, Any]:
    """A short-lived, scoped agent credential (None removes a field)."""
    fields: dict[str, Any] = {
        "id": ident,
        "name": f"{ident}-token",
        "type": "agent_credential",
        "short_lived": True,
        "auth_method": "oidc",
        "storage": "none",
        "used_by": [],
        "last_rotated_at": None,
        "prior_secret_valid": None,
    }
    fields.update(changes)
    return example("identities", **fields)


def tool(name: str, permission: str, approval: bool) -> dict[str, Any]:
    return {"name": name, "permission": permission, "requires_approval": approval}


def agent(ident: str, identity_ids: list[str], **changes: Any) -> dict[str, Any]:
    """An owned, recently reviewed agent with a read tool."""
    fields: dict[str, Any] = {"id": ident, "identity_ids": identity_ids, "tools": [tool("read_docs", "read", False)]}
    fields.update(changes)
    return example("agents", **fields)


def bundle(tmp_path: Path, agents: list[dict[str, Any]] | None, identities: list[dict[str, Any]]) -> BundleBuilder:
    """minimal_valid with these agents (None: no agents source) and identities, and no secret exposures."""
    builder = minimal_valid(tmp_path)
    replaced = {"agents": agents, "identities": identities, "secret_exposures": []}
    builder.sources = [s for s in builder.sources if s["kind"] not in replaced]
    for kind, records in replaced.items():
        if records is not None:
            builder.add(kind, records)
    return builder


def run(builder: BundleBuilder) -> Assessment:
    """Load and assess the bundle; it must be valid."""
    loaded = load_bundle(builder.write())
    try:
        errors = [i for i in loaded.issues if i.severity == "error"]
        assert errors == []
        return assess(loaded, load_library(), AssessOptions())
    finally:
        loaded.close()


def control(result: Assessment, control_id: str) -> ControlResult:
    return next(c for c in result.controls if c.control_id == control_id)


def flagged(result: Assessment, control_id: str) -> set[tuple[str, str]]:
    """(kind, record id) of the control's gaps no exception covers."""
    return {(g.kind, g.record_id) for g in control(result, control_id).gaps if g.excepted_by is None}


def test_long_lived_admin_agent_token_is_flagged(tmp_path: Path) -> None:
    admin_token = credential(
        "nhi-0050",
        type="access_token",
        short_lived=False,
        privilege_admin=True,
        privilege_scopes=["Owner"],
        created_at="2026-03-01T00:00:00Z",
        expires_at=None,
    )
    result = run(
        bundle(
            tmp_path,
            agents=[agent("agent-ops", ["nhi-0050"]), agent("agent-docs", ["nhi-0051"])],
            identities=[admin_token, credential("nhi-0051")],
        )
    )
    agt02 = control(result, "AGT-02")
    assert flagged(result, "AGT-02") == {("identities", "nhi-0050")}
    assert agt02.population == 2
    [gap] = agt02.gaps
    assert "held by agent-ops" in gap.message
    assert "never expires" in gap.message
    assert "admin privilege (granted: Owner)" in gap.message


def test_short_lived_admin_and_static_agent_credentials_are_flagged(tmp_path: Path) -> None:
    admin = credential("nhi-0050", privilege_admin=True)
    static_key = credential("nhi-0051", type="api_key", short_lived=False, expires_at="2027-01-01T00:00:00Z")
    agents = [agent("agent-claims", ["nhi-0050"]), agent("agent-routes", ["nhi-0051"])]
    result = run(bundle(tmp_path, agents=agents, identities=[admin, static_key]))
    assert flagged(result, "AGT-02") == {("identities", "nhi-0050"), ("identities", "nhi-0051")}


def test_agent_inventory_owner_review_and_unheld_credentials(tmp_path: Path) -> None:
    agents = [
        agent("agent-ok", ["nhi-0050"]),
        agent("agent-ownerless", ["nhi-0051"], owner=None),
        agent("agent-stale", ["nhi-0052"], last_reviewed_at="2026-05-01T00:00:00Z"),
        agent("agent-via-used-by", []),
    ]
    identities = [
        credential("nhi-0050"),
        credential("nhi-0051"),
        credential("nhi-0052"),
        credential("nhi-0053", used_by=["agent-via-used-by"]),  # held: its used_by names the agent
        credential("nhi-0054"),  # held by no agent
    ]
    result = run(bundle(tmp_path, agents=agents, identities=identities))
    assert flagged(result, "AGT-01") == {
        ("agents", "agent-ownerless"),
        ("agents", "agent-stale"),
        ("identities", "nhi-0054"),
    }
    assert control(result, "AGT-01").population == 9
    stale = next(g for g in control(result, "AGT-01").gaps if g.record_id == "agent-stale")
    assert "last reviewed 2026-05-01 (153 days before as_of; limit 90)" in stale.message


def test_consequential_tools_need_human_approval(tmp_path: Path) -> None:
    tools = [
        tool("read_docs", "read", False),
        tool("update_shipment", "write", False),
        tool("draft_reply", "write", True),
        tool("run_shell", "execute", False),
    ]
    result = run(
        bundle(tmp_path, agents=[agent("agent-ops", ["nhi-0050"], tools=tools)], identities=[credential("nhi-0050")])
    )
    agt03 = control(result, "AGT-03")
    assert agt03.population == 3
    assert agt03.gap_total == 2
    assert sorted(g.message for g in agt03.gaps) == [
        "agent agent-ops (human_on_the_loop): execute tool 'run_shell' runs without human approval",
        "agent agent-ops (human_on_the_loop): write tool 'update_shipment' runs without human approval",
    ]


@pytest.mark.parametrize("agents", [[], None], ids=["empty-agents-file", "no-agents-source"])
def test_zero_agents_is_never_a_pass(tmp_path: Path, agents: list[dict[str, Any]] | None) -> None:
    """An empty agents file is no more evidence than none (issue 10 item 9)."""
    result = run(bundle(tmp_path, agents=agents, identities=[example("identities")]))
    assert control(result, "AGT-02").status is Status.INSUFFICIENT_EVIDENCE
    assert control(result, "AGT-03").status is Status.INSUFFICIENT_EVIDENCE
