"""One section per framework: score with coverage beside it, status counts, item statuses with the
controls behind them (direct vs inferred), grouped by function and category where the framework has them."""

from __future__ import annotations

from collections import defaultdict

from reporter.catalog.library import Framework
from reporter.models.catalog import FrameworkResult, ItemStatus
from reporter.report import charts, fmt
from reporter.report.view.common import Ctx
from reporter.report.view.model import Block, Cell, Col, Figure, Figures, KeyFigure, Para, Table

Section = tuple[str, tuple[Block, ...]]
TEXT_LIMIT = 160  # item statements are long; the catalog holds the full text


def overview_figure(ctx: Ctx) -> Figure:
    """Framework coverage: assessed with evidence / mapped but not decided / not addressed, per framework."""
    rows, table_rows = [], []
    for result in ctx.assessment.frameworks.frameworks:
        cov = result.coverage
        assessed = fmt.fraction(cov.assessed_with_evidence, cov.total)
        mapped_only = fmt.fraction(cov.with_control - cov.assessed_with_evidence, cov.total)
        rows.append(
            charts.StackedRow(
                _short(result),
                (
                    charts.Segment(assessed, "blue", "assessed with evidence"),
                    charts.Segment(mapped_only, "sky", "mapped, no evidence-based status"),
                ),
                f"{fmt.percent(cov.assessed_pct)} assessed",
            )
        )
        table_rows.append(
            (
                Cell(result.name, note=f"version {result.version}"),
                Cell(fmt.count(cov.total), kind="num"),
                Cell(f"{fmt.count(cov.with_control)} ({fmt.percent(cov.with_control_pct)})", kind="num"),
                Cell(f"{fmt.count(cov.assessed_with_evidence)} ({fmt.percent(cov.assessed_pct)})", kind="num"),
                Cell(_score(result), kind="num"),
            )
        )
    desc = "; ".join(f"{r.label}: {r.display}" for r in rows)
    chart = charts.stacked_bars(
        "chart-fw-coverage",
        "Framework coverage",
        desc,
        rows,
        (
            ("blue", "assessed with evidence"),
            ("sky", "mapped to a control, no evidence-based status"),
            ("light", "not addressed"),
        ),
    )
    cols = (
        Col("Framework", 34),
        Col("Items", 10, "r"),
        Col("With a control", 18, "r"),
        Col("Assessed with evidence", 20, "r"),
        Col("Score", 18, "r"),
    )
    table = Table(
        "tbl-fw-coverage",
        "Framework coverage and score (score = passing / assessed with evidence)",
        cols,
        tuple(table_rows),
        compact=True,
    )
    return Figure(chart, "A score speaks only for the items assessed with evidence; read it with the coverage.", table)


def _short(result: FrameworkResult) -> str:
    names = {
        "owasp-nhi-top10-2025": "OWASP NHI Top 10",
        "nist-csf-2.0": "NIST CSF 2.0",
        "nist-ai-rmf-1.0": "NIST AI RMF 1.0",
        "mitre-atlas": "MITRE ATLAS",
    }
    return names.get(result.framework, result.framework)


def _score(result: FrameworkResult) -> str:
    if result.score_pct is None:
        return "n/a (nothing assessed with evidence)"
    return f"{fmt.percent(result.score_pct)} of {fmt.count(result.coverage.assessed_with_evidence)}"


def framework_order(ctx: Ctx) -> list[FrameworkResult]:
    """OWASP NHI, CSF, AI RMF, ATLAS first (the report's outline), then any pack frameworks."""
    preferred = ("owasp-nhi-top10-2025", "nist-csf-2.0", "nist-ai-rmf-1.0", "mitre-atlas")
    results = list(ctx.assessment.frameworks.frameworks)
    return sorted(results, key=lambda r: (preferred.index(r.framework) if r.framework in preferred else 9, r.framework))


def framework_section(ctx: Ctx, result: FrameworkResult) -> Section:
    """(intro, blocks) of one framework."""
    framework = ctx.library.frameworks.get(result.framework)
    cov = result.coverage
    intro = (
        f"{result.name}, version {result.version}. Score {_score(result)}; coverage: {fmt.count(cov.with_control)} of "
        f"{fmt.count(cov.total)} items have a control ({fmt.percent(cov.with_control_pct)}), "
        f"{fmt.count(cov.assessed_with_evidence)} were assessed with evidence ({fmt.percent(cov.assessed_pct)}). "
        "Items reached only through a 'supports' mapping or a crosswalk are marked inferred; a 'supports' "
        "mapping is evidence for an item without assessing it, so such an item is never 'pass' (passing "
        "supporting controls read 'supported') and never counts as assessed. References scoped to AI systems "
        "count only when the bundle holds AI agents."
    )
    blocks: list[Block] = [
        Figures(
            (
                KeyFigure("Score", _score(result), "passing / assessed with evidence"),
                KeyFigure(
                    "Assessed with evidence",
                    f"{fmt.count(cov.assessed_with_evidence)} of {fmt.count(cov.total)}",
                    fmt.percent(cov.assessed_pct),
                ),
                KeyFigure(
                    "With a control",
                    f"{fmt.count(cov.with_control)} of {fmt.count(cov.total)}",
                    fmt.percent(cov.with_control_pct),
                ),
            )
        ),
        _counts(result),
    ]
    if framework is not None and _has_hierarchy(framework, result):
        blocks.append(_groups(result, framework))
    blocks.append(_items(ctx, result, framework))
    blocks += _not_assessed(result)
    if framework is not None:
        blocks.append(
            Para(
                f"Catalog: {fmt.catalog_label(framework.meta.name, framework.meta.version)}; licence: "
                + "; ".join(p.rstrip(".") for p in (framework.meta.license, framework.meta.attribution) if p)
                + "."
            )
        )
    return intro, tuple(blocks)


def _counts(result: FrameworkResult) -> Table:
    counts = {k.value: v for k, v in result.counts.items()}
    order = [s for s in fmt.STATUS_ORDER if counts.get(s)]
    rows = tuple((Cell(kind="status", badge=fmt.badge(s)), Cell(fmt.count(counts[s]), kind="num")) for s in order)
    return Table(
        f"tbl-{result.framework}-counts",
        "Items by status",
        (Col("Status", 60), Col("Items", 40, "r")),
        rows,
        compact=True,
    )


def _basis(item: ItemStatus) -> str:
    parts = []
    for b in item.basis:
        how = "direct" if b.direct else "inferred"
        via = f" via {b.via}" if b.via else ""
        legacy = f" (as {b.legacy_id})" if b.legacy_id else ""
        parts.append(
            f"{b.control_id}{legacy}: {fmt.badge(b.control_status.value).label.lower()}, "
            f"{b.relationship.value}, {how}{via}"
        )
    for b in item.out_of_scope:
        when = b.applies_when.description if b.applies_when else "its condition holds"
        parts.append(f"{b.control_id}: not counted, applies only when {when}")
    return "; ".join(parts)


def _items(ctx: Ctx, result: FrameworkResult, framework: Framework | None) -> Table:
    """Every item with at least one control behind it (all items of a short list like the OWASP Top 10)."""
    show_all = result.coverage.total <= 20
    items = [i for i in result.items if show_all or i.basis or i.out_of_scope]
    shown = items[: ctx.rows]
    rows = []
    for item in shown:
        meta = framework.items.get(item.item_id) if framework else None
        label = meta.label if meta else ""
        text = (meta.text or "") if meta and meta.title else ""
        rows.append(
            (
                Cell(item.item_id, kind="mono", note=fmt.words(item.kind)),
                Cell(label, note=_clip(text)),
                Cell(
                    kind="status",
                    badge=fmt.badge(item.status.value),
                    note="" if not item.basis else "direct" if item.direct else "inferred",
                ),
                Cell(_basis(item) or "no control maps to this item"),
            )
        )
    cols = (
        Col("Item", 14),
        Col("Title / statement", 38),
        Col("Status", 14),
        Col("Basis (control: status, relationship)", 34),
    )
    more = (
        f"Showing {fmt.count(len(shown))} of {fmt.count(len(items))} items; results.json lists every item."
        if len(items) > len(shown)
        else ""
    )
    caption = (
        "Every item" if show_all else "Items with at least one control (the rest are listed below as not assessed)"
    )
    return Table(f"tbl-{result.framework}-items", caption, cols, tuple(rows), more=more)


def _clip(text: str, limit: int = TEXT_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _has_hierarchy(framework: Framework, result: FrameworkResult) -> bool:
    """Function › category › item frameworks (CSF, AI RMF); not technique trees like ATLAS."""
    for item in result.items[:5]:
        function, category = _ancestors(framework, item.item_id)
        kinds = (
            framework.items[function].kind if function in framework.items else "",
            framework.items[category].kind if category in framework.items else "",
        )
        if kinds == ("function", "category"):
            return True
    return False


def _ancestors(framework: Framework, item_id: str) -> tuple[str, str]:
    """(function, category) of a subcategory, by following parents."""
    item = framework.items.get(item_id)
    category = item.parent if item and item.parent else ""
    parent = framework.items.get(category)
    function = parent.parent if parent and parent.parent else ""
    return function, category


def _groups(result: FrameworkResult, framework: Framework) -> Table:
    """Per function › category: items, items with a control, and status counts."""
    groups: dict[tuple[str, str], list[ItemStatus]] = defaultdict(list)
    for item in result.items:
        groups[_ancestors(framework, item.item_id)].append(item)
    rows = []
    for (function, category), items in groups.items():
        cat = framework.items.get(category)
        fn = framework.items.get(function)
        statuses = [i.status.value for i in items]
        summary = ", ".join(
            f"{statuses.count(s)} {fmt.STATUS_ICON.get(s, '')} {fmt.STATUS_LABEL.get(s, s).lower()}"
            for s in fmt.STATUS_ORDER
            if s in statuses
        )
        rows.append(
            (
                Cell(
                    f"{function} › {category}" if function else category or "(no parent)",
                    kind="mono",
                    note=_clip(f"{fn.label + ' › ' if fn else ''}{cat.label if cat else ''}", 110),
                ),
                Cell(fmt.count(len(items)), kind="num"),
                Cell(fmt.count(sum(1 for i in items if i.basis)), kind="num"),
                Cell(summary),
            )
        )
    cols = (Col("Function › category", 40), Col("Items", 10, "r"), Col("With a control", 14, "r"), Col("Statuses", 36))
    return Table(f"tbl-{result.framework}-groups", "By function and category", cols, tuple(rows), compact=True)


def _not_assessed(result: FrameworkResult) -> list[Block]:
    if result.coverage.total <= 20:
        return []
    missing = [i.item_id for i in result.items if not i.basis and not i.out_of_scope]
    if not missing:
        return []
    by_kind: dict[str, list[str]] = defaultdict(list)
    for item in result.items:
        if not item.basis and not item.out_of_scope:
            by_kind[item.kind].append(item.item_id)
    text = "; ".join(f"{fmt.words(kind)} ({fmt.count(len(ids))}): {', '.join(ids)}" for kind, ids in by_kind.items())
    return [
        Para(
            f"Not assessed by this tool ({fmt.count(len(missing))} items, no control maps to them): {text}.",
            tone="small",
        )
    ]
