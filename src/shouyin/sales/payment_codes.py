"""Payment codes (付款码): charge, query, reverse and refund through the payment gateway."""

from __future__ import annotations

from sqlalchemy import Connection


def refund_for_return(
    conn: Connection, *, order_id: int, return_uuid: str, tenders: dict[str, int]
) -> dict[str, str]:
    """Refund the WeChat and Alipay parts of a return through the gateway.

    ``tenders`` maps "wechat"/"alipay" to fen; the result maps each to the gateway's refund id.
    Idempotent: the refund number is made from ``return_uuid``, so a retried return refunds
    once. Raises a DomainError (nothing refunded) when the gateway refuses.
    """
    raise NotImplementedError
