"""Payment codes (付款码): the safety net, run by ``shouyin payments recover`` and the server.

Attempts left pending, waiting or reversing (a crash, a closed browser, a gateway that
stopped answering) are settled, and refunds of returns still ``pending`` (the gateway did
not answer when the return was made) are sent again: idempotent by their refund number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from shouyin.db import Database
from shouyin.sales import payment_refunds
from shouyin.sales.gateway import Gateway
from shouyin.sales.payment_models import PaymentAttempt
from shouyin.sales.payment_steps import (
    OPEN,
    RECOVERED,
    UNCLAIMED,
    UNSETTLED,
    call,
    finish_reverse,
    load,
    reverse,
    settle,
)
from shouyin.shared import clock


@dataclass(frozen=True)
class Recovered:
    checked: int
    failed: int
    reversed: int
    left: int  # still not settled (the gateway did not answer): tried again next time
    # Refunds of returns sent again: taken, refused, still without an answer.
    refunds_done: int = 0
    refunds_failed: int = 0
    refunds_left: int = 0


def recover_pending(
    db: Database, gateway: Gateway, *, older_than: timedelta, now: datetime | None = None,
    unclaimed_after: timedelta | None = None,
) -> Recovered:  # fmt: skip
    """Settle attempts left pending, waiting or reversing for longer than ``older_than``,
    and send the refunds of returns still pending.

    No till waits for those attempts any more, so whatever the gateway took is given back: a
    decline is recorded as failed, anything else is reversed (a reversal refunds a paid
    trade). With ``unclaimed_after``, paid attempts that no sale used for that long are
    reversed too (the till was closed with a paid part and the sale never finished).
    """
    moment = now or clock.utcnow()
    stale = PaymentAttempt.status.in_(OPEN) & (PaymentAttempt.updated_at < moment - older_than)
    if unclaimed_after is not None:
        stale = stale | (
            (PaymentAttempt.status == "succeeded")
            & PaymentAttempt.order_id.is_(None)
            & (PaymentAttempt.updated_at < moment - unclaimed_after)
        )
    with db.read() as session:
        rows = list(
            session.scalars(select(PaymentAttempt).where(stale).order_by(PaymentAttempt.id))
        )
    for row in rows:
        _recover(db, gateway, row)
    final = [load(db, row.id).status for row in rows]
    refunds = payment_refunds.send_pending(db, gateway)
    return Recovered(
        checked=len(rows),
        failed=final.count("failed"),
        reversed=final.count("reversed"),
        left=sum(status in (*OPEN, "succeeded") for status in final),
        refunds_done=refunds.done,
        refunds_failed=refunds.failed,
        refunds_left=refunds.left,
    )


def _recover(db: Database, gateway: Gateway, row: PaymentAttempt) -> None:
    if row.status == "succeeded":
        reverse(db, gateway, row, None, frm=("succeeded",), reason=UNCLAIMED)
    elif row.status == "reversing":
        finish_reverse(db, gateway, row, None)
    else:
        answer = call(lambda: gateway.query(row.trade_no))
        if answer is not None and answer.status == "failed":
            settle(db, row, answer, None)
        else:
            reverse(db, gateway, row, None, frm=UNSETTLED, reason=RECOVERED)
