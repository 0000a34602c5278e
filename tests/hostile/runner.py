"""Run the command line in a subprocess and measure it: exit code, output, wall time and peak RSS
(from os.wait4, so the measure is this child's own), with a private TMPDIR so leftovers show."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

EPOCH = "1790000000"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Result:
    """What one run did."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    rss_mib: float

    @property
    def output(self) -> str:
        """Standard output and standard error together."""
        return self.stdout + self.stderr


# A small launcher forks the command and reports the child's own peak RSS: measured from the test
# process itself, a child would inherit the parent's high-water mark at fork (Linux), so a test
# process that built a large input would make every later command look large.
_LAUNCHER = """
import os, resource, signal, sys
fsize, report, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid = os.fork()
if pid == 0:
    if fsize:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the cap fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    os.execv(argv[0], argv)
for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(number, lambda n, f: os.kill(pid, n))
while True:
    try:
        _, status, usage = os.wait4(pid, 0)
        break
    except InterruptedError:
        continue
with open(report, "w") as handle:
    handle.write(f"{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run_cli(
    args: list[str],
    *,
    tmpdir: Path,
    timeout: float = 120.0,
    fsize_mib: float | None = None,
    cwd: Path | None = None,
    after_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
    stdout: int | None = None,
) -> Result:
    """`python -m reporter ARGS` with TMPDIR=tmpdir, its own peak RSS measured; killed (with its
    process group) after `timeout` seconds. `after_start` can signal or read the process."""
    env = {**os.environ, "TMPDIR": str(tmpdir), "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(ROOT)}
    env.pop("COLUMNS", None)
    fsize = int((fsize_mib or 0) * 1024 * 1024)
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "usage"
        out_path, err_path = Path(scratch) / "out", Path(scratch) / "err"
        command = [sys.executable, "-S", "-c", _LAUNCHER, str(fsize), str(report), sys.executable, "-m", "reporter"]
        start = time.monotonic()
        with out_path.open("wb") as out, err_path.open("wb") as err:
            process = subprocess.Popen(
                [*command, *args],
                stdout=stdout if stdout is not None else out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=cwd or ROOT,
                env=env,
                start_new_session=True,
            )
            timer = threading.Timer(timeout, lambda: os.killpg(process.pid, signal.SIGKILL))
            timer.start()
            try:
                if after_start is not None:
                    after_start(process)
                process.wait()
            finally:
                timer.cancel()
        seconds = time.monotonic() - start
        rss_kib, code = report.read_text().split() if report.exists() else ("0", str(process.returncode))
        return Result(
            int(code),
            out_path.read_bytes().decode("utf-8", "replace"),
            err_path.read_bytes().decode("utf-8", "replace"),
            seconds,
            int(rss_kib) / 1024,
        )


def tree_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every regular file under root (links and special files by their kind only)."""
    if not root.exists() and not root.is_symlink():
        return {}
    if root.is_file() and not root.is_symlink():
        return {root.name: hashlib.sha256(root.read_bytes()).hexdigest()}
    hashes: dict[str, str] = {}
    for current, dirs, files in os.walk(root, followlinks=False):
        for name in sorted(files + [d for d in dirs if (Path(current) / d).is_symlink()]):
            path = Path(current) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                hashes[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                hashes[rel] = "special"
    return hashes
