"""Property-based tests: whatever bytes, JSON, CSV or XML an importer is given, it yields valid
records or raises ImportFormatError, never anything else, and never hangs; the bracket scanner
agrees with a character-by-character one, and a credential in a URL never survives scrubbing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from importer_helpers import SAMPLES

from reporter.errors import ImportFormatError
from reporter.importers._common import bracket_delta, scrub_location
from reporter.importers.interface import ImportContext
from reporter.importers.registry import IMPORTERS
from reporter.importers.run import collect

FUZZ = settings(
    max_examples=200,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Field names of the formats, so that generated objects reach past the first type check.
KEYS = sorted(
    {
        "SchemaVersion",
        "ArtifactName",
        "CreatedAt",
        "Results",
        "Target",
        "Class",
        "Vulnerabilities",
        "VulnerabilityID",
        "PkgName",
        "PkgID",
        "InstalledVersion",
        "FixedVersion",
        "Severity",
        "CVSS",
        "V3Vector",
        "V3Score",
        "Secrets",
        "RuleID",
        "StartLine",
        "ExperimentalModifiedFindings",
        "Finding",
        "Status",
        "Type",
        "matches",
        "ignoredMatches",
        "vulnerability",
        "id",
        "artifact",
        "relatedVulnerabilities",
        "cvss",
        "epss",
        "knownExploited",
        "cve",
        "descriptor",
        "timestamp",
        "source",
        "target",
        "File",
        "Commit",
        "Date",
        "Fingerprint",
        "rule",
        "file",
        "SourceMetadata",
        "Data",
        "Git",
        "line",
        "DetectorName",
        "Verified",
        "Raw",
        "vulnerabilities",
        "count",
        "cveID",
        "dateAdded",
        "dueDate",
        "bomFormat",
        "metadata",
        "components",
        "bom-ref",
        "affects",
        "ref",
        "versions",
        "version",
        "ratings",
        "analysis",
        "state",
        "InstancePatchStates",
        "InstanceId",
        "Operation",
        "OperationEndTime",
        "FailedCount",
        "ComplianceItems",
        "ComplianceType",
        "ResourceId",
        "ExecutionSummary",
        "ExecutionTime",
    }
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "CVE-2024-0001",
            "2024-01-01T00:00:00Z",
            "CycloneDX",
            "Install",
            "Patch",
            "os-pkgs",
            "HIGH",
            "1704067200",
            "pkg:npm/a@1",
            "Git",
            "3.1",
        ]
    )
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=25,
)
CONTEXTS = st.builds(
    lambda asset, collected: ImportContext("fuzz", asset_id=asset, collected_at=collected),
    st.sampled_from([None, "asset-1"]),
    st.sampled_from([None, datetime(2026, 1, 5, tzinfo=UTC)]),
)
JSON_FORMATS = [f for f in sorted(IMPORTERS) if f not in ("epss-csv", "nessus-xml")]
SEEDS = {
    "trivy-json": "variant-image-nulls.json",
    "grype-json": "variant-ignored-related.json",
    "gitleaks-json": "variant-v7-legacy.json",
    "trufflehog-jsonl": "variant-array-wrapped.json",
    "kev-json": "variant-minimal-legacy.json",
    "cyclonedx-json": "variant-sbom-vdr-1.5.json",
    "aws-ssm-patch-states": "variant-install-pages.json",
    "aws-ssm-instance-patches": "variant-linux-pages.json",
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _outcome(format_name: str, path: Path, context: ImportContext) -> None:
    """Either records (validated by collect) or an ImportFormatError; anything else fails."""
    try:
        collect(IMPORTERS[format_name], path, context)
    except ImportFormatError as error:
        failure = error
    else:
        return
    assert failure.message


@pytest.mark.parametrize("format_name", sorted(IMPORTERS))
@settings(FUZZ, max_examples=100)  # shallow: most byte strings fail at the first check
@given(content=st.binary(max_size=600), context=CONTEXTS)
def test_arbitrary_bytes(workdir: Path, format_name: str, content: bytes, context: ImportContext) -> None:
    path = workdir / f"{format_name}.bytes"
    path.write_bytes(content)
    _outcome(format_name, path, context)


@pytest.mark.parametrize("format_name", JSON_FORMATS)
@FUZZ
@given(document=JSON_VALUES, context=CONTEXTS)
def test_arbitrary_json(workdir: Path, format_name: str, document: Any, context: ImportContext) -> None:
    path = workdir / f"{format_name}.json"
    path.write_text(json.dumps(document))
    _outcome(format_name, path, context)


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    children = (
        document.items() if isinstance(document, dict) else enumerate(document) if isinstance(document, list) else ()
    )
    for key, child in children:
        yield from _paths(child, (*prefix, key))


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[path[0]] = _replace(document[path[0]], path[1:], value)
    return copy


@pytest.mark.parametrize("format_name", sorted(SEEDS))
@FUZZ
@given(data=st.data(), context=CONTEXTS)
def test_mutated_samples(workdir: Path, format_name: str, data: st.DataObject, context: ImportContext) -> None:
    seed = json.loads((SAMPLES / format_name / SEEDS[format_name]).read_text())
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        where = data.draw(st.sampled_from(list(_paths(seed))))
        seed = _replace(seed, where, data.draw(JSON_VALUES))
    path = workdir / f"{format_name}.mutated.json"
    path.write_text(json.dumps(seed))
    _outcome(format_name, path, context)


@FUZZ
@given(
    lines=st.lists(
        st.text(max_size=60)
        | st.sampled_from(
            [
                "#model_version:v1,score_date:2026-01-02T00:00:00+0000",
                "cve,epss,percentile",
                "CVE-2024-0001,0.5,0.5",
                "CVE-2024-0002,1e-3,0.99",
                "CVE-2024-3,x,1",
            ]
        ),
        max_size=8,
    ),
    context=CONTEXTS,
)
def test_epss_lines(workdir: Path, lines: list[str], context: ImportContext) -> None:
    path = workdir / "epss.csv"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    _outcome("epss-csv", path, context)


@FUZZ
@given(
    lines=st.lists(
        st.text(max_size=40)
        | st.sampled_from(
            [
                "{",
                "}",
                "[",
                "]",
                '{"DetectorName": "X",',
                '"Raw": "QUJD"}',
                '{"SourceMetadata": null, "DetectorType": 2}',
            ]
        ),
        max_size=10,
    ),
    context=CONTEXTS,
)
def test_trufflehog_lines(workdir: Path, lines: list[str], context: ImportContext) -> None:
    path = workdir / "th.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    _outcome("trufflehog-jsonl", path, context)


NESSUS_TAGS = [
    "ReportHost",
    "ReportItem",
    "HostProperties",
    "tag",
    "cve",
    "cvss_vector",
    "cvss3_vector",
    "cvss_base_score",
    "plugin_output",
    "patch_publication_date",
    "exploit_available",
    "Report",
    "Policy",
]
NESSUS_ATTRS = st.dictionaries(
    st.sampled_from(["name", "severity", "pluginID", "port", "protocol"]),
    st.text(max_size=12) | st.sampled_from(["0", "3", "19506", "HOST_END", "Credentialed_Scan"]),
    max_size=4,
)
XML_TEXT = st.text(max_size=20) | st.sampled_from(
    ["CVE-2024-0001", "Thu Mar 20 01:07:03 2014", "CVSS2#AV:N/AC:L/Au:N/C:P/I:P/A:P", "true"]
)


def _xml(node: tuple[str, dict[str, str], str, list[Any]]) -> str:
    tag, attributes, text, children = node
    attrs = "".join(f" {k}={quoteattr(v)}" for k, v in attributes.items())
    return f"<{tag}{attrs}>{escape(text)}{''.join(_xml(c) for c in children)}</{tag}>"


XML_TREES = st.recursive(
    st.tuples(st.sampled_from(NESSUS_TAGS), NESSUS_ATTRS, XML_TEXT, st.just([])),
    lambda children: st.tuples(st.sampled_from(NESSUS_TAGS), NESSUS_ATTRS, XML_TEXT, st.lists(children, max_size=4)),
    max_leaves=25,
)


@FUZZ
@given(trees=st.lists(XML_TREES, max_size=3), context=CONTEXTS, broken=st.booleans())
def test_nessus_xml(workdir: Path, trees: list[Any], context: ImportContext, broken: bool) -> None:
    body = "".join(_xml(t) for t in trees)
    text = f"<?xml version='1.0'?><NessusClientData_v2>{body}</NessusClientData_v2>"
    if broken:
        text = text[: len(text) // 2]
    path = workdir / "fuzz.nessus"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _outcome("nessus-xml", path, context)


def _reference_brackets(text: str) -> tuple[int, int]:
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{]}":
            depth += 1 if char in "[{" else -1
            deepest = max(deepest, depth)
    return depth, deepest


@FUZZ
@given(text=st.text(alphabet='"\\[]{}a \n', max_size=200) | JSON_VALUES.map(json.dumps))
def test_bracket_scanner_agrees_with_reading_each_character(text: str) -> None:
    assert bracket_delta(text) == _reference_brackets(text)


MARK = "Zq9MARKq9Z"
SECRETS = st.text(alphabet="abcXYZ0129-._~+/=%:@!$&'()*,;?#", max_size=12).map(lambda t: f"{t}{MARK}{t[::-1]}")
HOSTS = st.sampled_from(["git.example", "h", "[::1]", "10.0.0.1", "git.example:8443", "GIT.Example"])
PATHS = st.text(alphabet="abc/._-~%", max_size=15)


@FUZZ
@given(
    scheme=st.sampled_from(["https", "http", "ssh", "git+https", "s3", "postgres", "HTTPS"]),
    user=st.sampled_from(["", "u", "x-access-token", "git"]),
    host=HOSTS,
    path=PATHS,
    secret=SECRETS,
    place=st.sampled_from(["password", "user", "query", "fragment", "query-key", "scp"]),
)
def test_a_credential_never_survives_in_a_url(
    scheme: str, user: str, host: str, path: str, secret: str, place: str
) -> None:
    url = {
        "password": f"{scheme}://{user}:{secret}@{host}/{path}",
        "user": f"{scheme}://{secret}@{host}/{path}",
        "query": f"{scheme}://{host}/{path}?access_token={secret}",
        "fragment": f"{scheme}://{host}/{path}#{secret}",
        "query-key": f"{scheme}://{host}/{path}?{secret}",
        "scp": f"{user or 'git'}:{secret}@{host}:{path}",
    }[place]
    assert MARK not in scrub_location(url)
