"""SARIF 2.1.0 for `validate --format sarif`, as code scanning (GitHub, GitLab, IDEs) reads it: one
rule per issue code (its meaning and what to do, from docs/validation.md), one result per issue with its
level, file and line — or record and field where a format has no lines — and every evidence file as an
artifact with its SHA-256. Pure: the caller passes where the bundle lies relative to the repository."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote

from reporter import __version__
from reporter.bundle.interface import ValidationReport
from reporter.issue_codes import CODES, Code
from reporter.models.issues import Issue

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT = "exposureReporterIssue/v1"

Json = dict[str, Any]


def sarif(report: ValidationReport, base: str, *, archive: bool = False) -> Json:
    """The SARIF log of one validation. `base` locates the bundle: its path relative to the repository
    root ('' for the root itself) or a file: URI; `archive` when the bundle is a .zip or .tar file
    (results then point at the archive and name the member)."""
    rules = _rules(report)
    index = {rule["id"]: n for n, rule in enumerate(rules)}
    locator = _Locator(base, archive)
    run: Json = {
        "tool": {
            "driver": {
                "name": "exposure-reporter",
                "semanticVersion": __version__,
                "version": __version__,
                "rules": rules,
            }
        },
        "automationDetails": {"id": "exposure-reporter/validate/"},
        "invocations": [{"executionSuccessful": True, "exitCode": 0 if report.valid else 3}],
        "artifacts": [locator.artifact(f.path, f.sha256) for f in report.files],
        "results": [_result(issue, index[issue.code], locator) for issue in report.issues],
        "properties": {
            "bundle": report.bundle,
            "valid": report.valid,
            "errors": report.errors,
            "warnings": report.warnings,
            "records": report.records,
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _rules(report: ValidationReport) -> list[Json]:
    known = [_rule(code) for code in CODES]
    documented = {c.code for c in CODES}
    extra = sorted({i.code for i in report.issues} - documented)
    return known + [_rule(Code(code, "error", f"Issue {code}.", "See the message.")) for code in extra]


def _name(code: str) -> str:
    """'source.hash-mismatch' → 'SourceHashMismatch' (a rule's readable name)."""
    return "".join(part.capitalize() for part in re.split(r"[.\-_]", code) if part)


def _level(severity: str) -> str:
    return "warning" if severity.startswith("warning") else "error"


def _rule(code: Code) -> Json:
    first = code.meaning.split(". ")[0].rstrip(".") + "."
    return {
        "id": code.code,
        "name": _name(code.code),
        "shortDescription": {"text": first},
        "fullDescription": {"text": code.meaning},
        "help": {
            "text": f"{code.meaning} What to do: {code.fix}",
            "markdown": f"{code.meaning}\n\n**What to do:** {code.fix}\n\n(docs/validation.md, `{code.code}`)",
        },
        "defaultConfiguration": {"level": _level(code.severity)},
        "properties": {"tags": ["evidence", code.code.split(".")[0]]},
    }


class _Locator:
    """Artifact locations of bundle files, relative to where the SARIF consumer resolves them."""

    def __init__(self, base: str, archive: bool) -> None:
        self.base, self.archive = base, archive

    def uri(self, path: str | None) -> str:
        if self.archive or not path:
            return self.base or "."
        encoded = quote(path, safe="/")
        if not self.base:
            return encoded
        return f"{self.base.rstrip('/')}/{encoded}"

    def artifact(self, path: str, sha256: str | None) -> Json:
        item: Json = {"location": {"uri": self.uri(path)}}
        if sha256:
            item["hashes"] = {"sha-256": sha256}
        if self.archive:
            item["properties"] = {"member": path}
        return item

    def location(self, issue: Issue) -> Json:
        physical: Json = {"artifactLocation": {"uri": self.uri(issue.file)}}
        if issue.line is not None and issue.line >= 1 and not self.archive:
            physical["region"] = {"startLine": issue.line}
        return {"physicalLocation": physical}


def _result(issue: Issue, rule_index: int, locator: _Locator) -> Json:
    where = []
    if issue.line is None and issue.record is not None:
        where.append(f"record {issue.record}")
    if locator.archive and issue.file:
        where.insert(0, issue.file + (f":{issue.line}" if issue.line else ""))
    if issue.field:
        where.append(f"field {issue.field}")
    text = issue.message + (f" ({', '.join(where)})" if where else "")
    if issue.more:
        text += f" (+{issue.more:,} more like this)"
    properties = {k: v for k, v in (("record", issue.record), ("field", issue.field), ("more", issue.more)) if v}
    if locator.archive and issue.file:
        properties["member"] = issue.file
    result: Json = {
        "ruleId": issue.code,
        "ruleIndex": rule_index,
        "level": issue.severity.value,
        "message": {"text": text},
        "locations": [locator.location(issue)],
        "partialFingerprints": {FINGERPRINT: _fingerprint(issue)},
    }
    if properties:
        result["properties"] = properties
    return result


def _fingerprint(issue: Issue) -> str:
    """Stable across runs for the same problem at the same place (code scanning tracks alerts by it)."""
    key = "\x1f".join(str(v) for v in (issue.code, issue.file, issue.line, issue.record, issue.field, issue.message))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
