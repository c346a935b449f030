"""Human-readable order numbers: store code, business date, sequence of the day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from shouyin.sales.models import OrderCounter
from shouyin.shared.types import table_of


def order_number(store_code: str, business_date: date, seq: int) -> str:
    return f"{store_code}-{business_date:%Y%m%d}-{seq:04d}"


def next_sequence(connection: Connection, *, store_id: int, business_date: date) -> int:
    """One statement: insert the day's counter or bump it, and read the new value."""
    table = table_of(OrderCounter)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(store_id=store_id, business_date=business_date, last=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.store_id, table.c.business_date],
        set_={"last": table.c.last + 1},
    ).returning(table.c.last)
    value: int = connection.execute(stmt).scalar_one()
    return value
