"""Runs the PDF renderer in a disposable subprocess with an address-space limit (RLIMIT_AS), a CPU
limit and a wall-clock timeout. The subprocess receives the HTML, the attachment bytes and the logo
on standard input — never the evidence — and answers with the PDF on standard output. It can render
while the caller does other work (start_pdf)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reporter.errors import RenderError

if TYPE_CHECKING:  # the worker imports this module: it starts without the report's models (performance.md)
    from reporter.report.interface import RenderLimits

WORKER = "reporter.report.pdf_worker"
LOGO_ASSET = "asset:logo.png"  # the name the HTML gives the job's logo; the worker serves it
# Worker exit codes (reporter/report/pdf_worker.py).
EXIT_PAYLOAD, EXIT_MEMORY, EXIT_BLOCKED, EXIT_FAILED = 2, 3, 4, 5


@dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in the PDF (PDF/A-3 associated file, relationship Data)."""

    name: str
    description: str
    data: bytes


@dataclass(frozen=True)
class PdfJob:
    """Everything the worker needs to produce one PDF."""

    html: str
    attachments: tuple[PdfAttachment, ...]
    created: datetime  # PDF and attachment dates: the document date, never the render time
    logo_png: bytes | None = None
    figure_alts: tuple[tuple[str, str], ...] = ()  # (chart title, full text alternative), in document order


def encode(job: PdfJob) -> bytes:
    """One JSON header line with lengths, then the HTML, each attachment and the logo, raw."""
    html = job.html.encode("utf-8")
    logo = job.logo_png or b""
    header = {
        "created": job.created.isoformat(),
        "html": len(html),
        "attachments": [{"name": a.name, "description": a.description, "size": len(a.data)} for a in job.attachments],
        "logo": len(logo),
        "figure_alts": [list(pair) for pair in job.figure_alts],
    }
    # One join: attachments can be hundreds of megabytes, so no intermediate copies.
    return b"".join([json.dumps(header).encode(), b"\n", html, *(a.data for a in job.attachments), logo])


def decode(payload: bytes) -> PdfJob:
    """The inverse of encode; ValueError when the payload is malformed."""
    end = payload.find(b"\n")
    if end < 0:
        raise ValueError("no header line")
    header = json.loads(payload[:end])
    body = memoryview(payload)[end + 1 :]  # slices of a memoryview copy nothing until bytes() below
    offset = int(header["html"])
    html = str(body[:offset], "utf-8")
    attachments = []
    for spec in header["attachments"]:
        size = int(spec["size"])
        data = bytes(body[offset : offset + size])
        attachments.append(PdfAttachment(str(spec["name"]), str(spec["description"]), data))
        offset += size
    logo = bytes(body[offset : offset + int(header["logo"])]) or None
    if offset + int(header["logo"]) != len(body):
        raise ValueError("payload length does not match its header")
    alts = tuple((str(title), str(alt)) for title, alt in header.get("figure_alts", []))
    return PdfJob(html, tuple(attachments), datetime.fromisoformat(header["created"]), logo, alts)


def render_pdf(job: PdfJob, limits: RenderLimits) -> bytes:
    """Render in a subprocess; RenderError (exit 5) on timeout, memory exhaustion or any failure."""
    return start_pdf(job, limits).result()


def start_pdf(job: PdfJob, limits: RenderLimits) -> PdfRender:
    """Start the renderer and return at once: the caller can do other work while it renders, then
    takes the PDF with `result()` (or ends it with `stop()`)."""
    return PdfRender(job, limits)


class PdfRender:
    """One renderer subprocess. Its job is handed over as a file on standard input (written before it
    starts, so no pipe can block either side), and a thread of ours reads its output as it comes, so
    that it exits as soon as the PDF is written instead of waiting on a full pipe for `result()`:
    `done()` then says its memory is free (D114). Its temporary files (WeasyPrint's font folders) go
    into a directory of our own, removed however it ends: finished, killed at its time or memory
    limit, or stopped with us."""

    def __init__(self, job: PdfJob, limits: RenderLimits) -> None:
        self._limits = limits
        env = dict(os.environ)
        # fontTools (the subsetting fallback) stamps fonts with SOURCE_DATE_EPOCH instead of the clock.
        env["SOURCE_DATE_EPOCH"] = str(int(job.created.timestamp()))
        env["PYTHONHASHSEED"] = "0"
        command = [
            sys.executable,
            "-m",
            WORKER,
            "--memory-mib",
            str(limits.memory_mib),
            "--cpu-seconds",
            str(int(limits.timeout_s) + 5),
        ]
        self._scratch = Path(tempfile.mkdtemp(prefix="exposure-reporter-pdf-"))
        env["TMPDIR"] = str(self._scratch)
        try:
            payload = self._scratch / "job"
            payload.write_bytes(encode(job))
            with payload.open("rb") as stdin:
                self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
                    command, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
                )
            payload.unlink()  # the worker holds it open
        except BaseException:
            shutil.rmtree(self._scratch, ignore_errors=True)
            raise
        self._deadline = time.monotonic() + limits.wall_s
        self._output: tuple[bytes, bytes] = (b"", b"")
        self._reader = threading.Thread(target=self._collect, name="pdf-output", daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        """The reader thread: the worker's standard output and error, until it exits."""
        self._output = self._process.communicate()

    def done(self) -> bool:
        """Whether the renderer has exited and its output is read: it holds no memory any more."""
        return not self._reader.is_alive()

    def result(self) -> bytes:
        """Wait for the PDF (until the wall-clock limit counted from the start)."""
        self._reader.join(timeout=max(0.0, self._deadline - time.monotonic()))
        timed_out = self._reader.is_alive()
        self.stop()
        if timed_out:
            raise RenderError(
                f"PDF rendering did not finish within {self._limits.wall_s:g} s of wall-clock time and was stopped "
                "(the machine may be overloaded)"
            )
        out, err = self._output
        if self._process.returncode == 0 and out.startswith(b"%PDF-"):
            return out
        raise RenderError(_failure(self._process.returncode, err, self._limits))

    def stop(self) -> None:
        """End the renderer if it still runs and remove its temporary files (idempotent)."""
        if self._process.poll() is None:
            self._process.kill()
        self._reader.join()  # the pipes close with the process
        shutil.rmtree(self._scratch, ignore_errors=True)


def _failure(code: int, stderr: bytes, limits: RenderLimits) -> str:
    last = (stderr.decode("utf-8", "replace").strip().splitlines() or [""])[-1][:300]
    if code == EXIT_MEMORY or code < 0:
        return (
            f"PDF rendering stopped: it exceeded the renderer's limits ({limits.memory_mib} MiB address space, "
            f"{limits.timeout_s:g} s) [{last or f'signal {-code}'}]"
        )
    if code == EXIT_BLOCKED:
        return f"PDF rendering stopped: the document asked for a resource outside the report's assets [{last}]"
    return f"PDF rendering failed (exit {code}): {last or 'no message'}"
