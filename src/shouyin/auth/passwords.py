"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shouyin.errors import ValidationFailed

_hasher = PasswordHasher()
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(
            "A password needs at least {length} characters.",
            code="user.password_weak",
            details={"length": MIN_LENGTH},
        )


# Hashing a password nobody has keeps a failed login for an unknown user as slow as a
# failed login for a known one, so timing does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def burn_time(password: str) -> None:
    verify_password(_DUMMY_HASH, password)
