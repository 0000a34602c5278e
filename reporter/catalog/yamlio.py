"""Reading and writing the library's YAML: safe loading with file/line errors, stable dumps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reporter.errors import Location, MappingsError

# The C loader is the same safe subset as yaml.safe_load, about ten times faster (ATLAS is large).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_FILE_BYTES = 8 * 1024 * 1024  # packs are user input; no catalog comes near this


def load_yaml(path: Path, display: str) -> Any:
    """Parse one YAML file with the safe loader. `display` is the path shown in messages."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise MappingsError(
                f"file is {size} bytes, more than the {MAX_FILE_BYTES} allowed",
                Location(file=display),
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise MappingsError(f"not UTF-8 text ({exc.reason})", Location(file=display)) from None
    except OSError as exc:
        raise MappingsError(f"cannot read: {exc.strerror}", Location(file=display)) from None
    try:
        return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - SafeLoader / CSafeLoader only
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        message = f"invalid YAML: {exc.problem or exc}"
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            # e.g. an unterminated quote is found at the end of the file; where it opened matters.
            message += f" ({exc.context} that starts at line {exc.context_mark.line + 1})"
        raise MappingsError(message, Location(file=display, line=line)) from None
    except yaml.YAMLError as exc:
        raise MappingsError(f"invalid YAML: {exc}", Location(file=display)) from None


class _Dumper(yaml.SafeDumper):
    """Safe dumper that writes multi-line strings as literal blocks, for readable diffs."""


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data and not any(line != line.rstrip() for line in data.splitlines()):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(data: Any, header: str = "") -> str:
    """Deterministic YAML: insertion key order, literal blocks, fixed width, UTF-8 text."""
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    lines = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    return "\n".join([*lines, body]) if lines else body
