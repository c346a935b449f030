"""Payment codes (付款码) through HTTP on both databases: every gateway outcome ends succeeded,
failed or reversed; a retry charges once; a charge pays one order, for its exact amount."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from shouyin.audit.models import AuditEntry
from shouyin.sales.gateway import GatewayTimeout, Result, SimulatorGateway
from shouyin.sales.models import Payment
from shouyin.sales.payment_models import PaymentAttempt
from shouyin.sales.payment_router import app_gateway
from shouyin.stores.models import Register
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
CODES = "/api/v1/payment-codes"


def wechat(last: int) -> str:
    """A WeChat Pay code (18 digits, 10-15...) whose last digit tells the simulator what to do."""
    return "13" + "".join(random.choice("0123456789") for _ in range(15)) + str(last)


def alipay(last: int, length: int = 18) -> str:
    return "28" + "".join(random.choice("0123456789") for _ in range(length - 3)) + str(last)


def _shop(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        store = factories.make_store(session)
        register = factories.register_of(session, store)
        water = factories.make_product(session, price=350, stock={store.id: 100})
        return {"store": store, "register": register, "water": water}

    shop: dict[str, Any] = harness.write(build)
    shop["cashier"] = harness.client(harness.user("cashier", shop["store"]))
    return shop


def _charge(shop: dict[str, Any], code: str, amount: int = 700, **extra: Any) -> Any:
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "code": code, "amount": amount, **extra,
    }  # fmt: skip
    return shop["cashier"].post(CODES, json=body)


def _order(shop: dict[str, Any], payments: list[dict[str, Any]], qty: int = 2) -> dict[str, Any]:
    return {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "payments": payments,
        "lines": [{"product_id": shop["water"].id, "quantity": qty}],
    }  # fmt: skip


def _gateway(harness: AppHarness) -> SimulatorGateway:
    found = app_gateway(harness.app)
    assert isinstance(found, SimulatorGateway)
    return found


def _attempts(harness: AppHarness) -> list[PaymentAttempt]:
    with harness.db.read() as session:
        return list(session.scalars(select(PaymentAttempt).order_by(PaymentAttempt.id)))


@BOTH
def test_a_paid_code_pays_one_order(harness: AppHarness) -> None:
    shop = _shop(harness)
    code = wechat(3)
    made = _charge(shop, code)
    assert made.status_code == 201, made.text
    attempt = made.json()
    assert attempt["status"] == "succeeded" and attempt["method"] == "wechat"
    assert attempt["code_tail"] == code[-4:]
    # Only the last four digits of the code are kept.
    stored = _attempts(harness)[0]
    assert code not in {stored.trade_no, stored.client_uuid, stored.code_tail}

    paid = {"method": "wechat", "amount": 700, "reference": attempt["trade_no"]}
    order = shop["cashier"].post("/api/v1/orders", json=_order(shop, [paid]))
    assert order.status_code == 201, order.text
    assert order.json()["payments"][0]["reference"] == attempt["trade_no"]
    with harness.db.read() as session:
        payment = session.scalars(select(Payment)).one()
        assert (payment.method, payment.reference) == ("wechat", attempt["trade_no"])
    assert _attempts(harness)[0].order_id == order.json()["id"]

    # The same charge cannot pay a second order, nor be cancelled once used.
    again = shop["cashier"].post("/api/v1/orders", json=_order(shop, [paid]))
    assert again.status_code == 422 and again.json()["code"] == "payment_code.used"
    cancel = shop["cashier"].post(f"{CODES}/{attempt['id']}/cancel")
    assert cancel.status_code == 409 and cancel.json()["code"] == "payment_code.used"


@BOTH
def test_a_declined_code_is_failed_with_the_reason(harness: AppHarness) -> None:
    shop = _shop(harness)
    made = _charge(shop, alipay(6, length=24))
    assert made.status_code == 201
    assert made.json()["status"] == "failed" and made.json()["method"] == "alipay"
    # The gateway's reason code is kept; the message is in the reader's language.
    assert made.json()["message"] == "余额不足" and made.json()["reason"] == "NOTENOUGH"
    shop["cashier"].cookies.set("lang", "en")
    read = shop["cashier"].get(f"{CODES}/{made.json()['id']}").json()
    assert read["message"] == "Not enough money in the customer's account."
    with harness.db.read() as session:
        assert session.scalars(select(PaymentAttempt.message)).one() == "NOTENOUGH"
    paid = {"method": "alipay", "amount": 700, "reference": made.json()["trade_no"]}
    order = shop["cashier"].post("/api/v1/orders", json=_order(shop, [paid]))
    assert order.status_code == 422 and order.json()["code"] == "payment_code.not_paid"


@BOTH
def test_password_then_success_by_polling(harness: AppHarness) -> None:
    shop = _shop(harness)
    made = _charge(shop, wechat(7)).json()
    assert made["status"] == "waiting" and made["wait_seconds"] == 60
    first = shop["cashier"].get(f"{CODES}/{made['id']}")
    assert first.status_code == 200 and first.json()["status"] == "waiting"
    second = shop["cashier"].get(f"{CODES}/{made['id']}").json()
    assert second["status"] == "succeeded"


@BOTH
def test_a_timeout_with_the_money_taken_is_found_paid(harness: AppHarness) -> None:
    shop = _shop(harness)
    made = _charge(shop, wechat(8)).json()
    assert made["status"] == "succeeded" and made["message"] == "checked_after_timeout"
    assert _gateway(harness).state(made["trade_no"]) == "paid"


@BOTH
def test_a_timeout_never_answered_ends_reversed(harness: AppHarness) -> None:
    shop = _shop(harness)
    made = _charge(shop, alipay(9)).json()
    assert made["status"] == "reversed" and made["message"] == "not_confirmed"
    assert _gateway(harness).state(made["trade_no"]) == "reversed"
    with harness.db.read() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert "payment_code.reversed" in actions


@BOTH
def test_the_simulator_can_be_told(harness: AppHarness) -> None:
    shop = _shop(harness)
    code = wechat(0)
    _gateway(harness).tell(code, "decline")
    assert _charge(shop, code).json()["status"] == "failed"


@BOTH
def test_a_retry_with_the_same_uuid_charges_once(harness: AppHarness) -> None:
    shop = _shop(harness)
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "code": wechat(1), "amount": 700,
    }  # fmt: skip
    first = shop["cashier"].post(CODES, json=body)
    second = shop["cashier"].post(CODES, json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert len(_attempts(harness)) == 1
    other = shop["cashier"].post(CODES, json={**body, "amount": 900})
    assert other.status_code == 409 and other.json()["code"] == "payment_code.uuid_reused"


@BOTH
def test_amount_and_method_must_match_the_charge(harness: AppHarness) -> None:
    shop = _shop(harness)
    made = _charge(shop, wechat(2), amount=500).json()
    ref = made["trade_no"]
    short = [{"method": "wechat", "amount": 500, "reference": ref},
             {"method": "cash", "amount": 200}]  # fmt: skip
    wrong = [{"method": "wechat", "amount": 700, "reference": ref}]
    bad = shop["cashier"].post("/api/v1/orders", json=_order(shop, wrong))
    assert bad.status_code == 422 and bad.json()["code"] == "payment_code.amount_mismatch"
    other_method = [{"method": "alipay", "amount": 500, "reference": ref},
                    {"method": "cash", "amount": 200}]  # fmt: skip
    bad = shop["cashier"].post("/api/v1/orders", json=_order(shop, other_method))
    assert bad.status_code == 422 and bad.json()["code"] == "payment_code.amount_mismatch"
    assert _attempts(harness)[0].order_id is None  # nothing half-written
    good = shop["cashier"].post("/api/v1/orders", json=_order(shop, short))
    assert good.status_code == 201, good.text
    assert good.json()["change"] == 0


@BOTH
@pytest.mark.parametrize(
    "code",
    ["12345", "163456789012345678", "13345678901234567", "2812345678901234567890123",
     "3112345678901234", "13345678901234567a", " 133456789012345678"],
)  # fmt: skip
def test_malformed_codes_are_refused(harness: AppHarness, code: str) -> None:
    shop = _shop(harness)
    refused = _charge(shop, code)
    assert refused.status_code == 422
    assert refused.json()["code"] == "payment_code.invalid"
    assert "WeChat" in refused.json()["message"] or "微信" in refused.json()["message"]
    assert _attempts(harness) == []


@BOTH
def test_cancel_reverses_an_unused_charge(harness: AppHarness) -> None:
    shop = _shop(harness)
    made = _charge(shop, wechat(4)).json()
    cancelled = shop["cashier"].post(f"{CODES}/{made['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "reversed"
    assert cancelled.json()["message"] == "cancelled"
    assert _gateway(harness).state(made["trade_no"]) == "reversed"
    again = shop["cashier"].post(f"{CODES}/{made['id']}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "reversed"
    paid = {"method": "wechat", "amount": 700, "reference": made["trade_no"]}
    order = shop["cashier"].post("/api/v1/orders", json=_order(shop, [paid]))
    assert order.status_code == 422 and order.json()["code"] == "payment_code.not_paid"


@BOTH
def test_a_charge_needs_an_open_shift_and_the_store(harness: AppHarness) -> None:
    def build(session: Any) -> dict[str, Any]:
        store = factories.make_store(session, shift=False)
        other = factories.make_store(session)
        return {"store": store, "register": factories.register_of(session, store),
                "other": other}  # fmt: skip

    shop: dict[str, Any] = harness.write(build)
    shop["cashier"] = harness.client(harness.user("cashier", shop["store"]))
    closed = _charge(shop, wechat(0))
    assert closed.status_code == 409 and closed.json()["code"] == "shift.not_open"
    foreign = _charge(shop, wechat(0), store_id=shop["other"].id)
    assert foreign.status_code == 403
    assert _attempts(harness) == []


@BOTH
def test_card_payments_need_the_terminal_reference(harness: AppHarness) -> None:
    shop = _shop(harness)
    missing = [{"method": "card", "amount": 700}]
    refused = shop["cashier"].post("/api/v1/orders", json=_order(shop, missing))
    assert refused.status_code == 422
    assert refused.json()["code"] == "payment.card_reference_required"
    bad = [{"method": "card", "amount": 700, "reference": "12-3"}]
    refused = shop["cashier"].post("/api/v1/orders", json=_order(shop, bad))
    assert refused.json()["code"] == "payment.card_reference_required"
    good = [{"method": "card", "amount": 700, "reference": "000123456789"}]
    assert shop["cashier"].post("/api/v1/orders", json=_order(shop, good)).status_code == 201


def _second_register(harness: AppHarness, shop: dict[str, Any]) -> Any:
    def build(session: Any) -> Any:
        register = Register(store_id=shop["store"].id, code="R2", name="2号收银台")
        session.add(register)
        session.flush()
        factories.open_shift(session, register, factories.make_user(session, store=shop["store"]))
        return register

    return harness.write(build)


def _refund_back(shop: dict[str, Any], client: Any, order: dict[str, Any], **extra: Any) -> Any:
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "order_id": order["id"], "reason": "不要了",
        "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 2}], **extra,
    }  # fmt: skip
    return client.post("/api/v1/returns", json=body)


@BOTH
def test_two_codes_pay_one_sale_and_a_full_return_refunds_each(harness: AppHarness) -> None:
    shop = _shop(harness)
    first = _charge(shop, wechat(1), amount=350).json()
    second = _charge(shop, alipay(2), amount=350).json()
    paid = [{"method": "wechat", "amount": 350, "reference": first["trade_no"]},
            {"method": "alipay", "amount": 350, "reference": second["trade_no"]}]  # fmt: skip
    order = shop["cashier"].post("/api/v1/orders", json=_order(shop, paid))
    assert order.status_code == 201, order.text
    assert {a.order_id for a in _attempts(harness)} == {order.json()["id"]}

    manager = harness.client(harness.user("store_manager", shop["store"]))
    made = _refund_back(shop, manager, order.json())
    assert made.status_code == 201, made.text
    payments = made.json()["payments"]
    assert [(p["method"], p["amount"], p["status"]) for p in payments] == [
        ("wechat", 350, "done"), ("alipay", 350, "done"),
    ]  # fmt: skip
    assert all(p["reference"].startswith("SIMR") for p in payments)
    gateway = _gateway(harness)
    assert [gateway.refunded(x["trade_no"]) for x in (first, second)] == [350, 350]
    assert [a.refunded for a in _attempts(harness)] == [350, 350]


class _Silent(SimulatorGateway):
    """The provider takes payments but does not answer refunds."""

    def refund(self, trade_no: str, refund_no: str, amount: int) -> Result:
        raise GatewayTimeout(trade_no)


@BOTH
def test_a_refund_not_answered_is_pending_and_a_retry_sends_it(harness: AppHarness) -> None:
    shop = _shop(harness)
    gateway = _gateway(harness)
    attempt = _charge(shop, wechat(1)).json()
    paid = [{"method": "wechat", "amount": 700, "reference": attempt["trade_no"]}]
    order = shop["cashier"].post("/api/v1/orders", json=_order(shop, paid)).json()
    manager = harness.client(harness.user("store_manager", shop["store"]))
    return_uuid = str(uuid.uuid4())

    harness.app.state.payment_gateway = _Silent()
    made = _refund_back(shop, manager, order, client_uuid=return_uuid)
    assert made.status_code == 201, made.text
    [payment] = made.json()["payments"]
    assert (payment["status"], payment["reference"]) == ("pending", None)
    assert _attempts(harness)[0].refunded == 0  # only what the gateway took counts

    harness.app.state.payment_gateway = gateway
    again = _refund_back(shop, manager, order, client_uuid=return_uuid)
    assert again.status_code == 200, again.text
    [payment] = again.json()["payments"]
    assert payment["status"] == "done" and payment["reference"].startswith("SIMR")
    assert gateway.refunded(attempt["trade_no"]) == 700 == _attempts(harness)[0].refunded
    read = manager.get(f"/api/v1/returns/{again.json()['id']}").json()
    assert read["payments"] == again.json()["payments"]


@BOTH
def test_a_code_is_followed_and_used_only_at_its_register(harness: AppHarness) -> None:
    shop = _shop(harness)
    other = _second_register(harness, shop)
    made = _charge(shop, wechat(1)).json()
    paid = [{"method": "wechat", "amount": 700, "reference": made["trade_no"]}]
    elsewhere = {**_order(shop, paid), "register_id": other.id}
    refused = shop["cashier"].post("/api/v1/orders", json=elsewhere)
    assert refused.status_code == 422 and refused.json()["code"] == "payment_code.other_register"

    # Another cashier at another register may neither follow nor cancel it ...
    colleague = harness.client(harness.user("cashier", shop["store"]))
    for call in (
        colleague.get(f"{CODES}/{made['id']}", params={"register_id": other.id}),
        colleague.post(f"{CODES}/{made['id']}/cancel"),
    ):
        assert call.status_code == 403 and call.json()["code"] == "payment_code.other_register"
    assert _attempts(harness)[0].status == "succeeded"
    # ... at its register they may, and so may a manager anywhere.
    here = colleague.get(f"{CODES}/{made['id']}", params={"register_id": shop["register"].id})
    assert here.status_code == 200
    manager = harness.client(harness.user("store_manager", shop["store"]))
    cancelled = manager.post(f"{CODES}/{made['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "reversed"
