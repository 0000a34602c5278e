"""The PDF renderer process (`python -m reporter.report.pdf_worker`): limits itself, renders the HTML
from standard input with WeasyPrint as PDF/A-3b with its attachments, writes the PDF to standard output.

Started only by reporter.report.sandbox. Exit codes: 0 ok, 2 bad input, 3 out of memory, 4 blocked
resource, 5 other failure (one line on standard error).
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import zlib
from datetime import UTC, datetime

from reporter.report.sandbox import EXIT_BLOCKED, EXIT_FAILED, EXIT_MEMORY, EXIT_PAYLOAD, PdfJob, decode
from reporter.report.templating import LOGO_ASSET
from reporter.resources import templates_dir

PDF_VARIANT = "pdf/a-3b"  # PDF/A-1 and -2 silently drop non-PDF attachments; A-3 keeps them


def limit(memory_mib: int, cpu_seconds: int) -> None:
    """Address space and CPU time of this process (and anything it would start)."""
    memory = memory_mib * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


def render(job: PdfJob) -> bytes:
    """The PDF bytes. Attachment and document dates come from the job (deterministic output)."""
    from weasyprint import HTML, Attachment  # noqa: PLC0415 - imported after the limits are set
    from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415

    from reporter.report.fetcher import AssetFetcher, static_assets  # noqa: PLC0415

    assets = static_assets(templates_dir() / "static")
    if job.logo_png:
        assets[LOGO_ASSET] = (job.logo_png, "image/png")
    fetcher = AssetFetcher(assets)
    created = _utc(job.created)
    attachments = [
        Attachment(
            string=a.data,
            name=a.name,
            description=a.description,
            relationship="Data",
            created=created,
            modified=created,
            url_fetcher=fetcher,
        )
        for a in job.attachments
    ]
    document = HTML(string=job.html, base_url=None, url_fetcher=fetcher)
    result: bytes = document.write_pdf(
        pdf_variant=PDF_VARIANT,
        attachments=attachments,
        font_config=FontConfiguration(),
        uncompressed_pdf=False,
        finisher=deflate_attachments,
    )
    return result


def deflate_attachments(document: object, pdf: object) -> None:
    """Deflate each embedded file once, at level 1. pydyf deflates every stream at level 9 each time its
    bytes are needed (for the PDF/A content-hash /ID and again for the file): for a findings.csv of
    hundreds of megabytes that alone took most of the rendering time. Same bytes inside, same filter."""
    import pydyf  # type: ignore[import-untyped]  # noqa: PLC0415 - loaded with weasyprint

    del document
    for item in pdf.objects:  # type: ignore[attr-defined]
        if not isinstance(item, pydyf.Stream) or not item.compress or item.extra.get("Type") != "/EmbeddedFile":
            continue
        if not all(isinstance(part, bytes) for part in item.stream):
            continue
        item.stream = [zlib.compress(b"\n".join(item.stream), 1)]
        item.compress = False
        item.extra["Filter"] = "/FlateDecode"


def _utc(moment: datetime) -> datetime:
    """WeasyPrint prints attachment dates as UTC ('D:%Y%m%d%H%M%SZ'); give it UTC."""
    return moment.astimezone(UTC)


def main(argv: list[str] | None = None) -> int:
    """Read, limit, render, write."""
    parser = argparse.ArgumentParser(prog=__name__)
    parser.add_argument("--memory-mib", type=int, required=True)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    args = parser.parse_args(argv)
    payload = sys.stdin.buffer.read()
    limit(args.memory_mib, args.cpu_seconds)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        job = decode(payload)
    except (ValueError, KeyError, TypeError) as exc:
        sys.stderr.write(f"bad input: {exc}\n")
        return EXIT_PAYLOAD
    del payload  # the job holds its own copy of each part
    try:
        pdf = render(job)
    except MemoryError:
        sys.stderr.write("out of memory\n")
        return EXIT_MEMORY
    except BaseException as exc:  # FatalURLFetchingError is a BaseException
        if type(exc).__name__ == "FatalURLFetchingError":
            sys.stderr.write(f"{exc}\n")
            return EXIT_BLOCKED
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        sys.stderr.write(f"{type(exc).__name__}: {str(exc)[:200]}\n")
        return EXIT_FAILED
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
