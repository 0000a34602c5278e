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
        "policy.hash-mismatch",
        "error",
        "The policy file's SHA-256 differs from `policy_sha256` in `bundle.yaml`: it changed after the manifest "
        "was written.",
        "Restore the policy, or update `policy_sha256` if the change is legitimate.",
    ),
    Code(
        "policy.no-hash",
        "warning",
        "`bundle.yaml` names a policy file but gives no `policy_sha256`, so nothing shows whether the SLAs and "
        "limits were changed after the manifest was written.",
        "Add `policy_sha256` (e.g. `sha256sum policy.yaml`).",
    ),
    Code(
        "responses.invalid",
        "error",
        "The management responses file (`management_responses` in `bundle.yaml`) is missing or not valid: not "
        "YAML, an unknown key, a wrong type, an implausible target date, an unknown control id or a control "
        "answered twice. The field path and line are given.",
        "Fix the named entry (docs/bundle-format.md, management responses).",
    ),
    Code(
        "responses.hash-mismatch",
        "error",
        "The management responses file's SHA-256 differs from `management_responses_sha256` in `bundle.yaml`: "
        "owners or target dates changed after the manifest was written.",
        "Restore the file, or update `management_responses_sha256` if the change is legitimate.",
    ),
    Code(
        "responses.no-hash",
        "warning",
        "`bundle.yaml` names a management responses file but gives no `management_responses_sha256`, so nothing "
        "shows whether owners and target dates were changed after the manifest was written.",
        "Add `management_responses_sha256` (e.g. `sha256sum management-responses.yaml`).",
    ),
    Code(
        "seal.invalid",
        "error",
        "`bundle.seal.json` is not a DSSE envelope of an in-toto Statement sealing `bundle.yaml`, or its signature "
        "does not verify with the key `prepared_by.public_key` names: the seal, or the key in `bundle.yaml`, was "
        "changed after sealing, or another key signed it.",
        "Ask the preparer for the original bundle, or to seal it again (`exposure-reporter seal`).",
    ),
    Code(
        "seal.mismatch",
        "error",
        "The seal verifies, but `bundle.yaml` is not the file it sealed (SHA-256 differs): the manifest was edited "
        "after sealing — for instance a source changed and its hash rewritten.",
        "Use the bundle as sealed; a legitimate change needs a new seal by the preparer.",
    ),
    Code(
        "seal.missing",
        "error",
        "`bundle.yaml` names a public key for its preparer, or `--seal-key` was given, but the bundle has no "
        "`bundle.seal.json`.",
        "Seal the bundle (`exposure-reporter seal BUNDLE --key KEY`), or find the sealed original.",
    ),
    Code(
        "seal.no-key",
        "error",
        "The bundle has a `bundle.seal.json` but `bundle.yaml` names no `prepared_by.public_key` to check it with.",
        "Restore `prepared_by.public_key`; a seal without its key proves nothing.",
    ),
    Code(
        "seal.incomplete",
        "error",
        "The bundle is sealed but `bundle.yaml` gives no SHA-256 for a listed file (or no `policy_sha256`), so the "
        "seal does not cover that file.",
        "Add the missing hashes and seal again.",
    ),
    Code(
        "seal.untrusted",
        "error",
        "The seal verifies with the key `bundle.yaml` names, but that key is none of the keys given with "
        "`--seal-key`: someone other than the expected preparer sealed it.",
        "Check who sealed the bundle (the key id is in the message), or pass the preparer's public key.",
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
    Code(
        "file.bad-encoding",
        "error",
        "The file is not valid UTF-8 (invalid bytes, an overlong encoding, an encoded surrogate), or is UTF-16 or "
        "UTF-32 (a byte-order mark says so). The message gives the line and byte offset.",
        "Re-encode the file as UTF-8 (a UTF-8 byte-order mark is allowed), e.g. `iconv -f UTF-16 -t UTF-8`.",
    ),
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
        "file.json-limit",
        "error",
        "A JSON value (a JSON or JSON Lines record, a JSON cell of a CSV file, an imported record) nests arrays "
        "and objects deeper than 64 levels.",
        "Flatten the value; no record kind needs that depth.",
    ),
    Code(
        "file.duplicate-key",
        "error",
        "A YAML mapping or JSON object gives the same key twice (in `bundle.yaml`, the policy or evidence). "
        "YAML would keep the last value and JSON readers the first, silently.",
        "Remove one of the two; the message names the key and its line.",
    ),
    Code(
        "file.parquet-limit",
        "error",
        "A Parquet file declares more rows than its size could plausibly hold (4 per byte, plus 10,000), more "
        "than 1,000 columns, or pages that expand more than 200 times: a decompression bomb.",
        "Export the evidence again; large evidence is fine, run-length bombs are not.",
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
        "import.warning",
        "warning",
        "A native tool file was read, but its records prove less than they seem to: e.g. a Trivy "
        "report that scanned no packages (no OS detected, no results, a legacy `null`) gives a scan "
        "that proves no finding absent. `exposure-reporter import` prints the same warning.",
        "Check how the tool was run (docs/importers.md); rescan with the whole artifact in scope.",
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
        "A record refers to an asset that is not in the inventory: the value is neither an asset id nor "
        "(case-insensitively) the name or an alias of exactly one asset, nor a key a discovery source "
        "mapped to one.",
        "Add the asset, or list the tool's name for it (host name, IP, instance id, image) in its `aliases`.",
    ),
    Code(
        "ref.ambiguous-asset",
        "error",
        "A tool names an asset by a key (host name, IP, instance id, image) that is the name or alias of "
        "several inventory assets, so its records cannot be attributed.",
        "Keep the key as the name or alias of one asset only.",
    ),
    Code(
        "ref.unknown-scan",
        "error",
        "A finding names a scan (`scan_id`) that is not in the bundle.",
        "Add the scan record, or fix the reference.",
    ),
    Code(
        "scan.conflicting-results",
        "warning",
        "Two scans of an asset completed at the same instant disagree: one reports a vulnerability, the "
        "other covers the component and does not. The assessment keeps the vulnerable result.",
        "Check the scanners' coverage and databases; rescan.",
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
        "A verification or deployment is on a different asset than the finding it names, or a finding "
        "is on a different asset than the scan that reported it.",
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
        "A deployment names no finding, vulnerability or patch (`patch_id`), or a verification names "
        "no finding, vulnerability or deployment: it cannot be linked to the exposure it addresses.",
        "Add `finding_ids`/`vuln_ids`, or a `patch_id` (KB number, `name=version`, image digest).",
    ),
    Code("time.naive", "error", "A timestamp has no time zone.", "Add `Z` or an offset such as `+02:00`."),
    Code(
        "time.implausible",
        "error",
        "A date or timestamp lies outside 1970-01-01 to 2100-12-31, or has a UTC offset beyond ±14:00 (year 0, "
        "9999-12-31, +99:00): it would give nonsense deadlines.",
        "Fix the value; an unknown time is left empty, not set to a sentinel date.",
    ),
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
        "  and `message`. At most 20 issues are listed per file, code and field (and per record kind, for a",
        "  tool's file that yields several), the first by record; a summary issue with `more` counts the rest.",
        "- `--format sarif` prints SARIF 2.1.0 for code scanning (GitHub, GitLab, IDEs): one rule per code",
        "  below (its meaning and what to do), one result per issue with its level, file and line (record and",
        "  field where a format has no lines), and each evidence file as an artifact with its SHA-256. File",
        "  paths are relative to the working directory, so run it from the repository root (docs/ci.md).",
        "- `--seal-key PUB` (repeatable) requires the bundle to be sealed by one of these preparer keys.",
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
