"""Locates the data shipped with the tool: the control library (`mappings/`) and `templates/`.

In a wheel they live under `reporter/_data/`; in a source checkout or editable install they are
the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def mappings_dir() -> Path:
    """The shipped control library and framework catalogs."""
    return _data_dir("mappings")


def templates_dir() -> Path:
    """The report templates and their static assets (the only files the PDF renderer may read)."""
    return _data_dir("templates")
