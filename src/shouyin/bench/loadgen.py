"""Lean HTTP/1.1 load generator for benchmarks (standard library only).

Raw HTTP/1.1 over asyncio streams, one keep-alive connection per worker, so the client spends
as little CPU as possible and the bench measures the server rather than the client.
``client_cpu_s`` is the CPU time of the whole calling process during the run (the load
generator's own cost when the server runs in another process).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes


@dataclass
class LoadResult:
    latencies_ms: list[float]  # one per response received (any status)
    statuses: dict[int, int]  # status code -> count
    errors: int  # requests that ended in an exception (no response)
    wall_s: float
    client_cpu_s: float

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the latencies in ms (NaN when there are none)."""
        if not 0 <= p <= 100:
            raise ValueError(f"percentile must be in 0..100, got {p}")
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s > 0 else 0.0


class _StaleConnectionError(ConnectionError):
    """The server closed the connection before sending any byte of the response."""


class Connection:
    """One keep-alive HTTP/1.1 connection; reopens itself lazily after a close or failure."""

    def __init__(self, host: str, port: int, default_headers: Sequence[tuple[str, str]] = ()):
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._served = 0  # responses received on the current socket
        self._default_names = {name.lower() for name, _ in default_headers}
        fixed = [("Host", f"{host}:{port}"), ("Connection", "keep-alive"), *default_headers]
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed)

    @classmethod
    async def open(
        cls, host: str, port: int, *, default_headers: Sequence[tuple[str, str]] = ()
    ) -> Connection:
        conn = cls(host, port, default_headers)
        await conn._connect()
        return conn

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._served = 0

    def _drop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def close(self) -> None:
        writer = self._writer
        self._drop()
        if writer is not None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                await writer.wait_closed()

    def _encode(self, req: Request) -> bytes:
        names = {name.lower() for name, _ in req.headers} | self._default_names
        extra = "".join(f"{k}: {v}\r\n" for k, v in req.headers)
        if (req.body or req.method in _BODY_METHODS) and "content-length" not in names:
            extra += f"Content-Length: {len(req.body)}\r\n"
            if req.body and "content-type" not in names:
                extra += "Content-Type: application/json\r\n"
        head = f"{req.method} {req.path} HTTP/1.1\r\n{self._fixed}{extra}\r\n"
        return head.encode("latin-1") + req.body

    async def send(self, req: Request) -> Response:
        data = self._encode(req)
        if self._reader is None or self._reader.at_eof():
            self._drop()
            await self._connect()
        reused = self._served > 0
        try:
            return await self._roundtrip(data, req.method)
        except _StaleConnectionError:
            if not reused:
                raise
        # The server closed an idle keep-alive connection: retry once on a fresh one.
        await self._connect()
        return await self._roundtrip(data, req.method)

    async def _roundtrip(self, data: bytes, method: str) -> Response:
        reader, writer = self._reader, self._writer
        if reader is None or writer is None:
            raise RuntimeError("connection is not open")
        try:
            writer.write(data)
            if len(data) > 65536:
                await writer.drain()
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                    raise
                raise _StaleConnectionError("server closed the connection") from exc
            status, headers = _parse_head(head)
            while 100 <= status < 200:  # interim responses (100 Continue...)
                status, headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
            body, closing = await _read_body(reader, status, headers, method)
        except BaseException:
            self._drop()
            raise
        self._served += 1
        if closing or headers.get("connection", "").lower() == "close":
            self._drop()
        return Response(status, headers, body)


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"bad status line: {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            key, value = name.strip().lower(), value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return int(parts[1]), headers


async def _read_body(
    reader: asyncio.StreamReader, status: int, headers: dict[str, str], method: str
) -> tuple[bytes, bool]:
    """Return the body and whether the connection must be closed afterwards."""
    if method == "HEAD" or status in (204, 304):
        return b"", False
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                return b"".join(chunks), False
            chunks.append((await reader.readexactly(size + 2))[:-2])
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"])), False
    return await reader.read(), True  # body delimited by the server closing the connection


async def run_load(
    host: str,
    port: int,
    requests: Iterable[Request] | Callable[[int], Request],
    *,
    total: int,
    concurrency: int,
    default_headers: Sequence[tuple[str, str]] = (),
    timeout: float | None = None,
) -> LoadResult:
    """Send ``total`` requests over ``concurrency`` keep-alive connections.

    ``requests`` is a function of the request index or an iterable (cycled when shorter than
    ``total``). Connections are opened before the clock starts.
    """
    if total < 0 or concurrency < 1:
        raise ValueError("total must be >= 0 and concurrency >= 1")
    if callable(requests):
        build = requests
    else:
        source = itertools.cycle(requests)

        def build(_: int) -> Request:
            try:
                return next(source)
            except StopIteration:
                raise ValueError("no requests to send") from None

    conns: list[Connection] = []
    try:
        for _ in range(min(concurrency, total)):
            conns.append(await Connection.open(host, port, default_headers=default_headers))
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        errors = 0
        counter = itertools.count()

        async def worker(conn: Connection) -> None:
            nonlocal errors
            while (i := next(counter)) < total:
                req = build(i)
                start = time.perf_counter()
                try:
                    if timeout is None:
                        resp = await conn.send(req)
                    else:
                        async with asyncio.timeout(timeout):
                            resp = await conn.send(req)
                except Exception:
                    errors += 1  # the connection dropped itself and reopens on the next send
                    continue
                latencies.append((time.perf_counter() - start) * 1000)
                statuses[resp.status] = statuses.get(resp.status, 0) + 1

        cpu0, wall0 = time.process_time(), time.perf_counter()
        tasks = [asyncio.create_task(worker(c)) for c in conns]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        await asyncio.gather(*(c.close() for c in conns))
    return LoadResult(latencies, statuses, errors, wall, cpu)


def run_load_sync(
    host: str,
    port: int,
    requests: Iterable[Request] | Callable[[int], Request],
    *,
    total: int,
    concurrency: int,
    default_headers: Sequence[tuple[str, str]] = (),
    timeout: float | None = None,
) -> LoadResult:
    """Blocking wrapper around :func:`run_load`, on uvloop when it is installed."""
    run: Callable[[Coroutine[Any, Any, LoadResult]], LoadResult] = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        run = uvloop.run
    coro = run_load(
        host,
        port,
        requests,
        total=total,
        concurrency=concurrency,
        default_headers=default_headers,
        timeout=timeout,
    )
    return run(coro)
