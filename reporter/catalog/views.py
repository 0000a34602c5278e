"""Display data for `mappings list|show|coverage|lint`: plain dicts, printed by the CLI.

Every view carries `format_version`; the JSON output is the view itself, the text output renders it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reporter.catalog.coverage import coverage, item_links
from reporter.catalog.library import Framework, Library
from reporter.catalog.resolver import Resolution, describe
from reporter.errors import UsageError
from reporter.models.catalog import Control, FrameworkCoverage, FrameworkItem
from reporter.models.issues import Issue, IssueSeverity

FORMAT_VERSION = 1


def _framework(library: Library, framework_id: str) -> Framework:
    framework = library.frameworks.get(framework_id)
    if framework is None:
        known = ", ".join(library.frameworks)
        raise UsageError(f"unknown framework '{framework_id}' (known: {known})")
    return framework


def _framework_summary(framework: Framework) -> dict[str, Any]:
    meta = framework.meta
    return {
        "id": meta.id,
        "name": meta.name,
        "version": meta.version,
        "origin": framework.origin,
        "file": framework.file,
        "text_origin": meta.text_origin.value,
        "license": meta.license,
        "attribution": meta.attribution,
        "assessed_kinds": list(meta.assessed_kinds),
        "items": len(framework.items),
        "assessed_items": len(framework.assessed_items()),
        "legacy_ids": len(framework.legacy),
    }


def _control_summary(library: Library, control: Control) -> dict[str, Any]:
    return {
        "id": control.id,
        "family": control.family,
        "title": control.title,
        "severity": control.severity.value,
        "check": control.check,
        "evidence": list(control.evidence),
        "metrics": list(control.metrics),
        "references": len(control.references),
        "origin": library.control_origin.get(control.id, ""),
    }


def list_view(library: Library, framework_id: str | None = None) -> dict[str, Any]:
    """Frameworks and controls; with a framework, that framework's items and their controls."""
    view: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "packs": [p.model_dump(mode="json") for p in library.packs],
    }
    if framework_id is None:
        view["frameworks"] = [_framework_summary(f) for f in library.frameworks.values()]
        view["controls"] = [_control_summary(library, c) for c in library.controls.values()]
        return view
    framework = _framework(library, framework_id)
    view["framework"] = _framework_summary(framework)
    view["items"] = [
        {
            "id": item.id,
            "kind": item.kind,
            "label": item.label,
            "assessed_kind": framework.is_assessed_kind(item.kind),
            "controls": sorted({m.control.id for m in library.mappings_to(framework.id, item.id)}),
        }
        for item in framework.items.values()
    ]
    return view


# ---------------------------------------------------------------------------------------------
# show


def _control_detail(library: Library, control: Control) -> dict[str, Any]:
    detail = _control_summary(library, control)
    detail["objective"] = control.objective
    detail["file"] = library.control_files.get(control.id, "")
    detail["overrides"] = [
        {"pack": o.pack, "file": o.file, "reason": o.override.reason} for o in library.overrides_of(control.id)
    ]
    detail["references"] = [
        {
            "framework": r.framework,
            "id": r.id,
            "label": item.label if (item := library.item(r.framework, r.id)) else "",
            "relationship": r.relationship.value,
            "direct": r.relationship.direct,
            "rationale": r.rationale,
            "legacy_id": r.legacy_id,
            "applies_when": r.applies_when.value if r.applies_when else None,
        }
        for r in control.references
    ]
    return detail


def _item_detail(library: Library, framework: Framework, item: FrameworkItem) -> dict[str, Any]:
    controls = library.controls
    return {
        "framework": framework.id,
        "framework_name": framework.meta.name,
        "version": framework.meta.version,
        "text_origin": framework.meta.text_origin.value,
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "text": item.text,
        "parent": item.parent,
        "assessed_kind": framework.is_assessed_kind(item.kind),
        "examples": [e.model_dump() for e in item.examples],
        "properties": dict(item.properties),
        "related": {k: list(v) for k, v in item.related.items()},
        "controls": [
            {
                **link.model_dump(mode="json"),
                "title": controls[link.control_id].title,
                "severity": controls[link.control_id].severity.value,
            }
            for link in item_links(library, framework.id, item.id)
        ],
        "crosswalks_to": [
            {"framework": fid, "item": c.item, "relationship": c.relationship.value}
            for fid, c in library.crosswalks_to(framework.id, item.id)
        ],
    }


def _resolution_view(resolution: Resolution) -> dict[str, Any]:
    return {
        **resolution.model_dump(mode="json"),
        "message": describe(resolution),
    }


def show_view(library: Library, raw: str, framework_id: str | None = None) -> dict[str, Any]:
    """A control with its references, or the framework items an id (legacy or not) resolves to."""
    if framework_id is not None:
        _framework(library, framework_id)
    control = None if framework_id else _find_control(library, raw)
    resolutions = library.resolve(raw, framework_id)
    if control is None and not resolutions:
        raise UsageError(f"'{raw}' is neither a control id nor an id of any framework")
    items = []
    if control is None:
        for resolution in resolutions:
            framework = library.frameworks[resolution.framework]
            items += [_item_detail(library, framework, framework.items[cid]) for cid in resolution.canonical_ids]
    return {
        "format_version": FORMAT_VERSION,
        "query": raw,
        "control": _control_detail(library, control) if control else None,
        "resolutions": [_resolution_view(r) for r in resolutions],
        "items": items,
    }


def _find_control(library: Library, raw: str) -> Control | None:
    wanted = raw.strip().upper()
    return next((c for c in library.controls.values() if c.id == wanted), None)


# ---------------------------------------------------------------------------------------------
# coverage and lint


def _coverage_entry(cov: FrameworkCoverage) -> dict[str, Any]:
    return {
        "framework": cov.framework,
        "name": cov.name,
        "version": cov.version,
        "assessed_kinds": list(cov.assessed_kinds),
        "total": cov.total,
        "addressed": cov.addressed,
        "addressed_directly": cov.addressed_directly,
        "not_assessed": cov.total - cov.addressed,
        "addressed_pct": cov.addressed_pct,
        "items": [
            {
                "id": item.id,
                "kind": item.kind,
                "label": item.label,
                "addressed": item.addressed,
                "controls": [link.model_dump(mode="json", exclude={"rationale"}) for link in item.links],
            }
            for item in cov.items
        ],
    }


def coverage_view(library: Library, framework_id: str | None = None) -> dict[str, Any]:
    """Per framework: items some control addresses, and items not assessed by this tool."""
    ids = [_framework(library, framework_id).id] if framework_id else None
    return {
        "format_version": FORMAT_VERSION,
        "frameworks": [_coverage_entry(c) for c in coverage(library, ids)],
    }


def lint_view(issues: Sequence[Issue], library: Library) -> dict[str, Any]:
    """The lint result: counts and every issue with its file and entry path."""
    return {
        "format_version": FORMAT_VERSION,
        "errors": sum(1 for i in issues if i.severity is IssueSeverity.ERROR),
        "warnings": sum(1 for i in issues if i.severity is IssueSeverity.WARNING),
        "frameworks": len(library.frameworks),
        "controls": len(library.controls),
        "packs": [p.name for p in library.packs],
        "issues": [i.model_dump(mode="json", exclude_none=True) for i in issues],
    }
