"""Pure rules for member data: mobile numbers, names, birthdays, card numbers. No database."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from shouyin.catalog.pinyin import pinyin_of
from shouyin.errors import ValidationFailed

CARD_PREFIX = "9"
CARD_LENGTH = 12  # prefix + 10 random digits + Luhn check digit
_SPACES = re.compile(r"\s+")


def normalise_mobile(text: str) -> str:
    """A Chinese mobile number as its 11 national digits ("+86 138-1234-5678" -> "13812345678")."""
    try:
        number = phonenumbers.parse(text.strip(), "CN")
    except NumberParseException:
        number = None
    valid = (
        number is not None
        and number.country_code == 86
        and phonenumbers.is_valid_number(number)
        and phonenumbers.number_type(number)
        in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
    )
    if not valid or number is None:
        raise ValidationFailed(
            "{mobile} is not a valid Chinese mobile number.",
            code="member.mobile_invalid",
            details={"mobile": text[:32]},
        )
    return str(number.national_number)


def mask_mobile(mobile: str) -> str:
    """138****5678: enough for the customer to recognise, too little to call."""
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 7 else "****"


def normalise_name(text: str) -> str:
    name = _SPACES.sub(" ", text.strip())
    if not name or len(name) > 60:
        raise ValidationFailed(
            "A member needs a name of 1 to 60 characters.", code="member.name_invalid"
        )
    return name


def name_key(name: str) -> str:
    """What a name is matched on: spaces removed, Latin letters lower-cased."""
    return name.replace(" ", "").lower()


def initials_of(name: str) -> str:
    return pinyin_of(name)[1].replace(" ", "")


def check_birthday(birthday: date, today: date) -> date:
    if birthday > today or birthday.year < 1900:
        raise ValidationFailed(
            "The birthday {birthday} is not possible.",
            code="member.birthday_invalid",
            details={"birthday": birthday.isoformat()},
        )
    return birthday


def age_on(birthday: date, today: date) -> int:
    had_birthday = (today.month, today.day) >= (birthday.month, birthday.day)
    return today.year - birthday.year - (0 if had_birthday else 1)


def luhn_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return str((10 - total % 10) % 10)


def new_card_number() -> str:
    body = CARD_PREFIX + "".join(str(secrets.randbelow(10)) for _ in range(CARD_LENGTH - 2))
    return body + luhn_digit(body)


def is_card_number(text: str) -> bool:
    return (
        len(text) == CARD_LENGTH
        and text.isascii()
        and text.isdigit()
        and text.startswith(CARD_PREFIX)
        and luhn_digit(text[:-1]) == text[-1]
    )


def clean_query(query: str) -> str:
    """Full-width digits and letters (from a Chinese input method) as plain ASCII."""
    return unicodedata.normalize("NFKC", query).strip().replace(" ", "").replace("-", "")


def lookup_kind(query: str) -> str:
    """What a cashier typed: a card, a mobile, its last 4 digits, initials or a name."""
    text = clean_query(query)
    if text.isdigit() and not text.isascii():
        return "name"  # digits no cashier types (superscripts and the like): matches nothing
    if is_card_number(text):
        return "card"
    if text.isdigit() and len(text) == 4:
        return "last4"
    if text.lstrip("+").isdigit() and len(text) >= 11:
        return "mobile"
    if text.isdigit():
        return "card"  # a card number kept from another system (6 to 20 digits)
    if text.isascii() and text.isalpha():
        return "initials"
    return "name"
