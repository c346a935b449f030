"""Fixtures: databases on SQLite and on a real PostgreSQL server, the app, logged-in clients."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from shouyin.auth.models import User
from shouyin.config import Settings
from shouyin.db import Database, make_engine
from shouyin.migrations import runner
from tests import factories
from tests.pg import postgres_server

BACKENDS = ["sqlite", "postgresql"]
os.environ.setdefault("TMPDIR", tempfile.gettempdir())


@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def work_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="shouyin-test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_template(work_dir: Path) -> Path:
    path = work_dir / "template.db"
    engine = make_engine(f"sqlite:///{path}", count_statements=False)
    runner.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(pg_base_url: str) -> str:
    admin = create_engine(f"{pg_base_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE shouyin_template"))
    admin.dispose()
    engine = make_engine(f"{pg_base_url}/shouyin_template?nopool", count_statements=False)
    runner.upgrade(engine)
    engine.dispose()
    return "shouyin_template"


class DatabaseMaker:
    """Fresh databases copied from a migrated template."""

    def __init__(self, request: pytest.FixtureRequest, work_dir: Path) -> None:
        self.request, self.work_dir, self.made = request, work_dir, []  # type: ignore[var-annotated]

    def url(self, backend: str) -> str:
        name = f"t{factories.next_id()}"
        if backend == "sqlite":
            target = self.work_dir / f"{name}.db"
            shutil.copy(self.request.getfixturevalue("sqlite_template"), target)
            return f"sqlite:///{target}"
        base = self.request.getfixturevalue("pg_base_url")
        template = self.request.getfixturevalue("pg_template")
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
        admin.dispose()
        return f"{base}/{name}"


@pytest.fixture
def db_maker(request: pytest.FixtureRequest, work_dir: Path) -> DatabaseMaker:
    return DatabaseMaker(request, work_dir)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, db_maker: DatabaseMaker) -> Iterator[Database]:
    """A fresh, migrated database of the requested backend, for code that commits."""
    db = Database.from_url(db_maker.url(backend))
    yield db
    db.dispose()


@pytest.fixture
def session(backend: str, request: pytest.FixtureRequest) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    if backend == "sqlite":
        url = f"sqlite:///{request.getfixturevalue('sqlite_template')}"
    else:
        url = f"{request.getfixturevalue('pg_base_url')}/{request.getfixturevalue('pg_template')}"
    engine = make_engine(url)
    connection = engine.connect()
    outer = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield db_session
    db_session.close()
    outer.rollback()
    connection.close()
    engine.dispose()


def make_settings(url: str, var_dir: Path, **overrides: Any) -> Settings:
    return Settings(
        mode="test", database_url=url, secret_key="test-secret", var_dir=var_dir, **overrides
    )


@dataclass
class AppHarness:
    """An app on its own database, and clients logged in as chosen users."""

    app: FastAPI
    db: Database
    clients: list[TestClient] = field(default_factory=list)

    def write(self, build: Callable[[Session], Any]) -> Any:
        with self.db.write() as session:
            return build(session)

    def client(self, user: User | None = None) -> TestClient:
        client = TestClient(self.app, base_url="http://testserver", follow_redirects=False)
        if user is not None:
            secret = self.write(lambda s: factories.login_secret(s, user))
            from shouyin.auth.tokens import csrf_for

            client.cookies.set("shouyin_session", secret)
            client.headers["X-CSRF-Token"] = csrf_for(secret, "test-secret")
        self.clients.append(client)
        return client

    def user(self, role: str = "cashier", store: Any = None) -> User:
        user: User = self.write(lambda s: factories.make_user(s, role=role, store=store))
        return user


@pytest.fixture
def app_backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def harness(app_backend: str, db_maker: DatabaseMaker, work_dir: Path) -> Iterator[AppHarness]:
    from shouyin.main import create_app

    url = db_maker.url(app_backend)
    db = Database.from_url(url)
    app = create_app(make_settings(url, work_dir), db)
    harness = AppHarness(app=app, db=db)
    yield harness
    for client in harness.clients:
        client.close()
    db.dispose()
