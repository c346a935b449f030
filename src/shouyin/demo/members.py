"""Demo members: realistic Chinese names and mobiles, encrypted like real ones, bulk-inserted.

Rows are sealed by :class:`MemberSealer` (the same encryption and blind indexes as
``customers.service.register``) and written with Core executemany, ids assigned here so tags
and consents need no RETURNING round trip. :class:`MemberPicker` then says which member (if
any) makes each demo order: about 40 % of orders, skewed so a few regulars buy often.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from shouyin.customers import rules
from shouyin.customers.crypto import FieldCipher
from shouyin.customers.models import Consent, Member, MemberTag
from shouyin.demo.people import FAMILY_NAMES, GIVEN_NAMES
from shouyin.shared.types import table_of

Row = dict[str, Any]
DEFAULT_MEMBERS = 3000
MEMBER_ORDER_SHARE = 0.4
HOME_STORE_SHARE = 0.75  # a member mostly shops where they joined
# Prefixes phonenumbers accepts as mobiles (154 is unassigned).
MOBILE_PREFIXES = tuple(
    str(p) for p in (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159,
                     *range(180, 190))
)  # fmt: skip
TAGS = ("宝妈", "学生", "上班族", "老顾客", "银发族", "夜宵党", "健身", "爱喝咖啡")
SOURCES = ("store",) * 6 + ("mini_program",) * 3 + ("referral", "import")
NOTICE_VERSION = "2026-01"
FEMININE = frozenset("芳娜敏静丽艳娟霞雪琳慧倩颖欣悦琪萍燕雯英兰珍梅婷涵怡萱桐曦瑶")


class MemberSealer:
    """Member rows as ``register`` would store them; name indexes are cached per name."""

    def __init__(self, cipher: FieldCipher) -> None:
        self.cipher = cipher
        self._names: dict[str, tuple[str, str]] = {}
        self._last4: dict[str, str] = {}

    def _name_indexes(self, name: str) -> tuple[str, str]:
        found = self._names.get(name)
        if found is None:
            found = (
                self.cipher.index("name", rules.name_key(name)),
                self.cipher.index("initials", rules.initials_of(name)),
            )
            self._names[name] = found
        return found

    def row(
        self, *, name: str, mobile: str, card: str, created_at: datetime,
        birthday: date | None = None, email: str | None = None, **plain: Any,
    ) -> Row:  # fmt: skip
        """One insertable row; ``plain`` holds the unencrypted columns (gender, store_id...)."""
        seal, index = self.cipher.encrypt, self.cipher.index
        name_idx, initials_idx = self._name_indexes(name)
        last4 = self._last4.get(mobile[-4:]) or self._last4.setdefault(
            mobile[-4:], index("last4", mobile[-4:])
        )
        return {
            "card_enc": seal("card", card), "card_idx": index("card", card),
            "name_enc": seal("name", name), "name_idx": name_idx, "initials_idx": initials_idx,
            "mobile_enc": seal("mobile", mobile), "mobile_idx": index("mobile", mobile),
            "last4_idx": last4,
            "birthday_enc": seal("birthday", birthday.isoformat()) if birthday else None,
            "address_enc": None, "email_enc": seal("email", email) if email else None,
            "gender": "u", "source": "store", "store_id": None, "notes": None,
            "marketing_opt_in": False, "status": "active", "created_by": None,
            "created_at": created_at, "updated_at": created_at, "erased_at": None, **plain,
        }  # fmt: skip


def card_number(serial: int) -> str:
    """A valid member card number (prefix, 10 digits, Luhn) from a serial below 10**10."""
    body = f"{rules.CARD_PREFIX}{serial:010d}"
    return body + rules.luhn_digit(body)


def random_name(rng: random.Random) -> tuple[str, str]:
    """A name and a gender; two-character given names are more common among the young."""
    given = rng.choice(GIVEN_NAMES)
    gender = "f" if FEMININE & set(given) else "m"
    return rng.choice(FAMILY_NAMES[:20] * 3 + FAMILY_NAMES) + given, gender


@dataclass
class MemberPicker:
    """Which member makes an order: Zipf-like, so regulars dominate the purchase histories."""

    by_store: dict[int, list[int]]
    cum_weights: dict[int, list[float]] = field(default_factory=dict)
    everyone: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        for store_id, ids in self.by_store.items():
            self.cum_weights[store_id] = list(
                accumulate(1 / (r + 1) ** 0.9 for r in range(len(ids)))
            )
            self.everyone.extend(ids)

    def pick(self, rng: random.Random, store_id: int) -> int | None:
        if rng.random() >= MEMBER_ORDER_SHARE or not self.everyone:
            return None
        ids = self.by_store.get(store_id)
        if not ids or rng.random() >= HOME_STORE_SHARE:
            return rng.choice(self.everyone)
        weights = self.cum_weights[store_id]
        return ids[bisect.bisect_left(weights, rng.random() * weights[-1])]


def create_members(
    conn: Connection, *, cipher: FieldCipher, store_ids: list[int], count: int, seed: int,
    before: date,
) -> MemberPicker:  # fmt: skip
    """``count`` members registered in the two years up to ``before``, with tags and consent."""
    rng = random.Random(f"{seed}-members")
    sealer = MemberSealer(cipher)
    first_id = (conn.execute(select(func.max(Member.id))).scalar() or 0) + 1
    mobiles: set[str] = set()
    members: list[Row] = []
    tags: list[Row] = []
    consents: list[Row] = []
    by_store: dict[int, list[int]] = {store_id: [] for store_id in store_ids}
    start = datetime(before.year, before.month, before.day, 2, tzinfo=UTC) - timedelta(days=730)
    twins: dict[int, tuple[str, str, date | None]] = {}
    for member_id in range(first_id, first_id + count):
        mobile = _new_mobile(rng, mobiles)
        name, gender = random_name(rng)
        birthday = _birthday(rng, before)
        # Every 500th member registered twice (a new phone, say), so the duplicates report
        # has something to show in the demo.
        if (member_id - first_id) % 500 == 499 and twins:
            name, gender, birthday = twins.popitem()[1]
        elif (member_id - first_id) % 500 == 0 and birthday is not None:
            twins[member_id] = (name, gender, birthday)
        store_id = rng.choice(store_ids) if store_ids else None
        joined = start + timedelta(seconds=rng.randrange(730 * 86400))
        opt_in = rng.random() < 0.35
        members.append(
            sealer.row(
                name=name, mobile=mobile, card=card_number(member_id * 7919 + rng.randrange(7919)),
                created_at=joined, birthday=birthday,
                email=f"m{member_id}@example.com" if rng.random() < 0.1 else None,
                id=member_id, gender=gender if rng.random() < 0.9 else "u",
                source=rng.choice(SOURCES), store_id=store_id, marketing_opt_in=opt_in,
            )
        )  # fmt: skip
        if store_id is not None:
            by_store[store_id].append(member_id)
        tags.extend({"member_id": member_id, "tag": t} for t in _tags(rng))
        consents.extend(_consents(member_id, store_id, joined, opt_in))
    if members:
        conn.execute(insert(table_of(Member)), members)
        conn.execute(insert(table_of(MemberTag)), tags)
        conn.execute(insert(table_of(Consent)), consents)
        sync_member_sequence(conn)
    for ids in by_store.values():
        rng.shuffle(ids)  # who the regulars are is random, not the oldest members
    return MemberPicker(by_store)


def _new_mobile(rng: random.Random, taken: set[str]) -> str:
    while True:
        mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if mobile not in taken:
            taken.add(mobile)
            return mobile


def _birthday(rng: random.Random, today: date) -> date | None:
    if rng.random() < 0.35:
        return None
    return today - timedelta(days=rng.randrange(16 * 365, 75 * 365))


def _tags(rng: random.Random) -> list[str]:
    return rng.sample(TAGS, rng.choice((0, 0, 1, 1, 1, 2)))


def _consents(member_id: int, store_id: int | None, at: datetime, opt_in: bool) -> list[Row]:
    common = {"member_id": member_id, "notice_version": NOTICE_VERSION, "channel": "store",
              "store_id": store_id, "user_id": None, "at": at}  # fmt: skip
    return [
        {**common, "purpose": "membership", "granted": True},
        {**common, "purpose": "marketing", "granted": opt_in},
    ]


def sync_member_sequence(conn: Connection) -> None:
    """Ids were given explicitly; PostgreSQL's sequence must continue after them."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(
        text(
            "SELECT setval(pg_get_serial_sequence('members', 'id'), "
            "(SELECT COALESCE(MAX(id), 0) + 1 FROM members), false)"
        )
    )
