"""CISA Known Exploited Vulnerabilities catalog JSON → kev_entries (dates exactly as published;
a `count` that disagrees with the entries is an error: the file was truncated or edited)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reporter.importers._common import (
    Where,
    as_list,
    as_obj,
    compact,
    day_iso,
    is_cve,
    load_json,
    opt_int,
    opt_str,
    parse_day,
    start,
)
from reporter.importers.interface import ImportContext, ImportedRecord, ImporterInfo

INFO = ImporterInfo(
    format="kev-json",
    tool="CISA KEV catalog",
    kinds=("kev_entries",),
    tested_versions="catalog schema draft-07 (catalogVersion 2025.08.25)",
    produce_with="curl -fsSLo kev.json "
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
    notes="Enrichment keyed by CVE, not findings.",
    extensions=(".json",),
)

_RANSOMWARE = {"known": "known", "unknown": "unknown"}


class KevImporter:
    """Reads one KEV catalog."""

    info = INFO

    def read(self, path: Path, context: ImportContext) -> Iterator[ImportedRecord]:
        """Yield one entry per catalog vulnerability, after checking `count`."""
        where = start(context)
        catalog = as_obj(load_json(path, context), where)
        if "vulnerabilities" not in catalog:
            raise where.error("is not a KEV catalog (no 'vulnerabilities')")
        entries_where = where.at("vulnerabilities")
        entries = as_list(catalog.get("vulnerabilities"), entries_where)
        count = opt_int(catalog, "count", where)
        if count is not None and count != len(entries):
            raise where.at("count").error(
                f"says {count} entries but the catalog lists {len(entries)} (truncated or edited file?)"
            )
        version = opt_str(catalog, "catalogVersion", where)
        for i, item in enumerate(entries):
            entry_where = entries_where.at(i)
            yield _entry(as_obj(item, entry_where), entry_where, version)


def _entry(entry: dict[str, Any], where: Where, version: str | None) -> ImportedRecord:
    cve = (opt_str(entry, "cveID", where) or "").upper()
    if not is_cve(cve):
        raise where.at("cveID").error("is missing or not a CVE id")
    ransomware = (opt_str(entry, "knownRansomwareCampaignUse", where) or "").lower()
    data = {
        "id": cve,
        "vendor_project": opt_str(entry, "vendorProject", where),
        "product": opt_str(entry, "product", where),
        "name": opt_str(entry, "vulnerabilityName", where),
        "date_added": _required_day(entry, "dateAdded", where),
        "due_date": _required_day(entry, "dueDate", where),
        "known_ransomware": _RANSOMWARE.get(ransomware),
        "required_action": opt_str(entry, "requiredAction", where),
        "catalog_version": version,
    }
    return ImportedRecord("kev_entries", compact(data), str(where))


def _required_day(entry: dict[str, Any], key: str, where: Where) -> str:
    day = day_iso(parse_day(entry.get(key), where.at(key)))
    if day is None:
        raise where.at(key).error("is missing")
    return day


IMPORTER = KevImporter()
