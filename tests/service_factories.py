"""Rows of the service tables made directly, so the report tests need neither the survey nor
the ticket services: each call makes new, unique rows."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from shouyin.auth.models import User
from shouyin.customers.crypto import FieldCipher
from shouyin.customers.models import Member
from shouyin.sales.models import Order
from shouyin.service.models import SurveyAnswer, Ticket
from shouyin.stores.models import Store
from tests import factories


def make_order(session: Session, store: Store, cashier: User, at: datetime,
               member: Member | None = None) -> Order:  # fmt: skip
    n = factories.next_id()
    order = Order(
        client_uuid=str(uuid.uuid4()), number=f"SV{n:08d}", store_id=store.id,
        cashier_id=cashier.id, member_id=member.id if member else None,
        business_date=at.date(), created_at=at, subtotal=1000, discount_total=0, total=1000,
        paid=1000, change=0, item_count=1, steps=[],
    )  # fmt: skip
    session.add(order)
    session.flush()
    return order


def make_answer(
    session: Session, store: Store, cashier: User, at: datetime, *, satisfaction: int,
    nps: int | None = None, tags: list[str] | None = None, comment: str | None = None,
    member: Member | None = None,
) -> SurveyAnswer:  # fmt: skip
    order = make_order(session, store, cashier, at, member)
    answer = SurveyAnswer(
        order_id=order.id, store_id=store.id, cashier_id=cashier.id,
        member_id=member.id if member else None, satisfaction=satisfaction, nps=nps,
        tags=tags or [], comment=comment, submitted_at=at,
    )  # fmt: skip
    session.add(answer)
    session.flush()
    return answer


def make_ticket(
    session: Session, store: Store, opened_at: datetime, *, category: str = "service",
    respond_hours: float = 24, resolve_hours: float = 72, responded_after: float | None = None,
    resolved_after: float | None = None, member: Member | None = None, reopened: int = 0,
    description: str = "顾客投诉", response_breached_at: datetime | None = None,
    **extra: Any,
) -> Ticket:  # fmt: skip
    """A ticket opened at ``opened_at``; ``responded_after``/``resolved_after`` in hours."""
    n = factories.next_id()

    def later(hours: float | None) -> datetime | None:
        return None if hours is None else opened_at + timedelta(hours=hours)

    status = "resolved" if resolved_after is not None else "in_progress"
    ticket = Ticket(
        number=f"TK-T-{n:08d}", store_id=store.id, category=category, priority="normal",
        status=extra.pop("status", status), source="office", title="投诉", description=description,
        member_id=member.id if member else None, opened_at=opened_at,
        respond_by=opened_at + timedelta(hours=respond_hours),
        resolve_by=opened_at + timedelta(hours=resolve_hours),
        first_response_at=later(responded_after), resolved_at=later(resolved_after),
        response_breached_at=response_breached_at, reopened=reopened, updated_at=opened_at,
        **extra,
    )  # fmt: skip
    session.add(ticket)
    session.flush()
    return ticket


def make_named_member(session: Session, cipher: FieldCipher, name: str, mobile: str) -> Member:
    """A member whose name and mobile decrypt, as the report shows them."""
    n = factories.next_id()
    member = Member(
        card_enc=cipher.encrypt("card", f"C{n:08d}"), card_idx=f"svcard{n}",
        name_enc=cipher.encrypt("name", name), name_idx=f"svname{n}", initials_idx=f"svini{n}",
        mobile_enc=cipher.encrypt("mobile", mobile), mobile_idx=f"svmobile{n}",
    )  # fmt: skip
    session.add(member)
    session.flush()
    return member
