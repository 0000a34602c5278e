"""What the package-scanner importers (Trivy, Grype, Nessus, CycloneDX) share: package URLs and
ecosystems, version-free component keys for stable finding ids, vendor fix identifiers, merging
two sightings of one finding in a file, and naming the tool that wrote a document they refuse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote

from reporter.importers.interface import ImportedRecord

# ---------------------------------------------------------------------------------------------
# Package URLs (https://github.com/package-url/purl-spec)

_PURL = re.compile(r"pkg:([a-zA-Z][a-zA-Z0-9.+-]*)/([^?#\s]+)(?:\?([^#\s]*))?(?:#(\S*))?")
_SAFE = ".-_~"  # left unencoded; everything else (+, :, @, /) is percent-encoded as Go's packageurl does

# OS families as Trivy names them (Result.Type, Metadata.OS.Family) → (purl type, namespace), as
# Trivy itself builds purls (pkg/purl/purl.go); older spellings are Trivy's own aliases.
OS_FAMILIES: dict[str, str] = {
    **dict.fromkeys(("debian", "ubuntu", "echo"), "deb"),
    **dict.fromkeys(("alpine", "chainguard", "wolfi", "minimos"), "apk"),
    **dict.fromkeys(
        (
            "redhat",
            "centos",
            "centos-stream",
            "rocky",
            "alma",
            "amazon",
            "fedora",
            "oracle",
            "opensuse",
            "opensuse-leap",
            "opensuse-tumbleweed",
            "sles",
            "slem",
            "photon",
            "azurelinux",
            "cbl-mariner",
        ),
        "rpm",
    ),
}
OS_NAMESPACES = {"sles": "suse", "slem": "suse", "opensuse-leap": "opensuse", "opensuse-tumbleweed": "opensuse"}
OS_ALIASES = {
    "opensuse.leap": "opensuse-leap",
    "opensuse.tumbleweed": "opensuse-tumbleweed",
    "suse linux enterprise server": "sles",
    "suse linux enterprise micro": "slem",
    "amazon linux": "amazon",
    "debian gnu/linux": "debian",
}
# Trivy language types (Result.Type) → purl type, as Trivy maps them; `rubygems` is the
# pre-0.20 spelling of bundler. Types not listed (conda, hex, conan, swift...) get no purl.
LANG_PURL_TYPES = {
    **dict.fromkeys(("npm", "yarn", "pnpm", "bun", "node-pkg", "javascript"), "npm"),
    **dict.fromkeys(("pip", "pipenv", "poetry", "uv", "pylock", "python-pkg"), "pypi"),
    **dict.fromkeys(("jar", "pom", "gradle", "sbt"), "maven"),
    **dict.fromkeys(("gomod", "gobinary"), "golang"),
    **dict.fromkeys(("bundler", "gemspec", "rubygems"), "gem"),
    **dict.fromkeys(("nuget", "dotnet-core", "packages-props"), "nuget"),
    **dict.fromkeys(("cargo", "rustbinary"), "cargo"),
    **dict.fromkeys(("composer", "composer-vendor"), "composer"),
}
# Package types whose database belongs to the operating system (Syft/Grype artifact types).
OS_PACKAGE_TYPES = frozenset({"deb", "rpm", "apk", "alpm", "portage"})


def os_family(raw: str | None) -> str | None:
    """A Trivy OS family in its current spelling, lower case; None when unknown or empty."""
    if not raw or not raw.strip():
        return None
    family = raw.strip().lower()
    return OS_ALIASES.get(family, family)


def parse_purl(raw: str | None) -> tuple[str, dict[str, str]] | None:
    """(type, qualifiers) of a well-formed package URL, else None."""
    if not raw:
        return None
    match = _PURL.fullmatch(raw.strip())
    if match is None:
        return None
    qualifiers = {}
    for pair in (match[3] or "").split("&"):
        key, _, value = pair.partition("=")
        if key and value:
            qualifiers[key.lower()] = unquote(value)
    return match[1].lower(), qualifiers


def clean_purl(raw: str | None) -> str | None:
    """The package URL as written when it is well formed, else None (never guessed)."""
    return raw.strip() if raw and parse_purl(raw) else None


def purl_type(raw: str | None) -> str | None:
    """The ecosystem (purl type) of a package URL, lower case."""
    parsed = parse_purl(raw)
    return parsed[0] if parsed else None


def purl_arch(raw: str | None) -> str | None:
    """The `arch` qualifier of a package URL: how Trivy and Grype tell i686 from x86_64 rpms."""
    parsed = parse_purl(raw)
    return parsed[1].get("arch") if parsed else None


def split_epoch(version: str) -> tuple[str | None, str]:
    """(epoch, version) of `1:1.0.2k-16.el7`; (None, version) without an epoch."""
    match = re.fullmatch(r"(\d+):(.+)", version)
    return (match[1], match[2]) if match else (None, version)


def build_purl(kind: str, namespace: str | None, name: str, version: str | None) -> str | None:
    """A package URL; an epoch in the version becomes the `epoch` qualifier (as Trivy writes it)."""
    if not name.strip():
        return None
    parts = [quote(part, safe=_SAFE) for part in (namespace or "").split("/") if part]
    text = f"pkg:{kind}/" + "/".join([*parts, quote(name, safe=_SAFE)])
    epoch = None
    if version:
        epoch, version = split_epoch(version)
        text += "@" + quote(version, safe=_SAFE)
    return f"{text}?epoch={epoch}" if epoch else text


def os_purl(family: str | None, name: str | None, version: str | None) -> str | None:
    """The purl of an OS package from the OS family; None for an unknown family."""
    family = os_family(family)
    if not family or not name or family not in OS_FAMILIES:
        return None
    return build_purl(OS_FAMILIES[family], OS_NAMESPACES.get(family, family), name, version)


def language_purl(lang_type: str | None, name: str | None, version: str | None) -> str | None:
    """The purl of a language package from Trivy's type, naming it as Trivy does; None when unsure."""
    kind = LANG_PURL_TYPES.get((lang_type or "").lower())
    if kind is None or not name:
        return None
    namespace, _, short = name.rpartition("/")
    if kind == "maven":
        namespace, _, short = name.replace(":", "/").rpartition("/")
        if not namespace:
            return None  # a Maven package needs its group id
    elif kind == "pypi":
        namespace, short = "", name.lower().replace("_", "-")
    elif kind in ("npm", "golang"):
        namespace, short = namespace.lower(), short.lower()
    elif kind != "composer":
        namespace, short = "", name
    return build_purl(kind, namespace or None, short, version)


# ---------------------------------------------------------------------------------------------
# Component keys: what stays the same when a package is upgraded in place

_ABI_IN_KERNEL_NAME = re.compile(r"\d+\.\d+\.\d+-\d+")


def package_key(name: str, ecosystem: str | None = None) -> str:
    """A package name for a finding id: Debian/Ubuntu kernel packages carry their ABI version in
    the name (linux-image-5.10.0-21-amd64) and get a new name on every kernel update, which is
    written `<ANY>` here as Nessus writes it."""
    if ecosystem == "deb" and name.startswith("linux-"):
        return _ABI_IN_KERNEL_NAME.sub("<ANY>", name)
    return name


def versionless(text: str | None, version: str | None) -> str:
    """A path without the installed version it contains (`libs/commons-compress-1.14.jar`,
    `site-packages/pip-21.2.4.dist-info/METADATA`), so an upgrade in place keeps the key."""
    if not text:
        return ""
    if not version or len(version) < 2:
        return text
    pattern = rf"(?<=[-_/@=]){re.escape(version)}(?=[-_./]|$)"
    return re.sub(pattern, "<version>", text)


# ---------------------------------------------------------------------------------------------
# Vendor fix identifiers

_KB = re.compile(r"(KB)?(\d{6,7})", re.I)
_ADVISORY = (
    r"(?:RHSA|CESA|RLSA|ALSA)-\d{4}:\d{3,}|ELSA-\d{4}-\d{3,}|USN-\d{1,5}-\d{1,2}|(?:DSA|DLA)-\d{3,5}(?:-\d{1,2})?"
)
_FIX_REF = re.compile(
    rf"{_ADVISORY}|ALAS(?:2|2022|2023)?-\d{{4}}-\d{{3,}}|MS\d{{2}}-\d{{3}}|(?:open)?SUSE-SU-\d{{4}}:\d{{4,}}-\d", re.I
)
_IN_TEXT = re.compile(rf"\b(?:{_ADVISORY})\b", re.I)  # Amazon's URLs do not say AL1 or AL2 cleanly


def fix_ref(raw: str | None, *, kb_digits: bool = False) -> str | None:
    """A vendor fix identifier in canonical form (KB5034441, MS17-010, RHSA-2019:2304, USN-5062-1,
    DSA-4613-1, ALAS2-2023-2345...), else None. Bare digits are a KB number only with `kb_digits`
    (the value of an MSKB xref or an <mskb> element)."""
    text = (raw or "").strip()
    if kb := _KB.fullmatch(text):
        return f"KB{kb[2]}" if kb[1] or kb_digits else None
    if not _FIX_REF.fullmatch(text):
        return None
    upper = text.upper()
    return "openSUSE" + upper[8:] if upper.startswith("OPENSUSE") else upper


def fix_refs_in(text: str | None) -> list[str]:
    """Advisory ids written out in a text (Nessus see_also URLs), in canonical form."""
    return unique(fix_ref(match[0]) for match in _IN_TEXT.finditer(text or ""))


def unique(values: Iterable[str | None]) -> list[str]:
    """Values without None, empty and repeats, in first-seen order."""
    return list(dict.fromkeys(v for v in values if v))


# ---------------------------------------------------------------------------------------------
# Two sightings of one finding in one file


def merge_sighting(kept: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """One finding from two records with the same id in one file (e.g. two versions of one
    package in one lockfile): versions and fix refs are joined, a purl naming a single version
    is kept only when both agree, and for everything else the first record stands."""
    merged = dict(kept)
    for key in ("installed_version", "fixed_version"):
        joined = ", ".join(unique([*(kept.get(key) or "").split(", "), *(extra.get(key) or "").split(", ")]))
        if joined:
            merged[key] = joined
    if kept.get("purl") != extra.get("purl"):
        merged.pop("purl", None)
    refs = unique([*kept.get("fix_refs", []), *extra.get("fix_refs", [])])
    if refs:
        merged["fix_refs"] = refs
    return merged


def add_sighting(kept: dict[Any, ImportedRecord], key: Any, record: ImportedRecord) -> None:
    """Keep a record under its key; a finding already kept there is merged with it."""
    previous = kept.get(key)
    if previous is not None and record.kind == "findings":
        record = ImportedRecord(record.kind, merge_sighting(previous.data, record.data), previous.location)
    kept[key] = record


# ---------------------------------------------------------------------------------------------
# Naming another tool's document (an importer refuses it by name)

_GITLEAKS_KEYS = frozenset({"RuleID", "Secret", "Match", "Fingerprint", "StartLine"})
_GITLEAKS_V7_KEYS = frozenset({"rule", "offender", "leakURL", "lineNumber"})


def _entries(document: Any) -> list[dict[str, Any]]:
    return [e for e in document if isinstance(e, dict)] if isinstance(document, list) else []


def _named_object(document: dict[str, Any]) -> str | None:
    keys = set(document)
    if "SchemaVersion" in keys and {"ArtifactName", "Results", "ArtifactType"} & keys:
        return "a Trivy JSON report"
    if "ClusterName" in keys and {"Resources", "Vulnerabilities", "Misconfigurations"} & keys:
        return "a Trivy Kubernetes report (trivy k8s)"
    if "matches" in keys and ({"descriptor", "source", "distro"} & keys):
        return "a Grype JSON report"
    if document.get("bomFormat") == "CycloneDX":
        return "a CycloneDX document"
    if "spdxVersion" in keys:
        return "an SPDX document"
    if "runs" in keys and "version" in keys:
        return "a SARIF log"
    if "catalogVersion" in keys and "vulnerabilities" in keys:
        return "the CISA KEV catalog"
    if {"InstancePatchStates", "ComplianceItems", "Patches"} & keys:
        return "an AWS SSM output"
    if "SourceMetadata" in keys and ({"DetectorName", "DetectorType"} & keys):
        return "a TruffleHog finding"
    return None


def looks_like(document: Any) -> str | None:
    """Which known tool output a parsed JSON document is, for refusing it by name."""
    if isinstance(document, dict):
        return _named_object(document)
    entries = _entries(document)
    if entries and all(_GITLEAKS_KEYS & set(e) and "Target" not in e for e in entries):
        return "a Gitleaks report"
    if entries and all(_GITLEAKS_V7_KEYS & set(e) for e in entries):
        return "a Gitleaks v7 report"
    if entries and all("SourceMetadata" in e for e in entries):
        return "a TruffleHog report"
    return None


def not_this_format(what: str, document: Any, reason: str) -> str:
    """The message refusing a document: what it is not, and what it looks like when known."""
    seen = looks_like(document)
    return f"is not {what}: {f'it looks like {seen}' if seen else reason}"
