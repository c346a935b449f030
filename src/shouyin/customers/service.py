"""Members: register, find, read, change, tag, consent.

Personal fields go through the FieldCipher; only blind indexes are ever queried.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import ColumnElement, Select, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.customers import rules
from shouyin.customers.crypto import FieldCipher
from shouyin.customers.models import Consent, Member, MemberTag
from shouyin.customers.schemas import MemberCreate, MemberPublic, MemberSummary, MemberUpdate
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.shared.clock import to_local, utcnow

PERSONAL = ("mobile", "birthday", "address", "email")
TAG_MAX = 30


def today() -> date:
    return to_local(utcnow(), "Asia/Shanghai").date()


def set_mobile(member: Member, cipher: FieldCipher, raw: str) -> None:
    mobile = rules.normalise_mobile(raw)
    member.mobile_enc = cipher.encrypt("mobile", mobile)
    member.mobile_idx = cipher.index("mobile", mobile)
    member.last4_idx = cipher.index("last4", mobile[-4:])


def set_name(member: Member, cipher: FieldCipher, raw: str) -> None:
    name = rules.normalise_name(raw)
    member.name_enc = cipher.encrypt("name", name)
    member.name_idx = cipher.index("name", rules.name_key(name))
    member.initials_idx = cipher.index("initials", rules.initials_of(name))


def set_optional(member: Member, cipher: FieldCipher, field: str, value: str | None) -> None:
    setattr(member, f"{field}_enc", cipher.encrypt(field, value) if value else None)


def clean_tags(tags: Collection[str]) -> list[str]:
    cleaned = sorted({tag.strip() for tag in tags if tag.strip()})
    if any(len(tag) > TAG_MAX for tag in cleaned):
        raise ValidationFailed("A tag has at most 30 characters.", code="member.tag_invalid")
    return cleaned


def _mobile_taken(session: Session, cipher: FieldCipher, raw: str, member_id: int | None) -> None:
    mobile = rules.normalise_mobile(raw)
    owner = session.scalar(
        select(Member.id).where(Member.mobile_idx == cipher.index("mobile", mobile))
    )
    if owner is not None and owner != member_id:
        raise Conflict(
            "The mobile number {mobile} already belongs to another member.",
            code="member.mobile_taken",
            details={"mobile": rules.mask_mobile(mobile)},
        )


def register(
    session: Session,
    *,
    data: MemberCreate,
    actor: Principal,
    cipher: FieldCipher,
    notice_version: str,
) -> Member:
    if not data.consent:
        raise ValidationFailed(
            "Membership needs the customer's consent to the privacy notice.",
            code="member.consent_needed",
        )
    store_id = data.store_id or actor.store_id
    if store_id is not None:
        actor.require_store(store_id)
    _mobile_taken(session, cipher, data.mobile, None)
    member = Member(
        gender=data.gender, source=data.source, store_id=store_id, notes=data.notes,
        marketing_opt_in=data.marketing_opt_in, created_by=actor.user_id,
    )  # fmt: skip
    set_mobile(member, cipher, data.mobile)
    set_name(member, cipher, data.name)
    card = rules.new_card_number()
    member.card_enc, member.card_idx = cipher.encrypt("card", card), cipher.index("card", card)
    if data.birthday:
        rules.check_birthday(data.birthday, today())
    set_optional(member, cipher, "birthday", data.birthday.isoformat() if data.birthday else None)
    set_optional(member, cipher, "address", data.address)
    set_optional(member, cipher, "email", data.email)
    session.add(member)
    _flush_unique(session)
    _replace_tags(session, member.id, clean_tags(data.tags))
    _consent(session, member.id, "membership", True, notice_version, actor)
    _consent(session, member.id, "marketing", data.marketing_opt_in, notice_version, actor)
    audit.record(
        session, actor=actor, action="member.create", entity="member", entity_id=member.id,
        after={"store_id": store_id, "source": data.source, "marketing_opt_in": data.marketing_opt_in},
    )  # fmt: skip
    _welcome(session, member.id, actor)
    return member


def _welcome(session: Session, member_id: int, actor: Principal) -> None:
    """Open the loyalty account and issue the welcome coupons (templates set to issue on
    registration)."""
    # Imported here: loyalty's coupon issuing reads members through this module.
    from shouyin.loyalty import coupons, ledger

    now = utcnow()
    ledger.ensure_account(session.connection(), member_id=member_id, at=now)
    coupons.issue_on_event(
        session, member_id=member_id, event="registration", user_id=actor.user_id, at=now
    )


def _flush_unique(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same number won the race
        raise Conflict(
            "The mobile number already belongs to another member.", code="member.mobile_taken"
        ) from exc


def _consent(
    session: Session, member_id: int, purpose: str, granted: bool, version: str, actor: Principal
) -> None:
    session.add(
        Consent(
            member_id=member_id, purpose=purpose, granted=granted, notice_version=version,
            store_id=actor.store_id, user_id=actor.user_id, at=utcnow(),
        )
    )  # fmt: skip


def record_consent(
    session: Session, *, member_id: int, purpose: str, granted: bool, actor: Principal, version: str
) -> None:
    member = get_member(session, member_id=member_id)
    if purpose == "membership" and not granted:
        # Membership without consent is not a state to keep: the answer is erasure.
        raise ValidationFailed(
            "A member who withdraws consent to membership should be erased.",
            code="member.consent_withdrawn",
        )
    _consent(session, member.id, purpose, granted, version, actor)
    if purpose == "marketing":
        member.marketing_opt_in = granted
    audit.record(
        session, actor=actor, action="member.consent", entity="member", entity_id=member.id,
        after={"purpose": purpose, "granted": granted, "notice_version": version},
    )  # fmt: skip


def ensure_active(session: Session, *, member_id: int) -> None:
    """One cheap query for checkout: the member exists and is not erased."""
    found = session.scalar(
        select(Member.id).where(Member.id == member_id, Member.status == "active")
    )
    if found is None:
        raise NotFound("No such member.", code="member.not_found")


def get_member(session: Session, *, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.status != "active":
        raise NotFound("No such member.", code="member.not_found")
    return member


def update(
    session: Session, *, member_id: int, data: MemberUpdate, actor: Principal,
    cipher: FieldCipher, notice_version: str,
) -> Member:  # fmt: skip
    member = get_member(session, member_id=member_id)
    changed = sorted(data.model_fields_set)
    if data.mobile is not None:
        _mobile_taken(session, cipher, data.mobile, member.id)
        set_mobile(member, cipher, data.mobile)
    if data.name is not None:
        set_name(member, cipher, data.name)
    if "birthday" in data.model_fields_set:
        if data.birthday:
            rules.check_birthday(data.birthday, today())
        set_optional(
            member, cipher, "birthday", data.birthday.isoformat() if data.birthday else None
        )
    for field in ("address", "email"):
        if field in data.model_fields_set:
            set_optional(member, cipher, field, getattr(data, field))
    if data.gender is not None:
        member.gender = data.gender
    if "notes" in data.model_fields_set:
        member.notes = data.notes or None
    if data.tags is not None:
        _replace_tags(session, member.id, clean_tags(data.tags))
    _flush_unique(session)
    if data.marketing_opt_in is not None and data.marketing_opt_in != member.marketing_opt_in:
        record_consent(
            session, member_id=member.id, purpose="marketing", granted=data.marketing_opt_in,
            actor=actor, version=notice_version,
        )  # fmt: skip
    # The audit names the fields that changed, never their personal values.
    audit.record(
        session, actor=actor, action="member.update", entity="member", entity_id=member.id,
        after={"fields": changed},
    )  # fmt: skip
    return member


def _replace_tags(session: Session, member_id: int, tags: list[str]) -> None:
    session.execute(delete(MemberTag).where(MemberTag.member_id == member_id))
    if tags:
        session.execute(insert(MemberTag), [{"member_id": member_id, "tag": tag} for tag in tags])


def change_tags(
    session: Session, *, member_ids: list[int], add: list[str], remove: list[str], actor: Principal
) -> int:
    """Tag many members at once; returns how many members were touched."""
    add_tags, remove_tags = clean_tags(add), clean_tags(remove)
    ids = sorted(set(member_ids))
    known = set(
        session.scalars(select(Member.id).where(Member.id.in_(ids), Member.status == "active"))
    )
    if len(known) != len(ids):
        raise NotFound("Some of the members do not exist.", code="member.not_found")
    if remove_tags:
        session.execute(
            delete(MemberTag).where(MemberTag.member_id.in_(ids), MemberTag.tag.in_(remove_tags))
        )
    if add_tags:
        pairs = select(MemberTag.member_id, MemberTag.tag).where(MemberTag.member_id.in_(ids))
        existing = {(row[0], row[1]) for row in session.execute(pairs)}
        rows = [{"member_id": m, "tag": t} for m in ids for t in add_tags if (m, t) not in existing]
        if rows:
            session.execute(insert(MemberTag), rows)
    audit.record(
        session, actor=actor, action="member.tags", entity="member", entity_id=None,
        after={"members": len(ids), "add": add_tags, "remove": remove_tags},
    )  # fmt: skip
    return len(ids)


def tags_of(session: Session, member_ids: Collection[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    query = select(MemberTag.member_id, MemberTag.tag).where(
        MemberTag.member_id.in_(list(member_ids))
    )
    for member_id, tag in session.execute(query.order_by(MemberTag.tag)):
        found.setdefault(member_id, []).append(tag)
    return found


LOOKUP_LIMIT = 50


def lookup_condition(query: str, cipher: FieldCipher) -> ColumnElement[bool]:
    """The blind-index condition for what was typed: card, mobile, last 4, name or initials."""
    text = rules.clean_query(query)
    kind = rules.lookup_kind(text)
    if kind == "mobile":
        # An imported card number may look like a mobile number: either one matches.
        condition: ColumnElement[bool] = Member.card_idx == cipher.index("card", text)
        try:
            mobile = rules.normalise_mobile(text)
            condition = or_(condition, Member.mobile_idx == cipher.index("mobile", mobile))
        except ValidationFailed:
            pass
        return condition
    if kind == "card":
        return Member.card_idx == cipher.index("card", text)
    if kind == "last4":
        return Member.last4_idx == cipher.index("last4", text)
    if kind == "initials":
        return Member.initials_idx == cipher.index("initials", text.lower())
    return Member.name_idx == cipher.index("name", rules.name_key(text))


def lookup(
    session: Session, *, query: str, cipher: FieldCipher, limit: int = LOOKUP_LIMIT
) -> list[Member]:
    """Exact matches by card, mobile, last 4 digits, full name or pinyin initials."""
    stmt = (
        select(Member)
        .where(lookup_condition(query, cipher), Member.status.in_(("active", "merged")))
        .order_by(Member.id.desc())
        .limit(limit)
    )
    found = list(session.scalars(stmt))
    return _survivors(session, found) if any(m.status == "merged" for m in found) else found


def count_matches(session: Session, *, query: str, cipher: FieldCipher) -> int:
    """How many active members a lookup matches, to tell the till when to narrow it down."""
    condition = lookup_condition(query, cipher)
    return session.scalar(select(func.count()).where(condition, Member.status == "active")) or 0


def _survivors(session: Session, found: list[Member]) -> list[Member]:
    """A record merged into another stands for the one it was merged into, to the end of
    the chain."""
    result: list[Member] = []
    for member in found:
        current: Member | None = member
        for _ in range(20):  # merge chains are short; the bound guards against a cycle
            if current is None or current.status != "merged" or current.merged_into is None:
                break
            current = session.get(Member, current.merged_into)
        if current is not None and current.status == "active" and current not in result:
            result.append(current)
    return result


def list_members(
    session: Session, *, store_id: int | None, tag: str | None, q: str | None, limit: int,
    offset: int, cipher: FieldCipher,
) -> tuple[list[Member], int]:  # fmt: skip
    query = select(Member).where(Member.status == "active")
    if store_id is not None:
        query = query.where(Member.store_id == store_id)
    if tag:
        query = query.where(Member.id.in_(select(MemberTag.member_id).where(MemberTag.tag == tag)))
    if q:
        query = query.where(lookup_condition(q, cipher))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Member.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def member_ids_query(
    *, store_id: int | None, tag: str | None, q: str | None, cipher: FieldCipher | None
) -> Select[int]:
    """The ids of the active members the member list's filters match, as a query to refine.

    Blank filters are ignored and a tag is matched trimmed; a search needs the cipher.
    """
    query = select(Member.id).where(Member.status == "active")
    if store_id is not None:
        query = query.where(Member.store_id == store_id)
    if tag and tag.strip():
        tagged = select(MemberTag.member_id).where(MemberTag.tag == tag.strip())
        query = query.where(Member.id.in_(tagged))
    if q and q.strip():
        if cipher is None:
            raise ValueError("a search filter needs the member cipher")
        query = query.where(lookup_condition(q, cipher))
    return query


def active_ids(session: Session, *, ids: Collection[int]) -> set[int]:
    """Those of ``ids`` that belong to an existing, active member."""
    query = select(Member.id).where(Member.id.in_(list(ids)), Member.status == "active")
    return set(session.scalars(query))


def summary(member: Member, cipher: FieldCipher) -> MemberSummary:
    mobile = cipher.decrypt("mobile", member.mobile_enc) if member.mobile_enc else None
    return MemberSummary(
        id=member.id, card_no=cipher.decrypt("card", member.card_enc),
        name=cipher.decrypt("name", member.name_enc),
        mobile_masked=rules.mask_mobile(mobile) if mobile else None, store_id=member.store_id,
        status=member.status,
    )  # fmt: skip


def public(member: Member, tags: list[str], cipher: FieldCipher, *, personal: bool) -> MemberPublic:
    """The profile; personal fields only for roles allowed to see them."""

    def clear(field: str) -> str | None:
        token = getattr(member, f"{field}_enc")
        return cipher.decrypt(field, token) if token and personal else None

    birthday_text = cipher.decrypt("birthday", member.birthday_enc) if member.birthday_enc else None
    birthday = date.fromisoformat(birthday_text) if birthday_text else None
    return MemberPublic(
        **summary(member, cipher).model_dump(), mobile=clear("mobile"), gender=member.gender,
        birthday=birthday if personal else None,
        age=rules.age_on(birthday, today()) if birthday and personal else None,
        address=clear("address"), email=clear("email"), source=member.source, tags=tags,
        notes=member.notes if personal else None, marketing_opt_in=member.marketing_opt_in,
        created_at=member.created_at, updated_at=member.updated_at,
    )  # fmt: skip
