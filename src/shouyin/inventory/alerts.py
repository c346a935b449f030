"""Low-stock alerts (库存预警): raised, resolved and emailed by a scan.

A scan compares every store's levels with its reorder points (the same query as the
replenishment list): a product at or below its point with no open alert gets one; an open
(or acknowledged) alert whose product is no longer low is resolved. Then the alerts not yet
emailed are sent, one email per store to ``stock_alert_to``, and marked ``emailed_at`` so each
goes out once. The email is sent outside the database write; if it fails the alerts stay
unmarked and the next scan tries again.

The server's scheduler scans every five minutes (:func:`schedule`); managers can scan now.
"""

from __future__ import annotations

import html
import logging
from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.catalog.models import Product
from shouyin.config import Settings
from shouyin.db import Database
from shouyin.errors import NotFound
from shouyin.inventory import replenishment, replenishment_all
from shouyin.inventory.count_models import ReorderRule, StockAlert
from shouyin.inventory.reorder_schemas import AlertPublic, ScanOut
from shouyin.shared import mail
from shouyin.shared.clock import utcnow
from shouyin.stores.models import Store

log = logging.getLogger(__name__)
EVERY_MINUTES = 5
OPEN = ("open", "acknowledged")


def scan(db: Database, settings: Settings, *, store_ids: Collection[int] | None = None) -> ScanOut:
    """Raise and resolve alerts store by store, then email the new ones.

    The stores' lists are computed first, side by side in reads (no writer lock held while
    the queries run: a big store takes a while); each store's alerts then change in a short
    write of its own, with the store row locked so two scans at once (scheduler and "check
    now") never open the same alert twice."""
    with db.read() as session:
        targets = _stores_to_scan(session, store_ids)
    now = utcnow()
    lows = replenishment_all.low_by_store(db, targets, now=now)
    opened = resolved = 0
    for store_id in targets:
        with db.write() as session:
            new, gone = _apply(session, store_id, lows[store_id], now)
        opened, resolved = opened + new, resolved + gone
    emailed = email_new(db, settings, store_ids=store_ids)
    return ScanOut(opened=opened, resolved=resolved, emailed=emailed)


def _stores_to_scan(session: Session, store_ids: Collection[int] | None) -> list[int]:
    """Stores with rules, and stores with open alerts (whose rules may all be gone)."""
    with_rules = select(ReorderRule.store_id).distinct()
    with_alerts = select(StockAlert.store_id).where(StockAlert.status.in_(OPEN)).distinct()
    if store_ids is not None:
        with_rules = with_rules.where(ReorderRule.store_id.in_(store_ids))
        with_alerts = with_alerts.where(StockAlert.store_id.in_(store_ids))
    return sorted(set(session.scalars(with_rules)) | set(session.scalars(with_alerts)))


def _apply(
    session: Session, store_id: int, low: list[replenishment.Low], now: datetime
) -> tuple[int, int]:
    """Open alerts for the low products without one; resolve the others: (opened, resolved)."""
    session.execute(select(Store.id).where(Store.id == store_id).with_for_update())
    query = select(StockAlert.product_id, StockAlert.id).where(
        StockAlert.store_id == store_id, StockAlert.status.in_(OPEN)
    )
    current: dict[int, int] = {row[0]: row[1] for row in session.execute(query)}
    lows = {x.product_id: x for x in low}
    new = [x for product_id, x in lows.items() if product_id not in current]
    session.add_all(
        StockAlert(store_id=store_id, product_id=x.product_id, raised_at=now,
                   on_hand=x.on_hand, reorder_point=x.reorder_point, status="open")
        for x in new
    )  # fmt: skip
    gone = [alert_id for product_id, alert_id in current.items() if product_id not in lows]
    for start in range(0, len(gone), 5000):  # bound the IN list
        session.execute(
            update(StockAlert).where(StockAlert.id.in_(gone[start : start + 5000]))
            .values(status="resolved", resolved_at=now)
        )  # fmt: skip
    session.flush()
    return len(new), len(gone)


def email_new(db: Database, settings: Settings, *, store_ids: Collection[int] | None) -> int:
    """Email the alerts not emailed yet, one message per store; the count emailed."""
    to = mail.recipients(settings.stock_alert_to)
    if not mail.enabled(settings) or not to:
        return 0
    with db.read() as session:
        query = (
            select(StockAlert, Product.sku, Product.name, Store.code, Store.name)
            .join(Product, Product.id == StockAlert.product_id)
            .join(Store, Store.id == StockAlert.store_id)
            .where(StockAlert.status == "open", StockAlert.emailed_at.is_(None))
            .order_by(StockAlert.store_id, Product.sku)
        )
        if store_ids is not None:
            query = query.where(StockAlert.store_id.in_(store_ids))
        by_store: dict[tuple[str, str], list[tuple[int, str, str, int, int]]] = defaultdict(list)
        for alert, sku, name, code, store_name in session.execute(query):
            by_store[(code, store_name)].append(
                (alert.id, sku, name, alert.on_hand, alert.reorder_point)
            )
    sent = 0
    for (code, store_name), items in by_store.items():
        # Claimed before sending: of two scans at once (the scheduler and "check now"), one
        # sends each alert; a failed send gives the claim back for the next scan.
        claimed = _claim(db, [x[0] for x in items], utcnow())
        items = [x for x in items if x[0] in claimed]
        if not items:
            continue
        try:
            mail.send(
                settings, to=to, subject=f"[shouyin] 库存预警 {code} {store_name}: {len(items)}",
                text=_text(code, store_name, items), html=_html(code, store_name, items),
            )  # fmt: skip
        except Exception:  # any SMTP or network failure
            log.exception("low-stock email for store %s failed; next scan tries again", code)
            with db.write() as session:
                session.execute(
                    update(StockAlert).where(StockAlert.id.in_(claimed)).values(emailed_at=None)
                )
            continue
        sent += len(items)
    return sent


def _claim(db: Database, ids: list[int], now: Any) -> set[int]:
    with db.write() as session:
        rows = session.execute(
            update(StockAlert)
            .where(StockAlert.id.in_(ids), StockAlert.emailed_at.is_(None))
            .values(emailed_at=now)
            .returning(StockAlert.id)
        )
        return {int(x) for x in rows.scalars()}


def _text(code: str, store_name: str, items: list[tuple[int, str, str, int, int]]) -> str:
    head = (
        f"库存预警 Low stock — {code} {store_name}\n\nSKU  名称 Name  库存 On hand / 订货点 Point\n"
    )
    rows = [f"{sku}  {name}  {on_hand} / {point}" for _, sku, name, on_hand, point in items]
    return head + "\n".join(rows) + "\n"


def _html(code: str, store_name: str, items: list[tuple[int, str, str, int, int]]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(sku)}</td><td>{html.escape(name)}</td>"
        f"<td>{on_hand}</td><td>{point}</td></tr>"
        for _, sku, name, on_hand, point in items
    )
    return (
        f"<p>库存预警 Low stock — {html.escape(code)} {html.escape(store_name)}</p>"
        "<table><tr><th>SKU</th><th>名称</th><th>库存</th><th>订货点</th></tr>"
        f"{rows}</table>"
    )


def list_alerts(
    session: Session, *, actor: Principal, store_id: int | None, status: str | None,
    limit: int = 200,
) -> list[AlertPublic]:  # fmt: skip
    """Open first, then acknowledged, then resolved; newest first within each."""
    actor.require("stock.read")
    if store_id is not None:
        actor.require_store(store_id)
    elif actor.store_id is not None:
        store_id = actor.store_id
    query = select(StockAlert, Product.sku, Product.name).join(
        Product, Product.id == StockAlert.product_id
    )
    if store_id is not None:
        query = query.where(StockAlert.store_id == store_id)
    if status is not None:
        query = query.where(StockAlert.status == status)
    rank = {"open": 0, "acknowledged": 1, "resolved": 2}
    rows = list(session.execute(query.order_by(StockAlert.id.desc()).limit(limit)).all())
    rows.sort(key=lambda row: rank.get(row[0].status, 3))
    return [_public(alert, sku, name) for alert, sku, name in rows]


def _public(alert: StockAlert, sku: str, name: str) -> AlertPublic:
    data: dict[str, Any] = {c: getattr(alert, c) for c in AlertPublic.model_fields if
                            c not in ("sku", "name")}  # fmt: skip
    return AlertPublic(**data, sku=sku, name=name)


def acknowledge(session: Session, *, alert_id: int, actor: Principal) -> AlertPublic:
    actor.require("purchasing.manage")
    alert = session.get(StockAlert, alert_id, with_for_update=True)
    if alert is None or (actor.store_id is not None and alert.store_id != actor.store_id):
        raise NotFound("No such stock alert.", code="stock_alert.not_found")
    if alert.status == "open":
        alert.status = "acknowledged"
        alert.acknowledged_by = actor.user_id
        session.flush()
    product = session.get(Product, alert.product_id)
    assert product is not None
    return _public(alert, product.sku, product.name)


def schedule(scheduler: Any, db: Database, settings: Settings) -> None:
    """Scan in the server's scheduler (loyalty/jobs.py): a minute after start, then every
    five minutes."""
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler.add_job(
        run_scan, IntervalTrigger(minutes=EVERY_MINUTES), args=(db, settings),
        id="stock-alerts", next_run_time=datetime.now(UTC) + timedelta(minutes=1),
        coalesce=True, max_instances=1, replace_existing=True,
    )  # fmt: skip


def run_scan(db: Database, settings: Settings) -> None:
    try:
        done = scan(db, settings)
        if done.opened or done.resolved or done.emailed:
            log.info("stock alerts: %s", done)
    except Exception:
        log.exception("stock alert scan failed")
