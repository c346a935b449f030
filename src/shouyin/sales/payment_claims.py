"""Payment codes (付款码) in checkout: an order claims each charged attempt it is paid with.

Several codes may pay one order (a split: WeChat + Alipay, or a code plus cash); each attempt
is claimed once with ``UPDATE ... WHERE id = :id AND order_id IS NULL`` in the order's own
transaction, so one charge can never pay two orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select, update

from shouyin.errors import ValidationFailed
from shouyin.sales.models import Order
from shouyin.sales.payment_models import PaymentAttempt

CLAIMABLE = select(
    PaymentAttempt.id,
    PaymentAttempt.status,
    PaymentAttempt.store_id,
    PaymentAttempt.register_id,
    PaymentAttempt.order_id,
    PaymentAttempt.amount,
    PaymentAttempt.method,
).where(PaymentAttempt.trade_no == bindparam("trade_no"))


@dataclass(frozen=True)
class CodeTender:
    method: str
    amount: int
    reference: str | None


def claim_for_order(
    conn: Connection, *, store_id: int, order_id: int, tenders: Sequence[CodeTender]
) -> None:
    """Tie each WeChat/Alipay tender to its succeeded attempt, once, in the order's transaction.

    The attempt must have been charged at this store and, when both have a register, at the
    order's register: a code charged at one till cannot pay a sale at another.
    """
    register_id = conn.scalar(select(Order.register_id).where(Order.id == order_id))
    for tender in tenders:
        row = conn.execute(CLAIMABLE, {"trade_no": tender.reference or ""}).first()
        if row is None or row.status != "succeeded" or row.store_id != store_id:
            raise ValidationFailed(
                "This WeChat Pay or Alipay payment was not taken (or not at this store); "
                "charge the customer's code first.",
                code="payment_code.not_paid", details={"reference": tender.reference},
            )  # fmt: skip
        if None not in (register_id, row.register_id) and register_id != row.register_id:
            raise ValidationFailed(
                "This WeChat Pay or Alipay payment was taken at another register.",
                code="payment_code.other_register", details={"reference": tender.reference},
            )  # fmt: skip
        if row.amount != tender.amount or row.method != tender.method:
            raise ValidationFailed(
                "The payment code charged {charged} fen by {method}; the sale says {amount}.",
                code="payment_code.amount_mismatch",
                details={"charged": row.amount, "method": row.method, "amount": tender.amount},
            )
        _claim(conn, attempt_id=row.id, order_id=order_id)


def _claim(conn: Connection, *, attempt_id: int, order_id: int) -> None:
    claimed = conn.execute(
        update(PaymentAttempt)
        .where(PaymentAttempt.id == attempt_id, PaymentAttempt.order_id.is_(None))
        .where(PaymentAttempt.status == "succeeded")
        .values(order_id=order_id)
    )
    if claimed.rowcount != 1:
        raise ValidationFailed(
            "This WeChat Pay or Alipay payment already paid another order.",
            code="payment_code.used",
        )
