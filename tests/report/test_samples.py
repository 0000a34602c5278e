"""The audit samples in the outputs: samples.csv (RFC 4180, every sampled record with its evidence,
formulas neutralised) and the "Audit samples" appendix of the report."""

from __future__ import annotations

import csv
import io

import pytest
from pypdf import PdfReader
from report_helpers import SampleReport

from reporter.models.results import Assessment, SampleResult
from reporter.report.formats.csv import SAMPLE_COLUMNS, samples_csv
from reporter.report.interface import ReportInputs
from reporter.report.view.common import Ctx
from reporter.report.view.model import Table
from reporter.report.view.sampling import sampling_section


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_samples_csv_lists_every_sampled_record_with_its_evidence(q3_inputs: ReportInputs) -> None:
    a = q3_inputs.assessment
    data = samples_csv(a)
    assert data.startswith(b'\xef\xbb\xbf"control_id",')
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF after every record, no bare LF
    rows = _rows(data)
    assert tuple(rows[0]) == SAMPLE_COLUMNS
    sampled = [(c, r) for c in a.controls if c.sample for r in c.sample.records]
    assert len(rows) == len(sampled) > 1000
    for row, (control, record) in zip(rows, sampled, strict=True):
        assert control.sample is not None
        assert (row["control_id"], row["seed"], row["key"], row["rank"]) == (
            control.control_id,
            control.sample.seed,
            record.key,
            record.rank,
        )
        assert (row["source"], row["sha256"], row["result"]) == (record.source, record.sha256 or "", record.result)
        assert row["line"] == ("" if record.line is None else str(record.line))
    assert {r["result"] for r in rows} >= {"deviation", "conforms"}
    assert all(r["message"] for r in rows if r["result"] == "deviation")


def _with_hostile_message(a: Assessment) -> Assessment:
    control = next(c for c in a.controls if c.sample and c.sample.records)
    assert control.sample is not None
    first = control.sample.records[0].model_copy(
        update={"message": '=HYPERLINK("http://x")', "record_id": "+1+1", "result": SampleResult.DEVIATION}
    )
    sample = control.sample.model_copy(update={"records": [first]})
    return a.model_copy(update={"controls": [control.model_copy(update={"sample": sample})]})


def test_samples_csv_neutralises_formulas(q3_inputs: ReportInputs) -> None:
    rows = _rows(samples_csv(_with_hostile_message(q3_inputs.assessment)))
    assert len(rows) == 1
    assert rows[0]["message"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["record_id"] == "'+1+1"


def test_appendix_has_a_row_per_sampled_control_with_its_seed(q3_inputs: ReportInputs) -> None:
    intro, blocks = sampling_section(Ctx(q3_inputs))
    assert "n = 59" in intro
    tables = {b.id: b for b in blocks if isinstance(b, Table)}
    sizes = {(r[0].text, r[1].text): r[2].text for r in tables["tbl-sample-sizes"].rows}
    assert sizes[("95 %", "5 %")] == "59"
    assert sizes[("90 %", "10 %")] == "22"
    rows = {r[0].text: r for r in tables["tbl-samples"].rows}
    sampled = [c for c in q3_inputs.assessment.controls if c.sample and c.sample.size]
    assert set(rows) == {c.control_id for c in sampled}
    for control in sampled:
        assert control.sample is not None
        row = rows[control.control_id]
        assert row[4].text == control.sample.seed[:12]
        assert row[3].text == str(control.sample.deviations)
        assert row[5].text.startswith(control.sample.records[0].record_id)


@pytest.mark.slow
def test_the_pdf_has_the_audit_samples_appendix_before_the_limitations(sample_report: SampleReport) -> None:
    reader = PdfReader(sample_report.directory / "report.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    start, end = text.index("Audit samples\nA reproducible random sample"), text.index("Limitations\nWhat this report")
    appendix = text[start:end]
    assert "printf '%s' \"<seed>:<key>\" | sha256sum" in appendix.replace("\n", " ")
    assert "VER-01" in appendix
    assert (sample_report.directory / "samples.csv").read_bytes().startswith(b'\xef\xbb\xbf"control_id"')
