"""Reads one library or organisation-pack directory into validated entries, each with its location.

Every entry is validated on its own, so one bad control yields messages naming that control
(file + entry path) and the rest of the file still loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from reporter.catalog.yamlio import load_yaml
from reporter.errors import MappingsError
from reporter.models.catalog import (
    Control,
    ControlOverride,
    Crosswalk,
    Family,
    FrameworkItem,
    FrameworkMeta,
    LegacyEntry,
    PackManifest,
)
from reporter.models.issues import Issue, IssueSeverity

T = TypeVar("T", bound=BaseModel)

PACK_MANIFEST = "pack.yaml"
_FRAMEWORK_KEYS = {"format_version", "framework", "items", "legacy", "crosswalks"}
_CONTROL_KEYS = {"format_version", "family", "controls", "overrides"}
_MANIFEST_KEYS = {"format_version", "name", "version", "description", "owner"}


def make_issue(
    code: str,
    message: str,
    file: str | None,
    field: str | None = None,
    *,
    line: int | None = None,
    severity: IssueSeverity = IssueSeverity.ERROR,
) -> Issue:
    """An error (or warning) about the library, located by file and entry path."""
    return Issue(code=code, severity=severity, message=message, file=file, field=field, line=line)


@dataclass(frozen=True)
class Located(Generic[T]):
    """A validated entry and where it was written."""

    value: T
    file: str
    field: str


@dataclass(frozen=True)
class ParsedFramework:
    """One framework file's validated parts."""

    meta: FrameworkMeta
    file: str
    items: tuple[Located[FrameworkItem], ...]
    legacy: tuple[Located[LegacyEntry], ...]
    crosswalks: tuple[Located[Crosswalk], ...]


@dataclass(frozen=True)
class Tree:
    """A library root (`mappings/`) or an organisation pack, as read."""

    root: Path
    label: str
    manifest: PackManifest | None
    frameworks: tuple[ParsedFramework, ...]
    families: tuple[Located[Family], ...]
    controls: tuple[Located[Control], ...]
    overrides: tuple[Located[ControlOverride], ...]
    issues: tuple[Issue, ...]

    @property
    def is_pack(self) -> bool:
        """True for an organisation pack."""
        return self.manifest is not None

    @property
    def origin(self) -> str:
        """'shipped' or 'pack <name>'."""
        return f"pack {self.manifest.name}" if self.manifest else "shipped"


def _field_path(prefix: str, loc: tuple[int | str, ...]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _entry_name(entry: Any, what: str) -> str:
    if isinstance(entry, dict):
        name = entry.get("id") or entry.get("control") or entry.get("item")
        if isinstance(name, str):
            return f"{what} {name}"
    return what


def validation_issues(exc: ValidationError, file: str, prefix: str, entry: Any, what: str) -> list[Issue]:
    """One issue per pydantic error, naming the entry and the field path."""
    name = _entry_name(entry, what)
    return [
        make_issue("mappings.schema", f"{name}: {err['msg']}", file, _field_path(prefix, err["loc"]))
        for err in exc.errors(include_url=False)
    ]


class _FileReader:
    """Reads one YAML file of a tree, collecting issues instead of stopping at the first."""

    def __init__(self, path: Path, display: str, issues: list[Issue]) -> None:
        self.display = display
        self.issues = issues
        self.data = self._read(path)

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            data = load_yaml(path, self.display)
        except MappingsError as error:
            line = error.location.line
            # The line is in the message too: text output prints file, field and message.
            message = f"line {line}: {error.message}" if line else error.message
            self.issues.append(make_issue("mappings.yaml", message, self.display, line=line))
            return None
        if not isinstance(data, dict):
            self.issues.append(make_issue("mappings.yaml", "the file must hold a mapping (key: value)", self.display))
            return None
        return data

    def check_keys(self, allowed: set[str]) -> bool:
        """Unknown top-level keys and a missing/wrong format_version are errors."""
        assert self.data is not None
        for key in sorted(set(self.data) - allowed, key=str):
            self.issues.append(
                make_issue(
                    "mappings.schema",
                    f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})",
                    self.display,
                    str(key),
                )
            )
        if self.data.get("format_version") != 1:
            self.issues.append(
                make_issue("mappings.schema", "format_version must be 1", self.display, "format_version")
            )
            return False
        return True

    def one(self, key: str, model: type[T], what: str) -> T | None:
        """Validate a single nested mapping (a header)."""
        assert self.data is not None
        entry = self.data.get(key)
        try:
            return model.model_validate(entry)
        except ValidationError as exc:
            self.issues.extend(validation_issues(exc, self.display, key, entry, what))
            return None

    def many(self, key: str, model: type[T], what: str) -> tuple[Located[T], ...]:
        """Validate each entry of a list on its own."""
        assert self.data is not None
        raw = self.data.get(key) or []
        if not isinstance(raw, list):
            self.issues.append(make_issue("mappings.schema", f"'{key}' must be a list", self.display, key))
            return ()
        out: list[Located[T]] = []
        for index, entry in enumerate(raw):
            path = f"{key}[{index}]"
            try:
                out.append(Located(model.model_validate(entry), self.display, path))
            except ValidationError as exc:
                self.issues.extend(validation_issues(exc, self.display, path, entry, what))
        return tuple(out)


def _yaml_files(root: Path, sub: str, label: str, issues: list[Issue]) -> list[tuple[Path, str]]:
    folder = root / sub
    if not folder.is_dir():
        return []
    files = []
    base = root.resolve()
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        display = f"{label}/{sub}/{path.name}"
        if not path.resolve().is_relative_to(base) or not path.resolve().is_file():
            issues.append(
                make_issue(
                    "mappings.path",
                    "file must be a regular file inside the directory (symlinks out of it are refused)",
                    display,
                )
            )
            continue
        files.append((path, display))
    return files


def _read_framework(path: Path, display: str, issues: list[Issue]) -> ParsedFramework | None:
    reader = _FileReader(path, display, issues)
    if reader.data is None or not reader.check_keys(_FRAMEWORK_KEYS):
        return None
    meta = reader.one("framework", FrameworkMeta, "framework")
    if meta is None:
        return None
    return ParsedFramework(
        meta=meta,
        file=display,
        items=reader.many("items", FrameworkItem, "item"),
        legacy=reader.many("legacy", LegacyEntry, "legacy id"),
        crosswalks=reader.many("crosswalks", Crosswalk, "crosswalk"),
    )


def _read_manifest(root: Path, label: str, issues: list[Issue]) -> PackManifest | None:
    path = root / PACK_MANIFEST
    display = f"{label}/{PACK_MANIFEST}"
    if not path.is_file():
        issues.append(
            make_issue(
                "mappings.pack",
                f"an organisation pack needs a {PACK_MANIFEST} (name, version)",
                display,
            )
        )
        return None
    reader = _FileReader(path, display, issues)
    if reader.data is None or not reader.check_keys(_MANIFEST_KEYS):
        return None
    try:
        return PackManifest.model_validate(reader.data)
    except ValidationError as exc:
        issues.extend(validation_issues(exc, display, "", reader.data, "pack"))
        return None


def read_tree(root: Path, *, pack: bool) -> Tree:
    """Read a library root (frameworks/, controls/) or a pack (pack.yaml plus either folder)."""
    issues: list[Issue] = []
    label = root.name or str(root)
    manifest = _read_manifest(root, label, issues) if pack else None
    if not pack:
        for sub in ("frameworks", "controls"):
            if not (root / sub).is_dir():
                issues.append(make_issue("mappings.path", f"the library has no {sub}/ folder", f"{label}/{sub}"))
    frameworks = [_read_framework(p, d, issues) for p, d in _yaml_files(root, "frameworks", label, issues)]
    families: list[Located[Family]] = []
    controls: list[Located[Control]] = []
    overrides: list[Located[ControlOverride]] = []
    for path, display in _yaml_files(root, "controls", label, issues):
        file_families, file_controls, file_overrides = _read_controls(path, display, issues)
        families += file_families
        controls += file_controls
        overrides += file_overrides
    if pack and manifest and not frameworks and not controls and not overrides:
        issues.append(
            make_issue(
                "mappings.pack",
                "the pack adds nothing: no frameworks/*.yaml or controls/*.yaml",
                f"{label}/{PACK_MANIFEST}",
                severity=IssueSeverity.WARNING,
            )
        )
    return Tree(
        root=root,
        label=label,
        manifest=manifest,
        frameworks=tuple(f for f in frameworks if f is not None),
        families=tuple(families),
        controls=tuple(controls),
        overrides=tuple(overrides),
        issues=tuple(issues),
    )


_ControlParts = tuple[tuple[Located[Family], ...], tuple[Located[Control], ...], tuple[Located[ControlOverride], ...]]


def _read_controls(path: Path, display: str, issues: list[Issue]) -> _ControlParts:
    reader = _FileReader(path, display, issues)
    if reader.data is None or not reader.check_keys(_CONTROL_KEYS):
        return (), (), ()
    families: tuple[Located[Family], ...] = ()
    if reader.data.get("family") is not None:
        family = reader.one("family", Family, "family")
        families = (Located(family, display, "family"),) if family else ()
    controls = reader.many("controls", Control, "control")
    return families, controls, reader.many("overrides", ControlOverride, "override of control")
