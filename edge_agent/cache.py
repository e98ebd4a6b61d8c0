"""The media cache's size cap: least recently used audio goes first, audio an upcoming play needs never."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from edge_agent.errors import DownloadError

log = logging.getLogger(__name__)


class CacheFull(DownloadError):
    """No room for the download without evicting audio that an upcoming play needs. Retryable."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class MediaCache:
    """Keeps `{sha256}.mp3` files (and `.{sha256}.part` downloads) in `directory` under `max_bytes`.

    `protected()` returns the SHA-256s of audio an upcoming or current play needs: those are
    never evicted, whatever their age. Everything else goes oldest-used first (a file's mtime is
    touched each time it is used).
    """

    def __init__(self, directory: Path, max_bytes: int, protected: Callable[[], set[str]]) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._protected = protected

    def _files(self) -> list[tuple[float, int, str, Path]]:
        out: list[tuple[float, int, str, Path]] = []
        if not self.directory.is_dir():
            return out
        for path in self.directory.iterdir():
            if path.name.endswith(".mp3"):
                sha = path.name[: -len(".mp3")]
            elif path.name.startswith(".") and path.name.endswith(".part"):
                sha = path.name[1 : -len(".part")]
            else:
                continue
            try:
                st = path.stat()
            except OSError:
                continue
            out.append((st.st_mtime, st.st_size, sha, path))
        return out

    def usage(self) -> int:
        return sum(size for _, size, _, _ in self._files())

    def make_room(self, needed: int, for_sha: str) -> list[Path]:
        """Evict least recently used, unprotected files until `needed` more bytes fit. Returns what went.

        Raises `CacheFull` when even evicting everything allowed leaves too little room; nothing is
        deleted then.
        """
        files = self._files()
        used = sum(size for _, size, _, _ in files)
        if used + needed <= self.max_bytes:
            return []
        keep = self._protected() | {for_sha}
        candidates = sorted((f for f in files if f[2] not in keep), key=lambda f: f[0])
        freeable = sum(size for _, size, _, _ in candidates)
        if used - freeable + needed > self.max_bytes:
            raise CacheFull(
                f"cache-full: {needed} bytes for {for_sha[:12]} do not fit in {self.max_bytes} bytes"
                f" without evicting audio that upcoming plays need"
            )
        evicted: list[Path] = []
        for _, size, _sha, path in candidates:
            if used + needed <= self.max_bytes:
                break
            try:
                path.unlink()
            except OSError:
                continue
            used -= size
            evicted.append(path)
            log.info("evicted %s (%d bytes) from the media cache", path.name, size)
        return evicted
