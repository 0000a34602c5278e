"""AWS Systems Manager Patch Manager JSON → scans (every patch operation) and deployments
(Install operations, status from the counts). Counts are per instance, not per CVE: no findings
and no verifications are derived from them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from reporter.importers._common import (
    AssetResolver,
    Where,
    as_list,
    as_obj,
    compact,
    iso,
    load_json,
    opt_int,
    opt_obj,
    opt_str,
    scan_time,
    stable_id,
    start,
    timestamp_at,
)
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="aws-ssm-patch-states",
    tool="AWS Systems Manager Patch Manager",
    kinds=("scans", "deployments"),
    tested_versions="describe-instance-patch-states(-for-patch-group) AWS CLI v2 documentation "
    "example; list-compliance-items pages (Patch items)",
    produce_with="aws ssm describe-instance-patch-states --instance-ids i-... --output json > ssm.json",
    notes="One page or a JSON array of pages. Compliance counts are not per CVE and are dropped.",
    extensions=(".json",),
)

TOOL = "aws-ssm-patch-manager"


class AwsSsmImporter:
    """Reads patch states (or Patch compliance items) of one or more pages."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield a scan per instance operation and a deployment per Install operation."""
        where = start(context)
        document = load_json(path, context)
        paged = isinstance(document, list)
        pages = document if paged else [document]
        resolve = AssetResolver(context)
        for p, item in enumerate(pages):
            page_where = where.at(p) if paged else where
            page = as_obj(item, page_where)
            if "InstancePatchStates" in page:
                yield from _patch_states(page, page_where, context, resolve)
            elif "ComplianceItems" in page:
                yield from _compliance_items(page, page_where, context, resolve)
            else:
                raise page_where.error("is neither describe-instance-patch-states nor list-compliance-items output")


def _patch_states(
    page: dict[str, Any], where: Where, context: ImportContext, resolve: AssetResolver
) -> Iterator[ImportedRecord]:
    states_where = where.at("InstancePatchStates")
    for i, item in enumerate(as_list(page.get("InstancePatchStates"), states_where)):
        state_where = states_where.at(i)
        state = as_obj(item, state_where)
        instance = opt_str(state, "InstanceId", state_where)
        if instance is None:
            raise state_where.at("InstanceId").error("is missing")
        asset = resolve(instance, state_where.at("InstanceId"))
        started = timestamp_at(state, "OperationStartTime", state_where)
        ended = scan_time(
            timestamp_at(state, "OperationEndTime", state_where) or started,
            context,
            state_where.at("OperationEndTime"),
            "the operation time",
        )
        yield ImportedRecord("scans", _scan(asset, ended), str(state_where))
        if (opt_str(state, "Operation", state_where) or "").lower() == "install":
            yield _deployment(state, state_where, asset, started, ended)


def _scan(asset: str, at: datetime) -> dict[str, Any]:
    return {
        "id": stable_id("ssm", "scan", asset, iso(at)),
        "asset_id": asset,
        "tool": TOOL,
        "authenticated": True,  # the SSM agent inventories the instance from inside
        "completed_at": iso(at),
        "status": "completed",
    }


def _deployment(
    state: dict[str, Any], where: Where, asset: str, started: datetime | None, ended: datetime
) -> ImportedRecord:
    data = {
        "id": stable_id("ssm", "deployment", asset, iso(started), iso(ended)),
        "asset_id": asset,
        "patch_id": opt_str(state, "BaselineId", where),
        "started_at": iso(started),
        "completed_at": iso(ended),
        "status": _status(state, where),
        "tool": TOOL,
    }
    return ImportedRecord("deployments", compact(data), str(where))


def _status(state: dict[str, Any], where: Where) -> str:
    """failed > pending_reboot > partial (patches still missing after the install) > succeeded.

    Failure ranks first: it is the outcome a follow-up must never miss."""
    if (opt_int(state, "FailedCount", where) or 0) > 0:
        return "failed"
    if (opt_int(state, "InstalledPendingRebootCount", where) or 0) > 0:
        return "pending_reboot"
    if (opt_int(state, "MissingCount", where) or 0) > 0:
        return "partial"
    return "succeeded"


def _compliance_items(
    page: dict[str, Any], where: Where, context: ImportContext, resolve: AssetResolver
) -> Iterator[ImportedRecord]:
    """One scan per (instance, patch execution); other compliance types are not scans."""
    items_where = where.at("ComplianceItems")
    seen: set[str] = set()
    for i, item in enumerate(as_list(page.get("ComplianceItems"), items_where)):
        item_where = items_where.at(i)
        compliance = as_obj(item, item_where)
        if opt_str(compliance, "ComplianceType", item_where) != "Patch":
            continue
        resource = opt_str(compliance, "ResourceId", item_where)
        if resource is None:
            raise item_where.at("ResourceId").error("is missing")
        summary = opt_obj(compliance, "ExecutionSummary", item_where)
        at = scan_time(
            timestamp_at(summary, "ExecutionTime", item_where.at("ExecutionSummary")),
            context,
            item_where.at("ExecutionSummary.ExecutionTime"),
            "the execution time",
        )
        data = _scan(resolve(resource, item_where.at("ResourceId")), at)
        if data["id"] not in seen:
            seen.add(data["id"])
            yield ImportedRecord("scans", data, str(item_where))


IMPORTER = AwsSsmImporter()
