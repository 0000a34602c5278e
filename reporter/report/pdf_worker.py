"""The PDF renderer process (`python -m reporter.report.pdf_worker`): limits itself, renders the HTML
from standard input with WeasyPrint as a tagged PDF/A-3b with its attachments (structure tree, language,
headings, table header cells with their scope, charts with their full text alternative), writes the
PDF to standard output.

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
from typing import Any

from reporter.report.sandbox import EXIT_BLOCKED, EXIT_FAILED, EXIT_MEMORY, EXIT_PAYLOAD, LOGO_ASSET, PdfJob, decode
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

    cache_page_references()
    serialize_objects_once()

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

    def finish(rendered: object, pdf: object) -> None:
        deflate_attachments(rendered, pdf)
        single_associated_files(pdf)
        complete_tags(pdf, job.figure_alts)

    result: bytes = document.write_pdf(
        pdf_variant=PDF_VARIANT,
        pdf_tags=True,  # a tagged PDF: structure tree, /Lang, headings, tables, figures with /Alt
        attachments=attachments,
        font_config=FontConfiguration(),
        uncompressed_pdf=False,
        finisher=finish,
    )
    return result


def cache_page_references() -> None:
    """pydyf builds `PDF.page_references` (a tuple of every page's reference) anew on each access, and
    WeasyPrint's tagging reads it once per tagged element: for the 125 pages of a million-finding
    report that is 46,715 tuples of 125, 2.1 s of its 23.6 s. The same tuple, kept until a page is
    added (the pages' Kids list only grows); the PDF's bytes are unchanged (tests/report)."""
    import pydyf  # noqa: PLC0415 - loaded with weasyprint

    original = pydyf.PDF.__dict__.get("page_references")
    build = original.fget if isinstance(original, property) else None
    if build is None or getattr(build, "cached", False):
        return  # another pydyf, or already done

    def page_references(pdf: Any) -> Any:
        kids = pdf.pages["Kids"]
        key = (id(kids), len(kids))
        cached = pdf.__dict__.get("_exposure_reporter_page_references")
        if cached is None or cached[0] != key:
            cached = (key, build(pdf))
            pdf.__dict__["_exposure_reporter_page_references"] = cached
        return cached[1]

    page_references.cached = True  # type: ignore[attr-defined]
    page_references.original = original  # type: ignore[attr-defined]
    pydyf.PDF.page_references = property(page_references)


def serialize_objects_once() -> None:
    """pydyf's `PDF.write` serializes every object twice when the PDF has an identifier (PDF/A
    always does): once to write it, once more for the MD5 of the /ID, each time deflating its
    stream again at level 9, the object stream that holds the structure elements among them. A
    million-finding report's write took 1.7 s, 1.2 s with each object's bytes kept (D113). During a
    write, the bytes of each object the PDF holds (or adds while writing) are kept after their first
    serialization; nested direct objects and the temporary ones pydyf makes while serializing are
    serialized as before. The PDF's bytes are unchanged (tests/report). A pydyf whose classes no
    longer define `data` themselves is left as it is."""
    import pydyf  # noqa: PLC0415 - loaded with weasyprint

    if getattr(pydyf.PDF.write, "once", False):
        return
    write, add_object = pydyf.PDF.write, pydyf.PDF.add_object
    kept: dict[int, bytes] = {}
    held: set[int] = set()  # ids of the objects of the PDF being written (alive until it is written)

    def keep(cls: type) -> None:
        own = cls.__dict__.get("data")
        if not isinstance(own, property) or own.fget is None:
            return
        serialize = own.fget

        def data(self: Any) -> bytes:
            key = id(self)
            if key not in held:
                return serialize(self)  # type: ignore[no-any-return]
            found = kept.get(key)
            if found is None:
                found = kept[key] = serialize(self)
            return found

        cls.data = property(data)  # type: ignore[attr-defined]

    for cls in (pydyf.Dictionary, pydyf.Stream, pydyf.String, pydyf.Array):
        keep(cls)

    def add_during_write(self: Any, item: Any) -> Any:
        if held:  # a write is under way (a PDF always holds its free object 0)
            held.add(id(item))
        return add_object(self, item)

    def write_once(self: Any, *args: Any, **kwargs: Any) -> Any:
        held.update(id(item) for item in self.objects)
        try:
            return write(self, *args, **kwargs)
        finally:
            held.clear()
            kept.clear()

    write_once.once = True  # type: ignore[attr-defined]
    write_once.original = write  # type: ignore[attr-defined]
    pydyf.PDF.write = write_once
    pydyf.PDF.add_object = add_during_write


def complete_tags(pdf: object, figure_alts: tuple[tuple[str, str], ...]) -> None:
    """What WeasyPrint's tagging leaves out: the /Scope of each table header cell (Column in a THead,
    else Row: the report's row headers are the first cell of body rows) and, for each chart, the full
    text alternative (its title and every number of its description) instead of the title alone."""
    import pydyf  # noqa: PLC0415 - loaded with weasyprint

    objects: list[Any] = pdf.objects  # type: ignore[attr-defined]
    pending = list(figure_alts)

    def parent(element: Any) -> Any:
        reference = element.get("P")  # b"12 0 R"
        found = objects[int(reference.split()[0])] if isinstance(reference, bytes) else None
        return found if isinstance(found, pydyf.Dictionary) else None

    for item in objects:
        if not isinstance(item, pydyf.Dictionary) or item.get("Type") != "/StructElem":
            continue
        if item.get("S") == "/TH":
            row = parent(item)
            group = parent(row) if row is not None else None
            scope = "/Column" if group is not None and group.get("S") == "/THead" else "/Row"
            item.setdefault("A", pydyf.Dictionary({"O": "/Table"}))["Scope"] = scope
        elif item.get("S") == "/Figure" and isinstance(item.get("Alt"), pydyf.String) and pending:
            title, alt = pending[0]
            if item["Alt"].string == title:
                item["Alt"] = pydyf.String(alt)
                pending.pop(0)


def single_associated_files(pdf: object) -> None:
    """One /AF entry per attachment: WeasyPrint's PDF/A-3 step lists each file specification twice (once
    from the EmbeddedFiles name tree, once from the object itself), which validators flag as duplicates."""
    import pydyf  # noqa: PLC0415 - loaded with weasyprint

    catalog: Any = pdf.catalog  # type: ignore[attr-defined]
    if "AF" in catalog:
        catalog["AF"] = pydyf.Array(dict.fromkeys(catalog["AF"]))


def deflate_attachments(document: object, pdf: object) -> None:
    """Deflate each embedded file once, at level 1. pydyf deflates every stream at level 9 each time its
    bytes are needed (for the PDF/A content-hash /ID and again for the file): for a findings.csv of
    hundreds of megabytes that alone took most of the rendering time. Same bytes inside, same filter."""
    import pydyf  # noqa: PLC0415 - loaded with weasyprint

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
