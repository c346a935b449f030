"""Payment codes (付款码) in returns: WeChat and Alipay refunds, in two steps.

1. In the return's transaction, :func:`plan_refunds` spreads each method's refund over the
   order's attempts of that method and the return writes one ``sale_return_payments`` row
   per attempt, status ``pending``, its ``reference`` holding the attempt's trade number.
   No money has moved yet, so a failure rolls everything back.
2. After the commit, :func:`send_pending` asks the gateway for each pending row (outside any
   write transaction: a slow provider never holds the database's writer lock) and, in a
   short write, marks it ``done`` with the refund id, or ``failed`` with the gateway's
   reason code when it refuses. A timeout leaves it ``pending``: a retry of the return and
   the recovery job send it again. The refund number is made from the return's UUID, the
   method and the attempt, so the gateway refunds each part once, however often it is sent.

``payment_attempts.refunded`` grows only when the gateway took a refund, and never beyond
the attempt's amount (compare-and-set).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.db import Database
from shouyin.errors import ValidationFailed
from shouyin.sales.gateway import Gateway, Result
from shouyin.sales.payment_models import PaymentAttempt
from shouyin.sales.payment_steps import CALL_TRIES, call, reason_of
from shouyin.sales.return_models import ReturnOrder, ReturnPayment
from shouyin.sales.tender import CODE_METHODS
from shouyin.shared import clock

log = logging.getLogger(__name__)
PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True)
class RefundPart:
    """One attempt's share of a return's refund to its method."""

    method: str
    amount: int
    trade_no: str


def refund_no(return_uuid: str, method: str, attempt_id: int) -> str:
    """The refund's number at the gateway: the same return always asks with the same one."""
    return f"RF{UUID(return_uuid).hex}{method[0].upper()}{attempt_id}"


def plan_refunds(conn: Connection, *, order_id: int, tenders: dict[str, int]) -> list[RefundPart]:
    """Each WeChat/Alipay part of a return, spread over the order's attempts of its method.

    Runs in the return's transaction (the order row is locked); refunds still pending from
    earlier returns count as taken.
    """
    parts: list[RefundPart] = []
    for method, amount in tenders.items():
        if method in CODE_METHODS and amount > 0:
            parts += _spread(conn, order_id, method, amount)
    return parts


def _spread(conn: Connection, order_id: int, method: str, amount: int) -> list[RefundPart]:
    rows = conn.execute(
        select(PaymentAttempt.trade_no, PaymentAttempt.amount, PaymentAttempt.refunded)
        .where(PaymentAttempt.order_id == order_id, PaymentAttempt.method == method,
               PaymentAttempt.status == "succeeded")
        .order_by(PaymentAttempt.id)
        .with_for_update()
    ).all()  # fmt: skip
    pending = _pending_by_trade(conn, [trade_no for trade_no, _, _ in rows])
    parts, left = [], amount
    for trade_no, paid, refunded in rows:
        take = min(left, paid - refunded - pending.get(trade_no, 0))
        if take > 0:
            parts.append(RefundPart(method, take, trade_no))
            left -= take
    if left:
        raise ValidationFailed(
            "The refund to {method} is more than the sale's {method} payments have left.",
            code="payment_code.refund_exceeded", details={"method": method},
        )  # fmt: skip
    return parts


def _pending_by_trade(conn: Connection, trade_nos: list[str]) -> dict[str, int]:
    if not trade_nos:
        return {}
    rows = conn.execute(
        select(ReturnPayment.reference, func.sum(ReturnPayment.amount))
        .where(ReturnPayment.status == PENDING, ReturnPayment.reference.in_(trade_nos))
        .group_by(ReturnPayment.reference)
    ).all()  # fmt: skip
    return {str(ref): int(total) for ref, total in rows}


@dataclass(frozen=True)
class Sent:
    done: int = 0
    failed: int = 0
    left: int = 0  # no answer: still pending


_PENDING_ROWS = (
    select(
        ReturnPayment.id, ReturnPayment.method, ReturnPayment.amount, ReturnPayment.reference,
        ReturnOrder.client_uuid, ReturnOrder.store_id, PaymentAttempt.id.label("attempt_id"),
    )
    .join(ReturnOrder, ReturnOrder.id == ReturnPayment.return_id)
    .join(PaymentAttempt, PaymentAttempt.trade_no == ReturnPayment.reference)
    .where(ReturnPayment.status == PENDING, ReturnPayment.method.in_(sorted(CODE_METHODS)))
    .order_by(ReturnPayment.id)
)  # fmt: skip


def send_pending(
    db: Database, gateway: Gateway, *, return_id: int | None = None,
    actor: Principal | None = None,
) -> Sent:  # fmt: skip
    """Send the pending refunds of one return (or of all returns) and record the answers.

    Call it with no transaction open: each gateway call runs outside the database.
    """
    query = _PENDING_ROWS
    if return_id is not None:
        query = query.where(ReturnPayment.return_id == return_id)
    with db.read() as session:
        rows = session.execute(query).all()
    done = failed = left = 0
    for row in rows:
        number = refund_no(row.client_uuid, row.method, row.attempt_id)
        answer = _refund_call(gateway, row.reference, number, row.amount)
        if answer is None:
            left += 1
        elif answer.status == "succeeded":
            done += _mark_done(db, row, answer.gateway_ref or "", actor)
        else:
            failed += _mark_failed(db, row, reason_of(answer), actor)
    return Sent(done=done, failed=failed, left=left)


def _refund_call(gateway: Gateway, trade_no: str, number: str, amount: int) -> Result | None:
    for _ in range(CALL_TRIES):
        answer = call(lambda: gateway.refund(trade_no, number, amount))
        if answer is not None and answer.status != "unknown":
            return answer
    return None  # the same refund number again later: refunded once whatever happened


def _mark_done(db: Database, row: Any, ref: str, actor: Principal | None) -> int:
    with db.write() as session:
        conn = session.connection()
        moved = conn.execute(
            update(ReturnPayment)
            .where(ReturnPayment.id == row.id, ReturnPayment.status == PENDING)
            .values(status=DONE, reference=ref[:64])
        ).rowcount  # fmt: skip
        if moved != 1:
            return 0  # another sender (the recovery, a retry) recorded it first
        grown = conn.execute(
            update(PaymentAttempt)
            .where(PaymentAttempt.id == row.attempt_id,
                   PaymentAttempt.refunded + row.amount <= PaymentAttempt.amount)
            .values(refunded=PaymentAttempt.refunded + row.amount, updated_at=clock.utcnow())
        ).rowcount  # fmt: skip
        if grown != 1:
            log.error("refund %s of %s is more than the payment had left", ref, row.reference)
        _audit(session, row, actor, "payment_code.refunded", ref)
    return 1


def _mark_failed(db: Database, row: Any, reason: str, actor: Principal | None) -> int:
    with db.write() as session:
        moved = session.connection().execute(
            update(ReturnPayment)
            .where(ReturnPayment.id == row.id, ReturnPayment.status == PENDING)
            .values(status=FAILED, reference=reason[:64])
        ).rowcount  # fmt: skip
        if moved == 1:
            _audit(session, row, actor, "payment_code.refund_failed", reason)
    return int(moved == 1)


def _audit(session: Session, row: Any, actor: Principal | None, action: str, note: str) -> None:
    audit.record(
        session, actor=actor, actor_name="payments", action=action, entity="return_payment",
        entity_id=row.id, store_id=row.store_id,
        after={"method": row.method, "amount": row.amount, "note": note},
    )  # fmt: skip
