"""Constants and helpers shared by the control-library tests (imported by name from this folder)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# The control → check table of the shipped library (mappings/controls/, docs/controls.md). The lint
# tests pass this set as the known check ids; another test checks the engine registers exactly it.
PLAN_CONTROLS: dict[str, str] = {
    "INV-01": "inventory.discovered_not_inventoried",
    "INV-02": "inventory.record_completeness",
    "INV-03": "inventory.scan_coverage",
    "INV-04": "inventory.authenticated_scan_coverage",
    "INV-05": "inventory.patch_automation_coverage",
    "INV-06": "inventory.third_party_assets",
    "INV-07": "inventory.nhi_inventory",
    "INV-08": "inventory.container_coverage",
    "PRI-01": "priority.sla_compliance",
    "PRI-02": "priority.kev_compliance",
    "PRI-03": "priority.internet_facing_overdue",
    "PRI-04": "priority.overdue_backlog",
    "DEP-01": "deployment.unresolved_failures",
    "DEP-02": "deployment.change_record",
    "VER-01": "verification.unverified_success",
    "VER-02": "verification.still_vulnerable",
    "VER-03": "verification.closure_evidence",
    "VER-04": "verification.fix_without_change",
    "VER-05": "verification.ephemeral_unverified",
    "VER-06": "verification.contradicted_by_scan",
    "EXC-01": "exceptions.completeness",
    "EXC-02": "exceptions.expired",
    "EXC-03": "exceptions.compensating_controls",
    "EXC-04": "exceptions.duration",
    "EXC-05": "exceptions.scope",
    "RLB-01": "rollout.reassessment",
    "RLB-02": "rollout.rollback_reopened",
    "RLB-03": "rollout.emergency_mitigation_replaced",
    "NHI-01": "nhi.orphaned",
    "NHI-02": "nhi.leaked_secret_valid",
    "NHI-03": "nhi.third_party",
    "NHI-04": "nhi.insecure_authentication",
    "NHI-05": "nhi.overprivileged",
    "NHI-06": "nhi.insecure_storage",
    "NHI-07": "nhi.rotation",
    "NHI-08": "nhi.environment_isolation",
    "NHI-09": "nhi.reuse",
    "NHI-10": "nhi.human_use",
    "NHI-11": "nhi.long_lived",
    "NHI-12": "nhi.dormant",
    "NHI-13": "nhi.review",
    "NHI-14": "nhi.patched_but_exposed",
    "NHI-15": "nhi.post_patch_rotation",
    "AGT-01": "agents.inventory",
    "AGT-02": "agents.credentials",
    "AGT-03": "agents.tool_approval",
    "EVD-01": "evidence.completeness",
    "EVD-02": "evidence.freshness",
    "EVD-03": "evidence.integrity",
}
PLAN_CHECK_IDS: frozenset[str] = frozenset(PLAN_CONTROLS.values())

# The authoritative catalogs; absent on a clean clone (CI), where the tests that read them skip.
# EXPOSURE_REPORTER_CATALOGS points elsewhere (or, set to a missing path, forces the skip).
SHARED_CATALOGS = Path(os.environ.get("EXPOSURE_REPORTER_CATALOGS", "/work/shared/catalogs"))
needs_shared = pytest.mark.skipif(
    not SHARED_CATALOGS.is_dir(),
    reason=f"the authoritative catalogs ({SHARED_CATALOGS}) are not on this machine; the "
    "committed files are still checked against counts and statements copied into the tests",
)


WriteYaml = Callable[[Path, Any], Path]
MakePack = Callable[..., Path]


def reference(framework: str, item_id: str, **extra: Any) -> dict[str, Any]:
    """A reference entry with a rationale."""
    return {
        "framework": framework,
        "id": item_id,
        "relationship": "intersects",
        "rationale": "a test rationale long enough to pass the lint rule on short rationales",
        **extra,
    }
