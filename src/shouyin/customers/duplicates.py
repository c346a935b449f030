"""Likely duplicate members, and merging two records of one person into one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.customers import service
from shouyin.customers.crypto import FieldCipher
from shouyin.customers.models import Consent, Member, MemberTag
from shouyin.errors import ValidationFailed
from shouyin.loyalty.merge import check_merge, merge_accounts
from shouyin.sales import service as sales
from shouyin.shared.clock import utcnow


@dataclass(frozen=True)
class DuplicateGroup:
    reason: str  # "name_birthday" or "name_last4"
    member_ids: tuple[int, ...]


def find_duplicates(
    session: Session, *, cipher: FieldCipher, limit: int = 200
) -> list[DuplicateGroup]:
    """Members with the same name and the same birthday or the same last 4 mobile digits.

    Names are matched through their blind index; only members sharing a name are decrypted
    to compare birthdays, so the report stays cheap on a large member base.
    """
    shared = (
        select(Member.name_idx)
        .where(Member.status == "active")
        .group_by(Member.name_idx)
        .having(func.count() > 1)
        .limit(limit * 4)
    )
    rows = session.execute(
        select(Member.id, Member.name_idx, Member.last4_idx, Member.birthday_enc)
        .where(Member.status == "active", Member.name_idx.in_(shared))
        .order_by(Member.name_idx, Member.id)
    ).all()
    groups: list[DuplicateGroup] = []
    by_name: dict[str, list[tuple[int, str | None, str | None]]] = {}
    for member_id, name_idx, last4_idx, birthday_enc in rows:
        birthday = cipher.decrypt("birthday", birthday_enc) if birthday_enc else None
        by_name.setdefault(name_idx, []).append((member_id, last4_idx, birthday))
    for people in by_name.values():
        groups += _groups_by(people, 2, "name_birthday") + _groups_by(people, 1, "name_last4")
    return groups[:limit]


def _groups_by(
    people: list[tuple[int, str | None, str | None]], position: int, reason: str
) -> list[DuplicateGroup]:
    buckets: dict[str, list[int]] = {}
    for person in people:
        key = person[1] if position == 1 else person[2]
        if key:
            buckets.setdefault(key, []).append(person[0])
    return [DuplicateGroup(reason, tuple(ids)) for ids in buckets.values() if len(ids) > 1]


def merge(session: Session, *, survivor_id: int, duplicate_id: int, actor: Principal) -> Member:
    """Move orders, tags, consents and loyalty (points, stored value, coupons, tier) to the
    survivor; the duplicate is kept, marked merged.

    The audit entry lists everything that moved (and the coupons voided as over their
    per-member limit), so a wrong merge can be traced and put right by hand; nothing about it
    is silent. Refused (``member.merge_over_cap``) when the stored value would exceed the cap.
    """
    actor.require("members.merge")
    if survivor_id == duplicate_id:
        raise ValidationFailed("A member cannot be merged with itself.", code="member.merge_self")
    survivor = service.get_member(session, member_id=survivor_id)
    duplicate = service.get_member(session, member_id=duplicate_id)
    # Before anything moves: a refused merge leaves both records as they were.
    check_merge(session, survivor_id=survivor.id, duplicate_id=duplicate.id)
    orders = sales.reassign_member(session, from_member=duplicate.id, to_member=survivor.id)
    tags = service.tags_of(session, [survivor.id, duplicate.id])
    moved_tags = sorted(set(tags.get(duplicate.id, [])) - set(tags.get(survivor.id, [])))
    service.change_tags(session, member_ids=[survivor.id], add=moved_tags, remove=[], actor=actor)
    session.execute(
        update(Consent).where(Consent.member_id == duplicate.id).values(member_id=survivor.id)
    )
    session.execute(delete(MemberTag).where(MemberTag.member_id == duplicate.id))
    survivor.marketing_opt_in = survivor.marketing_opt_in or duplicate.marketing_opt_in
    loyalty = merge_accounts(
        session, survivor_id=survivor.id, duplicate_id=duplicate.id, actor=actor, at=utcnow()
    )
    # The duplicate keeps its indexes: a lookup that finds it answers with the survivor.
    duplicate.status, duplicate.merged_into = "merged", survivor.id
    # Records merged into the duplicate earlier now lead straight to the survivor.
    session.execute(
        update(Member).where(Member.merged_into == duplicate.id).values(merged_into=survivor.id)
    )
    session.flush()
    audit.record(
        session, actor=actor, action="member.merge", entity="member", entity_id=survivor.id,
        before={"duplicate": duplicate.id},
        after={"survivor": survivor.id, "orders": orders, "tags": moved_tags, "loyalty": loyalty},
    )  # fmt: skip
    return survivor
