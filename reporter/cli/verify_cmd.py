"""`exposure-reporter verify`: check a signed report set — the attestation's signature with the signer's
public key, every file's SHA-256 — and, with --bundle, re-perform the assessment and confirm results.json
byte for byte. Exit 0 verified, 6 not verified (the file and the difference are named), 2 usage, 3 the
bundle given for re-performance is invalid."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reporter import __version__
from reporter.assess.engine import AssessOptions
from reporter.attest.interface import ReportPredicate, Verification
from reporter.attest.keys import read_public_key
from reporter.attest.report_set import library_digest
from reporter.attest.verify import compare_reperformed, verify_report_set
from reporter.catalog.loader import load_library
from reporter.cli.bundle_options import (
    DEFAULT_MAX_FILE_MIB,
    DEFAULT_MAX_LINE_MIB,
    MaxFileOption,
    MaxLineOption,
    MemoryOption,
    load_options,
    progress_bar,
)
from reporter.cli.common import MappingsOption, app, echo, err, guarded
from reporter.cli.report_cmd import REPORT_FILES
from reporter.cli.validate_cmd import render_text
from reporter.errors import ExitCode, UsageError, printable
from reporter.pipeline import LoadOptions, assess_bundle
from reporter.report import fmt

RESULTS = "results.json"


class VerifyFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@app.command()
def verify(
    directory: Annotated[
        Path, typer.Argument(help="A report directory written by `report --sign`.", file_okay=False, show_default=False)
    ],
    key: Annotated[
        Path,
        typer.Option(
            "--key", help="The signer's Ed25519 public key (PEM or OpenSSH).", dir_okay=False, show_default=False
        ),
    ],
    bundle: Annotated[
        Path | None,
        typer.Option(
            "--bundle",
            help="Re-perform: assess this bundle with the attested options and confirm results.json byte for byte.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[VerifyFormat, typer.Option("--format", help="text for people, json for machines.")] = (
        VerifyFormat.TEXT
    ),
    mappings: MappingsOption = None,
    max_file_mib: MaxFileOption = DEFAULT_MAX_FILE_MIB,
    max_line_mib: MaxLineOption = DEFAULT_MAX_LINE_MIB,
    memory_limit: MemoryOption = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress bar; in text, print the problems and the verdict only, not each file."
        ),
    ] = False,
) -> None:
    """Verify a signed report set: the signature of attestation.intoto.jsonl with KEY, then every file's
    SHA-256 (a changed byte names the file); with --bundle, re-perform the assessment and confirm that
    results.json is byte-identical. Exit 0 verified, 6 not verified, 2 usage, 3 invalid bundle."""
    with guarded():
        public = read_public_key(key)
        if not directory.is_dir():
            raise UsageError(f"{directory} is not a directory")
        outcome, predicate = verify_report_set(directory, public, REPORT_FILES)
        if outcome.verified and predicate is not None and bundle is not None:
            with progress_bar(output_format is VerifyFormat.TEXT and not quiet) as progress:
                options = load_options(None, max_file_mib, max_line_mib, memory_limit, progress)
                problems = _reperform(directory, bundle, predicate, mappings, options)
            outcome = outcome.model_copy(
                update={"reperformed": not problems, "problems": problems, "verified": not problems}
            )
    _show(outcome, output_format, quiet=quiet)
    if not outcome.verified:
        raise typer.Exit(int(ExitCode.UNVERIFIED))


def _reperform(
    directory: Path, bundle: Path, predicate: ReportPredicate, mappings: Path | None, options: LoadOptions
) -> list[str]:
    """Assess the bundle again with the attested as-of and gap cap; compare with the attested results."""
    if predicate.tool.version != __version__:
        return [
            f"the report set was made by exposure-reporter {predicate.tool.version}; re-performance needs that "
            f"version (this is {__version__})"
        ]
    library = load_library([mappings] if mappings else [])
    digest = library_digest(library)
    if digest != predicate.control_library.digest:
        packs = ", ".join(predicate.control_library.packs) or "none"
        return [
            f"the control library differs from the attested one (digest {digest}, attested "
            f"{predicate.control_library.digest}): pass the --mappings the report was made with (packs: {packs})"
        ]
    assess_options = AssessOptions(as_of=predicate.assessment.as_of, gap_cap=predicate.assessment.max_gaps)
    run = assess_bundle(bundle, replace(options, control_ids=frozenset(library.controls)), library, assess_options)
    if run.assessment is None:
        err(render_text(run.validation, quiet=True).rstrip())
        raise typer.Exit(int(ExitCode.INVALID))
    written = (directory / RESULTS).read_bytes() if (directory / RESULTS).is_file() else None
    return compare_reperformed(run.assessment, predicate, written)


def _show(outcome: Verification, output_format: VerifyFormat, *, quiet: bool = False) -> None:
    if output_format is VerifyFormat.JSON:
        echo(outcome.model_dump_json(indent=2))
        return
    for check in outcome.files:
        if quiet and check.status == "ok":
            continue
        echo(f"{check.status.upper() if check.status != 'ok' else 'ok':<11} {printable(check.name)}")
    for problem in outcome.problems:
        err(f"error: {printable(problem)}")
    if not outcome.verified:
        err(f"{printable(outcome.directory)}: NOT VERIFIED with key {outcome.key_id}")
        return
    attested = sum(1 for c in outcome.files if c.status == "ok")
    when = fmt.moment(outcome.signed_at) if outcome.signed_at else "an unknown time"
    again = ""
    if outcome.reperformed:  # without a results.json in the set, the attested SHA-256 is what it matched
        held = any(c.name == RESULTS for c in outcome.files)
        again = (
            "; re-performed: results.json identical"
            if held
            else "; re-performed: the results match the SHA-256 the attestation records (the set holds no results.json)"
        )
    echo(
        f"{printable(outcome.directory)}: verified — {attested} file(s) of report {outcome.report_id}, signed with key "
        f"{outcome.key_id} at {when}{again}"
    )
