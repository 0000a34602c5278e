"""Safe YAML loading for untrusted documents: no tags beyond the safe set, bounded aliases and
nesting (billion laughs), no duplicate keys, values that cannot be built (a 5000-digit integer)
refused at their line, timestamps kept as text for the models to judge (February 30, year 0 and
+99:00 would otherwise fail inside the parser), and a map from field paths to line numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from reporter.bundle.limits import Limits
from reporter.errors import EvidenceError, Location

try:  # the C parser is much faster; both are safe loaders
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on the platform build of PyYAML
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]
MERGE_KEY = "<<"


class _Loader(_SafeLoader):
    """The safe loader, with every construction error turned into a marked YAML error."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Build one node; ValueError/OverflowError (e.g. an integer of 5000 digits) name its line."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value ({str(exc).split(';')[0][:120]})", node.start_mark
            ) from None


def _timestamp_as_text(loader: _Loader, node: yaml.Node) -> str:
    # The models parse and range-check timestamps, with the field's name in the message.
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML document and where each of its nodes starts."""

    data: Any
    lines: dict[Path_, int]

    def line_of(self, path: Path_) -> int | None:
        """The line of the deepest known node on `path` (1-based)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def _line(mark: Any) -> int | None:
    return int(mark.line) + 1 if mark is not None else None


def _check_events(text: str, file: str, limits: Limits) -> None:
    aliases = 0
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > limits.max_yaml_aliases:
                raise EvidenceError(
                    f"more than {limits.max_yaml_aliases} YAML aliases; refusing a document that "
                    "could expand exponentially (billion laughs)",
                    Location(file=file, line=_line(event.start_mark)),
                    code="file.yaml-limit",
                )
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limits.max_nesting_depth:
                raise EvidenceError(
                    f"YAML nesting deeper than {limits.max_nesting_depth} levels",
                    Location(file=file, line=_line(event.start_mark)),
                    code="file.yaml-limit",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Number of nodes the document has once aliases are expanded (memoised per shared node)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = 1  # a cycle counts once; safe_load cannot build one anyway
    size = 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            size += _expanded_size(key, memo) + _expanded_size(value, memo)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            size += _expanded_size(item, memo)
    memo[id(node)] = size
    return size


def _index_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int], seen: set[int]) -> None:
    # A shared (aliased) node is indexed once, under its first path: never re-walked.
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = (*path, str(key.value))
                lines.setdefault(child, key.start_mark.line + 1)
                _index_lines(value, child, lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, i), lines, seen)


def _check_duplicate_keys(node: yaml.Node, path: Path_, file: str, seen: set[int]) -> None:
    """A key given twice in one mapping is refused: YAML keeps the last value, silently."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else None
            child = (*path, name) if name is not None else path
            if name is not None and name != MERGE_KEY:
                if name in keys:
                    raise EvidenceError(
                        f"key '{name[:80]}' appears twice in this mapping (first on line {keys[name]}); "
                        "remove one of them",
                        Location(file=file, line=key.start_mark.line + 1, field=_field(child)),
                        code="file.duplicate-key",
                    )
                keys[name] = key.start_mark.line + 1
            _check_duplicate_keys(value, child, file, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicate_keys(item, (*path, i), file, seen)


def _field(path: Path_) -> str | None:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part[:80]}" if out else part[:80])
    return out or None


def _check_expansion(node: yaml.Node, file: str, limits: Limits) -> None:
    # A few aliases can still nest into an exponential document. Written out without aliases,
    # every node costs at least a byte, so expansion beyond the file size (plus slack) is a bomb.
    written = node.end_mark.index + 1
    size = _expanded_size(node, {})
    if size > written + 10_000:
        raise EvidenceError(
            f"YAML aliases expand the document to {size} nodes from {written} bytes; refusing "
            "a document that expands exponentially (billion laughs)",
            Location(file=file),
            code="file.yaml-limit",
        )


def load_yaml(raw: bytes, file: str, limits: Limits) -> YamlDocument:
    """Parse one YAML document from untrusted bytes; EvidenceError with a line on any problem."""
    if len(raw) > limits.max_yaml_bytes:
        raise EvidenceError(
            f"YAML file is {len(raw)} bytes; the limit is {limits.max_yaml_bytes} "
            "(use JSON Lines, CSV or Parquet for large evidence)",
            Location(file=file),
            code="file.too-large",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise EvidenceError("not valid UTF-8", Location(file=file, line=line), code="file.bad-encoding") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise EvidenceError("contains a NUL byte", Location(file=file, line=line), code="file.nul-byte")
    try:
        _check_events(text, file, limits)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_expansion(node, file, limits)
                _check_duplicate_keys(node, (), file, set())
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        where = _line(exc.problem_mark or exc.context_mark)
        problem = exc.problem or exc.context or "invalid YAML"
        raise EvidenceError(f"invalid YAML: {problem}", Location(file=file, line=where), code="file.bad-yaml") from None
    except yaml.YAMLError as exc:
        raise EvidenceError(f"invalid YAML: {exc}", Location(file=file), code="file.bad-yaml") from None
    except RecursionError:
        raise EvidenceError("YAML nesting too deep", Location(file=file), code="file.yaml-limit") from None
    lines: dict[Path_, int] = {}
    if node is not None:
        _index_lines(node, (), lines, set())
    return YamlDocument(data=data, lines=lines)
