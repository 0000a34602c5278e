"""The display view: every string, number and chart a report shows, precomputed and typed.

Templates only walk this structure and print it (house style rule 4); nothing here refers back to
the Assessment. A section is a list of blocks; a few block types cover every section.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from reporter.report.charts import Chart
from reporter.report.fmt import Badge


@dataclass(frozen=True, slots=True)
class Cell:
    """A table cell. kind: text | num | mono | hash | status | refs; `note` prints small under the text;
    `anchor` is the cell's fragment id (an evidence index entry, the target of its citations)."""

    text: str = ""
    kind: str = "text"
    badge: Badge | None = None
    refs: tuple[str, ...] = ()
    note: str = ""
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class Col:
    """A column: header text, width class (percent of the table) and alignment (l, r, c)."""

    label: str
    width: int
    align: str = "l"


@dataclass(frozen=True, slots=True)
class Table:
    """A data table; `more` says how many rows were left out and where to find them."""

    id: str
    caption: str
    cols: tuple[Col, ...]
    rows: tuple[tuple[Cell, ...], ...]
    more: str = ""
    empty: str = "None."
    kind: str = "table"
    compact: bool = False


@dataclass(frozen=True, slots=True)
class Para:
    """A paragraph, optionally citing evidence references."""

    text: str
    refs: tuple[str, ...] = ()
    tone: str = ""
    kind: str = "para"


@dataclass(frozen=True, slots=True)
class Notice:
    """A highlighted statement (a missing baseline, a limitation that changes how to read a number)."""

    title: str
    text: str
    tone: str = "info"
    kind: str = "notice"


@dataclass(frozen=True, slots=True)
class Heading:
    """A sub-heading inside a section (level 3), with an anchor."""

    id: str
    text: str
    kind: str = "heading"


@dataclass(frozen=True, slots=True)
class Figure:
    """An inline SVG chart, its caption, and the same numbers as a table."""

    chart: Chart
    caption: str
    table: Table | None = None
    kind: str = "figure"

    @property
    def svg(self) -> Markup:
        """The chart markup (built escaped by reporter.report.charts)."""
        return self.chart.svg


@dataclass(frozen=True, slots=True)
class KeyFigure:
    """A headline number with its label, the measure behind it and its evidence."""

    label: str
    value: str
    note: str = ""
    refs: tuple[str, ...] = ()
    tone: str = ""


@dataclass(frozen=True, slots=True)
class Figures:
    """A row of key figures."""

    items: tuple[KeyFigure, ...]
    kind: str = "figures"


@dataclass(frozen=True, slots=True)
class Compare:
    """Two columns side by side: patching activity | verified risk reduction."""

    left_title: str
    left: tuple[KeyFigure, ...]
    right_title: str
    right: tuple[KeyFigure, ...]
    kind: str = "compare"


@dataclass(frozen=True, slots=True)
class Terms:
    """A definition list."""

    items: tuple[tuple[str, str], ...]
    kind: str = "terms"


@dataclass(frozen=True, slots=True)
class Signature:
    """A sign-off line: role, name when known, blank signature and date."""

    role: str
    name: str
    statement: str


@dataclass(frozen=True, slots=True)
class Signatures:
    """The sign-off block."""

    items: tuple[Signature, ...]
    kind: str = "signatures"


Block = Table | Para | Notice | Heading | Figure | Figures | Compare | Terms | Signatures


@dataclass(frozen=True, slots=True)
class Section:
    """A numbered report section."""

    id: str
    number: int
    title: str
    intro: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Cover:
    """The cover page and control block."""

    title: str
    organisation: str
    scope: str
    period: str
    as_of: str
    report_id: str
    digest: str
    manifest_sha256: str
    generated_at: str
    classification: str
    prepared_by: str
    reviewed_by: str
    tool: str
    catalogs: tuple[str, ...]
    baseline: str
    logo_data_uri: str = ""
    has_logo: bool = False
    date_note: str = ""  # where the document date comes from (never the clock)
    seal: str = "Not sealed"  # the preparer's seal on bundle.yaml, as verified
    approved_by: str = ""  # who approves the report for management, with role title
    version: str = ""  # document version (bundle.yaml document.version)
    conclusion: str = ""  # the overall conclusion (docs/report.md, "Overall conclusion")
    findings_in_pdf: bool = True  # findings.csv is attached to the PDF (not over RenderLimits.attach_max_bytes)


@dataclass(frozen=True, slots=True)
class ReportView:
    """Everything a report template prints."""

    lang: str
    title: str
    running_head: str
    classification: str
    report_id: str
    generated_iso: str
    cover: Cover
    sections: tuple[Section, ...]
    caps: dict[str, int] = field(default_factory=dict)
    # citation label (E1...) -> fragment id of its evidence index entry; labels of files past the
    # index's row cap are absent and link to the index as a whole
    ref_anchors: dict[str, str] = field(default_factory=dict)
