"""Helpers shared by the back-office pages: parsing form and query text, labels, errors."""

from __future__ import annotations

import math
import re
import uuid
from datetime import date
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from shouyin.errors import DomainError, ValidationFailed
from shouyin.shared import i18n
from shouyin.web.params import ID_MAX
from shouyin.web.templating import request_language

PAGE_SIZE = 50
Model = TypeVar("Model", bound=BaseModel)
_HH_MM = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", re.ASCII)
# Not str.isdigit(): "²" is a digit to it and int("²") fails; "+-5" passes a lstrip("+-").
_WHOLE = re.compile(r"[+-]?[0-9]{1,9}", re.ASCII)
# Days of validity windows: beyond these years a date is a typo, and the day after it or its
# start in a time zone could leave the range of datetime.
FIRST_YEAR, LAST_YEAR = 1970, 2999


def _(text: str) -> str:
    """Marks a message for translation where it is defined; templates translate it."""
    return text


ROLE_LABELS = {
    "cashier": _("Cashier"),
    "store_manager": _("Store manager"),
    "hq_marketer": _("HQ marketer"),
    "hq_admin": _("HQ admin"),
    "auditor": _("Auditor"),
}
ROUNDING_LABELS = {
    "none": _("No rounding"),
    "jiao": _("Round down to the jiao"),
    "yuan": _("Round down to the yuan"),
}
STATUS_LABELS = {
    "completed": _("Completed"),
    "voided": _("Voided"),
    "refunded": _("Refunded"),
    "partially_refunded": _("Partly refunded"),
}
# Shown when a form value fails its schema and the field has no message of its own.
GENERIC_INVALID = _("The value of {field} is not valid.")


def is_htmx(request: Request) -> bool:
    return "hx-request" in request.headers


def error_of(request: Request, exc: DomainError) -> dict[str, Any]:
    """A domain error as the templates show it, in the reader's language."""
    message = i18n.translate_error(request_language(request), exc.template, exc.details)
    return {"code": exc.code, "message": message}


def parse_id(text: str) -> int | None:
    """An id from a select or query string; blank or nonsense means "none chosen"."""
    text = text.strip()
    # isascii: "①".isdigit() is true, but int("①") fails.
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= ID_MAX else None


def parse_day(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            "A date is written as YYYY-MM-DD, for example 2024-05-01.",
            code="office.date_invalid",
            details={"value": text},
        ) from None


def parse_window_day(text: str, *, code: str) -> date | None:
    """A first or last day of a validity window, from 1970 to 2999; blank means none."""
    day = parse_day(text)
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationFailed(
            "Choose a date from 1970 to 2999.", code=code, details={"value": text.strip()}
        )
    return day


def parse_whole(text: str) -> int | None:
    """A whole number as typed (a sign and at most 9 digits), or None for anything else."""
    text = text.strip()
    return int(text) if _WHOLE.fullmatch(text) else None


def parse_cutoff(text: str) -> int:
    """The day cut-off as typed (HH:MM) in minutes after midnight."""
    match = _HH_MM.fullmatch(text.strip())
    if match is None:
        raise ValidationFailed(
            "The day cut-off is a time from 00:00 to 23:59.",
            code="store.cutoff_invalid",
            details={"value": text},
        )
    return int(match.group(1)) * 60 + int(match.group(2))


def format_cutoff(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def page_count(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


def validated(
    model: type[Model], data: dict[str, Any], messages: dict[str, tuple[str, str]]
) -> Model:
    """Build a schema from form values; the first bad field becomes a readable error."""
    try:
        return model(**data)
    except ValidationError as exc:
        loc = exc.errors()[0].get("loc", ())
        field = str(loc[0]) if loc else ""
        message, code = messages.get(field, (GENERIC_INVALID, "form.invalid"))
        raise ValidationFailed(message, code=code, details={"field": field}) from None


def form_uuid(text: str) -> str:
    """The form's client UUID (kept over a resubmission, so a double click makes one
    document), or a new one when the form had none."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return str(uuid.uuid4())
