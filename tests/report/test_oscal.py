"""OSCAL 1.2.1 outputs: assessment-results.json and plan-of-action-and-milestones.json are valid against
NIST's schemas (tests/schemas/oscal, with \\p{..} patterns and formats checked), load into
compliance-trestle's models, keep every reference inside the document, cite the evidence of every gap
with its file and SHA-256, and are the same bytes for the same bundle."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from report_helpers import SAMPLES, assess_for_report
from support.schemas import OSCAL_AR, OSCAL_COMPLETE, check_jsonschema, errors
from trestle.oscal.assessment_results import Model as TrestleResults
from trestle.oscal.poam import Model as TrestlePoam

from reporter.catalog.loader import load_library
from reporter.models.catalog import ItemStatusValue
from reporter.report.formats import oscal, poam
from reporter.report.formats.oscal_common import document_bytes
from reporter.report.interface import RenderContext, ReportInputs
from reporter.report.view import closing
from reporter.report.view.build import build_view
from reporter.report.view.common import Ctx

UUID5 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def render(inputs: ReportInputs) -> tuple[bytes, bytes]:
    ctx = RenderContext(inputs, build_view(inputs))
    return oscal.render(ctx)["assessment-results.json"], poam.render(ctx)["plan-of-action-and-milestones.json"]


@pytest.fixture(scope="module")
def minimal_inputs() -> ReportInputs:
    assessment, exports = assess_for_report(SAMPLES / "minimal")
    return ReportInputs(assessment, exports, load_library(), assessment.as_of)


@pytest.fixture(scope="module")
def q3_docs(q3_inputs: ReportInputs) -> tuple[bytes, bytes]:
    return render(q3_inputs)


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def test_assessment_results_are_schema_valid(q3_docs: tuple[bytes, bytes], minimal_inputs: ReportInputs) -> None:
    for raw in (q3_docs[0], render(minimal_inputs)[0]):
        document = json.loads(raw)
        assert errors("oscal-ar", document) == []
        assert errors("oscal-complete", document) == []
        loaded = TrestleResults.model_validate(document).assessment_results
        assert loaded.uuid == document["assessment-results"]["uuid"]
        assert len(loaded.results[0].observations or []) == len(
            document["assessment-results"]["results"][0]["observations"]
        )


def test_poam_is_schema_valid(q3_docs: tuple[bytes, bytes], minimal_inputs: ReportInputs) -> None:
    for raw in (q3_docs[1], render(minimal_inputs)[1]):
        document = json.loads(raw)
        assert errors("oscal-poam", document) == []
        assert errors("oscal-complete", document) == []
        loaded = TrestlePoam.model_validate(document).plan_of_action_and_milestones
        assert len(loaded.poam_items) == len(document["plan-of-action-and-milestones"]["poam-items"])


def test_check_jsonschema_accepts_both(tmp_path: Path, q3_docs: tuple[bytes, bytes]) -> None:
    for name, raw, schema in (("ar.json", q3_docs[0], OSCAL_AR), ("poam.json", q3_docs[1], OSCAL_COMPLETE)):
        (tmp_path / name).write_bytes(raw)
        done = check_jsonschema(schema, tmp_path / name)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_the_validators_are_not_vacuous(q3_docs: tuple[bytes, bytes]) -> None:
    document = json.loads(q3_docs[0])
    result = document["assessment-results"]["results"][0]
    result["findings"][0]["target"]["status"]["state"] = "error"  # OSCAL has satisfied / not-satisfied only
    result["observations"][0]["props"][0]["name"] = "1 bad token"
    result["observations"][1]["uuid"] = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"  # a version-1 UUID
    assert len(errors("oscal-ar", document)) == 3


@pytest.mark.parametrize("index", [0, 1])
def test_every_reference_resolves_and_every_uuid_is_unique(q3_docs: tuple[bytes, bytes], index: int) -> None:
    document = json.loads(q3_docs[index])
    defined = [v for k, v in walk(document) if k == "uuid"]
    assert len(defined) == len(set(defined))
    assert all(UUID5.match(u) for u in defined)
    for key, value in walk(document):
        if key in ("observation-uuid", "risk-uuid", "actor-uuid", "component-uuid", "party-uuids"):
            for ref in value if isinstance(value, list) else [value]:
                assert ref in defined, (key, ref)
        if key == "href" and isinstance(value, str) and value.startswith("#"):
            assert value[1:] in defined, value


@pytest.mark.parametrize(("sample", "decisive"), [("minimal", ItemStatusValue.PASS), ("q3", ItemStatusValue.FAIL)])
def test_one_finding_per_item_assessed_satisfied_only_when_it_passes(
    request: pytest.FixtureRequest, sample: str, decisive: ItemStatusValue
) -> None:
    inputs: ReportInputs = request.getfixturevalue(f"{sample}_inputs")
    result = json.loads(render(inputs)[0])["assessment-results"]["results"][0]
    findings = {(p["framework"], p["item-id"]): f for f in result["findings"] for p in [_props(f)]}
    expected = {
        (fw.framework, item.item_id): item.status
        for fw in inputs.assessment.frameworks.frameworks
        for item in fw.items
        if item.status in oscal.FINDING_STATUSES
    }
    assert set(findings) == set(expected)
    assert decisive in expected.values()
    for key, finding in findings.items():
        state = finding["target"]["status"]["state"]
        assert (state == "satisfied") == (expected[key] is ItemStatusValue.PASS), key
        assert _props(finding)["status"] == expected[key].value
        suffix = "_statement" if key[0] == "nist-csf-2.0" else "_smt"
        assert finding["target"]["target-id"] == oscal.token(key[1]) + suffix
    reviewed = {
        c["control-id"] for s in result["reviewed-controls"]["control-selections"] for c in s["include-controls"]
    }
    assert reviewed == {oscal.token(item_id) for _, item_id in findings}


def _props(item: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in item.get("props", [])}


def test_observations_cite_every_listed_gap_with_file_and_sha256(
    q3_inputs: ReportInputs, q3_docs: tuple[bytes, bytes]
) -> None:
    document = json.loads(q3_docs[0])["assessment-results"]
    resources = {r["uuid"]: r for r in document["back-matter"]["resources"]}
    observations = {_props(o)["control-id"]: o for o in document["results"][0]["observations"]}
    assert set(observations) == {c.control_id for c in q3_inputs.assessment.controls}
    cited = 0
    for control in q3_inputs.assessment.controls:
        evidence = observations[control.control_id].get("relevant-evidence", [])
        if not control.gaps:
            continue
        assert len(evidence) == len(control.gaps)
        for gap, item in zip(control.gaps, evidence, strict=True):
            resource = resources[item["href"][1:]]
            rlink = resource["rlinks"][0]
            if gap.kind != "sources" and gap.sha256:
                assert rlink["href"] == gap.source.replace(" ", "%20")
                assert rlink["hashes"] == [{"algorithm": "SHA-256", "value": gap.sha256}]
                assert _props(item)["sha256"] == gap.sha256
                cited += 1
    assert cited > 100


def test_risks_follow_the_controls_with_gaps(q3_inputs: ReportInputs, q3_docs: tuple[bytes, bytes]) -> None:
    risks = json.loads(q3_docs[0])["assessment-results"]["results"][0]["risks"]
    with_gaps = {c.control_id: c for c in q3_inputs.assessment.controls if c.gap_total}
    assert {_props(r)["control-id"] for r in risks} == set(with_gaps)
    for risk in risks:
        control = with_gaps[_props(risk)["control-id"]]
        open_gaps = control.gap_total - control.gaps_excepted
        assert risk["status"] == ("open" if open_gaps else "deviation-approved")


def test_the_poam_is_the_remediation_plan(q3_inputs: ReportInputs, q3_docs: tuple[bytes, bytes]) -> None:
    plan = json.loads(q3_docs[1])["plan-of-action-and-milestones"]
    expected = [c.control_id for c in poam.actionable(q3_inputs.assessment)]
    assert [_props(i)["control-id"] for i in plan["poam-items"]] == expected
    risks = {r["uuid"]: r for r in plan["risks"]}
    for item in plan["poam-items"]:
        [ref] = item["related-risks"]
        risk = risks[ref["risk-uuid"]]
        assert risk["status"] == "open"
        assert risk["remediations"][0]["lifecycle"] == "recommendation"
    assert plan["metadata"]["props"] == [{"name": "marking", "value": "Confidential"}]


def test_a_plan_with_nothing_open_says_so(minimal_inputs: ReportInputs) -> None:
    plan = json.loads(render(minimal_inputs)[1])["plan-of-action-and-milestones"]
    assert [i["title"] for i in plan["poam-items"]] == ["No open control deviations"]


def test_same_bundle_same_bytes_and_ids_from_the_evidence(minimal_inputs: ReportInputs) -> None:
    first, again = render(minimal_inputs), render(minimal_inputs)
    assert first == again
    later = dataclasses.replace(
        minimal_inputs,
        assessment=minimal_inputs.assessment.model_copy(
            update={"as_of": minimal_inputs.assessment.as_of - timedelta(days=1)}
        ),
    )
    moved = json.loads(render(later)[0])["assessment-results"]
    base = json.loads(first[0])["assessment-results"]
    assert moved["uuid"] != base["uuid"]  # another assessment instant is another assessment
    system = json.loads(render(later)[1])["plan-of-action-and-milestones"]["uuid"]
    assert system == json.loads(first[1])["plan-of-action-and-milestones"]["uuid"]  # the same system's plan
    assert base["metadata"]["last-modified"] == "2026-10-01T00:00:00Z"  # the document date: never the clock


def test_the_documented_example_is_valid() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "results-format.md").read_text(encoding="utf-8")
    section = doc.split("## OSCAL assessment results", 1)[1]
    example = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    assert errors("oscal-ar", example) == []
    references = {v for k, v in walk(example) if k in ("observation-uuid", "risk-uuid")}
    assert references <= {v for k, v in walk(example) if k == "uuid"}


def test_the_poam_follows_the_report_plan_and_carries_management_responses(
    q3_inputs: ReportInputs, q3_docs: tuple[bytes, bytes]
) -> None:
    plan = json.loads(q3_docs[1])["plan-of-action-and-milestones"]
    report_order = [c.control_id for c in closing.actionable(Ctx(q3_inputs))]
    assert [_props(i)["control-id"] for i in plan["poam-items"]] == report_order
    responses = {r.control: r for r in q3_inputs.assessment.bundle.framing.responses}
    assert responses  # the sample answers some plan items
    risks = {r["uuid"]: r for r in plan["risks"]}
    answered = 0
    for item in plan["poam-items"]:
        props = _props(item)
        answer = responses.get(props["control-id"])
        remediation = risks[item["related-risks"][0]["risk-uuid"]]["remediations"][0]["description"]
        if answer is None:
            assert "responsible" not in props
            assert "No management response" in remediation
            continue
        answered += 1
        assert props["responsible"] == answer.owner
        assert props["target-date"] == answer.target_date.isoformat()
        assert props["response-status"] == answer.status
        assert f"target date {answer.target_date}" in remediation
    assert answered >= 1


def test_documents_are_the_bytes_the_standard_library_would_write(q3_docs: tuple[bytes, bytes]) -> None:
    """document_bytes uses pydantic-core's serializer for speed; its output must stay what
    json.dumps(indent=2, ensure_ascii=False) gives, so no number or string is written differently."""
    for document in q3_docs:
        parsed = json.loads(document)
        assert document == json.dumps(parsed, indent=2, ensure_ascii=False).encode() + b"\n"
    tricky = {"a": "é</script>\u2028", "b": [], "c": {}, "d": [1, True, None], "e": '"\\\t'}
    assert document_bytes(tricky) == json.dumps(tricky, indent=2, ensure_ascii=False).encode() + b"\n"
