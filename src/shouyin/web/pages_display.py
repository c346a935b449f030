"""The customer display (副屏 / 客显): a second window of the till, on the till PC's second screen.

The page is served once; from then on the till sends it what to show over a BroadcastChannel
in the same browser (static/till_display.js -> static/display.js), so the display keeps working
offline and asks the server for nothing. The shop's payment QR (setting `display_pay_qr`) is
drawn here as SVG, into the page, so it needs no request either.
"""

from __future__ import annotations

import re
from typing import Annotated

import qrcode  # type: ignore[import-untyped]
import qrcode.image.svg  # type: ignore[import-untyped]
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb
from shouyin.errors import NotFound
from shouyin.stores import service as stores
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Seller = Annotated[Principal, Depends(require("sales.sell"))]

# A payment link or a shop's WeChat/Alipay code is well under this; a QR code of much more
# text has modules too small to scan from a screen.
MAX_QR_TEXT = 500
# The XML prolog and the fixed size in millimetres: the page sizes the code with CSS.
_SVG_PROLOG = re.compile(r"^<\?xml[^>]*\?>\s*")
_SVG_SIZE = re.compile(r'^<svg width="[^"]*" height="[^"]*"')


def qr_svg(text: str) -> str:
    """`text` as a QR code: an inline <svg> element, black on white, sized by its container."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
        image_factory=qrcode.image.svg.SvgPathFillImage,
    )
    code.add_data(text)
    code.make(fit=True)
    svg: str = code.make_image().to_string(encoding="unicode")
    svg = _SVG_PROLOG.sub("", svg)
    return _SVG_SIZE.sub('<svg class="qr-svg" role="img"', svg)


@router.get("/till/display")
def display_page(
    request: Request,
    principal: Seller,
    db: ReadDb,
    register_id: Annotated[int, Query(ge=1, le=ID_MAX)],
) -> Response:
    register = stores.get_register(db, register_id=register_id)
    principal.require_store(register.store_id)
    if not register.active:
        raise NotFound("No such register.", code="register.not_found")
    store = stores.get_store(db, store_id=register.store_id)
    settings = request.app.state.settings
    pay_qr = settings.display_pay_qr
    return render(
        request,
        "till/display.html",
        {
            "store": store,
            "register": register,
            "message": settings.display_message,
            "pay_qr_svg": qr_svg(pay_qr) if pay_qr else "",
        },
    )


@router.get("/till/display/qr.svg")
def display_qr(
    _principal: Seller,
    text: Annotated[str, Query(min_length=1, max_length=MAX_QR_TEXT)],
) -> Response:
    """Any short text as a QR code, e.g. a payment link made for one sale."""
    return Response(
        qr_svg(text),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, max-age=3600"},
    )
