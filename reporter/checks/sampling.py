"""The audit-sample design every check shares: how many population units a control's sample takes
and which ones (docs/report.md, "Audit samples"). Pure functions; `evaluate` applies them in SQL and
reporter/assess/sampling.py turns the stored sample into results.

An auditor re-derives the selection with sha256sum: seed = sha256(digest + ":" + control id);
each unit's rank = sha256(seed + ":" + key); the sample is the `sample_size` lowest ranks.
"""

from __future__ import annotations

import hashlib
import math

from reporter.models.policy import SamplingPolicy

# The selection key of a population unit: kind|record_id|asset_id|vuln_id|identity_id, an absent
# id as the empty string (a NULL would otherwise drop out of concat_ws and shift the fields).
KEY_FIELDS = ("kind", "record_id", "asset_id", "vuln_id", "identity_id")
SAMPLE_KEY = "concat_ws('|', " + ", ".join(f"COALESCE({f}, '')" for f in KEY_FIELDS) + ")"
METHOD = (
    "attribute sample, zero deviations expected: n = min(N, ceil(ln(1 - confidence) / ln(1 - tolerable rate))); "
    "seed = sha256(bundle digest + ':' + control id); rank = sha256(seed + ':' + kind|record_id|asset_id|vuln_id|"
    "identity_id); the n lowest ranks"
)


def design_size(confidence: float, tolerable_rate: float) -> int:
    """Sample size for `confidence` that no deviation in it bounds the deviation rate below
    `tolerable_rate`: the smallest n with (1 - tolerable_rate)^n <= 1 - confidence (the zero-deviation
    column of the AICPA attribute sampling tables: 0.95/0.05 → 59, 0.95/0.10 → 29, 0.90/0.05 → 45)."""
    exact = math.log(1 - confidence) / math.log(1 - tolerable_rate)
    # A quotient a rounding error above an integer (e.g. 2.0000000000000004) needs no extra unit.
    return max(1, math.ceil(exact - 1e-9))


def planned_size(policy: SamplingPolicy) -> int:
    """The sample size of any population at least that large: the design size, capped by max_size."""
    size = design_size(policy.confidence, policy.tolerable_rate)
    return size if policy.max_size is None else min(size, policy.max_size)


def sample_size(population: int, policy: SamplingPolicy) -> int:
    """How many of `population` units the sample takes: all of them when fewer than the design size."""
    return max(0, min(population, planned_size(policy)))


def sample_seed(digest: str, control_id: str) -> str:
    """The seed of a control's sample: hex sha256 of the bundle digest, ':' and the control id."""
    return hashlib.sha256(f"{digest}:{control_id}".encode()).hexdigest()


def sample_rank(seed: str, key: str) -> str:
    """A unit's rank in the selection order (the SQL of `evaluate` computes the same)."""
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()
