"""Pure figures of the service reports: NPS, averages, rates and percentiles.

No database here: the grouped counts and the fetched durations come in, numbers go out, so
the arithmetic is unit-tested on hand-made data with known answers."""

from __future__ import annotations

import math
from collections.abc import Sequence

PROMOTER_MIN = 9  # NPS 9-10
DETRACTOR_MAX = 6  # NPS 0-6; 7-8 are passives


def nps_group(score: int) -> str:
    if score >= PROMOTER_MIN:
        return "promoter"
    return "detractor" if score <= DETRACTOR_MAX else "passive"


def nps(promoters: int, detractors: int, answers: int) -> float | None:
    """Net promoter score, -100 to 100: % promoters minus % detractors, to one place.
    None when nobody gave an NPS score (0 would claim a neutral result)."""
    if answers <= 0:
        return None
    return round(100 * (promoters - detractors) / answers, 1)


def average(total: int, count: int, places: int = 2) -> float | None:
    return None if count <= 0 else round(total / count, places)


def rate(part: int, whole: int) -> float | None:
    """A percentage to one place; None when there is nothing to divide by."""
    return None if whole <= 0 else round(100 * part / whole, 1)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` (0..1) percentile by linear interpolation between the closest ranks:
    the same definition as PostgreSQL's percentile_cont and numpy's default, so the figures
    match whatever a reader checks them with. None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    weight = position - low
    return ordered[low] * (1 - weight) + ordered[high] * weight


def hours(seconds: float) -> float:
    return seconds / 3600


def rounded(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)
