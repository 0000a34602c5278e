"""Generate a large, valid evidence bundle for the benchmarks, fast (DuckDB writes the files).

    python benchmarks/generate.py --findings 1000000 --out benchmarks/data/bundle-v2-1000000-csv

Every record kind is written, in proportions taken from the sample quarter, so that every control
and metric is evaluated at scale (issue 13). Per N findings:

- assets, N / 10: eleven asset types (servers, endpoints, container images and the runtimes that
  run them, SaaS…); owners missing, internet-facing, ephemeral, retired.
- scans, N / 5: two per asset (first and second half of the quarter); Nessus, or Trivy with scope
  keys for images; unauthenticated and partial scans.
- observations, N / 10 + N / 500: by host name and by IP alias; keys no inventory asset has.
- findings, N + N / 40: ~25,000 CVEs; a second scanner on 2 % of instances; image findings are
  Trivy sightings (scan series, a second sighting for a quarter).
- deployments, N / 2: named by finding, by vulnerability, or only by patch id (package version, KB,
  image digest); failed, partial, pending reboot.
- verifications, N / 2.5: vulnerable, late and missing verifications.
- exceptions and compensating_controls, N / 1000 and N / 4000: every scope kind; mitigations with
  inline and referenced controls; incomplete, expired, too long.
- rollout_events, N / 1000: rollbacks, failed rollouts, emergency changes, retirements.
- identities, secret_exposures, agents, N / 50, N / 1000, N / 10000: every identity type; leaks,
  rotation, reuse, environments.
- kev_entries and epss_scores, ~1,250 and ~25,000: the CVE catalog of the findings.

Values are seeded and deterministic; the bundle validates (no error).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import duckdb
import yaml

GENERATOR_VERSION = 2  # part of the cache directory name: a new version writes new bundles
PERIOD_START = "2026-07-01"
COLLECTED = "2026-10-01T00:00:00Z"
CVES = 25_000  # distinct vulnerabilities across the estate
ASSET = "'a-' || lpad(({0})::VARCHAR, 7, '0')"
CVE = "'CVE-2025-' || lpad((10000 + ({0}))::VARCHAR, 5, '0')"
# A moment in the quarter: minutes after the period start (0..131,040 stay inside it).
TS = "strftime(TIMESTAMPTZ '2026-07-01 00:00:00+00' + to_minutes(({0})::BIGINT), '%Y-%m-%dT%H:%M:%SZ')"
# A moment before the quarter: days before the period start.
BEFORE = "strftime(TIMESTAMPTZ '2026-07-01 00:00:00+00' - to_days(({0})::BIGINT), '%Y-%m-%dT%H:%M:%SZ')"
HALF = 60_000  # the second scan of an asset is this many minutes after its first
# Asset type by position in a cycle of 20: the proportions of the sample quarter.
TYPES = (
    ["server"] * 8
    + ["endpoint"] * 4
    + ["cloud_workload"] * 2
    + ["container_image"] * 2
    + ["container_runtime"] * 2
    + ["network_device", "saas"]
)
IMAGE_SLOTS = (14, 15)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _core(con: duckdb.DuckDBPyConnection, findings: int, assets: int) -> None:
    """One row per finding instance: its asset, vulnerability, base minute and whether it is a Trivy
    sighting of an image (scan series). Deployments and verifications derive from it."""
    types = "[" + ", ".join(f"'{t}'" for t in TYPES) + "]"
    con.execute(f"CREATE TEMP TABLE types AS SELECT {types} AS t")
    con.execute(
        f"""CREATE TEMP TABLE core AS
        SELECT i, a, v, (a % 20) IN {IMAGE_SLOTS} AS image, t[1 + a % 20] AS asset_type,
            -- image findings are first seen by the asset's first scan; the others spread over the quarter
            CASE WHEN (a % 20) IN {IMAGE_SLOTS} THEN (a * 37) % {HALF} ELSE (i * 7) % 120000 END AS base,
            i % 50 = 49 AND (a % 20) NOT IN {IMAGE_SLOTS} AS second_scanner
        FROM (SELECT i, CASE WHEN i % 50 = 49 THEN i - 1 ELSE i END AS j FROM range({findings}) r(i)) x,
            LATERAL (SELECT j % {assets} AS a, ((j // {assets}) * 7919 + (j % {assets}) * 13) % {CVES} AS v) y,
            types"""
    )


def _queries(findings: int, assets: int) -> dict[str, str]:
    half = max(findings // 2, 1)
    identities = max(findings // 50, 20)
    exposures = max(findings // 1000, 10)
    agents = max(findings // 10000, 5)
    exceptions = max(findings // 1000, 10)
    controls = max(exceptions // 4, 3)
    events = max(findings // 1000, 10)
    types = "(SELECT t FROM types)"
    queries = {
        "assets": f"""SELECT {ASSET.format("i")} AS id,
            CASE WHEN i % 20 IN {IMAGE_SLOTS} THEN 'registry.example/app-' || i || ':1.' || (i % 9)
                 ELSE 'host-' || i || '.example' END AS name,
            {types}[1 + i % 20] AS type,
            ['production', 'production', 'staging', 'development'][1 + i % 4] AS environment,
            CASE WHEN i % 97 <> 0 THEN 'team-' || (i % 50) END AS owner,
            CASE WHEN i % 89 <> 0 THEN ['low','moderate','high'][1 + i % 3] END AS criticality,
            (i % 20 = 0 OR i % 20 = 19) AS internet_facing, (i % 20 IN (16, 17)) AS ephemeral,
            CASE WHEN i % 20 = 19 THEN 'vendor' WHEN i % 41 = 0 THEN 'third_party' ELSE 'internal' END AS managed_by,
            CASE WHEN i % 211 = 5 THEN 'retired' WHEN i % 53 = 0 THEN 'legacy' ELSE 'active' END AS lifecycle,
            CASE WHEN i % 211 = 5 THEN {TS.format("100000 + i % 20000")} END AS retired_at,
            {BEFORE.format("30 + i % 600")} AS first_seen_at,
            'grp-' || (i % 20) AS maintenance_group,
            CASE WHEN i % 61 = 0 THEN NULL ELSE i % 7 <> 0 END AS patch_automation,
            -- a running container names the image before it in the cycle
            CASE WHEN i % 20 IN (16, 17) THEN {ASSET.format("i - 2")} END AS parent_image_id,
            CASE WHEN i % 10 = 0 THEN 'pci' WHEN i % 10 = 1 THEN 'fedramp' END AS compliance_scopes,
            CASE WHEN i % 4 = 0 THEN '10.' || (i // 65536 % 256) || '.' || (i // 256 % 256) || '.' || (i % 256) END
                AS aliases,
            ['web;app', 'db', 'legacy-fax', 'batch;app', 'edge'][1 + i % 5] AS tags
            FROM range({assets}) t(i)""",
        "scans": f"""SELECT 's-' || i || '-' || k AS id, {ASSET.format("i")} AS asset_id,
            CASE WHEN i % 20 IN {IMAGE_SLOTS} THEN 'trivy' ELSE 'nessus' END AS tool,
            (i % 20 IN {IMAGE_SLOTS} OR i % 4 <> 0) AS authenticated,
            CASE WHEN k = 1 AND (i % 20 = 0 OR i % 20 = 19) THEN 'external' ELSE 'internal' END AS scope,
            {TS.format(f"(i * 37) % {HALF} + k * {HALF}")} AS completed_at,
            CASE WHEN k = 1 AND i % 31 = 0 AND i % 20 NOT IN {IMAGE_SLOTS} THEN 'partial' ELSE 'completed' END
                AS status,
            CASE WHEN i % 20 IN {IMAGE_SLOTS} THEN 'os-pkgs:debian' END AS scope_keys
            FROM range({assets}) t(i), range(2) u(k)""",
        "observations": f"""SELECT 'o-' || i AS id, 'host-' || i || '.example' AS asset_key,
            ['crowdstrike', 'aws-config', 'runzero'][1 + i % 3] AS source,
            ['edr', 'cloud_api', 'network'][1 + i % 3] AS source_type,
            {TS.format("CASE WHEN i % 20 IN (16, 17) THEN (i * 53) % 20000 ELSE (i * 53) % 130000 END")}
                AS observed_at
            FROM range({assets}) t(i) WHERE i % 20 NOT IN {IMAGE_SLOTS}
            UNION ALL
            SELECT 'o-ip-' || i, '10.' || (i // 65536 % 256) || '.' || (i // 256 % 256) || '.' || (i % 256),
                'runzero', 'network', {TS.format("(i * 59) % 130000")}
            FROM range(0, {assets}, 40) t(i)
            UNION ALL
            SELECT 'o-unknown-' || i, 'unknown-host-' || i || '.example', 'runzero', 'network',
                {TS.format("(i * 61) % 130000")}
            FROM range({max(assets // 50, 1)}) t(i)""",
        "findings": f"""SELECT 'f-' || i AS id, {ASSET.format("a")} AS asset_id, {CVE.format("v")} AS vuln_id,
            'pkg-' || (v % 997) AS package, '1.0.' || (v % 9) AS installed_version, '1.0.9' AS fixed_version,
            'pkg:deb/debian/pkg-' || (v % 997) || '@1.0.' || (v % 9) AS purl,
            ['critical','high','medium','low','high','medium','medium','low'][1 + (v * 3 + i) % 8] AS severity,
            round(((v * 31) % 100) / 10.0, 1) AS cvss_score,
            CASE WHEN v % 7 = 0 THEN ['none', 'poc', 'active'][1 + v % 3] END AS ssvc_exploitation,
            CASE WHEN v % 7 = 0 THEN ['yes', 'no'][1 + v % 2] END AS ssvc_automatable,
            CASE WHEN v % 7 = 0 THEN ['partial', 'total'][1 + v % 2] END AS ssvc_technical_impact,
            CASE WHEN i % 211 = 7 THEN 'not_affected' END AS vex_status,
            {TS.format("base")} AS first_detected_at,
            CASE WHEN i % 3 = 0 THEN 'closed' ELSE 'open' END AS state,
            CASE WHEN i % 3 = 0 THEN {TS.format("base + 5000")} END AS closed_at,
            CASE WHEN image THEN 'trivy' WHEN second_scanner THEN 'qualys' ELSE 'nessus' END AS source,
            CASE WHEN image THEN 's-' || a || '-0' END AS scan_id,
            CASE WHEN image THEN 'os-pkgs:debian' END AS scope_keys,
            CASE WHEN NOT image THEN 'KB' || (5000000 + v) END AS fix_refs
            FROM core
            UNION ALL
            -- the second scan of an image still reports a quarter of its findings (a second sighting)
            SELECT 'f-' || i, {ASSET.format("a")}, {CVE.format("v")}, 'pkg-' || (v % 997), '1.0.' || (v % 9), '1.0.9',
                'pkg:deb/debian/pkg-' || (v % 997) || '@1.0.' || (v % 9),
                ['critical','high','medium','low','high','medium','medium','low'][1 + (v * 3 + i) % 8],
                round(((v * 31) % 100) / 10.0, 1), NULL, NULL, NULL, NULL, {TS.format("base")}, 'open', NULL,
                'trivy', 's-' || a || '-1', 'os-pkgs:debian', NULL
            FROM core WHERE image AND i % 4 = 0""",
        "deployments": f"""SELECT 'd-' || j AS id, {ASSET.format("c.a")} AS asset_id,
            CASE WHEN c.image AND j % 20 = 17 THEN 'sha256:' || sha256('image-' || c.a)
                 WHEN j % 20 = 17 THEN 'KB' || (5000000 + c.v) ELSE 'pkg-' || (c.v % 997) || '=1.0.9' END AS patch_id,
            CASE WHEN j % 20 < 12 THEN 'f-' || c.i END AS finding_ids,
            CASE WHEN j % 20 IN (12, 13, 14) THEN {CVE.format("c.v")} END AS vuln_ids,
            CASE WHEN j % 53 <> 0 THEN 'CHG' || j END AS change_ref,
            {TS.format("c.base + 1440")} AS started_at, {TS.format("c.base + 1500")} AS completed_at,
            CASE WHEN j % 20 = 18 THEN 'failed' WHEN j % 40 = 19 THEN 'pending_reboot'
                 WHEN j % 40 = 39 THEN 'partial' ELSE 'succeeded' END AS status,
            ['ansible', 'ssm', 'intune', 'argocd'][1 + j % 4] AS tool
            FROM range({half}) t(j) JOIN core c ON c.i = 2 * j""",
        "verifications": f"""SELECT 'v-' || j AS id, {ASSET.format("c.a")} AS asset_id,
            CASE WHEN j % 20 NOT IN (12, 13, 14) THEN 'f-' || c.i END AS finding_id,
            CASE WHEN j % 20 IN (12, 13, 14) THEN {CVE.format("c.v")} END AS vuln_id,
            'd-' || j AS deployment_id,
            CASE WHEN c.image THEN 'image_rescan' ELSE 'authenticated_rescan' END AS method,
            CASE WHEN j % 10 = 0 THEN 'vulnerable' WHEN j % 97 = 1 THEN 'inconclusive' ELSE 'not_vulnerable' END
                AS result,
            {TS.format("least(c.base + CASE WHEN j % 7 = 3 THEN 50000 ELSE 4320 END, 131000)")} AS observed_at,
            'scan-' || j AS evidence_ref
            FROM range({half}) t(j) JOIN core c ON c.i = 2 * j WHERE j % 5 <> 4 AND j % 20 <> 18""",
        "identities": f"""SELECT 'nhi-' || i AS id, 'svc-' || i AS name,
            ['service_account','api_key','access_token','oauth_client','certificate','ssh_key','cloud_access_key',
             'workload_identity','agent_credential','secret'][1 + i % 10] AS type,
            ['aws-iam', 'entra-id', 'github', 'vault'][1 + i % 4] AS platform,
            CASE WHEN i % 37 <> 0 THEN 'team-' || (i % 50) END AS owner,
            CASE WHEN i % 43 = 0 THEN FALSE WHEN i % 3 = 0 THEN TRUE END AS owner_active,
            CASE WHEN i % 29 <> 0 THEN 'integration ' || (i % 300) END AS purpose,
            CASE WHEN i % 23 = 0 THEN 'production;development' WHEN i % 2 = 0 THEN 'production' ELSE 'staging' END
                AS environments,
            {BEFORE.format("100 + i % 900")} AS created_at,
            CASE WHEN i % 5 <> 0 THEN {TS.format("(i * 17) % 120000")} END AS last_rotated_at,
            CASE WHEN i % 5 <> 0 THEN i % 31 = 0 END AS prior_secret_valid,
            CASE WHEN i % 3 = 0 THEN {TS.format("140000 + i % 100000")} END AS expires_at,
            CASE WHEN i % 11 <> 0 THEN {TS.format("(i * 13) % 130000")} END AS last_used_at,
            CASE WHEN i % 7 <> 0 THEN {BEFORE.format("i % 200")} END AS last_reviewed_at,
            i % 19 <> 0 AS enabled, i % 10 = 7 AS short_lived, i % 17 = 0 AS privilege_admin,
            's3:read;sqs:send' AS privilege_scopes, CASE WHEN i % 13 = 0 THEN i % 40 END AS unused_permissions,
            -- one to three assets; agent credentials are used by their agent
            CASE WHEN i % 10 = 8 THEN 'agent-' || (i // 10 % {agents})
                 ELSE {ASSET.format(f"(i * 5) % {assets}")} || CASE WHEN i % 4 = 0 THEN ';'
                    || {ASSET.format(f"(i * 5 + 1) % {assets}")} ELSE '' END
                    || CASE WHEN i % 50 = 0 THEN ';agent-' || (i // 50 % {agents}) ELSE '' END END AS used_by,
            ['vault','kms','cloud_secret_manager','env','ci_variable','config_file','code','plaintext'][1 + i % 8]
                AS storage,
            ['workload_federation','oidc','mtls','key_pair','oauth_client_credentials','static_secret','password',
             'basic'][1 + i % 8] AS auth_method,
            i % 27 = 0 AS third_party, CASE WHEN i % 27 = 0 THEN 'vendor-' || (i % 9) END AS third_party_vendor,
            i % 71 = 0 AS interactive_use
            FROM range({identities}) t(i)""",
        "secret_exposures": f"""SELECT 'sx-' || i AS id,
            CASE WHEN i % 9 <> 0 THEN 'nhi-' || ((i * 7) % {identities}) END AS identity_id,
            {ASSET.format(f"(i * 11) % {assets}")} AS asset_id, ['gitleaks:aws-key', 'trufflehog:github'][1 + i % 2]
                AS detector, 'github.com/example/repo-' || (i % 100) || '/config.yml' AS location,
            sha256('leak-' || i) AS fingerprint, i % 4 = 0 AS public, i % 3 = 0 AS verified_live,
            {TS.format("(i * 23) % 100000")} AS exposed_at, {TS.format("(i * 23) % 100000 + 600")} AS detected_at,
            CASE WHEN i % 3 = 0 THEN {TS.format("(i * 23) % 100000 + 600 + (i % 5) * 1000")} END AS revoked_at,
            CASE WHEN i % 3 = 1 THEN {TS.format("(i * 23) % 100000 + 2000")} END AS verified_invalid_at
            FROM range({exposures}) t(i)""",
        "compensating_controls": f"""SELECT 'cc-' || i AS id, 'WAF rule set ' || i AS description,
            'team-sec' AS owner, 'waf-report-' || i AS evidence_ref,
            CASE WHEN i % 4 <> 0 THEN {TS.format("(i * 211) % 130000")} END AS verified_at
            FROM range({controls}) t(i)""",
        "rollout_events": f"""SELECT 'r-' || e AS id,
            ['rollback', 'failed_rollout', 'emergency_mitigation', 'emergency_bypass', 'retirement'][1 + e % 5] AS type,
            CASE WHEN e % 3 <> 0 THEN 'CHG-E' || e END AS change_ref,
            CASE WHEN e % 5 IN (0, 1) THEN 'd-' || d.j END AS deployment_ids,
            {ASSET.format("c.a")} AS asset_ids,
            CASE WHEN e % 5 IN (2, 3) THEN 'f-' || c.i END AS finding_ids,
            {TS.format("c.base + 9000")} AS occurred_at,
            CASE WHEN e % 5 <> 4 AND e % 6 <> 0 THEN {TS.format("c.base + 9000 + (e % 4) * 700")} END
                AS reassessed_at,
            CASE WHEN e % 5 <> 4 AND e % 6 <> 0 THEN 'reassessment-' || e END AS reassessment_ref,
            CASE WHEN e % 5 = 2 AND e % 2 = 0 THEN 'd-' || d.j END AS permanent_fix_ref
            FROM range({events}) t(e), LATERAL (SELECT (e * 487) % {half} AS j) d JOIN core c ON c.i = 2 * d.j""",
        "kev_entries": f"""SELECT {CVE.format("v")} AS id, 'vendor-' || (v % 40) AS vendor_project,
            'product-' || (v % 90) AS product, 'KEV entry ' || v AS name,
            strftime(DATE '2026-05-01' + (v % 120)::INTEGER, '%Y-%m-%d') AS date_added,
            strftime(DATE '2026-05-01' + (v % 120)::INTEGER + 21, '%Y-%m-%d') AS due_date,
            ['known', 'unknown'][1 + v % 2] AS known_ransomware, 'Apply the update.' AS required_action
            FROM range(0, {CVES}, 20) t(v)""",
        "epss_scores": f"""SELECT {CVE.format("v")} AS id, round(((v * 7919) % 1000) / 1000.0, 3) AS epss,
            round(((v * 104729) % 1000) / 1000.0, 3) AS percentile, 'v2025.03.14' AS model_version,
            '2026-09-30' AS score_date FROM range({CVES}) t(v)""",
    }
    queries["exceptions"] = _exceptions(exceptions, controls, identities, assets, findings)
    queries["agents"] = _agents(agents, identities, assets)
    return queries


def _exceptions(exceptions: int, controls: int, identities: int, assets: int, findings: int) -> str:
    """Exceptions (JSON Lines: nested compensating controls) of every scope kind."""
    scope = "i % 6"
    return f"""SELECT 'EXC-' || lpad(i::VARCHAR, 6, '0') AS id, 'Exception ' || i AS title,
        CASE WHEN {scope} IN (0, 1) THEN [{ASSET.format(f"(i * 97) % {assets}")}] ELSE [] END AS asset_ids,
        CASE WHEN {scope} = 2 THEN ['legacy-fax'] ELSE [] END AS asset_tags,
        CASE WHEN {scope} IN (0, 2) THEN [{CVE.format(f"(i * 13) % {CVES}")}]
             WHEN {scope} = 5 THEN [{CVE.format(f"(i * 17) % {CVES}")}] ELSE [] END AS vuln_ids,
        CASE WHEN {scope} = 3 THEN ['f-' || ((i * 1009) % {findings})] ELSE [] END AS finding_ids,
        CASE WHEN {scope} = 1 OR i % 25 = 0 THEN ['INV-04'] ELSE [] END AS control_ids,
        CASE WHEN {scope} = 4 THEN ['nhi-' || ((i * 3) % {identities})] ELSE [] END AS identity_ids,
        ['accept', 'mitigate', 'transfer', 'mitigate'][1 + i % 4] AS risk_response,
        CASE WHEN i % 2 = 0 THEN 'operational_requirement' END AS deviation_type,
        CASE WHEN i % 17 <> 0 THEN 'team-' || (i % 50) END AS owner,
        CASE WHEN i % 19 <> 0 THEN 'ciso' END AS approver,
        {TS.format("(i * 101) % 60000")} AS requested_at,
        CASE WHEN i % 23 <> 0 THEN {TS.format("(i * 101) % 60000 + 1440")} END AS approved_at,
        CASE WHEN i % 29 <> 0
            THEN {TS.format("(i * 101) % 60000 + 1440 + CASE WHEN i % 11 = 0 THEN 200000 ELSE 90000 END")}
            END AS expires_at,
        CASE WHEN i % 13 <> 0 THEN 'Vendor fix pending for ' || i END AS justification,
        CASE WHEN i % 4 = 1 THEN [{{'description': 'Network isolation ' || i, 'evidence_ref': 'fw-' || i,
            'verified_at': {TS.format("(i * 53) % 100000")}}}]
            ELSE []::STRUCT(description VARCHAR, evidence_ref VARCHAR, verified_at VARCHAR)[] END
            AS compensating_controls,
        CASE WHEN i % 4 = 3 THEN ['cc-' || (i % {controls})] ELSE [] END AS compensating_control_ids
        FROM range({exceptions}) t(i)"""


def _agents(agents: int, identities: int, assets: int) -> str:
    """AI agents (JSON Lines: nested tools)."""
    return f"""SELECT 'agent-' || i AS id, 'assistant-' || i AS name,
        CASE WHEN i % 7 <> 0 THEN 'team-' || (i % 50) END AS owner, 'provider-' || (i % 3) AS model_provider,
        {ASSET.format(f"(i * 101) % {assets}")} AS asset_id, ['production', 'staging'][1 + i % 2] AS environment,
        [{{'name': 'search', 'permission': 'read', 'requires_approval': false}},
         {{'name': 'deploy', 'permission': ['write', 'execute', 'admin'][1 + i % 3], 'requires_approval': i % 3 = 0}}]
            AS tools,
        ['nhi-' || (i * 10 + 8)] AS identity_ids,
        ['human_in_the_loop', 'human_on_the_loop', 'autonomous'][1 + i % 3] AS autonomy,
        i % 2 = 0 AS internet_access, ['pii', 'source_code'] AS data_classes,
        CASE WHEN i % 5 <> 0 THEN {BEFORE.format("i % 150")} END AS last_reviewed_at
        FROM range({min(agents, max(identities // 10, 1))}) t(i)"""


# Kinds written as JSON Lines (nested objects); the others are CSV, or JSON Lines with --format jsonl.
_NESTED = ("exceptions", "agents")
_JSONL_KINDS = ("findings", "deployments", "verifications")


def generate(findings: int, out: Path, fmt: str = "csv") -> Path:
    """Write the bundle (skipped when it already exists with a manifest)."""
    if (out / "bundle.yaml").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    assets = max(findings // 10, 20)
    _core(con, findings, assets)
    sources = []
    for kind, query in _queries(findings, assets).items():
        jsonl = kind in _NESTED or (fmt == "jsonl" and kind in _JSONL_KINDS)
        target = out / f"{kind}.{'jsonl' if jsonl else 'csv'}"
        options = "(FORMAT json)" if jsonl else "(FORMAT csv, HEADER)"
        con.execute(f"COPY ({query}) TO '{target}' {options}")
        sources.append(
            {
                "path": target.name,
                "kind": kind,
                "collected_at": COLLECTED,
                "tool": "benchmark",
                "sha256": _sha256(target),
            }
        )
    manifest = {
        "bundle_version": 1,
        "organisation": "Benchmark Org",
        "scope": "synthetic",
        "period": {"start": PERIOD_START, "end": "2026-09-30"},
        "prepared_by": {"name": "benchmarks/generate.py"},
        "sources": sources,
    }
    (out / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return out


def default_dir(findings: int, fmt: str = "csv") -> Path:
    """Where generated bundles are cached (git-ignored)."""
    return Path(__file__).resolve().parent / "data" / f"bundle-v{GENERATOR_VERSION}-{findings}-{fmt}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    start = time.perf_counter()
    out = generate(args.findings, args.out or default_dir(args.findings, args.format), args.format)
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"{out}: {size / 1e6:.0f} MB in {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
