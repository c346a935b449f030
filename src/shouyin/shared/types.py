"""Column types shared by all models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, Integer, String, Table
from sqlalchemy.orm import mapped_column

from shouyin.shared.clock import utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY, so big keys use INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")

IntPk = Annotated[int, mapped_column(Integer, primary_key=True)]
BigPk = Annotated[int, mapped_column(BigId, primary_key=True)]
Created = Annotated[datetime, mapped_column(DateTime(timezone=True), default=utcnow)]
Name = Annotated[str, mapped_column(String(120))]


def table_of(model: type[object]) -> Table:
    """The Core table of a mapped class, typed for bulk statements."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table
