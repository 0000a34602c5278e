"""The optional management responses file (owner, target date and response per remediation-plan
item): read safely, its hash checked like the policy's, every problem an issue with file and line."""

from __future__ import annotations

import hashlib

from pydantic import ValidationError

from reporter.bundle.interface import LoadedBundle
from reporter.bundle.limits import Limits
from reporter.bundle.safeyaml import YamlDocument
from reporter.bundle.sources import read_document
from reporter.models.issues import Issue, IssueSeverity
from reporter.models.manifest import ManagementResponse, Manifest, ResponsesFile
from reporter.store.messages import pydantic_issues

INVALID = "responses.invalid"


def read_responses(loaded: LoadedBundle, limits: Limits, control_ids: frozenset[str] = frozenset()) -> None:
    """Read the file bundle.yaml names as `management_responses` into `loaded.responses`; on any
    error the responses stay empty and the issues make the bundle invalid (exit 3)."""
    manifest = loaded.manifest
    if manifest is None or manifest.management_responses is None:
        return
    rel = manifest.management_responses
    if rel not in loaded.opened.files:
        loaded.issues.append(_error(rel, "management responses file named in bundle.yaml is missing"))
        return
    read = read_document(loaded, rel, limits)
    if read is None:
        return
    raw, document = read
    loaded.issues.extend(_hash_issues(manifest, rel, hashlib.sha256(raw).hexdigest()))
    if not isinstance(document.data, dict):
        loaded.issues.append(_error(rel, "must be a mapping with responses_version and responses", line=1))
        return
    try:
        parsed = ResponsesFile.model_validate(document.data)
    except ValidationError as exc:
        loaded.issues.extend(pydantic_issues(exc, rel, None, document.line_of, prefix="responses"))
        return
    problems = _item_problems(parsed.responses, rel, document, control_ids)
    loaded.issues.extend(problems)
    if not problems:
        loaded.responses = list(parsed.responses)


def _hash_issues(manifest: Manifest, rel: str, actual: str) -> list[Issue]:
    # Owners and target dates go on the signed-off plan: the file is protected like the policy.
    expected = manifest.management_responses_sha256
    if expected is None:
        message = "bundle.yaml gives no management_responses_sha256; the file's integrity cannot be checked"
        return [Issue(code="responses.no-hash", severity=IssueSeverity.WARNING, message=message, file=rel)]
    if expected != actual:
        message = f"sha256 is {actual}, bundle.yaml says {expected}: the file changed after the manifest was written"
        return [Issue(code="responses.hash-mismatch", severity=IssueSeverity.ERROR, message=message, file=rel)]
    return []


def _item_problems(
    responses: list[ManagementResponse], rel: str, document: YamlDocument, control_ids: frozenset[str]
) -> list[Issue]:
    """A control answered twice, or a control the library does not have, at the line of its id."""
    issues: list[Issue] = []
    first: dict[str, int] = {}
    for i, item in enumerate(responses):
        line = document.line_of(("responses", i, "control"))
        where = f"responses[{i}].control"
        if item.control in first:
            message = f"control {item.control} has a response already (item {first[item.control] + 1}); keep one"
            issues.append(_error(rel, message, line=line, field=where))
        elif control_ids and item.control not in control_ids:
            issues.append(_error(rel, f"unknown control id '{item.control}'", line=line, field=where))
        first.setdefault(item.control, i)
    return issues


def _error(rel: str, message: str, *, line: int | None = None, field: str | None = None) -> Issue:
    return Issue(code=INVALID, severity=IssueSeverity.ERROR, message=message, file=rel, line=line, field=field)
