"""The checkout bench: a real `shouyin serve` taking cash orders of 3-8 lines over HTTP.

The server runs in its own process on a free port; the load generator (one process, raw
asyncio HTTP/1.1) sends orders built in advance, so the measured time is the server's. SQL
statements are counted by the server itself (``shouyin_db_statements_total`` on /metrics)
before and after the measured run; warm-up orders are not measured.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shouyin.bench.dataset import Dataset
from shouyin.bench.loadgen import LoadResult, Request, run_load_sync

HOST = "127.0.0.1"
ORDERS_PATH = "/api/v1/orders"
STATEMENTS_METRIC = "shouyin_db_statements_total"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 30.0
CASH_NOTE = 10_000  # fen: the customer pays in whole 100-yuan notes, so there is change


class BenchError(Exception):
    """The bench could not run (server did not start, first order refused...)."""


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | int | None
    unit: str

    def as_json(self) -> str:
        line = {"bench": "checkout", "metric": self.name, "value": self.value, "unit": self.unit}
        return json.dumps(line, ensure_ascii=False)


@dataclass(frozen=True)
class CheckoutRun:
    load: LoadResult
    statements: float  # SQL statements the server ran during the measured load
    server_cpu_s: float  # the server process's CPU time during the measured load
    warmup_failures: int

    @property
    def created(self) -> int:
        return self.load.statuses.get(201, 0)

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.load.statuses.items() if not 200 <= status < 300)

    @property
    def failed(self) -> int:
        """Measured or warm-up orders that did not come back 201 Created."""
        return failures(self.load) + self.warmup_failures

    def metrics(self) -> list[Metric]:
        wall, created = self.load.wall_s, self.created
        return [
            Metric("orders_per_s", round(created / wall, 1) if wall > 0 else None, "orders/s"),
            Metric("p50_ms", _ms(self.load.percentile(50)), "ms"),
            Metric("p99_ms", _ms(self.load.percentile(99)), "ms"),
            Metric(
                "statements_per_order",
                round(self.statements / created, 2) if created else None,
                "statements",
            ),
            Metric("errors", self.load.errors, "count"),
            Metric("non_2xx", self.non_2xx, "count"),
            Metric("client_cpu_s", round(self.load.client_cpu_s, 3), "s"),
            Metric("server_cpu_s", round(self.server_cpu_s, 3), "s"),
        ]


def failures(load: LoadResult) -> int:
    """Requests without an answer plus answers other than 201 Created."""
    return load.errors + sum(load.statuses.values()) - load.statuses.get(201, 0)


def _ms(value: float) -> float | None:
    return None if value != value else round(value, 2)  # NaN: no responses at all


# --- orders ------------------------------------------------------------------------------


def order_body(dataset: Dataset, rng: random.Random) -> bytes:
    """One cash order of 3-8 different products, paid with the next 100 yuan above its total."""
    picked = rng.sample(dataset.products, min(rng.randint(3, 8), len(dataset.products)))
    lines = [(product, rng.choice((1, 1, 1, 2, 2, 3))) for product in picked]
    total = sum(product.price * quantity for product, quantity in lines)
    body = {
        "client_uuid": str(uuid.uuid4()),  # random, not seeded: reruns on PostgreSQL add orders
        "store_id": dataset.store_id,
        "register_id": dataset.register_id,
        "lines": [{"product_id": p.id, "quantity": q} for p, q in lines],
        "payments": [{"method": "cash", "amount": (total // CASH_NOTE + 1) * CASH_NOTE}],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def build_orders(dataset: Dataset, count: int, rng: random.Random) -> list[Request]:
    return [Request("POST", ORDERS_PATH, order_body(dataset, rng)) for _ in range(count)]


# --- the server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """`shouyin serve` in a child process with an environment of its own."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log
        self.stats = psutil.Process(process.pid)

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request("GET", path)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT_S)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def cpu_seconds(self) -> float:
        times = self.stats.cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    def statements(self) -> float:
        status, body = self.get("/metrics")
        if status != 200:
            raise BenchError(f"GET /metrics answered {status}")
        for line in body.decode().splitlines():
            if line.startswith(STATEMENTS_METRIC + " "):
                return float(line.split()[1])
        raise BenchError(f"the server's /metrics has no {STATEMENTS_METRIC}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"the server exited with code {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass  # not listening yet
            time.sleep(0.1)
        raise BenchError(f"the server did not answer /healthz in {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def server_env(url: str, folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SHOUYIN_DATABASE_URL": url,
        "SHOUYIN_VAR_DIR": str(folder / "var"),
        "SHOUYIN_SECRET_KEY": secrets.token_urlsafe(32),
        "SHOUYIN_MODE": "production",
        "SHOUYIN_STATEMENT_COUNTING": "true",
        "SHOUYIN_LOG_LEVEL": "warning",
    }


@contextmanager
def running_server(
    url: str, folder: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    port = free_port()
    log = folder / "server.log"
    command = [
        sys.executable, "-c", "from shouyin.cli import app; app(prog_name='shouyin')",
        "serve", "--host", HOST, "--port", str(port),
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env={**server_env(url, folder), **(extra_env or {})},
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


# --- the run -----------------------------------------------------------------------------


def run_checkout(
    dataset: Dataset, folder: Path, *, orders: int, concurrency: int, warmup: int, seed: int,
    console: Console,
) -> CheckoutRun:  # fmt: skip
    rng = random.Random(seed)
    auth = (("Authorization", f"Bearer {dataset.token}"),)
    warmup_orders = build_orders(dataset, max(warmup, 1), rng)
    measured = build_orders(dataset, orders, rng)
    with running_server(dataset.url, folder) as server:
        console.print(
            f"Server up on port {server.port}; warming up with {len(warmup_orders)} orders."
        )
        _first_order(server, warmup_orders[0], dict(auth))
        warm = _load(server, warmup_orders[1:], concurrency, auth, console, "预热 warm-up")
        statements_before, cpu_before = server.statements(), server.cpu_seconds()
        result = _load(server, measured, concurrency, auth, console, "结账 checkout")
        cpu = server.cpu_seconds() - cpu_before
        statements = server.statements() - statements_before
    return CheckoutRun(result, statements, cpu, failures(warm))


def _first_order(server: Server, order: Request, headers: dict[str, str]) -> None:
    """One order on its own first: a refused order is reported with the server's reason."""
    headers = {**headers, "Content-Type": "application/json"}
    status, body = server.request(order.method, order.path, order.body, headers)
    if status != 201:
        raise BenchError(f"the first order was answered {status}: {body.decode(errors='replace')}")


def _load(
    server: Server, orders: Sequence[Request], concurrency: int,
    headers: Sequence[tuple[str, str]], console: Console, label: str,
) -> LoadResult:  # fmt: skip
    with _progress(console, label, orders) as next_order:
        return run_load_sync(
            HOST, server.port, next_order, total=len(orders), concurrency=concurrency,
            default_headers=headers, timeout=REQUEST_TIMEOUT_S,
        )  # fmt: skip


@contextmanager
def _progress(
    console: Console, label: str, orders: Sequence[Request]
) -> Iterator[Callable[[int], Request]]:
    """A progress bar fed by a sampling thread: the load generator only stores a number."""
    sent = 0

    def next_order(index: int) -> Request:
        nonlocal sent
        sent = index + 1
        return orders[index]

    stop = threading.Event()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, refresh_per_second=4) as progress:
        task = progress.add_task(label, total=len(orders))

        def sample() -> None:
            while not stop.wait(0.25):
                progress.update(task, completed=sent)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            yield next_order
        finally:
            stop.set()
            sampler.join()
            progress.update(task, completed=sent)
