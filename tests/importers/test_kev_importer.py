"""CISA KEV catalog: the 150-entry slice, a minimal legacy variant and a wrong count."""

from __future__ import annotations

import json

import jsonschema
import pytest
from importer_helpers import counts, of_kind, run_import, sample

from reporter.errors import ImportFormatError

FORMAT = "kev-json"


def test_slice_gives_150_entries_with_ransomware_use() -> None:
    records = run_import(FORMAT, "known_exploited_vulnerabilities.slice.json")
    assert counts(records) == {"kev_entries": 150}
    entries = of_kind(records, "kev_entries")
    ransomware = [e["known_ransomware"] for e in entries]
    assert (ransomware.count("known"), ransomware.count("unknown")) == (13, 137)
    assert {e["catalog_version"] for e in entries} == {"2025.08.25"}
    first = next(e for e in entries if e["id"] == "CVE-2025-48384")
    assert (first["date_added"], first["vendor_project"]) == ("2025-08-25", "Git")


def test_dates_as_published_even_due_before_added() -> None:
    records = run_import(FORMAT, "variant-minimal-legacy.json")
    entries = {e["id"]: e for e in of_kind(records, "kev_entries")}
    assert len(entries) == 3
    early = entries["CVE-2021-27102"]
    assert (early["date_added"], early["due_date"]) == ("2021-11-03", "2021-11-01")
    assert "known_ransomware" not in early  # field absent
    assert "known_ransomware" not in entries["CVE-2021-44228"]  # "Suspected": not in the enum
    assert entries["CVE-2019-11510"]["known_ransomware"] == "known"


def test_count_mismatch_is_an_error() -> None:
    with pytest.raises(ImportFormatError, match="says 4 entries but the catalog lists 3"):
        run_import(FORMAT, "variant-count-mismatch.json")


@pytest.mark.parametrize("name", ["variant-minimal-legacy.json", "variant-count-mismatch.json"])
def test_hand_made_variants_follow_the_published_schema(name: str) -> None:
    schema = json.loads(sample(FORMAT, "known_exploited_vulnerabilities_schema.json").read_text())
    jsonschema.validate(json.loads(sample(FORMAT, name).read_text()), schema)
