"""Signed survey links for the QR code on a receipt.

A token names the order and the day it was issued, and carries an HMAC-SHA256 of both under
a key derived from the app secret: nobody can make one for another order or stretch its life.
It holds nothing about the member -- a receipt left on the counter reveals no one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import date, timedelta

from shouyin.config import Settings
from shouyin.errors import DomainError, NotFound
from shouyin.shared.clock import utcnow

# Days are counted from this date: a small number keeps the token (and the QR code) short.
_EPOCH = date(2020, 1, 1)
_MAC_BYTES = 16  # 128 bits: far beyond guessing, and still a small QR code
_ID_MAX = 2**31 - 1


def _key(secret: str) -> bytes:
    # Its own key, so a survey MAC can never be replayed as another signature of the app.
    return hashlib.sha256(b"shouyin.survey.v1:" + secret.encode()).digest()


def _mac(body: bytes, secret: str) -> bytes:
    return hmac.new(_key(secret), body, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def survey_token(order_id: int, *, secret: str, issued: date | None = None) -> str:
    """``<order id>.<day number>.<mac>``, URL-safe (base64url for the MAC)."""
    if not 1 <= order_id <= _ID_MAX:
        raise ValueError(f"not an order id: {order_id}")
    day = (issued or utcnow().date()) - _EPOCH
    body = f"{order_id}.{day.days}"
    return f"{body}.{_b64(_mac(body.encode(), secret))}"


def read_survey_token(
    token: str, *, secret: str, max_age_days: int = 30, today: date | None = None
) -> int:
    """The order id of a genuine, unexpired token; a forged or expired one is refused."""
    order_id, issued = _verified(token, secret)
    age = ((today or utcnow().date()) - issued).days
    if age > max_age_days:
        raise DomainError("This survey link has expired.", code="survey.expired", status=410)
    return order_id


def _verified(token: str, secret: str) -> tuple[int, date]:
    invalid = NotFound("This survey link is not valid.", code="survey.invalid")
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts[:2]):
        raise invalid
    try:
        mac = _unb64(parts[2])
    except (binascii.Error, ValueError):
        raise invalid from None
    body = f"{parts[0]}.{parts[1]}"
    if len(parts[0]) > 10 or len(parts[1]) > 6:
        raise invalid
    if not hmac.compare_digest(mac, _mac(body.encode(), secret)):
        raise invalid
    order_id = int(parts[0])
    if not 1 <= order_id <= _ID_MAX:
        raise invalid
    return order_id, _EPOCH + timedelta(days=int(parts[1]))


def survey_url(order_id: int, settings: Settings) -> str:
    """The link in the receipt's QR code: ``{base_url}/s/{token}``."""
    token = survey_token(order_id, secret=settings.resolved_secret())
    return f"{settings.base_url()}/s/{token}"
