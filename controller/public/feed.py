"""Podcast feeds: RSS 2.0 with the iTunes podcast tags, one per commune and one per topic."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from controller.reports.public import PublicBulletin

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM = "http://www.w3.org/2005/Atom"
RSS_MEDIA_TYPE = "application/rss+xml; charset=utf-8"
ET.register_namespace("itunes", ITUNES)
ET.register_namespace("atom", ATOM)


def _hms(seconds: float) -> str:
    total = round(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def rss(
    *,
    title: str,
    description: str,
    page_url: str,
    feed_url: str,
    media_base: str,
    author: str,
    items: Sequence[PublicBulletin],
    bulletin_url: str,
) -> bytes:
    """The feed as UTF-8 XML. `bulletin_url` is a format string with `{id}`; enclosures are content-addressed."""
    root = ET.Element("rss", {"version": "2.0"})
    channel = _sub(root, "channel")
    _sub(channel, "title", title)
    _sub(channel, "link", page_url)
    _sub(channel, "description", description)
    _sub(channel, "language", "vi")
    _sub(channel, f"{{{ATOM}}}link", href=feed_url, rel="self", type="application/rss+xml")
    newest = max((i.first_broadcast for i in items if i.first_broadcast), default=None)
    _sub(channel, "lastBuildDate", format_datetime(newest or datetime(2000, 1, 1, tzinfo=UTC)))
    _sub(channel, f"{{{ITUNES}}}author", author)
    _sub(channel, f"{{{ITUNES}}}summary", description)
    _sub(channel, f"{{{ITUNES}}}explicit", "false")
    _sub(channel, f"{{{ITUNES}}}type", "episodic")
    _sub(channel, f"{{{ITUNES}}}category", text="Government")
    owner = _sub(channel, f"{{{ITUNES}}}owner")
    _sub(owner, f"{{{ITUNES}}}name", author)
    for item in items:
        link = bulletin_url.format(id=item.id)
        entry = _sub(channel, "item")
        _sub(entry, "title", item.title)
        _sub(entry, "link", link)
        _sub(entry, "guid", link, isPermaLink="true")
        _sub(entry, "description", item.body)
        _sub(entry, "category", item.topic_name)
        if item.first_broadcast is not None:
            _sub(entry, "pubDate", format_datetime(item.first_broadcast.astimezone(UTC)))
        _sub(
            entry,
            "enclosure",
            url=f"{media_base}/media/{item.sha256}.mp3",
            length=str(item.size_bytes),
            type="audio/mpeg",
        )
        _sub(entry, f"{{{ITUNES}}}duration", _hms(item.duration_s))
        _sub(entry, f"{{{ITUNES}}}summary", item.summary)
        _sub(entry, f"{{{ITUNES}}}explicit", "false")
        _sub(entry, f"{{{ITUNES}}}episodeType", "full")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
