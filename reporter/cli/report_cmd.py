"""`exposure-reporter report`: assess a bundle and write the report set (HTML, PDF, results.json, CSV,
OSCAL) into a directory, all files or none; with --sign, also the signed attestation over every file.
Exit 0, 1 (gaps at --fail-on, after writing), 2 usage, 3 invalid bundle, 4 output not writable, 5
renderer failure."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from reporter.attest.interface import ATTESTATION_FILE
from reporter.attest.keys import Ed25519PrivateKey, key_id, read_private_key
from reporter.attest.report_set import attest, predicate
from reporter.bundle.interface import Progress
from reporter.catalog.library import Library
from reporter.catalog.loader import load_library
from reporter.cli.assess_cmd import (
    AsOfOption,
    BaselineOption,
    FailOn,
    FailOnOption,
    FailOnRegressionOption,
    MaxGapsOption,
    comparison_line,
    exit_code,
    read_baselines,
    run,
    summary_line,
    with_comparison,
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
from reporter.cli.key_options import SealKeyOption, seal_key_ids
from reporter.cli.validate_cmd import render_text
from reporter.errors import ExitCode, RenderError
from reporter.models.results import Assessment
from reporter.output import Payload, prepare_directory, write_set
from reporter.pipeline import ExportRequest
from reporter.report.formats import DEFAULT_FORMATS, REGISTRY, ReportFormat
from reporter.report.formats.json import results_json
from reporter.report.interface import ReportInputs
from reporter.report.render import ReportRendering, begin_report, cores_elsewhere, resident_elsewhere
from reporter.report.request import ReportRequest, prepare

DEFAULT_FORMAT_TEXT = ",".join(DEFAULT_FORMATS)
# Every file a report set can hold: a new set removes those of the previous set it does not write
# (an unsigned run removes the attestation of a signed one: it would no longer match).
REPORT_FILES = frozenset(name for spec in REGISTRY.values() for name in spec.files) | {ATTESTATION_FILE}
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
        "--format",
        help="Comma-separated formats: html, pdf, json (results.json), csv (findings, ledger, exceptions), "
        "oscal (assessment-results.json), poam (plan-of-action-and-milestones.json).",
    ),
]
GeneratedAtOption = Annotated[
    str | None,
    typer.Option(
        "--generated-at",
        help="Document date printed in the report: a date or ISO timestamp with zone. Default: SOURCE_DATE_EPOCH "
        "when set, else the assessment instant (as-of), never the clock.",
        show_default=False,
    ),
]
SignOption = Annotated[
    Path | None,
    typer.Option(
        "--sign",
        help="Ed25519 private key: also write attestation.intoto.jsonl, an in-toto Statement over every file of "
        "the set in a DSSE envelope (an encrypted key reads EXPOSURE_REPORTER_KEY_PASSWORD).",
        dir_okay=False,
        show_default=False,
    ),
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
    fail_on_regression: FailOnRegressionOption = False,
    max_gaps: MaxGapsOption = 1000,
    db: DbOption = None,
    mappings: MappingsOption = None,
    max_file_mib: MaxFileOption = DEFAULT_MAX_FILE_MIB,
    max_line_mib: MaxLineOption = DEFAULT_MAX_LINE_MIB,
    memory_limit: MemoryOption = None,
    generated_at: GeneratedAtOption = None,
    sign: SignOption = None,
    seal_key: SealKeyOption = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress bar; print the summary line only (errors still go to standard error)."
        ),
    ] = False,
) -> None:
    """Assess a bundle and write the auditor report. The same bundle and options give the same bytes:
    the document date is the assessment instant unless --generated-at or SOURCE_DATE_EPOCH sets it;
    with --sign, the signing time is recorded in the signed attestation only."""
    with guarded():
        # the bar is gone before anything is written to standard output (the same terminal)
        with progress_bar(not quiet) as progress:
            request = _request(formats, logo, title, classification, generated_at, seal_key)
            baselines = read_baselines(baseline, fail_on_regression)
            signer = read_private_key(sign, os.environ, "--sign") if sign else None
            refuse_outputs_in_bundle(bundle, output_dir=output_dir, db=db)
            prepare_directory(output_dir)  # fail early (exit 4) when the directory cannot be written
            library = load_library([mappings] if mappings else [])
            options = load_options(db, max_file_mib, max_line_mib, memory_limit, progress)
            options = replace(options, seal_keys=request.options.seal_keys)
            # the CSV exports are spooled to files of their own temporary directory, so that millions of
            # gaps never sit in memory; it is removed on every exit path, after the report set that copies
            # them is written; the explorer's data only for HTML
            with tempfile.TemporaryDirectory(prefix="exports-", ignore_cleanup_errors=True) as spool:
                early = _EarlyStart(request, baselines, library, progress)
                wanted = ExportRequest(
                    spool=Path(spool),
                    explorer=ReportFormat.HTML in request.formats,
                    findings_ready=early.begin,
                    findings_needed_up_to=early.findings_needed_up_to(),
                    room=early.room(),
                    room_back=early.done_elsewhere,
                    cores=early.cores(),
                )
                try:
                    result = run(bundle, library, options, as_of, max_gaps, exports=wanted)
                    if result.assessment is None:
                        err(render_text(result.validation, quiet=True).rstrip())
                        raise typer.Exit(int(ExitCode.INVALID))
                    rendering, inputs = early.started()
                    files = rendering.finish(result.exports)
                finally:
                    early.stop()
                assessment = inputs.assessment
                if signer is not None:
                    files[ATTESTATION_FILE] = attestation(files, inputs, max_gaps, signer)
                if progress:
                    progress("writing the report files", len(files), len(files))
                written = write_set(output_dir, files, owned=REPORT_FILES)
        echo(summary_line(assessment))
        if assessment.comparison is not None and not quiet:
            echo(comparison_line(assessment))
        if not quiet:
            echo(f"wrote {', '.join(p.name for p in written)} to {output_dir}")
        if signer is not None and not quiet:
            echo(
                f"signed with key {key_id(signer.public_key())}: verify with "
                f"`exposure-reporter verify {output_dir} --key PUBLIC_KEY --bundle {bundle}`"
            )
    code = exit_code(assessment, fail_on, fail_on_regression)
    if code:
        raise typer.Exit(code)


class _EarlyStart:
    """Begins the report as soon as findings.csv is exported (ExportRequest.findings_ready): the PDF,
    which needs nothing else, renders while the pipeline writes the other exports (D89)."""

    def __init__(
        self, request: ReportRequest, baselines: list[Assessment], library: Library, progress: Progress | None
    ) -> None:
        self._request, self._baselines, self._library, self._progress = request, baselines, library, progress
        self._begun: tuple[ReportRendering, ReportInputs] | None = None

    def findings_needed_up_to(self) -> int | None:
        """The size up to which the PDF needs findings.csv's bytes (it attaches it up to its cap): over
        it, the report can begin before findings.csv is written (D110). None without a PDF, which is
        the only format that renders beside the exports."""
        return self._request.limits.attach_max_bytes if ReportFormat.PDF in self._request.formats else None

    def room(self) -> int:
        """The memory (bytes) the report's renderer needs beside the store once begun (D97): the store
        makes room for it as the exports begin, before `begin` builds the view (D111)."""
        return resident_elsewhere(self._request.formats, self._request.limits)

    def cores(self) -> int:
        """The cores the report's renderer keeps busy beside the store once begun: the store's DuckDB
        gives up as many threads while it runs (D118)."""
        return cores_elsewhere(self._request.formats)

    def begin(self, assessment: Assessment, exports: Mapping[str, Payload], findings_size: int) -> None:
        """Start the report. `findings_size`: findings.csv's size, or a lower bound of it when it is not
        among `exports` yet."""
        compared = with_comparison(assessment, self._baselines)
        # the view reads assessment.comparison; findings.csv's own size wins once it is among the exports
        inputs = self._request.inputs(compared, exports, self._library, findings_min_bytes=findings_size)
        rendering = begin_report(inputs, self._request.formats, self._progress)
        self._begun = rendering, inputs

    def done_elsewhere(self) -> bool:
        """Whether the report has begun and its renderer process has exited (D114)."""
        return self._begun is not None and self._begun[0].done_elsewhere()

    def started(self) -> tuple[ReportRendering, ReportInputs]:
        if self._begun is None:
            raise RenderError("the assessment produced no findings.csv export to begin the report with")
        return self._begun

    def stop(self) -> None:
        if self._begun is not None:
            self._begun[0].stop()


def attestation(files: dict[str, Payload], inputs: ReportInputs, max_gaps: int, key: Ed25519PrivateKey) -> bytes:
    """The signed attestation over the files; the wall-clock time appears here and nowhere else."""
    statement = predicate(
        inputs.assessment,
        inputs.library,
        max_gaps=max_gaps,
        results_sha256=hashlib.sha256(results_json(inputs.assessment)).hexdigest(),
        document_date=inputs.generated_at,
        signed_at=datetime.now(UTC).replace(microsecond=0),
    )
    return attest(files, statement, key)


def _request(
    formats: str,
    logo: Path | None,
    title: str | None,
    classification: str | None,
    generated_at: str | None,
    seal_keys: list[Path] | None,
) -> ReportRequest:
    return prepare(
        formats,
        logo=logo,
        title=title,
        classification=classification,
        environ=os.environ,
        generated_at=generated_at,
        seal_keys=seal_key_ids(seal_keys),
    )
