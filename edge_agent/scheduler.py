"""What to play when: a manifest's plays are fetched at once and handed to the playback line on time.

Rules, in one place:

- On a manifest, every listed play not yet started or ended gets its audio fetched once it
  starts within the prefetch window (at once by default: the window is the manifest horizon;
  at the latest a minute before its warm-up), is confirmed `downloaded`, then waits for its instant.
- A normal or priority play that starts inside the agent's quiet hours is refused on arrival:
  confirmed `skipped`/`quiet-hours` and reported as a security event. Only emergencies pass.
- A new manifest cancels the plays it no longer lists, and reschedules the ones it changed.
  Two exceptions: a play on air is never cut by a manifest (a Stop command does that), and a
  play whose start is more than the grace ago is kept, because the controller stops listing
  plays a grace after their start: its absence means it aged out, not that it was cancelled.
- A play that cannot start within the grace after its instant is confirmed `skipped`/`late`.
- Audio that fails with a transient error is fetched again, with backoff, until the play's
  deadline; audio that contradicts the manifest (size, SHA-256) fails the play at once.
- The media cache stays under its cap; audio of any play still to come is never evicted.
- The kill switch (Stop without a play id) also drops PlayNow items still downloading.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common.clock import Clock
from edge_agent import fetcher
from edge_agent.cache import MediaCache
from edge_agent.config import AgentConfig
from edge_agent.confirmations import ConfirmationFacts
from edge_agent.errors import AgentError, DownloadError, IntegrityError
from edge_agent.media_client import MediaClient
from edge_agent.playback import LATE, STOPPED, ItemKind, Playback, PlayItem, Refused, Report
from edge_agent.state import AgentStore, PlaySource, PlayStatus
from protocol.messages import ManifestPlay, ScheduleManifest
from protocol.quiet import QUIET_HOURS

log = logging.getLogger(__name__)

MEDIA_KEEP_S = 24 * 3600.0
"""Cached audio that no manifest lists any more is deleted once it is this old."""
MAX_RETRY_S = 300.0
MIN_PREFETCH_S = 60.0
"""Audio is fetched at least this long before a play's warm-up, whatever the prefetch window."""


class Scheduler:
    """Holds the plays that are not yet due: fetches their audio and hands them over on their instant."""

    def __init__(
        self,
        *,
        config: AgentConfig,
        store: AgentStore,
        playback: Playback,
        clock: Clock,
        http: MediaClient,
        report: Report,
        retry_s: float = 2.0,
        on_refused: Refused | None = None,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.playback = playback
        self.clock = clock
        self.http = http
        self.report = report
        self.retry_s = retry_s
        self.log = logger or log
        self.grace = timedelta(seconds=config.late_grace_s)
        self.on_refused = on_refused
        self._waiting: dict[str, tuple[ManifestPlay, asyncio.Task[None]]] = {}
        self._play_now: set[str] = set()
        self._manifest_plays: tuple[ManifestPlay, ...] = ()
        self._download_slot = asyncio.Semaphore(1)  # one download at a time: gentle on a 4G link
        self.cache = MediaCache(config.media_dir, config.cache_max_bytes, self.protected_media)

    def reconfigure(self, config: AgentConfig) -> None:
        """Take a reloaded config's in-place keys (grace, prefetch window, cache cap, retries)."""
        self.config = config
        self.grace = timedelta(seconds=config.late_grace_s)
        self.cache.max_bytes = config.cache_max_bytes

    def protected_media(self) -> set[str]:
        """SHA-256s the cache must keep: audio of every play waiting, queued, playing, or still to come."""
        now = self.clock.now()
        keep = {play.sha256 for play in self.waiting()} | {play.sha256 for play in self.playback.queued_plays()}
        current = self.playback.current
        if current is not None and current.play is not None:
            keep.add(current.play.sha256)
        for play in self._manifest_plays:
            if (
                play.starts_at + self.grace >= now
                and not (self.store.play_status(play.play_id) or PlayStatus.PENDING).terminal
            ):
                keep.add(play.sha256)
        return keep

    def waiting(self) -> list[ManifestPlay]:
        """Plays not yet handed to the playback line (fetching audio or waiting for their instant)."""
        return [play for play, _ in self._waiting.values()]

    async def close(self) -> None:
        tasks = [task for _, task in self._waiting.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._waiting.clear()

    # -- manifests -------------------------------------------------------------------------------

    def apply_manifest(self, manifest: ScheduleManifest) -> None:
        """Schedule the manifest's plays and cancel those it no longer lists (see the module rules)."""
        now = self.clock.now()
        self._manifest_plays = manifest.plays
        wanted = {p.play_id: p for p in manifest.plays}
        for play_id, (held, task) in list(self._waiting.items()):
            if not self._still_wanted(held, wanted, now):
                task.cancel()
                del self._waiting[play_id]
                self.log.info("play %s changed or cancelled by manifest revision %d", play_id, manifest.revision)
        for held in self.playback.queued_plays():
            if not self._still_wanted(held, wanted, now):
                self.playback.discard(held.play_id)
                self.log.info("play %s changed or cancelled by manifest revision %d", held.play_id, manifest.revision)
        quiet = self.playback.quiet_hours
        for play in manifest.plays:
            if play.play_id in self._waiting or self.playback.busy_with(play.play_id):
                continue
            if self.store.play_status(play.play_id) not in (PlayStatus.PENDING, PlayStatus.DOWNLOADED):
                continue
            if quiet is not None and quiet.refuses(play.priority, play.starts_at):
                self._refuse(play, f"manifest revision {manifest.revision}")
                continue
            self._spawn(play, self._prepare(play))
        keep = {p.sha256 for p in manifest.plays} | {p.sha256 for p in self.waiting()}
        fetcher.prune(self.config.media_dir, keep, older_than_s=MEDIA_KEEP_S, now_s=time.time())

    def _refuse(self, play: ManifestPlay, source: str) -> None:
        self.log.warning(
            "%s play %s at %s refused: inside quiet hours (%s)",
            play.priority.value,
            play.play_id,
            play.starts_at.isoformat(),
            source,
        )
        self.report(play, PlayStatus.SKIPPED, ConfirmationFacts(reason=QUIET_HOURS))
        if self.on_refused is not None:
            self.on_refused(PlayItem(ItemKind.SCHEDULED, play=play), QUIET_HOURS)

    def _still_wanted(self, held: ManifestPlay, wanted: dict[str, ManifestPlay], now: datetime) -> bool:
        replacement = wanted.get(held.play_id)
        if replacement is not None:
            return replacement == held
        return held.starts_at + self.grace < now  # aged out of the controller's listing

    def _spawn(self, play: ManifestPlay, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro, name=f"{self.config.agent_id}-play-{play.play_id}")
        self._waiting[play.play_id] = (play, task)

        def forget(done: asyncio.Task[None]) -> None:
            entry = self._waiting.get(play.play_id)
            if entry is not None and entry[1] is done:
                del self._waiting[play.play_id]
            if not done.cancelled() and done.exception() is not None:
                self.log.error("preparing play %s failed", play.play_id, exc_info=done.exception())

        task.add_done_callback(forget)

    async def _prepare(self, play: ManifestPlay) -> None:
        """Fetch the audio now, wait for the instant, hand the play to the playback line."""
        deadline = play.starts_at + self.grace
        if self.clock.now() > deadline:
            self.report(play, PlayStatus.SKIPPED, ConfirmationFacts(reason=LATE))
            return
        lead = max(self.config.prefetch_window_s, self.config.amplifier_warmup_s + MIN_PREFETCH_S)
        await self.clock.sleep_until(play.starts_at - timedelta(seconds=lead))
        path = await self._obtain(play, deadline)
        if path is None:
            return
        # Hand it over one warm-up early, so the audio itself starts on the instant.
        await self.clock.sleep_until(play.starts_at - timedelta(seconds=self.config.amplifier_warmup_s))
        await self.playback.submit(PlayItem(ItemKind.SCHEDULED, play=play, path=path))

    # -- commands --------------------------------------------------------------------------------

    def play_now(self, play: ManifestPlay) -> None:
        """PlayNow: fetch the audio and play it at once, preempting anything of lower priority."""
        now = self.clock.now()
        status = self.store.add_play(play, PlaySource.PLAY_NOW, now)
        if status not in (PlayStatus.PENDING, PlayStatus.DOWNLOADED):
            self.log.warning("play-now for play %s ignored: it is already %s", play.play_id, status.value)
            return
        quiet = self.playback.quiet_hours
        if quiet is not None and quiet.refuses(play.priority, now):
            self._refuse(play, "play-now")
            return
        current = self.playback.current
        if current is not None and current.play_id == play.play_id:
            return
        self.playback.discard(play.play_id)
        if play.play_id in self._waiting:
            self._waiting.pop(play.play_id)[1].cancel()
        self.log.info("play-now: %s play %s", play.priority.value, play.play_id)
        self._play_now.add(play.play_id)
        self._spawn(play, self._prepare_now(play))

    async def _prepare_now(self, play: ManifestPlay) -> None:
        try:
            path = await self._obtain(play, self.clock.now() + self.grace)
            if path is not None:
                await self.playback.submit(PlayItem(ItemKind.NOW, play=play, path=path))
        finally:
            self._play_now.discard(play.play_id)

    async def stop(self, play_id: str | None, *, reason: str = STOPPED) -> list[str]:
        """Stop: see `Playback.stop`. A play not yet due is stopped only by its id, and then never plays.

        Without an id (the kill switch) PlayNow items still fetching their audio are dropped too.
        """
        affected = await self.playback.stop(play_id, reason=reason)
        targets = [play_id] if play_id is not None else sorted(self._play_now)
        for target in targets:
            if target in affected or target not in self._waiting:
                continue
            play, task = self._waiting.pop(target)
            task.cancel()
            self._play_now.discard(target)
            self.report(play, PlayStatus.SKIPPED, ConfirmationFacts(reason=reason))
            affected.append(target)
        return affected

    # -- audio -----------------------------------------------------------------------------------

    async def _obtain(self, play: ManifestPlay, deadline: datetime) -> Path | None:
        """The play's audio, downloaded and verified; None after confirming the play `failed`."""
        try:
            url = self.audio_url(play.audio_url)
        except AgentError as exc:
            self.report(play, PlayStatus.FAILED, ConfirmationFacts(reason=f"download-failed: {exc}"))
            return None
        delay = self.retry_s
        while True:
            try:
                async with self._download_slot:
                    path = await fetcher.fetch(
                        self.http,
                        url,
                        play.sha256,
                        play.size_bytes,
                        self.config.media_dir,
                        attempts=self.config.download_attempts,
                        cache=self.cache,
                    )
            except DownloadError as exc:
                if exc.retryable and self.clock.now() + timedelta(seconds=delay) < deadline:
                    self.log.warning("audio for play %s: %s; trying again in %.0fs", play.play_id, exc, delay)
                    pause = timedelta(seconds=delay * random.uniform(0.8, 1.2))
                    await self.clock.sleep_until(self.clock.now() + pause)  # the injected clock: tests need not sleep
                    delay = min(delay * 2, MAX_RETRY_S)
                    continue
                self.log.warning("audio for play %s rejected: %s", play.play_id, exc)
                reason = str(exc) if isinstance(exc, IntegrityError) else f"download-failed: {exc}"
                self.report(play, PlayStatus.FAILED, ConfirmationFacts(reason=reason))
                return None
            self.report(play, PlayStatus.DOWNLOADED)
            return path

    def audio_url(self, url: str) -> str:
        """An absolute http(s) URL as is; a relative one joined to `media_base_url`."""
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return url
        if parts.scheme or parts.netloc:
            raise AgentError(f"unsupported audio URL {url!r}: only http and https are fetched")
        base = self.config.media_base_url
        if base is None:
            raise AgentError(f"relative audio URL {url!r} and no media_base_url configured")
        return f"{base.rstrip('/')}/{url.lstrip('/')}"
