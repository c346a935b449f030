"""The payment code format: WeChat 18 digits starting 10-15, Alipay 16-24 starting 25-30."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shouyin.errors import ValidationFailed
from shouyin.sales.payment_schemas import code_method, code_tail
from shouyin.sales.tender import CARD_REFERENCE

digits = st.text(alphabet="0123456789", min_size=0, max_size=30)


def expected(code: str) -> str | None:
    """The rule written out again, plainly, to check the regular expressions against."""
    if not code.isascii() or not code.isdigit():
        return None
    head = int(code[:2]) if len(code) >= 2 else -1
    if len(code) == 18 and 10 <= head <= 15:
        return "wechat"
    if 16 <= len(code) <= 24 and 25 <= head <= 30:
        return "alipay"
    return None


@pytest.mark.parametrize(
    ("code", "method"),
    [("101234567890123456", "wechat"), ("154567890123456789", "wechat"),
     ("2512345678901234", "alipay"), ("300000000000000000000000", "alipay"),
     ("281234567890123456", "alipay")],
)  # fmt: skip
def test_known_codes(code: str, method: str) -> None:
    assert code_method(code) == method
    assert code_tail(code) == code[-4:]


@pytest.mark.parametrize(
    "code",
    ["", "1012345678901234567", "10123456789012345", "161234567890123456",
     "0912345678901234567", "251234567890123", "3012345678901234567890123",
     "311234567890123456", "241234567890123456", "13456789012345678x",
     "１３４５６７８９０１２３４５６７８９", "6901234567892"],
)  # fmt: skip
def test_malformed_codes_say_why(code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        code_method(code)
    assert caught.value.code == "payment_code.invalid"
    assert "18 digits" in caught.value.message and "16-24 digits" in caught.value.message


@given(st.one_of(digits, st.text(max_size=30)))
def test_the_rule_holds_for_any_text(code: str) -> None:
    want = expected(code)
    if want is None:
        with pytest.raises(ValidationFailed):
            code_method(code)
    else:
        assert code_method(code) == want


@given(st.integers(10, 15), st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_every_wechat_code_is_wechat(head: int, rest: str) -> None:
    assert code_method(f"{head}{rest}") == "wechat"


@given(st.integers(25, 30), st.text(alphabet="0123456789", min_size=14, max_size=22))
def test_every_alipay_code_is_alipay(head: int, rest: str) -> None:
    assert code_method(f"{head}{rest}") == "alipay"


@given(st.text(alphabet="0123456789", min_size=1, max_size=14))
def test_product_barcodes_are_never_payment_codes(code: str) -> None:
    # EAN-13 and shorter: the till can tell a product from a payment code by length alone.
    with pytest.raises(ValidationFailed):
        code_method(code)


def test_card_references() -> None:
    for good in ("T123", "000123456789", "A" * 32):
        assert CARD_REFERENCE.fullmatch(good)
    for bad in ("", "T12", "12-3456", "A" * 33, "参考号1234"):
        assert not CARD_REFERENCE.fullmatch(bad)
