"""Engine, sessions and the one place that commits.

A request gets a read session (never commits) or a write session (commits once when the
handler returns without error). On SQLite, writers are serialised in the app with one lock
per database: SQLite allows one writer, and its busy-timeout retry loop makes tail latency
explode under concurrency, so waiting on a plain lock is both fairer and faster.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from prometheus_client import Counter, Histogram
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DB_STATEMENTS = Counter("shouyin_db_statements_total", "SQL statements sent to the database")
DB_SECONDS = Histogram(
    "shouyin_db_statement_seconds",
    "Time spent in SQL statements",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0),
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is explicit and SAVEPOINTs work.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA cache_size=-32000")
        cur.close()

    return on_connect


def _sqlite_begin(conn: Any) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _count_start(conn: Any, _c: Any, _s: Any, _p: Any, _ctx: Any, _many: Any) -> None:
    conn.info["query_start"] = time.perf_counter()


def _count_end(conn: Any, _c: Any, _s: Any, _p: Any, _ctx: Any, _many: Any) -> None:
    DB_STATEMENTS.inc()
    started = conn.info.pop("query_start", None)
    if started is not None:
        DB_SECONDS.observe(time.perf_counter() - started)


def make_engine(url: str, *, count_statements: bool = True, busy_timeout_ms: int = 5000) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, pool_size=16)
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        event.listen(engine, "begin", _sqlite_begin)
    elif url.endswith("?nopool"):
        engine = create_engine(url.removesuffix("?nopool"), poolclass=NullPool)
    else:
        # No pre-ping: it costs a round trip per checkout; stale connections are recycled.
        engine = create_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800)
    if count_statements:
        event.listen(engine, "before_cursor_execute", _count_start)
        event.listen(engine, "after_cursor_execute", _count_end)
    return engine


class Database:
    """An engine, its session factory and the writer lock."""

    def __init__(self, engine: Engine, *, fail_fast_engine: Engine | None = None) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.write_lock = threading.Lock()
        # SQLite connections that give up at once when another process holds the write lock,
        # for work done on the event loop, which must never sit in SQLite's busy wait.
        self._fail_fast_engine = fail_fast_engine
        self._fail_fast_sessions = (
            sessionmaker(
                bind=fail_fast_engine.execution_options(sqlite_begin="IMMEDIATE"),
                expire_on_commit=False,
                autoflush=False,
            )
            if fail_fast_engine is not None
            else None
        )
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
        self._write_sessions = sessionmaker(
            bind=engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else engine,
            expire_on_commit=False,
            autoflush=False,
        )

    @classmethod
    def from_url(cls, url: str) -> Database:
        fail_fast = make_engine(url, busy_timeout_ms=0) if url.startswith("sqlite") else None
        return cls(make_engine(url), fail_fast_engine=fail_fast)

    @property
    def can_fail_fast(self) -> bool:
        return self._fail_fast_sessions is not None

    @contextmanager
    def read(self) -> Iterator[Session]:
        # close() ends the transaction without expiring loaded objects, so callers may keep
        # reading them after the block.
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self, *, locked: bool = False, fail_fast: bool = False) -> Iterator[Session]:
        """A unit of work: commits once at the end, rolls everything back on error.

        `locked` says the caller already holds the SQLite writer lock; `fail_fast` raises
        `sqlalchemy.exc.OperationalError` at once if another process is writing.
        """
        lock = self.write_lock if self.is_sqlite and not locked else None
        factory = self._fail_fast_sessions if fail_fast and self._fail_fast_sessions else None
        if lock is not None:
            lock.acquire()
        try:
            with (factory or self._write_sessions)() as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            if lock is not None:
                lock.release()

    def dispose(self) -> None:
        self.engine.dispose()
        if self._fail_fast_engine is not None:
            self._fail_fast_engine.dispose()


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def read_session(request: Request) -> Iterator[Session]:
    with get_database(request).read() as session:
        yield session


def write_session(request: Request) -> Iterator[Session]:
    with get_database(request).write() as session:
        yield session


# scope="function": the commit runs before the response is sent. With the default scope
# FastAPI sends the response first, and a client that reads right after a write (a browser
# following the redirect after login) could miss it.
ReadDb = Annotated[Session, Depends(read_session)]
WriteDb = Annotated[Session, Depends(write_session, scope="function")]


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked": another writer held on longer than we waited."""
    return "database is locked" in str(exc)
