"""The second channel for the current schedule (protocol v1.2): the signed manifest over HTTP.

The broker's retained manifest can be swapped for an older, still-valid one by whoever controls the broker. So
the agent also fetches its manifest from the controller, at every connect and then every few minutes (jittered),
and hands it to the same verification as the broker's copy: the highest revision seen on either channel wins.
Cut off from both, the agent keeps playing the schedule it holds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable

from edge_agent.media_client import HttpError, MediaClient
from protocol.signing import MAX_SIGNED_BYTES

PULL_TIMEOUT_S = 30.0


class ManifestPuller:
    """Fetches `url` and delivers a manifest newer than the one held; never raises."""

    def __init__(
        self,
        url: str,
        http: MediaClient,
        *,
        deliver: Callable[[bytes], Awaitable[None]],
        held_revision: Callable[[], int | None],
        interval_s: float,
        log: logging.Logger | logging.LoggerAdapter,  # type: ignore[type-arg]
    ) -> None:
        self.url = url
        self._http = http
        self._deliver = deliver
        self._held = held_revision
        self.interval_s = interval_s
        self._log = log

    async def run(self) -> None:
        """Pull now, then every `interval_s` ± 50 %, until cancelled."""
        while True:
            await self.pull_once()
            await asyncio.sleep(random.uniform(self.interval_s / 2, self.interval_s * 1.5))

    async def pull_once(self) -> bool:
        """Fetch the manifest; True when a newer revision was handed over for verification."""
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the session's cancellation, and a
            # puller that outlives its session keeps the agent from reconnecting.
            async with asyncio.timeout(PULL_TIMEOUT_S):
                body = await self._fetch()
        except (HttpError, OSError, TimeoutError) as exc:
            self._log.info("manifest pull from %s failed: %s", self.url, exc)
            return False
        if body is None:
            return False
        revision = peek_revision(body)
        held = self._held()
        if revision is None or (held is not None and revision <= held):
            return False  # nothing newer; an unreadable body is left to no one (the broker copy still counts)
        self._log.info("manifest revision %d fetched over HTTP (held: %s)", revision, held)
        await self._deliver(body)
        return True

    async def _fetch(self) -> bytes | None:
        async with self._http.stream(self.url, {"Accept": "application/json"}) as response:
            if response.status_code != 200:
                self._log.info("manifest pull from %s: HTTP %d", self.url, response.status_code)
                return None
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_SIGNED_BYTES:
                    raise HttpError(f"manifest from {self.url} is over {MAX_SIGNED_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)


def peek_revision(body: bytes) -> int | None:
    """The revision a signed manifest claims, read without verifying it (only to skip one not newer)."""
    try:
        envelope = json.loads(body)
        revision = json.loads(envelope["payload"])["revision"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return revision if isinstance(revision, int) and not isinstance(revision, bool) else None
