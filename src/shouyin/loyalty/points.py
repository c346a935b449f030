"""Points outside the till: manual adjustments, expiry of old lots, and gifts for points.

Every change goes through :func:`ledger.post` (balance and ledger row) and then moves the
lots in the same transaction, so the points balance always equals the lots' remaining sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.customers import service as members
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.inventory import service as inventory
from shouyin.loyalty import ledger, rules
from shouyin.loyalty import settings as loyalty_settings
from shouyin.loyalty.models import Gift, LedgerEntry, MemberAccount, PointsLot
from shouyin.loyalty.points_schemas import (
    MAX_ADJUST,
    AdjustmentPublic,
    GiftCreate,
    GiftPublic,
    GiftRedemptionIn,
    GiftRedemptionPublic,
    GiftUpdate,
)
from shouyin.loyalty.service import entry_by_id, latest_entry
from shouyin.shared.clock import business_date, utcnow
from shouyin.stores import service as stores

DEFAULT_TIMEZONE = "Asia/Shanghai"
# Stock taken out for a gift; inventory has no kind of its own for it.
GIFT_MOVEMENT_KIND = "gift"


def today_for(session: Session, *, store_id: int | None, at: datetime) -> date:
    """The business date at the actor's store, or in China for HQ staff."""
    if store_id is None:
        return business_date(at, DEFAULT_TIMEZONE, 0)
    store = stores.get_store(session, store_id=store_id)
    return business_date(at, store.timezone, store.day_cutoff_minutes)


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationFailed(
            "A manual points adjustment needs a reason (2 to 200 characters).",
            code="points.reason_required",
        )
    if len(reason) > 200:
        raise ValidationFailed(
            "The reason is too long: at most 200 characters.", code="points.reason_too_long"
        )
    return reason


def _check_amount(points: int) -> None:
    if points == 0:
        raise ValidationFailed(
            "An adjustment adds or takes away at least one point.", code="points.adjust_zero"
        )
    if abs(points) > MAX_ADJUST:
        raise ValidationFailed(
            "One adjustment moves at most {limit} points.",
            code="points.adjust_too_large",
            details={"limit": MAX_ADJUST},
        )


def earn_lot(
    session: Session, conn: Connection, *, member_id: int, points: int, today: date, at: datetime
) -> None:
    """A new lot for points given outside a sale, expiring as the shop's rules say."""
    rules_now = loyalty_settings.load(session)
    expires = rules.expiry_date(today, rules_now.points_expiry, rules_now.points_expiry_days)
    ledger.add_lot(conn, member_id=member_id, points=points, expires_on=expires, order_id=None, at=at)  # fmt: skip


def adjust(
    session: Session, *, member_id: int, points: int, reason: str, actor: Principal
) -> AdjustmentPublic:
    """Add (a new lot) or take away (oldest lots first) points by hand, with a reason."""
    actor.require("points.adjust")
    _check_amount(points)
    reason = _check_reason(reason)
    members.get_member(session, member_id=member_id)
    conn, at = session.connection(), utcnow()
    before = ledger.balances(conn, member_id=member_id).points
    change = ledger.Change(
        kind="adjust", points=points, store_id=actor.store_id, user_id=actor.user_id or None,
        reason=reason,
    )  # fmt: skip
    after = ledger.post(conn, member_id=member_id, change=change, at=at)
    if points > 0:
        today = today_for(session, store_id=actor.store_id, at=at)
        earn_lot(session, conn, member_id=member_id, points=points, today=today, at=at)
    else:
        ledger.spend_lots(conn, member_id=member_id, points=-points)
    audit.record(
        session, actor=actor, action="points.adjust", entity="member", entity_id=member_id,
        before={"points": before}, after={"points": after.points, "change": points, "reason": reason},
    )  # fmt: skip
    return AdjustmentPublic(entry=latest_entry(session, member_id=member_id), points=after.points)


# --- expiry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expired:
    members: int
    points: int


def expire_points(session: Session, *, today: date) -> Expired:
    """Write off every lot that expired before ``today``: one "expire" row per member.

    Running it again the same day finds nothing left to expire.
    """
    conn, at = session.connection(), utcnow()
    due = (PointsLot.expires_on < today, PointsLot.remaining > 0)
    members_due = select(PointsLot.member_id).where(*due).distinct()
    # Lock the accounts first, as a sale does, so a sale spending the same lots waits for us
    # (or we for it) and the sums below are read after it.
    locked = (
        select(MemberAccount.member_id)
        .where(MemberAccount.member_id.in_(members_due))
        .order_by(MemberAccount.member_id)
        .with_for_update()
    )
    conn.execute(locked).all()
    sums = conn.execute(
        select(PointsLot.member_id, func.sum(PointsLot.remaining))
        .where(*due)
        .group_by(PointsLot.member_id)
        .order_by(PointsLot.member_id)
    ).all()
    reason = f"Points that expired before {today.isoformat()}"
    for member_id, points in sums:
        change = ledger.Change(kind="expire", points=-int(points), reason=reason)
        ledger.post(conn, member_id=member_id, change=change, at=at)
    conn.execute(update(PointsLot).where(*due).values(remaining=0))
    return Expired(members=len(sums), points=sum(int(points) for _, points in sums))


# --- gifts ---------------------------------------------------------------------------------


def list_gifts(session: Session, *, active_only: bool = False) -> list[GiftPublic]:
    query = select(Gift).order_by(Gift.active.desc(), Gift.points, Gift.id)
    if active_only:
        query = query.where(Gift.active.is_(True))
    return [GiftPublic.model_validate(gift) for gift in session.scalars(query)]


def get_gift(session: Session, *, gift_id: int) -> Gift:
    gift = session.get(Gift, gift_id)
    if gift is None:
        raise NotFound("No such gift.", code="gift.not_found")
    return gift


def _check_product(session: Session, product_id: int | None) -> None:
    if product_id is None:
        return
    found = catalog.products_for_sale(session, product_ids={product_id})
    if product_id not in found or not found[product_id].active:
        raise NotFound(
            "Product {product_id} is unknown.",
            code="catalog.product_unknown",
            details={"product_id": product_id},
        )


def create_gift(session: Session, *, data: GiftCreate, actor: Principal) -> GiftPublic:
    actor.require("loyalty.configure")
    _check_product(session, data.product_id)
    gift = Gift(name=data.name.strip(), points=data.points, product_id=data.product_id,
                active=data.active)  # fmt: skip
    session.add(gift)
    session.flush()
    public = GiftPublic.model_validate(gift)
    audit.record(session, actor=actor, action="gift.create", entity="gift", entity_id=gift.id,
                 after=public.model_dump())  # fmt: skip
    return public


def update_gift(
    session: Session, *, gift_id: int, data: GiftUpdate, actor: Principal
) -> GiftPublic:
    actor.require("loyalty.configure")
    gift = get_gift(session, gift_id=gift_id)
    before = GiftPublic.model_validate(gift).model_dump()
    changes = data.model_dump(exclude_unset=True)
    if changes.get("product_id") is not None:
        _check_product(session, changes["product_id"])
    for field in ("name", "points", "active"):
        if changes.get(field) is not None:
            setattr(gift, field, changes[field].strip() if field == "name" else changes[field])
    if "product_id" in changes:  # null takes the product off
        gift.product_id = changes["product_id"]
    session.flush()
    public = GiftPublic.model_validate(gift)
    audit.record(session, actor=actor, action="gift.update", entity="gift", entity_id=gift.id,
                 before=before, after=public.model_dump())  # fmt: skip
    return public


def _first_redemption(
    session: Session, member_id: int, data: GiftRedemptionIn
) -> GiftRedemptionPublic | None:
    """The result of an earlier redemption with the same client UUID, if there is one.

    A retry answers with it (spending nothing more); the same UUID on another request is
    refused, so a mix-up in the client can never pass for a retry.
    """
    uuid = str(data.client_uuid)
    row = session.execute(
        select(LedgerEntry.id, LedgerEntry.member_id, LedgerEntry.ref_id, LedgerEntry.store_id)
        .where(LedgerEntry.client_uuid == uuid)
    ).first()  # fmt: skip
    if row is None:
        return None
    if (row.member_id, row.ref_id, row.store_id) != (member_id, data.gift_id, data.store_id):
        raise Conflict(
            "This client UUID was already used for a different gift redemption.",
            code="gift.uuid_reused",
            details={"client_uuid": uuid},
        )
    entry = entry_by_id(session, entry_id=row.id)
    gift = GiftPublic.model_validate(get_gift(session, gift_id=data.gift_id))
    return GiftRedemptionPublic(gift=gift, entry=entry, points=entry.points_after, replayed=True)


def _lock_account(conn: Connection, member_id: int, at: datetime) -> None:
    ledger.ensure_account(conn, member_id=member_id, at=at)
    query = select(MemberAccount.member_id).where(MemberAccount.member_id == member_id)
    conn.execute(query.with_for_update()).all()


def _tag_entry(session: Session, entry_id: int, data: GiftRedemptionIn) -> None:
    """Put the client UUID on the gift's ledger row (``ledger.post`` knows nothing of it).

    Retries of the same member are serialised by the account lock; a UUID taken a moment ago
    by a redemption for another member trips the unique constraint and is refused.
    """
    try:
        with session.begin_nested():
            session.execute(
                update(LedgerEntry)
                .where(LedgerEntry.id == entry_id)
                .values(client_uuid=str(data.client_uuid))
            )
    except IntegrityError:
        raise Conflict(
            "This client UUID was already used for a different gift redemption.",
            code="gift.uuid_reused",
            details={"client_uuid": str(data.client_uuid)},
        ) from None


def _check_gift(session: Session, gift_id: int) -> Gift:
    gift = get_gift(session, gift_id=gift_id)
    if not gift.active:
        raise ValidationFailed(
            "The gift {name} is no longer offered.", code="gift.inactive",
            details={"name": gift.name},
        )  # fmt: skip
    return gift


def redeem_gift(
    session: Session, *, member_id: int, data: GiftRedemptionIn, actor: Principal
) -> GiftRedemptionPublic:
    """Spend the gift's points (oldest lots first); a product gift leaves the store's stock.

    Idempotent by ``data.client_uuid``: a retry returns the first result (``replayed``).
    """
    actor.require("sales.sell")
    actor.require_store(data.store_id)
    first = _first_redemption(session, member_id, data)
    if first is not None:
        return first
    stores.get_store(session, store_id=data.store_id)
    members.get_member(session, member_id=member_id)
    gift = _check_gift(session, data.gift_id)
    conn, at = session.connection(), utcnow()
    _lock_account(conn, member_id, at)
    first = _first_redemption(session, member_id, data)  # committed while we waited
    if first is not None:
        return first
    change = ledger.Change(
        kind="gift", points=-gift.points, ref_type="gift", ref_id=gift.id,
        store_id=data.store_id, user_id=actor.user_id or None, reason=gift.name,
    )  # fmt: skip
    after = ledger.post(conn, member_id=member_id, change=change, at=at)
    ledger.spend_lots(conn, member_id=member_id, points=gift.points)
    if gift.product_id is not None:
        inventory.record_movements(
            conn, store_id=data.store_id, movements=[inventory.Movement(gift.product_id, -1)],
            kind=GIFT_MOVEMENT_KIND, at=at, user_id=actor.user_id or None, ref_type="gift",
            ref_id=gift.id, reason=f"Gift for member {member_id}",
        )  # fmt: skip
    entry = latest_entry(session, member_id=member_id)
    _tag_entry(session, entry.id, data)
    return GiftRedemptionPublic(
        gift=GiftPublic.model_validate(gift), entry=entry, points=after.points
    )
