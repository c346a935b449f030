"""The member-lookup bench: N members (cached), lookups in-process and over HTTP, import rate.

The members live in a SQLite database of their own under ``var/bench/members-N/`` with its
own key file (``var/member-keys.json`` inside that folder, where the bench's server looks for
it), built once with the real FieldCipher and blind indexes and Core executemany batches. A
``complete.json`` marker written after the last batch says the cache can be reused.
"""

from __future__ import annotations

import json
import math
import os
import random
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, event, insert

from shouyin.auth import service as auth
from shouyin.auth.permissions import Role
from shouyin.auth.schemas import TokenCreate, UserCreate
from shouyin.bench.checkout import HOST, BenchError, running_server
from shouyin.bench.loadgen import Request, run_load_sync
from shouyin.customers import service as members_service
from shouyin.customers.crypto import FieldCipher, KeyRing, load_or_create
from shouyin.customers.models import Member
from shouyin.customers.rules import initials_of
from shouyin.db import Database, make_engine
from shouyin.demo.members import MOBILE_PREFIXES, MemberSealer, card_number, random_name
from shouyin.migrations import runner
from shouyin.shared.clock import utcnow
from shouyin.shared.types import table_of
from shouyin.stores import service as stores
from shouyin.stores.schemas import StoreCreate

DB_FILE = "members.db"
MARKER = "complete.json"
BATCH = 5000
# Affine maps i -> a*i + b (mod m) with a coprime to m: distinct members, scattered numbers.
MOBILE_STEP, MOBILE_SPACE = 48_271, 10**8
CARD_STEP, CARD_SPACE = 69_621, 10**10
KINDS = ("mobile", "last4", "card", "name", "initials")
IMPORT_SAMPLE = 20_000


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | int | None
    unit: str

    def as_json(self) -> str:
        line = {
            "bench": "member-lookup",
            "metric": self.name,
            "value": self.value,
            "unit": self.unit,
        }
        return json.dumps(line, ensure_ascii=False)


@dataclass(frozen=True)
class Cache:
    folder: Path
    count: int

    @property
    def url(self) -> str:
        return f"sqlite:///{self.folder / DB_FILE}"

    @property
    def key_file(self) -> Path:
        return self.folder / "var" / "member-keys.json"

    def is_complete(self) -> bool:
        marker = self.folder / MARKER
        if not marker.exists() or not (self.folder / DB_FILE).exists():
            return False
        return bool(json.loads(marker.read_text()) == _marker(self.count))


def _marker(count: int) -> dict[str, object]:
    """What the cache was built for: a schema edited since means a rebuild."""
    return {
        "members": count,
        "revision": runner.head_revision(),
        "columns": sorted(table_of(Member).c.keys()),
    }


def mobile_of(i: int) -> str:
    prefix = MOBILE_PREFIXES[i % len(MOBILE_PREFIXES)]
    return prefix + f"{(i // len(MOBILE_PREFIXES) * MOBILE_STEP + 12_345) % MOBILE_SPACE:08d}"


def card_of(i: int) -> str:
    return card_number((i * CARD_STEP + 1_234_567) % CARD_SPACE)


def name_of(i: int) -> str:
    return random_name(random.Random(i))[0]


def _fast_build(engine: Engine) -> None:
    """Bulk build only: a throwaway cache needs no durability until the marker is written."""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: object, _record: object) -> None:
        cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("PRAGMA cache_size=-400000")
        cur.close()


def insert_members(
    db: Database, cipher: FieldCipher, *, start: int, stop: int, on_batch: Callable[[int], None]
) -> None:
    """Members ``start..stop-1``: sealed, indexed and inserted in one transaction per batch."""
    sealer, now, table = MemberSealer(cipher), utcnow(), table_of(Member)
    for first in range(start, stop, BATCH):
        rows = [
            sealer.row(name=name_of(i), mobile=mobile_of(i), card=card_of(i),
                       created_at=now - timedelta(seconds=i), gender="mf"[i % 2])
            for i in range(first, min(first + BATCH, stop))
        ]  # fmt: skip
        with db.write() as session:
            session.connection().execute(insert(table), rows)
        on_batch(len(rows))


def build_cache(cache: Cache, console: Console) -> None:
    """Make the N members afresh (any incomplete earlier attempt is thrown away)."""
    shutil.rmtree(cache.folder, ignore_errors=True)
    cache.folder.mkdir(parents=True)
    cipher = FieldCipher(load_or_create(cache.key_file))
    engine = make_engine(cache.url, count_statements=False)
    _fast_build(engine)
    db = Database(engine)
    try:
        runner.upgrade(db.engine)
        started = time.perf_counter()
        with _progress(console) as progress:
            task = progress.add_task(f"建会员库 {cache.count:,} members", total=cache.count)
            insert_members(
                db, cipher, start=0, stop=cache.count,
                on_batch=lambda n: progress.advance(task, n),
            )  # fmt: skip
        seconds = time.perf_counter() - started
    finally:
        db.dispose()
    (cache.folder / MARKER).write_text(json.dumps(_marker(cache.count)))
    console.print(f"Built {cache.count:,} members in {seconds:.1f} s.")


def measure_import(folder: Path, count: int, console: Console) -> float:
    """Rows per second through `shouyin import members`' importer, from a generated CSV file
    into a fresh database with the app's normal SQLite settings."""
    from shouyin.cli import cli_principal
    from shouyin.customers.importer import import_members

    target = folder / "import-sample"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    lines = ["mobile,name,gender,birthday"]
    lines += [
        f"{mobile_of(i)},{name_of(i)},{'男' if i % 2 else '女'},19{70 + i % 30}-0{1 + i % 9}-1{i % 10}"
        for i in range(10**7, 10**7 + count)
    ]
    data = "\n".join(lines).encode()
    db = Database(make_engine(f"sqlite:///{target / DB_FILE}", count_statements=False))
    try:
        runner.upgrade(db.engine)
        cipher = FieldCipher(KeyRing.generate())
        started = time.perf_counter()
        with db.write() as session:
            report = import_members(
                session, data=data, filename="members.csv", actor=cli_principal(),
                cipher=cipher, notice_version="bench",
            )  # fmt: skip
        seconds = time.perf_counter() - started
    finally:
        db.dispose()
        shutil.rmtree(target, ignore_errors=True)
    console.print(f"import_rows_per_s: {report.created:,} of {count:,} CSV rows imported.")
    return report.created / seconds


def queries(count: int, sample: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    picked = [rng.randrange(count) for _ in range(sample)]
    return {
        "mobile": [mobile_of(i) for i in picked],
        "last4": [mobile_of(i)[-4:] for i in picked],
        "card": [card_of(i) for i in picked],
        "name": [name_of(i) for i in picked],
        "initials": [initials_of(name_of(i)) for i in picked],
    }


def time_lookups(
    cache: Cache, asked: dict[str, list[str]], console: Console
) -> dict[str, list[float]]:
    """Milliseconds per `customers.service.lookup` call, by kind; every query must match."""
    cipher = FieldCipher(load_or_create(cache.key_file))
    db = Database(make_engine(cache.url, count_statements=False))
    timings: dict[str, list[float]] = {}
    try:
        with db.read() as session, _progress(console) as progress:
            for kind in KINDS:
                task = progress.add_task(f"查询 {kind}", total=len(asked[kind]))
                timings[kind] = []
                for query in asked[kind]:
                    started = time.perf_counter()
                    found = members_service.lookup(session, query=query, cipher=cipher)
                    timings[kind].append((time.perf_counter() - started) * 1000)
                    if not found:
                        raise BenchError(f"the {kind} lookup {query!r} found nobody")
                    session.expunge_all()
                    progress.advance(task)
    finally:
        db.dispose()
    return timings


def bench_token(cache: Cache) -> str:
    """A cashier (with a store) and an API token in the cached database, for this run only."""
    db = Database(make_engine(cache.url, count_statements=False))
    code = f"BM{secrets.token_hex(3).upper()}"
    try:
        with db.write() as session:
            store = stores.create_store(
                session, data=StoreCreate(code=code, name=f"压测门店 {code}"), actor=None
            )
            data = UserCreate(
                username=f"bench_{code.lower()}", display_name=f"压测收银员 {code}",
                password=secrets.token_urlsafe(24), role=Role.CASHIER, store_id=store.id,
            )  # fmt: skip
            user = auth.create_user(session, data=data, actor=None)
            _, secret = auth.create_token(
                session, user_id=user.id, data=TokenCreate(name="bench", expires_days=1),
                actor=None,
            )  # fmt: skip
    finally:
        db.dispose()
    return secret


def time_http(cache: Cache, mobiles: list[str], console: Console) -> list[float]:
    """GET /api/v1/members/lookup?q=<mobile> one at a time against a real `shouyin serve`."""
    token = bench_token(cache)
    requests = [Request("GET", f"/api/v1/members/lookup?q={quote(m)}") for m in mobiles]
    headers = (("Authorization", f"Bearer {token}"),)
    with _server_keys(cache), running_server(cache.url, cache.folder) as server:
        status, body = server.request("GET", requests[0].path, headers=dict(headers))
        if status != 200 or not json.loads(body):
            raise BenchError(f"the first HTTP lookup was answered {status}: {body[:200]!r}")
        console.print(f"Server up on port {server.port}; {len(requests)} HTTP lookups.")
        warmup = requests[: len(requests) // 10 + 1]  # not measured: first-call costs
        run_load_sync(
            HOST, server.port, warmup, total=len(warmup), concurrency=1, default_headers=headers
        )
        result = run_load_sync(
            HOST, server.port, requests, total=len(requests), concurrency=1,
            default_headers=headers, timeout=30,
        )  # fmt: skip
    if result.errors or result.statuses.get(200, 0) != len(requests):
        raise BenchError(f"HTTP lookups failed: {result.statuses}, {result.errors} errors")
    return result.latencies_ms


@contextmanager
def _server_keys(cache: Cache) -> Iterator[None]:
    """The server reads the cache's key file, whatever the operator's environment says."""
    saved = {k: os.environ.get(k) for k in ("SHOUYIN_MEMBER_KEYS", "SHOUYIN_MEMBER_KEY_FILE")}
    os.environ.pop("SHOUYIN_MEMBER_KEYS", None)
    os.environ["SHOUYIN_MEMBER_KEY_FILE"] = str(cache.key_file.resolve())
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1], 3)


def metrics(lookups: dict[str, list[float]], http: list[float], import_rate: float) -> list[Metric]:
    return [
        Metric("mobile_p50_ms", percentile(lookups["mobile"], 50), "ms"),
        Metric("mobile_p99_ms", percentile(lookups["mobile"], 99), "ms"),
        Metric("last4_p50_ms", percentile(lookups["last4"], 50), "ms"),
        Metric("card_p50_ms", percentile(lookups["card"], 50), "ms"),
        Metric("name_p50_ms", percentile(lookups["name"], 50), "ms"),
        Metric("initials_p50_ms", percentile(lookups["initials"], 50), "ms"),
        Metric("http_mobile_p50_ms", percentile(http, 50), "ms"),
        Metric("import_rows_per_s", round(import_rate, 1), "rows/s"),
    ]


def run(var_dir: Path, *, count: int, sample: int, seed: int, console: Console) -> list[Metric]:
    # Absolute: the server runs with the cache folder as its working directory.
    cache = Cache((var_dir / "bench" / f"members-{count}").resolve(), count)
    if cache.is_complete():
        console.print(f"Reusing the cached {count:,} members in {cache.folder}.")
    else:
        build_cache(cache, console)
    engine = make_engine(cache.url, count_statements=False)
    runner.upgrade(engine)  # a cache from an older schema is brought up to date
    engine.dispose()
    asked = queries(count, sample, seed)
    lookups = time_lookups(cache, asked, console)
    http = time_http(cache, asked["mobile"], console)
    rate = measure_import(cache.folder.parent, min(count, IMPORT_SAMPLE), console)
    return metrics(lookups, http, rate)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console,
    )  # fmt: skip
