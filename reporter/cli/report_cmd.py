"""`exposure-reporter report`: assess a bundle and write the report set (HTML, PDF, results.json, CSV)
into a directory, all files or none. Exit 0, 1 (gaps at --fail-on, after writing), 2 usage, 3 invalid
bundle, 4 output not writable, 5 renderer failure."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from reporter.catalog.loader import load_library
from reporter.cli.assess_cmd import (
    AsOfOption,
    FailOn,
    FailOnOption,
    MaxGapsOption,
    failing_gaps,
    run,
    summary_line,
)
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
from reporter.cli.validate_cmd import render_text
from reporter.errors import ExitCode, UsageError
from reporter.output import prepare_directory, write_set
from reporter.report.formats import DEFAULT_FORMATS, REGISTRY
from reporter.report.render import render_report
from reporter.report.request import ReportRequest, prepare

DEFAULT_FORMAT_TEXT = ",".join(DEFAULT_FORMATS)
# Every file a report set can hold: a new set removes those of the previous set it does not write.
REPORT_FILES = frozenset(name for spec in REGISTRY.values() for name in spec.files)
OutputDirOption = Annotated[
    Path,
    typer.Option(
        "--output-dir",
        "-o",
        help="Directory for the report files (created if missing).",
        file_okay=False,
        show_default=False,
    ),
]
FormatOption = Annotated[
    str,
    typer.Option(
        "--format", help="Comma-separated formats: html, pdf, json (results.json), csv (findings, ledger, exceptions)."
    ),
]
BaselineOption = Annotated[
    Path | None, typer.Option("--baseline", help="A previous results.json: show change against it.", dir_okay=False)
]
LogoOption = Annotated[
    Path | None,
    typer.Option("--logo", help="A PNG logo (at most 512 KB), embedded in the HTML and PDF.", dir_okay=False),
]


@app.command()
def report(
    bundle: BundleArg,
    output_dir: OutputDirOption,
    formats: FormatOption = DEFAULT_FORMAT_TEXT,
    baseline: BaselineOption = None,
    classification: Annotated[
        str | None, typer.Option("--classification", help="Classification marking (default: the bundle's).")
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Report title on the cover.")] = None,
    logo: LogoOption = None,
    as_of: AsOfOption = None,
    fail_on: FailOnOption = FailOn.NONE,
    max_gaps: MaxGapsOption = 1000,
    db: DbOption = None,
    mappings: MappingsOption = None,
    max_file_mib: MaxFileOption = DEFAULT_MAX_FILE_MIB,
    max_line_mib: MaxLineOption = DEFAULT_MAX_LINE_MIB,
    memory_limit: MemoryOption = None,
) -> None:
    """Assess a bundle and write the auditor report. The generation time printed in the report is
    SOURCE_DATE_EPOCH when set (reproducible output), else the current time."""
    with guarded(), progress_bar(True) as progress:
        request = _request(formats, baseline, logo, title, classification)
        refuse_outputs_in_bundle(bundle, output_dir=output_dir, db=db)
        prepare_directory(output_dir)  # fail early (exit 4) when the directory cannot be written
        library = load_library([mappings] if mappings else [])
        options = load_options(db, max_file_mib, max_line_mib, memory_limit, progress)
        result = run(bundle, library, options, as_of, max_gaps, exports=True)
        if result.assessment is None:
            err(render_text(result.validation, quiet=True).rstrip())
            raise typer.Exit(int(ExitCode.INVALID))
        files = render_report(request.inputs(result.assessment, result.exports, library), request.formats)
        written = write_set(output_dir, files, owned=REPORT_FILES)
        echo(summary_line(result.assessment))
        echo(f"wrote {', '.join(p.name for p in written)} to {output_dir}")
    failing = failing_gaps(result.assessment, fail_on)
    if failing:
        err(f"{failing:,} unexcepted gap(s) at or above '{fail_on.value}'")
        raise typer.Exit(int(ExitCode.GAPS))


def _request(
    formats: str, baseline: Path | None, logo: Path | None, title: str | None, classification: str | None
) -> ReportRequest:
    try:
        return prepare(
            formats, baseline=baseline, logo=logo, title=title, classification=classification, environ=os.environ
        )
    except RecursionError:  # json.loads follows nesting with the interpreter's own stack
        raise UsageError(f"--baseline {baseline}: JSON nested deeper than results.json ever is") from None
