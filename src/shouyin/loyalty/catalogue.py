"""What checkout needs to know about the loyalty set-up: settings, tiers and promotions.

These change a few times a month and are read by every sale, so a snapshot is kept in
memory per database for a few seconds. Category scopes are expanded here to the categories
under them, so a change to the category tree reaches offers within the same few seconds. Every write to them in this process calls
:func:`invalidate`; another process (a CLI command) is seen within :data:`TTL_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.catalog import service as catalog
from shouyin.loyalty import settings as loyalty_settings
from shouyin.loyalty.models import Promotion, Tier
from shouyin.sales import offers

TTL_SECONDS = 10.0


@dataclass(frozen=True)
class TierInfo:
    id: int
    code: str
    name: str
    rank: int
    threshold: int
    discount_bp: int
    points_multiplier: int
    scope: str
    scope_ids: frozenset[int]

    def discount(self) -> offers.TierDiscount | None:
        if self.discount_bp <= 0:
            return None
        return offers.TierDiscount(
            scope=self.scope, scope_ids=self.scope_ids,  # type: ignore[arg-type]
            name=self.name, discount_bp=self.discount_bp,
        )  # fmt: skip


@dataclass(frozen=True)
class ActivePromotion:
    window: offers.Window
    offer: offers.Promotion

    @property
    def is_order_level(self) -> bool:
        return self.offer.kind == "order_threshold"


@dataclass(frozen=True)
class Catalogue:
    settings: loyalty_settings.LoyaltySettings
    tiers: tuple[TierInfo, ...]
    promotions: tuple[ActivePromotion, ...]
    subtrees: dict[int, frozenset[int]] = field(default_factory=dict)

    def tier(self, tier_id: int | None) -> TierInfo | None:
        return next((t for t in self.tiers if t.id == tier_id), None)

    def scope_ids(self, scope: str, ids: Iterable[int]) -> frozenset[int]:
        """The ids an offer covers: a category scope takes in the categories under it."""
        return expand_scope(scope, ids, self.subtrees)


def expand_scope(
    scope: str, ids: Iterable[int], subtrees: dict[int, frozenset[int]]
) -> frozenset[int]:
    if scope != "categories":
        return frozenset(ids)
    return frozenset(c for cid in ids for c in subtrees.get(cid, frozenset({cid})))


_cache: dict[str, tuple[float, Catalogue]] = {}
_lock = threading.Lock()


def _key(session: Session) -> str:
    return str(session.get_bind().engine.url)


def current(session: Session, *, clock: Callable[[], float] = time.monotonic) -> Catalogue:
    key = _key(session)
    hit = _cache.get(key)
    if hit is not None and clock() - hit[0] < TTL_SECONDS:
        return hit[1]
    catalogue = _load(session)
    with _lock:
        _cache[key] = (clock(), catalogue)
    return catalogue


def invalidate(session: Session | None = None) -> None:
    """Forget the snapshot (of one database, or all): call after changing what it holds."""
    with _lock:
        if session is None:
            _cache.clear()
        else:
            _cache.pop(_key(session), None)


def _load(session: Session) -> Catalogue:
    subtrees = catalog.category_subtrees(session)
    tiers = tuple(
        TierInfo(
            t.id, t.code, t.name, t.rank, t.threshold, t.discount_bp, t.points_multiplier,
            t.scope, expand_scope(t.scope, t.scope_ids or (), subtrees),
        )
        for t in session.scalars(select(Tier).where(Tier.active.is_(True)).order_by(Tier.rank))
    )  # fmt: skip
    promotions = tuple(
        _active(p, subtrees)
        for p in session.scalars(
            select(Promotion).where(Promotion.active.is_(True)).order_by(Promotion.id)
        )
    )
    return Catalogue(loyalty_settings.load(session), tiers, promotions, subtrees)


def _active(row: Promotion, subtrees: dict[int, frozenset[int]]) -> ActivePromotion:
    window = offers.Window(
        store_ids=frozenset(row.store_ids or ()), weekdays=frozenset(row.weekdays or ()),
        start_minute=row.start_minute, end_minute=row.end_minute, valid_from=row.valid_from,
        valid_to=row.valid_to, member_only=row.member_only, tier_ids=frozenset(row.tier_ids or ()),
    )  # fmt: skip
    params: dict[str, Any] = dict(row.params or {})
    offer = offers.Promotion(
        scope=row.scope,  # type: ignore[arg-type]
        scope_ids=expand_scope(row.scope, row.scope_ids or (), subtrees), id=row.id, name=row.name, kind=row.kind, params=params, priority=row.priority,
    )  # fmt: skip
    return ActivePromotion(window, offer)
