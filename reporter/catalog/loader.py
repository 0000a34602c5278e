"""Loads the control library and organisation packs: read, merge overrides, lint, cache.

`load_library()` is what the engine and reports call; `lint_library()` is `mappings lint`.
The shipped library is parsed once per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from reporter.catalog import lint
from reporter.catalog.library import AppliedOverride, Framework, Library
from reporter.catalog.tree import Located, ParsedFramework, Tree, make_issue, read_tree
from reporter.errors import Location, MappingsError
from reporter.models.catalog import Control, ControlOverride, Family, FrameworkItem, LegacyEntry
from reporter.models.issues import Issue, IssueSeverity
from reporter.resources import mappings_dir

T = TypeVar("T", FrameworkItem, LegacyEntry)


@lru_cache(maxsize=8)
def _read_cached(root: Path, pack: bool) -> Tree:
    return read_tree(root, pack=pack)


def read_trees(root: Path | None = None, packs: Sequence[Path] = ()) -> tuple[Tree, ...]:
    """The library root (default: the shipped one, cached) followed by each pack, read fresh."""
    base = (root or mappings_dir()).resolve()
    shipped = (
        _read_cached(base, False) if root is None or base == mappings_dir().resolve() else read_tree(base, pack=False)
    )
    return (shipped, *(read_tree(Path(p).resolve(), pack=True) for p in packs))


def _dedupe(entries: Sequence[Located[T]], what: str, issues: list[Issue]) -> dict[str, T]:
    """Entries by id; a repeated id is reported and the first kept."""
    by_id: dict[str, T] = {}
    for located in entries:
        entry_id = located.value.id
        if entry_id in by_id:
            message = f"{what} {entry_id} appears twice"
            issues.append(make_issue("mappings.duplicate-item", message, located.file, f"{located.field}.id"))
        else:
            by_id[entry_id] = located.value
    return by_id


def _framework(parsed: ParsedFramework, origin: str, issues: list[Issue]) -> Framework:
    return Framework(
        meta=parsed.meta,
        items=_dedupe(parsed.items, f"{parsed.meta.id} item", issues),
        legacy=_dedupe(parsed.legacy, f"{parsed.meta.id} legacy id", issues),
        crosswalks=tuple(c.value for c in parsed.crosswalks),
        file=parsed.file,
        origin=origin,
    )


def _apply_override(control: Control, located: Located[ControlOverride], issues: list[Issue]) -> Control:
    override = located.value
    keys = {r.key for r in control.references}
    for index, key in enumerate(override.remove_references):
        if (key.framework, key.id) not in keys:
            issues.append(
                make_issue(
                    "mappings.override",
                    f"override of control {control.id}: it has no reference to {key.framework} {key.id} to remove",
                    located.file,
                    f"{located.field}.remove_references[{index}]",
                )
            )
    removed = {(k.framework, k.id) for k in override.remove_references}
    kept = [r for r in control.references if r.key not in removed]
    kept_keys = {r.key for r in kept}
    for index, reference in enumerate(override.add_references):
        if reference.key in kept_keys:
            issues.append(
                make_issue(
                    "mappings.duplicate-reference",
                    f"override of control {control.id}: it already references {reference.framework} {reference.id}",
                    located.file,
                    f"{located.field}.add_references[{index}]",
                )
            )
    changes = {k: v for k in ("title", "objective", "severity") if (v := getattr(override, k)) is not None}
    changes["references"] = (*kept, *override.add_references)
    return control.model_copy(update=changes)


@dataclass
class _Merge:
    """The library being assembled from the shipped tree and the packs, in order."""

    issues: list[Issue] = field(default_factory=list)
    frameworks: dict[str, Framework] = field(default_factory=dict)
    controls: dict[str, Control] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    families: dict[str, Family] = field(default_factory=dict)
    applied: list[AppliedOverride] = field(default_factory=list)

    def add_frameworks(self, tree: Tree) -> None:
        for parsed in tree.frameworks:
            if parsed.meta.id in self.frameworks:
                message = (
                    f"framework {parsed.meta.id} is already defined in "
                    f"{self.frameworks[parsed.meta.id].file}; a pack adds frameworks under new "
                    "ids and cannot change a shipped catalog"
                )
                self.issues.append(make_issue("mappings.duplicate-framework", message, parsed.file, "framework.id"))
                continue
            self.frameworks[parsed.meta.id] = _framework(parsed, tree.origin, self.issues)

    def add_controls(self, tree: Tree) -> None:
        for family in tree.families:
            self.families.setdefault(family.value.id, family.value)
        for located in tree.controls:
            cid = located.value.id
            if cid in self.controls:
                hint = "; change a shipped control with overrides:" if tree.is_pack else ""
                message = f"control {cid} is already defined in {self.files[cid]}{hint}"
                field_path = f"{located.field}.id"
                self.issues.append(make_issue("mappings.duplicate-control", message, located.file, field_path))
                continue
            self.controls[cid], self.files[cid] = located.value, located.file
            self.origin[cid] = tree.origin

    def apply_overrides(self, tree: Tree) -> None:
        for override in tree.overrides:
            cid = override.value.control
            if cid not in self.controls:
                message = f"override of unknown control {cid}"
                field_path = f"{override.field}.control"
                self.issues.append(make_issue("mappings.override", message, override.file, field_path))
                continue
            self.controls[cid] = _apply_override(self.controls[cid], override, self.issues)
            self.origin[cid] += f", overridden by {tree.origin}"
            self.applied.append(AppliedOverride(tree.label, override.file, override.value))


def assemble(trees: Sequence[Tree]) -> tuple[Library, list[Issue]]:
    """Merge the library and packs: frameworks, then controls, then overrides, each in order."""
    merge = _Merge()
    for step in (merge.add_frameworks, merge.add_controls, merge.apply_overrides):
        for tree in trees:
            step(tree)
    library = Library(
        frameworks=merge.frameworks,
        controls=merge.controls,
        families=merge.families,
        control_files=merge.files,
        control_origin=merge.origin,
        overrides=tuple(merge.applied),
        packs=tuple(t.manifest for t in trees if t.manifest is not None),
    )
    return library, merge.issues


def check_library(
    root: Path | None = None,
    packs: Sequence[Path] = (),
    *,
    known_checks: frozenset[str] | None = None,
) -> tuple[Library, list[Issue]]:
    """Read, merge and lint. `known_checks=None` skips the check-registry rules."""
    trees = read_trees(root, packs)
    library, issues = assemble(trees)
    found = [i for t in trees for i in t.issues] + issues
    found += lint.lint(trees, library, known_checks)
    return library, found


def lint_library(
    root: Path | None = None,
    packs: Sequence[Path] = (),
    *,
    known_checks: frozenset[str] | None,
) -> list[Issue]:
    """Every problem in the library (default: shipped) plus packs; pass the registered check ids."""
    return check_library(root, packs, known_checks=known_checks)[1]


@lru_cache(maxsize=4)
def _load_cached(root: Path | None) -> Library:
    return _load(root, ())


def _load(root: Path | None, packs: Sequence[Path]) -> Library:
    library, issues = check_library(root, packs)
    errors = [i for i in issues if i.severity is IssueSeverity.ERROR]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more; run `exposure-reporter mappings lint`)" if len(errors) > 1 else ""
        raise MappingsError(first.message + more, Location(file=first.file, line=first.line, field=first.field))
    return library


def load_library(packs: Sequence[Path] = (), *, root: Path | None = None) -> Library:
    """The control library plus organisation packs; MappingsError (exit 3) if any of it is invalid.

    Check ids are not verified here (that is `mappings lint` with the registry); the shipped
    library without packs is loaded once per process.
    """
    if not packs:
        return _load_cached(root.resolve() if root else None)
    return _load(root, packs)
