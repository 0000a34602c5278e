"""Fixtures of the check tests."""

from __future__ import annotations

import pytest

from reporter.catalog.library import Library
from reporter.catalog.loader import load_library


@pytest.fixture(scope="session")
def library() -> Library:
    """The shipped control library."""
    return load_library()
