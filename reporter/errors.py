"""The one error hierarchy: every failure the user can act on carries an exit code and a location.

Only `reporter.cli` turns these into messages and exit codes. Messages never include raw
evidence beyond the short value that is wrong, and never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

# C0 and C1 controls, DEL, and the Unicode bidirectional controls (Trojan Source): evidence text
# carrying them must never reach a terminal raw (an ESC sequence, a newline forging an `error:` line).
CONTROL_CHARACTERS = frozenset(
    [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character written as an escape (\\x1b, \\u202e), so that it
    prints as what it is. With keep_newlines, newlines (the tool's own line breaks) stay."""
    if not any(ord(c) in CONTROL_CHARACTERS for c in text):
        return text
    return "".join(
        _escape(c) if ord(c) in CONTROL_CHARACTERS and not (keep_newlines and c == "\n") else c for c in text
    )


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class ExitCode(IntEnum):
    """Process exit codes, documented in docs/cli.md."""

    OK = 0
    GAPS = 1  # assessment found gaps at or above --fail-on
    USAGE = 2  # bad command line, or a path that is not a bundle
    INVALID = 3  # invalid bundle, evidence file, import input or mappings
    OUTPUT = 4  # an output could not be written
    INTERNAL = 5  # a bug or an environment failure (e.g. the PDF renderer crashed)
    UNVERIFIED = 6  # verify: a signature, a file's digest or the re-performed results do not match
    RESOURCE = 7  # a resource limit was reached (the evidence store's memory limit, the machine's memory)


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file relative to the bundle root, and optionally line/record/field."""

    file: str | None = None
    line: int | None = None
    record: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            elif self.record is not None:
                where += f" record {self.record}"
            parts.append(where)
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)


class ReporterError(Exception):
    """Base of every error the tool raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL
    default_code: str = "internal.error"

    def __init__(self, message: str, location: Location | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()
        self.code = code or self.default_code  # permanent issue code (docs/validation.md)

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message


class UsageError(ReporterError):
    """The command line asks for something impossible (e.g. a path that is not a bundle)."""

    exit_code = ExitCode.USAGE
    default_code = "usage.error"


class BundleError(ReporterError):
    """The bundle cannot be opened safely or its manifest is unusable."""

    exit_code = ExitCode.INVALID
    default_code = "bundle.unsafe"


class EvidenceError(BundleError):
    """One evidence file is malformed (bad encoding, NUL byte, line too long, not a list...)."""

    default_code = "file.unreadable"


class ImportFormatError(EvidenceError):
    """A native tool file (trivy, gitleaks, ...) cannot be read as that format."""

    default_code = "file.bad-tool-format"


class MappingsError(ReporterError):
    """The control library or an organisation pack is invalid."""

    exit_code = ExitCode.INVALID
    default_code = "mappings.invalid"


class OutputError(ReporterError):
    """An output file or directory could not be written."""

    exit_code = ExitCode.OUTPUT
    default_code = "output.error"


class VerificationError(ReporterError):
    """A signed report set or attestation does not verify: tampered, incomplete or not the attested one."""

    exit_code = ExitCode.UNVERIFIED
    default_code = "verify.failed"


class ResourceError(ReporterError):
    """A resource limit was reached: the message names the limit and the option that raises it."""

    exit_code = ExitCode.RESOURCE
    default_code = "resource.limit"


class RenderError(ReporterError):
    """The report renderer failed (time or memory limit, crash)."""

    exit_code = ExitCode.INTERNAL
