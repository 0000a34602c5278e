"""AWS Systems Manager `describe-instance-patches` JSON → deployments: one per patch the instance
reports installed, pending a reboot or failed. The output does not name the instance: the asset
comes from the source's asset_id. Missing, rejected and not-applicable patches are not deployments."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reporter.importers._common import (
    Where,
    as_list,
    as_obj,
    compact,
    is_cve,
    iso,
    load_json,
    opt_str,
    stable_id,
    start,
    timestamp_at,
)
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="aws-ssm-instance-patches",
    tool="AWS Systems Manager Patch Manager",
    kinds=("deployments",),
    tested_versions="AWS CLI documentation examples (2017, 2019 epoch floats, current ISO); API reference "
    "sample (RHEL 8 packages)",
    produce_with="aws ssm describe-instance-patches --instance-id i-... --output json > patches.json",
    notes="One page, a JSON array of pages, or the Patches array (--query Patches). Needs asset_id.",
    extensions=(".json",),
)

TOOL = "aws-ssm-patch-manager"

# PatchComplianceData.State, written CamelCase by the CLI (Installed) or upper snake case by the
# API reference (INSTALLED_OTHER): compared without case and underscores.
_STATUS = {
    "installed": "succeeded",
    "installedother": "succeeded",
    "installedpendingreboot": "pending_reboot",
    "failed": "failed",
}
_NOT_DEPLOYED = frozenset({"installedrejected", "missing", "notapplicable", "availablesecurityupdate"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # InstalledTime 0: "not installed" or unknown

_KB = re.compile(r"(?i)KB(\d{1,10})")
# rpm architectures: a Linux KBId is `name.arch` and its Title `name.arch:epoch:version-release`
_RPM_ARCHES = frozenset(
    {
        "x86_64",
        "i386",
        "i486",
        "i586",
        "i686",
        "athlon",
        "noarch",
        "aarch64",
        "armv6hl",
        "armv7hl",
        "armhfp",
        "ppc",
        "ppc64",
        "ppc64le",
        "s390",
        "s390x",
        "ia64",
    }
)
_RPM_TITLE = re.compile(r"(\d{1,10}):([A-Za-z0-9._+~^]+-[A-Za-z0-9._+~^]+)")
_CVE_SPLIT = re.compile(r"[\s,;]+")


class AwsSsmPatchesImporter:
    """Reads the per-patch states of one instance."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield a deployment per installed, pending-reboot or failed patch."""
        where = start(context)
        if not context.asset_id:
            raise where.error("does not name the instance: set asset_id (--asset-id) to its inventory asset")
        for patch, patch_where in _patches(load_json(path, context), where):
            record = _deployment(patch, patch_where, context.asset_id)
            if record is not None:
                yield record


def _patches(document: Any, where: Where) -> Iterator[tuple[dict[str, Any], Where]]:
    """(patch, position) of a page, an array of pages or the bare Patches array."""
    if isinstance(document, dict):
        yield from _page(document, where)
        return
    items = as_list(document, where)
    pages = [isinstance(item, dict) and "Patches" in item for item in items]
    for i, item in enumerate(items):
        if pages[i] != pages[0]:
            raise where.at(i).error("mixes pages (objects with Patches) and patches in one array")
        if pages[i]:
            yield from _page(item, where.at(i))
        else:
            yield as_obj(item, where.at(i)), where.at(i)


def _page(page: dict[str, Any], where: Where) -> Iterator[tuple[dict[str, Any], Where]]:
    if "Patches" not in page:
        raise where.error("is not describe-instance-patches output (no Patches)")
    patches_where = where.at("Patches")
    for i, item in enumerate(as_list(page["Patches"], patches_where)):
        yield as_obj(item, patches_where.at(i)), patches_where.at(i)


def _deployment(patch: dict[str, Any], where: Where, asset: str) -> ImportedRecord | None:
    status = _status(patch, where)
    if status is None:
        return None
    kb_id = opt_str(patch, "KBId", where)
    if kb_id is None:
        raise where.at("KBId").error("is missing")
    patch_id = patch_id_of(kb_id, opt_str(patch, "Title", where))
    installed = timestamp_at(patch, "InstalledTime", where)
    if installed == _EPOCH:
        installed = None
    data = {
        "id": stable_id("ssm-patch", TOOL, asset, patch_id, iso(installed)),
        "asset_id": asset,
        "patch_id": patch_id,
        "vuln_ids": cve_ids(opt_str(patch, "CVEIds", where)),
        "completed_at": iso(installed),
        "status": status,
        "tool": TOOL,
    }
    return ImportedRecord("deployments", compact(data), str(where))


def _status(patch: dict[str, Any], where: Where) -> str | None:
    """The deployment status of a patch state; None for states that are not deployments."""
    state = opt_str(patch, "State", where)
    if state is None:
        raise where.at("State").error("is missing")
    key = state.replace("_", "").replace(" ", "").lower()
    if key in _STATUS:
        return _STATUS[key]
    if key in _NOT_DEPLOYED:
        return None
    raise where.at("State").error(
        "is not a known patch state (Installed, InstalledOther, InstalledPendingReboot, Failed, "
        "InstalledRejected, Missing, NotApplicable, AvailableSecurityUpdate)"
    )


def patch_id_of(kb_id: str, title: str | None) -> str:
    """`KB…` for a Windows KB; `name=[epoch:]version-release` for an rpm package whose Title is
    `name.arch:epoch:version-release` (epoch 0 left out, as rpm and scanners write it); else KBId."""
    if kb := _KB.fullmatch(kb_id):
        return f"KB{kb[1]}"
    name, _, arch = kb_id.rpartition(".")
    if not (name and arch in _RPM_ARCHES and title and title.startswith(f"{kb_id}:")):
        return kb_id
    if rpm := _RPM_TITLE.fullmatch(title[len(kb_id) + 1 :]):
        epoch = "" if int(rpm[1]) == 0 else f"{int(rpm[1])}:"
        return f"{name}={epoch}{rpm[2]}"
    return kb_id


def cve_ids(raw: str | None) -> list[str]:
    """The well-formed CVE ids of a CVEIds string (comma- or space-separated), sorted; others dropped."""
    if raw is None:
        return []
    return sorted({token.upper() for token in _CVE_SPLIT.split(raw) if is_cve(token.upper())})


IMPORTER = AwsSsmPatchesImporter()
