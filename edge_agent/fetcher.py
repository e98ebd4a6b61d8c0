"""Downloading bulletin audio into the content-addressed cache, checked against the signed manifest.

A download streams into `.{sha256}.part` beside the cache. The part survives a failed attempt,
a crash or a power cut, and the next attempt asks only for the missing bytes (HTTP Range). A
server that ignores Range (200 instead of 206) gets the whole file again. The finished file is
checked for length and SHA-256, fsynced and renamed into place, so the cache never holds a
partial or wrong file under a real name.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random
import re
import time
from pathlib import Path

from edge_agent.cache import MediaCache
from edge_agent.errors import ChecksumMismatch, DownloadError, SizeMismatch
from edge_agent.faults import MID_DOWNLOAD, fault_point
from edge_agent.media_client import HttpError, MediaClient

log = logging.getLogger(__name__)

PART_MAX_AGE_S = 24 * 3600.0
"""A partial download untouched this long is deleted at start rather than resumed."""
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def cached_path(dest_dir: Path, sha256: str) -> Path:
    """Where the audio with this SHA-256 lives in the cache."""
    return dest_dir / f"{sha256}.mp3"


def part_path(dest_dir: Path, sha256: str) -> Path:
    """Where a download of this SHA-256 in progress lives; the next attempt resumes from it."""
    return dest_dir / f".{sha256}.part"


async def fetch(
    client: MediaClient,
    url: str,
    sha256: str,
    size_bytes: int,
    dest_dir: Path,
    *,
    attempts: int = 3,
    backoff_s: float = 0.5,
    cache: MediaCache | None = None,
) -> Path:
    """Return the path of `{sha256}.mp3` in `dest_dir`, downloading it from `url` if needed.

    A cached file is re-hashed before it is trusted. Network errors, a cut connection and HTTP
    5xx/408/429 are retried `attempts` times with jittered exponential backoff, each retry
    resuming the part already received. A size or checksum mismatch raises at once
    (`SizeMismatch`, `ChecksumMismatch`), since the bytes contradict what the controller signed,
    except after a resume, where the part itself may be to blame: it is dropped and the next
    attempt starts afresh. With a `cache`, room is made first (least recently used audio that no
    upcoming play needs goes); if there is none, `CacheFull` (retryable).
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = cached_path(dest_dir, sha256)
    if dest.exists():
        if await asyncio.to_thread(_matches, dest, sha256, size_bytes):
            os.utime(dest)  # recently used: last in line for eviction
            return dest
        log.warning("cached audio %s does not match its checksum; downloading it again", dest.name)
        dest.unlink(missing_ok=True)
    for attempt in range(1, attempts + 1):
        try:
            if cache is not None:
                part = part_path(dest_dir, sha256)
                have = part.stat().st_size if part.exists() else 0
                await asyncio.to_thread(cache.make_room, max(0, size_bytes - have), sha256)
            return await _download(client, url, sha256, size_bytes, dest)
        except DownloadError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            delay = backoff_s * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            log.info("download of %s failed (%s); attempt %d of %d in %.1fs", url, exc, attempt + 1, attempts, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


async def _download(client: MediaClient, url: str, sha256: str, size_bytes: int, dest: Path) -> Path:  # noqa: C901 - resume, redirect, size and digest checks in one stream
    part = part_path(dest.parent, sha256)
    offset = part.stat().st_size if part.exists() else 0
    if offset > size_bytes:
        part.unlink()
        offset = 0
    digest = await asyncio.to_thread(_hash_file, part) if offset else hashlib.sha256()
    resumed = offset > 0
    try:
        if offset < size_bytes:
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            async with client.stream(url, headers) as response:
                code = response.status_code
                if code == 416:
                    part.unlink(missing_ok=True)
                    raise DownloadError(f"HTTP 416 for a resumed {url}; starting over", retryable=True)
                if code == 206 and offset:
                    start = _range_start(response.headers.get("content-range", ""))
                    if start != offset:
                        part.unlink(missing_ok=True)
                        raise DownloadError(f"server resumed {url} at {start}, not {offset}", retryable=True)
                    mode = "ab"
                elif code == 200:
                    if offset:
                        log.info("server ignored the Range request for %s; downloading it whole", url)
                    offset, digest, resumed, mode = 0, hashlib.sha256(), False, "wb"
                else:
                    raise DownloadError(f"HTTP {code} for {url}", retryable=code >= 500 or code in (408, 429))
                received = offset
                with part.open(mode) as out:
                    async for chunk in response.aiter_bytes():  # as received: a cut keeps what arrived
                        received += len(chunk)
                        if received > size_bytes:
                            part.unlink(missing_ok=True)
                            raise SizeMismatch(f"size-mismatch: {url} sent more than the expected {size_bytes} bytes")
                        digest.update(chunk)
                        out.write(chunk)
                        out.flush()
                        fault_point(MID_DOWNLOAD)
                    await asyncio.to_thread(os.fsync, out.fileno())
            if received != size_bytes:
                # The server finished its answer (a cut connection raises above): its file is not ours.
                part.unlink(missing_ok=True)
                raise SizeMismatch(f"size-mismatch: expected {size_bytes} bytes, got {received} from {url}")
        actual = digest.hexdigest()
        if actual != sha256:
            part.unlink(missing_ok=True)
            if resumed:
                raise DownloadError(f"resumed download of {url} did not verify; starting over", retryable=True)
            raise ChecksumMismatch(f"checksum-mismatch: expected sha256 {sha256}, got {actual} from {url}")
        await asyncio.to_thread(_install, part, dest)
        return dest
    except HttpError as exc:
        raise DownloadError(f"cannot download {url}: {exc}", retryable=True) from exc
    except OSError as exc:
        raise DownloadError(f"cannot write {dest}: {exc}", retryable=False) from exc


def _range_start(content_range: str) -> int | None:
    match = _CONTENT_RANGE.match(content_range.strip())
    return int(match.group(1)) if match else None


def _hash_file(path: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest


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
        return _hash_file(path).hexdigest() == sha256
    except OSError:
        return False


def remove_stale_parts(dest_dir: Path, *, max_age_s: float = PART_MAX_AGE_S, now_s: float | None = None) -> int:
    """Delete partial downloads too old to resume, and any of an older agent's randomly named parts."""
    removed = 0
    if not dest_dir.is_dir():
        return 0
    now_s = time.time() if now_s is None else now_s
    for part in dest_dir.glob(".*.part"):
        try:
            resumable = len(part.name) == len(".") + 64 + len(".part")
            if not resumable or now_s - part.stat().st_mtime > max_age_s:
                part.unlink()
                removed += 1
        except OSError:
            continue
    return removed


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
    total = 0
    for p in dest_dir.iterdir():
        if p.name.endswith((".mp3", ".part")):
            try:
                total += p.stat().st_size
            except OSError:
                continue
    return total
