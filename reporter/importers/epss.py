"""FIRST EPSS CSV (`epss_scores-YYYY-MM-DD.csv[.gz]`) → epss_scores, streamed line by line;
the `#model_version:…,score_date:…` comment line gives every score its model and date."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from reporter.importers._common import (
    Where,
    compact,
    day_iso,
    is_cve,
    iter_lines,
    parse_day,
    start,
)
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="epss-csv",
    tool="FIRST EPSS",
    kinds=("epss_scores",),
    tested_versions="daily CSV with comment line (model v2025.03.14, 2026-01-02); gzip accepted",
    produce_with="curl -fsSLO https://epss.empiricalsecurity.com/epss_scores-YYYY-MM-DD.csv.gz",
    notes="Enrichment keyed by CVE. Scores of different model versions are not comparable.",
    extensions=(".csv", ".csv.gz"),
    utf8_text=False,  # the daily file is published gzip-compressed: iter_lines checks size, lines and UTF-8
)

_COMMENT_FIELD = re.compile(r"(model_version|score_date):([^,]+)")
_NUMBER = re.compile(r"\s*-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?\s*")
_REQUIRED = ("cve", "epss", "percentile")


class EpssImporter:
    """Reads one EPSS scores file."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield one score per row."""
        where = start(context)
        model: str | None = None
        scored: date | None = None
        columns: dict[str, int] | None = None
        for number, text in iter_lines(path, where, context.limits):
            line, line_where = text.rstrip("\r\n"), where.on_line(number)
            if not line.strip():
                continue
            if columns is None and line.startswith("#"):
                fields = dict(_COMMENT_FIELD.findall(line))
                model = fields.get("model_version", model)
                scored = parse_day(fields.get("score_date"), line_where.at("score_date")) or scored
            elif columns is None:
                columns = _header(line, line_where)
            else:
                yield _score(line, line_where, columns, model, scored)
        if columns is None:
            raise where.error("has no header line (cve,epss,percentile)")


def _cells(line: str, where: Where) -> list[str]:
    if '"' not in line:  # EPSS rows never quote: skip the csv module for 300k plain rows
        return line.split(",")
    try:
        return next(csv.reader([line]))
    except csv.Error as exc:
        raise where.error(f"is not valid CSV ({exc})") from None


def _header(line: str, where: Where) -> dict[str, int]:
    names = [cell.strip().lower() for cell in _cells(line, where)]
    if not all(name in names for name in _REQUIRED):
        raise where.error("is not an EPSS header: expected the columns cve, epss, percentile")
    return {name: names.index(name) for name in _REQUIRED}


def _score(line: str, where: Where, columns: dict[str, int], model: str | None, scored: date | None) -> ImportedRecord:
    cells = _cells(line, where)
    if len(cells) <= max(columns.values()):
        raise where.error(f"has {len(cells)} cells; the header names {max(columns.values()) + 1}")
    cve = cells[columns["cve"]].strip().upper()
    if not is_cve(cve):
        raise where.at("cve").error("is not a CVE id")
    data = {
        "id": cve,
        "epss": _probability(cells[columns["epss"]], where, "epss"),
        "percentile": _probability(cells[columns["percentile"]], where, "percentile"),
        "model_version": model.strip() if model else None,
        "score_date": day_iso(scored),
    }
    return ImportedRecord("epss_scores", compact(data), str(where))


def _probability(cell: str, where: Where, column: str) -> float:
    if not _NUMBER.fullmatch(cell):
        raise where.at(column).error("is not a number")
    value = float(cell)
    if not 0.0 <= value <= 1.0:
        raise where.at(column).error("expected a probability between 0 and 1")
    return value


IMPORTER = EpssImporter()
