"""The explicit registry of import formats: format name → importer."""

from __future__ import annotations

from reporter.importers import (
    apt_history,
    aws_ssm,
    aws_ssm_patches,
    cyclonedx,
    epss,
    gitleaks,
    grype,
    kev,
    nessus,
    trivy,
    trufflehog,
    windows_hotfix,
)
from reporter.importers.interface import Importer, UnknownFormatError

IMPORTERS: dict[str, Importer] = {
    importer.info.format: importer
    for importer in (
        trivy.IMPORTER,
        grype.IMPORTER,
        gitleaks.IMPORTER,
        trufflehog.IMPORTER,
        kev.IMPORTER,
        epss.IMPORTER,
        cyclonedx.IMPORTER,
        aws_ssm.IMPORTER,
        nessus.IMPORTER,
        aws_ssm_patches.IMPORTER,
        apt_history.IMPORTER,
        windows_hotfix.IMPORTER,
    )
}


def importer_formats() -> list[str]:
    """Known format names, sorted."""
    return sorted(IMPORTERS)


def get_importer(format_name: str) -> Importer:
    """The importer of a format; UnknownFormatError (exit 2) lists the known formats."""
    try:
        return IMPORTERS[format_name]
    except KeyError:
        raise UnknownFormatError(
            f"unknown import format {format_name[:60]!r}; known formats: " + ", ".join(importer_formats())
        ) from None
