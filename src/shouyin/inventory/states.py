"""Document state changes (draft → sent → received, counting → posted ...) as one conditional
UPDATE: of two concurrent requests for the same change, exactly one makes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from shouyin.errors import DomainError


def move_status(
    session: Session, document: Any, before: str, after: str,
    wrong_state: Callable[[str], DomainError], **values: Any,
) -> None:  # fmt: skip
    """Set ``document``'s status from ``before`` to ``after`` (and ``values``), or raise
    ``wrong_state(current status)`` when another request moved it first."""
    model = type(document)
    result = session.execute(
        update(model)
        .where(model.id == document.id, model.status == before)
        .values(status=after, **values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(document)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise wrong_state(document.status)
