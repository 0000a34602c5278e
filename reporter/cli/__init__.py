"""The command line: the only package that prints, reads the terminal or exits.

Each command lives in its own module and registers itself on `app`.
"""

from __future__ import annotations

import signal
import sys

from reporter.cli import common
from reporter.cli.common import app
from reporter.errors import ReporterError

# Command modules register themselves on import (order = help order).
from reporter.cli import validate_cmd  # noqa: F401  isort: skip
from reporter.cli import assess_cmd  # noqa: F401  isort: skip
from reporter.cli import report_cmd  # noqa: F401  isort: skip
from reporter.cli import verify_cmd  # noqa: F401  isort: skip
from reporter.cli import seal_cmd  # noqa: F401  isort: skip
from reporter.cli import keygen_cmd  # noqa: F401  isort: skip
from reporter.cli import schema_cmd  # noqa: F401  isort: skip
from reporter.cli import mappings_cmd  # noqa: F401  isort: skip
from reporter.cli import import_cmd  # noqa: F401  isort: skip


def main() -> None:
    """Console-script entry point: one run scope (temporary files, signals) around the command."""
    try:
        with common.run_scope():
            app()
    except common.Terminated as stop:
        common.err(f"stopped by {signal.Signals(stop.signum).name}")
        sys.exit(128 + stop.signum)
    except SystemExit:
        raise
    except BrokenPipeError:  # a reader that went away is normal in a pipeline, whatever wrote to it
        common.discard(sys.stdout)
        sys.exit(int(common.ExitCode.OK))
    except ReporterError as error:  # the run scope itself could not start (no temporary directory)
        common.err(f"error: {error}")
        sys.exit(int(error.exit_code))
    except BaseException as exc:  # last line of defence: never a traceback without --debug
        common.report_internal_error(exc)
        sys.exit(int(common.ExitCode.INTERNAL))


__all__ = ["app", "main"]
