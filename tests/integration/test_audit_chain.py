"""The audit log is a hash chain: edits and deletions anywhere are detected."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.audit.models import AuditEntry


def _fill(session: Session, count: int = 4) -> list[AuditEntry]:
    return [
        audit.record(
            session,
            actor=None,
            action="test.event",
            entity="thing",
            entity_id=i,
            before={"n": i},
            after={"n": i + 1, "名": "张三"},
        )
        for i in range(count)
    ]


def test_untouched_chain_verifies(session: Session) -> None:
    _fill(session)
    result = audit.verify(session)
    assert result.ok and result.checked == 4


def test_edited_row_is_detected(session: Session) -> None:
    entries = _fill(session)
    session.execute(
        update(AuditEntry).where(AuditEntry.id == entries[1].id).values(after={"n": 99})
    )
    session.expire_all()
    result = audit.verify(session)
    assert not result.ok and result.entry_id == entries[1].id and "edited" in (result.problem or "")


def test_deleted_middle_row_is_detected(session: Session) -> None:
    entries = _fill(session)
    session.execute(delete(AuditEntry).where(AuditEntry.id == entries[2].id))
    result = audit.verify(session)
    assert not result.ok and result.entry_id == entries[3].id


def test_deleted_newest_row_is_detected(session: Session) -> None:
    entries = _fill(session)
    session.execute(delete(AuditEntry).where(AuditEntry.id == entries[-1].id))
    assert not audit.verify(session).ok


def test_changed_actor_is_detected(session: Session) -> None:
    entries = _fill(session)
    session.execute(
        update(AuditEntry).where(AuditEntry.id == entries[0].id).values(actor="someone")
    )
    session.expire_all()
    assert not audit.verify(session).ok
