"""Recommendations from baskets: "bought together" and "for you", and their evaluation. Pure.

A basket is the set of distinct products of one order (quantities do not matter: two bottles
of milk say nothing about what goes with milk). From the baskets:

- ``count[a]``: baskets with a; ``pair[a][b]``: baskets with both; ``n``: baskets.
- support(a, b) = pair / n; confidence(a → b) = pair / count[a];
  lift(a, b) = pair × n / (count[a] × count[b]) — how much more often than by chance.

**Bought together** ranks the partners of a product by lift, keeping only pairs seen in at
least ``min_count`` baskets and with lift > 1. Lift, not confidence, because confidence
recommends the best seller (a carrier bag) next to everything; the minimum count keeps lift
from crowning a pair of rarities seen together once.

**For you** is item-to-item: similarity is the cosine over baskets,
pair / √(count[a] × count[b]); each product keeps its ``k`` most similar neighbours. A
member's candidate score is the sum of the similarities to the distinct products in their
history, excluding the products passed in ``exclude`` (by default the whole history). The
product that contributed most is returned as the reason ("because you bought ...").

Baskets with more than ``max_basket`` distinct products are left out of the model entirely
(items and pairs): their pairs grow as the square of their size, and a 60-line office order
says little about what goes together. Leaving them out of both keeps the ratios consistent.

**Evaluation**: hit rate@N = the share of members with at least one of their held-out
products among their top N. It is printed next to the same measure for "most popular
products not yet bought", the baseline the model must beat. See docs/insight.md.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice

DEFAULT_MAX_BASKET = 30


@dataclass
class CoCounts:
    n: int = 0
    skipped: int = 0  # baskets left out for being larger than max_basket
    items: Counter[int] = field(default_factory=Counter)
    pairs: defaultdict[int, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))


@dataclass(frozen=True)
class PairScore:
    product_id: int
    other_id: int
    count: int
    support: float
    confidence: float
    lift: float


@dataclass(frozen=True)
class Recommendation:
    product_id: int
    score: float
    because: int  # the history product that contributed most


def count_baskets(
    baskets: Iterable[Iterable[int]], *, max_basket: int = DEFAULT_MAX_BASKET
) -> CoCounts:
    co = CoCounts()
    items = co.items
    pairs = co.pairs
    for basket in baskets:
        distinct = sorted(set(basket))
        if len(distinct) > max_basket:
            co.skipped += 1
            continue
        if not distinct:
            continue
        co.n += 1
        items.update(distinct)
        for i, a in enumerate(distinct[:-1]):
            row_a = pairs[a]
            for b in distinct[i + 1 :]:
                row_a[b] += 1
                pairs[b][a] += 1
    return co


def pair_score(co: CoCounts, a: int, b: int) -> PairScore:
    both = co.pairs[a][b] if a in co.pairs else 0
    count_a, count_b = co.items[a], co.items[b]
    return PairScore(
        product_id=a,
        other_id=b,
        count=both,
        support=both / co.n if co.n else 0.0,
        confidence=both / count_a if count_a else 0.0,
        lift=both * co.n / (count_a * count_b) if count_a and count_b else 0.0,
    )


def bought_together(
    co: CoCounts, product_id: int, *, top_n: int = 10, min_count: int = 3
) -> list[PairScore]:
    """The partners of ``product_id``: lift > 1, seen together ≥ ``min_count`` times."""
    row = co.pairs.get(product_id)
    if not row:
        return []
    scored = [pair_score(co, product_id, other) for other, c in row.items() if c >= min_count]
    kept = [s for s in scored if s.lift > 1.0]
    kept.sort(key=lambda s: (-s.lift, -s.count, s.other_id))
    return kept[:top_n]


def bought_together_all(
    co: CoCounts, *, top_n: int = 10, min_count: int = 3
) -> dict[int, list[PairScore]]:
    """``bought_together`` for every product that has any partner."""
    table = {p: bought_together(co, p, top_n=top_n, min_count=min_count) for p in co.pairs}
    return {p: partners for p, partners in table.items() if partners}


Neighbours = dict[int, list[tuple[int, float]]]


def neighbours(co: CoCounts, *, k: int = 50, min_count: int = 2) -> Neighbours:
    """Each product's ``k`` most similar products by cosine, pairs seen ≥ ``min_count`` times."""
    table: Neighbours = {}
    items = co.items
    for a, row in co.pairs.items():
        root_a = math.sqrt(items[a])
        sims = [(b, c / (root_a * math.sqrt(items[b]))) for b, c in row.items() if c >= min_count]
        if sims:
            sims.sort(key=lambda pair: (-pair[1], pair[0]))
            table[a] = sims[:k]
    return table


def for_member(
    index: Neighbours,
    history: Iterable[int],
    *,
    exclude: Collection[int] | None = None,
    top_n: int = 10,
) -> list[Recommendation]:
    """Products for a member who bought ``history``, best first, none of ``exclude``."""
    seen = set(history)
    skip = seen if exclude is None else set(exclude)
    scores: dict[int, float] = defaultdict(float)
    best: dict[int, tuple[float, int]] = {}
    for product in sorted(seen):
        for other, sim in index.get(product, ()):
            if other in skip:
                continue
            scores[other] += sim
            if other not in best or sim > best[other][0]:
                best[other] = (sim, product)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:top_n]
    return [Recommendation(p, s, best[p][1]) for p, s in ranked]


@dataclass(frozen=True)
class HitRate:
    hits: int
    members: int

    @property
    def rate(self) -> float:
        return self.hits / self.members if self.members else 0.0


def hit_rate(
    recommended: Mapping[int, Sequence[int]],
    held_out: Mapping[int, Collection[int]],
    *,
    n: int = 10,
) -> HitRate:
    """Share of members in ``held_out`` with a held-out product in their top ``n``."""
    hits = sum(1 for m, wanted in held_out.items() if set(recommended.get(m, ())[:n]) & set(wanted))
    return HitRate(hits, len(held_out))


@dataclass(frozen=True)
class Evaluation:
    model: HitRate
    popular: HitRate
    n: int


def evaluate(
    train: Mapping[int, Sequence[Sequence[int]]],
    held_out: Mapping[int, Collection[int]],
    *,
    n: int = 10,
    k: int = 50,
    min_count: int = 2,
    max_basket: int = DEFAULT_MAX_BASKET,
) -> Evaluation:
    """Hit rate@n of "for you" trained on ``train``, against "most popular not yet bought".

    Only held-out products the member had not bought in training count, since both
    recommenders only suggest new products; members left with none are not counted.
    """
    co = count_baskets(
        (basket for baskets in train.values() for basket in baskets), max_basket=max_basket
    )
    index = neighbours(co, k=k, min_count=min_count)
    popular = [p for p, _ in sorted(co.items.items(), key=lambda item: (-item[1], item[0]))]
    owned = {m: {p for basket in train.get(m, ()) for p in basket} for m in held_out}
    fresh = {m: set(wanted) - owned[m] for m, wanted in held_out.items()}
    fresh = {m: wanted for m, wanted in fresh.items() if wanted}
    model = {m: [r.product_id for r in for_member(index, owned[m], top_n=n)] for m in fresh}
    baseline = {m: list(islice((p for p in popular if p not in owned[m]), n)) for m in fresh}
    return Evaluation(hit_rate(model, fresh, n=n), hit_rate(baseline, fresh, n=n), n)
