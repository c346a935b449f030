"""Payment codes (付款码): the code format rule (pure) and the REST schemas."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shouyin.errors import ValidationFailed

CodeMethod = Literal["wechat", "alipay"]
MAX_FEN = 100_000_000
ID = Field(ge=1, le=2**31 - 1, strict=True)
# WeChat Pay: 18 digits starting 10-15. Alipay: 16-24 digits starting 25-30.
WECHAT = re.compile(r"1[0-5][0-9]{16}")
ALIPAY = re.compile(r"(2[5-9]|30)[0-9]{14,22}")


def code_method(code: str) -> CodeMethod:
    """Which wallet a code scanned from the customer's phone belongs to; 422 when neither."""
    if WECHAT.fullmatch(code):
        return "wechat"
    if ALIPAY.fullmatch(code):
        return "alipay"
    raise ValidationFailed(
        "This is not a WeChat Pay code (18 digits starting 10-15) or an Alipay code "
        "(16-24 digits starting 25-30). Ask the customer to show the payment code again.",
        code="payment_code.invalid",
    )


def code_tail(code: str) -> str:
    """The last four digits: all that is kept of a code (it is a one-time bearer token)."""
    return code[-4:]


class PaymentCodeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_uuid: UUID  # a retry with the same UUID returns the same attempt: one charge
    store_id: int = ID
    register_id: int = ID
    code: str = Field(min_length=1, max_length=40)
    amount: int = Field(ge=1, le=MAX_FEN, strict=True)


class PaymentAttemptPublic(BaseModel):
    id: int
    client_uuid: str
    trade_no: str  # the reference a wechat/alipay tender of the order carries
    store_id: int
    register_id: int | None
    method: str
    code_tail: str
    amount: int
    # pending and waiting are passing states; reversing is on its way to reversed;
    # succeeded, failed and reversed are final.
    status: str
    # Why it ended so: reversed -> not_confirmed, cancelled, recovered, unclaimed; succeeded
    # after a timeout -> checked_after_timeout; failed -> the decline's text in the reader's
    # language (its gateway code is in ``reason``).
    message: str | None
    reason: str | None = None  # the stored code behind ``message``
    order_id: int | None
    refunded: int
    created_at: datetime
    updated_at: datetime
    # How long the till waits for a customer asked for a password before it gives up.
    wait_seconds: int = 0
