"""Stocktakes (盘点): snapshot the shelves, count them, post the variances to stock.

Starting a count copies each product's on-hand into a line in one INSERT ... SELECT and
remembers the ledger's last movement id (`start_mark`). Each count remembers the last id at
that moment (`count_mark`), so what was sold while the shelves were being counted is not
taken for shrinkage: variance = counted − (expected + movements in (start_mark, count_mark]).
Posting writes one "stocktake" movement per line whose variance is not zero.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.catalog.models import Product
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.inventory import service as inventory
from shouyin.inventory import states
from shouyin.inventory.count_models import Stocktake, StocktakeLine
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.inventory.stocktake_schemas import (
    CountedLine,
    CountIn,
    CountResult,
    PostIn,
    StocktakePublic,
    StocktakeStart,
)
from shouyin.inventory.stocktake_views import (
    detail as detail,
)
from shouyin.inventory.stocktake_views import (
    last_mark as last_mark,
)
from shouyin.inventory.stocktake_views import (
    line_variance,
    visible,
)
from shouyin.inventory.stocktake_views import (
    list_stocktakes as list_stocktakes,
)
from shouyin.shared.clock import business_date, utcnow
from shouyin.shared.numbering import numbers_of
from shouyin.stores.models import Store

COUNT = "stock.adjust"
POST = "stocktake.post"
AUDIT_LINES = 1000  # a first full count may vary on every product: the audit keeps a sample


# --- start ----------------------------------------------------------------------------------


def start(
    session: Session, *, data: StocktakeStart, actor: Principal
) -> tuple[StocktakePublic, bool]:
    """Snapshot the scope; returns the stocktake and whether it was started now (not a retry)."""
    actor.require(COUNT)
    existing = _by_uuid(session, str(data.client_uuid))
    if existing is not None:
        return detail(session, stocktake_id=existing, actor=actor), False
    actor.require_store(data.store_id)
    store = _lock_store(session, data.store_id)
    scope = _scope(session, data.category_id)
    _check_none_open(session, data.store_id, data.category_id)
    now = utcnow()
    day = business_date(now, store.timezone, store.day_cutoff_minutes)
    prefix = f"ST-{store.code}-{day:%Y%m%d}-"
    for _ in range(5):
        try:
            with session.begin_nested():
                stocktake = Stocktake(
                    client_uuid=str(data.client_uuid), number=_next_number(session, prefix),
                    store_id=store.id, category_id=data.category_id, status="counting",
                    started_at=now, started_by=actor.user_id, start_mark=last_mark(session),
                    note=data.note,
                )  # fmt: skip
                session.add(stocktake)
                session.flush()
                _snapshot(session, stocktake, scope)
        except IntegrityError:
            found = _by_uuid(session, str(data.client_uuid))
            if found is not None:
                return detail(session, stocktake_id=found, actor=actor), False
            continue
        audit.record(
            session, actor=actor, action="stocktake.start", entity="stocktake",
            entity_id=stocktake.id, store_id=store.id,
            after={"number": stocktake.number, "category_id": data.category_id,
                   "start_mark": stocktake.start_mark},
        )  # fmt: skip
        return detail(session, stocktake_id=stocktake.id, actor=actor), True
    raise Conflict("Too many stocktakes at once; try again.", code="stocktake.number_busy")


def _by_uuid(session: Session, client_uuid: str) -> int | None:
    return session.scalar(select(Stocktake.id).where(Stocktake.client_uuid == client_uuid))


def _lock_store(session: Session, store_id: int) -> Store:
    # The store row lock makes two starts of the same scope queue (PostgreSQL; SQLite has
    # one writer anyway), so the "one open count" check cannot be raced.
    store = session.scalar(select(Store).where(Store.id == store_id).with_for_update())
    if store is None or not store.active:
        raise NotFound(
            "Store {store_id} is unknown.", code="store.not_found", details={"store_id": store_id}
        )
    return store


def _scope(session: Session, category_id: int | None) -> frozenset[int] | None:
    """The category and every category below it; None for the whole store."""
    if category_id is None:
        return None
    catalog.get_category(session, category_id=category_id)
    return catalog.category_subtrees(session).get(category_id, frozenset({category_id}))


def _check_none_open(session: Session, store_id: int, category_id: int | None) -> None:
    """No two open stocktakes of a store may share a product: each would post its variance,
    booking the same loss twice. A whole-store count overlaps every count; two categories
    overlap when one lies within the other."""
    subtrees = catalog.category_subtrees(session)

    def within(outer: int, inner: int) -> bool:
        return inner in subtrees.get(outer, frozenset({outer}))

    open_counts = session.execute(
        select(Stocktake.number, Stocktake.category_id).where(
            Stocktake.store_id == store_id, Stocktake.status == "counting"
        )
    ).all()
    for number, other in open_counts:
        if (
            category_id is None
            or other is None
            or within(category_id, other)
            or within(other, category_id)
        ):
            raise Conflict(
                "Stocktake {number} of this store and scope is still open.",
                code="stocktake.open_exists",
                details={"number": number},
            )


def _next_number(session: Session, prefix: str) -> str:
    count = session.scalar(
        select(func.count()).select_from(Stocktake).where(numbers_of(Stocktake.number, prefix))
    )
    return f"{prefix}{(count or 0) + 1:03d}"


def _snapshot(session: Session, stocktake: Stocktake, scope: frozenset[int] | None) -> None:
    """One line per product of the scope that is active or has stock, in one statement."""
    level = and_(StockLevel.product_id == Product.id, StockLevel.store_id == stocktake.store_id)
    where: list[Any] = [or_(Product.active.is_(True), func.coalesce(StockLevel.on_hand, 0) != 0)]
    if scope is not None:
        where.append(Product.category_id.in_(sorted(scope)))
    rows = (
        select(literal(stocktake.id), Product.id, func.coalesce(StockLevel.on_hand, 0))
        .select_from(Product)
        .outerjoin(StockLevel, level)
        .where(*where)
    )
    session.execute(
        StocktakeLine.__table__.insert().from_select(  # type: ignore[attr-defined]
            ["stocktake_id", "product_id", "expected"], rows
        )
    )


# --- count ----------------------------------------------------------------------------------


def count(session: Session, *, stocktake_id: int, data: CountIn, actor: Principal) -> CountResult:
    """Record counts ("set") or scans ("add"); a product found on the shelf joins the count."""
    actor.require(COUNT)
    stocktake = visible(session, stocktake_id, actor)
    _hold_counting(session, stocktake)
    wanted = _resolve(session, data)
    known = set(
        session.scalars(
            select(StocktakeLine.product_id).where(
                StocktakeLine.stocktake_id == stocktake.id,
                StocktakeLine.product_id.in_(list(wanted)),
            )
        )
    )
    missing = [p for p in wanted if p not in known]
    if missing:
        _add_found(session, stocktake, missing)
    mark, now = last_mark(session), utcnow()
    for product_id, quantity in wanted.items():
        _count_line(session, stocktake, product_id, quantity, data.mode, mark=mark, now=now,
                    user_id=actor.user_id)  # fmt: skip
    rows = session.execute(
        select(StocktakeLine.product_id, Product.sku, Product.name, StocktakeLine.counted)
        .join(Product, Product.id == StocktakeLine.product_id)
        .where(
            StocktakeLine.stocktake_id == stocktake.id,
            StocktakeLine.product_id.in_(list(wanted)),
        )
    ).all()
    by_id = {r[0]: CountedLine(product_id=r[0], sku=r[1], name=r[2], counted=r[3] or 0)
             for r in rows}  # fmt: skip
    return CountResult(lines=[by_id[p] for p in wanted])


def _hold_counting(session: Session, stocktake: Stocktake) -> None:
    """A no-op UPDATE that locks the stocktake: a count and a post never interleave."""
    result = session.execute(
        update(Stocktake)
        .where(Stocktake.id == stocktake.id, Stocktake.status == "counting")
        .values(status="counting")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(stocktake)
        raise _wrong_state(stocktake.status)


def _resolve(session: Session, data: CountIn) -> dict[int, int]:
    """Product id → quantity; the same product twice adds up, as two scans do."""
    wanted: dict[int, int] = {}
    ids: set[int] = set()
    for line in data.lines:
        if (line.product_id is None) == (line.barcode is None):
            raise ValidationFailed(
                "Give each line a product id or a barcode.", code="stocktake.line_invalid"
            )
        if data.mode == "set" and line.counted < 0:
            raise ValidationFailed(
                "A count cannot be negative.", code="stocktake.count_invalid",
                details={"product_id": line.product_id},
            )  # fmt: skip
        if line.product_id is not None:
            product_id = line.product_id
            ids.add(product_id)
        else:
            product_id = catalog.lookup(session, code=line.barcode or "").id
        wanted[product_id] = (wanted.get(product_id, 0) if data.mode == "add" else 0) + (
            line.counted
        )
    found = set(session.scalars(select(Product.id).where(Product.id.in_(sorted(ids)))))
    unknown = sorted(ids - found)
    if unknown:
        raise NotFound(
            "Product {product_id} is unknown.",
            code="catalog.product_unknown",
            details={"product_id": unknown[0]},
        )
    return wanted


def _add_found(session: Session, stocktake: Stocktake, product_ids: list[int]) -> None:
    """Products found on the shelf but not in the snapshot; expected = on hand at the start."""
    scope = _scope(session, stocktake.category_id)
    if scope is not None:
        outside = session.scalars(
            select(Product.id).where(
                Product.id.in_(product_ids),
                or_(Product.category_id.is_(None), Product.category_id.not_in(sorted(scope))),
            )
        ).first()
        if outside is not None:
            raise ValidationFailed(
                "Product {product_id} is not in the category of this stocktake.",
                code="stocktake.out_of_scope",
                details={"product_id": outside},
            )
    since = (
        select(func.coalesce(func.sum(StockMovement.quantity), 0))
        .where(
            StockMovement.store_id == stocktake.store_id,
            StockMovement.product_id == Product.id,
            StockMovement.id > stocktake.start_mark,
        )
        .scalar_subquery()
    )
    level = and_(StockLevel.product_id == Product.id, StockLevel.store_id == stocktake.store_id)
    rows = (
        select(literal(stocktake.id), Product.id, func.coalesce(StockLevel.on_hand, 0) - since)
        .select_from(Product)
        .outerjoin(StockLevel, level)
        .where(Product.id.in_(product_ids))
    )
    session.execute(
        StocktakeLine.__table__.insert().from_select(  # type: ignore[attr-defined]
            ["stocktake_id", "product_id", "expected"], rows
        )
    )


def _count_line(
    session: Session, stocktake: Stocktake, product_id: int, quantity: int, mode: str, *,
    mark: int, now: Any, user_id: int,
) -> None:  # fmt: skip
    line = and_(StocktakeLine.stocktake_id == stocktake.id, StocktakeLine.product_id == product_id)
    # "add" is one UPDATE: two phones scanning the same product both count.
    counted = (
        func.coalesce(StocktakeLine.counted, 0) + quantity if mode == "add" else literal(quantity)
    )
    result = session.execute(
        update(StocktakeLine)
        .where(line, counted >= 0)
        # Scanning keeps the mark of the line's first scan: a unit scanned and then sold before
        # the next shelf is scanned was counted already, and must not be taken off expected.
        .values(
            counted=counted,
            count_mark=func.coalesce(StocktakeLine.count_mark, mark) if mode == "add" else mark,
            counted_at=now,
            counted_by=user_id,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ValidationFailed(
            "A count cannot be negative.", code="stocktake.count_invalid",
            details={"product_id": product_id},
        )  # fmt: skip


# --- post and cancel ------------------------------------------------------------------------


def post(session: Session, *, stocktake_id: int, data: PostIn, actor: Principal) -> StocktakePublic:
    """Counting → posted: each counted line's variance becomes a "stocktake" movement."""
    actor.require(POST)
    stocktake = visible(session, stocktake_id, actor)
    now = utcnow()
    states.move_status(session, stocktake, "counting", "posted", _wrong_state, posted_at=now,
                 posted_by=actor.user_id)  # fmt: skip
    if data.uncounted_as_zero:
        session.execute(
            update(StocktakeLine)
            .where(StocktakeLine.stocktake_id == stocktake.id, StocktakeLine.counted.is_(None))
            .values(counted=0, count_mark=last_mark(session), counted_at=now,
                    counted_by=actor.user_id)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
    session.execute(
        update(StocktakeLine)
        .where(StocktakeLine.stocktake_id == stocktake.id, StocktakeLine.counted.is_not(None))
        .values(variance=line_variance(stocktake))
        .execution_options(synchronize_session=False)
    )
    varied = session.execute(
        select(StocktakeLine.product_id, StocktakeLine.variance)
        .where(StocktakeLine.stocktake_id == stocktake.id, StocktakeLine.variance != 0)
        .order_by(StocktakeLine.product_id)
    ).all()
    movements = [inventory.Movement(p, int(v or 0)) for p, v in varied]
    inventory.record_movements(
        session.connection(), store_id=stocktake.store_id, movements=movements, kind="stocktake",
        at=now, user_id=actor.user_id, ref_type="stocktake", ref_id=stocktake.id,
        reason=stocktake.number,
    )  # fmt: skip
    audit.record(
        session, actor=actor, action="stocktake.post", entity="stocktake",
        entity_id=stocktake.id, store_id=stocktake.store_id,
        after={"number": stocktake.number, "uncounted_as_zero": data.uncounted_as_zero,
               "lines_varied": len(movements),
               "units": sum(m.quantity for m in movements),
               "variances": {str(m.product_id): m.quantity for m in movements[:AUDIT_LINES]}},
    )  # fmt: skip
    return detail(session, stocktake_id=stocktake.id, actor=actor)


def cancel(session: Session, *, stocktake_id: int, actor: Principal) -> StocktakePublic:
    """A counting stocktake is dropped; stock is not touched. Dropping a count is as weighty
    as posting one: it needs the same permission."""
    actor.require(POST)
    stocktake = visible(session, stocktake_id, actor)
    states.move_status(session, stocktake, "counting", "cancelled", _wrong_state)
    audit.record(
        session, actor=actor, action="stocktake.cancel", entity="stocktake",
        entity_id=stocktake.id, store_id=stocktake.store_id,
        before={"status": "counting"}, after={"number": stocktake.number, "status": "cancelled"},
    )  # fmt: skip
    return detail(session, stocktake_id=stocktake.id, actor=actor)


def _wrong_state(status: str) -> Conflict:
    messages = {
        "posted": "This stocktake was already posted.",
        "cancelled": "This stocktake was cancelled.",
    }
    return Conflict(messages.get(status, "This stocktake cannot do that now."),
                    code=f"stocktake.{status}")  # fmt: skip
