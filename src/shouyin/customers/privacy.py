"""Export and erasure of members' personal data (PIPL): permission-checked and audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.customers import service
from shouyin.customers.crypto import FieldCipher
from shouyin.customers.models import Member, MemberTag
from shouyin.loyalty import service as loyalty
from shouyin.shared.clock import utcnow
from shouyin.shared.tabular import write_table

EXPORT_COLUMNS = (
    "card_no", "name", "mobile", "gender", "birthday", "email", "address", "source",
    "store_id", "tags", "marketing_opt_in", "created_at",
)  # fmt: skip
ERASED_NAME = "已注销会员"
BATCH = 1000


def export_members(
    session: Session, *, actor: Principal, cipher: FieldCipher, fmt: Literal["csv", "xlsx"],
    store_id: int | None = None, tag: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> bytes:  # fmt: skip
    """Full personal fields only for roles that may see them; masked otherwise."""
    actor.require("members.export")
    scope = actor.scope_store(store_id)
    personal = actor.can("members.personal")
    ids = _member_ids(session, store_id=scope, tag=tag)
    rows: list[list[str]] = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        members = session.scalars(select(Member).where(Member.id.in_(chunk)).order_by(Member.id))
        tags = service.tags_of(session, chunk)
        for member in members:
            profile = service.public(member, tags.get(member.id, []), cipher, personal=personal)
            rows.append([
                profile.card_no, profile.name, profile.mobile or profile.mobile_masked or "",
                profile.gender, profile.birthday.isoformat() if profile.birthday else "",
                profile.email or "", profile.address or "", profile.source,
                str(profile.store_id or ""), "|".join(profile.tags),
                "1" if profile.marketing_opt_in else "0", profile.created_at.isoformat(),
            ])  # fmt: skip
        if on_progress:
            on_progress(min(start + BATCH, len(ids)), len(ids))
    audit.record(
        session, actor=actor, action="member.export", entity="member",
        after={"rows": len(rows), "store_id": scope, "tag": tag, "format": fmt, "personal": personal},
    )  # fmt: skip
    return write_table(EXPORT_COLUMNS, rows, fmt=fmt, sheet="members")


def _member_ids(session: Session, *, store_id: int | None, tag: str | None) -> list[int]:
    query = select(Member.id).where(Member.status == "active").order_by(Member.id)
    if store_id is not None:
        query = query.where(Member.store_id == store_id)
    if tag:
        query = query.where(Member.id.in_(select(MemberTag.member_id).where(MemberTag.tag == tag)))
    return list(session.scalars(query))


def erase(session: Session, *, member_id: int, actor: Principal, cipher: FieldCipher) -> Member:
    """Remove the person, keep the books: orders stay, linked to a member with no identity.

    Refused (``member.erase_balance``) while the member holds stored-value principal; points,
    bonus and issued coupons are written off in the same transaction.
    """
    actor.require("members.erase")
    member = service.get_member(session, member_id=member_id)
    # Records merged into this one are the same person: they go too.
    merged_records = _merged_into(session, member.id)
    now = utcnow()
    # First, and refused while stored value is held: a refused erasure writes nothing.
    loyalty_written_off = loyalty.erase_accounts(
        session, member_ids=[member.id, *(m.id for m in merged_records)], actor=actor, at=now
    )
    for merged in merged_records:
        _wipe(merged, cipher)
    _wipe(member, cipher)
    member.status, member.erased_at = "erased", now
    session.execute(delete(MemberTag).where(MemberTag.member_id == member.id))
    session.flush()
    audit.record(
        session, actor=actor, action="member.erase", entity="member", entity_id=member.id,
        after={"loyalty": loyalty_written_off},
    )  # fmt: skip
    return member


def _merged_into(session: Session, member_id: int) -> list[Member]:
    found: list[Member] = []
    frontier = [member_id]
    while frontier:
        rows = list(session.scalars(select(Member).where(Member.merged_into.in_(frontier))))
        found += rows
        frontier = [m.id for m in rows]
    return found


def _wipe(member: Member, cipher: FieldCipher) -> None:
    member.name_enc = cipher.encrypt("name", ERASED_NAME)
    # Indexes of a value nobody has: the erased member can never be found again.
    member.name_idx = member.initials_idx = cipher.index("erased", str(member.id))
    member.card_idx = cipher.index("erased-card", str(member.id))
    member.card_enc = cipher.encrypt("card", "")
    member.mobile_enc = member.mobile_idx = member.last4_idx = None
    member.birthday_enc = member.address_enc = member.email_enc = None
    member.notes, member.gender, member.marketing_opt_in = None, "u", False
    if member.status == "merged":
        member.erased_at = utcnow()
