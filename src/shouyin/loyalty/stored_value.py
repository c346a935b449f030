"""Stored value (储值): recharges and refunds of unused principal (rules: recharge_rules.py).

Balances only move through :func:`ledger.post`. Before deciding anything from a balance (the
cap, how much principal is left to refund) the member's account row is locked, so two tills
working on the same card take turns and always decide from the latest balance: on PostgreSQL
by ``SELECT ... FOR UPDATE``, on SQLite because writers are serialised anyway.

A refund (退卡 / 退余额) pays back principal only, and writes off the bonus on the card in
proportion to the principal it takes, in the same ledger row: bonus was a gift tied to the
money paid in, and it cannot outlive that money. The share is rounded up, so refunding all
but a fen again and again cannot pile up bonus, and refunding all the principal empties the
card. A known gap: with ``stored_value_spend = "bonus_first"`` a member can spend the bonus
first and then have all the principal back, having used the gift without keeping the money in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.models import User
from shouyin.auth.principal import Principal
from shouyin.customers import service as members
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.loyalty import ledger, rules, settings
from shouyin.loyalty.models import LedgerEntry, MemberAccount, Recharge, RechargeRule
from shouyin.loyalty.sv_schemas import (
    RechargeCreate,
    RechargePublic,
    RefundCreate,
)
from shouyin.shared.clock import business_date, utcnow
from shouyin.shared.money import format_fen
from shouyin.stores import service as stores
from shouyin.stores.models import Store

NUMBER_PREFIX = {"recharge": "CZ", "refund": "TK"}  # 充值, 退款
REF_TYPE = "recharge"  # ledger rows point at the recharges table, for both kinds

# --- bonus rules at the till ------------------------------------------------------------------


def active_rules(session: Session, *, at: datetime) -> list[rules.BonusRule]:
    query = select(RechargeRule.id, RechargeRule.min_principal, RechargeRule.bonus).where(
        RechargeRule.active.is_(True),
        (RechargeRule.valid_from.is_(None)) | (RechargeRule.valid_from <= at),
        (RechargeRule.valid_to.is_(None)) | (RechargeRule.valid_to > at),
    )
    return [rules.BonusRule(*row) for row in session.execute(query)]


def most_rechargeable(room: int, bonus_rules: list[rules.BonusRule]) -> int:
    """The largest principal whose principal + bonus fits in ``room`` fen.

    A bigger recharge never earns a smaller bonus, so principal + bonus grows with the
    principal and a binary search finds the edge.
    """
    low, high = 0, max(room, 0)
    while low < high:
        middle = (low + high + 1) // 2
        rule = rules.recharge_bonus(middle, bonus_rules)
        if middle + (rule.bonus if rule else 0) <= room:
            low = middle
        else:
            high = middle - 1
    return low


# --- recharges and refunds ------------------------------------------------------------------


def _lock_account(conn: Connection, member_id: int, at: datetime) -> ledger.Balances:
    """Open the account if needed and lock its row until the transaction ends."""
    ledger.ensure_account(conn, member_id=member_id, at=at)
    accounts = MemberAccount.__table__
    query = (
        select(accounts.c.points, accounts.c.growth, accounts.c.sv_principal, accounts.c.sv_bonus)
        .where(accounts.c.member_id == member_id)
        .with_for_update()
    )
    row = conn.execute(query).one()
    return ledger.Balances(*row)


def _find(session: Session, client_uuid: str) -> Recharge | None:
    return session.scalar(select(Recharge).where(Recharge.client_uuid == client_uuid))


def _check_place(session: Session, store_id: int, register_id: int | None) -> Store:
    store = stores.get_store(session, store_id=store_id)
    if register_id is not None:
        register = stores.get_register(session, register_id=register_id)
        if register.store_id != store_id:
            raise ValidationFailed(
                "The register belongs to another store.", code="register.wrong_store"
            )
    return store


def _same_request(found: Recharge, wanted: dict[str, Any]) -> bool:
    return all(getattr(found, name) == value for name, value in wanted.items())


def _retry(session: Session, found: Recharge, wanted: dict[str, Any]) -> RechargePublic:
    if not _same_request(found, wanted):
        raise Conflict(
            "This client UUID was already used for a different recharge or refund.",
            code="recharge.uuid_reused",
            details={"client_uuid": found.client_uuid},
        )
    return load(session, recharge_id=found.id)


def _insert(session: Session, row: Recharge, store: Store, wanted: dict[str, Any]) -> Recharge:
    """Insert the recharge and give it its number; a concurrent twin raises _Twin."""
    row.number = row.client_uuid  # unique placeholder until the id is known
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        found = _find(session, row.client_uuid)
        if found is None:
            raise
        raise _Twin(_retry(session, found, wanted)) from None
    prefix = NUMBER_PREFIX[row.kind]
    row.number = f"{prefix}-{store.code}-{row.business_date:%Y%m%d}-{row.id:06d}"
    session.flush()
    return row


class _Twin(Exception):
    """Another request with the same UUID committed first: answer with its result."""

    def __init__(self, result: RechargePublic) -> None:
        super().__init__(result.number)
        self.result = result


def _over_cap(cap: int, most: int) -> ValidationFailed:
    return ValidationFailed(
        "The card balance may not exceed {cap}: at most {most} can be recharged now.",
        code="stored_value.over_cap",
        details={
            "cap": format_fen(cap),
            "most": format_fen(most),
            "cap_fen": cap,
            "most_fen": most,
        },
    )


def _start(
    session: Session, data: RechargeCreate | RefundCreate, actor: Principal,
    wanted: dict[str, Any],
) -> RechargePublic | tuple[Store, ledger.Balances, datetime]:  # fmt: skip
    """Check the request and lock the member's account: (store, balances, now), or the
    first result when this is a retry."""
    actor.require_store(data.store_id)  # before a retry, too: it shows the first result
    found = _find(session, str(data.client_uuid))
    if found is not None:
        return _retry(session, found, wanted)
    store = _check_place(session, data.store_id, data.register_id)
    members.get_member(session, member_id=data.member_id)
    now = utcnow()
    held = _lock_account(session.connection(), data.member_id, now)
    waited = _find(session, str(data.client_uuid))  # committed while we waited for the lock
    if waited is not None:
        return _retry(session, waited, wanted)
    return store, held, now


def recharge(
    session: Session, *, data: RechargeCreate, actor: Principal
) -> tuple[RechargePublic, bool]:
    """Recharge a member's card; (result, created). A retry returns the first result."""
    wanted = {
        "kind": "recharge", "member_id": data.member_id, "store_id": data.store_id,
        "register_id": data.register_id, "principal": data.principal, "method": data.method,
        "reference": data.reference,
    }  # fmt: skip
    started = _start(session, data, actor, wanted)
    if isinstance(started, RechargePublic):
        return started, False
    store, held, now = started
    conn = session.connection()
    offers = active_rules(session, at=now)
    rule = rules.recharge_bonus(data.principal, offers)
    bonus = rule.bonus if rule else 0
    cap = settings.load(session).stored_value_cap
    if held.stored_value + data.principal + bonus > cap:
        raise _over_cap(cap, most_rechargeable(cap - held.stored_value, offers))
    row = _new_row(data, actor, store, now, kind="recharge", principal=data.principal)
    row.bonus, row.rule_id = bonus, rule.id if rule else None
    try:
        row = _insert(session, row, store, wanted)
    except _Twin as lost:
        return lost.result, False
    change = ledger.Change(
        kind="recharge", sv_principal=data.principal, sv_bonus=bonus, ref_type=REF_TYPE,
        ref_id=row.id, store_id=store.id, user_id=actor.user_id,
    )  # fmt: skip
    ledger.post(conn, member_id=data.member_id, change=change, at=now)
    return load(session, recharge_id=row.id), True


def _new_row(
    data: RechargeCreate | RefundCreate, actor: Principal, store: Store, now: datetime, *,
    kind: str, principal: int,
) -> Recharge:  # fmt: skip
    return Recharge(
        client_uuid=str(data.client_uuid), kind=kind, member_id=data.member_id,
        store_id=store.id, register_id=data.register_id, user_id=actor.user_id,
        principal=principal, bonus=0, method=data.method, reference=data.reference,
        business_date=business_date(now, store.timezone, store.day_cutoff_minutes), at=now,
    )  # fmt: skip


def _refund_amount(data: RefundCreate, held: ledger.Balances) -> int:
    amount = held.sv_principal if data.amount is None else data.amount
    if amount > held.sv_principal or amount <= 0:
        raise ValidationFailed(
            "Only unused principal can be refunded: the card holds {principal} of it.",
            code="stored_value.insufficient",
            details={"principal": format_fen(held.sv_principal), "amount": amount},
        )
    return amount


def bonus_written_off(amount: int, held: ledger.Balances) -> int:
    """The bonus that goes with refunding ``amount`` of the principal held: the same share of
    the bonus, rounded up to the fen, and all of it with the last of the principal."""
    share = -(-held.sv_bonus * amount // held.sv_principal)  # ceil without floats
    return min(share, held.sv_bonus)


def refund(
    session: Session, *, data: RefundCreate, actor: Principal
) -> tuple[RechargePublic, bool]:
    """Pay back unused principal (all of it by default); (result, created).

    The bonus on the card is written off in proportion: refunding 40% of the principal
    writes off 40% of the bonus (rounded up), refunding all of it empties the card.
    """
    reason = data.reason.strip()
    if not reason:
        raise ValidationFailed("A refund needs a reason.", code="stored_value.reason_missing")
    wanted = {
        "kind": "refund", "member_id": data.member_id, "store_id": data.store_id,
        "register_id": data.register_id, "method": data.method, "reference": data.reference,
    }  # fmt: skip
    if data.amount is not None:  # "all the principal" matches whatever it came to
        wanted["principal"] = data.amount
    started = _start(session, data, actor, wanted)
    if isinstance(started, RechargePublic):
        return started, False
    store, held, now = started
    conn = session.connection()
    amount = _refund_amount(data, held)
    write_off = bonus_written_off(amount, held)
    row = _new_row(data, actor, store, now, kind="refund", principal=amount)
    row.bonus = write_off
    try:
        row = _insert(session, row, store, wanted)
    except _Twin as lost:
        return lost.result, False
    change = ledger.Change(
        kind="sv_refund", sv_principal=-amount, sv_bonus=-write_off, ref_type=REF_TYPE,
        ref_id=row.id, store_id=store.id, user_id=actor.user_id, reason=reason,
    )  # fmt: skip
    after = ledger.post(conn, member_id=data.member_id, change=change, at=now)
    audit.record(
        session, actor=actor, action="stored_value.refund", entity="member",
        entity_id=data.member_id, store_id=store.id,
        before={"sv_principal": held.sv_principal, "sv_bonus": held.sv_bonus},
        after={"sv_principal": after.sv_principal, "sv_bonus": after.sv_bonus,
               "refunded": amount, "bonus_written_off": write_off, "number": row.number,
               "method": data.method, "reason": reason},
    )  # fmt: skip
    return load(session, recharge_id=row.id), True


# --- reading ---------------------------------------------------------------------------------


def load(session: Session, *, recharge_id: int, actor: Principal | None = None) -> RechargePublic:
    """A recharge or refund with the balances its ledger row left; store-bound staff see
    only their own store's."""
    query = (
        select(Recharge, User.display_name, LedgerEntry)
        .join(User, User.id == Recharge.user_id)
        .join(
            LedgerEntry,
            (LedgerEntry.ref_type == REF_TYPE) & (LedgerEntry.ref_id == Recharge.id),
        )
        .where(Recharge.id == recharge_id)
    )
    found = session.execute(query).first()
    if found is None:
        raise NotFound("No such recharge.", code="recharge.not_found")
    row, cashier, entry = found
    if actor is not None:
        actor.require_store(row.store_id)
    return RechargePublic(
        id=row.id, client_uuid=row.client_uuid, number=row.number, kind=row.kind,
        member_id=row.member_id, store_id=row.store_id, register_id=row.register_id,
        user_id=row.user_id, cashier_name=cashier, principal=row.principal, bonus=row.bonus,
        rule_id=row.rule_id, method=row.method, reference=row.reference, reason=entry.reason,
        business_date=row.business_date, at=row.at,
        sv_principal_after=entry.sv_principal_after, sv_bonus_after=entry.sv_bonus_after,
        balance_after=entry.sv_principal_after + entry.sv_bonus_after,
    )  # fmt: skip
