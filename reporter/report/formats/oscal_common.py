"""What the two OSCAL documents share (assessment results and POA&M, OSCAL 1.2.1): deterministic
UUIDs (version 5, from the evidence), text that fits OSCAL's string types, properties in the tool's
namespace, metadata with the parties the bundle names, the tool as assessment platform, the evidence
files as back-matter resources with their SHA-256, and one observation and risk per control."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pydantic_core

from reporter.models.results import Assessment, ControlResult, Gap, SourceRef
from reporter.report import fmt
from reporter.report.baseline import report_id
from reporter.report.interface import RenderContext

OSCAL_VERSION = "1.2.1"
NS = "https://exposure-reporter.dev/ns/oscal"  # namespace of this tool's props (not fetched)
UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, NS)
MANIFEST_REF = "E0"
MEDIA_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "jsonl": "application/jsonl",
    "records-jsonl": "application/jsonl",
    "yaml": "application/yaml",
    "parquet": "application/vnd.apache.parquet",
}
_NOT_TOKEN = re.compile(r"[^\w.\-]")

Json = dict[str, Any]


def document_bytes(document: Json) -> bytes:
    """The document as JSON text: two-space indent, UTF-8 unescaped, a final newline. pydantic-core's
    serializer (as results.json) gives the bytes of `json.dumps(indent=2, ensure_ascii=False)` for these
    documents (strings, integers, booleans; tested) about nine times faster: the standard library
    encodes indented JSON in pure Python, which took 4 s per document at a million findings."""
    return pydantic_core.to_json(document, indent=2) + b"\n"


def uid(*parts: str) -> str:
    """A version-5 UUID from the parts: the same evidence and subject always give the same id."""
    return str(uuid.uuid5(UUID_NAMESPACE, "\x1f".join(parts)))


def line(text: object, fallback: str = "-") -> str:
    """One line, trimmed, whitespace runs collapsed: what OSCAL's string and markup-line types accept."""
    return " ".join(str(text).split()) or fallback


def token(text: str) -> str:
    """An OSCAL token (XML NCName): letters, digits, '.', '-', '_', starting with a letter or '_'."""
    value = _NOT_TOKEN.sub("_", text.strip()) or "_"
    return value if value[0].isalpha() or value[0] == "_" else "_" + value


def timestamp(moment: datetime) -> str:
    """date-time with zone, whole seconds, UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def prop(name: str, value: object, *, ns: bool = True) -> Json:
    """A property: a token name in the tool's namespace (core OSCAL names without one)."""
    item: Json = {"name": name, "value": line(value)}
    if ns:
        item["ns"] = NS
    return item


def props(**values: object) -> list[Json]:
    """Properties for every given value that is not None (names with '_' written with '-')."""
    return [prop(name.replace("_", "-"), value) for name, value in values.items() if value is not None]


def compact(data: Json) -> Json:
    """Drop empty lists and None values: OSCAL arrays need at least one item."""
    return {k: v for k, v in data.items() if v is not None and v != []}


class Ids:
    """The deterministic UUIDs of one assessment (bundle digest and as-of) and of the system it is
    about (organisation and scope, stable across quarters)."""

    def __init__(self, assessment: Assessment) -> None:
        b = assessment.bundle
        self.assessment = (b.digest, timestamp(assessment.as_of))
        self.system = (b.organisation, b.scope)

    def of(self, *parts: str) -> str:
        """A UUID scoped to this assessment."""
        return uid("assessment", *self.assessment, *parts)

    def across(self, *parts: str) -> str:
        """A UUID scoped to the system: the same subject in every quarter."""
        return uid("system", *self.system, *parts)


PLATFORM = uid("tool", "exposure-reporter", "assessment-platform")
COMPONENT = uid("tool", "exposure-reporter", "component")


def origins() -> list[Json]:
    """Every observation, finding and risk comes from the tool."""
    return [{"actors": [{"type": "assessment-platform", "actor-uuid": PLATFORM}]}]


def assessment_assets(a: Assessment) -> Json:
    """The tool as a software component and the assessment platform using it."""
    name = f"{a.tool.name} {a.tool.version}"
    return {
        "components": [
            {
                "uuid": COMPONENT,
                "type": "software",
                "title": line(name),
                "description": "Evaluates evidence bundles against a control library (offline, deterministic).",
                "props": props(version=a.tool.version),
                "status": {"state": "operational"},
            }
        ],
        "assessment-platforms": [
            {"uuid": PLATFORM, "title": line(name), "uses-components": [{"component-uuid": COMPONENT}]}
        ],
    }


def period(a: Assessment) -> str:
    """The period as printed."""
    return f"{a.bundle.period_start} to {a.bundle.period_end}"


def metadata(ctx: RenderContext, title: str, results_sha256: str) -> Json:
    """Document metadata: title, the document date (never the clock), a version that changes with
    the results (report id and the start of results.json's SHA-256), the classification marking and
    the parties the bundle names."""
    a = ctx.inputs.assessment
    b = a.bundle
    org = uid("party", "organisation", b.organisation)
    people = [("prepared-by", "Prepared by", b.prepared_by)]
    if b.reviewed_by:
        people.append(("reviewed-by", "Reviewed by", b.reviewed_by))
    parties: list[Json] = [{"uuid": org, "type": "organization", "name": line(b.organisation)}]
    parties += [
        {"uuid": uid("party", "person", name), "type": "person", "name": line(name), "member-of-organizations": [org]}
        for _, _, name in people
    ]
    marking = ctx.inputs.options.classification or b.classification
    return compact(
        {
            "title": line(f"{title}: {b.organisation}, {period(a)}"),
            "last-modified": timestamp(ctx.inputs.generated_at),
            "version": f"{report_id(b.digest)}.{results_sha256[:12]}",
            "oscal-version": OSCAL_VERSION,
            "props": [prop("marking", marking, ns=False)] if marking else [],
            "roles": [
                {"id": "prepared-for", "title": "Organisation assessed"},
                *({"id": role, "title": role_title} for role, role_title, _ in people),
            ],
            "parties": parties,
            "responsible-parties": [
                {"role-id": "prepared-for", "party-uuids": [org]},
                *({"role-id": role, "party-uuids": [uid("party", "person", name)]} for role, _, name in people),
            ],
            "remarks": (
                f"Produced by {a.tool.name} {a.tool.version} from evidence bundle {b.digest} (report "
                f"{report_id(b.digest)}), assessed as of {timestamp(a.as_of)}. The same bundle and options give "
                "the same document, byte for byte."
            ),
        }
    )


# --- evidence -------------------------------------------------------------------------------------


def resource_id(ids: Ids, ref: str) -> str:
    """The back-matter resource of an evidence file (E0 is bundle.yaml)."""
    return ids.of("resource", ref)


def resources(ctx: RenderContext, ids: Ids) -> list[Json]:
    """bundle.yaml and every evidence file, with their SHA-256 (the evidence index of the report)."""
    b = ctx.inputs.assessment.bundle
    items = [
        {
            "uuid": resource_id(ids, MANIFEST_REF),
            "title": f"{MANIFEST_REF} bundle.yaml",
            "description": "The bundle manifest: period, scope, preparer and the SHA-256 of every evidence file.",
            "props": [prop("type", "evidence", ns=False)],
            "rlinks": [_rlink("bundle.yaml", "application/yaml", b.manifest_sha256)],
        }
    ]
    items += [_source_resource(ids, s) for s in b.sources]
    return items


def _rlink(path: str, media_type: str | None, sha256: str) -> Json:
    return compact(
        {"href": quote(path, safe="/"), "media-type": media_type, "hashes": [{"algorithm": "SHA-256", "value": sha256}]}
    )


def _source_resource(ids: Ids, source: SourceRef) -> Json:
    kinds = ", ".join(source.kinds) or "no records"
    return {
        "uuid": resource_id(ids, source.ref),
        "title": line(f"{source.ref} {source.path}"),
        "description": line(
            f"{kinds} from {source.tool or 'an unnamed tool'} ({source.format}), collected "
            f"{fmt.moment(source.collected_at)}, {source.records:,} records{'' if source.fresh else ', stale'}."
        ),
        "props": [
            prop("type", "evidence", ns=False),
            *props(evidence_ref=source.ref, collected=timestamp(source.collected_at), records=source.records),
        ],
        "rlinks": [_rlink(source.path, MEDIA_TYPES.get(source.format), source.sha256)],
    }


def _by_path(a: Assessment) -> dict[str, SourceRef]:
    return {s.path: s for s in a.bundle.sources}


def _gap_evidence(ids: Ids, gap: Gap, sources: dict[str, SourceRef]) -> Json:
    source = sources.get(gap.source)
    where = f"line {gap.line}" if gap.line is not None else f"record {gap.record}" if gap.record else "the file"
    return compact(
        {
            "href": f"#{resource_id(ids, source.ref if source else MANIFEST_REF)}",
            "description": line(f"{gap.source}, {where}: {gap.message}"),
            "props": props(
                evidence_ref=source.ref if source else None,
                source=gap.source,
                line=gap.line,
                record=gap.record,
                kind=gap.kind,
                record_id=gap.record_id,
                sha256=gap.sha256,
                certainty=gap.certainty.value,
                asset_id=gap.asset_id,
                excepted_by=gap.excepted_by,
            ),
        }
    )


def _file_evidence(ids: Ids, control: ControlResult, a: Assessment) -> list[Json]:
    if control.family == "EVD":
        return [{"href": f"#{resource_id(ids, MANIFEST_REF)}", "description": "bundle.yaml and the files it lists."}]
    kinds = set(control.evidence_kinds)
    return [
        {
            "href": f"#{resource_id(ids, s.ref)}",
            "description": line(f"{s.ref} {s.path}: {', '.join(sorted(kinds & set(s.kinds)))} evaluated."),
        }
        for s in a.bundle.sources
        if kinds & set(s.kinds)
    ]


def _cited(control: ControlResult, a: Assessment) -> Iterable[SourceRef]:
    sources = _by_path(a)
    if control.gaps:
        return [sources[g.source] for g in control.gaps if g.source in sources]
    return [s for s in a.bundle.sources if set(control.evidence_kinds) & set(s.kinds)]


def observation_id(ids: Ids, control_id: str) -> str:
    """The observation of one control's check in this assessment."""
    return ids.of("observation", control_id)


def observation(ids: Ids, control: ControlResult, a: Assessment) -> Json:
    """One control's evaluation: status, reason and measure; the evidence it cites (each listed gap
    with its file, line or record and SHA-256, else the files of its evidence kinds)."""
    sources = _by_path(a)
    evidence = [_gap_evidence(ids, g, sources) for g in control.gaps] or _file_evidence(ids, control, a)
    collected = max((s.collected_at for s in _cited(control, a)), default=a.as_of)
    listed = len(control.gaps)
    remarks = (
        f"{listed:,} of {control.gap_total:,} gaps are cited here; findings.csv lists every gap."
        if control.gap_total > listed
        else None
    )
    return compact(
        {
            "uuid": observation_id(ids, control.control_id),
            "title": line(f"{control.control_id} {control.title}"),
            "description": f"{control.reason}\n\nMeasure: {control.measure.display}.",
            "props": props(
                control_id=control.control_id,
                status=control.status.value,
                severity=control.severity,
                measure=control.measure.display,
                population=control.population,
                gap_total=control.gap_total,
                gaps_excepted=control.gaps_excepted,
            ),
            "methods": ["TEST"],
            "types": ["finding" if control.gap_total else "control-objective"],
            "origins": origins(),
            "relevant-evidence": evidence,
            "collected": timestamp(collected),
            "remarks": remarks,
        }
    )


def open_gaps(control: ControlResult) -> int:
    """Gaps not covered by a valid exception."""
    return control.gap_total - control.gaps_excepted


def risk(risk_uuid: str, ids: Ids, control: ControlResult, objective: str) -> Json:
    """The risk a control's gaps leave: open while unexcepted gaps remain, deviation-approved when
    valid exceptions cover every gap."""
    excepted_by = sorted({g.excepted_by for g in control.gaps if g.excepted_by})
    n_open = open_gaps(control)
    what = fmt.plural(n_open, "open gap") if n_open else fmt.plural(control.gaps_excepted, "excepted gap")
    return compact(
        {
            "uuid": risk_uuid,
            "title": line(f"{control.control_id} {control.title}: {what}"),
            "description": f"Control objective not met: {objective}",
            "statement": control.reason,
            "props": props(
                control_id=control.control_id,
                severity=control.severity,
                open_gaps=n_open,
                gaps_excepted=control.gaps_excepted,
                owners=", ".join(control.owners) or None,
                excepted_by=", ".join(excepted_by) or None,
            ),
            "status": "open" if n_open else "deviation-approved",
            "origins": origins(),
            "related-observations": [{"observation-uuid": observation_id(ids, control.control_id)}],
        }
    )


def objective_of(ctx: RenderContext, control: ControlResult) -> str:
    """The control's objective from the library (its title when the library no longer has it)."""
    found = ctx.inputs.library.controls.get(control.control_id)
    return found.objective if found else control.title
