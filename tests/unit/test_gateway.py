"""The simulator gateway: each outcome, the truth after a timeout, idempotency by number."""

from __future__ import annotations

import pytest

from shouyin.sales.gateway import (
    BY_LAST_DIGIT,
    GatewayTimeout,
    Result,
    SimulatorGateway,
    make_gateway,
    process_gateway,
)

CODE = "13456789012345678"  # 17 digits: the gateway does not check formats, the service does


def code(last: int) -> str:
    return f"{CODE}{last}"


@pytest.mark.parametrize("last", [0, 1, 2, 3, 4, 5])
def test_digits_0_to_5_succeed(last: int) -> None:
    gateway = SimulatorGateway()
    paid = gateway.pay("T1", code(last), 700, "门店消费")
    assert paid.status == "succeeded" and paid.gateway_ref
    assert gateway.query("T1") == paid
    assert gateway.state("T1") == "paid"


def test_6_declines_with_the_reason() -> None:
    gateway = SimulatorGateway()
    assert gateway.pay("T1", code(6), 700, "") == Result("failed", "余额不足", code="NOTENOUGH")
    assert gateway.query("T1").status == "failed"
    assert gateway.refund("T1", "R1", 700).code == "TRADE_NOT_PAID"


def test_7_asks_for_the_password_and_succeeds_on_the_second_query() -> None:
    gateway = SimulatorGateway()
    assert gateway.pay("T1", code(7), 700, "").status == "waiting"
    assert gateway.query("T1").status == "waiting"
    assert gateway.query("T1").status == "succeeded"


def test_8_times_out_with_the_money_taken() -> None:
    gateway = SimulatorGateway()
    with pytest.raises(GatewayTimeout):
        gateway.pay("T1", code(8), 700, "")
    assert gateway.query("T1").status == "succeeded"
    # A reversal refunds it.
    assert gateway.reverse("T1").status == "succeeded"
    assert gateway.state("T1") == "reversed"


def test_9_times_out_and_stays_unknown_until_reversed() -> None:
    gateway = SimulatorGateway()
    with pytest.raises(GatewayTimeout):
        gateway.pay("T1", code(9), 700, "")
    assert [gateway.query("T1").status for _ in range(5)] == ["unknown"] * 5
    assert gateway.reverse("T1").status == "succeeded"
    assert gateway.query("T1").status == "failed"  # closed: nothing can pay it any more


def test_tell_overrides_the_last_digit_once() -> None:
    gateway = SimulatorGateway()
    gateway.tell(code(0), "timeout_lost")
    with pytest.raises(GatewayTimeout):
        gateway.pay("T1", code(0), 700, "")
    assert gateway.pay("T2", code(0), 700, "").status == "succeeded"
    with pytest.raises(ValueError):
        gateway.tell(code(0), "explode")  # type: ignore[arg-type]


def test_pay_is_idempotent_by_trade_number() -> None:
    gateway = SimulatorGateway()
    first = gateway.pay("T1", code(1), 700, "")
    assert gateway.pay("T1", code(1), 700, "") == first
    # After a timeout with the money taken, paying the same number again does not charge again.
    with pytest.raises(GatewayTimeout):
        gateway.pay("T2", code(8), 500, "")
    assert gateway.pay("T2", code(8), 500, "").status == "succeeded"


def test_a_reversed_number_cannot_be_paid_late() -> None:
    gateway = SimulatorGateway()
    assert gateway.reverse("T1").status == "succeeded"  # the pay never arrived
    assert gateway.pay("T1", code(1), 700, "").status == "failed"


def test_refunds_are_idempotent_by_refund_number_and_capped() -> None:
    gateway = SimulatorGateway()
    gateway.pay("T1", code(1), 1000, "")
    first = gateway.refund("T1", "R1", 600)
    assert first.status == "succeeded" and first.gateway_ref
    assert gateway.refund("T1", "R1", 600) == first  # the same refund again: once
    assert gateway.refunded("T1") == 600
    assert gateway.refund("T1", "R1", 500).status == "failed"  # the number, another amount
    assert gateway.refund("T1", "R2", 500).code == "REFUND_EXCEEDED"  # more than is left
    assert gateway.refund("T1", "R2", 400).status == "succeeded"
    assert gateway.refunded("T1") == 1000
    assert gateway.reverse("T1").status == "failed"  # refunded trades are not reversed


def test_the_digit_table_and_the_factory() -> None:
    assert BY_LAST_DIGIT == {
        "6": "decline", "7": "password", "8": "timeout_paid", "9": "timeout_lost",
    }  # fmt: skip
    assert isinstance(make_gateway("simulator"), SimulatorGateway)
    assert process_gateway("simulator") is process_gateway("simulator")
    with pytest.raises(ValueError):
        make_gateway("paypal")
