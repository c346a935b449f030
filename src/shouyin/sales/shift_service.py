"""Shift service: open a shift with a float. Cash moves, closing and reports build on it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.sales.shift_models import Shift
from shouyin.shared.clock import business_date, utcnow
from shouyin.stores.models import Register, Store

MAX_FLOAT_FEN = 10_000_000  # ¥100,000: more than any drawer holds


def open_shift(
    session: Session, *, actor: Principal | None, store_id: int, register_id: int, user_id: int,
    opening_float: int, client_uuid: uuid.UUID | None,
) -> Shift:  # fmt: skip
    """Open a shift on the register for ``user_id``; a retry with the same UUID returns it."""
    if actor is not None:
        actor.require("sales.sell")
        actor.require_store(store_id)
    if client_uuid is not None:
        found = session.scalar(select(Shift).where(Shift.client_uuid == str(client_uuid)))
        if found is not None:
            return found
    if not 0 <= opening_float <= MAX_FLOAT_FEN:
        raise ValidationFailed(
            "The float must be between 0 and {limit} yuan.",
            code="shift.float_invalid", details={"limit": MAX_FLOAT_FEN // 100},
        )  # fmt: skip
    register = session.get(Register, register_id)
    store = session.get(Store, store_id)
    if register is None or store is None or register.store_id != store_id:
        raise NotFound("No such register in this store.", code="register.not_found")
    now = utcnow()
    shift = Shift(
        client_uuid=str(client_uuid or uuid.uuid4()), store_id=store_id, register_id=register_id,
        cashier_id=user_id, opened_at=now, opening_float=opening_float, status="open",
        business_date=business_date(now, store.timezone, store.day_cutoff_minutes),
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(shift)
            session.flush()
    except IntegrityError:
        raise Conflict(
            "This register already has an open shift. Close it before opening another.",
            code="shift.already_open",
        ) from None
    return shift
