"""Every hostile or malformed input of the corpus gets one clear answer from the command line: its
exit code and message, no traceback, no internal error, no planted secret in any output, no evidence
file changed, no temporary file left behind, within bounded time and peak memory.

The cases run two at a time in subprocesses (started once for all selected cases); each test waits
for its own case and checks it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest

from hostile.corpus import CASES, SECRET, Case
from hostile.runner import Result, run_cli, tree_hashes

MAX_OUTPUT_CHARS = 20_000  # one clear message per problem: never a 1 GiB name or a dump of the evidence


@dataclass(frozen=True)
class Outcome:
    """A case's run and what it left behind."""

    result: Result
    before: dict[str, dict[str, str]]
    after: dict[str, dict[str, str]]
    leftovers: list[str]
    written: dict[str, str]  # every output file, as text


def _run(case: Case, base: Path) -> Outcome:
    inp, out, tmp = base / "in", base / "out", base / "tmp"
    inp.mkdir()
    tmp.mkdir()
    run = case.build(inp, out)
    before = {str(p): tree_hashes(p) for p in run.inputs}
    result = run_cli(list(run.args), tmpdir=tmp, timeout=case.seconds * 3, fsize_mib=case.fsize_mib)
    after = {str(p): tree_hashes(p) for p in run.inputs}
    written = {
        p.relative_to(out).as_posix(): p.read_bytes().decode("utf-8", "replace")
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }
    return Outcome(result, before, after, sorted(p.name for p in tmp.iterdir()), written)


def _params() -> list[object]:
    return [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow else []) for c in CASES]


@pytest.fixture(scope="session")
def corpus_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Outcome]]]:
    """Start every selected case at once, two at a time (the machine's cores), slow cases first."""
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if isinstance(getattr(item, "callspec", None) and item.callspec.params.get("case"), Case)
    ]
    selected.sort(key=lambda c: not c.slow)
    pool = ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2)), thread_name_prefix="corpus")
    try:
        yield {case.name: pool.submit(_run, case, tmp_path_factory.mktemp(case.name)) for case in selected}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("case", _params())
def test_hostile_input_gets_one_clear_answer(case: Case, corpus_runs: dict[str, Future[Outcome]]) -> None:
    outcome = corpus_runs[case.name].result()
    result = outcome.result
    shown = result.output[-3000:]
    assert result.code == case.code, shown
    assert re.search(case.message, result.output), shown
    assert "Traceback" not in result.output, shown
    assert "internal error" not in result.output, shown
    assert len(result.output) < MAX_OUTPUT_CHARS
    for secret in (SECRET, *case.absent):
        assert secret not in result.output, f"{secret!r} printed"
        assert not [name for name, text in outcome.written.items() if secret in text], f"{secret!r} written"
    for pattern, forbidden in case.forbidden:
        files = [name for name in outcome.written if fnmatch(name, pattern)]
        assert files, f"no output matches {pattern}"
        assert not [name for name in files if re.search(forbidden, outcome.written[name])], forbidden
    assert outcome.after == outcome.before, "an evidence file changed"
    assert outcome.leftovers == [], "temporary files left behind"
    assert result.rss_mib < case.rss_mib, f"peak RSS {result.rss_mib:.0f} MiB"
    assert result.seconds < case.seconds, f"took {result.seconds:.1f} s"


def test_the_corpus_covers_every_case_of_issue_11() -> None:
    names = {c.name for c in CASES}
    required = {
        "zip-names-differ-by-trailing-slash",
        "zip-names-differ-by-case",
        "dir-symlink-loop",
        "dir-dangling-symlink",
        "json-deep-exceptions",
        "jsonl-deep-agents",
        "records-jsonl-deep",
        "csv-json-cell-deep",
        "baseline-deep-json",
        "csv-cell-over-python-field-limit",
        "csv-invalid-utf8",
        "csv-overlong-encoding",
        "csv-lone-surrogate",
        "csv-utf16-bom",
        "yaml-year-zero",
        "manifest-period-end-9999",
        "yaml-february-30",
        "manifest-offset-99-hours",
        "tar-gnu-longname-1gib",
        "tar-pax-header-1gib",
        "parquet-row-bomb",
        "zip-bomb-1gib",
        "tar-bomb-1gib",
        "policy-hash-mismatch",
        "manifest-duplicate-key",
        "jsonl-duplicate-key",
        "jsonl-timestamp-year-zero",
        "csv-control-characters",
        "dir-control-character-name",
    }
    assert required <= names, sorted(required - names)
    assert len(names) == len(CASES), "case names are unique"
