"""The payment gateway behind payment codes (付款码): one interface, a simulator by default.

A real provider (WeChat Pay 付款码支付, Alipay 当面付) implements :class:`Gateway` with the
same four calls; the services in ``payment_*.py`` never sees more than these results.
Every call is idempotent by our numbers: ``trade_no`` for pay/query/reverse and
``refund_no`` for refunds, so repeating a call after a lost answer is always safe.

The simulator keeps its own book of trades (like the provider's servers do): after a
timeout, ``query`` tells the truth about whether the money moved. What it does with a code
is chosen by :meth:`SimulatorGateway.tell` (tests) or, so a person can try every case at the
demo till, by the code's last digit (see docs/payments.md):

    0-5 succeed · 6 decline (余额不足) · 7 ask for the password (succeeds on the 2nd query)
    8 time out, money taken · 9 time out, nothing taken, queries answer "unknown"
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Literal, Protocol

Status = Literal["succeeded", "failed", "waiting", "unknown"]
Outcome = Literal["succeed", "decline", "password", "timeout_paid", "timeout_lost"]
OUTCOMES: tuple[Outcome, ...] = ("succeed", "decline", "password", "timeout_paid", "timeout_lost")
BY_LAST_DIGIT: dict[str, Outcome] = {
    "6": "decline",
    "7": "password",
    "8": "timeout_paid",
    "9": "timeout_lost",
}
# A customer asked for a password has confirmed by the time of this query.
PASSWORD_QUERIES = 2


@dataclass(frozen=True)
class Result:
    """A gateway's answer: succeeded, failed (with its message), waiting (the customer is
    entering a password) or unknown (the gateway cannot say yet)."""

    status: Status
    message: str | None = None
    gateway_ref: str | None = None  # the provider's transaction or refund id
    # Why a call failed, as the provider's error code (e.g. NOTENOUGH): what is stored and
    # translated for the till, while ``message`` is the provider's own text.
    code: str | None = None


class GatewayTimeout(Exception):
    """The call got no answer: the money may or may not have moved; ask with ``query``."""


class Gateway(Protocol):
    name: str
    # Seconds between the queries that follow a timeout (a real provider wants a pause).
    query_pause: float

    def pay(self, trade_no: str, auth_code: str, amount: int, description: str) -> Result: ...

    def query(self, trade_no: str) -> Result: ...

    def reverse(self, trade_no: str) -> Result:
        """Cancel the trade: refunds it if it had been paid; nothing can pay it afterwards."""
        ...

    def refund(self, trade_no: str, refund_no: str, amount: int) -> Result: ...


TradeState = Literal["paid", "waiting", "failed", "lost", "reversed"]


@dataclass
class _Trade:
    amount: int
    state: TradeState
    ref: str
    message: str | None = None
    code: str | None = None
    queries: int = 0
    refunds: dict[str, int] = field(default_factory=dict)  # refund_no -> fen

    @property
    def refunded(self) -> int:
        return sum(self.refunds.values())


class SimulatorGateway:
    """A gateway in memory, one per process, that does what it is told (see the module)."""

    name = "simulator"
    query_pause = 0.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trades: dict[str, _Trade] = {}
        self._told: dict[str, Outcome] = {}
        self._refund_ids: dict[str, str] = {}  # refund_no -> the refund id answered

    def tell(self, auth_code: str, outcome: Outcome) -> None:
        """What to do when this code is charged next (instead of its last digit's rule)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        with self._lock:
            self._told[auth_code] = outcome

    def outcome_for(self, auth_code: str) -> Outcome:
        return self._told.get(auth_code) or BY_LAST_DIGIT.get(auth_code[-1:], "succeed")

    def pay(self, trade_no: str, auth_code: str, amount: int, description: str) -> Result:
        with self._lock:
            trade = self._trades.get(trade_no)
            if trade is not None:
                # The same trade again (a retry): its state, never a second charge.
                return _answer(trade)
            outcome = self._told.pop(auth_code, None) or self.outcome_for(auth_code)
            trade = _Trade(amount=amount, state="paid", ref=_ref("SIM"))
            self._trades[trade_no] = trade
            if outcome == "decline":
                trade.state, trade.message, trade.code = "failed", "余额不足", "NOTENOUGH"
            elif outcome == "password":
                trade.state = "waiting"
            elif outcome == "timeout_lost":
                trade.state = "lost"
            if outcome in ("timeout_paid", "timeout_lost"):
                raise GatewayTimeout(trade_no)
            return _answer(trade)

    def query(self, trade_no: str) -> Result:
        with self._lock:
            trade = self._trades.get(trade_no)
            if trade is None:
                return Result("unknown", "交易不存在")
            if trade.state == "waiting":
                trade.queries += 1
                if trade.queries >= PASSWORD_QUERIES:
                    trade.state = "paid"
            return _answer(trade)

    def reverse(self, trade_no: str) -> Result:
        with self._lock:
            trade = self._trades.get(trade_no)
            if trade is None:
                # Closed before it ever arrived: a late pay of this number is refused.
                self._trades[trade_no] = _Trade(amount=0, state="reversed", ref=_ref("SIM"))
            elif trade.refunds:
                return Result("failed", "交易已退款，不能撤销", code="REVERSE_EXPIRED")
            else:
                trade.state = "reversed"
            return Result("succeeded", None, self._trades[trade_no].ref)

    def refund(self, trade_no: str, refund_no: str, amount: int) -> Result:
        with self._lock:
            trade = self._trades.get(trade_no)
            if trade is None or trade.state != "paid":
                return Result("failed", "交易未支付", code="TRADE_NOT_PAID")
            if refund_no in trade.refunds:
                if trade.refunds[refund_no] != amount:
                    return Result("failed", "退款单号已用于另一金额", code="INVALID_REQUEST")
                return Result("succeeded", None, self._refund_ids[refund_no])
            if amount <= 0 or trade.refunded + amount > trade.amount:
                return Result("failed", "退款金额超过可退金额", code="REFUND_EXCEEDED")
            trade.refunds[refund_no] = amount
            self._refund_ids[refund_no] = _ref("SIMR")
            return Result("succeeded", None, self._refund_ids[refund_no])

    def refunded(self, trade_no: str) -> int:
        """What the gateway has refunded of a trade (for tests and the demo)."""
        with self._lock:
            trade = self._trades.get(trade_no)
            return trade.refunded if trade else 0

    def state(self, trade_no: str) -> TradeState | None:
        with self._lock:
            trade = self._trades.get(trade_no)
            return trade.state if trade else None


def _answer(trade: _Trade) -> Result:
    if trade.state == "paid":
        return Result("succeeded", None, trade.ref)
    if trade.state == "failed":
        return Result("failed", trade.message, code=trade.code)
    if trade.state == "waiting":
        return Result("waiting", "用户支付中，需要输入密码")
    if trade.state == "reversed":
        return Result("failed", "交易已撤销", code="TRADE_REVOKED")
    return Result("unknown", "系统繁忙")


def _ref(prefix: str) -> str:
    return prefix + secrets.token_hex(10).upper()


_PROCESS: dict[str, Gateway] = {}
_PROCESS_LOCK = threading.Lock()


def make_gateway(name: str) -> Gateway:
    """A new gateway by its setting's name; a real provider adds its name here."""
    if name == "simulator":
        return SimulatorGateway()
    raise ValueError(f"unknown payment gateway {name!r}")


def process_gateway(name: str = "simulator") -> Gateway:
    """The one gateway of this process: the simulator's book of trades must outlive requests."""
    with _PROCESS_LOCK:
        if name not in _PROCESS:
            _PROCESS[name] = make_gateway(name)
        return _PROCESS[name]
