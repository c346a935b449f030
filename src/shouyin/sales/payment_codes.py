"""Payment codes (付款码): the till's calls — charge, poll, cancel — through the gateway.

The attempt row is committed (status ``pending``) BEFORE the gateway is called, in a unit of
work of its own, and every answer is written in another (:mod:`payment_steps`): a crash at
any point leaves a row that says a charge may have happened, and the recovery
(:mod:`payment_recovery`) settles it. Gateway calls happen outside any transaction, so a
slow provider never holds the database's writer lock. Checkout claims attempts through
:mod:`payment_claims`; returns refund them through :mod:`payment_refunds`.
See docs/payments.md.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.db import Database
from shouyin.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shouyin.sales import shifts
from shouyin.sales.gateway import Gateway
from shouyin.sales.payment_claims import CodeTender, claim_for_order
from shouyin.sales.payment_models import PaymentAttempt
from shouyin.sales.payment_schemas import (
    PaymentAttemptPublic,
    PaymentCodeCreate,
    code_method,
    code_tail,
)
from shouyin.sales.payment_steps import (
    CANCELLED,
    OPEN,
    UNSETTLED,
    advance,
    call,
    finish_reverse,
    follow,
    load,
    reverse,
)
from shouyin.shared import clock, i18n
from shouyin.stores.models import Register

__all__ = ["CodeTender", "cancel", "charge", "claim_for_order", "poll", "readable", "view"]
DESCRIPTION = "门店消费"
# Who may follow or cancel another cashier's attempt (besides the same register).
MANAGE = "shifts.manage"
# The gateway's reason codes a person may see, as msgids (translated in payments.po).
REASONS = {
    "declined": "Declined by WeChat Pay or Alipay.",
    "NOTENOUGH": "Not enough money in the customer's account.",
    "TRADE_REVOKED": "The payment was cancelled.",
    "TRADE_NOT_PAID": "The payment was never paid.",
    "REFUND_EXCEEDED": "The refund is more than the payment has left.",
    "REVERSE_EXPIRED": "The payment was already refunded; it cannot be cancelled.",
    "INVALID_REQUEST": "The payment provider refused the request.",
}


def reason_text(reason: str | None, lang: str) -> str | None:
    """A gateway reason code in the reader's language; an unknown one as the gateway gave it."""
    if reason is None or reason not in REASONS:
        return reason
    return i18n.gettext(lang, REASONS[reason])


def readable(attempt: PaymentAttemptPublic, lang: str) -> PaymentAttemptPublic:
    """The API's answer: a failed attempt's ``message`` translated, its code in ``reason``."""
    message = attempt.message
    if attempt.status == "failed":
        message = reason_text(message, lang)
    return attempt.model_copy(update={"message": message, "reason": attempt.message})


def charge(
    db: Database, gateway: Gateway, *, data: PaymentCodeCreate, actor: Principal, wait_seconds: int
) -> tuple[PaymentAttemptPublic, bool]:
    """Charge a scanned code; returns the attempt and whether it was made now (not a retry)."""
    actor.require("sales.sell")
    actor.require_store(data.store_id)
    method = code_method(data.code)
    with db.write() as session:
        attempt_id, created = _start(session, data=data, actor=actor, method=method)
    row = load(db, attempt_id)
    if created:
        answer = call(lambda: gateway.pay(row.trade_no, data.code, data.amount, DESCRIPTION))
        follow(db, gateway, row, answer, actor)
    elif row.status in OPEN:
        advance(db, gateway, row, actor, wait_seconds)
    return view(db, attempt_id=attempt_id, actor=actor, wait_seconds=wait_seconds), created


def poll(
    db: Database, gateway: Gateway, *, attempt_id: int, actor: Principal, wait_seconds: int,
    register_id: int | None = None,
) -> PaymentAttemptPublic:  # fmt: skip
    """The attempt now: an unsettled one is queried, and reversed once it has waited too long."""
    row = _handled(db, attempt_id, actor, register_id)
    if row.status in OPEN:
        advance(db, gateway, row, actor, wait_seconds)
    return view(db, attempt_id=attempt_id, actor=actor, wait_seconds=wait_seconds)


def cancel(
    db: Database, gateway: Gateway, *, attempt_id: int, actor: Principal, wait_seconds: int,
    register_id: int | None = None,
) -> PaymentAttemptPublic:  # fmt: skip
    """Reverse an attempt no order has claimed (refunds it if it was paid)."""
    row = _handled(db, attempt_id, actor, register_id)
    if row.order_id is None and row.status == "reversing":
        finish_reverse(db, gateway, row, actor)
    elif row.order_id is None and row.status not in ("failed", "reversed"):
        reverse(db, gateway, row, actor, frm=(*UNSETTLED, "succeeded"), reason=CANCELLED)
    done = view(db, attempt_id=attempt_id, actor=actor, wait_seconds=wait_seconds)
    if done.order_id is not None:
        raise Conflict(
            "This payment already paid an order; give the money back with a return.",
            code="payment_code.used",
        )
    return done


def view(
    db: Database, *, attempt_id: int, actor: Principal, wait_seconds: int
) -> PaymentAttemptPublic:
    row = _seen(db, attempt_id, actor)
    public = PaymentAttemptPublic.model_validate(row, from_attributes=True)
    return public.model_copy(update={"wait_seconds": wait_seconds})


def _seen(db: Database, attempt_id: int, actor: Principal) -> PaymentAttempt:
    actor.require("sales.sell")
    row = load(db, attempt_id)
    if actor.store_id is not None and actor.store_id != row.store_id:
        raise NotFound("No such payment.", code="payment_code.not_found")
    return row


def _handled(
    db: Database, attempt_id: int, actor: Principal, register_id: int | None
) -> PaymentAttempt:
    """The attempt, if this person may follow or cancel it: at its register, its cashier, or
    a manager (a code charged at one till is not reversed from another by mistake)."""
    row = _seen(db, attempt_id, actor)
    at_its_register = register_id is not None and register_id == row.register_id
    if not (at_its_register or row.user_id == actor.user_id or actor.can(MANAGE)):
        raise Forbidden(
            "This payment was taken at another register by another cashier.",
            code="payment_code.other_register",
        )
    return row


def _start(
    session: Session, *, data: PaymentCodeCreate, actor: Principal, method: str
) -> tuple[int, bool]:
    """The attempt of this client UUID: the one stored earlier, or a new pending row."""
    found = _by_uuid(session, data.client_uuid)
    if found is not None:
        return _same_request(found, data), False
    register_store = session.scalar(
        select(Register.store_id).where(Register.id == data.register_id)
    )
    if register_store != data.store_id:
        raise ValidationFailed("The register is not in this store.", code="register.not_in_store")
    shifts.shift_for_register(session.connection(), register_id=data.register_id)
    now = clock.utcnow()
    attempt = PaymentAttempt(
        client_uuid=str(data.client_uuid), trade_no=data.client_uuid.hex, store_id=data.store_id,
        register_id=data.register_id, user_id=actor.user_id, method=method,
        code_tail=code_tail(data.code), amount=data.amount, status="pending", created_at=now,
        updated_at=now, refunded=0,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(attempt)
    except IntegrityError:
        # A retry sent at the same moment stored it first (PostgreSQL): answer with that one.
        found = _by_uuid(session, data.client_uuid)
        if found is None:
            raise
        return _same_request(found, data), False
    return attempt.id, True


def _by_uuid(session: Session, client_uuid: UUID) -> PaymentAttempt | None:
    query = select(PaymentAttempt).where(PaymentAttempt.client_uuid == str(client_uuid))
    return session.scalars(query).first()


def _same_request(found: PaymentAttempt, data: PaymentCodeCreate) -> int:
    if (found.store_id, found.amount, found.code_tail) != (
        data.store_id,
        data.amount,
        code_tail(data.code),
    ):
        raise Conflict(
            "This payment's number was already used for a different payment. Scan again.",
            code="payment_code.uuid_reused",
        )
    return found.id
