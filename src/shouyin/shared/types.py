"""Column types shared by all models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, String, Table, TypeDecorator
from sqlalchemy.orm import mapped_column

from shouyin.shared.clock import utcnow


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use shared.clock.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY, so big keys use INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")

IntPk = Annotated[int, mapped_column(Integer, primary_key=True)]
BigPk = Annotated[int, mapped_column(BigId, primary_key=True)]
Created = Annotated[datetime, mapped_column(UtcDateTime(), default=utcnow)]
Name = Annotated[str, mapped_column(String(120))]


def table_of(model: type[object]) -> Table:
    """The Core table of a mapped class, typed for bulk statements."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table
