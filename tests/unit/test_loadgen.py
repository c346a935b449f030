"""Tests for the lean HTTP/1.1 load generator against a tiny local asyncio server."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from shouyin.bench.loadgen import Connection, LoadResult, Request, run_load, run_load_sync


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    conn_id: int


@dataclass
class Server:
    host: str = "127.0.0.1"
    port: int = 0
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)


def _response(status: int, body: bytes, *extra: str) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _handle(srv: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    srv.connections += 1
    conn_id, served = srv.connections, 0
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            srv.requests.append(Seen(method, path, headers, body, conn_id))
            served += 1
            if path == "/drop" or (path == "/flaky" and served > 1):
                break  # close without answering (idle keep-alive closed by the server)
            if path == "/chunked":
                writer.write(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kind: Chunked\r\n\r\n"
                    b"5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: 1\r\n\r\n"
                )
            elif path == "/fail":
                writer.write(_response(500, b'{"detail":"boom"}'))
            elif path == "/close":
                writer.write(_response(200, b"bye", "Connection: close"))
            elif path == "/echo":
                writer.write(_response(200, f"{method} {path} ".encode() + body))
            else:
                writer.write(_response(200, f"ok {path}".encode()))
            await writer.drain()
            if path == "/close":
                break
    finally:
        writer.close()


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> asyncio.Server:
        return await asyncio.start_server(lambda r, w: _handle(srv, r, w), srv.host, 0)

    aserver = asyncio.run_coroutine_threadsafe(start(), loop).result(5)
    srv.port = aserver.sockets[0].getsockname()[1]
    yield srv

    async def stop() -> None:
        aserver.close()
        await aserver.wait_closed()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_content_length_keep_alive_uses_concurrency_connections(server: Server) -> None:
    result = run_load_sync(
        server.host,
        server.port,
        [Request("GET", "/a"), Request("GET", "/b")],
        total=200,
        concurrency=8,
    )
    assert result.statuses == {200: 200}
    assert result.errors == 0
    assert len(result.latencies_ms) == 200
    assert len(server.requests) == 200
    assert server.connections == 8
    assert {s.conn_id for s in server.requests} == set(range(1, 9))
    assert [s.path for s in server.requests].count("/a") == 100  # the iterable is cycled
    assert result.wall_s > 0
    assert result.client_cpu_s >= 0
    assert result.requests_per_s > 0
    assert 0 < result.percentile(50) <= result.percentile(99) <= result.percentile(100)


def test_request_headers_and_bodies(server: Server) -> None:
    async def scenario() -> list[tuple[int, bytes]]:
        conn = await Connection.open(server.host, server.port, default_headers=[("X-Bench", "1")])
        try:
            responses = [
                await conn.send(Request("POST", "/echo", b'{"a":1}')),
                await conn.send(Request("POST", "/echo")),
                await conn.send(Request("GET", "/echo")),
                await conn.send(Request("PUT", "/echo", b"x=1", (("Content-Type", "text/x"),))),
            ]
        finally:
            await conn.close()
        return [(r.status, r.body) for r in responses]

    assert asyncio.run(scenario()) == [
        (200, b'POST /echo {"a":1}'),
        (200, b"POST /echo "),
        (200, b"GET /echo "),
        (200, b"PUT /echo x=1"),
    ]
    post, empty_post, get, put = server.requests
    assert server.connections == 1
    for seen in server.requests:
        assert seen.headers["host"] == f"{server.host}:{server.port}"
        assert seen.headers["connection"] == "keep-alive"
        assert seen.headers["x-bench"] == "1"
    assert post.headers["content-length"] == "7"
    assert post.headers["content-type"] == "application/json"
    assert empty_post.headers["content-length"] == "0"
    assert "content-type" not in empty_post.headers
    assert "content-length" not in get.headers
    assert put.headers["content-type"] == "text/x"


def test_chunked_response_keeps_connection(server: Server) -> None:
    async def scenario() -> None:
        conn = await Connection.open(server.host, server.port)
        try:
            for _ in range(3):
                resp = await conn.send(Request("GET", "/chunked"))
                assert resp.status == 200
                assert resp.body == b"hello world!"
                assert resp.headers["x-kind"] == "Chunked"
                assert resp.headers["transfer-encoding"] == "chunked"
            assert (await conn.send(Request("GET", "/plain"))).body == b"ok /plain"
        finally:
            await conn.close()

    asyncio.run(scenario())
    assert server.connections == 1
    assert len(server.requests) == 4


def test_non_2xx_statuses_counted(server: Server) -> None:
    result = run_load_sync(
        server.host,
        server.port,
        lambda i: Request("GET", "/fail" if i % 4 == 0 else "/ok"),
        total=100,
        concurrency=3,
    )
    assert result.statuses == {500: 25, 200: 75}
    assert result.errors == 0
    assert len(result.latencies_ms) == 100
    assert server.connections == 3


def test_connection_close_header_reconnects(server: Server) -> None:
    result = run_load_sync(
        server.host, server.port, lambda _: Request("GET", "/close"), total=20, concurrency=2
    )
    assert result.statuses == {200: 20}
    assert result.errors == 0
    assert server.connections == 20  # one fresh connection per request, none wasted


def test_idle_connection_closed_by_server_is_retried_once(server: Server) -> None:
    result = run_load_sync(
        server.host,
        server.port,
        lambda _: Request("POST", "/flaky", b"{}"),
        total=10,
        concurrency=1,
    )
    assert result.statuses == {200: 10}
    assert result.errors == 0
    # every request after the first hits a connection the server closes, then is retried
    assert len(server.requests) == 1 + 2 * 9
    assert server.connections == 10


def test_errors_counted_without_retry_on_fresh_connections(server: Server) -> None:
    result = asyncio.run(
        run_load(
            server.host, server.port, lambda _: Request("GET", "/drop"), total=6, concurrency=2
        )
    )
    assert result.errors == 6
    assert result.statuses == {}
    assert result.latencies_ms == []
    assert math.isnan(result.percentile(99))
    assert len(server.requests) == 6  # a fresh connection failing is not retried
    assert server.connections == 6  # the worker reconnects after each failure


def test_total_smaller_than_concurrency(server: Server) -> None:
    result = run_load_sync(
        server.host, server.port, [Request("GET", "/x")], total=3, concurrency=10
    )
    assert result.statuses == {200: 3}
    assert server.connections == 3


def test_empty_iterable_rejected(server: Server) -> None:
    with pytest.raises(ValueError, match="no requests"):
        run_load_sync(server.host, server.port, [], total=1, concurrency=1)


def test_percentile_nearest_rank() -> None:
    result = LoadResult([float(v) for v in range(10, 0, -1)], {200: 10}, 0, 2.0, 0.1)
    assert result.percentile(0) == 1.0
    assert result.percentile(50) == 5.0
    assert result.percentile(90) == 9.0
    assert result.percentile(91) == 10.0
    assert result.percentile(100) == 10.0
    assert result.requests_per_s == 5.0
    with pytest.raises(ValueError, match=r"0\.\.100"):
        result.percentile(101)
