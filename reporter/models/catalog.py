"""Typed models of the control library: framework catalogs, controls, packs, and framework status.

The YAML files under `mappings/` (and organisation packs) validate against these; docs/mappings.md
documents every key. Status models carry what `reporter.catalog.status` derives for reports.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reporter.models.common import StrictModel
from reporter.models.status import Status

# Framework ids are slugs (nist-csf-2.0); item ids keep the framework's own spelling (ID.RA-01,
# NHI3:2025, GOVERN 1.6, AML.T0053.000, A.8.8), so they allow spaces and a few punctuation marks.
FRAMEWORK_ID_PATTERN = r"^[a-z0-9][a-z0-9.-]{0,63}$"
ITEM_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._:/()-]{0,63}$"
CONTROL_ID_PATTERN = r"^[A-Z][A-Z0-9]{1,15}-[0-9]{2,4}$"
CHECK_ID_PATTERN = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"
METRIC_ID_PATTERN = r"^[A-Z][0-9]{1,2}$"

FrameworkId = Annotated[str, Field(pattern=FRAMEWORK_ID_PATTERN)]
ItemId = Annotated[str, Field(pattern=ITEM_ID_PATTERN)]
ControlId = Annotated[str, Field(pattern=CONTROL_ID_PATTERN)]
NonEmpty = Annotated[str, Field(min_length=1)]


class Relationship(StrEnum):
    """How a control relates to a framework item, read as "the control is <relationship> the item".

    The set theory follows NIST's OLIR relationship types: `subset` means everything the control
    checks is part of what the item asks; `supports` means the control's result is evidence for the
    item without assessing it (a framework status derived through it is *inferred*, not direct).
    """

    EQUAL = "equal"
    SUBSET = "subset"
    SUPERSET = "superset"
    INTERSECTS = "intersects"
    SUPPORTS = "supports"

    @property
    def direct(self) -> bool:
        """True when a control's status speaks for the item directly."""
        return self is not Relationship.SUPPORTS


class Condition(StrEnum):
    """A fact about the assessed bundle that a reference can be scoped to (`applies_when`).

    A reference with a condition speaks for its item only in bundles where the condition holds;
    elsewhere the item is not assessed through it (docs/mappings.md, "Scoped references")."""

    AGENTS_PRESENT = "agents_present"  # the bundle holds at least one AI agent record

    @property
    def description(self) -> str:
        """The condition in words, for reports and `mappings show`."""
        return {Condition.AGENTS_PRESENT: "the bundle holds AI agent records"}[self]


class ControlSeverity(StrEnum):
    """How bad a failure of the control is; drives ordering and `--fail-on`."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class TextOrigin(StrEnum):
    """Whether item texts are the framework's official words or a pack author's own wording."""

    VERBATIM = "verbatim"
    PARAPHRASE = "paraphrase"


class Source(StrictModel):
    """Where a catalog came from: enough to fetch the same bytes again."""

    repository: str | None = None
    commit: str | None = None
    path: str = Field(min_length=1, description="Path in the repository or in the source folder.")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    role: str | None = Field(default=None, description="e.g. 'build input', 'upstream original', 'cross-check'.")
    note: str | None = None


class FrameworkMeta(StrictModel):
    """The header of a framework file."""

    id: FrameworkId
    name: NonEmpty
    version: NonEmpty
    publication: str | None = None
    url: str | None = None
    license: NonEmpty
    attribution: str | None = None
    text_origin: TextOrigin = TextOrigin.VERBATIM
    assessed_kinds: tuple[NonEmpty, ...] = Field(
        default=(),
        description="Item kinds that coverage counts (e.g. subcategory). Empty: every kind.",
    )
    sources: tuple[Source, ...] = ()
    generated_by: str | None = None


class Example(StrictModel):
    """An official implementation example (CSF 2.0)."""

    id: NonEmpty
    text: NonEmpty


class FrameworkItem(StrictModel):
    """One identifiable element of a framework: function, category, subcategory, risk, technique."""

    id: ItemId
    kind: NonEmpty = "item"
    parent: str | None = None
    title: str | None = None
    text: str | None = Field(default=None, description="Official statement or description.")
    aliases: tuple[NonEmpty, ...] = Field(
        default=(), description="Other spellings that resolve to this item (e.g. NHI3)."
    )
    examples: tuple[Example, ...] = ()
    properties: dict[str, str] = Field(default_factory=dict)
    related: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_words(self) -> FrameworkItem:
        if not (self.title or self.text):
            raise ValueError("an item needs a title or a text")
        return self

    @property
    def label(self) -> str:
        """A one-line name for listings: the title, else the statement."""
        return self.title or (self.text or "").strip().splitlines()[0]


class LegacyEntry(StrictModel):
    """A withdrawn or renamed identifier and where its content went."""

    id: ItemId
    kind: NonEmpty
    text: str | None = Field(default=None, description="The withdrawn element's own wording.")
    relation: Literal["incorporated_into", "moved_to", "withdrawn", "renamed"]
    successors: tuple[ItemId, ...] = ()
    source: str | None = None


class Crosswalk(StrictModel):
    """An item of this framework whose status is inferred from an item of another framework."""

    item: ItemId
    framework: FrameworkId
    target: ItemId
    relationship: Relationship
    rationale: str = ""


class FrameworkFile(StrictModel):
    """A whole framework file (`mappings/frameworks/*.yaml`, or a pack's `frameworks/*.yaml`)."""

    format_version: Literal[1]
    framework: FrameworkMeta
    items: tuple[FrameworkItem, ...]
    legacy: tuple[LegacyEntry, ...] = ()
    crosswalks: tuple[Crosswalk, ...] = ()


class Reference(StrictModel):
    """A control's mapping to one framework item."""

    framework: FrameworkId
    id: NonEmpty
    relationship: Relationship
    rationale: str = Field(default="", description="One line grounded in the item's official text (lint: required).")
    legacy_id: str | None = Field(
        default=None,
        description="The withdrawn or non-canonical id an organisation uses for this item; "
        "reports show it next to the canonical id.",
    )
    applies_when: Condition | None = Field(
        default=None,
        description="Scope: the reference counts only in bundles where this condition holds "
        "(e.g. agents_present for ATLAS techniques against AI systems).",
    )

    @property
    def key(self) -> tuple[str, str]:
        """(framework, item id)."""
        return (self.framework, self.id)


class ReferenceKey(StrictModel):
    """Names a reference to remove in an override."""

    framework: FrameworkId
    id: NonEmpty


class Control(StrictModel):
    """One control: a permanent id, the check that evaluates it, and what it maps to."""

    id: ControlId
    title: NonEmpty
    objective: NonEmpty
    check: Annotated[str, Field(pattern=CHECK_ID_PATTERN)]
    severity: ControlSeverity
    evidence: tuple[NonEmpty, ...] = Field(min_length=1)
    metrics: tuple[Annotated[str, Field(pattern=METRIC_ID_PATTERN)], ...] = ()
    references: tuple[Reference, ...] = ()

    @property
    def family(self) -> str:
        """The family prefix of the id (INV for INV-01)."""
        return self.id.rsplit("-", 1)[0]


class ControlOverride(StrictModel):
    """A pack's change to an existing control. Unset fields keep the shipped value."""

    control: ControlId
    reason: NonEmpty
    title: str | None = None
    objective: str | None = None
    severity: ControlSeverity | None = None
    add_references: tuple[Reference, ...] = ()
    remove_references: tuple[ReferenceKey, ...] = ()


class Family(StrictModel):
    """A control family header (INV, PRI, ...)."""

    id: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,15}$")]
    title: NonEmpty
    description: str = ""


class ControlFile(StrictModel):
    """A whole controls file (`mappings/controls/*.yaml`, or a pack's `controls/*.yaml`)."""

    format_version: Literal[1]
    family: Family | None = None
    controls: tuple[Control, ...] = ()
    overrides: tuple[ControlOverride, ...] = ()


class PackManifest(StrictModel):
    """`pack.yaml` at the root of an organisation pack."""

    format_version: Literal[1]
    name: NonEmpty
    version: NonEmpty
    description: str = ""
    owner: str | None = None


# ---------------------------------------------------------------------------------------------
# Framework status: control results turned into a status per framework item.


class ItemStatusValue(StrEnum):
    """A framework item's status. `not_assessed`: no control with a result covers the item."""

    FAIL = "fail"
    PARTIAL = "partial"
    ERROR = "error"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    EXCEPTED = "excepted"
    PASS = "pass"  # noqa: S105 - a status name, not a password
    SUPPORTED = "supported"  # only 'supports' mappings, all passing: evidence for the item, not a pass
    NOT_APPLICABLE = "not_applicable"
    NOT_ASSESSED = "not_assessed"


class StatusBasis(StrictModel):
    """One control result that contributes to an item's status, and how."""

    control_id: str
    control_status: Status
    relationship: Relationship
    direct: bool = Field(description="False: inferred (a 'supports' mapping or a crosswalk).")
    via: str | None = Field(default=None, description="For crosswalks: the 'framework:item' the status comes through.")
    legacy_id: str | None = None
    applies_when: Condition | None = Field(default=None, description="The reference's scope, when it has one.")


class ItemStatus(StrictModel):
    """The status of one framework item, with every result behind it."""

    framework: str
    item_id: str
    kind: str
    status: ItemStatusValue
    direct: bool = Field(description="True when the status comes from direct mappings.")
    basis: tuple[StatusBasis, ...] = ()
    out_of_scope: tuple[StatusBasis, ...] = Field(
        default=(),
        description="References scoped to a condition this bundle does not meet: listed, never counted.",
    )

    @property
    def supports_only(self) -> bool:
        """True when only 'supports' mappings (or crosswalks) reach the item: evidence for it, no assessment."""
        return bool(self.basis) and not any(b.relationship.direct for b in self.basis)


class Coverage(StrictModel):
    """How much of a framework the numbers speak for."""

    total: int
    with_control: int = Field(description="Items that at least one control maps to.")
    assessed_with_evidence: int = Field(description="Items whose status is pass, fail, partial or excepted.")
    with_control_pct: float
    assessed_pct: float


class FrameworkResult(StrictModel):
    """A framework's item statuses, counts, score and coverage."""

    framework: str
    name: str
    version: str
    coverage: Coverage
    counts: dict[ItemStatusValue, int]
    score_pct: float | None = Field(
        description="Passing items / items assessed with evidence; None when nothing was assessed."
    )
    items: tuple[ItemStatus, ...]


class FrameworkStatus(StrictModel):
    """Every framework's result, in library order."""

    frameworks: tuple[FrameworkResult, ...]

    def get(self, framework_id: str) -> FrameworkResult:
        """One framework's result; KeyError if absent."""
        for result in self.frameworks:
            if result.framework == framework_id:
                return result
        raise KeyError(framework_id)


# ---------------------------------------------------------------------------------------------
# Mapping coverage: which framework items the library addresses at all (no results needed).


class ControlLink(StrictModel):
    """A control that addresses an item, directly, through 'supports', or through a crosswalk."""

    control_id: str
    relationship: Relationship
    rationale: str
    direct: bool
    via: str | None = Field(default=None, description="Crosswalk path 'framework:item', if any.")
    legacy_id: str | None = None
    applies_when: Condition | None = Field(default=None, description="The reference's scope, when it has one.")


class ItemCoverage(StrictModel):
    """One assessable item and the controls that address it (none: not assessed by this tool)."""

    id: str
    kind: str
    label: str
    links: tuple[ControlLink, ...] = ()

    @property
    def addressed(self) -> bool:
        """At least one control addresses the item."""
        return bool(self.links)

    @property
    def addressed_directly(self) -> bool:
        """At least one control maps to the item with a direct relationship."""
        return any(link.direct for link in self.links)


class FrameworkCoverage(StrictModel):
    """A framework's assessable items split into addressed and not assessed by this tool."""

    framework: str
    name: str
    version: str
    assessed_kinds: tuple[str, ...]
    total: int
    addressed: int
    addressed_directly: int
    items: tuple[ItemCoverage, ...]

    @property
    def addressed_pct(self) -> float:
        """Addressed items / all assessable items, as a percentage (one decimal)."""
        return percent(self.addressed, self.total)


def percent(part: int, whole: int) -> float:
    """part / whole as a percentage rounded to one decimal; 0.0 when whole is 0."""
    return round(100.0 * part / whole, 1) if whole else 0.0
