"""A reference reading of the control semantics in the control plan, used to cross-check the samples.

The generator plants gaps through its Plant registry; this module independently evaluates every
control over the generated records and the generator fails when the two disagree, so the
expectations file is exhaustive. Where the plan can be read two ways (which rules set a due date,
what "active" or "open" means, whether an inconclusive verification counts...), the oracle
evaluates both readings and reports an ambiguity when they disagree on any record: the samples
are built so that every reasonable reading flags exactly the same records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from reporter.importers.interface import ImportContext
from reporter.importers.registry import get_importer
from reporter.importers.run import collect
from reporter.models import evidence as ev
from reporter.models.manifest import Manifest, Source
from reporter.models.policy import (
    ExceptionPolicy,
    NhiPolicy,
    PolicyFile,
    RolloutPolicy,
    ScanPolicy,
    SlaRule,
    VerificationPolicy,
)

Key = tuple[str, str]
Gaps = dict[str, dict[Key, dict[str, Any]]]

DAY = timedelta(days=1)
NON_PRODUCTION = {"staging", "development", "test", "qa", "sandbox"}
PRODUCTION = {"production"}
INSECURE_AUTH = {ev.AuthMethod.PASSWORD, ev.AuthMethod.BASIC, ev.AuthMethod.NONE}
INSECURE_STORAGE = {
    ev.SecretStorage.CODE,
    ev.SecretStorage.PLAINTEXT,
    ev.SecretStorage.CONFIG_FILE,
    ev.SecretStorage.CI_VARIABLE,
}
CONSEQUENTIAL = {ev.ToolPermission.WRITE, ev.ToolPermission.EXECUTE, ev.ToolPermission.ADMIN}
FOLLOW_UP = {
    ev.DeploymentStatus.FAILED,
    ev.DeploymentStatus.PARTIAL,
    ev.DeploymentStatus.PENDING_REBOOT,
}
REASSESSED_TYPES = {
    ev.RolloutEventType.FAILED_ROLLOUT,
    ev.RolloutEventType.ROLLBACK,
    ev.RolloutEventType.EMERGENCY_BYPASS,
    ev.RolloutEventType.EMERGENCY_MITIGATION,
}
AUTH_SCAN_TYPES = {
    ev.AssetType.SERVER,
    ev.AssetType.ENDPOINT,
    ev.AssetType.CLOUD_WORKLOAD,
    ev.AssetType.CONTAINER_IMAGE,
}
# Record kinds some control needs (kev_entries and epss_scores only enrich findings).
NEEDED_KINDS = (
    "assets",
    "observations",
    "scans",
    "findings",
    "deployments",
    "verifications",
    "exceptions",
    "rollout_events",
    "identities",
    "secret_exposures",
    "agents",
    "compensating_controls",
)
# BOD 26-04 Table 1: (kev, exposed, automatable, total impact) -> days (None = fix on upgrade).
BOD2604: dict[tuple[bool, bool, bool, bool], int | None] = {
    (False, False, False, False): None,
    (False, False, False, True): None,
    (True, False, False, False): 14,
    (False, True, False, False): 60,
    (False, False, True, False): 60,
    (False, False, True, True): 60,
    (True, True, False, False): 14,
    (True, False, True, False): 14,
    (False, True, True, False): 14,
    (True, False, False, True): 14,
    (False, True, False, True): 14,
    (True, True, True, False): 3,
    (False, True, True, True): 3,
    (True, True, False, True): 3,
    (True, False, True, True): 3,
    (True, True, True, True): 3,
}


@dataclass
class Evidence:
    """Everything a check sees: typed records by kind, the manifest and the bundle policy."""

    manifest: Manifest
    policy: PolicyFile | None
    records: dict[str, list[Any]]

    @property
    def start_at(self) -> datetime:
        return self.manifest.period.start_at

    @property
    def as_of(self) -> datetime:
        return self.manifest.period.end_at

    def kind(self, name: str) -> list[Any]:
        return self.records.get(name, [])


def tool_records(path: Path, source: Source) -> dict[str, list[dict[str, Any]]]:
    """What the engine loads from a tool's own file (kev-json, trivy-json, ...): the records the
    format's importer yields, by kind, with the context the loader gives it (the manifest's path,
    asset_id and collected_at). The oracle evaluates these, never the data a tool file was made from."""
    context = ImportContext(source_path=source.path, asset_id=source.asset_id, collected_at=source.collected_at)
    out: dict[str, list[dict[str, Any]]] = {}
    for record in collect(get_importer(source.effective_format), path, context):
        out.setdefault(record.kind, []).append(dict(record.data))
    return out


class AmbiguityError(AssertionError):
    """Two reasonable readings of the plan disagree on some records."""


@dataclass
class Oracle:
    """Evaluates every control; `ambiguities` collects records the readings disagree on."""

    evidence: Evidence
    ambiguities: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        e = self.evidence
        self.as_of = e.as_of
        self.start_at = e.start_at
        pf = e.policy or PolicyFile()
        self.nhi = pf.nhi or NhiPolicy()
        self.exc = pf.exceptions or ExceptionPolicy()
        self.ver = pf.verification or VerificationPolicy()
        self.rlb = pf.rollout or RolloutPolicy()
        self.scan_policy = pf.scans or ScanPolicy()
        self.org_rules: list[SlaRule] = [r for r in (pf.sla.rules if pf.sla else []) if r.enabled]
        self.skew = timedelta(minutes=self.ver.clock_skew_minutes)
        self.assets = {a.id: a for a in e.kind("assets")}
        self.findings = {f.id: f for f in e.kind("findings")}
        self.identities = {i.id: i for i in e.kind("identities")}
        self.agents = {a.id: a for a in e.kind("agents")}
        self.controls = {c.id: c for c in e.kind("compensating_controls")}
        self.deployments = {d.id: d for d in e.kind("deployments")}
        self._matched: dict[str, list[Any]] = {}
        self._index()

    # ------------------------------------------------------------------ indexes

    def _index(self) -> None:
        self._index_findings()
        self._index_observations()
        self.rollbacks: dict[str, list[datetime]] = defaultdict(list)
        for r in self.evidence.kind("rollout_events"):
            if r.type == ev.RolloutEventType.ROLLBACK:
                for fid in _event_findings(self, r):
                    self.rollbacks[fid].append(r.occurred_at)
        self.used_by: dict[str, list[Any]] = defaultdict(list)
        for ident in self.identities.values():
            for user in ident.used_by:
                self.used_by[user].append(ident)

    def _index_findings(self) -> None:
        """Findings by asset x vulnerability; verifications and deployments by finding."""
        by_asset_vuln: dict[tuple[str, str], list[str]] = defaultdict(list)
        for f in self.findings.values():
            by_asset_vuln[(f.asset_id, f.vuln_id)].append(f.id)
        self.by_asset_vuln = by_asset_vuln
        self.verifs: dict[str, list[Any]] = defaultdict(list)
        for v in self.evidence.kind("verifications"):
            for fid in self._verified_findings(v):
                self.verifs[fid].append(v)
        for items in self.verifs.values():
            items.sort(key=lambda v: (v.observed_at, v.id))
        scan_times = {s.id: s.completed_at for s in self.evidence.kind("scans")}
        self.sighted: dict[str, list[datetime]] = defaultdict(list)
        for f in self.findings.values():
            if f.scan_id in scan_times:
                self.sighted[f.id].append(scan_times[f.scan_id])
        self.deps_of: dict[str, list[Any]] = defaultdict(list)
        for d in self.evidence.kind("deployments"):
            for fid in self.targets(d):
                self.deps_of[fid].append(d)

    def _index_observations(self) -> None:
        """Sighting times per inventory asset (by asset_id, or by key when unresolved)."""
        self.observed: dict[str, list[datetime]] = defaultdict(list)
        keys = self._asset_keys()
        for o in self.evidence.kind("observations"):
            aid = o.asset_id or keys.get(o.asset_key)
            if aid:
                self.observed[aid].append(o.observed_at)

    def _asset_keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for a in self.assets.values():
            for key in (a.id, a.name, *a.aliases):
                keys.setdefault(key, a.id)
        return keys

    def _verified_findings(self, v: Any) -> list[str]:
        if v.finding_id:
            return [v.finding_id]
        if v.vuln_id:
            return list(self.by_asset_vuln.get((v.asset_id, v.vuln_id), []))
        return []

    def targets(self, d: Any) -> list[str]:
        """Findings a deployment is meant to fix."""
        found = list(d.finding_ids)
        for vid in d.vuln_ids:
            found.extend(x for x in self.by_asset_vuln.get((d.asset_id, vid), []) if x not in found)
        return found

    # ------------------------------------------------------------------ shared notions

    def ambiguous(self, control: str, what: str, a: Any, b: Any) -> None:
        if a != b:
            self.ambiguities.append(f"{control}: {what}: readings disagree ({a} vs {b})")

    def fixed_at(self, fid: str, at: datetime | None = None) -> datetime | None:
        """When the finding became verified-fixed: the first not_vulnerable result after the last
        vulnerable result or rollback (up to `at`), or None."""
        at = at or self.as_of
        events: list[tuple[datetime, int, str]] = [(v.observed_at, 0, v.result.value) for v in self.verifs.get(fid, [])]
        # a scan that reports the finding is vulnerable evidence at its time (docs/verification.md)
        events += [(t, 0, "vulnerable") for t in self.sighted.get(fid, [])]
        events += [(t, 1, "rollback") for t in self.rollbacks.get(fid, [])]
        latest_fix: datetime | None = None
        for moment, _, what in sorted(events):
            if moment > at:
                break
            if what in ("vulnerable", "rollback"):
                latest_fix = None
            elif what == "not_vulnerable" and latest_fix is None:
                latest_fix = moment
        return latest_fix

    def _dep_targets(self, dep_id: str) -> list[str]:
        d = self.deployments.get(dep_id)
        return self.targets(d) if d else []

    def is_open(self, fid: str) -> bool:
        return self.fixed_at(fid) is None

    def asset_of(self, f: Any) -> Any:
        return self.assets[f.asset_id]

    def urgent(self, f: Any) -> bool:
        return bool(f.kev) or bool(self.asset_of(f).internet_facing)

    def rule_applies(self, rule: SlaRule, f: Any) -> bool:
        a = self.asset_of(f)
        m = rule.match
        checks = [
            m.kev is None or bool(f.kev) == m.kev,
            m.internet_facing is None or bool(a.internet_facing) == m.internet_facing,
            not m.severity or f.severity in m.severity,
            m.compliance_scope is None or m.compliance_scope in a.compliance_scopes,
            not m.asset_criticality or a.criticality in m.asset_criticality,
            not m.bod2604_outcome,
        ]
        return all(checks)

    def _rule_due(self, rule: SlaRule, f: Any) -> datetime | None:
        if rule.deadline == "kev_due_date":
            return _day_start(f.kev_due_date) if f.kev_due_date else None
        start = f.first_detected_at
        if rule.clock_start == "patch_released" and f.patch_released_at:
            start = f.patch_released_at
        if rule.clock_start == "earlier_of_kev_and_detection" and f.kev_date_added:
            start = min(start, _day_start(f.kev_date_added))
        return start + timedelta(days=rule.days or 0)

    def due(self, f: Any) -> tuple[datetime | None, datetime | None]:
        """(loose, strict) due dates: the bundle's own rules; and those plus every plausible default."""
        loose = [d for r in self.org_rules if self.rule_applies(r, f) if (d := self._rule_due(r, f))]
        strict = list(loose)
        a = self.asset_of(f)
        exposed = bool(a.internet_facing)
        automatable = f.ssvc_automatable == ev.YesNo.YES
        total = f.ssvc_technical_impact != ev.TechnicalImpact.PARTIAL
        days = BOD2604[(bool(f.kev), exposed, automatable, total)]
        clock = f.first_detected_at
        if f.kev and f.kev_date_added:
            clock = min(clock, _day_start(f.kev_date_added))
        if days is not None:
            strict.append(clock + timedelta(days=days))
        if f.kev and f.kev_due_date:
            strict.append(_day_start(f.kev_due_date))
        fed = {"critical": 30, "high": 30, "medium": 90, "low": 180}.get(f.severity.value)
        if fed:
            strict.append(f.first_detected_at + timedelta(days=fed))
        if "pci" in a.compliance_scopes and f.patch_released_at:
            months = 30 if f.severity.value in ("critical", "high") else 90
            strict.append(f.patch_released_at + timedelta(days=months))
        if exposed and f.severity.value in ("critical", "high"):
            strict.append(f.first_detected_at + timedelta(days=15 if f.severity == "critical" else 30))
        return (min(loose) if loose else None, min(strict) if strict else None)

    # ------------------------------------------------------------------ exceptions

    def controls_of(self, e: Any) -> list[datetime | None]:
        """verified_at of every compensating control of an exception (inline and by id)."""
        dates = [c.verified_at for c in e.compensating_controls]
        dates += [self.controls[c].verified_at for c in e.compensating_control_ids if c in self.controls]
        return dates

    def has_control(self, e: Any) -> bool:
        return bool(e.compensating_controls or e.compensating_control_ids)

    def complete(self, e: Any) -> bool:
        fields = (e.owner, e.approver, e.approved_at, e.expires_at, e.justification)
        if any(x in (None, "") for x in fields):
            return False
        return not (e.risk_response == ev.RiskResponse.MITIGATE and not self.has_control(e))

    def asset_matches(self, e: Any, asset_id: str) -> bool:
        if not e.asset_ids and not e.asset_tags:
            return True
        a = self.assets.get(asset_id)
        tags = set(a.tags) if a else set()
        return asset_id in e.asset_ids or bool(tags & set(e.asset_tags))

    def matched_findings(self, e: Any) -> list[Any]:
        """Findings in an exception's scope (asset criterion x vulnerability criterion)."""
        if e.id not in self._matched:
            if not e.vuln_ids and not e.finding_ids:
                wanted = [] if e.control_ids or e.identity_ids else list(self.findings.values())
            else:
                wanted = [f for f in self.findings.values() if f.vuln_id in e.vuln_ids or f.id in e.finding_ids]
            self._matched[e.id] = [f for f in wanted if self.asset_matches(e, f.asset_id)]
        return self._matched[e.id]

    def matched_ids(self, e: Any) -> set[str]:
        return {f.id for f in self.matched_findings(e)}

    def fresh_control(self, e: Any) -> bool:
        """A compensating control verified within the policy's window before the last moment the
        exception applies: as_of (EXC-03's rule), or its expiry when earlier."""
        last = min(self.as_of, e.expires_at or self.as_of)
        limit = last - timedelta(days=self.exc.control_verification_max_days)
        return any(d and limit <= d < last for d in self.controls_of(e))

    def covered(self, f: Any, at: datetime) -> bool:
        """Covered at `at` by a valid exception: complete, in force, and — for a mitigation — backed by
        a control verified within the policy's window before as_of (a stale control excepts nothing,
        D17). Other readings: also with a control verified by `at`; also time-boxed and specific
        (EXC-04/05 clean). All must agree."""
        plain = controlled = boxed = False
        limit = timedelta(days=self.exc.max_duration_days)
        for e in self.evidence.kind("exceptions"):
            if f.id not in self.matched_ids(e) or not self.complete(e):
                continue
            if not (e.approved_at <= at < e.expires_at):
                continue
            if e.risk_response == ev.RiskResponse.MITIGATE and not self.fresh_control(e):
                continue
            plain = True
            verified = any(d and d <= at for d in self.controls_of(e))
            controlled = controlled or verified
            specific = bool(e.asset_ids or e.asset_tags)
            boxed = boxed or (verified and specific and e.expires_at - e.approved_at <= limit)
        self.ambiguous("exception validity", f"finding {f.id} at {at} (+control)", plain, controlled)
        self.ambiguous("exception validity", f"finding {f.id} at {at} (+time-boxed)", plain, boxed)
        return plain

    # ------------------------------------------------------------------ run

    def run(self) -> Gaps:
        gaps: Gaps = {}
        for control, method in CHECKS.items():
            gaps[control] = {}
            for key, extra in method(self):
                gaps[control][key] = extra
        return gaps


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


Result = Iterable[tuple[Key, dict[str, Any]]]


def _active_readings(a: Any) -> tuple[bool, bool, bool]:
    return (
        a.lifecycle != ev.Lifecycle.RETIRED,
        a.lifecycle != ev.Lifecycle.RETIRED and a.retired_at is None,
        a.lifecycle == ev.Lifecycle.ACTIVE,
    )


def _per_active_asset(o: Oracle, control: str, test: Callable[[Any], bool]) -> Result:
    """Flag assets failing `test` among active ones; every reading of "active" must agree."""
    for a in o.assets.values():
        if not test(a):
            continue
        readings = _active_readings(a)
        if len(set(readings)) > 1:
            o.ambiguous(control, f"asset {a.id} active?", readings[0], readings[1])
            o.ambiguous(control, f"asset {a.id} active?", readings[0], readings[2])
        if readings[0]:
            yield ("assets", a.id), {}


# ---------------------------------------------------------------------------------------------
# INV


def inv01(o: Oracle) -> Result:
    keys = o._asset_keys()
    unknown: dict[str, list[Any]] = defaultdict(list)
    for obs in o.evidence.kind("observations"):
        if not o.start_at <= obs.observed_at < o.as_of:
            continue
        if obs.asset_id in o.assets or obs.asset_key in keys:
            continue
        unknown[obs.asset_key].append(obs)
    for key, items in sorted(unknown.items()):
        items.sort(key=lambda x: (x.observed_at, x.id))
        yield ("observations", items[0].id), {"asset_key": key, "records": [x.id for x in items]}


def inv02(o: Oracle) -> Result:
    fields = ["owner", "criticality", "internet_facing", "environment"]
    return _per_active_asset(o, "INV-02", lambda a: any(getattr(a, f) in (None, "") for f in fields))


def _scanned(o: Oracle, asset_id: str, days: int, authenticated: bool) -> list[Any]:
    """Completed scans of an asset within `days` before as_of."""
    since = o.as_of - timedelta(days=days)
    return [
        s
        for s in o.evidence.kind("scans")
        if s.asset_id == asset_id
        and s.status == ev.ScanStatus.COMPLETED
        and since <= s.completed_at <= o.as_of
        and (s.authenticated or not authenticated)
    ]


def _cadence(o: Oracle, internet_facing: bool) -> int:
    p = o.scan_policy
    return p.external_cadence_days if internet_facing else p.internal_cadence_days


def _covered_by_scans(o: Oracle, a: Any, authenticated: bool, control: str) -> bool:
    """Scanned within cadence; for internet-facing assets the readings "any scan within 30 days"
    and "an external-scope scan within 30 days" must agree."""
    scans = _scanned(o, a.id, _cadence(o, bool(a.internet_facing)), authenticated)
    if a.internet_facing and not authenticated:
        external = [s for s in scans if s.scope == ev.ScanScope.EXTERNAL]
        o.ambiguous(control, f"asset {a.id} external scan", bool(scans), bool(external))
    return bool(scans)


def inv03(o: Oracle) -> Result:
    return _per_active_asset(
        o,
        "INV-03",
        lambda a: a.type != ev.AssetType.SAAS and not _covered_by_scans(o, a, False, "INV-03"),
    )


def inv04(o: Oracle) -> Result:
    return _per_active_asset(
        o,
        "INV-04",
        lambda a: a.type in AUTH_SCAN_TYPES and not _covered_by_scans(o, a, True, "INV-04"),
    )


def inv05(o: Oracle) -> Result:
    return _per_active_asset(o, "INV-05", lambda a: a.patch_automation is not True)


def inv06(o: Oracle) -> Result:
    for a in o.assets.values():
        if a.managed_by == ev.ManagedBy.INTERNAL:
            continue
        scans = [s for s in o.evidence.kind("scans") if s.asset_id == a.id and o.start_at <= s.completed_at < o.as_of]
        verifs = [
            v for v in o.evidence.kind("verifications") if v.asset_id == a.id and o.start_at <= v.observed_at < o.as_of
        ]
        completed = [s for s in scans if s.status == ev.ScanStatus.COMPLETED]
        o.ambiguous("INV-06", f"asset {a.id} scanned", bool(scans), bool(completed))
        if not a.owner or (not scans and not verifs):
            yield ("assets", a.id), {}


def inv07(o: Oracle) -> Result:
    for i in o.identities.values():
        if not i.owner or not i.purpose or i.last_reviewed_at is None:
            yield ("identities", i.id), {}
    for x in o.evidence.kind("secret_exposures"):
        if not x.identity_id:
            yield ("secret_exposures", x.id), {}


def inv08(o: Oracle) -> Result:
    def gap(a: Any) -> bool:
        if a.type != ev.AssetType.CONTAINER_RUNTIME:
            return False
        if not a.parent_image_id:
            return True
        image = o.assets[a.parent_image_id]
        short = bool(_scanned(o, image.id, o.scan_policy.external_cadence_days, False))
        long = bool(_scanned(o, image.id, o.scan_policy.internal_cadence_days, False))
        o.ambiguous("INV-08", f"runtime {a.id} image cadence 30 vs 90 days", short, long)
        return not long

    return _per_active_asset(o, "INV-08", gap)


# ---------------------------------------------------------------------------------------------
# PRI


def _both(o: Oracle, control: str, f: Any, test: Callable[[datetime | None], bool]) -> bool:
    loose, strict = o.due(f)
    a, b = test(loose), test(strict)
    o.ambiguous(control, f"finding {f.id} due loose={loose} strict={strict}", a, b)
    return a


def _sla_miss(o: Oracle, f: Any, due: datetime | None) -> bool:
    if due is None or due > o.as_of:
        return False
    fixed_then = o.fixed_at(f.id, due) is not None
    fixed_now = o.fixed_at(f.id)
    o.ambiguous("PRI-01", f"finding {f.id} fixed by due", fixed_then, bool(fixed_now and fixed_now <= due))
    return not fixed_then and not o.covered(f, due)


def pri01(o: Oracle) -> Result:
    for f in o.findings.values():
        if _both(o, "PRI-01", f, lambda due, f=f: _sla_miss(o, f, due)):
            yield ("findings", f.id), {}


def pri02(o: Oracle) -> Result:
    for f in o.findings.values():
        if not f.kev or not f.kev_due_date or f.kev_due_date >= o.as_of.date():
            continue
        start = _day_start(f.kev_due_date)
        late_a = o.fixed_at(f.id, start) is None
        late_b = o.fixed_at(f.id, start + DAY) is None
        o.ambiguous("PRI-02", f"finding {f.id} kev due-day boundary", late_a, late_b)
        if late_a:
            yield ("findings", f.id), {}


def pri03(o: Oracle) -> Result:
    for f in o.findings.values():
        a = o.asset_of(f)
        if not a.internet_facing or not (f.kev or f.severity in ("critical", "high")):
            continue
        if _both(o, "PRI-03", f, lambda due, f=f: bool(due and due < o.as_of and o.is_open(f.id))):
            yield ("findings", f.id), {}


def _backlog(o: Oracle, f: Any, due: datetime | None) -> bool:
    if not due or due >= o.as_of:
        return False
    state_open = f.state == ev.FindingState.OPEN
    o.ambiguous("PRI-04", f"finding {f.id} open", o.is_open(f.id), state_open)
    return o.is_open(f.id) and not o.covered(f, o.as_of)


def pri04(o: Oracle) -> Result:
    for f in o.findings.values():
        if _both(o, "PRI-04", f, lambda due, f=f: _backlog(o, f, due)):
            yield ("findings", f.id), {}


# ---------------------------------------------------------------------------------------------
# DEP / VER


def dep01(o: Oracle) -> Result:
    deployments = o.evidence.kind("deployments")
    for d in deployments:
        if d.status not in FOLLOW_UP:
            continue
        after = d.completed_at or d.started_at
        resolved = True
        for fid in o.targets(d):
            later = [
                x
                for x in deployments
                if x.status == ev.DeploymentStatus.SUCCEEDED
                and x.asset_id == d.asset_id
                and x.completed_at
                and x.completed_at > after
                and fid in o.targets(x)
            ]
            verified = [
                v
                for v in o.verifs.get(fid, [])
                if v.result == ev.VerificationResult.NOT_VULNERABLE and v.observed_at > after
            ]
            resolved = resolved and bool(later or verified)
        if not o.targets(d):
            o.ambiguities.append(f"DEP-01: deployment {d.id} has no findings")
        if not resolved:
            yield ("deployments", d.id), {}


def dep02(o: Oracle) -> Result:
    for d in o.evidence.kind("deployments"):
        if not d.change_ref:
            yield ("deployments", d.id), {}


def _dep_urgent(o: Oracle, d: Any) -> bool:
    return bool(o.assets[d.asset_id].internet_facing) or any(o.findings[f].kev for f in o.targets(d))


def _succeeded(o: Oracle) -> Iterable[Any]:
    for d in o.evidence.kind("deployments"):
        if d.status == ev.DeploymentStatus.SUCCEEDED and d.completed_at:
            yield d


def ver01(o: Oracle) -> Result:
    for d in _succeeded(o):
        window = timedelta(days=o.ver.window_days_urgent if _dep_urgent(o, d) else o.ver.window_days_default)
        lo, hi = d.completed_at - o.skew, d.completed_at + window
        missing_any = missing_decisive = False
        for fid in o.targets(d):
            inside = [v for v in o.verifs.get(fid, []) if lo <= v.observed_at <= hi]
            decisive = [v for v in inside if v.result != ev.VerificationResult.INCONCLUSIVE]
            missing_any = missing_any or not inside
            missing_decisive = missing_decisive or not decisive
        o.ambiguous("VER-01", f"deployment {d.id} inconclusive counts", missing_any, missing_decisive)
        if missing_any and hi > o.as_of:
            o.ambiguities.append(f"VER-01: deployment {d.id} window not elapsed at as_of")
        if missing_any:
            yield ("deployments", d.id), {}


def ver02(o: Oracle) -> Result:
    for d in _succeeded(o):
        first_any = first_decisive = False
        for fid in o.targets(d):
            later = [v for v in o.verifs.get(fid, []) if v.observed_at >= d.completed_at - o.skew]
            decisive = [v for v in later if v.result != ev.VerificationResult.INCONCLUSIVE]
            if later and later[0].result == ev.VerificationResult.VULNERABLE:
                first_any = True
            if decisive and decisive[0].result == ev.VerificationResult.VULNERABLE:
                first_decisive = True
        o.ambiguous("VER-02", f"deployment {d.id} first later verification", first_any, first_decisive)
        if first_any:
            yield ("deployments", d.id), {}


def _retired(o: Oracle, asset_id: str) -> bool:
    a = o.assets[asset_id]
    if a.lifecycle == ev.Lifecycle.RETIRED and a.retired_at:
        return True
    return any(
        r.type == ev.RolloutEventType.RETIREMENT and asset_id in r.asset_ids for r in o.evidence.kind("rollout_events")
    )


def ver03(o: Oracle) -> Result:
    for f in o.findings.values():
        if f.state != ev.FindingState.CLOSED or _retired(o, f.asset_id):
            continue
        if not any(v.result == ev.VerificationResult.NOT_VULNERABLE for v in o.verifs.get(f.id, [])):
            yield ("findings", f.id), {}


def ver04(o: Oracle) -> Result:
    events = o.evidence.kind("rollout_events")
    for f in o.findings.values():
        if o.fixed_at(f.id) is None:
            continue
        if f.state != ev.FindingState.CLOSED:
            o.ambiguities.append(f"VER-04: finding {f.id} verified fixed but open")
        deps = o.deps_of.get(f.id, [])
        by_event = any(f.id in r.finding_ids for r in events)
        succeeded = [d for d in deps if d.status == ev.DeploymentStatus.SUCCEEDED]
        any_status = not deps and not by_event
        o.ambiguous("VER-04", f"finding {f.id} deployment status", any_status, not succeeded and not by_event)
        if any_status:
            yield ("findings", f.id), {}


def ver05(o: Oracle) -> Result:
    for f in o.findings.values():
        a = o.asset_of(f)
        if not a.ephemeral or _retired(o, a.id):
            continue
        seen = [t for t in o.observed.get(a.id, []) if o.start_at <= t < o.as_of]
        last = max(seen) if seen else None
        if last and o.as_of - timedelta(days=14) < last < o.as_of - timedelta(days=2):
            o.ambiguities.append(f"VER-05: asset {a.id} last seen {last}: gone or not?")
        gone = a.retired_at is not None or last is None or last <= o.as_of - timedelta(days=14)
        if not gone:
            continue
        verifs = o.verifs.get(f.id, [])
        nv = [v for v in verifs if v.result == ev.VerificationResult.NOT_VULNERABLE]
        o.ambiguous("VER-05", f"finding {f.id} any verification", bool(verifs), bool(nv))
        if not verifs:
            yield ("findings", f.id), {}


def ver06(o: Oracle) -> Result:
    """A not-vulnerable verification record that a scan at or after it contradicts: a finding record
    naming a scan of the same asset and vulnerability, completed at or after the verification."""
    scan_times = {s.id: s.completed_at for s in o.evidence.kind("scans")}
    sightings: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for f in o.evidence.kind("findings"):
        if f.scan_id in scan_times:
            sightings[(f.asset_id, f.vuln_id)].append(scan_times[f.scan_id])
    for v in o.evidence.kind("verifications"):
        if v.result != ev.VerificationResult.NOT_VULNERABLE or v.observed_at >= o.as_of:
            continue
        vuln = o.findings[v.finding_id].vuln_id if v.finding_id in o.findings else v.vuln_id
        if any(v.observed_at <= seen < o.as_of for seen in sightings.get((v.asset_id, vuln or ""), [])):
            yield ("verifications", v.id), {}


# ---------------------------------------------------------------------------------------------
# EXC


def _active_exception(o: Oracle, e: Any) -> bool:
    return e.expires_at is None or e.expires_at > o.as_of


def exc01(o: Oracle) -> Result:
    for e in o.evidence.kind("exceptions"):
        if _active_exception(o, e) and not o.complete(e):
            yield ("exceptions", e.id), {}


def exc02(o: Oracle) -> Result:
    for e in o.evidence.kind("exceptions"):
        if e.expires_at is None or e.expires_at >= o.as_of:
            continue
        matched = o.matched_findings(e)
        open_now = [f for f in matched if o.is_open(f.id)]
        state_open = [f for f in matched if f.state == ev.FindingState.OPEN]
        o.ambiguous("EXC-02", f"exception {e.id} open findings", bool(open_now), bool(state_open))
        if open_now:
            yield ("exceptions", e.id), {}


def exc03(o: Oracle) -> Result:
    limit = o.as_of - timedelta(days=o.exc.control_verification_max_days)
    for e in o.evidence.kind("exceptions"):
        urgent = [f for f in o.matched_findings(e) if o.urgent(f)]
        if not urgent:
            continue
        if not _active_exception(o, e):
            o.ambiguities.append(f"EXC-03: expired exception {e.id} covers urgent findings")
        fresh = [d for d in o.controls_of(e) if d and d >= limit]
        if not fresh:
            yield ("exceptions", e.id), {}


def exc04(o: Oracle) -> Result:
    limit = timedelta(days=o.exc.max_duration_days)
    for e in o.evidence.kind("exceptions"):
        if e.expires_at is None:
            yield ("exceptions", e.id), {}
        elif e.approved_at is None:
            o.ambiguities.append(f"EXC-04: exception {e.id} has no approved_at")
        elif e.expires_at - e.approved_at > limit:
            yield ("exceptions", e.id), {}


def exc05(o: Oracle) -> Result:
    """A scope of assets (or tags), findings, identities or controls is specific; vulnerabilities
    without assets cover every asset; each named criterion must match the evidence."""
    for e in o.evidence.kind("exceptions"):
        named_assets = bool(e.asset_ids or e.asset_tags)
        criteria = (e.asset_ids, e.asset_tags, e.vuln_ids, e.finding_ids, e.identity_ids, e.control_ids)
        problems = (
            not any(criteria),  # names nothing it covers
            bool(e.vuln_ids) and not named_assets,  # its vulnerabilities on every asset
            named_assets and not any(o.asset_matches(e, a) for a in o.assets),
            bool(e.vuln_ids or e.finding_ids) and not o.matched_findings(e),
            bool(e.identity_ids) and not any(i in o.identities for i in e.identity_ids),
        )
        if any(problems):
            yield ("exceptions", e.id), {}


# ---------------------------------------------------------------------------------------------
# RLB


def _event_findings(o: Oracle, r: Any) -> list[str]:
    found = list(r.finding_ids)
    for dep_id in r.deployment_ids:
        found.extend(x for x in o._dep_targets(dep_id) if x not in found)
    return found


def rlb01(o: Oracle) -> Result:
    for r in o.evidence.kind("rollout_events"):
        if r.type not in REASSESSED_TYPES:
            continue
        findings = [o.findings[x] for x in _event_findings(o, r)]
        assets = set(r.asset_ids) | {f.asset_id for f in findings}
        urgent = any(o.assets[a].internet_facing for a in assets) or any(f.kev for f in findings)
        hours = o.rlb.reassessment_hours_urgent if urgent else o.rlb.reassessment_hours_default
        window = timedelta(hours=hours)
        if r.reassessed_at is None and r.occurred_at + window > o.as_of:
            o.ambiguities.append(f"RLB-01: event {r.id} window not elapsed")
        if r.reassessed_at is None or r.reassessed_at - r.occurred_at > window:
            yield ("rollout_events", r.id), {}


def rlb02(o: Oracle) -> Result:
    for r in o.evidence.kind("rollout_events"):
        if r.type != ev.RolloutEventType.ROLLBACK:
            continue
        for fid in _event_findings(o, r):
            verifs = o.verifs.get(fid, [])
            before = [v for v in verifs if v.result == "not_vulnerable" and v.observed_at < r.occurred_at]
            after = [v for v in verifs if v.result == "not_vulnerable" and v.observed_at > r.occurred_at]
            if before and not after:
                yield ("findings", fid), {"rollout_event": r.id}


def rlb03(o: Oracle) -> Result:
    for r in o.evidence.kind("rollout_events"):
        if r.type != ev.RolloutEventType.EMERGENCY_MITIGATION or r.permanent_fix_ref:
            continue
        fixed = [
            fid
            for fid in _event_findings(o, r)
            if any(v.result == "not_vulnerable" and v.observed_at > r.occurred_at for v in o.verifs.get(fid, []))
        ]
        everything = fixed and len(fixed) == len(_event_findings(o, r))
        o.ambiguous("RLB-03", f"event {r.id} some vs all findings fixed", bool(fixed), bool(everything))
        if not fixed:
            yield ("rollout_events", r.id), {}


# ---------------------------------------------------------------------------------------------
# NHI


def _ids(o: Oracle, test: Callable[[Any], bool]) -> Result:
    for i in o.identities.values():
        if test(i):
            yield ("identities", i.id), {}


def _rotation_breach(o: Oracle, i: Any) -> bool:
    if not i.enabled or i.short_lived:
        return False
    stamps = [t for t in (i.last_rotated_at, i.created_at) if t]
    if not stamps:
        o.ambiguities.append(f"NHI-07: identity {i.id} has no dates")
        return False
    old = max(stamps) < o.as_of - timedelta(days=o.nhi.rotation_max_days)
    return old or i.prior_secret_valid is True


def _leak_unrevoked(o: Oracle, x: Any) -> bool:
    revoked = x.revoked_at is not None and x.revoked_at <= o.as_of
    invalid = x.verified_invalid_at is not None and x.verified_invalid_at <= o.as_of
    o.ambiguous("NHI-02", f"exposure {x.id} revoked vs invalid", revoked, invalid)
    return not (revoked or invalid)


def _excepted(o: Oracle, identity_id: str, control: str) -> bool:
    for e in o.evidence.kind("exceptions"):
        if identity_id not in e.identity_ids or not o.complete(e):
            continue
        if e.control_ids and control not in e.control_ids:
            continue
        if e.approved_at <= o.as_of < e.expires_at:
            return True
    return False


def nhi01(o: Oracle) -> Result:
    return _ids(o, lambda i: i.enabled and (not i.owner or i.owner_active is False))


def nhi02(o: Oracle) -> Result:
    limit = timedelta(hours=o.nhi.leak_revoke_hours)
    for x in o.evidence.kind("secret_exposures"):
        if _leak_unrevoked(o, x):
            if x.detected_at + limit > o.as_of:
                o.ambiguities.append(f"NHI-02: exposure {x.id} revocation window not elapsed at as_of")
            yield ("secret_exposures", x.id), {}
            continue
        closed = min(t for t in (x.revoked_at, x.verified_invalid_at) if t)
        if closed - x.detected_at > limit:
            yield ("secret_exposures", x.id), {}


def nhi03(o: Oracle) -> Result:
    limit = o.as_of - timedelta(days=o.nhi.review_max_days)
    return _ids(
        o,
        lambda i: (
            i.third_party
            and (
                not i.third_party_vendor
                or i.privilege_admin
                or i.last_reviewed_at is None
                or i.last_reviewed_at < limit
            )
        ),
    )


def nhi04(o: Oracle) -> Result:
    return _ids(o, lambda i: i.enabled and i.auth_method in INSECURE_AUTH)


def nhi05(o: Oracle) -> Result:
    return _ids(
        o,
        lambda i: (
            i.enabled and ((i.privilege_admin and not _excepted(o, i.id, "NHI-05")) or (i.unused_permissions or 0) > 0)
        ),
    )


def nhi06(o: Oracle) -> Result:
    return _ids(o, lambda i: i.enabled and not i.short_lived and i.storage in INSECURE_STORAGE)


def nhi07(o: Oracle) -> Result:
    return _ids(o, lambda i: _rotation_breach(o, i))


def _environments(o: Oracle, i: Any) -> set[str]:
    envs = set(i.environments)
    for user in i.used_by:
        if user in o.assets and o.assets[user].environment:
            envs.add(o.assets[user].environment)
        if user in o.agents and o.agents[user].environment:
            envs.add(o.agents[user].environment)
    return envs


def nhi08(o: Oracle) -> Result:
    known = PRODUCTION | NON_PRODUCTION

    def mixed(i: Any) -> bool:
        envs = _environments(o, i)
        if envs - known and len(envs) > 1:
            o.ambiguities.append(f"NHI-08: identity {i.id} spans unclassified environments {envs}")
        return bool(envs & PRODUCTION) and bool(envs & NON_PRODUCTION)

    return _ids(o, mixed)


def _holders(o: Oracle, i: Any) -> tuple[set[str], set[str]]:
    """(asset ids, agent ids) using an identity."""
    agents = {u for u in i.used_by if u in o.agents}
    agents |= {a.id for a in o.agents.values() if i.id in a.identity_ids}
    assets = {u for u in i.used_by if u in o.assets}
    return assets, agents


def nhi09(o: Oracle) -> Result:
    def reused(i: Any) -> bool:
        assets, agents = _holders(o, i)
        owners = {o.assets[a].owner for a in assets} | {o.agents[a].owner for a in agents}
        return len({x for x in owners if x}) > 1 or bool(assets and agents)

    return _ids(o, reused)


def nhi10(o: Oracle) -> Result:
    return _ids(o, lambda i: i.interactive_use)


def nhi11(o: Oracle) -> Result:
    limit = timedelta(days=o.nhi.max_lifetime_days)

    def long_lived(i: Any) -> bool:
        if not i.enabled or i.short_lived:
            return False
        if i.expires_at is None:
            return True
        if i.created_at is None:
            o.ambiguities.append(f"NHI-11: identity {i.id} has no created_at")
            return False
        return i.expires_at - i.created_at > limit

    return _ids(o, long_lived)


def nhi12(o: Oracle) -> Result:
    limit = o.as_of - timedelta(days=o.nhi.dormant_days)

    def dormant(i: Any) -> bool:
        if not i.enabled:
            return False
        used = i.last_used_at if i.last_used_at is not None and i.last_used_at < o.as_of else None
        if used is None:
            # Unknown last use is undecidable (a gap, partial), unless the identity is too new to be dormant.
            return i.created_at is None or i.created_at < limit
        return used < limit

    return _ids(o, dormant)


def nhi13(o: Oracle) -> Result:
    limit = o.as_of - timedelta(days=o.nhi.review_max_days)
    return _ids(
        o,
        lambda i: (
            i.type == ev.IdentityType.SERVICE_ACCOUNT and (i.last_reviewed_at is None or i.last_reviewed_at < limit)
        ),
    )


def _breached(o: Oracle, i: Any) -> bool:
    leaks = [x for x in o.evidence.kind("secret_exposures") if x.identity_id == i.id]
    return any(_leak_unrevoked(o, x) for x in leaks) or _rotation_breach(o, i)


def nhi14(o: Oracle) -> Result:
    for a in o.assets.values():
        breached = [i for i in o.used_by.get(a.id, []) if _breached(o, i)]
        if not breached:
            continue
        relevant = [
            f for f in o.findings.values() if f.asset_id == a.id and (o.urgent(f) or f.severity in ("critical", "high"))
        ]
        if not relevant:
            o.ambiguities.append(f"NHI-14: asset {a.id} has no urgent/critical/high findings")
            continue
        if all(o.fixed_at(f.id) for f in relevant):
            yield ("assets", a.id), {"identities": sorted(i.id for i in breached)}


def nhi15(o: Oracle) -> Result:
    for f in o.findings.values():
        fixed = o.fixed_at(f.id)
        if not f.kev or fixed is None:
            continue
        identities = o.used_by.get(f.asset_id, [])
        if any(i.short_lived for i in identities):
            o.ambiguities.append(f"NHI-15: asset {f.asset_id} uses short-lived identities")
        stale = [i for i in identities if i.last_rotated_at is None or i.last_rotated_at <= fixed]
        if stale:
            yield ("findings", f.id), {"identities": sorted(i.id for i in stale)}


# ---------------------------------------------------------------------------------------------
# AGT


def agt01(o: Oracle) -> Result:
    limit = o.as_of - timedelta(days=o.nhi.review_max_days)
    for a in o.agents.values():
        if not a.owner or a.last_reviewed_at is None or a.last_reviewed_at < limit:
            yield ("agents", a.id), {}
    held = {i for a in o.agents.values() for i in a.identity_ids}
    for i in o.identities.values():
        if i.type == ev.IdentityType.AGENT_CREDENTIAL and i.id not in held:
            yield ("identities", i.id), {}


def agt02(o: Oracle) -> Result:
    held = {i for a in o.agents.values() for i in a.identity_ids}
    typed = {i.id for i in o.identities.values() if i.type == ev.IdentityType.AGENT_CREDENTIAL}
    for iid in sorted(held | typed):
        i = o.identities[iid]
        bad = not i.short_lived or i.privilege_admin
        if bad and iid not in held:
            o.ambiguities.append(f"AGT-02: identity {iid} is an agent credential held by no agent")
        if bad and iid in held:
            yield ("identities", iid), {}


def agt03(o: Oracle) -> Result:
    for a in o.agents.values():
        for tool in a.tools:
            if tool.permission in CONSEQUENTIAL and not tool.requires_approval:
                yield ("agents", a.id), {"tool": tool.name}


# ---------------------------------------------------------------------------------------------
# EVD


def evd01(o: Oracle) -> Result:
    # A canonical file provides its listed kind (even when empty); a tool file the kinds it yields.
    present = {s.kind for s in o.evidence.manifest.sources if s.kind}
    present |= {kind for kind, records in o.evidence.records.items() if records}
    for kind in NEEDED_KINDS:
        if kind not in present:
            yield ("kinds", kind), {}


def evd02(o: Oracle) -> Result:
    period = o.evidence.manifest.period
    for s in o.evidence.manifest.sources:
        a = s.collected_at < period.end_at - timedelta(days=14)
        b = s.collected_at < datetime.combine(period.end, time.min, tzinfo=UTC) - timedelta(days=14)
        o.ambiguous("EVD-02", f"source {s.path} boundary", a, b)
        if a:
            yield ("sources", s.path), {}


def evd03(o: Oracle) -> Result:
    for s in o.evidence.manifest.sources:
        if not s.sha256:
            yield ("sources", s.path), {}


CHECKS: dict[str, Callable[[Oracle], Result]] = {
    "INV-01": inv01,
    "INV-02": inv02,
    "INV-03": inv03,
    "INV-04": inv04,
    "INV-05": inv05,
    "INV-06": inv06,
    "INV-07": inv07,
    "INV-08": inv08,
    "PRI-01": pri01,
    "PRI-02": pri02,
    "PRI-03": pri03,
    "PRI-04": pri04,
    "DEP-01": dep01,
    "DEP-02": dep02,
    "VER-01": ver01,
    "VER-02": ver02,
    "VER-03": ver03,
    "VER-04": ver04,
    "VER-05": ver05,
    "VER-06": ver06,
    "EXC-01": exc01,
    "EXC-02": exc02,
    "EXC-03": exc03,
    "EXC-04": exc04,
    "EXC-05": exc05,
    "RLB-01": rlb01,
    "RLB-02": rlb02,
    "RLB-03": rlb03,
    "NHI-01": nhi01,
    "NHI-02": nhi02,
    "NHI-03": nhi03,
    "NHI-04": nhi04,
    "NHI-05": nhi05,
    "NHI-06": nhi06,
    "NHI-07": nhi07,
    "NHI-08": nhi08,
    "NHI-09": nhi09,
    "NHI-10": nhi10,
    "NHI-11": nhi11,
    "NHI-12": nhi12,
    "NHI-13": nhi13,
    "NHI-14": nhi14,
    "NHI-15": nhi15,
    "AGT-01": agt01,
    "AGT-02": agt02,
    "AGT-03": agt03,
    "EVD-01": evd01,
    "EVD-02": evd02,
    "EVD-03": evd03,
}


def evaluate(evidence: Evidence) -> tuple[Gaps, list[str]]:
    """Gaps per control and the ambiguities found (empty when every reading agrees)."""
    oracle = Oracle(evidence)
    gaps = oracle.run()
    return gaps, sorted(set(oracle.ambiguities))
