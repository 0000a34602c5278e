"""The rules of `mappings lint`: each returns issues naming the file and the entry, never a boolean.

Ids current and canonical (legacy ones told their successor), one registered check per control,
a rationale on every reference. Codes are documented in docs/mappings.md.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from reporter.catalog.library import Framework, Library
from reporter.catalog.resolver import describe
from reporter.catalog.tree import Located, ParsedFramework, Tree, make_issue
from reporter.models.catalog import Control, Crosswalk, FrameworkItem, LegacyEntry, Reference
from reporter.models.issues import Issue, IssueSeverity
from reporter.models.kinds import kind_names

# A rationale quotes or paraphrases the item and says what the control's evidence shows of it: that
# takes a sentence. Fewer words ("Relevant.", "x") is a placeholder, not a rationale.
MIN_RATIONALE_WORDS = 8

# Evidence a control may need besides record kinds: the bundle manifest and the policy file.
PSEUDO_EVIDENCE = frozenset({"manifest", "policy"})

# Metric ids defined in reference/metrics.md §3 (visibility, timeliness, outcome, exceptions,
# risk-weighted, identities, governance).
KNOWN_METRICS = frozenset(
    [f"V{i}" for i in range(1, 9)]
    + [f"T{i}" for i in range(1, 9)]
    + [f"E{i}" for i in range(1, 13)]
    + [f"X{i}" for i in range(1, 7)]
    + [f"R{i}" for i in range(1, 4)]
    + [f"N{i}" for i in range(1, 11)]
    + [f"G{i}" for i in range(1, 5)]
)


def lint(trees: Sequence[Tree], library: Library, known_checks: frozenset[str] | None) -> list[Issue]:
    """Every rule over the merged library; the check-registry rules only with `known_checks`."""
    issues: list[Issue] = []
    for tree in trees:
        for parsed in tree.frameworks:
            issues += _framework_rules(parsed, library)
        for located in tree.controls:
            issues += _control_rules(located, tree, library)
        for override in tree.overrides:
            name = f"override of control {override.value.control}"
            prefix = f"{override.field}.add_references"
            issues += _reference_rules(override.value.add_references, library, override.file, prefix, name)
    issues += _no_reference_warnings(trees, library)
    if known_checks is not None:
        issues += check_rules(trees, library, known_checks)
    return issues


# ---------------------------------------------------------------------------------------------
# References


def _unknown_id_message(framework: Framework, raw: str) -> str:
    close = difflib.get_close_matches(raw, list(framework.items), n=3, cutoff=0.75)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown id '{raw}' in {framework.id} {framework.meta.version}{hint}"


def reference_problem(library: Library, framework_id: str, raw: str) -> tuple[str, str] | None:
    """(code, message) when `raw` is not a current, canonical, assessable id of the framework."""
    framework = library.frameworks.get(framework_id)
    if framework is None:
        known = ", ".join(library.frameworks) or "none"
        return "mappings.unknown-framework", f"unknown framework '{framework_id}' (known: {known})"
    resolution = library.resolver.resolve_one(raw, framework_id)
    if resolution is None:
        return "mappings.unknown-id", _unknown_id_message(framework, raw)
    if resolution.how == "legacy":
        fix = " or ".join(resolution.canonical_ids) or "a current id"
        return "mappings.legacy-id", (
            f"{describe(resolution)} in {framework.meta.name}; cite {fix} instead "
            f"(set legacy_id: {resolution.legacy_id} to keep showing the old id in reports)"
        )
    if resolution.how == "spelling":
        return (
            "mappings.noncanonical-id",
            f"{describe(resolution)}; write {resolution.canonical_ids[0]}",
        )
    item = framework.items[raw]
    if not framework.is_assessed_kind(item.kind):
        kinds = ", ".join(framework.meta.assessed_kinds)
        return (
            "mappings.not-assessable",
            f"{raw} is a {item.kind}; map to a {kinds} (coverage and status count those)",
        )
    return None


def _rationale_problem(rationale: str) -> tuple[str, str] | None:
    """(code, message) when a rationale is missing or too short to ground the mapping."""
    words = rationale.split()
    if not words:
        return "mappings.missing-rationale", "no rationale (one line grounded in the item's official text)"
    if len(words) < MIN_RATIONALE_WORDS:
        shown = " ".join(words)
        return "mappings.short-rationale", (
            f"rationale '{shown[:60]}' has {len(words)} word(s): write one line grounded in the item's official "
            f"text that says what the control's evidence shows of it (at least {MIN_RATIONALE_WORDS} words)"
        )
    return None


def _legacy_id_problem(library: Library, reference: Reference) -> str | None:
    if reference.legacy_id is None:
        return None
    resolution = library.resolver.resolve_one(reference.legacy_id, reference.framework)
    if resolution is None or resolution.how == "exact" or reference.id not in resolution.canonical_ids:
        written = reference.legacy_id
        return f"legacy_id '{written}' is not a withdrawn or other spelling of {reference.id}"
    return None


def _reference_rules(
    references: Iterable[Reference], library: Library, file: str, prefix: str, owner: str
) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[tuple[str, str]] = set()
    for index, reference in enumerate(references):
        field = f"{prefix}[{index}]"
        name = f"{owner}, reference {reference.framework} {reference.id}"
        problem = reference_problem(library, reference.framework, reference.id)
        if problem:
            issues.append(make_issue(problem[0], f"{name}: {problem[1]}", file, f"{field}.id"))
        if (rationale_problem := _rationale_problem(reference.rationale)) is not None:
            issues.append(
                make_issue(rationale_problem[0], f"{name}: {rationale_problem[1]}", file, f"{field}.rationale")
            )
        if reference.key in seen:
            issues.append(make_issue("mappings.duplicate-reference", f"{name}: referenced twice", file, field))
        seen.add(reference.key)
        if (legacy_problem := _legacy_id_problem(library, reference)) is not None:
            issues.append(make_issue("mappings.legacy-id", f"{name}: {legacy_problem}", file, f"{field}.legacy_id"))
    return issues


# ---------------------------------------------------------------------------------------------
# Controls


def _control_rules(located: Located[Control], tree: Tree, library: Library) -> list[Issue]:
    control, file, field = located.value, located.file, located.field
    issues = _reference_rules(control.references, library, file, f"{field}.references", f"control {control.id}")
    known_kinds = set(kind_names()) | PSEUDO_EVIDENCE
    for index, kind in enumerate(control.evidence):
        if kind not in known_kinds:
            issues.append(
                make_issue(
                    "mappings.unknown-evidence",
                    f"control {control.id}: unknown evidence kind '{kind}' (known: {', '.join(sorted(known_kinds))})",
                    file,
                    f"{field}.evidence[{index}]",
                )
            )
    for index, metric in enumerate(control.metrics):
        if metric not in KNOWN_METRICS:
            issues.append(
                make_issue(
                    "mappings.unknown-metric",
                    f"control {control.id}: unknown metric '{metric}'",
                    file,
                    f"{field}.metrics[{index}]",
                )
            )
    family = next((f.value for f in tree.families if f.file == file), None)
    if family is not None and control.family != family.id:
        issues.append(
            make_issue(
                "mappings.family",
                f"control {control.id} is in the file of family {family.id}",
                file,
                f"{field}.id",
            )
        )
    return issues


def _no_reference_warnings(trees: Sequence[Tree], library: Library) -> list[Issue]:
    issues = []
    for tree in trees:
        for located in tree.controls:
            merged = library.controls.get(located.value.id)
            if merged is not None and not merged.references:
                issues.append(
                    make_issue(
                        "mappings.no-references",
                        f"control {merged.id} maps to no framework item",
                        located.file,
                        located.field,
                        severity=IssueSeverity.WARNING,
                    )
                )
    return issues


def check_rules(trees: Sequence[Tree], library: Library, known_checks: frozenset[str]) -> list[Issue]:
    """Unknown checks, checks serving two controls, and registered checks no control uses."""
    issues: list[Issue] = []
    users: dict[str, str] = {}
    for tree in trees:
        for located in tree.controls:
            control = located.value
            where = (located.file, f"{located.field}.check")
            if control.check not in known_checks:
                issues.append(
                    make_issue(
                        "mappings.unknown-check",
                        f"control {control.id}: check '{control.check}' does not exist "
                        "(not registered in reporter.checks)",
                        *where,
                    )
                )
            if control.check in users and users[control.check] != control.id:
                issues.append(
                    make_issue(
                        "mappings.check-reused",
                        f"control {control.id}: check '{control.check}' already evaluates "
                        f"control {users[control.check]} (one check per control)",
                        *where,
                    )
                )
            users.setdefault(control.check, control.id)
    for check in sorted(known_checks - set(users)):
        issues.append(
            make_issue(
                "mappings.unused-check",
                f"check '{check}' is registered but no control uses it",
                None,
                f"check {check}",
            )
        )
    return issues


# ---------------------------------------------------------------------------------------------
# Frameworks


def _framework_rules(parsed: ParsedFramework, library: Library) -> list[Issue]:
    framework = library.frameworks.get(parsed.meta.id)
    if framework is None or framework.file != parsed.file:
        return []  # a duplicate framework, already reported by the merge
    issues: list[Issue] = []
    kinds = {item.kind for item in framework.items.values()}
    for index, kind in enumerate(framework.meta.assessed_kinds):
        if kind not in kinds:
            issues.append(
                make_issue(
                    "mappings.framework",
                    f"framework {framework.id}: assessed kind '{kind}' has no items",
                    parsed.file,
                    f"framework.assessed_kinds[{index}]",
                )
            )
    for located in parsed.items:
        issues += _item_rules(located, framework)
    for legacy in parsed.legacy:
        issues += _legacy_rules(legacy, framework)
    for key, ids in sorted(library.resolver.ambiguous_keys(framework.id).items()):
        alike = ", ".join(sorted(ids))
        message = f"framework {framework.id}: ids {alike} are spelt alike (key {key}); rename one"
        issues.append(make_issue("mappings.framework", message, parsed.file, "items"))
    for crosswalk in parsed.crosswalks:
        issues += _crosswalk_rules(crosswalk, framework, library)
    return issues


def _legacy_rules(located: Located[LegacyEntry], framework: Framework) -> list[Issue]:
    entry, issues = located.value, []
    if entry.id in framework.items:
        message = f"legacy id {entry.id} is also a current item"
        issues.append(make_issue("mappings.framework", message, located.file, f"{located.field}.id"))
    for index, successor in enumerate(entry.successors):
        if successor not in framework.items:
            message = f"legacy id {entry.id}: successor {successor} is not an item"
            field = f"{located.field}.successors[{index}]"
            issues.append(make_issue("mappings.framework", message, located.file, field))
    return issues


def _item_rules(located: Located[FrameworkItem], framework: Framework) -> list[Issue]:
    item = located.value
    issues: list[Issue] = []
    if item.parent is not None and item.parent not in framework.items:
        issues.append(
            make_issue(
                "mappings.framework",
                f"item {item.id}: parent {item.parent} is not an item",
                located.file,
                f"{located.field}.parent",
            )
        )
    for relation, ids in item.related.items():
        for index, other in enumerate(ids):
            if other not in framework.items:
                issues.append(
                    make_issue(
                        "mappings.framework",
                        f"item {item.id}: related {relation} {other} is not an item",
                        located.file,
                        f"{located.field}.related.{relation}[{index}]",
                    )
                )
    return issues


def _crosswalk_rules(located: Located[Crosswalk], framework: Framework, library: Library) -> list[Issue]:
    crosswalk, file, field = located.value, located.file, located.field
    name = f"crosswalk {framework.id} {crosswalk.item} -> {crosswalk.framework} {crosswalk.target}"
    issues: list[Issue] = []
    if crosswalk.item not in framework.items:
        issues.append(
            make_issue(
                "mappings.unknown-id",
                f"{name}: {crosswalk.item} is not an item of {framework.id}",
                file,
                f"{field}.item",
            )
        )
    if crosswalk.framework == framework.id:
        issues.append(
            make_issue(
                "mappings.crosswalk",
                f"{name}: a crosswalk links two different frameworks",
                file,
                f"{field}.framework",
            )
        )
    elif (problem := reference_problem(library, crosswalk.framework, crosswalk.target)) is not None:
        issues.append(make_issue(problem[0], f"{name}: {problem[1]}", file, f"{field}.target"))
    if (rationale_problem := _rationale_problem(crosswalk.rationale)) is not None:
        issues.append(make_issue(rationale_problem[0], f"{name}: {rationale_problem[1]}", file, f"{field}.rationale"))
    return issues
