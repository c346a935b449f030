"""Stocktakes (盘点): snapshot the shelves, count them, post the variances to stock.

Starting a count copies each product's on-hand into a line in one INSERT ... SELECT and
remembers the ledger's last movement id (`start_mark`). Each count remembers the last id at
that moment (`count_mark`), so what was sold while the shelves were being counted is not
taken for shrinkage: variance = counted − (expected + movements in (start_mark, count_mark]).
Posting writes one "stocktake" movement per line whose variance is not zero.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.catalog.models import Category, Product
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.inventory import service as inventory
from shouyin.inventory import states
from shouyin.inventory.count_models import Stocktake, StocktakeLine
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.inventory.purchasing_models import StockCost
from shouyin.inventory.stocktake_schemas import (
    CountedLine,
    CountIn,
    CountResult,
    PostIn,
    StocktakeLinePublic,
    StocktakePage,
    StocktakePublic,
    StocktakeStart,
    StocktakeSummary,
    StocktakeTotals,
)
from shouyin.shared.clock import business_date, utcnow
from shouyin.stores.models import Store

COUNT = "stock.adjust"
POST = "stocktake.post"
READ = "stock.read"
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
        select(func.count()).select_from(Stocktake).where(Stocktake.number.like(prefix + "%"))
    )
    return f"{prefix}{(count or 0) + 1:03d}"


def last_mark(session: Session) -> int:
    """The ledger's last movement id: counts compare against it."""
    return session.scalar(select(func.max(StockMovement.id))) or 0


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
    stocktake = _visible(session, stocktake_id, actor)
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
    stocktake = _visible(session, stocktake_id, actor)
    now = utcnow()
    _move_status(session, stocktake, "counting", "posted", posted_at=now,
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
        .values(variance=_variance(stocktake))
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
    stocktake = _visible(session, stocktake_id, actor)
    _move_status(session, stocktake, "counting", "cancelled")
    audit.record(
        session, actor=actor, action="stocktake.cancel", entity="stocktake",
        entity_id=stocktake.id, store_id=stocktake.store_id,
        before={"status": "counting"}, after={"number": stocktake.number, "status": "cancelled"},
    )  # fmt: skip
    return detail(session, stocktake_id=stocktake.id, actor=actor)


def _move_status(
    session: Session, stocktake: Stocktake, before: str, after: str, **values: Any
) -> None:
    states.move_status(session, stocktake, before, after, _wrong_state, **values)


def _wrong_state(status: str) -> Conflict:
    messages = {
        "posted": "This stocktake was already posted.",
        "cancelled": "This stocktake was cancelled.",
    }
    return Conflict(messages.get(status, "This stocktake cannot do that now."),
                    code=f"stocktake.{status}")  # fmt: skip


# --- read -----------------------------------------------------------------------------------


def _visible(session: Session, stocktake_id: int, actor: Principal) -> Stocktake:
    stocktake = session.get(Stocktake, stocktake_id)
    if stocktake is None:
        raise NotFound("No such stocktake.", code="stocktake.not_found")
    actor.require_store(stocktake.store_id)
    return stocktake


def _moved(stocktake: Stocktake, upto: Any) -> ColumnElement[int]:
    """This line's product's movements in the store between the start and `upto`."""
    return (
        select(func.coalesce(func.sum(StockMovement.quantity), 0))
        .where(
            StockMovement.store_id == stocktake.store_id,
            StockMovement.product_id == StocktakeLine.product_id,
            StockMovement.id > stocktake.start_mark,
            StockMovement.id <= upto,
        )
        .scalar_subquery()
    )


def _variance(stocktake: Stocktake) -> ColumnElement[Any]:
    moved = _moved(stocktake, StocktakeLine.count_mark)
    return StocktakeLine.counted - (StocktakeLine.expected + moved)


def detail(
    session: Session, *, stocktake_id: int, actor: Principal, line_filter: str = "all",
    limit: int = 200, offset: int = 0,
) -> StocktakePublic:  # fmt: skip
    """The stocktake with a page of its lines; variances are previews until it is posted."""
    actor.require(READ)
    stocktake = _visible(session, stocktake_id, actor)
    mark = last_mark(session)
    moved = _moved(stocktake, func.coalesce(StocktakeLine.count_mark, mark))
    variance: ColumnElement[Any] = case(
        (StocktakeLine.variance.is_not(None), StocktakeLine.variance),
        (StocktakeLine.counted.is_not(None),
         StocktakeLine.counted - (StocktakeLine.expected + moved)),
        else_=None,
    )  # fmt: skip
    cost = and_(StockCost.store_id == stocktake.store_id, StockCost.product_id == Product.id)
    base = select(StocktakeLine.id).where(StocktakeLine.stocktake_id == stocktake.id)
    where: list[Any] = []
    if line_filter == "uncounted":
        where.append(StocktakeLine.counted.is_(None))
    elif line_filter == "counted":
        where.append(StocktakeLine.counted.is_not(None))
    elif line_filter == "variance":
        where.append(and_(StocktakeLine.counted.is_not(None), variance != 0))
    line_total = (
        session.scalar(select(func.count()).select_from(base.where(*where).subquery())) or 0
    )
    rows = session.execute(
        select(StocktakeLine, Product.sku, Product.name, Product.weighed, moved, variance,
               StockCost.unit_cost_milli)
        .join(Product, Product.id == StocktakeLine.product_id)
        .outerjoin(StockCost, cost)
        .where(StocktakeLine.stocktake_id == stocktake.id, *where)
        .order_by(Product.sku)
        .limit(limit)
        .offset(offset)
    ).all()  # fmt: skip
    lines = [
        StocktakeLinePublic(
            product_id=line.product_id, sku=sku, name=name, expected=line.expected,
            moved=int(shift or 0), counted=line.counted, counted_at=line.counted_at,
            variance=None if var is None else int(var), unit_cost_milli=unit,
            variance_value_fen=_value(var, unit, weighed),
        )
        for line, sku, name, weighed, shift, var, unit in rows
    ]  # fmt: skip
    return StocktakePublic(
        **_summary(session, stocktake).model_dump(), client_uuid=stocktake.client_uuid,
        started_by=stocktake.started_by, start_mark=stocktake.start_mark,
        posted_by=stocktake.posted_by, totals=_totals(session, stocktake, variance),
        line_filter=line_filter, line_total=line_total, limit=limit, offset=offset, lines=lines,
    )  # fmt: skip


def _value(variance: int | None, unit_cost_milli: int | None, weighed: bool) -> int | None:
    """The variance at cost in fen; weighed goods count grams against a cost per kg."""
    if variance is None or unit_cost_milli is None:
        return None
    return round(int(variance) * unit_cost_milli / (1_000_000 if weighed else 1000))


def _totals(
    session: Session, stocktake: Stocktake, variance: ColumnElement[Any]
) -> StocktakeTotals:
    cost = and_(StockCost.store_id == stocktake.store_id, StockCost.product_id == Product.id)
    inner = (
        select(
            StocktakeLine.counted.label("counted"), variance.label("variance"),
            Product.weighed.label("weighed"), StockCost.unit_cost_milli.label("cost"),
        )
        .join(Product, Product.id == StocktakeLine.product_id)
        .outerjoin(StockCost, cost)
        .where(StocktakeLine.stocktake_id == stocktake.id)
        .subquery()
    )  # fmt: skip
    row = session.execute(
        select(
            func.count(),
            func.count(inner.c.counted),
            func.count(case((inner.c.variance != 0, 1))),
            func.coalesce(func.sum(inner.c.variance), 0),
            func.coalesce(func.sum(case((inner.c.weighed.is_(False),
                                         inner.c.variance * inner.c.cost))), 0),
            func.coalesce(func.sum(case((inner.c.weighed.is_(True),
                                         inner.c.variance * inner.c.cost))), 0),
        )
    ).one()  # fmt: skip
    value = round(int(row[4]) / 1000 + int(row[5]) / 1_000_000)
    return StocktakeTotals(
        lines=row[0], counted=row[1], with_variance=row[2], variance_units=int(row[3]),
        variance_value_fen=value,
    )  # fmt: skip


def _summary(session: Session, stocktake: Stocktake) -> StocktakeSummary:
    store_name = session.scalar(select(Store.name).where(Store.id == stocktake.store_id))
    category_name = (
        None
        if stocktake.category_id is None
        else session.scalar(select(Category.name).where(Category.id == stocktake.category_id))
    )
    return StocktakeSummary(
        id=stocktake.id, number=stocktake.number, store_id=stocktake.store_id,
        store_name=store_name or "", category_id=stocktake.category_id,
        category_name=category_name, status=stocktake.status,
        started_at=stocktake.started_at, posted_at=stocktake.posted_at, note=stocktake.note,
    )  # fmt: skip


def list_stocktakes(
    session: Session, *, actor: Principal, store_id: int | None = None,
    status: str | None = None, limit: int = 50, offset: int = 0,
) -> StocktakePage:  # fmt: skip
    """Newest first; a store's user sees their store's stocktakes."""
    actor.require(READ)
    store = actor.scope_store(store_id)
    where: list[Any] = []
    if store is not None:
        where.append(Stocktake.store_id == store)
    if status is not None:
        where.append(Stocktake.status == status)
    total = session.scalar(select(func.count()).select_from(Stocktake).where(*where)) or 0
    rows = session.execute(
        select(Stocktake, Store.name, Category.name)
        .join(Store, Store.id == Stocktake.store_id)
        .outerjoin(Category, Category.id == Stocktake.category_id)
        .where(*where)
        .order_by(Stocktake.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = [
        StocktakeSummary(
            id=s.id, number=s.number, store_id=s.store_id, store_name=store_name,
            category_id=s.category_id, category_name=category_name,
            status=s.status,
            started_at=s.started_at, posted_at=s.posted_at, note=s.note,
        )
        for s, store_name, category_name in rows
    ]  # fmt: skip
    return StocktakePage(items=items, total=total, limit=limit, offset=offset)
