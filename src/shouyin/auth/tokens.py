"""Opaque secrets for sessions and API tokens, and the CSRF token bound to a session."""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_TOKEN_PREFIX = "sy_"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_for(session_secret: str, key: str) -> str:
    """Derived from the session cookie, so it needs no storage and dies with the session."""
    return hmac.new(key.encode(), b"csrf:" + session_secret.encode(), "sha256").hexdigest()[:40]


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
