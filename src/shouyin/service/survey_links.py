"""Signed survey links for the QR code on a receipt, and for a complaint's follow-up question.

A token names the order (or the ticket) and the day it was issued, and carries an HMAC-SHA256
of both under a key derived from the app secret: nobody can make one for another order or
stretch its life. It holds nothing about the member -- a receipt left on the counter reveals
no one. Survey and follow-up tokens are signed under keys of different purposes, so one can
never be passed off as the other (order 7's survey token is not ticket 7's follow-up token).
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


# Key purposes: each kind of token has its own key, so a survey MAC can never be replayed as
# a follow-up token or as any other signature of the app.
SURVEY = b"shouyin.survey.v1:"
FOLLOW_UP = b"shouyin.survey.follow-up.v1:"


def _key(secret: str, purpose: bytes) -> bytes:
    return hashlib.sha256(purpose + secret.encode()).digest()


def _mac(body: bytes, secret: str, purpose: bytes = SURVEY) -> bytes:
    return hmac.new(_key(secret, purpose), body, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _token(entity_id: int, secret: str, issued: date | None, purpose: bytes) -> str:
    if not 1 <= entity_id <= _ID_MAX:
        raise ValueError(f"not an id: {entity_id}")
    day = (issued or utcnow().date()) - _EPOCH
    body = f"{entity_id}.{day.days}"
    return f"{body}.{_b64(_mac(body.encode(), secret, purpose))}"


def survey_token(order_id: int, *, secret: str, issued: date | None = None) -> str:
    """``<order id>.<day number>.<mac>``, URL-safe (base64url for the MAC)."""
    return _token(order_id, secret, issued, SURVEY)


def read_survey_token(
    token: str, *, secret: str, max_age_days: int = 30, today: date | None = None
) -> int:
    """The order id of a genuine, unexpired token; a forged or expired one is refused."""
    return _read(token, secret, max_age_days, today, SURVEY)


def follow_up_token(
    ticket_id: int, settings: Settings | None = None, *, secret: str | None = None,
    issued: date | None = None,
) -> str:  # fmt: skip
    """``<ticket id>.<day number>.<mac>`` under the follow-up key: the link sent to a member
    once their complaint is resolved. Signed with ``secret``, or the app's secret."""
    if secret is None:
        if settings is None:
            raise ValueError("follow_up_token needs the settings or a secret")
        secret = settings.resolved_secret()
    return _token(ticket_id, secret, issued, FOLLOW_UP)


def read_follow_up_token(
    token: str, *, secret: str, max_age_days: int = 30, today: date | None = None
) -> int:
    """The ticket id of a genuine, unexpired follow-up token; anything else is refused."""
    return _read(token, secret, max_age_days, today, FOLLOW_UP)


def _read(token: str, secret: str, max_age_days: int, today: date | None, purpose: bytes) -> int:
    entity_id, issued = _verified(token, secret, purpose)
    age = ((today or utcnow().date()) - issued).days
    if age > max_age_days:
        raise DomainError("This survey link has expired.", code="survey.expired", status=410)
    return entity_id


def _verified(token: str, secret: str, purpose: bytes) -> tuple[int, date]:
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
    if not hmac.compare_digest(mac, _mac(body.encode(), secret, purpose)):
        raise invalid
    entity_id = int(parts[0])
    if not 1 <= entity_id <= _ID_MAX:
        raise invalid
    return entity_id, _EPOCH + timedelta(days=int(parts[1]))


def survey_url(order_id: int, settings: Settings) -> str:
    """The link in the receipt's QR code: ``{base_url}/s/{token}``."""
    token = survey_token(order_id, secret=settings.resolved_secret())
    return f"{settings.base_url()}/s/{token}"


def follow_up_url(ticket_id: int, settings: Settings) -> str:
    """The follow-up question's link: ``{base_url}/s/f/{token}``."""
    return f"{settings.base_url()}/s/f/{follow_up_token(ticket_id, settings)}"
