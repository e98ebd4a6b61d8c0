"""A faulty post's network link: its own TCP proxies to the broker and to the controller's HTTP server.

A real post reaches the controller through a 4G modem that loses coverage, flaps, drops packets and
crawls. The simulator gives each faulty agent a `Link`: two asyncio servers on free loopback ports,
each forwarding every connection to the real broker or HTTP server. The agent connects to the
proxy instead (its `broker_url`, and a `MediaClient` whose `route` dials the proxy for the controller),
so every fault acts on real TCP connections, and the agent's real MQTT and download code copes:

- down (offline, flapping, power off): open connections are cut, new ones refused;
- message loss: the link follows MQTT packets, and every n-th PUBLISH or PUBACK is lost with the
  connection (the broker sees a dropped TCP connection and publishes the Last Will);
- slow downloads: bytes from the HTTP server are paced to a bit rate;
- failing downloads and power cuts mid-download: the link follows each HTTP response, knows where
  in the audio file its bytes are (Content-Length, Content-Range), and cuts the connection there.

A cut aborts both sides at once (no MQTT DISCONNECT, no HTTP end of body), as a vanishing link does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulator.faults import Drop, FailDownload, Flap, Offline, SlowDownload

log = logging.getLogger(__name__)

MQTT_LOSSY = frozenset({3, 4})
"""MQTT packet types the `drop` fault may lose: PUBLISH and PUBACK."""
READ_SIZE = 65536


class Outages:
    """When a link is down: offline windows and flapping, in seconds since the fleet started."""

    def __init__(self, faults: Sequence[Offline | Flap]) -> None:
        self.windows = [(f.at, f.at + f.for_s) for f in faults if isinstance(f, Offline)]
        self.flaps = [(f.at, f.at + f.for_s, f.period) for f in faults if isinstance(f, Flap)]

    def down(self, t: float) -> bool:
        if any(start <= t < end for start, end in self.windows):
            return True
        # A flap starts down for a period, then is up for a period, and so on.
        return any(start <= t < end and math.floor((t - start) / period) % 2 == 0 for start, end, period in self.flaps)

    def next_change(self, t: float) -> float | None:
        """The first instant after `t` at which the link may change state; None when none is left."""
        candidates = [x for start, end in self.windows for x in (start, end) if x > t]
        for start, end, period in self.flaps:
            if t < start:
                candidates.append(start)
            elif t < end:
                candidates.append(min(end, start + (math.floor((t - start) / period) + 1) * period))
        finite = [x for x in candidates if math.isfinite(x)]
        return min(finite) if finite else None


@dataclass(eq=False)
class _Connection:
    """One proxied TCP connection: the agent's side and the server's side."""

    agent: asyncio.StreamWriter
    server: asyncio.StreamWriter
    cut: bool = False

    def abort(self) -> None:
        self.cut = True
        for writer in (self.agent, self.server):
            writer.transport.abort()

    def close(self) -> None:
        for writer in (self.agent, self.server):
            if not writer.transport.is_closing():
                writer.close()


_Pipe = Callable[[asyncio.StreamReader, asyncio.StreamWriter, _Connection], Coroutine[Any, Any, None]]
"""Forwards one direction of a connection until it ends or is cut."""


@dataclass
class _Response:
    """Where the body of one HTTP response passing through stands in the file it carries."""

    left: int | None
    """Body bytes still to come; None when the length is unknown (then nothing is cut)."""
    position: int = 0
    total: int | None = None

    @classmethod
    def parse(cls, head: bytes) -> _Response:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split()
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers["content-length"]) if headers.get("content-length", "").isdigit() else None
        response = cls(left=length)
        if status == 200 and length is not None:
            response.total = length
        elif status == 206:
            # Content-Range: bytes START-END/TOTAL
            span, _, total = headers.get("content-range", "").removeprefix("bytes ").partition("/")
            start = span.partition("-")[0]
            if start.isdigit() and total.isdigit():
                response.position, response.total = int(start), int(total)
        return response


@dataclass
class LinkStats:
    """What a link did to its agent, for tests and reports."""

    refused: int = 0
    cuts: int = 0
    lost_packets: int = 0
    download_cuts: int = 0


@dataclass(eq=False)
class Link:
    """One agent's link. `open()` it, point the agent at `broker_port` and `http_port`, `close()` it."""

    agent_id: str
    broker: tuple[str, int]
    http: tuple[str, int] | None = None
    drop: Drop | None = None
    slow: SlowDownload | None = None
    fail: FailDownload | None = None
    on_download_power_cut: Callable[[], None] | None = None
    """Called once, when the first download is half-way: a power cut (the link is cut first)."""
    stats: LinkStats = field(default_factory=LinkStats)
    _up: bool = True
    _powered: bool = True
    _mqtt_packets: int = 0
    _servers: list[asyncio.Server] = field(default_factory=list)
    _ports: dict[str, int] = field(default_factory=dict)
    _connections: set[_Connection] = field(default_factory=set)
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)
    _follower: asyncio.Task[None] | None = None

    async def open(self) -> None:
        mqtt = self._mqtt_pipe if self.drop else self._plain_pipe
        await self._listen("broker", self.broker, mqtt, mqtt)
        if self.http is not None:
            await self._listen("http", self.http, self._plain_pipe, self._download_pipe)

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            await asyncio.gather(self._follower, return_exceptions=True)
        for server in self._servers:
            server.close()
        self.cut()
        handlers = list(self._handlers)
        if handlers:
            _, pending = await asyncio.wait(handlers, timeout=2)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers = []

    @property
    def broker_port(self) -> int:
        return self._ports["broker"]

    @property
    def http_port(self) -> int:
        return self._ports["http"]

    # -- state -----------------------------------------------------------------------------------

    @property
    def usable(self) -> bool:
        return self._up and self._powered

    def set_up(self, up: bool) -> None:
        if self._up and not up:
            log.info("[%s] link down", self.agent_id)
            self.cut()
        elif up and not self._up:
            log.info("[%s] link up", self.agent_id)
        self._up = up

    def power_off(self) -> None:
        """The post lost power: every connection ends at once, and none opens until `power_on()`."""
        self._powered = False
        self.cut()

    def power_on(self) -> None:
        self._powered = True

    def cut(self) -> None:
        """Abort every open connection on this link."""
        for connection in list(self._connections):
            connection.abort()
            self.stats.cuts += 1

    def follow(self, outages: Outages, epoch: float) -> None:
        """Go down and up as `outages` says, counting seconds from `epoch` (the event loop's time)."""
        if self._follower is None:
            self._follower = asyncio.create_task(self._follow(outages, epoch), name=f"link-{self.agent_id}")

    async def _follow(self, outages: Outages, epoch: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time() - epoch
            self.set_up(not outages.down(t))
            later = outages.next_change(t)
            if later is None:
                return
            await asyncio.sleep(later - t + 0.001)

    # -- forwarding ------------------------------------------------------------------------------

    async def _listen(self, name: str, upstream: tuple[str, int], to_server: _Pipe, to_agent: _Pipe) -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._handlers.add(task)
            try:
                await self._forward(upstream, reader, writer, to_server, to_agent)
            except asyncio.CancelledError:
                writer.transport.abort()  # closing the link: asyncio would log a cancelled handler as an error
            finally:
                self._handlers.discard(task)

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self._servers.append(server)
        self._ports[name] = server.sockets[0].getsockname()[1]

    async def _forward(
        self,
        upstream: tuple[str, int],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        to_server: _Pipe,
        to_agent: _Pipe,
    ) -> None:
        if not self.usable:
            self.stats.refused += 1
            writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*upstream)
        except OSError:
            writer.transport.abort()
            return
        connection = _Connection(writer, server_writer)
        if not self.usable:  # went down while connecting
            connection.abort()
            return
        self._connections.add(connection)
        pipes: list[asyncio.Task[None]] = [
            asyncio.create_task(to_server(reader, server_writer, connection)),
            asyncio.create_task(to_agent(server_reader, writer, connection)),
        ]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._connections.discard(connection)
            if not connection.cut:
                connection.close()

    async def _plain_pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: _Connection) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(READ_SIZE):
                writer.write(data)
                await writer.drain()

    async def _mqtt_pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: _Connection) -> None:
        """Forward whole MQTT packets; lose every n-th PUBLISH or PUBACK with the connection."""
        drop = self.drop
        assert drop is not None
        buffer = bytearray()
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(READ_SIZE):
                buffer += data
                out = bytearray()
                for packet in take_mqtt_packets(buffer):
                    if packet[0] >> 4 in MQTT_LOSSY:
                        self._mqtt_packets += 1
                        if self._mqtt_packets % drop.every == 0 and self.stats.lost_packets < drop.times:
                            self.stats.lost_packets += 1
                            log.info("[%s] MQTT packet type %d lost with the connection", self.agent_id, packet[0] >> 4)
                            await _flush(writer, out)
                            conn.abort()
                            self.stats.cuts += 1
                            return
                    out += packet
                await _flush(writer, out)

    async def _download_pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: _Connection
    ) -> None:
        """Forward HTTP responses, paced if slow, cut where a download fault or a power cut says."""
        buffer = bytearray()
        response: _Response | None = None
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(READ_SIZE):
                buffer += data
                while buffer:
                    if response is None:
                        end = buffer.find(b"\r\n\r\n")
                        if end < 0:
                            break
                        head = bytes(buffer[: end + 4])
                        del buffer[: end + 4]
                        response = _Response.parse(head)
                        await self._send(writer, head)
                        if response.left == 0:
                            response = None
                        continue
                    size = len(buffer) if response.left is None else min(len(buffer), response.left)
                    piece = bytes(buffer[:size])
                    del buffer[:size]
                    cut_at = self._cut_point(response)
                    if cut_at is not None and response.position + len(piece) > cut_at:
                        await self._send(writer, piece[: max(0, cut_at - response.position)])
                        self._cut_download(conn, response, cut_at)
                        return
                    await self._send(writer, piece)
                    response.position += len(piece)
                    if response.left is not None:
                        response.left -= len(piece)
                        if response.left == 0:
                            response = None

    def _cut_point(self, response: _Response) -> int | None:
        if response.total is None:
            return None
        points = []
        if self.fail is not None and (self.fail.times is None or self.stats.download_cuts < self.fail.times):
            points.append(int(response.total * self.fail.cut))
        if self.on_download_power_cut is not None:
            points.append(response.total // 2)
        return min(points) if points else None

    def _cut_download(self, conn: _Connection, response: _Response, cut_at: int) -> None:
        conn.abort()
        self.stats.cuts += 1
        power_cut = self.on_download_power_cut
        if power_cut is not None and response.total is not None and cut_at >= response.total // 2:
            self.on_download_power_cut = None
            log.info("[%s] power cut half-way through a download", self.agent_id)
            power_cut()
        else:
            self.stats.download_cuts += 1
            log.info("[%s] download cut at byte %d of %s", self.agent_id, cut_at, response.total)

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        if self.slow is None:
            await _flush(writer, data)
            return
        rate = self.slow.bytes_per_s
        step = max(256, int(rate / 20))
        for i in range(0, len(data), step):
            piece = data[i : i + step]
            await _flush(writer, piece)
            await asyncio.sleep(len(piece) / rate)


async def _flush(writer: asyncio.StreamWriter, data: bytes | bytearray) -> None:
    """Write and wait until the bytes left this process, so a cut right after loses nothing sent before."""
    if not data:
        return
    writer.write(data)
    await writer.drain()
    for _ in range(100):
        if writer.transport.is_closing() or not writer.transport.get_write_buffer_size():
            return
        await asyncio.sleep(0.001)


def take_mqtt_packets(buffer: bytearray) -> list[bytes]:
    """Remove and return the complete MQTT packets at the start of `buffer`; a partial one stays."""
    packets: list[bytes] = []
    while len(buffer) >= 2:
        length, multiplier, i = 0, 1, 1
        while True:
            if i >= len(buffer):
                return packets  # the length itself is not complete yet
            byte = buffer[i]
            length += (byte & 0x7F) * multiplier
            multiplier *= 128
            i += 1
            if not byte & 0x80:
                break
            if i > 4:
                raise ConnectionError("malformed MQTT remaining length")
        end = i + length
        if len(buffer) < end:
            return packets
        packets.append(bytes(buffer[:end]))
        del buffer[:end]
    return packets
