"""The customer-service bench: the SLA scan over N tickets, and survey answers over HTTP.

The data is built once into ``var/bench/service-N/`` (SQLite, Core executemany batches) and
reused while its ``complete.json`` marker matches: :data:`STORES` stores and N tickets written
straight into the tickets table. Most are history (resolved or closed, opened in the two
years before the build); :data:`OPEN_SHARE` of them are open (new, assigned, in progress),
opened in the :data:`OPEN_DAYS` days before the build, with the deadlines of their priority
(calendar hours of the default ``complaint_deadlines``): some are long breached, some about to
be, most still ahead.

Each run works on a copy of the cache, so the answers and complaints it adds never change
the data of the next run.

Measured: ``sla_scan_ms``, the time of ``sla.due`` (every open ticket about to breach or
breached, as the minute's SLA check finds them) as of the build time, the median of
:data:`SCANS` scans after one to warm up; ``survey_submit_p50_ms``/``p99``, survey answers
POSTed one at a time to a real ``shouyin serve`` on the copy (orders made for the run, each
with its signed token; scores spread like real answers, so the low ones open complaints
through the real path).
"""

from __future__ import annotations

import json
import random
import secrets
import shutil
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import Connection, Engine, event, func, insert, select
from sqlalchemy.orm import Session

from shouyin.auth import service as auth
from shouyin.auth.models import User
from shouyin.auth.permissions import Role
from shouyin.auth.schemas import UserCreate
from shouyin.bench.checkout import HOST, BenchError, Server, failures, running_server
from shouyin.bench.loadgen import LoadResult, Request, run_load_sync
from shouyin.db import Database, make_engine
from shouyin.migrations import runner
from shouyin.sales.models import Order
from shouyin.service import sla
from shouyin.service.models import SurveyAnswer, Ticket
from shouyin.service.survey_links import survey_token
from shouyin.shared.clock import business_date, utcnow
from shouyin.shared.types import table_of
from shouyin.stores import service as stores
from shouyin.stores.schemas import StoreCreate

DB_FILE = "service.db"
RUN_FILE = "run.db"
MARKER = "complete.json"
BATCH = 50_000
STORES = 5
OPEN_SHARE = 0.03  # of all tickets: a chain's complaints are mostly history
OPEN_DAYS = 5
HISTORY_DAYS = 730
SCANS = 5
WARN_MINUTES = 30
HOURS = {"urgent": (1, 24), "high": (4, 48), "normal": (24, 72)}  # respond / resolve
PRIORITY_WEIGHTS = {"urgent": 1, "high": 3, "normal": 6}
CATEGORIES = ("product", "service", "price", "environment", "other")
# How satisfied real customers say they are: mostly content, a few unhappy.
SCORE_WEIGHTS = {5: 50, 4: 25, 3: 13, 2: 7, 1: 5}


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | int | None
    unit: str

    def as_json(self) -> str:
        line = {"bench": "service", "metric": self.name, "value": self.value, "unit": self.unit}
        return json.dumps(line, ensure_ascii=False)


@dataclass(frozen=True)
class Cache:
    folder: Path
    tickets: int

    @property
    def url(self) -> str:
        return f"sqlite:///{self.folder / DB_FILE}"

    def built_at(self) -> datetime | None:
        """When the complete cache was built; None when it must be (re)built."""
        marker = self.folder / MARKER
        if not marker.exists() or not (self.folder / DB_FILE).exists():
            return None
        data = json.loads(marker.read_text())
        if {k: data.get(k) for k in ("tickets", "stores", "revision")} != self._key():
            return None
        return datetime.fromisoformat(data["built_at"])

    def _key(self) -> dict[str, Any]:
        return {"tickets": self.tickets, "stores": STORES, "revision": runner.head_revision()}

    def mark(self, built_at: datetime) -> None:
        data = {**self._key(), "built_at": built_at.isoformat()}
        (self.folder / MARKER).write_text(json.dumps(data))


def cache_of(var_dir: Path, *, tickets: int) -> Cache:
    # Absolute: the server runs with the cache folder as its working directory.
    return Cache((var_dir / "bench" / f"service-{tickets}").resolve(), tickets)


def _fast_build(engine: Engine) -> None:
    """A throwaway cache needs no durability until its marker is written."""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: object) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=OFF")
        cur.close()


# --- the data set ---------------------------------------------------------------------------


def build(cache: Cache, console: Console, *, seed: int = 1) -> datetime:
    shutil.rmtree(cache.folder, ignore_errors=True)
    cache.folder.mkdir(parents=True)
    engine = make_engine(cache.url, count_statements=False)
    _fast_build(engine)
    db = Database(engine)
    started, now = time.perf_counter(), utcnow()
    try:
        runner.upgrade(db.engine)
        with db.write() as session:
            _stores_and_cashier(session)
            _insert(session.connection(), Ticket, _tickets(cache.tickets, now, random.Random(seed)))
    finally:
        db.dispose()
    cache.mark(now)
    console.print(
        f"Built {cache.tickets:,} tickets in {STORES} stores in "
        f"{time.perf_counter() - started:.1f} s ({cache.folder})."
    )
    return now


def _stores_and_cashier(session: Session) -> None:
    for n in range(1, STORES + 1):  # the fresh database numbers them 1..STORES
        stores.create_store(
            session, data=StoreCreate(code=f"SV{n:02d}", name=f"服务压测门店 {n}"), actor=None
        )
    # The cashier of the orders the survey answers are about; nobody logs in as them.
    data = UserCreate(
        username="bench_service", display_name="服务压测收银员",
        password=secrets.token_urlsafe(24), role=Role.CASHIER, store_id=1,
    )  # fmt: skip
    auth.create_user(session, data=data, actor=None)


def _insert(conn: Connection, model: Any, rows: Iterator[dict[str, Any]]) -> None:
    statement = insert(table_of(model))
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            conn.execute(statement, batch)
            batch = []
    if batch:
        conn.execute(statement, batch)


def _tickets(count: int, now: datetime, rng: random.Random) -> Iterator[dict[str, Any]]:
    priorities = list(PRIORITY_WEIGHTS)
    weights = list(PRIORITY_WEIGHTS.values())
    for n in range(1, count + 1):
        priority = rng.choices(priorities, weights)[0]
        is_open = rng.random() < OPEN_SHARE
        days = OPEN_DAYS if is_open else HISTORY_DAYS
        opened = now - timedelta(seconds=rng.randint(60, days * 86_400))
        respond_h, resolve_h = HOURS[priority]
        row = {
            "number": f"TK-SV{1 + n % STORES:02d}-{n:08d}", "client_uuid": None,
            "store_id": 1 + n % STORES, "category": rng.choice(CATEGORIES),
            "priority": priority, "source": rng.choice(("till", "office", "survey")),
            "title": f"压测投诉 {n}", "description": "压测数据", "opened_at": opened,
            "respond_by": opened + timedelta(hours=respond_h),
            "resolve_by": opened + timedelta(hours=resolve_h), "updated_at": opened,
            "reopened": 0,
        }  # fmt: skip
        row.update(_open(opened, rng) if is_open else _done(opened, resolve_h, rng))
        yield row


def _open(opened: datetime, rng: random.Random) -> dict[str, Any]:
    status = rng.choice(("new", "assigned", "in_progress"))
    answered = None if status == "new" else opened + timedelta(minutes=rng.randint(5, 300))
    return {"status": status, "first_response_at": answered, "resolved_at": None,
            "closed_at": None, "outcome": None}  # fmt: skip


def _done(opened: datetime, resolve_h: int, rng: random.Random) -> dict[str, Any]:
    resolved = opened + timedelta(minutes=rng.randint(30, resolve_h * 80))
    closed = rng.random() < 0.9
    return {
        "status": "closed" if closed else "resolved",
        "first_response_at": opened + timedelta(minutes=rng.randint(5, 300)),
        "resolved_at": resolved, "closed_at": resolved + timedelta(days=1) if closed else None,
        "outcome": "已处理",
    }  # fmt: skip


# --- the run --------------------------------------------------------------------------------


def run(var_dir: Path, *, tickets: int, surveys: int, seed: int, console: Console) -> list[Metric]:
    cache = cache_of(var_dir, tickets=tickets)
    built_at = cache.built_at()
    if built_at is None:
        with console.status(f"Building {tickets:,} tickets ..."):
            built_at = build(cache, console, seed=seed)
    else:
        console.print(f"Reusing the data built {built_at:%Y-%m-%d %H:%M} in {cache.folder}.")
    with _working_copy(cache) as url:
        scan_ms, due = time_scan(url, built_at)
        console.print(f"sla.due: {due:,} tickets due or breached; median of {SCANS} scans.")
        load, complaints = time_surveys(url, cache.folder, surveys, random.Random(seed), console)
    return [
        Metric("sla_scan_ms", round(scan_ms, 2), "ms"),
        Metric("sla_due_tickets", due, "tickets"),
        Metric("tickets", tickets, "tickets"),
        Metric("survey_submit_p50_ms", _ms(load.percentile(50)), "ms"),
        Metric("survey_submit_p99_ms", _ms(load.percentile(99)), "ms"),
        Metric("survey_answers", load.statuses.get(201, 0), "answers"),
        Metric("survey_complaints", complaints, "tickets"),
        Metric("survey_failed", failures(load), "count"),
        Metric("client_cpu_s", round(load.client_cpu_s, 3), "s"),
    ]


def _ms(value: float) -> float | None:
    return None if value != value else round(value, 2)  # NaN: no responses at all


@contextmanager
def _working_copy(cache: Cache) -> Iterator[str]:
    """A copy of the cached database for this run only."""
    target = cache.folder / RUN_FILE
    shutil.copyfile(cache.folder / DB_FILE, target)
    try:
        yield f"sqlite:///{target}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)


def time_scan(url: str, now: datetime) -> tuple[float, int]:
    """The median time of ``sla.due`` over the whole chain, and how many it found."""
    db = Database(make_engine(url, count_statements=False))
    try:
        with db.read() as session:
            found = sla.due(session, now=now, warn_minutes=WARN_MINUTES)  # warm up, connect
            times = []
            for _ in range(SCANS):
                started = time.perf_counter()
                sla.due(session, now=now, warn_minutes=WARN_MINUTES)
                times.append((time.perf_counter() - started) * 1000)
                session.expunge_all()
        return statistics.median(times), len(found)
    finally:
        db.dispose()


# --- survey answers over HTTP ---------------------------------------------------------------


def time_surveys(
    url: str, folder: Path, count: int, rng: random.Random, console: Console
) -> tuple[LoadResult, int]:
    """POST ``count`` answers one at a time (after a tenth as many to warm up): the load and
    the complaints they opened."""
    secret = secrets.token_urlsafe(32)
    warmup = max(count // 10, 1)
    order_ids = _orders(url, warmup + count)
    requests = [_answer(order_id, secret, rng) for order_id in order_ids]
    headers = (("Content-Type", "application/json"),)
    with _server(url, folder, secret) as server:
        status, body = server.request(requests[0].method, requests[0].path, requests[0].body,
                                      dict(headers))  # fmt: skip
        if status != 201:
            raise BenchError(f"the first survey answer was answered {status}: {body[:300]!r}")
        console.print(f"Server up on port {server.port}; {count:,} survey answers.")
        run_load_sync(HOST, server.port, requests[1:warmup], total=warmup - 1, concurrency=1,
                      default_headers=headers)  # fmt: skip
        result = run_load_sync(
            HOST, server.port, requests[warmup:], total=count, concurrency=1,
            default_headers=headers, timeout=30,
        )  # fmt: skip
    return result, _complaints(url)


def _answer(order_id: int, secret: str, rng: random.Random) -> Request:
    score = rng.choices(list(SCORE_WEIGHTS), list(SCORE_WEIGHTS.values()))[0]
    tags = ["friendly_staff", "fast_checkout"] if score >= 4 else ["long_queue"]
    body: dict[str, Any] = {"satisfaction": score, "nps": min(10, score * 2), "tags": tags}
    if score <= 2:
        body["comment"] = "排队太久，收银员也不耐烦。"
    token = survey_token(order_id, secret=secret)
    return Request("POST", f"/api/v1/surveys/{token}", json.dumps(body).encode())


def _orders(url: str, count: int) -> list[int]:
    """``count`` completed orders of the bench cashier, spread over the stores."""
    db = Database(make_engine(url, count_statements=False))
    now, run_id = utcnow(), uuid.uuid4().hex[:8]
    try:
        with db.write() as session:
            cashier = session.scalar(select(User.id).where(User.username == "bench_service"))
            rows = [_order_row(n, run_id, cashier, now) for n in range(1, count + 1)]
            table = table_of(Order)
            statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            return list(session.execute(statement, rows).scalars())
    finally:
        db.dispose()


def _order_row(n: int, run_id: str, cashier: int | None, now: datetime) -> dict[str, Any]:
    store = 1 + n % STORES
    return {
        "client_uuid": str(uuid.uuid4()), "number": f"SV{store:02d}-{run_id}-{n:06d}",
        "store_id": store, "cashier_id": cashier, "member_id": None,
        "business_date": business_date(now, "Asia/Shanghai", 0), "created_at": now,
        "status": "completed", "subtotal": 1000, "discount_total": 0, "total": 1000,
        "paid": 1000, "change": 0, "item_count": 1, "steps": [],
    }  # fmt: skip


def _complaints(url: str) -> int:
    db = Database(make_engine(url, count_statements=False))
    try:
        with db.read() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Ticket)
                    .join(SurveyAnswer, SurveyAnswer.id == Ticket.survey_answer_id)
                )
                or 0
            )
    finally:
        db.dispose()


@contextmanager
def _server(url: str, folder: Path, secret: str) -> Iterator[Server]:
    """`shouyin serve` on the run's copy, signing survey tokens with the bench's secret, and
    running no scheduled jobs: the minute's SLA check escalating thousands of breaches would
    be measured instead of the answers (sla_scan_ms measures the scan on its own)."""
    extra = {"SHOUYIN_SECRET_KEY": secret, "SHOUYIN_RUN_JOBS": "false"}
    with running_server(url, folder, extra) as server:
        yield server
