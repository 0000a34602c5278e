"""AGT: AI agents are inventoried and owned, act with short-lived scoped credentials, and need a
human's approval for consequential tool calls (NIST AI RMF GOVERN 1.6; MITRE ATLAS AML.M0026, M0029).
"""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckOutcome, ExceptionScope, evaluate, record_gap, record_unit
from reporter.checks.nhi import before, days_to, existing_identities
from reporter.checks.registry import register
from reporter.store.sql import Params

CONSEQUENTIAL = ("write", "execute", "admin")


def agent_identities(as_of: str) -> str:
    """(agent_id, identity_id): identities an agent lists in identity_ids, or whose used_by names it."""
    return f"""
        SELECT p.agent_id, p.identity_id FROM a_agent_identities p
        JOIN ({existing_identities(as_of)}) i ON i.id = p.identity_id"""


def agent_tools() -> str:
    """One row per tool of every agent: the agent's columns plus tool name, permission and approval."""
    return """
        SELECT g.*, json_extract_string(t.tool, '$.name') AS tool_name,
            json_extract_string(t.tool, '$.permission') AS permission,
            COALESCE(json_extract_string(t.tool, '$.requires_approval') = 'true', FALSE) AS requires_approval
        FROM agents g, LATERAL (SELECT unnest(CAST(g.tools AS JSON[])) AS tool) t"""


@register("agents.inventory")
def inventory(ctx: CheckContext) -> CheckOutcome:
    """NIST AI RMF GOVERN 1.6 and 1.7: every AI agent has an accountable owner and a governance review
    within policy.nhi.review_max_days of as_of, and every agent credential is held by an inventoried
    agent — a credential no agent holds is what an unsafe decommissioning leaves behind. A credential
    is held when an agent lists it in identity_ids or the identity's used_by names an agent. One gap
    per agent, and per unheld agent credential. Evidence: agents (owner, last_reviewed_at,
    identity_ids), identities (type agent_credential, used_by). Example gaps: "agent
    agent-customs-docs: last reviewed 2026-05-02 (152 days before as_of; limit 90)"; "agent credential
    nhi-0118 (agent-pricing-experiment-token) is held by no registered agent"."""
    params = Params()
    as_of, days = params.add(ctx.as_of), params.add(ctx.policy.nhi.review_max_days)
    reviewed = before("g.last_reviewed_at", as_of)
    problems = (
        "concat_ws('; ', CASE WHEN g.owner IS NULL THEN 'no owner' END, "
        f"CASE WHEN {reviewed} IS NULL THEN 'never reviewed' WHEN {reviewed} < {as_of} - to_days({days}) "
        f"THEN 'last reviewed ' || strftime({reviewed}, '%Y-%m-%d') || ' (' || {days_to(reviewed, as_of)} || "
        f"' days before as_of; limit ' || {days} || ')' END)"
    )
    agent_gap = record_gap("g", "agents", f"'agent ' || g.id || ': ' || {problems}")
    agent_gaps = (
        f"SELECT {agent_gap} FROM agents g "
        f"WHERE g.owner IS NULL OR {reviewed} IS NULL OR {reviewed} < {as_of} - to_days({days})"
    )
    credentials = f"SELECT * FROM ({existing_identities(as_of)}) WHERE type = 'agent_credential'"
    unheld = (
        "'agent credential ' || i.id || ' (' || i.name || ')' || CASE WHEN i.enabled THEN '' ELSE ', disabled,' END "
        "|| ' is held by no registered agent'"
    )
    identity_gaps = (
        f"SELECT {record_gap('i', 'identities', unheld, identity_id='i.id')} FROM ({credentials}) i "
        f"WHERE i.id NOT IN (SELECT identity_id FROM ({agent_identities(as_of)}))"
    )
    population = (
        f"SELECT {record_unit('g', 'agents')} FROM agents g UNION ALL "
        f"SELECT {record_unit('i', 'identities', identity_id='i.id')} FROM ({credentials}) i"
    )
    return evaluate(
        ctx,
        needs=("agents", "identities"),
        population_sql=population,
        gaps_sql=f"{agent_gaps} UNION ALL {identity_gaps}",
        noun="AI agents and agent credentials",
        params=params,
        exceptions=ExceptionScope.IDENTITIES,
    )


@register("agents.credentials")
def credentials(ctx: CheckContext) -> CheckOutcome:
    """MITRE ATLAS AML.M0026 and OWASP NHI5/NHI7: every identity an AI agent holds is short-lived
    (issued per session or task) and holds no admin privilege, so a prompt-injected or compromised
    agent cannot act broadly or for long. One gap per identity, naming the agents that hold it.
    Evidence: agents (identity_ids), identities (short_lived, privilege_admin, expires_at, used_by).
    Example gap: "nhi-0119 (ops-copilot-admin-token), held by agent-ops-copilot: long-lived
    access_token (never expires); admin privilege (granted: Owner)"."""
    params = Params()
    as_of = params.add(ctx.as_of)
    held = (
        "SELECT identity_id, string_agg(agent_id, ', ' ORDER BY agent_id) AS agents "
        f"FROM ({agent_identities(as_of)}) GROUP BY identity_id"
    )
    problems = (
        "concat_ws('; ', CASE WHEN NOT i.short_lived THEN 'long-lived ' || i.type || ' (' || "
        "COALESCE('expires ' || strftime(i.expires_at, '%Y-%m-%d'), 'never expires') || ')' END, "
        "CASE WHEN i.privilege_admin THEN 'admin privilege' || COALESCE(' (granted: ' || "
        "NULLIF(array_to_string(i.privilege_scopes, ', '), '') || ')', '') END)"
    )
    message = f"i.id || ' (' || i.name || '), held by ' || h.agents || ': ' || {problems}"
    gaps = (
        f"SELECT {record_gap('i', 'identities', message, identity_id='i.id')} FROM ({held}) h "
        "JOIN identities i ON i.id = h.identity_id WHERE NOT i.short_lived OR i.privilege_admin"
    )
    return evaluate(
        ctx,
        needs=("agents", "identities"),
        population_sql=f"SELECT {record_unit('i', 'identities', identity_id='i.id')} FROM ({held}) h "
        "JOIN identities i ON i.id = h.identity_id",
        gaps_sql=gaps,
        noun="identities held by AI agents",
        params=params,
        exceptions=ExceptionScope.IDENTITIES,
    )


@register("agents.tool_approval")
def tool_approval(ctx: CheckContext) -> CheckOutcome:
    """MITRE ATLAS AML.M0029 human in the loop: every tool an AI agent can call that writes, executes
    or administers requires a human's approval of each call; read tools need none. One gap per
    consequential tool without approval, citing the agent's record. Evidence: agents (tools:
    permission, requires_approval; autonomy). Example gap: "agent agent-it-automation (autonomous):
    execute tool 'run_shell' runs without human approval"."""
    params = Params()
    consequential = params.add(list(CONSEQUENTIAL))
    tools = f"SELECT * FROM ({agent_tools()}) WHERE list_contains({consequential}, permission)"
    message = (
        "'agent ' || g.id || ' (' || g.autonomy || '): ' || g.permission || ' tool ''' || g.tool_name || "
        "''' runs without human approval'"
    )
    gaps = f"SELECT {record_gap('g', 'agents', message)} FROM ({tools}) g WHERE NOT g.requires_approval"
    return evaluate(
        ctx,
        needs=("agents",),
        population_sql=f"SELECT {record_unit('g', 'agents')} FROM ({tools}) g",
        gaps_sql=gaps,
        noun="write, execute and admin tools of AI agents",
        params=params,
        exceptions=ExceptionScope.CONTROL,
    )
