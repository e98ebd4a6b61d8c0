"""A small asyncio HTTP/1.1 client for audio downloads, on h11.

The agent needs one thing from HTTP: stream a GET (with a Range header on resume) into a file. h11,
the protocol engine under httpx and uvicorn, parses the wire; this module only opens the
connection, writes the request and reads the response. It keeps the agent about 2.5 MB smaller
than httpx with httpcore and anyio (benchmarks/agent_resources.py), which matters on a 512 MB board.

- One connection per request (`Connection: close`): a post downloads a bulletin or two a day.
- Redirects are followed (at most 5), to http and https only.
- `https` uses the system's trust store, or the CA bundle given.
- Every network failure raises `HttpError`, never a bare `OSError`, so callers can tell a dropped
  link (retry) from a full disk (do not).
- A cut connection in the body raises too: h11 refuses a body shorter than its Content-Length.
- Timeouts use `asyncio.timeout`, never `asyncio.wait_for`: on Python 3.11, `wait_for` can swallow a
  cancellation that lands as the awaited read completes, and a crashed agent would go on downloading.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, urljoin, urlsplit

import h11

from edge_agent.errors import AgentError

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
CHUNK = 64 * 1024

Origin = tuple[str, str, int]
"""(scheme, host, port) of a URL."""
Route = Callable[[Origin], "tuple[str, int] | None"]
"""Where to dial for an origin instead of its own host and port (the simulator's per-agent links); None: as is."""


class HttpError(AgentError):
    """The request could not be made or its answer could not be read: refused, reset, timed out, malformed."""


@dataclass
class Response:
    """A response whose body has not been read yet: iterate `aiter_bytes()` inside the `stream` block."""

    status_code: int
    headers: Mapping[str, str]
    """Header names in lower case."""
    url: str
    _conn: h11.Connection = field(repr=False)
    _reader: asyncio.StreamReader = field(repr=False)
    _read_timeout: float = field(repr=False)

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body as it arrives. Raises `HttpError` if the connection breaks before the body is whole."""
        while True:
            event = await _next_event(self._conn, self._reader, self._read_timeout)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:  # pragma: no cover - h11 sends only Data then EndOfMessage after a Response
                raise HttpError(f"unexpected {type(event).__name__} in the body of {self.url}")


class MediaClient:
    """GETs over HTTP/1.1. One may be shared by many agents; `max_connections` caps its open requests."""

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_connections: int = 100,
        ca_file: Path | None = None,
        route: Route | None = None,
        user_agent: str = "loa-agent",
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.ca_file = ca_file
        self.route = route
        self.user_agent = user_agent
        self._slots = asyncio.Semaphore(max_connections)
        self._ssl: ssl.SSLContext | None = None

    @contextlib.asynccontextmanager
    async def stream(self, url: str, headers: Mapping[str, str] | None = None) -> AsyncIterator[Response]:
        """GET `url`, following redirects, and yield the final response with its body unread."""
        async with self._slots:
            for _ in range(MAX_REDIRECTS + 1):
                async with self._request(url, headers or {}) as response:
                    location = response.headers.get("location")
                    if response.status_code not in REDIRECTS or not location:
                        yield response
                        return
                url = urljoin(url, location)
            raise HttpError(f"more than {MAX_REDIRECTS} redirects from {url}")

    @contextlib.asynccontextmanager
    async def _request(self, url: str, headers: Mapping[str, str]) -> AsyncIterator[Response]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HttpError(f"not an http(s) URL: {url!r}")
        tls = parts.scheme == "https"
        try:
            port = parts.port or (443 if tls else 80)
        except ValueError:
            raise HttpError(f"bad port in {url!r}") from None
        host = parts.hostname
        dial = (self.route and self.route((parts.scheme, host, port))) or (host, port)
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    dial[0], dial[1], ssl=self._context() if tls else None, server_hostname=host if tls else None
                )
        except (OSError, TimeoutError) as exc:
            raise HttpError(f"cannot connect to {host}:{port}: {_describe(exc)}") from None
        try:
            conn, head = await self._send(reader, writer, parts, host, port, headers)
        except BaseException:
            writer.transport.abort()
            raise
        try:
            yield Response(
                status_code=head.status_code,
                headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in head.headers},
                url=url,
                _conn=conn,
                _reader=reader,
                _read_timeout=self.read_timeout,
            )
        finally:
            writer.transport.abort()  # one request per connection: nothing to keep, nothing to wait for

    async def _send(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        parts: SplitResult,
        host: str,
        port: int,
        headers: Mapping[str, str],
    ) -> tuple[h11.Connection, h11.Response]:
        """Write the request and read up to the response head."""
        conn = h11.Connection(h11.CLIENT)
        authority = (f"[{host}]" if ":" in host else host) + (f":{port}" if parts.port else "")
        request = h11.Request(
            method="GET",
            target=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
            headers=[
                ("Host", authority),
                ("User-Agent", self.user_agent),
                ("Accept-Encoding", "identity"),
                ("Connection", "close"),
                *headers.items(),
            ],
        )
        try:
            writer.write(conn.send(request) + conn.send(h11.EndOfMessage()))
            async with asyncio.timeout(self.read_timeout):
                await writer.drain()
        except (OSError, TimeoutError) as exc:
            raise HttpError(f"cannot send the request to {host}:{port}: {_describe(exc)}") from None
        event = await _next_event(conn, reader, self.read_timeout)
        while isinstance(event, h11.InformationalResponse):
            event = await _next_event(conn, reader, self.read_timeout)
        if not isinstance(event, h11.Response):  # pragma: no cover - h11 answers a request with a response
            raise HttpError(f"unexpected {type(event).__name__} from {host}:{port}")
        return conn, event

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        return self._ssl


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader, timeout: float) -> object:
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise HttpError(f"bad HTTP from the server: {exc}") from None
        if event is not h11.NEED_DATA:
            return event
        try:
            async with asyncio.timeout(timeout):
                data = await reader.read(CHUNK)
        except TimeoutError:
            raise HttpError(f"no data for {timeout:.0f} s") from None
        except OSError as exc:
            raise HttpError(f"connection lost: {_describe(exc)}") from None
        conn.receive_data(data)  # b"" is the end of the stream; h11 then refuses a short body


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"
