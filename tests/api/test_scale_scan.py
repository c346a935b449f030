"""Scale labels at the till's scan: the product and the grams, ordinary barcodes unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from shouyin.catalog.models import Barcode
from shouyin.catalog.scale import ScaleLayout
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
WEIGHT = ScaleLayout.parse("FF PPPPP VVVVV C", "weight", "20-29")
PRICE = ScaleLayout.parse("FF PPPPP VVVVV C", "price", "20-29")
SOAP = "6901234567892"


def _shop(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        store = factories.make_store(session)
        bananas = factories.make_product(session, price=598, weighed=True, name="香蕉")
        beef = factories.make_product(session, price=8800, weighed=True, name="牛腱子")
        soap = factories.make_product(session, price=450, name="肥皂", barcode=SOAP)
        bananas.sku, beef.sku, soap.sku = "00123", "456", "00789"
        # An in-store code in 20-29 that a shop gave its own goods stays that product's.
        session.add(Barcode(code=WEIGHT.compose("20", "00123", 1), product_id=soap.id))
        session.flush()
        return {"store": store, "bananas": bananas, "beef": beef, "soap": soap}

    shop: dict[str, Any] = harness.write(build)
    shop["client"] = harness.client(harness.user("cashier", shop["store"]))
    return shop


def _use(harness: AppHarness, **settings: str) -> None:
    harness.app.state.settings = harness.app.state.settings.model_copy(update=settings)


def _scan(shop: dict[str, Any], code: str) -> Any:
    return shop["client"].get("/api/v1/products/lookup", params={"code": code})


@BOTH
def test_a_weight_label_gives_the_product_and_its_grams(harness: AppHarness) -> None:
    shop = _shop(harness)
    found = _scan(shop, WEIGHT.compose("22", "00123", 532))
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["from_scale"] is True
    assert (body["product"]["id"], body["quantity_grams"]) == (shop["bananas"].id, 532)
    assert (body["plu"], body["value_kind"], body["printed_price"]) == ("00123", "weight", None)
    # The PLU is the SKU as printed, or the scale's number without its leading zeros.
    beef = _scan(shop, WEIGHT.compose("27", "00456", 1250)).json()
    assert (beef["product"]["id"], beef["quantity_grams"]) == (shop["beef"].id, 1250)


@BOTH
def test_ordinary_barcodes_and_registered_in_store_codes_are_unchanged(
    harness: AppHarness,
) -> None:
    shop = _shop(harness)
    soap = shop["soap"]
    plain = _scan(shop, SOAP)
    in_store = _scan(shop, WEIGHT.compose("20", "00123", 1))
    for response in (plain, in_store, _scan(shop, "00789")):
        assert response.status_code == 200, response.text
        assert "from_scale" not in response.json()
        assert response.json()["id"] == soap.id


@BOTH
def test_a_price_label_sells_the_grams_that_come_to_its_price(harness: AppHarness) -> None:
    shop = _shop(harness)
    _use(harness, scale_value="price")
    # The scale weighed 537 g of beef at 88.00/kg and printed 47.26 yuan.
    found = _scan(shop, PRICE.compose("23", "00456", 4726))
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["quantity_grams"], body["printed_price"]) == (537, 4726)
    quote = shop["client"].post(
        "/api/v1/orders/quote",
        json={"store_id": shop["store"].id,
              "lines": [{"product_id": shop["beef"].id, "quantity": body["quantity_grams"]}]},
    )  # fmt: skip
    assert quote.status_code == 200, quote.text
    assert quote.json()["subtotal"] == 4726


@BOTH
def test_bad_labels_are_refused_with_codes(harness: AppHarness) -> None:
    shop = _shop(harness)
    good = WEIGHT.compose("22", "00123", 532)
    misread = good[:-1] + str((int(good[-1]) + 1) % 10)
    cases = {
        misread: (422, "scale.check_digit_invalid"),
        WEIGHT.compose("22", "00789", 532): (422, "scale.product_not_weighed"),
        WEIGHT.compose("22", "99999", 532): (404, "scale.plu_unknown"),
        WEIGHT.compose("22", "00123", 0): (422, "scale.value_zero"),
    }
    for code, (status, error) in cases.items():
        response = _scan(shop, code)
        assert (response.status_code, response.json()["code"]) == (status, error), code
    chinese = _scan(shop, WEIGHT.compose("22", "00789", 532)).json()["message"]
    assert chinese == "肥皂 不是称重商品，不能使用电子秤条码。"


def test_a_scale_for_another_layout_or_none(harness: AppHarness) -> None:
    shop = _shop(harness)
    # 2, a 6-digit PLU, the weight, check: prefix "2" and flag digits are part of the PLU.
    _use(harness, scale_layout="F PPPPPP VVVVV C", scale_prefixes="2")
    layout = ScaleLayout.parse("F PPPPPP VVVVV C", "weight", "2")
    body = _scan(shop, layout.compose("2", "000456", 250)).json()
    assert (body["product"]["id"], body["quantity_grams"]) == (shop["beef"].id, 250)
    _use(harness, scale_layout="off")
    off = _scan(shop, WEIGHT.compose("22", "00123", 532))
    assert (off.status_code, off.json()["code"]) == (404, "catalog.code_unknown")
