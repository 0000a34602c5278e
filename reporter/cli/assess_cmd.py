"""`exposure-reporter assess`: evaluate every control and metric; exit 1 when gaps reach --fail-on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reporter.assess.engine import AssessOptions
from reporter.catalog.library import Library
from reporter.catalog.loader import load_library
from reporter.cli.bundle_options import (
    DEFAULT_MAX_FILE_MIB,
    DEFAULT_MAX_LINE_MIB,
    BundleArg,
    DbOption,
    MaxFileOption,
    MaxLineOption,
    MemoryOption,
    load_options,
    progress_bar,
    refuse_outputs_in_bundle,
)
from reporter.cli.common import MappingsOption, app, echo, err, guarded
from reporter.cli.key_options import SealKeyOption, seal_key_ids
from reporter.cli.validate_cmd import render_text
from reporter.errors import ExitCode, UsageError, printable
from reporter.models.plausible import implausible
from reporter.models.results import Assessment
from reporter.output import same_as_stdout, write_atomic
from reporter.pipeline import AssessRun, ExportRequest, LoadOptions, assess_bundle
from reporter.report.baseline import compare_results
from reporter.report.loaders import read_baseline


class FailOn(StrEnum):
    """Gap severities, most severe first; `none` never fails."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}

AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Assess as of this date (its end, UTC) or ISO timestamp with zone. Default: the "
        "end of the bundle's period, never the wall clock.",
        show_default=False,
    ),
]
FailOnOption = Annotated[
    FailOn, typer.Option("--fail-on", help="Exit 1 when an unexcepted gap of this severity or higher exists.")
]
BaselineOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--baseline",
        help="An earlier results.json to compare with (repeatable: several quarters give a trend; deltas are "
        "against the latest period). Adds the `comparison` section to results.json.",
        dir_okay=False,
        show_default=False,
    ),
]
FailOnRegressionOption = Annotated[
    bool,
    typer.Option(
        "--fail-on-regression",
        help="Exit 1 when, against the latest baseline, verified removal (E2) fell or a control that passed "
        "now fails, is partial, errs or lacks evidence (needs --baseline).",
    ),
]
MaxGapsOption = Annotated[
    int, typer.Option("--max-gaps", help="Gaps listed per control in results.json (counts stay exact).", min=0)
]


def parse_as_of(text: str | None) -> datetime | None:
    """A date means the end of that day (UTC); a timestamp must carry its zone. Both must be
    plausible (reporter/models/plausible.py)."""
    if text is None:
        return None
    shown = repr(printable(text[:40]))
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text) + timedelta(days=1), time.min, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise UsageError(f"--as-of {shown} is not a date (YYYY-MM-DD) or ISO timestamp") from None
    if moment.tzinfo is None:
        raise UsageError(f"--as-of {shown} has no time zone; add Z or an offset") from None
    problem = implausible(moment)
    if problem:
        raise UsageError(f"--as-of {shown}: {problem}")
    return moment.astimezone(UTC)


def failing_gaps(assessment: Assessment, fail_on: FailOn) -> int:
    """Unexcepted gaps at or above the threshold (excepted gaps never fail a build)."""
    if fail_on is FailOn.NONE:
        return 0
    floor = SEVERITY_RANK[fail_on.value]
    return sum(c.gap_total - c.gaps_excepted for c in assessment.controls if SEVERITY_RANK.get(c.severity, 0) >= floor)


def read_baselines(paths: list[Path] | None, fail_on_regression: bool) -> list[Assessment]:
    """Every --baseline, read and checked before any evidence is (a problem is a usage error)."""
    if fail_on_regression and not paths:
        raise UsageError("--fail-on-regression needs at least one --baseline to compare with")
    try:
        return [read_baseline(path) for path in paths or []]
    except RecursionError:  # json.loads follows nesting with the interpreter's own stack
        raise UsageError("--baseline: JSON nested deeper than results.json ever is") from None


def with_comparison(assessment: Assessment, baselines: list[Assessment]) -> Assessment:
    """The assessment with its `comparison` section when baselines were given."""
    if not baselines:
        return assessment
    return assessment.model_copy(update={"comparison": compare_results(assessment, baselines)})


def comparison_line(assessment: Assessment) -> str:
    """One line for people about the comparison (empty without one)."""
    c = assessment.comparison
    if c is None:
        return ""
    e2 = next(d for d in c.headline if d.id == "E2")
    return (
        f"against {len(c.baselines)} baseline(s), latest {c.against.period_start}..{c.against.period_end}: "
        f"E2 {e2.change_display}; {len(c.regressions)} regression(s)"
    )


def exit_code(assessment: Assessment, fail_on: FailOn, fail_on_regression: bool) -> int:
    """1 when gaps reach --fail-on or, with --fail-on-regression, the comparison found a regression
    (each reason on stderr); else 0."""
    code = 0
    failing = failing_gaps(assessment, fail_on)
    if failing:
        err(f"{failing:,} unexcepted gap(s) at or above '{fail_on.value}'")
        code = int(ExitCode.GAPS)
    if fail_on_regression and assessment.comparison is not None and assessment.comparison.regressions:
        for regression in assessment.comparison.regressions:
            err(f"regression: {printable(regression)}")
        code = int(ExitCode.GAPS)
    return code


def run(
    bundle: Path,
    library: Library,
    options: LoadOptions,
    as_of: str | None,
    max_gaps: int,
    *,
    exports: ExportRequest | None = None,
) -> AssessRun:
    """Validate and assess with the given library (shared by assess and report)."""
    options = replace(options, control_ids=frozenset(library.controls))
    assess_options = AssessOptions(as_of=parse_as_of(as_of), gap_cap=max_gaps, progress=options.progress)
    return assess_bundle(bundle, options, library, assess_options, exports=exports or False)


def summary_line(assessment: Assessment) -> str:
    """One line for people: activity against verified reduction, and the control outcome."""
    h, bundle = assessment.headline, assessment.bundle
    counts = ", ".join(f"{n} {s}" for s, n in assessment.status_counts.items())
    return (
        f"{printable(bundle.organisation)} {bundle.period_start}..{bundle.period_end}: "
        f"{h.deployments_attempted:,} deployments, {h.activity.display} reported successful → "
        f"{h.verified_removed.display} of targeted exposure verified removed; controls: {counts}"
    )


@app.command()
def assess(
    bundle: BundleArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write results.json here (default: stdout).", dir_okay=False)
    ] = None,
    as_of: AsOfOption = None,
    fail_on: FailOnOption = FailOn.NONE,
    baseline: BaselineOption = None,
    fail_on_regression: FailOnRegressionOption = False,
    max_gaps: MaxGapsOption = 1000,
    db: DbOption = None,
    mappings: MappingsOption = None,
    max_file_mib: MaxFileOption = DEFAULT_MAX_FILE_MIB,
    max_line_mib: MaxLineOption = DEFAULT_MAX_LINE_MIB,
    memory_limit: MemoryOption = None,
    seal_key: SealKeyOption = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No progress bar; with --output, print the summary line only (errors still go to standard error).",
        ),
    ] = False,
) -> None:
    """Assess a valid bundle against the control library. Exit 0, 1 (gaps at --fail-on, or a regression
    with --fail-on-regression), 2 usage, 3 invalid."""
    with guarded():
        # the bar is gone before anything is written to standard output (the same terminal)
        with progress_bar(output is not None and not quiet) as progress:
            baselines = read_baselines(baseline, fail_on_regression)
            trusted = seal_key_ids(seal_key)
            refuse_outputs_in_bundle(bundle, output=output, db=db)
            library = load_library([mappings] if mappings else [])
            options = replace(load_options(db, max_file_mib, max_line_mib, memory_limit, progress), seal_keys=trusted)
            result = run(bundle, library, options, as_of, max_gaps)
            if result.assessment is None:
                err(render_text(result.validation, quiet=True).rstrip())
                raise typer.Exit(int(ExitCode.INVALID))
            assessment = with_comparison(result.assessment, baselines)
        data = assessment.model_dump_json(indent=2).encode() + b"\n"
        if output is None:
            echo(data.decode(), nl=False)
        else:
            write_atomic(output, data)
            if not same_as_stdout(output):  # `-o /dev/stdout`: the results alone on standard output
                echo(summary_line(assessment))
                if assessment.comparison is not None and not quiet:
                    echo(comparison_line(assessment))
    code = exit_code(assessment, fail_on, fail_on_regression)
    if code:
        raise typer.Exit(code)
