"""A signed report set and its verification: the statement's subjects and predicate, every way a set
can fail to verify (a changed, missing or unattested file, another key, a forged subject name), and the
comparison of a re-performed assessment with the attested results."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.bundles import minimal_valid
from support.engine import assess_builder

from reporter.attest import dsse, keys
from reporter.attest.interface import ATTESTATION_FILE, REPORT_PREDICATE_TYPE, SEAL_PREDICATE_TYPE, ReportPredicate
from reporter.attest.intoto import sign_statement
from reporter.attest.report_set import attest, library_digest, predicate
from reporter.attest.verify import compare_reperformed, first_difference, verify_report_set
from reporter.catalog.library import Library
from reporter.catalog.loader import load_library
from reporter.models.results import Assessment
from reporter.report.formats.json import results_json

SIGNED_AT = datetime(2026, 12, 4, 11, 53, 45, tzinfo=UTC)
OWNED = frozenset({"report.html", "report.pdf", "results.json", "findings.csv"})


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


@pytest.fixture(scope="module")
def assessment(tmp_path_factory: pytest.TempPathFactory, library: Library) -> Assessment:
    return assess_builder(minimal_valid(tmp_path_factory.mktemp("b") / "bundle"), library)


@pytest.fixture(scope="module")
def key() -> keys.Ed25519PrivateKey:
    return keys.generate()


def _statement(assessment: Assessment, library: Library) -> ReportPredicate:
    return predicate(
        assessment,
        library,
        max_gaps=1000,
        results_sha256=hashlib.sha256(results_json(assessment)).hexdigest(),
        document_date=assessment.as_of,
        signed_at=SIGNED_AT,
    )


@pytest.fixture
def report_set(tmp_path: Path, assessment: Assessment, library: Library, key: keys.Ed25519PrivateKey) -> Path:
    files = {"results.json": results_json(assessment), "report.html": b"<!DOCTYPE html><p>report</p>\n"}
    statement = _statement(assessment, library)
    files[ATTESTATION_FILE] = attest(files, statement, key)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return tmp_path


def test_the_statement_names_every_file_and_the_evidence(
    report_set: Path, assessment: Assessment, library: Library, key: keys.Ed25519PrivateKey
) -> None:
    envelope = json.loads((report_set / ATTESTATION_FILE).read_bytes())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert envelope["signatures"][0]["keyid"] == keys.key_id(key.public_key())
    statement = json.loads(dsse.b64decode(envelope["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == REPORT_PREDICATE_TYPE
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert subjects == {n: hashlib.sha256((report_set / n).read_bytes()).hexdigest() for n in subjects}
    assert set(subjects) == {"results.json", "report.html"}
    p = statement["predicate"]
    assert p["bundle"]["digest"] == assessment.bundle.digest
    assert p["bundle"]["manifest_sha256"] == assessment.bundle.manifest_sha256
    assert p["tool"] == {"name": "exposure-reporter", "version": assessment.tool.version}
    assert p["control_library"]["digest"] == library_digest(library)
    assert p["assessment"]["as_of"] == "2026-10-01T00:00:00Z"
    assert p["headline"]["activity"]["display"] == assessment.headline.activity.display
    assert p["status_counts"] == assessment.status_counts
    assert p["signed_at"] == "2026-12-04T11:53:45Z"


def test_an_untouched_set_verifies(report_set: Path, key: keys.Ed25519PrivateKey) -> None:
    outcome, attested = verify_report_set(report_set, key.public_key(), OWNED)
    assert outcome.verified, outcome.problems
    assert attested is not None
    assert [(c.name, c.status) for c in outcome.files] == [("report.html", "ok"), ("results.json", "ok")]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: (d / "report.html").write_bytes(b"<!DOCTYPE html><p>rep0rt</p>\n"), "report.html: SHA-256 is"),
        (lambda d: (d / "results.json").unlink(), "results.json: attested but missing"),
        (lambda d: (d / "report.pdf").write_bytes(b"%PDF-1.7"), "report.pdf: in the report directory but not covered"),
        (lambda d: (d / ATTESTATION_FILE).unlink(), "has no attestation.intoto.jsonl"),
        (lambda d: (d / ATTESTATION_FILE).write_bytes(b"{}"), "attestation.intoto.jsonl: not a DSSE envelope"),
    ],
)
def test_every_change_is_named(report_set: Path, key: keys.Ed25519PrivateKey, change: object, message: str) -> None:
    change(report_set)  # type: ignore[operator]
    outcome, _ = verify_report_set(report_set, key.public_key(), OWNED)
    assert not outcome.verified
    assert any(message in p for p in outcome.problems), outcome.problems


def test_a_changed_byte_in_the_attestation_breaks_the_signature(report_set: Path, key: keys.Ed25519PrivateKey) -> None:
    path = report_set / ATTESTATION_FILE
    envelope = json.loads(path.read_bytes())
    statement = json.loads(dsse.b64decode(envelope["payload"]))
    statement["subject"][0]["digest"]["sha256"] = "0" * 64  # point the subject at other content
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    path.write_text(json.dumps(envelope))
    outcome, attested = verify_report_set(report_set, key.public_key(), OWNED)
    assert attested is None
    assert outcome.problems == [outcome.problems[0]]
    assert "signature does not verify" in outcome.problems[0]


def test_another_key_does_not_verify(report_set: Path) -> None:
    outcome, _ = verify_report_set(report_set, keys.generate().public_key(), OWNED)
    assert not outcome.verified
    assert "signature does not verify" in outcome.problems[0]


def test_subject_names_must_be_plain_file_names(tmp_path: Path, key: keys.Ed25519PrivateKey) -> None:
    envelope = sign_statement({"../../etc/passwd": "0" * 64}, REPORT_PREDICATE_TYPE, {}, key)
    (tmp_path / ATTESTATION_FILE).write_bytes(dsse.dumps(envelope))
    outcome, _ = verify_report_set(tmp_path, key.public_key(), OWNED)
    assert "is not a report file name" in outcome.problems[0]


def test_a_seal_is_not_a_report_attestation(tmp_path: Path, key: keys.Ed25519PrivateKey) -> None:
    envelope = sign_statement({"bundle.yaml": "0" * 64}, SEAL_PREDICATE_TYPE, {}, key)
    (tmp_path / ATTESTATION_FILE).write_bytes(dsse.dumps(envelope))
    outcome, _ = verify_report_set(tmp_path, key.public_key(), OWNED)
    assert "predicate type" in outcome.problems[0]


def test_reperformed_results_must_match(assessment: Assessment, library: Library) -> None:
    attested = _statement(assessment, library)
    written = results_json(assessment)
    assert compare_reperformed(assessment, attested, written) == []
    drifted = assessment.model_copy(
        update={"status_counts": {**assessment.status_counts, "pass": assessment.status_counts["pass"] - 1}}
    )
    [problem] = compare_reperformed(drifted, attested, written)
    assert problem.startswith("results.json: re-performing the assessment gives different results")
    assert "$.status_counts.pass" in problem
    [problem] = compare_reperformed(drifted, attested, None)
    assert "holds no results.json" in problem
    other = assessment.model_copy(update={"bundle": assessment.bundle.model_copy(update={"digest": "f" * 64})})
    [problem] = compare_reperformed(other, attested, written)
    assert "not the attested evidence" in problem


def test_first_difference_names_the_path() -> None:
    assert (
        first_difference(b'{"a": [1, 2]}', b'{"a": [1, 3]}') == "first difference at $.a[1]: attested 2, re-performed 3"
    )
    assert "offset 1" in first_difference(b"ab", b"ax")
    assert first_difference(b'{"a": 1}', b'{"a":1}') == "same content, different bytes"


def test_the_library_digest_follows_its_content(library: Library) -> None:
    assert library_digest(library) == library_digest(load_library())
    control = next(iter(library.controls.values()))
    changed = {**library.controls, control.id: control.model_copy(update={"objective": control.objective + "!"})}
    assert library_digest(dataclasses.replace(library, controls=changed)) != library_digest(library)
