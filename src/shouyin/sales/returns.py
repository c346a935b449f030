"""Returns (退货) against the original receipt: whole or partial, refund, restock, loyalty.

One request: lock the order row, read what was sold and what earlier returns gave back,
work out the refund in pure code (:mod:`refund_rules`), then write the return, its lines and
tenders, the stock movements, the member's ledger row and the audit entry. A retry with
the same client UUID returns the first return and changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import Connection, Row, insert, select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth import passwords
from shouyin.auth.models import User
from shouyin.auth.permissions import permissions_for
from shouyin.auth.principal import Principal
from shouyin.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shouyin.inventory import service as inventory
from shouyin.loyalty import catalogue as loyalty_catalogue
from shouyin.sales import (
    payment_refunds,
    refund_rules,
    return_loyalty,
    return_views,
    shifts,
    statements,
)
from shouyin.sales.refund_rules import LineRefund
from shouyin.sales.return_models import ReturnLine, ReturnOrder, ReturnPayment
from shouyin.sales.return_schemas import ApprovalIn, NoReceiptCreate, ReturnCreate, ReturnPublic
from shouyin.sales.return_views import OrderFacts
from shouyin.sales.tender import CODE_METHODS
from shouyin.shared.clock import as_utc, business_date, utcnow
from shouyin.shared.types import table_of

APPROVE = "sales.return_approve"
_returns = table_of(ReturnOrder)


def till_context(
    conn: Connection, *, store_id: int, register_id: int | None
) -> tuple[Row[int, str, str, int, str, bool, int, int], int | None]:
    """The store (active) and, at a register of it, the register's open shift."""
    store = conn.execute(
        statements.STORE_CONTEXT, {"store_id": store_id, "register_id": register_id or 0}
    ).first()
    if store is None or not store.active:
        raise NotFound("No such store.", code="store.not_found")
    if register_id is not None and store[6] is None:
        raise ValidationFailed("The register is not in this store.", code="register.not_in_store")
    return store, shifts.require_open(conn, store[7], register_id=register_id)


def request_hash(data: BaseModel) -> str:
    """A fingerprint of what was asked; the approval (a password) is left out of it."""
    return hashlib.sha256(data.model_dump_json(exclude={"approval"}).encode()).hexdigest()


def retried(session: Session, *, data: ReturnCreate | NoReceiptCreate) -> int | None:
    """The return an earlier submission with this UUID made, if the same return was sent."""
    row = session.execute(
        select(ReturnOrder.id, ReturnOrder.request_hash).where(
            ReturnOrder.client_uuid == str(data.client_uuid)
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != request_hash(data):
        raise Conflict(
            "This return's number was already used for a different return. Start again.",
            code="return.uuid_reused",
        )
    return int(row.id)


@dataclass(frozen=True)
class Worked:
    """The refund of one return, worked out before anything is written."""

    lines: list[LineRefund]
    refund: int
    tenders: dict[str, int]
    whole: bool


def _work_out(facts: OrderFacts, data: ReturnCreate) -> Worked:
    asked: dict[int, int] = {}
    for line in data.lines:
        if line.order_line_id not in facts.lines:
            raise ValidationFailed(
                "Line {order_line_id} is not on this receipt.",
                code="return.line_unknown", details={"order_line_id": line.order_line_id},
            )  # fmt: skip
        if line.order_line_id in asked:
            raise ValidationFailed(
                "Line {order_line_id} is listed twice.",
                code="return.line_duplicate", details={"order_line_id": line.order_line_id},
            )  # fmt: skip
        asked[line.order_line_id] = line.quantity
    refunds = [
        refund_rules.line_refund(facts.lines[i].sold, facts.line_history(i), q)
        for i, q in asked.items()
    ]
    whole = all(
        facts.line_history(i).quantity + asked.get(i, 0) == line.sold.quantity
        for i, line in facts.lines.items()
    )
    refund = sum(x.refund for x in refunds)
    tenders = refund_rules.split_tenders(
        refund, paid=facts.paid, refunded=facts.refunded, refund_to=data.refund_to
    )
    return Worked(refunds, refund, tenders, whole)


def check_approval(
    session: Session, *, approval: ApprovalIn | None, store_id: int, needed: bool,
    message: str = "This return needs a manager's approval.",
) -> User | None:  # fmt: skip
    """The manager who approved on the spot; None when no approval was needed or given."""
    if approval is None:
        if needed:
            raise Forbidden(message, code="return.approval_required")
        return None
    user = session.scalar(select(User).where(User.username == approval.username))
    locked = (
        user is not None and user.locked_until is not None and as_utc(user.locked_until) > utcnow()
    )
    if user is None or not user.active or locked:
        passwords.burn_time(approval.password)
        user = None
    elif not passwords.verify_password(user.password_hash, approval.password):
        user = None
    if (
        user is None
        or APPROVE not in permissions_for(user.role)
        or user.store_id not in (None, store_id)
    ):
        raise Forbidden(
            "The approval was refused: wrong name or password, or no right to approve.",
            code="return.approval_invalid",
        )
    return user


def create(
    session: Session, *, data: ReturnCreate, actor: Principal, approval_limit: int,
    other_store: bool = False,
) -> tuple[ReturnPublic, bool]:  # fmt: skip
    """Returns the return and whether it was made now (False: a retry of an earlier one).

    With ``other_store`` (the setting ``return_other_store``) a receipt of another store of
    the chain is taken back here: the goods go into this store's stock and the return is
    this store's.
    """
    actor.require("sales.sell")
    actor.require_store(data.store_id)
    found = retried(session, data=data)
    if found is not None:
        return return_views.load(session, return_id=found, actor=actor), False
    conn = session.connection()
    store, _ = till_context(conn, store_id=data.store_id, register_id=data.register_id)
    # The actor works in data.store_id (checked above); the receipt may be another store's.
    facts = return_views.order_facts(conn, order_id=data.order_id, actor=None, lock=True)
    if facts.store_id != data.store_id and not other_store:
        raise ValidationFailed(
            "This receipt is from another store; return the goods there.",
            code="return.other_store",
        )
    # A retry that raced the first submission waited on the order lock: look again.
    found = retried(session, data=data)
    if found is not None:
        return return_views.load(session, return_id=found, actor=actor), False
    worked = _work_out(facts, data)
    needed = worked.refund > approval_limit or not actor.can(APPROVE)
    approver = check_approval(
        session, approval=data.approval, store_id=data.store_id, needed=needed
    )
    day = business_date(utcnow(), store.timezone, store.day_cutoff_minutes)
    return_id = _write(session, conn, data, actor, facts, worked, day, approver)
    return return_views.load(session, return_id=return_id, actor=actor), True


def _write(
    session: Session, conn: Connection, data: ReturnCreate, actor: Principal,
    facts: OrderFacts, worked: Worked, day: date, approver: User | None,
) -> int:  # fmt: skip
    now = utcnow()
    catalogue = loyalty_catalogue.current(session)
    points_given = sum(x.points_given for x in worked.lines)
    reversal = return_loyalty.plan(
        conn, facts, refund=worked.refund, sv_back=worked.tenders.get("stored_value", 0),
        points_given=points_given, whole=worked.whole,
    )  # fmt: skip
    coupons = return_loyalty.give_back_coupons(conn, order_id=facts.id) if worked.whole else []
    return_id = _insert_return(
        conn, data=data, actor=actor, facts=facts, worked=worked, approver=approver,
        reversal=reversal, coupons=coupons, now=now, day=day,
    )  # fmt: skip
    conn.execute(
        insert(table_of(ReturnLine)),
        [{"return_id": return_id, "order_line_id": x.line_id,
          "product_id": facts.lines[x.line_id].product_id, "quantity": x.quantity,
          "refund": x.refund, "points_given": x.points_given} for x in worked.lines],
    )  # fmt: skip
    # The goods go back on the shelf of the store where they are returned.
    inventory.record_movements(
        conn, store_id=data.store_id, kind="return", at=now, user_id=actor.user_id,
        ref_type="return", ref_id=return_id,
        movements=[inventory.Movement(facts.lines[x.line_id].product_id, x.quantity)
                   for x in worked.lines],
    )  # fmt: skip
    if reversal is not None:
        return_loyalty.apply(
            conn, reversal, facts=facts, return_id=return_id, store_id=data.store_id,
            user_id=actor.user_id, now=now, settings=catalogue.settings,
        )  # fmt: skip
    _insert_payments(conn, data=data, facts=facts, tenders=worked.tenders, return_id=return_id)
    audit.record(
        session, actor=actor, action="sale.return", entity="return", entity_id=return_id,
        store_id=data.store_id,
        after={"order": facts.number, "order_store_id": facts.store_id,
               "refund": worked.refund, "tenders": worked.tenders,
               "reason": data.reason, "whole_order": worked.whole,
               "approver_id": approver.id if approver else None,
               "approver": approver.username if approver else None},
    )  # fmt: skip
    return return_id


def _insert_return(
    conn: Connection, *, data: ReturnCreate, actor: Principal, facts: OrderFacts,
    worked: Worked, approver: User | None, reversal: return_loyalty.Reversal | None,
    coupons: list[str], now: datetime, day: date,
) -> int:  # fmt: skip
    r = reversal
    values = {
        "client_uuid": str(data.client_uuid), "request_hash": request_hash(data),
        "number": f"{facts.number}-R{facts.earlier.count + 1}", "order_id": facts.id,
        "store_id": data.store_id, "register_id": data.register_id,
        "shift_id": shifts.shift_for_register(conn, register_id=data.register_id),
        "user_id": actor.user_id,
        "approver_id": approver.id if approver else None, "member_id": facts.member_id,
        "business_date": day, "created_at": now, "reason": data.reason,
        "refund_to": data.refund_to, "refund": worked.refund, "whole_order": int(worked.whole),
        "points_taken": r.points_taken if r else 0,
        "points_unrecovered": r.points_unrecovered if r else 0,
        "points_given": r.points_given if r else 0, "growth": r.growth if r else 0,
        "sv_principal": r.sv_principal if r else 0, "sv_bonus": r.sv_bonus if r else 0,
        "coupon_codes": coupons,
    }  # fmt: skip
    return int(conn.execute(insert(_returns).returning(_returns.c.id), values).scalar_one())


def _insert_payments(
    conn: Connection, *, data: ReturnCreate, facts: OrderFacts, tenders: dict[str, int],
    return_id: int,
) -> None:  # fmt: skip
    """The refund per tender. WeChat and Alipay parts get one row per charged code, status
    ``pending`` with the code's trade number: the gateway is asked only after this return is
    committed (``payment_refunds.send_pending``, called by the router and the recovery), so
    no money leaves for a return that was not recorded, and no gateway call holds the write
    transaction."""
    if not tenders:
        return
    parts = payment_refunds.plan_refunds(conn, order_id=facts.id, tenders=tenders)
    rows = [{"return_id": return_id, "method": m, "amount": a, "reference": None,
             "status": "done"} for m, a in tenders.items() if m not in CODE_METHODS]  # fmt: skip
    rows += [
        {"return_id": return_id, "method": p.method, "amount": p.amount,
         "reference": p.trade_no, "status": "pending"}
        for p in parts
    ]  # fmt: skip
    conn.execute(insert(table_of(ReturnPayment)), rows)
