"""`exposure-reporter mappings lint|list|show|coverage`: the control library and its packs."""

from __future__ import annotations

import json
import textwrap
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from reporter.catalog.loader import check_library, load_library
from reporter.catalog.tree import PACK_MANIFEST
from reporter.catalog.views import coverage_view, lint_view, list_view, show_view
from reporter.checks.registry import known_check_ids
from reporter.cli.common import MappingsOption, app, echo, guarded
from reporter.errors import MappingsError


class OutputFormat(StrEnum):
    """How a mappings command prints its result."""

    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="text for people, json for tools.")]
FrameworkOption = Annotated[
    str | None,
    typer.Option("--framework", help="A framework id, e.g. nist-csf-2.0 (see `mappings list`)."),
]

mappings_app = typer.Typer(
    name="mappings",
    help="Inspect and lint the control library and organisation packs (docs/mappings.md).",
    no_args_is_help=True,
)
app.add_typer(mappings_app, name="mappings")


def _packs(pack: Path | None) -> list[Path]:
    return [pack] if pack else []


def _emit(view: dict[str, Any], fmt: OutputFormat, render: Any) -> None:
    if fmt is OutputFormat.JSON:
        echo(json.dumps(view, indent=2, ensure_ascii=False))
    else:
        for line in render(view):
            echo(line)


def _clip(text: str | None, width: int = 78) -> str:
    return textwrap.shorten(" ".join((text or "").split()), width=width, placeholder=" …")


@mappings_app.command("lint")
def lint_cmd(
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="A library root (frameworks/, controls/) or a pack (has pack.yaml). Default: the shipped library.",
            exists=True,
            file_okay=False,
            resolve_path=True,
        ),
    ] = None,
    mappings: MappingsOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Check ids, successors of withdrawn ids, checks, duplicates and rationales. Errors exit 3."""
    with guarded():
        root, packs = directory, _packs(mappings)
        if directory is not None and (directory / PACK_MANIFEST).is_file():
            root, packs = None, [directory, *packs]
        library, issues = check_library(root, packs, known_checks=known_check_ids())
        view = lint_view(issues, library)
        _emit(view, fmt, _render_lint)
        if view["errors"]:
            raise MappingsError(f"the control library has {view['errors']} error(s); see above")


@mappings_app.command("list")
def list_cmd(
    framework: FrameworkOption = None,
    mappings: MappingsOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """List frameworks and controls; with --framework, that framework's items and their controls."""
    with guarded():
        view = list_view(load_library(_packs(mappings)), framework)
        _emit(view, fmt, _render_list)


@mappings_app.command("show")
def show_cmd(
    item_id: Annotated[str, typer.Argument(metavar="ID", help="A control id, or a framework id (legacy ok).")],
    framework: FrameworkOption = None,
    mappings: MappingsOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Show a control with its references, or a framework item with every control mapped to it."""
    with guarded():
        view = show_view(load_library(_packs(mappings)), item_id, framework)
        _emit(view, fmt, _render_show)


@mappings_app.command("coverage")
def coverage_cmd(
    framework: FrameworkOption = None,
    mappings: MappingsOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Per framework: items addressed by a control, and items not assessed by this tool."""
    with guarded():
        view = coverage_view(load_library(_packs(mappings)), framework)
        _emit(view, fmt, _render_coverage)


# ---------------------------------------------------------------------------------------------
# Text renderers: each turns a view into lines.


def _render_lint(view: dict[str, Any]) -> list[str]:
    lines = []
    for issue in view["issues"]:
        where = ": ".join(p for p in (issue.get("file"), issue.get("field")) if p)
        lines.append(f"{issue['severity']}: {where}: {issue['message']}")
    packs = f", packs: {', '.join(view['packs'])}" if view["packs"] else ""
    lines.append(
        f"{view['errors']} error(s), {view['warnings']} warning(s) in {view['frameworks']} "
        f"frameworks and {view['controls']} controls{packs}"
    )
    return lines


def _render_list(view: dict[str, Any]) -> list[str]:
    if "framework" in view:
        fw = view["framework"]
        lines = [f"{fw['name']} ({fw['id']} {fw['version']}): {fw['items']} items"]
        for item in view["items"]:
            controls = ", ".join(item["controls"]) or "-"
            lines.append(f"  {item['id']:<14} {item['kind']:<13} {controls:<22} {_clip(item['label'], 60)}")
        return lines
    lines = [f"Frameworks ({len(view['frameworks'])})"]
    for fw in view["frameworks"]:
        kinds = "/".join(fw["assessed_kinds"]) or "item"
        count = f"{fw['assessed_items']:>4} {kinds:<34}"
        lines.append(f"  {fw['id']:<22} {fw['version']:<7} {count} {fw['origin']}")
    lines.append(f"Controls ({len(view['controls'])})")
    for c in view["controls"]:
        lines.append(f"  {c['id']:<8} {c['severity']:<8} {c['check']:<40} {_clip(c['title'], 60)}")
    return lines


def _render_show(view: dict[str, Any]) -> list[str]:
    if view["control"]:
        lines = _render_control(view["control"])
        lines += [f"note: {r['message']} ({r['framework']})" for r in view["resolutions"]]
        return lines
    lines = []
    for r in view["resolutions"]:
        if r["how"] != "exact":
            target = ", ".join(r["canonical_ids"]) or "no current id"
            lines.append(f"resolved '{r['as_written']}' to {target} ({r['framework']}): {r['message']}")
        if r["legacy_text"]:
            lines.append(f"  withdrawn text: {r['legacy_text']}")
    for item in view["items"]:
        lines += _render_item(item)
    return lines


def _render_control(c: dict[str, Any]) -> list[str]:
    lines = [
        f"{c['id']}  {c['title']}",
        f"  objective: {c['objective']}",
        f"  check: {c['check']}   severity: {c['severity']}   origin: {c['origin']}",
        f"  evidence: {', '.join(c['evidence'])}   metrics: {', '.join(c['metrics']) or '-'}",
    ]
    lines += [f"  override by {o['pack']}: {o['reason']}" for o in c["overrides"]]
    lines.append(f"  references ({len(c['references'])}):")
    for r in c["references"]:
        legacy = f" (written {r['legacy_id']})" if r["legacy_id"] else ""
        lines.append(f"    {r['framework']} {r['id']}{legacy} [{r['relationship']}] {_clip(r['label'], 60)}")
        lines.append(f"      {r['rationale']}")
    return lines


def _render_item(item: dict[str, Any]) -> list[str]:
    title = f" {item['title']}" if item["title"] else ""
    origin = " (pack author's paraphrase)" if item["text_origin"] == "paraphrase" else ""
    lines = [f"{item['framework']} {item['version']} {item['kind']} {item['id']}{title}{origin}"]
    for paragraph in (item["text"] or "").split("\n\n"):
        lines += textwrap.wrap(paragraph, 96, initial_indent="  ", subsequent_indent="  ")
    if item["controls"]:
        lines.append(f"  controls ({len(item['controls'])}):")
    elif item["assessed_kind"]:
        lines.append("  not assessed by this tool: no control maps to it")
    for link in item["controls"]:
        how = f"{link['relationship']}, via {link['via']}" if link["via"] else link["relationship"]
        lines.append(f"    {link['control_id']:<8} [{how}] {link['title']}")
        lines.append(f"      {link['rationale']}")
    return lines


def _render_coverage(view: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for fw in view["frameworks"]:
        kinds = "/".join(fw["assessed_kinds"]) or "item"
        lines += [
            f"{fw['name']} ({fw['framework']} {fw['version']})",
            f"  addressed by at least one control: {fw['addressed']} of {fw['total']} {kinds} "
            f"items ({fw['addressed_pct']} %), directly {fw['addressed_directly']}",
        ]
        addressed = [i for i in fw["items"] if i["addressed"]]
        missing = [i for i in fw["items"] if not i["addressed"]]
        lines.append(f"  addressed ({len(addressed)}):")
        for item in addressed:
            controls = ", ".join(c["control_id"] + ("" if c["direct"] else "*") for c in item["controls"])
            lines.append(f"    {item['id']:<14} {controls}")
        lines.append(f"  not assessed by this tool ({len(missing)}):")
        lines += [f"    {i['id']:<14} {_clip(i['label'], 76)}" for i in missing]
        lines.append("")
    lines.append("* inferred: a 'supports' mapping or a crosswalk, not a direct assessment")
    return lines
