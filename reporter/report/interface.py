"""What the report stage takes in and hands out: inputs, options, limits, and the renderer type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from reporter.catalog.library import Library
from reporter.models.results import Assessment
from reporter.output import Payload, payload_size
from reporter.report.view.model import ReportView

# Row caps, the same in HTML and PDF, so rendering time does not grow with the bundle (WeasyPrint
# spends ~10-40 ms per table row). The complete data is in results.json and the CSV exports.
DETAIL_ROWS = 200  # the main lists: still-vulnerable deployments, evidence index, exceptions, framework items
SECTION_GAP_ROWS = 10  # gap lists of other controls inside the topical sections
GAPS_PER_CONTROL = 1  # gaps under each control in "Findings and remediation actions" (the rest: explorer, CSV)


class DateBasis(StrEnum):
    """Where the document date comes from. Never the clock: the same evidence and options give the
    same bytes; the wall-clock time of a run appears only in its signed attestation."""

    AS_OF = "as-of"  # the default: the assessment instant, from the evidence
    GIVEN = "--generated-at"
    EPOCH = "SOURCE_DATE_EPOCH"


@dataclass(frozen=True)
class ReportOptions:
    """Presentation options from the command line."""

    title: str | None = None
    classification: str | None = None
    logo_png: bytes | None = None  # already checked: a PNG of at most 512 KB
    seal_keys: frozenset[str] = frozenset()  # key ids given with --seal-key (the seal was checked against them)


@dataclass(frozen=True)
class RenderLimits:
    """Bounds on the PDF renderer subprocess."""

    timeout_s: float = 240.0  # CPU seconds of the renderer (RLIMIT_CPU): the guard against a runaway document
    wall_s: float = 900.0  # wall clock: generous, so that a busy machine (a shared CI runner) still finishes
    memory_mib: int = 2048  # address space (RLIMIT_AS), not resident memory; the sample peaks near 450 MiB
    # what the renderer keeps resident on the largest reports (about 620 MiB for 125 pages): the evidence
    # store lowers its memory limit by this much while the renderer runs beside it (D97)
    resident_mib: int = 768
    # findings.csv is attached to the PDF up to this size; above it (millions of gaps) the renderer would
    # hold it several times over within memory_mib, so it is only written next to the PDF, which says so
    attach_max_bytes: int = 64 * 1024 * 1024
    detail_rows: int = DETAIL_ROWS
    section_gap_rows: int = SECTION_GAP_ROWS
    gaps_per_control: int = GAPS_PER_CONTROL


@dataclass(frozen=True)
class ReportInputs:
    """One report's data: the assessment, its CSV exports, the library it was assessed with, the
    document date (the as-of instant, --generated-at or SOURCE_DATE_EPOCH, chosen by the caller; see
    DateBasis). The change against baselines is the assessment's own `comparison`."""

    assessment: Assessment
    exports: Mapping[str, Payload]  # CSVs of a report run are spooled files (reporter.pipeline.ExportRequest)
    library: Library
    generated_at: datetime
    options: ReportOptions = field(default_factory=ReportOptions)
    limits: RenderLimits = field(default_factory=RenderLimits)
    date_basis: DateBasis = DateBasis.GIVEN
    # findings.csv's size at least, when it is not among the exports yet: a report begun before it
    # was written because it is certain to be over the attachment cap (reporter.pipeline, D110)
    findings_min_bytes: int = 0


@dataclass(frozen=True)
class RenderContext:
    """What a renderer receives: the inputs and the display view built once from them."""

    inputs: ReportInputs
    view: ReportView


Renderer = Callable[[RenderContext], Mapping[str, Payload]]


@dataclass(frozen=True)
class Started:
    """A rendering under way in another process: `finish` waits for its files, `stop` ends it (and
    does nothing once it has finished), `done` says whether the process has exited (its memory is
    free again; D114)."""

    finish: Callable[[], Mapping[str, Payload]]
    stop: Callable[[], None]
    done: Callable[[], bool]


Starter = Callable[[RenderContext], Started]


def findings_attached(inputs: ReportInputs) -> bool:
    """Whether findings.csv is attached to the PDF: it is, up to `RenderLimits.attach_max_bytes`."""
    return findings_size(inputs) <= inputs.limits.attach_max_bytes


def findings_size(inputs: ReportInputs) -> int:
    """findings.csv's size in bytes, without reading a spooled file; before it is written, the lower
    bound the report was begun with (0 without either)."""
    findings = inputs.exports.get("findings.csv")
    return inputs.findings_min_bytes if findings is None else payload_size(findings)
