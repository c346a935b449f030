"""Alembic environment: the URL comes from Settings (or the caller's config)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from shouyin import models

config = context.config
target_metadata = models.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from shouyin.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", count_statements=False)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


run_migrations_online()
