"""RFM scoring (recency, frequency, monetary) and the eight named segments. Pure.

Scores are rank-based quintiles over the population being scored, with the *minimum rank*
for ties: a member's score is ``1 + floor(5 × beaten / n)`` where ``beaten`` is how many
members have a strictly worse value. So equal values always get the same score, and a score
means "beats at least (score − 1) × 20% of members". Ties therefore never lift anyone: when
60% of members bought exactly once they all get F = 1, not a middling 2 or 3, and a
population where everyone is equal scores 1 throughout (nobody beats anybody).

Recency ranks on the date of the last purchase (later is better), frequency on the number of
orders, monetary on spend in fen. Everything is integer arithmetic on one counting pass and
one sort of the distinct values per dimension, so a million members take a few seconds.

A dimension is *high* when its score is at least ``high_from`` (default 3: the member beats
at least 40% of the population). A fixed score is used rather than "above the average
score" because with ties the average moves with the data, which would make a segment's
meaning change from night to night. The segment is the classic Chinese eight-way split of
R, F and M each high or low (see ``SEGMENTS``). See docs/insight.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

QUINTILES = 5
DEFAULT_HIGH_FROM = 3


@dataclass(frozen=True, slots=True)
class MemberStats:
    member_id: int
    last_purchase: date
    orders: int
    spend_fen: int


@dataclass(frozen=True, slots=True)
class Segment:
    code: str
    name_zh: str
    name_en: str
    recency_high: bool
    frequency_high: bool
    monetary_high: bool


SEGMENTS: tuple[Segment, ...] = (
    Segment("important_value", "重要价值客户", "Important value", True, True, True),
    Segment("important_develop", "重要发展客户", "Important to develop", True, False, True),
    Segment("important_keep", "重要保持客户", "Important to keep", False, True, True),
    Segment("important_retain", "重要挽留客户", "Important to win back", False, False, True),
    Segment("general_value", "一般价值客户", "General value", True, True, False),
    Segment("general_develop", "一般发展客户", "General to develop", True, False, False),
    Segment("general_keep", "一般保持客户", "General to keep", False, True, False),
    Segment("general_retain", "一般挽留客户", "General to win back", False, False, False),
)
SEGMENTS_BY_CODE: dict[str, Segment] = {segment.code: segment for segment in SEGMENTS}
_BY_FLAGS: dict[tuple[bool, bool, bool], Segment] = {
    (s.recency_high, s.frequency_high, s.monetary_high): s for s in SEGMENTS
}


@dataclass(frozen=True, slots=True)
class RfmScore:
    recency_days: int  # days from the last purchase to today; 0 for a purchase dated later
    r: int
    f: int
    m: int
    segment: Segment

    @property
    def code(self) -> str:
        """The usual three-digit form, e.g. "535"."""
        return f"{self.r}{self.f}{self.m}"


def segment_for(r: int, f: int, m: int, *, high_from: int = DEFAULT_HIGH_FROM) -> Segment:
    """The named segment of three scores: each dimension high when its score ≥ ``high_from``."""
    return _BY_FLAGS[(r >= high_from, f >= high_from, m >= high_from)]


def quintile_scores(values: Iterable[int]) -> dict[int, int]:
    """Score 1–5 for each distinct value: ``1 + 5 × (count of smaller values) // n``.

    Higher values score higher; equal values share a score (minimum rank). Integer
    arithmetic only, so the boundaries are exact and the result is deterministic.
    """
    counts = Counter(values)
    total = sum(counts.values())
    scores: dict[int, int] = {}
    smaller = 0
    for value in sorted(counts):
        scores[value] = 1 + QUINTILES * smaller // total
        smaller += counts[value]
    return scores


def score(
    members: Sequence[MemberStats],
    *,
    today: date,
    high_from: int = DEFAULT_HIGH_FROM,
) -> dict[int, RfmScore]:
    """RFM scores and segment of every member, ranked against the others in ``members``.

    Only members with at least one purchase belong here; members who never bought have no
    recency and are left to the caller (e.g. labelled 未消费).
    """
    if not 1 <= high_from <= QUINTILES:
        raise ValueError("high_from must be a score from 1 to 5")
    last = [m.last_purchase.toordinal() for m in members]
    r_of = quintile_scores(last)
    f_of = quintile_scores(m.orders for m in members)
    m_of = quintile_scores(m.spend_fen for m in members)
    flags = _BY_FLAGS
    today_ordinal = today.toordinal()
    result: dict[int, RfmScore] = {}
    for member, last_ordinal in zip(members, last, strict=True):
        r = r_of[last_ordinal]
        f = f_of[member.orders]
        m = m_of[member.spend_fen]
        segment = flags[(r >= high_from, f >= high_from, m >= high_from)]
        result[member.member_id] = RfmScore(max(0, today_ordinal - last_ordinal), r, f, m, segment)
    if len(result) != len(members):
        raise ValueError("a member appears more than once")
    return result


def segment_sizes(scores: Iterable[RfmScore]) -> dict[str, int]:
    """Members per segment code, every segment listed (zero when empty), in ``SEGMENTS`` order."""
    sizes = dict.fromkeys(SEGMENTS_BY_CODE, 0)
    for item in scores:
        sizes[item.segment.code] += 1
    return sizes
