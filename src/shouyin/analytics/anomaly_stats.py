"""Robust statistics for anomaly alerts: median, MAD, robust z, and a Poisson tail. Pure.

The history is the same quantity for the same key over past windows, e.g. the refund amount
of one cashier in the 10:00–11:00 hour on each of the last 28 business days. The caller picks
the key and the windows; this module only judges one new observation against that history.

**Robust z.** ``z = (x − median) / scale`` with ``scale = 1.4826 × MAD`` (the factor makes
the MAD estimate the standard deviation under a normal distribution). One wild value in the
history moves neither the median nor the MAD, unlike the mean and standard deviation.
When more than half of the history is equal the MAD is 0; the scale then falls back to
``1.2533 × mean absolute deviation from the median`` (as in the usual modified z-score;
1.2533 = √(π/2) plays the same role as 1.4826). When the history is constant that is 0 too, so the scale has
a **floor**: ``max(min_scale, min_scale_ratio × |median|)`` — one unit (one event, one fen or
what the rule says) and 5% of the usual level by default. A constant history of 10 voids an
hour thus gives a scale of 1: 13 voids is z = 3, 14 is z = 4. For counts the floor also
includes √median, the spread of a Poisson count of that size: a median and MAD from a few
windows of small whole numbers are too coarse to be trusted alone (it cut the false alarms
on simulated Poisson counts from 1–3% to 0.1–1%, see docs/insight.md).

**Skewed amounts.** Order sizes and refund amounts are skewed to the right: a few large
orders are normal, and a symmetric z on them raised 3.5–6.7% false alarms on simulated
log-normal data. Rules for such amounts set ``log_scale``: the same z is computed on
log(1 + x), where those amounts are roughly symmetric, and the floor becomes log(1.05).

**Minimum size.** An alert needs the larger of the observation and the median to reach
``min_value``: a cashier going from 1 to 4 refunds is not worth a manager's time however
large z is, and a store whose usual hourly sales are tiny cannot be "far below usual".

**Rare events.** Refunds, voids and no-sale openings are usually 0 per window, so median and
MAD are 0 and z says nothing useful. When the median is 0 the count is judged as Poisson
with rate λ = the history's mean, floored at ``0.5 / n`` (as if half an event had been seen
in the n windows, so a first-ever event is not infinitely surprising). The alert fires when
the count is at least ``min_count`` and P(X ≥ count | λ) < ``max_p``. See docs/insight.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAD_SCALE = 1.4826
MEAN_AD_SCALE = 1.2533


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def mad(values: Sequence[float], centre: float | None = None) -> float:
    """Median absolute deviation from ``centre`` (the median by default), unscaled."""
    mid = median(values) if centre is None else centre
    return median([abs(value - mid) for value in values])


@dataclass(frozen=True)
class RobustRule:
    name: str
    threshold_z: float = 3.5
    min_value: float = 0.0
    min_scale: float = 1.0
    min_scale_ratio: float = 0.05
    min_history: int = 8
    two_sided: bool = False  # also alert when far *below* usual (e.g. sales of a store hour)
    log_scale: bool = False  # z on log(1 + x), for skewed amounts (order size, refund amount)


@dataclass(frozen=True)
class Baseline:
    """What a history says, computed once per key and reused for every new observation.

    ``median``, ``mad`` and ``scale`` are in the space z is computed in: log(1 + x) when
    ``log_scale``; ``usual`` is the median in the observation's own units either way.
    """

    n: int
    median: float
    mad: float
    scale: float
    log_scale: bool = False

    @property
    def usual(self) -> float:
        return math.expm1(self.median) if self.log_scale else self.median

    def position(self, observation: float) -> float:
        """The observation in the space of ``median``."""
        return math.log1p(max(observation, 0.0)) if self.log_scale else observation


@dataclass(frozen=True)
class RobustVerdict:
    rule: str
    alert: bool
    reason: str  # out_of_line | within | below_minimum | short_history
    observation: float
    median: float  # the usual value, in the observation's units
    mad: float  # MAD and scale in the space of z (log(1 + x) when log_scale)
    scale: float
    z: float
    threshold_z: float
    n_history: int
    log_scale: bool


def baseline(history: Sequence[float], rule: RobustRule, *, counts: bool = False) -> Baseline:
    """Median, MAD and the scale z divides by; ``counts`` adds the floor √median."""
    if rule.log_scale:
        logs = [math.log1p(max(value, 0.0)) for value in history]
        # In log space a relative floor is a constant: 5% more is log(1.05) higher.
        return _baseline(logs, math.log1p(rule.min_scale_ratio), 0.0, log_scale=True)
    return _baseline(history, rule.min_scale, rule.min_scale_ratio, counts=counts)


def _baseline(
    values: Sequence[float],
    min_scale: float,
    min_scale_ratio: float,
    *,
    counts: bool = False,
    log_scale: bool = False,
) -> Baseline:
    if not values:
        return Baseline(0, 0.0, 0.0, min_scale, log_scale)
    mid = median(values)
    raw_mad = mad(values, mid)
    spread = MAD_SCALE * raw_mad
    if spread == 0:
        spread = MEAN_AD_SCALE * sum(abs(value - mid) for value in values) / len(values)
    floor = max(min_scale, min_scale_ratio * abs(mid))
    if counts:
        floor = max(floor, math.sqrt(abs(mid)))
    return Baseline(len(values), mid, raw_mad, max(spread, floor), log_scale)


def robust_z(observation: float, base: Baseline) -> float:
    return (base.position(observation) - base.median) / base.scale


def judge(base: Baseline, observation: float, rule: RobustRule) -> RobustVerdict:
    z = robust_z(observation, base)
    out = abs(z) >= rule.threshold_z if rule.two_sided else z >= rule.threshold_z
    if base.n < rule.min_history:
        reason = "short_history"
    elif max(observation, base.usual) < rule.min_value:
        reason = "below_minimum"
    else:
        reason = "out_of_line" if out else "within"
    return RobustVerdict(
        rule=rule.name,
        alert=reason == "out_of_line",
        reason=reason,
        observation=observation,
        median=base.usual,
        mad=base.mad,
        scale=base.scale,
        z=z,
        threshold_z=rule.threshold_z,
        n_history=base.n,
        log_scale=base.log_scale,
    )


def evaluate(
    history: Sequence[float], observation: float, rule: RobustRule, *, counts: bool = False
) -> RobustVerdict:
    """Is ``observation`` out of line with ``history`` under ``rule``? With the evidence."""
    return judge(baseline(history, rule, counts=counts), observation, rule)


@dataclass(frozen=True)
class PoissonRule:
    name: str
    min_count: int = 3
    max_p: float = 0.001
    min_history: int = 8


@dataclass(frozen=True)
class PoissonVerdict:
    rule: str
    alert: bool
    reason: str  # out_of_line | within | below_minimum | short_history
    count: int
    rate: float  # λ used: the history's mean count per window, floored
    tail_p: float  # P(X >= count) under Poisson(λ)
    max_p: float
    min_count: int
    n_history: int


def poisson_tail(count: int, rate: float) -> float:
    """P(X ≥ count) for X ~ Poisson(rate), accurate also when it is tiny."""
    if count <= 0:
        return 1.0
    if rate <= 0:
        return 0.0
    if count <= rate:
        # The tail is large here: 1 − P(X < count) loses nothing to cancellation.
        below = sum(math.exp(i * math.log(rate) - rate - math.lgamma(i + 1)) for i in range(count))
        return max(0.0, 1.0 - below)
    # Sum upward from ``count``; terms shrink at least geometrically since i > rate.
    term = math.exp(count * math.log(rate) - rate - math.lgamma(count + 1))
    total = 0.0
    i = count
    while term > total * 1e-17 and term > 0:
        total += term
        i += 1
        term *= rate / i
    return min(1.0, total)


def check_rare(history: Sequence[int], count: int, rule: PoissonRule) -> PoissonVerdict:
    """Is ``count`` of a rare event in this window out of line with ``history``?"""
    n = len(history)
    rate = max(sum(history) / n, 0.5 / n) if n else 0.0
    tail = poisson_tail(count, rate) if n else 1.0
    if n < rule.min_history:
        reason = "short_history"
    elif count < rule.min_count:
        reason = "below_minimum"
    else:
        reason = "out_of_line" if tail < rule.max_p else "within"
    return PoissonVerdict(
        rule=rule.name,
        alert=reason == "out_of_line",
        reason=reason,
        count=count,
        rate=rate,
        tail_p=tail,
        max_p=rule.max_p,
        min_count=rule.min_count,
        n_history=n,
    )


def evaluate_count(
    history: Sequence[int], count: int, robust: RobustRule, rare: PoissonRule
) -> RobustVerdict | PoissonVerdict:
    """Counts: the Poisson check when the usual count is 0, the robust z otherwise."""
    if history and median(history) > 0:
        return evaluate(history, count, robust, counts=True)
    return check_rare(history, count, rare)
