"""Downloads over real HTTP into the content-addressed cache, checked against size and SHA-256."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from edge_agent.errors import ChecksumMismatch, DownloadError, SizeMismatch
from edge_agent.fetcher import cached_path, fetch, prune, remove_stale_parts
from tests.edge_agent.conftest import Audio, MediaServer, fake_mp3


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


@pytest.mark.asyncio
async def test_fetch_stores_the_file_under_its_sha(http: httpx.AsyncClient, audio: Audio, tmp_path: Path) -> None:
    path = await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path / "media")
    assert path == cached_path(tmp_path / "media", audio.sha256)
    assert path.read_bytes() == audio.data
    assert leftovers(tmp_path / "media") == []


@pytest.mark.asyncio
async def test_a_valid_cached_file_is_not_downloaded_again(
    http: httpx.AsyncClient, audio: Audio, media: MediaServer, tmp_path: Path
) -> None:
    await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path)
    await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path)
    assert media.requests[audio.path] == 1


@pytest.mark.asyncio
async def test_a_corrupt_cached_file_is_replaced(
    http: httpx.AsyncClient, audio: Audio, media: MediaServer, tmp_path: Path
) -> None:
    cached_path(tmp_path, audio.sha256).write_bytes(b"x" * audio.size_bytes)
    path = await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path)
    assert path.read_bytes() == audio.data
    assert media.requests[audio.path] == 1


@pytest.mark.asyncio
async def test_checksum_mismatch_is_rejected_and_nothing_is_kept(
    http: httpx.AsyncClient, media: MediaServer, tmp_path: Path
) -> None:
    genuine = fake_mp3("genuine")
    tampered = media.add(genuine, served=fake_mp3("tampered"))
    with pytest.raises(ChecksumMismatch, match=f"checksum mismatch: expected sha256 {tampered.sha256}") as info:
        await fetch(http, tampered.url, tampered.sha256, tampered.size_bytes, tmp_path, attempts=3)
    assert not info.value.retryable
    assert media.requests[tampered.path] == 1  # the bytes contradict the signed manifest: no retry
    assert list(tmp_path.iterdir()) == []


@pytest.mark.asyncio
@pytest.mark.parametrize("served", [b"short", fake_mp3("long", 9000)], ids=["short", "long"])
async def test_size_mismatch_is_rejected(
    http: httpx.AsyncClient, media: MediaServer, tmp_path: Path, served: bytes
) -> None:
    audio = media.add(fake_mp3("expected"), served=served)
    with pytest.raises(SizeMismatch, match="size mismatch"):
        await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.asyncio
async def test_server_errors_are_retried(
    http: httpx.AsyncClient, audio: Audio, media: MediaServer, tmp_path: Path
) -> None:
    media.fail(audio, 503, 500)
    path = await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path, attempts=3, backoff_s=0.01)
    assert path.read_bytes() == audio.data
    assert media.requests[audio.path] == 3


@pytest.mark.asyncio
async def test_retries_are_limited(http: httpx.AsyncClient, audio: Audio, media: MediaServer, tmp_path: Path) -> None:
    media.fail(audio, 503, 503, 503)
    with pytest.raises(DownloadError, match="HTTP 503") as info:
        await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path, attempts=2, backoff_s=0.01)
    assert info.value.retryable
    assert media.requests[audio.path] == 2


@pytest.mark.asyncio
async def test_not_found_is_not_retried(http: httpx.AsyncClient, media: MediaServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="HTTP 404") as info:
        await fetch(http, media.base_url + "/media/nothing.mp3", "0" * 64, 10, tmp_path, attempts=3)
    assert not info.value.retryable
    assert media.requests["/media/nothing.mp3"] == 1


@pytest.mark.asyncio
async def test_unreachable_server_is_a_retryable_error(http: httpx.AsyncClient, tmp_path: Path) -> None:
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/media/x.mp3"
    with pytest.raises(DownloadError, match="cannot download") as info:
        await fetch(http, url, "0" * 64, 10, tmp_path, attempts=2, backoff_s=0.01)
    assert info.value.retryable


def test_prune_keeps_listed_and_recent_audio(tmp_path: Path) -> None:
    for name in ("keep", "old", "new"):
        (tmp_path / f"{name}.mp3").write_bytes(b"x")
    os.utime(tmp_path / "old.mp3", (0, 0))
    os.utime(tmp_path / "keep.mp3", (0, 0))
    (tmp_path / ".abc.1234.part").write_bytes(b"x")
    assert prune(tmp_path, {"keep"}, older_than_s=3600, now_s=10_000) == 1
    remove_stale_parts(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp3", "new.mp3"]
