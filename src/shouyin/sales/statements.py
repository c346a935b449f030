"""Checkout's SQL, built once per dialect: building a statement costs more than running it."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from shouyin.sales.models import Order, OrderCounter, OrderLine, Payment
from shouyin.sales.shift_models import Shift
from shouyin.shared.types import table_of
from shouyin.stores.models import Register, Store

ORDER_BY_UUID = select(Order.id, Order.request_hash).where(Order.client_uuid == bindparam("uuid"))

# The store, the register if it is the store's, and the register's open shift: one query.
STORE_CONTEXT = (
    select(
        Store.id, Store.code, Store.timezone, Store.day_cutoff_minutes, Store.rounding,
        Store.active, Register.id, Shift.id,
    )
    .outerjoin(Register, and_(Register.store_id == Store.id, Register.id == bindparam("register_id")))
    .outerjoin(Shift, and_(Shift.register_id == Register.id, Shift.status == "open"))
    .where(Store.id == bindparam("store_id"))
)  # fmt: skip

_lines = table_of(OrderLine)
# No sort_by_parameter_order: on SQLite it makes one INSERT per row. Ids come back with
# their line number instead.
INSERT_LINES = insert(_lines).returning(_lines.c.id, _lines.c.line_no)
INSERT_PAYMENTS = insert(table_of(Payment))


@cache
def _upserts(dialect_name: str) -> dict[str, Any]:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    counters = table_of(OrderCounter)
    next_seq = (
        dialect.insert(counters)
        .values(store_id=bindparam("store_id"), business_date=bindparam("day"), last=1)
        .on_conflict_do_update(
            index_elements=[counters.c.store_id, counters.c.business_date],
            set_={"last": counters.c.last + 1},
        )
        .returning(counters.c.last)
    )
    orders = table_of(Order)
    # A concurrent retry with the same UUID inserts nothing and learns it lost.
    new_order = (
        dialect.insert(orders)
        .on_conflict_do_nothing(index_elements=[orders.c.client_uuid])
        .returning(orders.c.id)
    )
    return {"next_seq": next_seq, "new_order": new_order}


def upsert(connection: Connection, name: str) -> Any:
    return _upserts(connection.dialect.name)[name]
