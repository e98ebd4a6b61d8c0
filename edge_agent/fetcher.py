"""Downloading bulletin audio into the content-addressed cache, checked against the signed manifest."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random
import secrets
from pathlib import Path

import httpx

from edge_agent.errors import ChecksumMismatch, DownloadError, SizeMismatch

log = logging.getLogger(__name__)

CHUNK = 64 * 1024


def cached_path(dest_dir: Path, sha256: str) -> Path:
    """Where the audio with this SHA-256 lives in the cache."""
    return dest_dir / f"{sha256}.mp3"


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    sha256: str,
    size_bytes: int,
    dest_dir: Path,
    *,
    attempts: int = 3,
    backoff_s: float = 0.5,
) -> Path:
    """Return the path of `{sha256}.mp3` in `dest_dir`, downloading it from `url` if needed.

    The body streams into a temporary file in the same folder, is checked for length and
    SHA-256, fsynced and renamed into place atomically, so the cache never holds a partial or
    wrong file under a real name. A cached file is re-hashed before it is trusted. Network
    errors and HTTP 5xx/408/429 are retried `attempts` times with jittered backoff; a size or
    checksum mismatch raises at once (`SizeMismatch`, `ChecksumMismatch`), since the bytes
    contradict what the controller signed.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = cached_path(dest_dir, sha256)
    if dest.exists():
        if await asyncio.to_thread(_matches, dest, sha256, size_bytes):
            os.utime(dest)  # recently used: keep it through the next prune
            return dest
        log.warning("cached audio %s does not match its checksum; downloading it again", dest.name)
        dest.unlink(missing_ok=True)
    for attempt in range(1, attempts + 1):
        try:
            return await _download(client, url, sha256, size_bytes, dest)
        except DownloadError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            delay = backoff_s * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            log.info("download of %s failed (%s); attempt %d of %d in %.1fs", url, exc, attempt + 1, attempts, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


async def _download(client: httpx.AsyncClient, url: str, sha256: str, size_bytes: int, dest: Path) -> Path:
    tmp = dest.with_name(f".{sha256}.{secrets.token_hex(4)}.part")
    digest = hashlib.sha256()
    received = 0
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                code = response.status_code
                raise DownloadError(f"HTTP {code} for {url}", retryable=code >= 500 or code in (408, 429))
            with tmp.open("wb") as out:
                async for chunk in response.aiter_bytes(CHUNK):
                    received += len(chunk)
                    if received > size_bytes:
                        raise SizeMismatch(f"size mismatch: {url} sent more than the expected {size_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
        if received != size_bytes:
            raise SizeMismatch(f"size mismatch: expected {size_bytes} bytes, got {received} from {url}")
        actual = digest.hexdigest()
        if actual != sha256:
            raise ChecksumMismatch(f"checksum mismatch: expected sha256 {sha256}, got {actual} from {url}")
        await asyncio.to_thread(_install, tmp, dest)
        return dest
    except httpx.HTTPError as exc:
        raise DownloadError(f"cannot download {url}: {type(exc).__name__}: {exc}", retryable=True) from exc
    except OSError as exc:
        raise DownloadError(f"cannot write {dest}: {exc}", retryable=False) from exc
    finally:
        tmp.unlink(missing_ok=True)


def _install(tmp: Path, dest: Path) -> None:
    tmp.replace(dest)
    fd = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _matches(path: Path, sha256: str, size_bytes: int) -> bool:
    try:
        if path.stat().st_size != size_bytes:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return False
    return digest.hexdigest() == sha256


def remove_stale_parts(dest_dir: Path) -> None:
    """Delete temporary files a crash left behind."""
    if dest_dir.is_dir():
        for part in dest_dir.glob(".*.part"):
            part.unlink(missing_ok=True)


def prune(dest_dir: Path, keep: set[str], *, older_than_s: float, now_s: float) -> int:
    """Delete cached audio not in `keep` (SHA-256s) and untouched for `older_than_s`. Returns files removed."""
    removed = 0
    if not dest_dir.is_dir():
        return 0
    for path in dest_dir.glob("*.mp3"):
        if path.stem in keep:
            continue
        try:
            if now_s - path.stat().st_mtime >= older_than_s:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def cache_bytes(dest_dir: Path) -> int:
    if not dest_dir.is_dir():
        return 0
    return sum(p.stat().st_size for p in dest_dir.glob("*.mp3") if p.is_file())
