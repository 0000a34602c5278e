"""The command line: the only package that prints, reads the terminal or exits.

Each command lives in its own module and registers itself on `app`.
"""

from __future__ import annotations

import sys

from reporter.cli import common
from reporter.cli.common import app

# Command modules register themselves on import (order = help order).
from reporter.cli import validate_cmd  # noqa: F401  isort: skip
from reporter.cli import assess_cmd  # noqa: F401  isort: skip
from reporter.cli import report_cmd  # noqa: F401  isort: skip
from reporter.cli import schema_cmd  # noqa: F401  isort: skip
from reporter.cli import mappings_cmd  # noqa: F401  isort: skip
from reporter.cli import import_cmd  # noqa: F401  isort: skip


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except SystemExit:
        raise
    except BaseException as exc:  # last line of defence: never a traceback without --debug
        common.report_internal_error(exc)
        sys.exit(int(common.ExitCode.INTERNAL))


__all__ = ["app", "main"]
