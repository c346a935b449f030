"""Stored value on SQLite and PostgreSQL: bonus rules, the card cap, idempotent recharges,
refunds of unused principal, statements and the liability report by store and month."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.auth.principal import Principal
from shouyin.customers import service as members
from shouyin.customers.crypto import FieldCipher, KeyRing
from shouyin.customers.models import Member
from shouyin.customers.schemas import MemberCreate
from shouyin.db import Database
from shouyin.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from shouyin.loyalty import ledger, liability, recharge_rules, stored_value
from shouyin.loyalty.models import LedgerEntry, Recharge, RechargeRule
from shouyin.loyalty.sv_schemas import RechargeCreate, RechargeRuleIn, RefundCreate
from shouyin.stores.models import Store
from tests import factories

CIPHER = FieldCipher(KeyRing.generate())


def make_member(session: Session, actor: Principal) -> Member:
    n = factories.next_id()
    data = MemberCreate(mobile=f"139{n:08d}", name=f"会员{n}", consent=True)
    return members.register(session, data=data, actor=actor, cipher=CIPHER, notice_version="t")


def shop(session: Session, role: str = "store_manager", **store: Any) -> tuple[Store, Principal]:
    place = factories.make_store(session, **store)
    return place, factories.principal_of(factories.make_user(session, role=role, store=place))


def hq(session: Session, role: str = "hq_admin") -> Principal:
    return factories.principal_of(factories.make_user(session, role=role))


def add_rule(session: Session, min_yuan: int, bonus_yuan: int, **extra: Any) -> RechargeRule:
    data = RechargeRuleIn(
        name=f"充{min_yuan}送{bonus_yuan}", min_principal=min_yuan * 100, bonus=bonus_yuan * 100,
        **extra,
    )  # fmt: skip
    return recharge_rules.create_rule(session, data=data, actor=hq(session))


def top_up(
    session: Session, actor: Principal, store: Store, member: Member, principal: int, **kw: Any
) -> Any:
    data = RechargeCreate(
        client_uuid=kw.pop("client_uuid", uuid.uuid4()), member_id=member.id, store_id=store.id,
        principal=principal, method=kw.pop("method", "cash"), **kw,
    )  # fmt: skip
    result, _created = stored_value.recharge(session, data=data, actor=actor)
    return result


def pay_back(session: Session, actor: Principal, store: Store, member: Member, **kw: Any) -> Any:
    data = RefundCreate(
        client_uuid=uuid.uuid4(), member_id=member.id, store_id=store.id, method="cash",
        reason=kw.pop("reason", "顾客搬家"), **kw,
    )  # fmt: skip
    result, _created = stored_value.refund(session, data=data, actor=actor)
    return result


def balances(session: Session, member: Member) -> tuple[int, int]:
    held = ledger.balances(session.connection(), member_id=member.id)
    return held.sv_principal, held.sv_bonus


def ledger_rows(session: Session, member: Member) -> int:
    query = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.member_id == member.id)
    return session.scalar(query) or 0


def raises(kind: type[DomainError], code: str, call: Callable[[], Any]) -> DomainError:
    with pytest.raises(kind) as caught:
        call()
    assert caught.value.code == code, caught.value
    return caught.value


# --- rules and bonus -----------------------------------------------------------------------


def test_bonus_is_the_largest_of_the_active_rules_in_their_window(session: Session) -> None:
    store, cashier = shop(session, "cashier")
    member = make_member(session, cashier)
    now = datetime.now(UTC)
    small, big = add_rule(session, 100, 5), add_rule(session, 500, 50)
    add_rule(session, 500, 90, active=False)
    add_rule(session, 200, 150, valid_to=now - timedelta(days=1))  # over
    add_rule(session, 200, 160, valid_from=now + timedelta(days=1))  # not yet
    week = add_rule(session, 300, 60, valid_from=now - timedelta(days=1), valid_to=now + timedelta(days=6))  # fmt: skip

    assert [top_up(session, cashier, store, member, yuan * 100).bonus for yuan in (50, 100, 300, 600)] == [0, 500, 6000, 6000]  # fmt: skip
    got = [
        top_up(session, cashier, store, member, yuan * 100).rule_id for yuan in (50, 100, 499, 500)
    ]
    assert got == [None, small.id, week.id, week.id]  # 充300送60 gives more than 充500送50
    recharge_rules.update_rule(
        session, rule_id=week.id, actor=hq(session),
        data=RechargeRuleIn(name="停", min_principal=30000, bonus=6000, active=False),
    )  # fmt: skip
    assert top_up(session, cashier, store, member, 50000).rule_id == big.id


def test_a_rule_needs_a_bonus_within_its_minimum_and_a_window_that_ends_after_it_starts(
    session: Session,
) -> None:
    before = len(recharge_rules.list_rules(session))
    now = datetime.now(UTC)
    raises(ValidationFailed, "recharge_rule.bonus_too_big", lambda: add_rule(session, 100, 101))
    raises(
        ValidationFailed, "recharge_rule.window_invalid",
        lambda: add_rule(session, 100, 10, valid_from=now, valid_to=now),
    )  # fmt: skip
    assert len(recharge_rules.list_rules(session)) == before
    assert add_rule(session, 100, 100).bonus == 10000  # 充100送100 is allowed


def test_a_used_rule_is_switched_off_not_deleted(session: Session) -> None:
    store, cashier = shop(session, "cashier")
    used, unused = add_rule(session, 100, 10), add_rule(session, 900, 99)
    top_up(session, cashier, store, make_member(session, cashier), 10000)
    admin = hq(session)
    raises(Conflict, "recharge_rule.in_use", lambda: recharge_rules.delete_rule(session, rule_id=used.id, actor=admin))  # fmt: skip
    recharge_rules.delete_rule(session, rule_id=unused.id, actor=admin)
    assert [r.id for r in recharge_rules.list_rules(session) if r.id in (used.id, unused.id)] == [used.id]  # fmt: skip
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "recharge_rule"))
    assert {"recharge_rule.create", "recharge_rule.delete"} <= set(actions)


# --- recharges -----------------------------------------------------------------------------


def test_recharge_writes_a_numbered_row_and_one_ledger_entry(session: Session) -> None:
    store, cashier = shop(session, "cashier")
    member = make_member(session, cashier)
    rule = add_rule(session, 500, 50)
    done = top_up(session, cashier, store, member, 50000, method="card", reference="POS123")
    assert (done.principal, done.bonus, done.rule_id) == (50000, 5000, rule.id)
    assert (done.sv_principal_after, done.sv_bonus_after, done.balance_after) == (
        50000,
        5000,
        55000,
    )
    assert done.number == f"CZ-{store.code}-{done.business_date:%Y%m%d}-{done.id:06d}"
    entry = session.scalars(select(LedgerEntry).where(LedgerEntry.member_id == member.id)).one()
    assert (entry.kind, entry.sv_principal, entry.sv_bonus, entry.points) == ("recharge", 50000, 5000, 0)  # fmt: skip
    assert (entry.ref_type, entry.ref_id, entry.store_id) == ("recharge", done.id, store.id)


def test_the_card_cap_counts_the_bonus_and_says_how_much_still_fits(session: Session) -> None:
    store, cashier = shop(session, "cashier")
    member = make_member(session, cashier)
    add_rule(session, 500, 50)
    top_up(session, cashier, store, member, 400000)  # ¥4,050 with the bonus
    error = raises(
        ValidationFailed, "stored_value.over_cap",
        lambda: top_up(session, cashier, store, member, 95000),  # ¥950 + ¥50 bonus: ¥5,050
    )  # fmt: skip
    # ¥900 + ¥50 bonus fills the card to exactly ¥5,000.
    assert error.details["most_fen"] == 90000 and error.details["cap_fen"] == 500000
    assert balances(session, member) == (400000, 5000) and ledger_rows(session, member) == 1
    top_up(session, cashier, store, member, 90000)
    assert balances(session, member) == (490000, 10000)
    raises(ValidationFailed, "stored_value.over_cap", lambda: top_up(session, cashier, store, member, 1))  # fmt: skip


def test_a_retry_returns_the_first_recharge_and_a_reused_uuid_is_refused(session: Session) -> None:
    store, cashier = shop(session, "cashier")
    member = make_member(session, cashier)
    key = uuid.uuid4()
    data = RechargeCreate(client_uuid=key, member_id=member.id, store_id=store.id, principal=10000, method="cash")  # fmt: skip
    first, created = stored_value.recharge(session, data=data, actor=cashier)
    again, created_again = stored_value.recharge(session, data=data, actor=cashier)
    assert (created, created_again) == (True, False) and again == first
    assert balances(session, member) == (10000, 0) and ledger_rows(session, member) == 1
    other = data.model_copy(update={"principal": 20000})
    raises(Conflict, "recharge.uuid_reused", lambda: stored_value.recharge(session, data=other, actor=cashier))  # fmt: skip


def test_only_active_members_in_the_users_own_store_can_be_recharged(session: Session) -> None:
    store, cashier = shop(session, "cashier")
    elsewhere, _ = shop(session)
    member = make_member(session, cashier)
    raises(Forbidden, "store.forbidden", lambda: top_up(session, cashier, elsewhere, member, 100))
    member.status = "erased"
    session.flush()
    raises(NotFound, "member.not_found", lambda: top_up(session, cashier, store, member, 100))
    assert session.scalar(select(func.count()).select_from(Recharge).where(Recharge.member_id == member.id)) == 0  # fmt: skip


# --- refunds -------------------------------------------------------------------------------


def test_a_refund_writes_off_the_bonus_in_proportion_and_a_full_refund_empties_the_card(
    session: Session,
) -> None:
    store, manager = shop(session)
    member = make_member(session, manager)
    add_rule(session, 500, 50)
    top_up(session, manager, store, member, 50000)
    part = pay_back(session, manager, store, member, amount=20000)
    assert (part.kind, part.principal, part.bonus) == ("refund", 20000, 2000)  # 40% of each
    assert balances(session, member) == (30000, 3000)
    odd = pay_back(session, manager, store, member, amount=1)
    assert odd.bonus == 1  # ¥0.001 of bonus rounds up to a whole fen
    assert balances(session, member) == (29999, 2999)
    raises(ValidationFailed, "stored_value.insufficient", lambda: pay_back(session, manager, store, member, amount=30000))  # fmt: skip
    rest = pay_back(session, manager, store, member, reason="退卡")
    assert (rest.principal, rest.bonus, rest.balance_after) == (29999, 2999, 0)
    assert rest.number.startswith(f"TK-{store.code}-") and rest.reason == "退卡"
    assert balances(session, member) == (0, 0)
    entry = session.scalars(select(LedgerEntry).where(LedgerEntry.ref_id == rest.id, LedgerEntry.ref_type == "recharge")).one()  # fmt: skip
    assert (entry.kind, entry.sv_principal, entry.sv_bonus) == ("sv_refund", -29999, -2999)
    # Nothing is left to pay back, and bonus alone is never paid out.
    raises(ValidationFailed, "stored_value.insufficient", lambda: pay_back(session, manager, store, member))  # fmt: skip
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "stored_value.refund", AuditEntry.entity_id == str(member.id))).all()  # fmt: skip
    assert [a.after["bonus_written_off"] for a in audit] == [2000, 1, 2999]


def test_recharging_and_refunding_all_but_a_fen_does_not_pile_up_bonus(session: Session) -> None:
    store, manager = shop(session)
    member = make_member(session, manager)
    add_rule(session, 500, 50)
    for left in range(1, 6):
        top_up(session, manager, store, member, 50000)  # ¥500 + ¥50 bonus
        pay_back(session, manager, store, member, amount=49999)  # ¥499.99 back
        # A fen more principal each time, and no bonus: it went back with the money.
        assert balances(session, member) == (left, 0)


def test_bonus_left_after_spending_principal_goes_with_the_principal_refunded(
    session: Session,
) -> None:
    store, manager = shop(session)
    member = make_member(session, manager)
    add_rule(session, 500, 50)
    top_up(session, manager, store, member, 50000)
    spend = ledger.Change(kind="sale", sv_principal=-49000, store_id=store.id)  # principal first
    ledger.post(session.connection(), member_id=member.id, change=spend, at=datetime.now(UTC))
    assert balances(session, member) == (1000, 5000)
    # 30% of the principal left takes 30% of the bonus left, and the rest takes the rest.
    assert pay_back(session, manager, store, member, amount=300).bonus == 1500
    assert pay_back(session, manager, store, member, amount=699).bonus == 3495
    assert pay_back(session, manager, store, member, amount=1).bonus == 5
    assert balances(session, member) == (0, 0)


def test_a_refund_needs_a_reason(session: Session) -> None:
    store, manager = shop(session)
    member = make_member(session, manager)
    top_up(session, manager, store, member, 10000)
    raises(ValidationFailed, "stored_value.reason_missing", lambda: pay_back(session, manager, store, member, reason="  "))  # fmt: skip
    assert balances(session, member) == (10000, 0)


# --- statement -----------------------------------------------------------------------------


def test_statement_lists_stored_value_rows_newest_first_in_pages(session: Session) -> None:
    store, manager = shop(session)
    member = make_member(session, manager)
    numbers = [top_up(session, manager, store, member, yuan * 100).id for yuan in (10, 20, 30)]
    points_only = ledger.Change(kind="adjust", points=5, reason="补录")
    ledger.post(session.connection(), member_id=member.id, change=points_only, at=datetime.now(UTC))
    page = liability.statement(session, member_id=member.id, limit=2, offset=0)
    assert (page.total, page.sv_principal, page.balance) == (3, 6000, 6000)
    assert [e.ref_id for e in page.items] == [numbers[2], numbers[1]]
    assert [e.sv_principal_after for e in page.items] == [6000, 3000]
    rest = liability.statement(session, member_id=member.id, limit=2, offset=2)
    assert [e.ref_id for e in rest.items] == [numbers[0]]


# --- liability -----------------------------------------------------------------------------


def _at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(stored_value, "utcnow", lambda: moment)


def _shanghai(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def test_liability_by_store_and_month_end(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, at_a = shop(session)
    b, at_b = shop(session, cutoff=240)  # business day turns over at 04:00
    one, two = make_member(session, at_a), make_member(session, at_b)
    add_rule(session, 500, 50)
    _at(monkeypatch, _shanghai(1, 10, 12))
    top_up(session, at_a, a, one, 50000)  # A: +500 principal, +50 bonus
    _at(monkeypatch, _shanghai(1, 20, 12))
    top_up(session, at_b, b, two, 20000)  # B: +200
    spend = ledger.Change(kind="sale", sv_principal=-10000, sv_bonus=-1000, store_id=b.id)
    ledger.post(session.connection(), member_id=one.id, change=spend, at=_shanghai(2, 5, 12))
    _at(monkeypatch, _shanghai(3, 1, 1, 30))  # before B's cut-off: still February's takings
    late = top_up(session, at_b, b, two, 10000)
    assert late.business_date == date(2026, 2, 28)
    _at(monkeypatch, _shanghai(3, 15, 12))
    pay_back(session, at_a, a, one)  # A: -400 principal, -40 bonus written off

    found = liability.report(session, store_id=None, first=date(2026, 1, 1), last=date(2026, 3, 1))
    mine = [(r.month, r.store_id, r.principal, r.bonus) for r in found.rows if r.store_id in (a.id, b.id)]  # fmt: skip
    assert mine == [
        ("2026-01", a.id, 50000, 5000), ("2026-01", b.id, 20000, 0),
        ("2026-02", a.id, 50000, 5000), ("2026-02", b.id, 20000, -1000),
        ("2026-03", a.id, 10000, 1000), ("2026-03", b.id, 20000, -1000),
    ]  # fmt: skip
    only_b = liability.report(session, store_id=b.id, first=date(2026, 2, 1), last=date(2026, 3, 1))
    assert [(m.month, m.principal, m.bonus, m.total) for m in only_b.months] == [
        ("2026-02", 20000, -1000, 19000), ("2026-03", 20000, -1000, 19000),
    ]  # fmt: skip
    # The chain's March total is what members hold today.
    march = {r.store_id: r.total for r in found.rows if r.month == "2026-03"}
    assert march[a.id] + march[b.id] == sum(sum(balances(session, m)) for m in (one, two))


def test_liability_months_must_be_a_sane_range(session: Session) -> None:
    raises(ValidationFailed, "liability.range_invalid", lambda: liability.report(session, store_id=None, first=date(2026, 3, 1), last=date(2026, 1, 1)))  # fmt: skip
    raises(ValidationFailed, "liability.range_too_long", lambda: liability.report(session, store_id=None, first=date(2000, 1, 1), last=date(2026, 1, 1)))  # fmt: skip
    assert liability.months_between(date(2025, 11, 1), date(2026, 2, 1))[-1] == date(2026, 2, 1)


# --- two tills at once ---------------------------------------------------------------------


def _until_the_other_waits(db: Database) -> bool:
    """Hold the first transaction open until the second is queued behind its row lock."""
    if db.is_sqlite:
        return True  # writers are serialised by the app's lock: the second one waits for us
    with db.engine.connect() as conn:
        for _ in range(2000):
            query = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if conn.execute(query).scalar():
                return True
            time.sleep(0.01)
    return False


@pytest.mark.parametrize("second", ["refund", "spend"])
def test_two_tills_emptying_the_same_card_at_once_one_wins(database: Database, second: str) -> None:
    with database.write() as session:
        store, manager = shop(session)
        member_id = make_member(session, manager).id
        top_up(session, manager, store, session.get(Member, member_id), 30000)
    locked, outcomes = threading.Event(), {}

    def first_till() -> None:
        with database.write() as session:
            pay_back(session, manager, store, session.get(Member, member_id))
            locked.set()
            outcomes["overlapped"] = _until_the_other_waits(database)
        outcomes["first"] = "ok"

    def second_till() -> None:
        locked.wait(30)
        try:
            with database.write() as session:
                if second == "refund":
                    pay_back(session, manager, store, session.get(Member, member_id), amount=30000)
                else:
                    spend = ledger.Change(kind="sale", sv_principal=-30000, store_id=store.id)
                    now = datetime.now(UTC)
                    ledger.post(session.connection(), member_id=member_id, change=spend, at=now)
            outcomes["second"] = "ok"
        except ValidationFailed as exc:
            outcomes["second"] = exc.code

    tills = [threading.Thread(target=first_till), threading.Thread(target=second_till)]
    for till in tills:
        till.start()
    for till in tills:
        till.join(60)
    # Both were in flight at once, and only the first emptied the card.
    assert outcomes == {"first": "ok", "second": "stored_value.insufficient", "overlapped": True}
    with database.read() as session:
        assert balances(session, session.get(Member, member_id)) == (0, 0)
        after = select(LedgerEntry.sv_principal_after).where(LedgerEntry.member_id == member_id)
        assert sorted(session.scalars(after)) == [0, 30000]
