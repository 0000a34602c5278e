"""The PDF renderer's URL fetcher: deny by default. It serves the files shipped in templates/static/
(fonts) and the logo from memory under `asset:` URLs; any other URL — file:, http(s):, data:, ftp:,
an unknown asset — stops the rendering (FatalURLFetchingError: an unexpected URL means injection)."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

ASSET_SCHEME = "asset:"
MAX_ASSET_BYTES = 8 * 1024 * 1024


def static_assets(static_dir: Path) -> dict[str, tuple[bytes, str]]:
    """Every regular file under static_dir (no symlinks, nothing outside it) as asset:relative/path."""
    root = static_dir.resolve()
    assets: dict[str, tuple[bytes, str]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(root):
            continue
        if path.stat().st_size > MAX_ASSET_BYTES:
            continue
        rel = path.relative_to(root).as_posix()
        mime = mimetypes.guess_type(rel)[0] or ("font/ttf" if rel.endswith(".ttf") else "application/octet-stream")
        assets[ASSET_SCHEME + rel] = (path.read_bytes(), mime)
    return assets


class AssetFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint ships no type information
    """Serve only allow-listed in-memory assets; refuse every other URL and stop the rendering."""

    def __init__(self, assets: Mapping[str, tuple[bytes, str]]) -> None:
        super().__init__(timeout=1, allow_redirects=False, allowed_protocols={"asset"})
        self.assets = dict(assets)
        self.served: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """The asset's bytes, or FatalURLFetchingError."""
        del headers
        found = self.assets.get(url)
        if found is None:
            raise FatalURLFetchingError(f"blocked resource: {url[:120]!r}")
        self.served.append(url)
        body, mime = found
        return URLFetcherResponse(url, body, {"Content-Type": mime})
