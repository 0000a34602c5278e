"""One pydantic model per evidence record kind: the single source of truth for the bundle format.

The JSON Schema printed by `exposure-reporter schema KIND`, the DuckDB column types of the evidence
store and docs/bundle-format.md are all derived from these models. Field-level constraints only:
rules that relate several fields or several files live in `reporter.bundle.integrity`.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticCustomError

from reporter.models.common import ID_PATTERN, RecordId, StrictModel

# ---------------------------------------------------------------------------------------------
# Vocabularies


class AssetType(StrEnum):
    ENDPOINT = "endpoint"
    SERVER = "server"
    CLOUD_WORKLOAD = "cloud_workload"
    CONTAINER_IMAGE = "container_image"
    CONTAINER_RUNTIME = "container_runtime"
    SERVERLESS = "serverless"
    NETWORK_DEVICE = "network_device"
    OT_DEVICE = "ot_device"
    SAAS = "saas"
    NHI_SERVICE = "nhi_service"
    REPOSITORY = "repository"


class Criticality(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class ManagedBy(StrEnum):
    INTERNAL = "internal"
    THIRD_PARTY = "third_party"
    VENDOR = "vendor"


class Lifecycle(StrEnum):
    ACTIVE = "active"
    LEGACY = "legacy"
    EOL = "eol"
    RETIRED = "retired"


class ObservationSource(StrEnum):
    DISCOVERY = "discovery"
    EDR = "edr"
    CLOUD_API = "cloud_api"
    KUBERNETES = "kubernetes"
    SCANNER = "scanner"
    NETWORK = "network"
    CMDB = "cmdb"


class ScanStatus(StrEnum):
    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"


class ScanScope(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"
    UNKNOWN = "unknown"


class FindingState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class VexStatus(StrEnum):
    AFFECTED = "affected"
    NOT_AFFECTED = "not_affected"
    FIXED = "fixed"
    UNDER_INVESTIGATION = "under_investigation"
    FALSE_POSITIVE = "false_positive"
    SUPPRESSED = "suppressed"  # a tool ignore rule (.trivyignore, grype ignore) with no VEX analysis


class SsvcExploitation(StrEnum):
    NONE = "none"
    POC = "poc"
    ACTIVE = "active"


class YesNo(StrEnum):
    YES = "yes"
    NO = "no"


class TechnicalImpact(StrEnum):
    PARTIAL = "partial"
    TOTAL = "total"


class DeploymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PARTIAL = "partial"
    PENDING_REBOOT = "pending_reboot"
    ROLLED_BACK = "rolled_back"


class VerificationMethod(StrEnum):
    AUTHENTICATED_RESCAN = "authenticated_rescan"
    UNAUTHENTICATED_RESCAN = "unauthenticated_rescan"
    AGENT_INVENTORY = "agent_inventory"
    VERSION_CHECK = "version_check"
    CONFIG_CHECK = "config_check"
    IMAGE_RESCAN = "image_rescan"
    MANUAL = "manual"


class VerificationResult(StrEnum):
    NOT_VULNERABLE = "not_vulnerable"
    VULNERABLE = "vulnerable"
    INCONCLUSIVE = "inconclusive"


class RiskResponse(StrEnum):
    ACCEPT = "accept"
    MITIGATE = "mitigate"
    TRANSFER = "transfer"
    AVOID = "avoid"


class DeviationType(StrEnum):
    OPERATIONAL_REQUIREMENT = "operational_requirement"
    RISK_ADJUSTMENT = "risk_adjustment"
    FALSE_POSITIVE = "false_positive"
    VENDOR_DEPENDENCY = "vendor_dependency"


class RolloutEventType(StrEnum):
    FAILED_ROLLOUT = "failed_rollout"
    ROLLBACK = "rollback"
    EMERGENCY_BYPASS = "emergency_bypass"
    EMERGENCY_MITIGATION = "emergency_mitigation"
    RETIREMENT = "retirement"


class IdentityType(StrEnum):
    SERVICE_ACCOUNT = "service_account"
    API_KEY = "api_key"
    ACCESS_TOKEN = "access_token"
    OAUTH_CLIENT = "oauth_client"
    CERTIFICATE = "certificate"
    SSH_KEY = "ssh_key"
    CLOUD_ACCESS_KEY = "cloud_access_key"
    WORKLOAD_IDENTITY = "workload_identity"
    AGENT_CREDENTIAL = "agent_credential"
    SECRET = "secret"


class SecretStorage(StrEnum):
    VAULT = "vault"
    KMS = "kms"
    CLOUD_SECRET_MANAGER = "cloud_secret_manager"
    ENV = "env"
    CI_VARIABLE = "ci_variable"
    CONFIG_FILE = "config_file"
    CODE = "code"
    PLAINTEXT = "plaintext"
    NONE = "none"


class AuthMethod(StrEnum):
    WORKLOAD_FEDERATION = "workload_federation"
    OIDC = "oidc"
    MTLS = "mtls"
    KEY_PAIR = "key_pair"
    OAUTH_CLIENT_CREDENTIALS = "oauth_client_credentials"
    STATIC_SECRET = "static_secret"
    PASSWORD = "password"
    BASIC = "basic"
    NONE = "none"


class ToolPermission(StrEnum):
    READ = "read"
    WRITE = "write"
    EXECUTE = "execute"
    ADMIN = "admin"


class Autonomy(StrEnum):
    HUMAN_IN_THE_LOOP = "human_in_the_loop"
    HUMAN_ON_THE_LOOP = "human_on_the_loop"
    AUTONOMOUS = "autonomous"


class KnownRansomware(StrEnum):
    KNOWN = "known"
    UNKNOWN = "unknown"


# ---------------------------------------------------------------------------------------------
# Field helpers

VULN_ID_PATTERN = (
    r"^(CVE-[0-9]{4}-[0-9]{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|[A-Za-z][A-Za-z0-9._]*[-:][A-Za-z0-9._:-]+)$"
)
CVE_PATTERN = r"^CVE-[0-9]{4}-[0-9]{4,}$"
GHSA_PATTERN = r"^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$"
CVSS_VECTOR_PATTERN = (
    r"^(CVSS:(3\.[01]|4\.0)/[A-Za-z]{1,3}:[A-Za-z](/[A-Za-z]{1,3}:[A-Za-z])*"
    r"|(AV:[LAN]/AC:[HML]/Au:[MSN]/C:[NPC]/I:[NPC]/A:[NPC]))$"
)
SHA256_PATTERN = r"^[0-9a-f]{64}$"

# Rules on a vuln id that one regular expression cannot say portably: a value that claims to be a
# CVE or GHSA id must have that identifier's exact form. Exported as JSON Schema if/then.
_VULN_ID_RULES: list[dict[str, Any]] = [
    {"if": {"pattern": "^CVE-"}, "then": {"pattern": CVE_PATTERN}},
    {"if": {"pattern": "^GHSA-"}, "then": {"pattern": GHSA_PATTERN}},
]


def _exact_form(value: str) -> str:
    """A value that claims to be a CVE or GHSA id must have that identifier's exact form."""
    if value.startswith("CVE-") and not re.fullmatch(CVE_PATTERN, value):
        raise PydanticCustomError(
            "string_pattern_mismatch", "not a valid CVE id (CVE-YYYY-NNNN with at least four digits)"
        )
    if value.startswith("GHSA-") and not re.fullmatch(GHSA_PATTERN, value):
        raise PydanticCustomError("string_pattern_mismatch", "not a valid GHSA id (GHSA-xxxx-xxxx-xxxx)")
    return value


VulnId = Annotated[
    str,
    AfterValidator(_exact_form),
    Field(
        pattern=VULN_ID_PATTERN,
        description=(
            "Vulnerability identifier: CVE-YYYY-NNNN…, GHSA-xxxx-xxxx-xxxx, or a vendor "
            "identifier with a prefix (RHSA-2024:1234, RUSTSEC-2021-0001, nessus:19506)."
        ),
        json_schema_extra={"allOf": _VULN_ID_RULES},
        examples=["CVE-2024-3094"],
    ),
]

RefId = Annotated[str, Field(pattern=ID_PATTERN)]
IdList = Annotated[list[RefId], Field(default_factory=list)]
StrList = Annotated[list[str], Field(default_factory=list)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


def _f(description: str, **kwargs: Any) -> Any:
    """A field with a description (every field is documented)."""
    return Field(description=description, **kwargs)


# ---------------------------------------------------------------------------------------------
# Record kinds


class Asset(StrictModel):
    """An asset in the authoritative inventory: the denominator of every coverage metric."""

    id: RecordId
    name: str = _f("Human-readable name (hostname, image reference, service name).", min_length=1)
    type: AssetType = _f("What kind of asset this is.")
    environment: str | None = _f("Environment, e.g. production, staging, development.", default=None)
    owner: str | None = _f("Accountable owner (team or person).", default=None)
    criticality: Criticality | None = _f("Asset importance (SP 800-40r4 §3.6: low/moderate/high).", default=None)
    internet_facing: bool | None = _f(
        "Reachable by unauthenticated or untrusted parties over public networks.", default=None
    )
    ephemeral: bool = _f("Autoscaled, spot or short-lived (pods, serverless).", default=False)
    managed_by: ManagedBy = _f("Who patches it.", default=ManagedBy.INTERNAL)
    lifecycle: Lifecycle = _f("Lifecycle state.", default=Lifecycle.ACTIVE)
    retired_at: AwareDatetime | None = _f("When it was decommissioned or terminated.", default=None)
    first_seen_at: AwareDatetime | None = _f("When it entered the inventory.", default=None)
    maintenance_group: str | None = _f("Maintenance group (SP 800-40r4 §3.4).", default=None)
    patch_automation: bool | None = _f("Enrolled in an automated patch or image pipeline.", default=None)
    parent_image_id: RefId | None = _f("For container_runtime: the asset id of the image it runs.", default=None)
    compliance_scopes: StrList = _f("Compliance scopes the asset is in (e.g. pci, fedramp); selects SLA rules.")
    aliases: StrList = _f("Other keys discovery tools use for it: hostnames, IPs, instance ids, image digests.")
    tags: StrList = _f("Free tags; exceptions may scope by tag.")


class Observation(StrictModel):
    """A sighting of an asset by a discovery source (EDR, cloud API, network scan, Kubernetes)."""

    id: RecordId
    asset_key: str = _f("The key the source uses for the asset (hostname, IP, instance id).", min_length=1)
    asset_id: RefId | None = _f("Inventory asset id, when the source could resolve it.", default=None)
    source: str = _f("Discovery tool, e.g. crowdstrike, aws-config, nmap.", min_length=1)
    source_type: ObservationSource = _f("Kind of discovery source.")
    observed_at: AwareDatetime = _f("When the asset was seen.")


class Scan(StrictModel):
    """A vulnerability scan of one asset: the basis of scan coverage."""

    id: RecordId
    asset_id: RefId = _f("Scanned asset.")
    tool: str = _f("Scanner, e.g. nessus, trivy.", min_length=1)
    authenticated: bool = _f("Credentialed scan or agent-based inventory.")
    scope: ScanScope = _f("Internal or external (internet-side) scan.", default=ScanScope.INTERNAL)
    completed_at: AwareDatetime = _f("When the scan finished.")
    status: ScanStatus = _f("Outcome of the scan itself.", default=ScanStatus.COMPLETED)
    target: str | None = _f(
        "What was scanned, as the tool names it (image reference and digest, host name, path).", default=None
    )
    scope_keys: StrList = _f(
        "What the scan examined: the scope keys (see findings.scope_keys) of the findings it could have "
        "reported. A finding with a scope key is proven absent only by a scan listing that key; empty: "
        "unknown, which proves nothing for such findings."
    )


class Finding(StrictModel):
    """A vulnerability on an asset as one scanner reported it. Records of the same asset and
    vulnerability (from several scanners or packages) form one finding-instance, the counting unit."""

    id: RecordId
    asset_id: RefId = _f("Affected asset.")
    vuln_id: VulnId
    title: str | None = _f("Short title (scanner plugin or advisory name).", default=None)
    package: str | None = _f("Affected package or component.", default=None)
    installed_version: str | None = _f("Installed version.", default=None)
    fixed_version: str | None = _f("Version that fixes it, when known.", default=None)
    severity: Severity = _f("Vendor or scanner severity.")
    risk_rank: Severity | None = _f(
        "The organisation's own risk ranking (PCI DSS 6.3.1), when it differs.", default=None
    )
    cvss_vector: str | None = _f("CVSS vector (v2, v3.x or v4.0).", default=None, pattern=CVSS_VECTOR_PATTERN)
    cvss_score: float | None = _f("CVSS base score.", default=None, ge=0.0, le=10.0)
    kev: bool | None = _f("Listed in CISA KEV (may also come from a KEV catalog source).", default=None)
    kev_date_added: date | None = _f("Date added to KEV, as published.", default=None)
    kev_due_date: date | None = _f("KEV due date, as published (never recomputed).", default=None)
    epss: Probability | None = _f("EPSS probability (0–1).", default=None)
    epss_percentile: Probability | None = _f("EPSS percentile (0–1).", default=None)
    epss_date: date | None = _f("Date of the EPSS score.", default=None)
    ssvc_exploitation: SsvcExploitation | None = _f("SSVC Exploitation.", default=None)
    ssvc_automatable: YesNo | None = _f("SSVC Automatable.", default=None)
    ssvc_technical_impact: TechnicalImpact | None = _f("SSVC Technical impact.", default=None)
    vex_status: VexStatus | None = _f("VEX status from the producer.", default=None)
    first_detected_at: AwareDatetime = _f("First detection on this asset: the SLA clock start.")
    last_seen_at: AwareDatetime | None = _f("Last time a scan saw it.", default=None)
    patch_released_at: AwareDatetime | None = _f(
        "When the vendor released the fix (PCI DSS 6.3.3 clock).", default=None
    )
    state: FindingState = _f("Open or closed in the source system.")
    closed_at: AwareDatetime | None = _f("When the source system closed it.", default=None)
    source: str | None = _f("Scanner or system that reported it.", default=None)
    scan_id: RefId | None = _f(
        "The scan that reported this record. Records naming a scan are sightings: the same id in "
        "several scans is one finding seen several times, and its first and last sighting come "
        "from those scans.",
        default=None,
    )
    scope_keys: StrList = _f(
        "The part of the asset the scanner examined to report it, as alternatives (trivy "
        "`os-pkgs:debian`, a lockfile target; a Nessus plugin family or plugin). A later scan proves "
        "the finding gone only when its own scope_keys list one of these; none given: any "
        "authenticated, completed scan of the asset by the same tool covers it."
    )
    purl: str | None = _f(
        "Package URL of the affected component (pkg:deb/debian/openssl@3.0.11-1): its ecosystem "
        "decides how versions compare when a deployment names only a package version.",
        default=None,
    )
    fix_refs: StrList = _f(
        "Vendor fix identifiers the scanner ties to it (Microsoft KB numbers such as KB5034441, "
        "advisory ids): a deployment naming one is linked to the finding."
    )


class Deployment(StrictModel):
    """A patch deployment: patching *activity*, never proof that the fix took effect."""

    id: RecordId
    asset_id: RefId = _f("Target asset.")
    patch_id: str | None = _f(
        "What was deployed: a KB number (KB5034441), a package version (openssl=3.0.2-0ubuntu1.15), "
        "an image digest (sha256:…, repo@sha256:…) or tag. A deployment naming no finding or "
        "vulnerability is linked through it to the open findings it fixes (docs/verification.md).",
        default=None,
    )
    finding_ids: IdList = _f("Findings the deployment is meant to fix.")
    vuln_ids: Annotated[list[VulnId], Field(default_factory=list)] = _f(
        "Vulnerabilities the deployment is meant to fix (when findings are not known)."
    )
    change_ref: str | None = _f("Change-management record (ticket, CR number).", default=None)
    started_at: AwareDatetime | None = _f("Start of the deployment.", default=None)
    completed_at: AwareDatetime | None = _f("End of the deployment.", default=None)
    status: DeploymentStatus = _f("Status reported by the deployment tool.")
    tool: str | None = _f("Deployment tool, e.g. ssm, intune, argo.", default=None)


class Verification(StrictModel):
    """Post-patch evidence that the fix took effect (or did not)."""

    id: RecordId
    asset_id: RefId = _f("Asset checked.")
    finding_id: RefId | None = _f("Finding verified; or give vuln_id.", default=None)
    vuln_id: VulnId | None = _f("Vulnerability verified when no finding id is known.", default=None)
    deployment_id: RefId | None = _f("Deployment this verifies, when known.", default=None)
    method: VerificationMethod = _f("How the outcome was observed.")
    result: VerificationResult = _f("What was observed.")
    observed_at: AwareDatetime = _f("When it was observed.")
    evidence_ref: str | None = _f("Pointer to the underlying evidence (scan id, report).", default=None)


class CompensatingControlRef(StrictModel):
    """A compensating control written inline in an exception."""

    id: RefId | None = _f("Identifier, when the control is also listed on its own.", default=None)
    description: str = _f("What the control does.", min_length=1)
    evidence_ref: str | None = _f("Evidence that the control operates.", default=None)
    verified_at: AwareDatetime | None = _f("When the control was last verified.", default=None)


class ExceptionRecord(StrictModel):
    """A risk acceptance or deviation: evaluated as a control, never trusted as metadata."""

    id: RecordId
    title: str | None = _f("Short description.", default=None)
    asset_ids: IdList = _f("Assets in scope (empty: any asset matching asset_tags, or all).")
    asset_tags: StrList = _f("Asset tags in scope.")
    vuln_ids: Annotated[list[VulnId], Field(default_factory=list)] = _f("Vulnerabilities in scope.")
    finding_ids: IdList = _f("Findings in scope.")
    control_ids: StrList = _f("Controls of this tool's library in scope (e.g. NHI-07).")
    identity_ids: IdList = _f("Non-human identities in scope.")
    risk_response: RiskResponse = _f("Risk response (SP 800-40r4 §2.1).")
    deviation_type: DeviationType | None = _f("FedRAMP-style deviation type.", default=None)
    owner: str | None = _f("Accountable owner.", default=None)
    approver: str | None = _f("Who approved it.", default=None)
    requested_at: AwareDatetime | None = _f("When it was requested.", default=None)
    approved_at: AwareDatetime | None = _f("When it was approved.", default=None)
    expires_at: AwareDatetime | None = _f("When it expires.", default=None)
    justification: str | None = _f("Why the risk is accepted.", default=None)
    compensating_controls: Annotated[list[CompensatingControlRef], Field(default_factory=list)] = _f(
        "Compensating controls written inline."
    )
    compensating_control_ids: IdList = _f("Compensating controls listed in compensating_controls.")
    renewal_of: RefId | None = _f("The exception this one renews.", default=None)


class RolloutEvent(StrictModel):
    """A change event that can undo or bypass a fix: failed rollout, rollback, emergency change."""

    id: RecordId
    type: RolloutEventType = _f("What happened.")
    change_ref: str | None = _f("Change record.", default=None)
    deployment_ids: IdList = _f("Deployments affected (for a rollback: the ones rolled back).")
    asset_ids: IdList = _f("Assets affected.")
    finding_ids: IdList = _f("Findings affected.")
    occurred_at: AwareDatetime = _f("When it happened.")
    reassessed_at: AwareDatetime | None = _f("When exposure was reassessed afterwards.", default=None)
    reassessment_ref: str | None = _f("Evidence of the reassessment.", default=None)
    permanent_fix_ref: str | None = _f(
        "For emergency mitigations: the deployment or change that replaced it.", default=None
    )
    description: str | None = _f("Free text.", default=None)


class Identity(StrictModel):
    """A non-human identity: service account, key, token, certificate, agent credential."""

    id: RecordId
    name: str = _f("Name as the platform shows it.", min_length=1)
    type: IdentityType = _f("Kind of identity.")
    platform: str | None = _f("Where it lives: aws-iam, entra-id, github, vault...", default=None)
    owner: str | None = _f("Accountable owner.", default=None)
    owner_active: bool | None = _f("Whether the owner is still employed/active.", default=None)
    purpose: str | None = _f("What it is for.", default=None)
    environments: StrList = _f("Environments it is used in (production, development...).")
    created_at: AwareDatetime | None = _f("Creation time.", default=None)
    last_rotated_at: AwareDatetime | None = _f("Last rotation of its secret.", default=None)
    prior_secret_valid: bool | None = _f(
        "Whether the secret it replaced at the last rotation still works (rotation without "
        "revocation is not rotation).",
        default=None,
    )
    expires_at: AwareDatetime | None = _f("Expiry of the current secret.", default=None)
    last_used_at: AwareDatetime | None = _f("Last authentication.", default=None)
    last_reviewed_at: AwareDatetime | None = _f("Last access review.", default=None)
    enabled: bool = _f("Whether it can authenticate.", default=True)
    short_lived: bool = _f("Issued per session/workload (minutes to hours).", default=False)
    privilege_admin: bool = _f("Holds administrative privilege.", default=False)
    privilege_scopes: StrList = _f("Granted scopes, roles or permissions.")
    unused_permissions: int | None = _f(
        "Permissions granted but unused in the analyser's window (IAM Access Analyzer).",
        default=None,
        ge=0,
    )
    used_by: IdList = _f("Assets and agents that use it.")
    storage: SecretStorage | None = _f("Where its secret is stored.", default=None)
    auth_method: AuthMethod | None = _f("How it authenticates.", default=None)
    third_party: bool = _f("Issued to or held by a third party (vendor, SaaS).", default=False)
    third_party_vendor: str | None = _f("The third party.", default=None)
    interactive_use: bool = _f("Humans have logged in with it interactively.", default=False)


class SecretExposure(StrictModel):
    """A leaked secret reported by a secret scanner. Holds a fingerprint, never the secret."""

    id: RecordId
    identity_id: RefId | None = _f("Inventoried identity the secret belongs to.", default=None)
    asset_id: RefId | None = _f("Asset where it was found (repository, host, image).", default=None)
    detector: str = _f("Detector or rule that found it.", min_length=1)
    location: str = _f("Where: repository, file, commit, URL.", min_length=1)
    fingerprint: str = _f("Stable fingerprint of the finding; never the secret.", min_length=1)
    public: bool | None = _f("Exposed in a public place (unknown when not given).", default=None)
    verified_live: bool | None = _f("Scanner confirmed it authenticated at detection.", default=None)
    exposed_at: AwareDatetime | None = _f("Earliest exposure (commit time).", default=None)
    detected_at: AwareDatetime = _f("Detection time.")
    revoked_at: AwareDatetime | None = _f("When the secret was revoked or rotated.", default=None)
    verified_invalid_at: AwareDatetime | None = _f("When the leaked value was re-tested and found dead.", default=None)


class AgentTool(StrictModel):
    """A tool an AI agent can call."""

    name: str = _f("Tool name.", min_length=1)
    permission: ToolPermission = _f("What the tool can do.")
    requires_approval: bool = _f("A human approves each call.", default=False)


class Agent(StrictModel):
    """An AI agent workload, its tools and the credentials it holds."""

    id: RecordId
    name: str = _f("Agent name.", min_length=1)
    owner: str | None = _f("Accountable owner.", default=None)
    model_provider: str | None = _f("Model provider or model.", default=None)
    asset_id: RefId | None = _f("Asset hosting the agent.", default=None)
    environment: str | None = _f("Environment it runs in.", default=None)
    tools: Annotated[list[AgentTool], Field(default_factory=list)] = _f("Tools it can call.")
    identity_ids: IdList = _f("Identities (credentials) the agent uses.")
    autonomy: Autonomy = _f("Degree of human oversight.")
    internet_access: bool = _f("Can reach the internet.", default=False)
    data_classes: StrList = _f("Classes of data it can read (pii, financial, source_code...).")
    last_reviewed_at: AwareDatetime | None = _f("Last governance review.", default=None)


class CompensatingControl(StrictModel):
    """A compensating control cited by exceptions through compensating_control_ids."""

    id: RecordId
    description: str = _f("What the control does.", min_length=1)
    owner: str | None = _f("Who operates it.", default=None)
    evidence_ref: str | None = _f("Evidence that it operates.", default=None)
    verified_at: AwareDatetime | None = _f("When it was last verified.", default=None)


class KevEntry(StrictModel):
    """One CISA Known Exploited Vulnerabilities catalog entry (enriches findings by CVE)."""

    id: Annotated[str, Field(pattern=CVE_PATTERN, description="The CVE id (cveID).")]
    vendor_project: str | None = _f("vendorProject.", default=None)
    product: str | None = _f("product.", default=None)
    name: str | None = _f("vulnerabilityName.", default=None)
    date_added: date = _f("dateAdded, as published.")
    due_date: date = _f("dueDate, as published; may precede date_added for legacy entries.")
    known_ransomware: KnownRansomware | None = _f("knownRansomwareCampaignUse.", default=None)
    required_action: str | None = _f("requiredAction.", default=None)
    catalog_version: str | None = _f("catalogVersion of the source file.", default=None)


class EpssScore(StrictModel):
    """One FIRST EPSS score (enriches findings by CVE)."""

    id: Annotated[str, Field(pattern=CVE_PATTERN, description="The CVE id.")]
    epss: Probability = _f("Probability of exploitation activity in the next 30 days.")
    percentile: Probability = _f("Percentile of the score.")
    model_version: str | None = _f("EPSS model version (scores differ across models).", default=None)
    score_date: date | None = _f("Date of the score.", default=None)
