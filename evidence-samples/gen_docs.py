"""The generated READMEs: `evidence-samples/README.md` (bundles, formats, planted situations with
counts taken from the Plant registry) and `broken/README.md` (failure modes and expected issues).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gen_core import CHECK_IDS, CONTROL_IDS, Bundle, Plants
from gen_native import tool_note


@dataclass
class Summary:
    """What the README says about one generated bundle."""

    name: str
    bundle: Bundle
    sizes: dict[str, int]
    plants: Plants | None = None
    headline: dict[str, Any] = field(default_factory=dict)


# The situations the plan lists, and the controls that catch them.
SITUATIONS = [
    ("deployment reported successful whose rescan is still vulnerable", ["VER-02"]),
    ("successes never verified (or verified too late)", ["VER-01"]),
    ("fixes with no change record", ["VER-04"]),
    ("a rollback re-opening a verified fix", ["RLB-02"]),
    ("an emergency bypass never reassessed (plus late reassessments)", ["RLB-01"]),
    ("expired exceptions", ["EXC-02"]),
    ("exceptions without owner, approver or compensating control", ["EXC-01"]),
    ("assets seen by discovery but missing from the inventory", ["INV-01"]),
    ("ephemeral containers gone before verification", ["VER-05"]),
    ("leaked secrets still valid (plus one revoked too late)", ["NHI-02"]),
    ("a credential shared between prod and dev", ["NHI-08"]),
    ("an AI agent holding a long-lived admin token", ["AGT-02"]),
    ("orphaned service accounts", ["NHI-01"]),
    ("KEV findings on internet-facing assets past due", ["PRI-02", "PRI-03"]),
]


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _sources(summary: Summary) -> list[str]:
    rows = []
    for spec in summary.bundle.sources.values():
        notes = []
        if not spec.with_sha:
            notes.append("no sha256 (EVD-03 plant)")
        if (summary.bundle.clock.as_of - spec.collected_at).days > 14:
            notes.append("stale (EVD-02 plant)")
        if spec.zone.utcoffset(None):
            notes.append("timestamps with +02:00 offsets")
        if spec.is_tool:
            notes.append(tool_note(spec))
        kinds = spec.kinds()
        rows.append(
            [
                f"`{spec.path}`",
                ", ".join(kinds),
                f"`{spec.format}`" if spec.is_tool else spec.format,
                " + ".join(str(len(spec.of_kind(k))) for k in kinds),
                f"{summary.sizes[spec.path]:,}",
                "; ".join(notes),
            ]
        )
    return _table(["file", "kind", "format", "records", "bytes", "notes"], rows)


def _planted(plants: Plants) -> list[str]:
    counts = plants.counts()
    rows = [
        [situation, ", ".join(controls), " + ".join(str(counts[c]) for c in controls)]
        for situation, controls in SITUATIONS
    ]
    lines = _table(["situation (from the plan)", "control", "planted records"], rows)
    lines += ["", "Every control of the plan, with the distinct situations planted for it:", ""]
    rows = []
    for control in CONTROL_IDS:
        texts: dict[str, int] = {}
        seen: set[tuple[str, str]] = set()
        for flag in plants.flags:
            if flag.control == control and (flag.kind, flag.id) not in seen:
                seen.add((flag.kind, flag.id))
                texts[flag.situation] = texts.get(flag.situation, 0) + 1
        shown = "; ".join(f"{t} (×{n})" if n > 1 else t for t, n in texts.items()) or "—"
        rows.append([control, f"`{CHECK_IDS[control]}`", counts[control], shown])
    return lines + _table(["control", "check", "flagged", "situations"], rows)


def _cleans(plants: Plants) -> list[str]:
    grouped: dict[str, list[str]] = {}
    for clean in plants.cleans:
        grouped.setdefault(clean.why, []).append(clean.control)
    rows = [[why, ", ".join(sorted(set(controls)))] for why, controls in grouped.items()]
    return _table(["clean counter-example", "must not be flagged by"], rows)


def samples_readme(summaries: list[Summary], small: dict[str, list[dict[str, Any]]]) -> bytes:
    q3 = next(s for s in summaries if s.name == "northwind-2026-q3")
    q2 = next(s for s in summaries if s.name == "northwind-2026-q2")
    h3, h2 = q3.headline, q2.headline
    assert q3.plants is not None
    lines = [
        "# Evidence samples",
        "",
        "Sample evidence bundles for exposure-reporter, all produced by one seeded, deterministic",
        "generator. **Do not edit the bundles by hand**: change the generator and regenerate.",
        "",
        "```",
        ".venv/bin/python evidence-samples/generate.py            # rewrite everything below",
        ".venv/bin/python evidence-samples/generate.py --out DIR  # write elsewhere (identical bytes)",
        "```",
        "",
        "The generator needs only the standard library, PyYAML, DuckDB (Parquet) and the project's",
        "pydantic models and importers; it uses no wall clock. Before writing, it evaluates every control",
        "with the reference reading in `oracle.py` and stops unless the records it would flag are exactly",
        "the planted ones (`expectations/*.yaml` is therefore exhaustive), and unless every reasonable",
        "reading of the plan agrees on every record (nothing sits on a due date, a window boundary or an",
        "ambiguous definition). `tests/samples/test_generator.py` re-checks all of it from the files.",
        "",
        "## Bundles",
        "",
        *_table(
            ["directory", "what it is"],
            [
                [
                    "`northwind-2026-q3/`",
                    "Northwind Logistics, 2026-07-01 … 2026-09-30: the realistic quarter with "
                    "every planted situation (expectations: `expectations/northwind-2026-q3.yaml`)",
                ],
                [
                    "`northwind-2026-q2/`",
                    "the previous quarter (2026-04-01 … 2026-06-30), same estate and identity ids, "
                    "worse verification: the trend baseline (same plants, canonical files only; expectations: "
                    "`expectations/northwind-2026-q2.yaml`)",
                ],
                ["`minimal/`", "a handful of clean records of every kind (expectations: every control empty)"],
                ["`incomplete/`", "`minimal/` without agents and secret exposures: the EVD-01 plant"],
                [
                    "`broken/<mode>/`",
                    "`minimal/` with exactly one defect each: validation must fail (exit 3); see "
                    "`broken/README.md` and `broken/expected-issues.yaml`",
                ],
                [
                    "`warnings/<mode>/`",
                    "`minimal/` with one warning-only defect: validation passes with a warning (exit 0)",
                ],
                ["`expectations/`", "per control: every record that must be flagged, and clean counter-examples"],
            ],
        ),
        "",
        "## Headline (what the report should show)",
        "",
        *_table(
            ["", "2026-Q2", "2026-Q3"],
            [[label, h2.get(key, ""), h3.get(key, "")] for key, label in HEADLINE_LABELS],
        ),
        "",
        "Deployment success is *activity* (E1); verified remediation (E2) counts finding-instances (asset ×",
        "vulnerability: two scanners reporting the same CVE on the same asset are one) with a successful",
        "deployment in the period that are verified not vulnerable by the end of it, as the engine's E2 does;",
        "`tests/assess/test_expectations.py` checks both figures against the engine's output.",
        "",
        "## Northwind 2026-Q3: files and formats",
        "",
        "Every kind of the model, several readers exercised: CSV, JSON Lines, JSON array, YAML list and",
        "Parquet, and four tool formats read through the importers (`kev-json`, `epss-csv`, `trivy-json`,",
        "`gitleaks-json`; `docs/importers.md`); observations, scans, findings, deployments and secret",
        "exposures each come from more than one file (ids are unique per kind across files).",
        "",
        *_sources(q3),
        "",
        *TOOL_FILES,
        "",
        "CSV conventions: header row; empty cell = absent (the field's default applies); list fields joined",
        "with `;`; booleans `true`/`false`; timestamps ISO-8601 with `Z` or an offset; dates `YYYY-MM-DD`;",
        "nested objects (exception compensating controls, agent tools) only in YAML/JSON. JSON, JSON Lines",
        "and YAML use native booleans, numbers and arrays (absent values are omitted); timestamps are ISO",
        "strings with a zone. Parquet columns are typed (`TIMESTAMP WITH TIME ZONE`, `BOOLEAN`, ...).",
        "",
        "Real CVE ids are used throughout; the six real CISA KEV entries planted as overdue keep their",
        "published KEV dates. KEV entries added during a quarter (`CVE-2026-2xxxx` in Q3) and other",
        "`CVE-2025-3xxxx`…`CVE-2026-5xxxx` ids are invented for the samples; any match with a real CVE is",
        "coincidental. `policy.yaml` keeps the defaults and adds four organisation SLA rules (critical on",
        "internet-facing 10 days; critical/high 30; medium 90; low 180), so due dates never depend on the",
        "default rule library: plants are overdue under those rules, clean findings are in time even under",
        "the strictest plausible defaults (BOD 26-04 table, KEV due dates, BOD 19-02, FedRAMP).",
        "",
        "## What is planted (2026-Q3)",
        "",
        "Everything else is clean for every control. A record may be flagged by several controls (an open",
        "KEV finding on an internet-facing asset is a PRI-01, PRI-02, PRI-03 and PRI-04 gap); the",
        "expectations list it under each.",
        "",
        *_planted(q3.plants),
        "",
        "EVD-01 cannot be planted in a bundle that must feed every other control, so `incomplete/` carries",
        "it (kinds `agents` and `secret_exposures` missing; `expectations/incomplete.yaml`).",
        "",
        "### Clean counter-examples (must NOT be flagged)",
        "",
        *_cleans(q3.plants),
        "",
        "## Expectations format",
        "",
        "`expectations/<bundle>.yaml` has, for every control id of the plan, `check` (the check id),",
        "`count` and `flagged`: the exhaustive list of records the control must flag, each with `kind`,",
        "`id` and `situation` (EVD controls use kind `sources` with the source path, or kind `kinds`).",
        "INV-01 entries add `asset_key` and `records` (the gap is per unknown key; `id` is its first",
        "observation); AGT-03 entries add `tool`; RLB-02 entries add `rollout_event`; NHI-14 and NHI-15",
        "entries add `identities`. `clean` lists counter-examples: `control`, `kind`, `id`, `why`; the",
        "control must not flag that record. `reading` states the conventions used. A record listed under",
        "several controls must be flagged by each of them; any other record flagged is a failure.",
        "",
        "`tests/samples/bundle_reader.py` is a small reference reader and validator of the conventions",
        "above: every valid bundle reads without an error, and each broken bundle yields exactly its",
        "expected issue.",
        "",
        "## Broken and warning bundles",
        "",
        *_table(
            ["bundle", "defect", "expected issue"],
            [
                [f"`{group}/{m['mode']}/`", m["defect"], _issue_text(m["issues"][0])]
                for group in ("broken", "warnings")
                for m in small[group]
            ],
        ),
        "",
        "## Generator layout",
        "",
        *_table(
            ["module", "owns"],
            [
                ["`generate.py`", "entry point: builds every bundle, cross-checks, writes files and READMEs"],
                ["`gen_core.py`", "period clock, ids, the bundle under construction, the Plant registry"],
                ["`gen_catalog.py`", "CVE / KEV / EPSS catalog"],
                ["`gen_world.py`", "the clean estate: inventory, coverage, finding → deployment → verification"],
                ["`gen_nhi.py`", "identities, agents, secret incidents, exceptions, change events, intel"],
                ["`gen_plants.py`", "one small function per planted situation and counter-example"],
                ["`gen_showcase.py`", "the Kestrel showcase quarter: the clean world, a few story plants, renamed"],
                ["`gen_small.py`", "minimal, incomplete, broken and warning bundles"],
                ["`gen_native.py`", "tool files (KEV, EPSS, Trivy, Gitleaks), read back through the importers"],
                ["`gen_expect.py`", "expectations YAML and the cross-check"],
                ["`gen_writers.py`", "format writers, manifest, policy"],
                ["`oracle.py`", "reference reading of the control plan used for the cross-check"],
                ["`gen_docs.py`", "these READMEs"],
            ],
        ),
        "",
    ]
    return "\n".join(lines).encode("utf-8")


TOOL_FILES = [
    "Tool files are written as the tools write them and listed with `format:` (no `kind:`: the",
    "importer decides) and, for files whose records belong to an inventory asset, `asset_id:`; each has",
    "its sha256 and `collected_at` like the canonical files. Their record ids are the importers' own",
    "(`trivy:` / `gitleaks:` + 16 hex digits of a hash of the natural key): the generator runs each",
    "importer on the exact bytes it writes, and reads every tool file again with its manifest entry once",
    "`bundle.yaml` is written, so the oracle and the expectations see exactly the records the engine",
    "loads. The KEV file is the CISA catalog JSON of the KEV entries the findings name (newest first,",
    "`count` equal to the entries, dates as published); the EPSS file is a FIRST daily file with its",
    "`#model_version:…,score_date:…` line. The two Trivy image reports (nightly CI, four days before",
    "the period end; `ArtifactName` is the image reference, the manifest's `asset_id` the image asset)",
    "add one authenticated scan and open findings on vulnerabilities no other record of the image names:",
    "not yet due under any rule, clean for every control. The Gitleaks report of the `infra-terraform`",
    "repository holds two leaks that are never revoked and that no identity is linked to (Gitleaks",
    "records none): NHI-02 and INV-07 gaps. Its `Secret` and `Match` fields hold obvious dummies",
    "(`dummy-not-a-secret-0001`), which the importer never reads. With the feeds hashed, the EVD-03",
    "plant is carried by two hand-kept exports listed without a sha256.",
]

HEADLINE_LABELS = [
    ("assets", "assets in the inventory"),
    ("findings", "findings"),
    ("deployments", "deployments"),
    ("e1", "deployments reported successful (E1, activity)"),
    ("e2", "finding-instances with a successful deployment verified fixed (E2, outcome)"),
    ("open_ch", "open critical/high findings at period end"),
    ("open_exposed", "… of them on internet-facing assets"),
    ("verifications", "verifications"),
    ("identities", "non-human identities"),
    ("exceptions", "exceptions"),
]


def _issue_text(issue: dict[str, Any]) -> str:
    where = [f"`{issue['file']}`"]
    if "line" in issue:
        where.append(f"line {issue['line']}")
    if "record" in issue:
        where.append(f"record {issue['record']}")
    if "field" in issue:
        where.append(f"field `{issue['field']}`")
    return f"`{issue['code']}` ({issue['severity']}) at " + ", ".join(where)


def broken_readme(catalogue: dict[str, list[dict[str, Any]]]) -> bytes:
    lines = [
        "# Broken and warning bundles",
        "",
        "Each directory is a copy of `../minimal/` with exactly one defect (the manifest's sha256 values are",
        "updated for edited files, except where the defect is the hash itself), so a validator must report",
        "exactly the issue below. `expected-issues.yaml` says the same for tests. Line numbers are 1-based",
        "physical lines (a CSV header is line 1); records are 1-based data records of the file.",
        "",
        "## Errors: `exposure-reporter validate` exits 3",
        "",
        *_table(
            ["mode", "defect", "code", "file", "line", "record", "field"],
            [
                [
                    f"`{m['mode']}`",
                    m["defect"],
                    f"`{i['code']}`",
                    f"`{i['file']}`",
                    i.get("line", ""),
                    i.get("record", ""),
                    f"`{i['field']}`" if "field" in i else "",
                ]
                for m in catalogue["broken"]
                for i in m["issues"]
            ],
        ),
        "",
        "## Warnings: under `../warnings/`, validation passes (exit 0) with one warning",
        "",
        *_table(
            ["mode", "defect", "code", "file"],
            [
                [f"`{m['mode']}`", m["defect"], f"`{i['code']}`", f"`{i['file']}`"]
                for m in catalogue["warnings"]
                for i in m["issues"]
            ],
        ),
        "",
        "The stale source is also an EVD-02 gap when the bundle is assessed.",
        "",
        "## Issue codes",
        "",
        *_table(
            ["code", "meaning"],
            [
                ["`manifest.invalid`", "bundle.yaml does not satisfy the Manifest model (missing or unknown key)"],
                ["`policy.invalid`", "policy.yaml does not satisfy the PolicyFile model"],
                ["`source.missing`", "a file listed in the manifest is absent"],
                ["`source.hash-mismatch`", "a file's sha256 differs from the manifest"],
                ["`source.unlisted`", "a file in the bundle is not listed in the manifest (warning)"],
                ["`source.stale`", "collected_at older than the freshness window before period end (warning)"],
                ["`record.missing-field`", "a required field is absent (pydantic `missing`)"],
                [
                    "`record.bad-type`",
                    "a value of the wrong type or unparseable (e.g. `bool_parsing`, `datetime_from_date_parsing`)",
                ],
                ["`record.bad-enum`", "a value outside a vocabulary (pydantic `enum`)"],
                ["`record.bad-format`", "a string not matching its pattern (pydantic `string_pattern_mismatch`)"],
                ["`record.unknown-field`", "a field or CSV column the kind does not have (pydantic `extra_forbidden`)"],
                ["`record.duplicate-id`", "an id used twice within a kind, across all its files"],
                ["`file.not-a-list`", "a JSON/YAML file whose top level is not a list of records"],
                ["`ref.unknown-asset`", "an asset_id that is not in the inventory"],
                ["`ref.unknown-finding`", "a finding_id that does not exist"],
                ["`time.naive`", "a timestamp without a zone (pydantic `timezone_aware`)"],
                ["`time.after-collection`", "an event timestamp later than its source's collected_at"],
                [
                    "`time.verification-before-deployment`",
                    "a verification observed before its deployment completed, beyond the clock skew",
                ],
            ],
        ),
        "",
    ]
    return "\n".join(lines).encode("utf-8")
