"""Building each agent's desired-state schedule manifest from its plays."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Agent, AudioAsset, Bulletin, Play
from controller.db.status import OFF_MANIFEST
from controller.services.bulletins import media_url
from protocol.codec import encode
from protocol.messages import InterruptPolicy, ManifestPlay, Priority, ScheduleManifest

"""Plays an agent must not have: cancelled, or held because their bulletin was edited after approval."""


@dataclass(frozen=True)
class ManifestPolicy:
    """How far ahead manifests reach, how long a started play stays listed, and how long they are valid."""

    horizon: timedelta
    grace: timedelta
    media_base_url: str
    validity: timedelta | None = None

    @property
    def valid_for(self) -> timedelta:
        return self.validity or self.horizon + timedelta(hours=24)


def manifest_plays(session: Session, agent_id: str, now: datetime, policy: ManifestPolicy) -> list[ManifestPlay]:
    """The plays one agent's manifest lists, in start order."""
    return manifest_plays_by_agent(session, [agent_id], now, policy)[agent_id]


def manifest_plays_by_agent(
    session: Session, agent_ids: Collection[str], now: datetime, policy: ManifestPolicy
) -> dict[str, list[ManifestPlay]]:
    """The manifest plays of each given agent, in start order, from one query (an agent with none maps to []).

    It selects columns rather than ORM objects: for a booking on thousands of clusters, loading a
    `Play` with its bulletin and asset per row cost more than the query itself.
    """
    by_agent: dict[str, list[ManifestPlay]] = {agent_id: [] for agent_id in agent_ids}
    if not by_agent:
        return by_agent
    stmt = (
        select(
            Play.agent_id,
            Play.id,
            Play.starts_at,
            Play.bulletin_id,
            Play.priority,
            Bulletin.title,
            AudioAsset.sha256,
            AudioAsset.size_bytes,
            AudioAsset.duration_s,
        )
        .join(Bulletin, Bulletin.id == Play.bulletin_id)
        .join(AudioAsset, AudioAsset.id == Play.audio_asset_id)
        .where(
            Play.agent_id.in_(list(by_agent)),
            Play.starts_at >= now - policy.grace,
            Play.starts_at <= now + policy.horizon,
            Play.status.not_in(OFF_MANIFEST),
        )
        .order_by(Play.starts_at, Play.id)
    )
    for row in session.execute(stmt):
        by_agent[row.agent_id].append(
            _manifest_play(
                row.id,
                row.starts_at,
                row.bulletin_id,
                row.title,
                row.sha256,
                row.size_bytes,
                row.duration_s,
                row.priority,
                policy.media_base_url,
            )
        )
    return by_agent


def manifest_play(p: Play, media_base_url: str, interrupted: InterruptPolicy | None = None) -> ManifestPlay:
    """A play as the agent sees it. Emergency plays carry their emergency's policy for what they interrupt."""
    asset = p.audio_asset
    return _manifest_play(
        p.id,
        p.starts_at,
        p.bulletin_id,
        p.bulletin.title,
        asset.sha256,
        asset.size_bytes,
        asset.duration_s,
        p.priority,
        media_base_url,
        interrupted,
    )


def _manifest_play(
    play_id: str,
    starts_at: datetime,
    bulletin_id: str,
    title: str,
    sha256: str,
    size_bytes: int,
    duration_s: float,
    priority: str,
    media_base_url: str,
    interrupted: InterruptPolicy | None = None,
) -> ManifestPlay:
    return ManifestPlay(
        play_id=play_id,
        starts_at=starts_at,
        bulletin_id=bulletin_id,
        title=title,
        audio_url=media_url(media_base_url, sha256),
        sha256=sha256,
        size_bytes=size_bytes,
        duration_s=duration_s,
        priority=Priority(priority),
        interrupted=interrupted or InterruptPolicy.SKIP,
    )


def digest(plays: Iterable[ManifestPlay]) -> str:
    h = hashlib.sha256()
    for p in plays:
        h.update(encode(p, check=False))  # plays the controller just built; only hashed
    return h.hexdigest()


def next_manifest(
    session: Session, agent: Agent, now: datetime, policy: ManifestPolicy, *, force: bool = False
) -> ScheduleManifest | None:
    """The agent's next manifest, or None when what it already holds is current and fresh.

    Bumps the agent's revision; the caller publishes within the same transaction.
    """
    return next_manifests(session, [agent], now, policy, force=force)[0]


def next_manifests(
    session: Session, agents: Sequence[Agent], now: datetime, policy: ManifestPolicy, *, force: bool = False
) -> list[ScheduleManifest | None]:
    """`next_manifest` for many agents, with one query for all their plays. One entry per agent, in order."""
    plays_by_agent = manifest_plays_by_agent(session, [a.id for a in agents], now, policy)
    manifests: list[ScheduleManifest | None] = []
    for agent in agents:
        plays = plays_by_agent[agent.id]
        d = digest(plays)
        stale = agent.manifest_issued_at is None or now - agent.manifest_issued_at > policy.valid_for / 2
        if not force and not stale and d == agent.manifest_digest:
            manifests.append(None)
            continue
        agent.manifest_revision += 1
        agent.manifest_digest = d
        agent.manifest_issued_at = now
        manifests.append(
            ScheduleManifest(
                agent_id=agent.id,
                issued_at=now,
                expires_at=now + policy.valid_for,
                revision=agent.manifest_revision,
                horizon_end=now + policy.horizon,
                plays=tuple(plays),
            )
        )
    return manifests
