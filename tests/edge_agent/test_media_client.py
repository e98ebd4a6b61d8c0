"""The agent's HTTP client against real sockets: redirects, timeouts, TLS with a private CA, routes, and
which failures count as network failures (retry) and which do not (a full disk)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from edge_agent.media_client import HttpError, MediaClient

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client hung up or refused our certificate: what some tests are about
        finally:
            writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def read_head(reader: asyncio.StreamReader) -> list[str]:
    return (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")


def answer(status: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def replying(data: bytes, heads: list[list[str]] | None = None) -> Handler:
    """A server that reads the request head (kept in `heads`), sends `data` as it is, and hangs up."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_head(reader)
        if heads is not None:
            heads.append(head)
        writer.write(data)
        await writer.drain()

    return handler


async def body_of(client: MediaClient, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    async with client.stream(url, headers) as response:
        return response.status_code, b"".join([chunk async for chunk in response.aiter_bytes()])


@pytest.mark.asyncio
async def test_redirects_are_followed_and_headers_sent() -> None:
    seen: list[list[str]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_head(reader)
        seen.append(head)
        if head[0].startswith("GET /old "):
            writer.write(answer("302 Found", headers={"Location": "/new?x=1"}))
        else:
            writer.write(answer("206 Partial Content", b"tail", {"Content-Range": "bytes 6-9/10"}))
        await writer.drain()

    async with serve(handler) as port:
        status, body = await body_of(MediaClient(), f"http://127.0.0.1:{port}/old", {"Range": "bytes=6-"})
    assert (status, body) == (206, b"tail")
    assert seen[1][0] == "GET /new?x=1 HTTP/1.1"
    assert f"host: 127.0.0.1:{port}" in [line.lower() for line in seen[1]]
    assert "range: bytes=6-" in [line.lower() for line in seen[1]]


@pytest.mark.asyncio
async def test_a_redirect_loop_is_an_http_error() -> None:
    async with serve(replying(answer("301 Moved Permanently", headers={"Location": "/again"}))) as port:
        with pytest.raises(HttpError, match="redirects"):
            await body_of(MediaClient(), f"http://127.0.0.1:{port}/again")


@pytest.mark.asyncio
async def test_a_silent_server_times_out() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await reader.read()  # never answers; returns when the client hangs up

    async with serve(handler) as port:
        with pytest.raises(HttpError, match="no data"):
            await body_of(MediaClient(read_timeout=0.3), f"http://127.0.0.1:{port}/x")


@pytest.mark.asyncio
async def test_a_body_cut_short_is_an_http_error_after_the_bytes_that_came() -> None:
    got = bytearray()
    async with serve(replying(answer("200 OK", b"x" * 1000)[:-400])) as port:  # promises 1000 bytes, sends 600
        with pytest.raises(HttpError, match="bad HTTP"):  # noqa: PT012 - the error comes mid-stream, from the loop
            async with MediaClient().stream(f"http://127.0.0.1:{port}/x") as response:
                async for chunk in response.aiter_bytes():
                    got += chunk
    assert bytes(got) == b"x" * 600


@pytest.mark.asyncio
async def test_garbage_from_the_server_is_an_http_error() -> None:
    async with serve(replying(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")) as port:
        with pytest.raises(HttpError, match="bad HTTP"):
            await body_of(MediaClient(), f"http://127.0.0.1:{port}/x")


@pytest.mark.asyncio
async def test_a_disk_error_in_the_callers_loop_stays_an_os_error() -> None:
    """The fetcher must tell a full disk (do not retry) from a broken link (retry)."""

    async with serve(replying(answer("200 OK", b"audio"))) as port:
        with pytest.raises(OSError, match="No space") as info:  # noqa: PT012 - the error comes mid-stream, from the loop
            async with MediaClient().stream(f"http://127.0.0.1:{port}/x") as response:
                async for _chunk in response.aiter_bytes():
                    raise OSError(28, "No space left on device")
    assert not isinstance(info.value, HttpError)


@pytest.mark.asyncio
async def test_route_dials_elsewhere_but_names_the_origin() -> None:
    heads: list[list[str]] = []
    async with serve(replying(answer("200 OK", b"via link"), heads)) as port:
        client = MediaClient(route=lambda origin: ("127.0.0.1", port) if origin[1] == "controller.invalid" else None)
        assert await body_of(client, "http://controller.invalid:8000/media/a.mp3") == (200, b"via link")
    assert [line for line in heads[0] if line.lower().startswith("host:")] == ["Host: controller.invalid:8000"]


@pytest.mark.asyncio
async def test_refused_connections_and_bad_urls_are_http_errors() -> None:
    from simulator.local import free_port

    with pytest.raises(HttpError, match="cannot connect"):
        await body_of(MediaClient(), f"http://127.0.0.1:{free_port()}/x")
    with pytest.raises(HttpError, match="not an http"):
        await body_of(MediaClient(), "file:///etc/shadow")


def _private_ca(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA and a server certificate for 127.0.0.1 signed by it, as a province's own PKI would issue."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer: ec.EllipticCurvePrivateKey,
             ca: bool) -> x509.Certificate:  # fmt: skip
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = cert(
        "loa test CA", ca_key, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loa test CA")]), ca_key, True
    )
    server_cert = cert("127.0.0.1", server_key, ca_cert.subject, ca_key, False)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (tmp_path / "server.pem").write_bytes(server_cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    (tmp_path / "server.key").write_bytes(
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    return tmp_path / "ca.pem", context


@pytest.mark.asyncio
async def test_https_trusts_the_given_ca_and_nothing_else(tmp_path: Path) -> None:
    ca_file, server_tls = _private_ca(tmp_path)

    async with serve(replying(answer("200 OK", b"secure")), server_tls) as port:
        url = f"https://127.0.0.1:{port}/media/a.mp3"
        assert await body_of(MediaClient(ca_file=ca_file), url) == (200, b"secure")
        with pytest.raises(HttpError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            await body_of(MediaClient(), url)
