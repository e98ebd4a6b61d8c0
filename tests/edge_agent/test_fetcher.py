"""Downloads over real HTTP into the content-addressed cache, checked against size and SHA-256."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge_agent.cache import CacheFull, MediaCache
from edge_agent.errors import ChecksumMismatch, DownloadError, SizeMismatch
from edge_agent.fetcher import cached_path, fetch, prune, remove_stale_parts
from edge_agent.media_client import MediaClient
from tests.edge_agent.conftest import Audio, MediaServer, fake_mp3


@pytest.fixture
def http() -> MediaClient:
    return MediaClient(read_timeout=10)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


@pytest.mark.asyncio
async def test_fetch_stores_the_file_under_its_sha(http: MediaClient, audio: Audio, tmp_path: Path) -> None:
    path = await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path / "media")
    assert path == cached_path(tmp_path / "media", audio.sha256)
    assert path.read_bytes() == audio.data
    assert leftovers(tmp_path / "media") == []


@pytest.mark.asyncio
async def test_a_valid_cached_file_is_not_downloaded_again(
    http: MediaClient, audio: Audio, media: MediaServer, tmp_path: Path
) -> None:
    await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path)
    await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path)
    assert media.requests[audio.path] == 1


@pytest.mark.asyncio
async def test_a_corrupt_cached_file_is_replaced(
    http: MediaClient, audio: Audio, media: MediaServer, tmp_path: Path
) -> None:
    cached_path(tmp_path, audio.sha256).write_bytes(b"x" * audio.size_bytes)
    path = await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path)
    assert path.read_bytes() == audio.data
    assert media.requests[audio.path] == 1


@pytest.mark.asyncio
async def test_checksum_mismatch_is_rejected_and_nothing_is_kept(
    http: MediaClient, media: MediaServer, tmp_path: Path
) -> None:
    genuine = fake_mp3("genuine")
    tampered = media.add(genuine, served=fake_mp3("tampered"))
    with pytest.raises(ChecksumMismatch, match=f"checksum-mismatch: expected sha256 {tampered.sha256}") as info:
        await fetch(http, tampered.url, tampered.sha256, tampered.size_bytes, tmp_path, attempts=3)
    assert not info.value.retryable
    assert media.requests[tampered.path] == 1  # the bytes contradict the signed manifest: no retry
    assert list(tmp_path.iterdir()) == []


@pytest.mark.asyncio
@pytest.mark.parametrize("served", [b"short", fake_mp3("long", 9000)], ids=["short", "long"])
async def test_size_mismatch_is_rejected(http: MediaClient, media: MediaServer, tmp_path: Path, served: bytes) -> None:
    audio = media.add(fake_mp3("expected"), served=served)
    with pytest.raises(SizeMismatch, match="size-mismatch"):
        await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.asyncio
async def test_server_errors_are_retried(http: MediaClient, audio: Audio, media: MediaServer, tmp_path: Path) -> None:
    media.fail(audio, 503, 500)
    path = await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path, attempts=3, backoff_s=0.01)
    assert path.read_bytes() == audio.data
    assert media.requests[audio.path] == 3


@pytest.mark.asyncio
async def test_retries_are_limited(http: MediaClient, audio: Audio, media: MediaServer, tmp_path: Path) -> None:
    media.fail(audio, 503, 503, 503)
    with pytest.raises(DownloadError, match="HTTP 503") as info:
        await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path, attempts=2, backoff_s=0.01)
    assert info.value.retryable
    assert media.requests[audio.path] == 2


@pytest.mark.asyncio
async def test_not_found_is_not_retried(http: MediaClient, media: MediaServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="HTTP 404") as info:
        await fetch(http, media.base_url + "/media/nothing.mp3", "0" * 64, 10, tmp_path, attempts=3)
    assert not info.value.retryable
    assert media.requests["/media/nothing.mp3"] == 1


@pytest.mark.asyncio
async def test_unreachable_server_is_a_retryable_error(http: MediaClient, tmp_path: Path) -> None:
    from simulator.local import free_port

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


# -- Range resume and the size-capped cache --------------------------------------------------------


class CuttingServer(MediaServer):
    """Serves with Range support and cuts the first response after `cut_after` bytes, like a 4G drop."""

    def __init__(self, cut_after: int) -> None:
        self.cut_after = cut_after
        self.ranges: list[str | None] = []
        super().__init__()
        server = self
        handler = self._httpd.RequestHandlerClass

        class Handler(handler):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                requested = self.headers.get("Range")
                server.ranges.append(requested)
                start = int(requested.removeprefix("bytes=").rstrip("-")) if requested else 0
                part = body[start:]
                self.send_response(206 if requested else 200)
                if requested:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(part)))
                self.end_headers()
                if server.cut_after and len(server.ranges) == 1:
                    self.wfile.write(part[: server.cut_after])
                    self.wfile.flush()
                    self.connection.shutdown(2)  # the link drops mid-body
                    return
                self.wfile.write(part)

        self._httpd.RequestHandlerClass = Handler


@pytest.mark.asyncio
async def test_a_cut_download_resumes_with_a_range_request(http: MediaClient, tmp_path: Path) -> None:
    server = CuttingServer(cut_after=100_000)
    try:
        data = fake_mp3("long", size=300_000)
        audio = server.add(data)
        path = await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path, attempts=3, backoff_s=0.01)
        assert path.read_bytes() == data
        assert server.ranges[0] is None
        assert server.ranges[1] is not None and int(server.ranges[1][6:-1]) >= 65_536  # resumed, not restarted
        assert len(server.ranges) == 2
        assert leftovers(tmp_path) == []
    finally:
        server.close()


@pytest.mark.asyncio
async def test_a_part_left_by_a_crash_is_resumed_after_restart(
    http: MediaClient, media: MediaServer, tmp_path: Path
) -> None:
    data = fake_mp3("crash", size=50_000)
    audio = media.add(data)
    part = tmp_path / f".{audio.sha256}.part"
    part.write_bytes(data[:20_000])  # what the killed process had written
    assert remove_stale_parts(tmp_path) == 0  # recent and resumable: kept
    server_ignores_range = media  # the stdlib test server answers 200: the part is dropped and refetched
    path = await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path)
    assert path.read_bytes() == data and server_ignores_range.requests[audio.path] == 1


@pytest.mark.asyncio
async def test_a_corrupt_part_is_detected_after_resume_and_fetched_again(http: MediaClient, tmp_path: Path) -> None:
    server = CuttingServer(cut_after=0)
    try:
        data = fake_mp3("power-cut", size=40_000)
        audio = server.add(data)
        (tmp_path / f".{audio.sha256}.part").write_bytes(b"\x00" * 10_000)  # a power cut left zeros
        path = await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path, attempts=3, backoff_s=0.01)
        assert path.read_bytes() == data
        assert server.ranges == ["bytes=10000-", None]  # resumed, failed to verify, started over
    finally:
        server.close()


def test_old_parts_are_dropped_at_start(tmp_path: Path) -> None:
    stale = tmp_path / f".{'a' * 64}.part"
    stale.write_bytes(b"x")
    os.utime(stale, (0, 0))
    legacy = tmp_path / f".{'b' * 64}.1234abcd.part"
    legacy.write_bytes(b"x")
    assert remove_stale_parts(tmp_path) == 2
    assert leftovers(tmp_path) == []


def test_cache_evicts_least_recently_used_but_never_what_an_upcoming_play_needs(tmp_path: Path) -> None:
    protected = {"c" * 64}
    cache = MediaCache(tmp_path, max_bytes=3_000, protected=lambda: protected)
    for age, sha in enumerate(("a" * 64, "b" * 64, "c" * 64)):
        path = tmp_path / f"{sha}.mp3"
        path.write_bytes(b"x" * 1_000)
        os.utime(path, (1_000_000 - age * 1000, 1_000_000 - age * 1000))  # c oldest, a newest
    assert cache.make_room(0, "d" * 64) == []
    evicted = cache.make_room(1_000, "d" * 64)
    assert [p.name for p in evicted] == [f"{'b' * 64}.mp3"]  # c is older but protected; b is next
    assert cache.usage() == 2_000
    with pytest.raises(CacheFull, match="cache-full"):
        cache.make_room(2_500, "d" * 64)  # only a could go: not enough
    assert cache.usage() == 2_000  # and nothing was deleted trying


@pytest.mark.asyncio
async def test_fetch_makes_room_in_the_capped_cache(http: MediaClient, media: MediaServer, tmp_path: Path) -> None:
    old = tmp_path / f"{'e' * 64}.mp3"
    old.write_bytes(b"x" * 6_000)
    audio = media.add(fake_mp3("new", size=6_000))
    cache = MediaCache(tmp_path, max_bytes=8_000, protected=set)
    await fetch(http, audio.url, audio.sha256, audio.size_bytes, tmp_path, cache=cache)
    assert not old.exists() and cache.usage() == 6_000
