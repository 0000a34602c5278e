"""Every validation issue code: what it means and what to do. docs/validation.md is generated from
this table, and a test checks that every code the source emits is listed here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """One permanent issue code."""

    code: str
    severity: str  # error (bundle invalid, exit 3) or warning
    meaning: str
    fix: str


CODES: tuple[Code, ...] = (
    Code(
        "bundle.unsafe",
        "error",
        "The archive or directory cannot be opened safely: a member escapes the bundle "
        "(absolute path, `..`), is a link or device, is duplicated, or the archive exceeds a size, count or "
        "compression-ratio limit.",
        "Rebuild the archive from a plain directory of regular files.",
    ),
    Code(
        "usage.error",
        "error (exit 2)",
        "The path is not a bundle (no `bundle.yaml` at its top) or does not exist.",
        "Point the command at the bundle directory, `.zip` or `.tar.gz`.",
    ),
    Code(
        "manifest.invalid",
        "error",
        "`bundle.yaml` is not valid: a missing or unknown key, a wrong type, a source "
        "without a `kind`, an unknown kind or format. The field path and line are given.",
        "Fix the named key.",
    ),
    Code(
        "policy.invalid",
        "error",
        "`policy.yaml` is not valid (unknown key, wrong type, unknown SLA rule id, an "
        "inventory required field that assets do not have).",
        "Fix the named key (docs/policy.md).",
    ),
    Code(
        "source.missing",
        "error",
        "A file listed in `bundle.yaml` is not in the bundle.",
        "Add the file or remove the entry.",
    ),
    Code(
        "source.hash-mismatch",
        "error",
        "The file's SHA-256 differs from `bundle.yaml`: it changed after the manifest was written.",
        "Re-export the evidence or update the manifest if the change is legitimate.",
    ),
    Code(
        "source.no-hash",
        "warning",
        "`bundle.yaml` gives no `sha256` for the file, so its integrity cannot be checked (EVD-03 reports it).",
        "Add `sha256` (e.g. `sha256sum FILE`).",
    ),
    Code(
        "source.unlisted",
        "warning",
        "A file is in the bundle but not in `bundle.yaml`; it was not read.",
        "List it as a source, or remove it.",
    ),
    Code(
        "source.stale",
        "warning",
        "`collected_at` is more than the freshness limit (14 days by default) before the "
        "period end (EVD-02 reports it).",
        "Export fresh evidence, or set `freshness` in the policy.",
    ),
    Code(
        "source.late",
        "warning",
        "`collected_at` is long after the period end; records after the period end are ignored.",
        "Check that the export belongs to this period.",
    ),
    Code(
        "file.unreadable",
        "error",
        "The file could not be read (removed while reading, permissions).",
        "Check the file.",
    ),
    Code("file.nul-byte", "error", "A text evidence file contains a NUL byte.", "Export the evidence as UTF-8 text."),
    Code("file.bad-encoding", "error", "The file is not valid UTF-8.", "Re-encode the file as UTF-8."),
    Code(
        "file.line-too-long",
        "error",
        "A line is longer than the limit (16 MiB; `--max-line-mib`).",
        "Pretty-print the JSON, use JSON Lines, or raise the limit.",
    ),
    Code(
        "file.too-large",
        "error",
        "A YAML file is larger than 64 MiB.",
        "Use JSON Lines, CSV or Parquet for large evidence.",
    ),
    Code(
        "file.yaml-limit",
        "error",
        "A YAML document uses too many aliases, expands exponentially (billion laughs) or nests too deeply.",
        "Write the document without anchors and aliases.",
    ),
    Code(
        "file.bad-yaml", "error", "The YAML does not parse, or uses a tag outside the safe set.", "Fix the named line."
    ),
    Code(
        "file.bad-syntax",
        "error",
        "A CSV header is missing or malformed, or a row has the wrong number of fields.",
        "Fix the named line (RFC 4180: comma, double quotes, UTF-8).",
    ),
    Code("file.duplicate-column", "error", "A CSV header names a column twice.", "Remove the duplicate column."),
    Code(
        "file.not-a-list",
        "error",
        "A JSON or YAML file does not hold a list of records.",
        "Wrap the records in a list.",
    ),
    Code(
        "file.bad-tool-format",
        "error",
        "A native tool file (trivy, gitleaks…) cannot be read as its declared format.",
        "Check `format:` in the manifest, and the tool version (docs/importers.md).",
    ),
    Code(
        "record.missing-field",
        "error",
        "A required field is missing or empty.",
        "Fill the field (docs/bundle-format.md).",
    ),
    Code(
        "record.bad-type",
        "error",
        "A value has the wrong type: not a number, boolean, date or timestamp, or a JSON value of the wrong JSON type.",
        "Fix the value.",
    ),
    Code(
        "record.bad-enum",
        "error",
        "A value is not one of the allowed values (listed in the message).",
        "Use one of them.",
    ),
    Code(
        "record.bad-format",
        "error",
        "A value does not have the required form (identifier, CVE/GHSA id, CVSS vector).",
        "Fix the value.",
    ),
    Code(
        "record.out-of-range", "error", "A number is outside its allowed range (e.g. EPSS in [0, 1]).", "Fix the value."
    ),
    Code(
        "record.unknown-field",
        "error",
        "A field or CSV column the kind does not define: a typo is never silently ignored.",
        "Rename or remove it (`exposure-reporter schema KIND`).",
    ),
    Code("record.invalid-json", "error", "A JSON Lines line or JSON cell is not valid JSON.", "Fix the named line."),
    Code("record.not-an-object", "error", "A record is not a JSON object / YAML mapping.", "Fix the named record."),
    Code(
        "record.duplicate-id",
        "error",
        "An id is used twice within a kind (across all files of the bundle); the message names the first occurrence.",
        "Make ids unique.",
    ),
    Code("record.invalid", "error", "A record fails a rule not covered by a more specific code.", "Read the message."),
    Code(
        "ref.unknown-asset",
        "error",
        "A record refers to an asset that is not in the inventory.",
        "Add the asset, or fix the reference (importers: list the tool's name as an alias).",
    ),
    Code(
        "ref.unknown-finding",
        "error",
        "A deployment, verification, rollout event or exception names a finding that does not exist.",
        "Fix the reference.",
    ),
    Code(
        "ref.unknown-deployment",
        "error",
        "A verification or rollout event names a deployment that does not exist.",
        "Fix the reference.",
    ),
    Code(
        "ref.unknown-identity",
        "error",
        "An agent, secret exposure or exception names an identity that does not exist.",
        "Add it to the NHI inventory, or fix the reference.",
    ),
    Code(
        "ref.unknown-control",
        "error",
        "An exception names a compensating control that is not in `compensating_controls`.",
        "Add the control, or fix the reference.",
    ),
    Code(
        "ref.asset-mismatch",
        "error",
        "A verification or deployment is on a different asset than the finding it names.",
        "Fix the asset or the finding.",
    ),
    Code(
        "ref.scope-matches-nothing",
        "warning",
        "An exception's scope matches no finding, asset or identity (EXC-05 reports it).",
        "Fix or withdraw the exception.",
    ),
    Code(
        "ref.unknown-control-id",
        "warning",
        "An exception names a control id that is not in the control library "
        "(with any `--mappings` pack); it covers nothing.",
        "Fix the id (`exposure-reporter mappings list`).",
    ),
    Code(
        "ref.no-target",
        "warning",
        "A deployment names no finding or vulnerability, or a verification names none and "
        "no deployment: it cannot be linked to the exposure it addresses.",
        "Add `finding_ids`/`vuln_ids`.",
    ),
    Code("time.naive", "error", "A timestamp has no time zone.", "Add `Z` or an offset such as `+02:00`."),
    Code(
        "time.after-collection",
        "error",
        "A timestamp is later than its file's `collected_at`: impossible evidence.",
        "Fix the timestamp or `collected_at`.",
    ),
    Code(
        "time.after-period",
        "warning",
        "A timestamp is after the period end (but before collection); the assessment "
        "ignores the record's later events.",
        "None needed; check the export window.",
    ),
    Code(
        "time.out-of-order",
        "error",
        "Within a record, a later event precedes an earlier one (completed before "
        "started, closed before detected, expiry before approval, detection before exposure).",
        "Fix the timestamps.",
    ),
    Code(
        "time.verification-before-deployment",
        "error",
        "A verification is earlier than its deployment by more than the clock-skew tolerance (15 minutes by default).",
        "Fix the times, the link, or `verification.clock_skew_minutes`.",
    ),
)

BY_CODE = {c.code: c for c in CODES}


def validation_doc() -> str:
    """docs/validation.md"""
    lines = [
        "# Validation",
        "",
        "<!-- Generated by `python -m reporter.docsgen` from reporter/issue_codes.py. -->",
        "",
        "`exposure-reporter validate BUNDLE` opens the bundle safely, checks every file against its hash, reads",
        "every record into the evidence store, validates it, and checks the cross-file rules. It exits **0** when",
        "the bundle is valid (warnings allowed), **3** when it is invalid, **2** when the path is not a bundle.",
        "`assess` and `report` validate first and refuse an invalid bundle with exit 3.",
        "",
        "- `--format text` (default) groups issues by file, with a summary line; `--quiet` prints errors and",
        "  the summary only. A progress bar appears on a terminal only.",
        "- `--format json` prints a report (`exposure-reporter schema validation`): `valid`, counts, each file",
        "  with its kinds, records and SHA-256, and each issue with `code`, `severity`, `file`, `line`,",
        "  `record` (1-based within the file), `field` (a path such as `compensating_controls[0].verified_at`)",
        "  and `message`. At most 20 issues are listed per file, code and field; a summary issue with `more`",
        "  counts the rest.",
        "- `--db PATH` keeps the evidence store as a DuckDB file (docs/evidence-store.md).",
        "",
        "One run reports every problem it can: a broken file does not stop the others. Only an unsafe archive",
        "stops the run at once (`bundle.unsafe`).",
        "",
        "| code | severity | meaning | what to do |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{c.code}` | {c.severity} | {c.meaning} | {c.fix} |" for c in CODES]
    return "\n".join(lines) + "\n"
