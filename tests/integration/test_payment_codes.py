"""Payment codes against real databases: several codes pay one sale (each claimed once, at
its register); a return refunds each code its share through the gateway after the return is
committed, exactly once (also when sent again after a crash), and the recovery settles what
was left: unsettled attempts and refunds still pending."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shouyin.auth.principal import Principal
from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.sales import payment_codes, payment_recovery, payment_refunds, returns, service
from shouyin.sales.gateway import GatewayTimeout, Result, SimulatorGateway, process_gateway
from shouyin.sales.payment_models import PaymentAttempt
from shouyin.sales.payment_schemas import PaymentAttemptPublic, PaymentCodeCreate
from shouyin.sales.return_models import ReturnPayment
from shouyin.sales.return_schemas import ReturnCreate
from shouyin.sales.schemas import OrderCreate, OrderPublic
from shouyin.shared.clock import utcnow
from shouyin.stores.models import Register, Store
from tests import factories

WECHAT_OK = "134567890123456781"


@dataclass
class Shop:
    store: Any
    register: Any
    cup: Any
    cashier: Principal
    manager: Principal


def make_shop(db: Database) -> Shop:
    with db.write() as session:
        store = factories.make_store(session)
        cup = factories.make_product(session, price=1000, stock={store.id: 20})
        cashier = factories.make_user(session, role="cashier", store=store)
        manager = factories.make_user(session, role="store_manager", store=store)
        return Shop(
            store, factories.register_of(session, store), cup,
            factories.principal_of(cashier), factories.principal_of(manager),
        )  # fmt: skip


def charge(
    db: Database, shop: Shop, code: str, amount: int, gateway: Any = None
) -> PaymentAttemptPublic:
    data = PaymentCodeCreate(
        client_uuid=uuid.uuid4(), store_id=shop.store.id, register_id=shop.register.id,
        code=code, amount=amount,
    )  # fmt: skip
    attempt, created = payment_codes.charge(
        db, gateway or process_gateway(), data=data, actor=shop.cashier, wait_seconds=60
    )
    assert created
    return attempt


def sell(
    db: Database, shop: Shop, attempt: PaymentAttemptPublic, *,
    payments: list[dict[str, Any]] | None = None, register_id: int | None = None,
) -> OrderPublic:  # fmt: skip
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop.store.id,
        "register_id": register_id or shop.register.id,
        "lines": [{"product_id": shop.cup.id, "quantity": 2}],
        "payments": payments or [
            {"method": attempt.method, "amount": attempt.amount, "reference": attempt.trade_no},
            {"method": "cash", "amount": 2000 - attempt.amount},
        ],
    }  # fmt: skip
    with db.write() as session:
        order, created = service.checkout(
            session, data=OrderCreate.model_validate(body), actor=shop.cashier,
            discount_audit_percent=100,
        )  # fmt: skip
    assert created
    return order


def give_back(
    db: Database, shop: Shop, order: OrderPublic, return_uuid: uuid.UUID, quantity: int = 1
) -> Any:
    data = ReturnCreate(
        client_uuid=return_uuid, store_id=shop.store.id, register_id=shop.register.id,
        order_id=order.id, lines=[{"order_line_id": order.lines[0].id, "quantity": quantity}],
        reason="杯子有裂纹",
    )  # fmt: skip
    with db.write() as session:
        return returns.create(session, data=data, actor=shop.manager, approval_limit=10**6)


def refunded(db: Database, attempt_id: int) -> int:
    with db.read() as session:
        row = session.get(PaymentAttempt, attempt_id)
        assert row is not None
        return row.refunded


def paid_back(db: Database, return_id: int) -> list[tuple[str, int, str, str | None]]:
    with db.read() as session:
        rows = session.execute(
            select(ReturnPayment.method, ReturnPayment.amount, ReturnPayment.status,
                   ReturnPayment.reference)
            .where(ReturnPayment.return_id == return_id)
            .order_by(ReturnPayment.id)
        ).all()  # fmt: skip
    return [(m, a, s, r) for m, a, s, r in rows]


class SilentGateway(SimulatorGateway):
    """Takes payments, but never answers a refund (the provider is down)."""

    def refund(self, trade_no: str, refund_no: str, amount: int) -> Result:
        raise GatewayTimeout(trade_no)


def test_a_return_refunds_the_wechat_part_after_its_commit_once(database: Database) -> None:
    shop = make_shop(database)
    gateway = SimulatorGateway()
    attempt = charge(database, shop, WECHAT_OK, 1500, gateway)
    order = sell(database, shop, attempt)
    return_uuid = uuid.uuid4()

    # The return is written with its WeChat refund pending: no money has left yet.
    made, created = give_back(database, shop, order, return_uuid)
    assert created and made.refund == 1000
    assert [(p.method, p.amount, p.status) for p in made.payments] == [("wechat", 1000, "pending")]
    assert gateway.refunded(attempt.trade_no) == 0 and refunded(database, attempt.id) == 0

    # The gateway took it but the answer was lost (a crash): sending again refunds once.
    number = payment_refunds.refund_no(str(return_uuid), "wechat", attempt.id)
    gateway.refund(attempt.trade_no, number, 1000)
    sent = payment_refunds.send_pending(database, gateway, return_id=made.id)
    assert (sent.done, sent.failed, sent.left) == (1, 0, 0)
    assert gateway.refunded(attempt.trade_no) == 1000
    assert refunded(database, attempt.id) == 1000
    [(method, amount, status, reference)] = paid_back(database, made.id)
    assert (method, amount, status) == ("wechat", 1000, "done")
    assert reference and reference.startswith("SIMR")

    # Sending again, or a plain retry of the return, changes nothing at all.
    assert payment_refunds.send_pending(database, gateway) == payment_refunds.Sent()
    _, created = give_back(database, shop, order, return_uuid)
    assert not created
    assert gateway.refunded(attempt.trade_no) == 1000 and refunded(database, attempt.id) == 1000

    # The second cup: what is left of the WeChat part (500), the rest in cash.
    made, _ = give_back(database, shop, order, uuid.uuid4())
    payment_refunds.send_pending(database, gateway, return_id=made.id)
    assert [(m, a, s) for m, a, s, _ in paid_back(database, made.id)] == [
        ("cash", 500, "done"), ("wechat", 500, "done"),
    ]  # fmt: skip
    assert gateway.refunded(attempt.trade_no) == 1500
    assert refunded(database, attempt.id) == 1500


def test_the_gateway_is_asked_only_once_the_return_is_committed(database: Database) -> None:
    shop = make_shop(database)
    seen: list[str] = []

    class Watching(SimulatorGateway):
        def refund(self, trade_no: str, refund_no: str, amount: int) -> Result:
            # Another connection sees the committed return, and can write: no write
            # transaction (on SQLite, the lock of every till) is held during the call.
            with database.write() as session:
                seen.extend(session.scalars(select(ReturnPayment.status)))
            return super().refund(trade_no, refund_no, amount)

    gateway = Watching()
    attempt = charge(database, shop, WECHAT_OK, 1500, gateway)
    made, _ = give_back(database, shop, sell(database, shop, attempt), uuid.uuid4())
    payment_refunds.send_pending(database, gateway, return_id=made.id)
    assert seen == ["pending"]
    assert [s for _, _, s, _ in paid_back(database, made.id)] == ["done"]


def test_a_refused_refund_is_failed_and_one_not_answered_stays_pending(
    database: Database,
) -> None:
    shop = make_shop(database)
    gateway = SimulatorGateway()
    attempt = charge(database, shop, WECHAT_OK, 1500, gateway)
    order = sell(database, shop, attempt)
    first, _ = give_back(database, shop, order, uuid.uuid4())

    # The provider does not answer: still pending, nothing counted as refunded.
    sent = payment_refunds.send_pending(database, SilentGateway(), return_id=first.id)
    assert (sent.done, sent.left) == (0, 1)
    assert [s for _, _, s, _ in paid_back(database, first.id)] == ["pending"]
    assert refunded(database, attempt.id) == 0

    # A gateway that knows nothing of the trade refuses: failed, with its reason code.
    second, _ = give_back(database, shop, order, uuid.uuid4())
    sent = payment_refunds.send_pending(database, SimulatorGateway(), return_id=second.id)
    assert (sent.done, sent.failed) == (0, 1)
    assert [(m, a, s, r) for m, a, s, r in paid_back(database, second.id)] == [
        ("cash", 500, "done", None), ("wechat", 500, "failed", "TRADE_NOT_PAID"),
    ]  # fmt: skip
    assert refunded(database, attempt.id) == 0

    # The recovery sends the first one again, through the gateway that took the payment.
    done = payment_recovery.recover_pending(database, gateway, older_than=timedelta(minutes=2))
    assert (done.refunds_done, done.refunds_left) == (1, 0)
    assert [s for _, _, s, _ in paid_back(database, first.id)] == ["done"]
    assert refunded(database, attempt.id) == gateway.refunded(attempt.trade_no) == 1000

    # A refund is never planned beyond what the sale's code payments have left.
    with pytest.raises(DomainError) as caught, database.write() as session:
        payment_refunds.plan_refunds(
            session.connection(), order_id=order.id, tenders={"wechat": 1501}
        )
    assert caught.value.code == "payment_code.refund_exceeded"


def test_a_sale_paid_by_three_codes_is_refunded_to_each_its_share(database: Database) -> None:
    shop = make_shop(database)
    gateway = SimulatorGateway()
    first = charge(database, shop, WECHAT_OK, 700, gateway)
    second = charge(database, shop, "134567890123456782", 500, gateway)
    third = charge(database, shop, "281234567890123451", 500, gateway)
    payments = [{"method": a.method, "amount": a.amount, "reference": a.trade_no}
                for a in (first, second, third)] + [{"method": "cash", "amount": 300}]  # fmt: skip
    order = sell(database, shop, first, payments=payments)
    with database.read() as session:
        claimed = dict(session.execute(select(PaymentAttempt.id, PaymentAttempt.order_id)).all())
    assert claimed == {first.id: order.id, second.id: order.id, third.id: order.id}

    made, _ = give_back(database, shop, order, uuid.uuid4(), quantity=2)
    assert made.refund == 2000 and made.whole_order
    sent = payment_refunds.send_pending(database, gateway, return_id=made.id)
    assert (sent.done, sent.failed, sent.left) == (3, 0, 0)
    assert sorted((m, a, s) for m, a, s, _ in paid_back(database, made.id)) == [
        ("alipay", 500, "done"), ("cash", 300, "done"), ("wechat", 500, "done"),
        ("wechat", 700, "done"),
    ]  # fmt: skip
    for attempt in (first, second, third):
        assert gateway.refunded(attempt.trade_no) == attempt.amount
        assert refunded(database, attempt.id) == attempt.amount


def test_a_code_charged_at_one_register_cannot_pay_at_another(database: Database) -> None:
    shop = make_shop(database)
    with database.write() as session:
        store = session.get(Store, shop.store.id)
        assert store is not None
        other = Register(store_id=store.id, code="R2", name="2号收银台")
        session.add(other)
        session.flush()
        factories.open_shift(session, other, factories.make_user(session, store=store))
        other_id = other.id
    attempt = charge(database, shop, WECHAT_OK, 1500, SimulatorGateway())
    with pytest.raises(DomainError) as caught:
        sell(database, shop, attempt, register_id=other_id)
    assert caught.value.code == "payment_code.other_register"
    assert sell(database, shop, attempt).total == 2000


def test_recovery_settles_what_a_crash_left(database: Database) -> None:
    shop = make_shop(database)
    gateway = SimulatorGateway()
    # A crash right after the gateway took the money: the row says pending.
    data = PaymentCodeCreate(
        client_uuid=uuid.uuid4(), store_id=shop.store.id, register_id=shop.register.id,
        code=WECHAT_OK, amount=900,
    )  # fmt: skip
    with database.write() as session:
        crashed, _ = payment_codes._start(session, data=data, actor=shop.cashier, method="wechat")
    gateway.pay(data.client_uuid.hex, WECHAT_OK, 900, "")
    # A customer who never typed the password, and a declined code never recorded.
    waiting = charge(database, shop, "281234567890123457", 500, gateway)
    assert waiting.status == "waiting"
    declined_data = data.model_copy(
        update={"client_uuid": uuid.uuid4(), "code": "134567890123456786"}
    )
    with database.write() as session:
        declined, _ = payment_codes._start(
            session, data=declined_data, actor=shop.cashier, method="wechat"
        )
    gateway.pay(declined_data.client_uuid.hex, "134567890123456786", 900, "")

    # Too recent: left alone (a till may still be waiting on them).
    fresh = payment_recovery.recover_pending(database, gateway, older_than=timedelta(minutes=2))
    assert fresh.checked == 0
    later = utcnow() + timedelta(minutes=5)
    done = payment_recovery.recover_pending(
        database, gateway, older_than=timedelta(minutes=2), now=later
    )
    assert (done.checked, done.failed, done.reversed, done.left) == (3, 1, 2, 0)
    with database.read() as session:
        status = dict(session.execute(select(PaymentAttempt.id, PaymentAttempt.status)).all())
    assert status == {crashed: "reversed", waiting.id: "reversed", declined: "failed"}
    assert gateway.state(data.client_uuid.hex) == "reversed"  # the money went back
    again = payment_recovery.recover_pending(database, gateway, older_than=timedelta(0), now=later)
    assert again.checked == 0


def test_a_password_never_typed_is_reversed_after_the_wait(database: Database) -> None:
    shop = make_shop(database)
    gateway = SimulatorGateway()
    waiting = charge(database, shop, "131234567890123457", 500, gateway)
    polled = payment_codes.poll(
        database, gateway, attempt_id=waiting.id, actor=shop.cashier, wait_seconds=0
    )
    assert polled.status == "reversed" and polled.message == "not_confirmed"
    assert gateway.state(waiting.trade_no) == "reversed"


def test_a_paid_code_no_sale_used_is_reversed_after_hours(database: Database) -> None:
    shop = make_shop(database)
    gateway = SimulatorGateway()
    paid = charge(database, shop, WECHAT_OK, 800, gateway)
    used = charge(database, shop, "134567890123456782", 1000, gateway)
    sell(database, shop, used)
    later = utcnow() + timedelta(hours=3)
    done = payment_recovery.recover_pending(
        database, gateway, older_than=timedelta(minutes=2), now=later,
        unclaimed_after=timedelta(hours=2),
    )  # fmt: skip
    assert (done.checked, done.reversed) == (1, 1)
    assert gateway.state(paid.trade_no) == "reversed"
    assert gateway.state(used.trade_no) == "paid"


def test_the_recover_command_reverses_what_was_left(configured_url: str) -> None:
    import typer
    from typer.testing import CliRunner

    from shouyin.sales import payment_command

    db = Database.from_url(configured_url)
    try:
        shop = make_shop(db)
        data = PaymentCodeCreate(
            client_uuid=uuid.uuid4(), store_id=shop.store.id, register_id=shop.register.id,
            code=WECHAT_OK, amount=900,
        )  # fmt: skip
        with db.write() as session:
            left, _ = payment_codes._start(session, data=data, actor=shop.cashier, method="wechat")
        app = typer.Typer()
        payment_command.register(app)
        app.command("noop")(lambda: None)  # a group needs two commands to keep its name
        result = CliRunner().invoke(app, ["payments", "recover", "--older-than", "0"])
        assert result.exit_code == 0, result.output
        assert "1 reversed" in " ".join(result.output.split())
        with db.read() as session:
            assert session.get(PaymentAttempt, left).status == "reversed"  # type: ignore[union-attr]
    finally:
        db.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_sales_claiming_one_charge_at_once_only_one_wins(database: Database) -> None:
    shop = make_shop(database)
    attempt = charge(database, shop, WECHAT_OK, 1500, SimulatorGateway())
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def claim() -> None:
        barrier.wait()
        try:
            sell(database, shop, attempt)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "payment_code.used"]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_charges_with_one_uuid_at_once_make_one_attempt(database: Database) -> None:
    shop = make_shop(database)
    gateway = SimulatorGateway()
    data = PaymentCodeCreate(
        client_uuid=uuid.uuid4(), store_id=shop.store.id, register_id=shop.register.id,
        code=WECHAT_OK, amount=900,
    )  # fmt: skip
    barrier = threading.Barrier(2)
    made: list[tuple[int, bool]] = []

    def send() -> None:
        barrier.wait()
        attempt, created = payment_codes.charge(
            database, gateway, data=data, actor=shop.cashier, wait_seconds=60
        )
        made.append((attempt.id, created))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({attempt_id for attempt_id, _ in made}) == 1
    assert sorted(created for _, created in made) == [False, True]
    with database.read() as session:
        rows = list(session.scalars(select(PaymentAttempt)))
    assert [row.status for row in rows] == ["succeeded"]
