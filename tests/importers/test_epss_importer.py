"""FIRST EPSS CSV: the head of a daily file, offset/CRLF/bare-date variants and gzip."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from importer_helpers import counts, import_path, of_kind, run_import, sample

from reporter.errors import ImportFormatError

FORMAT = "epss-csv"


def test_head_gives_49_scores_with_model_and_date() -> None:
    # 51 lines: the comment line, the header, 49 rows.
    records = run_import(FORMAT, "epss_scores-2026-01-02.head.csv")
    assert counts(records) == {"epss_scores": 49}
    scores = of_kind(records, "epss_scores")
    assert {(s["model_version"], s["score_date"]) for s in scores} == {("v2025.03.14", "2026-01-02")}
    assert {s["id"]: s["epss"] for s in scores}["CVE-1999-0003"] == 0.89352


def test_offset_without_colon_crlf_and_no_final_newline() -> None:
    records = run_import(FORMAT, "variant-offset-no-colon-crlf.csv")
    scores = {s["id"]: s for s in of_kind(records, "epss_scores")}
    assert len(scores) == 4
    assert scores["CVE-2023-12345"]["score_date"] == "2023-04-02"  # "...T00:00:00+0000"
    assert scores["CVE-2024-21762"]["percentile"] == 0.0
    assert scores["CVE-2023-9002"]["epss"] == 1.0


def test_bare_date_and_no_comment() -> None:
    bare = of_kind(run_import(FORMAT, "variant-bare-date.csv"), "epss_scores")
    assert bare[0]["score_date"] == "2022-02-04"
    plain = of_kind(run_import(FORMAT, "variant-no-comment.csv"), "epss_scores")
    assert "model_version" not in plain[0]


def test_gzip_is_accepted(tmp_path: Path) -> None:
    packed = tmp_path / "epss_scores-2026-01-02.csv.gz"
    packed.write_bytes(gzip.compress(sample(FORMAT, "epss_scores-2026-01-02.head.csv").read_bytes()))
    assert len(import_path(FORMAT, packed)) == 49


def test_a_gzip_bomb_stops_at_the_limit(tmp_path: Path) -> None:
    from reporter.importers.interface import ImportLimits

    packed = tmp_path / "bomb.csv.gz"
    packed.write_bytes(gzip.compress(b"cve,epss,percentile\n" + b"CVE-2024-0001,0.1,0.1\n" * 50_000))
    with pytest.raises(ImportFormatError, match="expands to more than"):
        import_path(FORMAT, packed, limits=ImportLimits(max_bytes=100_000))


def test_bad_row_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("#model_version:v1,score_date:2026-01-02\ncve,epss,percentile\nCVE-2024-1,0.5,0.5\n")
    with pytest.raises(ImportFormatError, match="not a CVE id") as caught:
        import_path(FORMAT, path)
    assert caught.value.location.line == 3
    path.write_text("cve,epss,percentile\nCVE-2024-0001,1.5,0.5\n")
    with pytest.raises(ImportFormatError, match="probability") as caught:
        import_path(FORMAT, path)
    assert caught.value.location.line == 2


def test_a_gzip_file_loads_as_a_bundle_source(tmp_path: Path) -> None:
    """The daily file is published gzip-compressed: a bundle lists it as it is downloaded."""
    from support.bundles import BundleBuilder

    from reporter.bundle.load import load_bundle

    builder = BundleBuilder(tmp_path)
    builder.add("assets", [{"id": "a-1", "name": "a-1", "type": "server"}])
    packed = tmp_path / "intel" / "epss_scores-2026-01-02.csv.gz"
    packed.parent.mkdir(parents=True)
    packed.write_bytes(gzip.compress(sample(FORMAT, "epss_scores-2026-01-02.head.csv").read_bytes(), mtime=0))
    builder.sources.append(
        {"path": "intel/epss_scores-2026-01-02.csv.gz", "format": FORMAT, "collected_at": "2026-09-30T00:00:00Z"}
    )
    builder.write()
    loaded = load_bundle(tmp_path)
    try:
        assert loaded.valid, [i for i in loaded.issues if i.severity == "error"]
        assert loaded.store.count("epss_scores") == 49
    finally:
        loaded.close()
