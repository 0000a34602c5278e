"""Resolving the policy in force: the shipped defaults merged with a bundle's `policy.yaml`."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import ValidationError

from reporter.bundle.limits import DEFAULT_LIMITS
from reporter.bundle.safeyaml import load_yaml
from reporter.errors import MappingsError
from reporter.models.policy import Policy, PolicyFile, SlaPolicy
from reporter.resources import mappings_dir


@cache
def default_policy() -> Policy:
    """The shipped default policy (mappings/policy/default.yaml)."""
    path = mappings_dir() / "policy" / "default.yaml"
    document = load_yaml(path.read_bytes(), "mappings/policy/default.yaml", DEFAULT_LIMITS)
    try:
        return Policy.model_validate(document.data)
    except ValidationError as exc:  # pragma: no cover - guarded by tests on the shipped file
        raise MappingsError(f"shipped default policy is invalid: {exc}") from None


def resolve_policy(overrides: PolicyFile | None, base: Policy | None = None) -> Policy:
    """Merge a bundle's policy file over the defaults. Rules with an existing id replace it."""
    base = base or default_policy()
    if overrides is None:
        return base
    update: dict[str, Any] = {}
    for section in (
        "nhi",
        "exceptions",
        "verification",
        "rollout",
        "scans",
        "inventory",
        "freshness",
        "tolerance",
        "sampling",
    ):
        value = getattr(overrides, section)
        if value is not None:
            update[section] = value
    if overrides.name:
        update["name"] = overrides.name
    if overrides.sla is not None:
        update["sla"] = _merge_sla(base.sla, overrides)
    return base.model_copy(update=update)


def _merge_sla(sla: SlaPolicy, overrides: PolicyFile) -> SlaPolicy:
    assert overrides.sla is not None
    rules = {rule.id: rule for rule in sla.rules}
    for rule in overrides.sla.rules:
        rules[rule.id] = rule
    unknown = [i for i in (*overrides.sla.enable, *overrides.sla.disable) if i not in rules]
    if unknown:
        raise ValueError(f"unknown SLA rule id(s): {', '.join(unknown)}")
    merged = []
    for rule in rules.values():
        if rule.id in overrides.sla.disable:
            merged.append(rule.model_copy(update={"enabled": False}))
        elif rule.id in overrides.sla.enable:
            merged.append(rule.model_copy(update={"enabled": True}))
        else:
            merged.append(rule)
    return sla.model_copy(update={"rules": merged})
