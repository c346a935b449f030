"""Complaint deadlines: hours to first response and to resolution per priority.

CONTRACT (the SLA helper completes the business-hours part; callers rely on this signature):
``deadlines_for(session, *, store_id, priority, start, settings) -> (respond_by, resolve_by)``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shouyin.config import Settings
from shouyin.errors import ValidationFailed

PRIORITIES = ("urgent", "high", "normal")


def parse_deadlines(text: str) -> dict[str, tuple[int, int]]:
    """``"urgent=1/24,high=4/48,normal=24/72"`` -> {"urgent": (1, 24), ...} (hours)."""
    found: dict[str, tuple[int, int]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        respond, _, resolve = value.partition("/")
        if name.strip() not in PRIORITIES or not respond.isdigit() or not resolve.isdigit():
            raise ValueError(f"not a deadline: {part!r}")
        found[name.strip()] = (int(respond), int(resolve))
    if set(found) != set(PRIORITIES):
        raise ValueError(f"deadlines needed for {', '.join(PRIORITIES)}")
    return found


def deadlines_for(
    session: Session, *, store_id: int, priority: str, start: datetime, settings: Settings
) -> tuple[datetime, datetime]:
    if priority not in PRIORITIES:
        raise ValidationFailed(
            "Priority must be urgent, high or normal.", code="ticket.priority_invalid"
        )
    respond, resolve = parse_deadlines(settings.complaint_deadlines)[priority]
    # Calendar hours for now; business hours replace this (store opening hours, closed days).
    return start + timedelta(hours=respond), start + timedelta(hours=resolve)
