"""Payment codes (付款码): the attempt's moves, each a compare-and-set in a short write.

States: pending -> succeeded | failed | waiting (password) | reversing -> reversed.
Every move is ``UPDATE ... WHERE status IN (...)``, so a till's poll, a retry, a cancel, a
checkout and the recovery job can race without ever contradicting the gateway: a reversal
is decided (``reversing``) before it is sent, and an order can claim only a ``succeeded``
attempt that no reversal has taken. Gateway calls happen outside any transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlalchemy import update

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.db import Database
from shouyin.errors import NotFound
from shouyin.sales.gateway import Gateway, GatewayTimeout, Result
from shouyin.sales.payment_models import PaymentAttempt
from shouyin.shared import clock

UNSETTLED = ("pending", "waiting")
OPEN = ("pending", "waiting", "reversing")
QUERIES_AFTER_TIMEOUT = 3
CALL_TRIES = 3
# A pay call still in flight (another request) is not given up on before this.
PENDING_GRACE = timedelta(seconds=15)
# Why an attempt was reversed (its message); the till shows its own text for each.
NOT_CONFIRMED = "not_confirmed"  # no answer after a timeout, or the password never came
CANCELLED = "cancelled"  # the customer changed their mind
RECOVERED = "recovered"  # left unsettled (a crash, a closed till) and reversed by recovery
UNCLAIMED = "unclaimed"  # paid, but no sale used it for hours: the money goes back
# The message of a success found by querying after the pay call timed out.
CHECKED = "checked_after_timeout"
# A decline without a reason from the gateway.
DECLINED = "declined"


def call(fn: Callable[[], Result]) -> Result | None:
    """The gateway's answer, or None when it did not answer in time."""
    try:
        return fn()
    except GatewayTimeout:
        return None


def reason_of(answer: Result) -> str:
    """What is kept of a refusal: the gateway's reason code (translated when shown)."""
    return answer.code or answer.message or DECLINED


def query_a_few(gateway: Gateway, trade_no: str) -> Result:
    for n in range(QUERIES_AFTER_TIMEOUT):
        if n and gateway.query_pause:
            time.sleep(gateway.query_pause)  # a real provider asks for a pause between queries
        answer = call(lambda: gateway.query(trade_no))
        if answer is not None and answer.status != "unknown":
            return answer
    return Result("unknown")


def follow(
    db: Database, gateway: Gateway, row: PaymentAttempt, answer: Result | None, actor: Principal
) -> None:
    """Write what the pay call said; after a timeout ask, and reverse what stays unknown."""
    timed_out = answer is None
    if answer is None:
        answer = query_a_few(gateway, row.trade_no)
    if answer.status in ("succeeded", "failed"):
        settle(db, row, answer, actor, note=CHECKED if timed_out else None)
    elif answer.status == "waiting":
        move(db, row, ("pending",), "waiting", actor, message=answer.message)
    else:
        reverse(db, gateway, row, actor, frm=UNSETTLED, reason=NOT_CONFIRMED)


def advance(
    db: Database, gateway: Gateway, row: PaymentAttempt, actor: Principal | None, wait_seconds: int
) -> None:
    """Move an unsettled attempt on: ask the gateway; give up once it waited too long."""
    if row.status == "reversing":
        finish_reverse(db, gateway, row, actor)
        return
    answer = call(lambda: gateway.query(row.trade_no)) or Result("unknown")
    if answer.status in ("succeeded", "failed"):
        settle(db, row, answer, actor)
        return
    if answer.status == "waiting" and row.status == "pending":
        move(db, row, ("pending",), "waiting", actor, message=answer.message)
    waiting = answer.status == "waiting" or row.status == "waiting"
    limit = timedelta(seconds=wait_seconds) if waiting else PENDING_GRACE
    if clock.utcnow() - row.created_at > limit:
        reverse(db, gateway, row, actor, frm=UNSETTLED, reason=NOT_CONFIRMED)


def settle(
    db: Database, row: PaymentAttempt, answer: Result, actor: Principal | None, *,
    note: str | None = None,
) -> None:  # fmt: skip
    if answer.status == "succeeded":
        move(db, row, UNSETTLED, "succeeded", actor, ref=answer.gateway_ref, message=note)
    else:
        move(db, row, UNSETTLED, "failed", actor, message=reason_of(answer))


def reverse(
    db: Database, gateway: Gateway, row: PaymentAttempt, actor: Principal | None, *,
    frm: Sequence[str], reason: str,
) -> None:  # fmt: skip
    """Decide the reversal first (so no order can claim the attempt), then send it."""
    if move(db, row, frm, "reversing", actor, message=reason, unclaimed=True):
        finish_reverse(db, gateway, row, actor)


def finish_reverse(
    db: Database, gateway: Gateway, row: PaymentAttempt, actor: Principal | None
) -> None:
    for _ in range(CALL_TRIES):
        answer = call(lambda: gateway.reverse(row.trade_no))
        if answer is not None and answer.status == "succeeded":
            move(db, row, ("reversing",), "reversed", actor)
            return
    # Still ``reversing``: the next poll or the recovery job sends the reversal again.


def move(
    db: Database, row: PaymentAttempt, frm: Sequence[str], to: str, actor: Principal | None, *,
    message: str | None = None, ref: str | None = None, unclaimed: bool = False,
) -> bool:  # fmt: skip
    """Compare-and-set the status in a unit of work of its own; False if it had moved on."""
    values: dict[str, object] = {"status": to, "updated_at": clock.utcnow()}
    if message is not None:
        values["message"] = message[:200]
    if ref is not None:
        values["gateway_ref"] = ref[:64]
    stmt = update(PaymentAttempt).where(PaymentAttempt.id == row.id, PaymentAttempt.status.in_(frm))
    if unclaimed:
        stmt = stmt.where(PaymentAttempt.order_id.is_(None))
    with db.write() as session:
        moved = session.connection().execute(stmt.values(**values)).rowcount == 1
        if moved and to in ("succeeded", "failed", "reversed"):
            audit.record(
                session, actor=actor, actor_name="payments", action=f"payment_code.{to}",
                entity="payment_attempt", entity_id=row.id, store_id=row.store_id,
                after={"trade_no": row.trade_no, "method": row.method, "amount": row.amount,
                       "message": message},
            )  # fmt: skip
    return moved


def load(db: Database, attempt_id: int) -> PaymentAttempt:
    with db.read() as session:
        row = session.get(PaymentAttempt, attempt_id)
    if row is None:
        raise NotFound("No such payment.", code="payment_code.not_found")
    return row
