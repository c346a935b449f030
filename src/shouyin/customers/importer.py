"""Members imported from another system (CSV or .xlsx), fast enough for 100,000 rows.

Each row stands alone and goes through the same checks as a registration at the till (valid
Chinese mobile, possible birthday, a name of 1 to 60 characters, ...). A bad row is reported
with its row number and reason and not imported; a row whose mobile already belongs to a
member, or appeared earlier in the file, is skipped as a duplicate. A row is written only
after every check of it passed, so nothing is ever half-imported.

Consent: the other system collected each member's consent to its membership notice. The
import records that as a "membership" consent, granted, through channel "import" under the
notice version the operator names (and a "marketing" consent as the file's opt-in column
says). Whoever runs the import vouches for it; the audit entry names them.

Speed: rows are checked, encrypted and indexed in Python, then written with Core bulk inserts
per chunk of rows; the audit gets one entry for the whole file, with counts only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog.table import is_blank
from shouyin.customers import rules, service
from shouyin.customers.crypto import FieldCipher
from shouyin.customers.import_rows import (
    CHUNK_ROWS,
    MEMBER_COLUMNS,
    MemberImportReport,
    MemberRow,
    RowError,
    map_columns,
    parse_row,
    read_rows,
)
from shouyin.customers.models import Consent, Member, MemberTag
from shouyin.errors import Conflict, DomainError, ValidationFailed
from shouyin.shared.clock import utcnow
from shouyin.shared.types import table_of
from shouyin.stores import service as stores

__all__ = ["MemberImportReport", "MemberRow", "RowError", "import_members", "map_columns"]

ProgressCallback = Callable[[int, int], None]


@dataclass
class _Ready:
    row: MemberRow
    values: dict[str, Any]
    tags: list[str]


@dataclass
class _Run:
    session: Session
    actor: Principal
    cipher: FieldCipher
    notice_version: str
    report: MemberImportReport
    stores: dict[str, int]
    today: date
    mobile_rows: dict[str, int] = field(default_factory=dict)
    card_idx: set[str] = field(default_factory=set)

    @property
    def user_id(self) -> int | None:
        # The command line acts as user 0, which is nobody in the users table.
        return self.actor.user_id or None


def import_members(
    session: Session,
    *,
    data: bytes,
    filename: str,
    actor: Principal,
    cipher: FieldCipher,
    notice_version: str,
    mapping: dict[str, str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> MemberImportReport:
    """Import a whole file; raises ValidationFailed only when the file itself is unusable."""
    header, body = read_rows(data, filename)
    columns = map_columns(header, mapping)
    report = MemberImportReport(rows=len(body))
    run = _Run(
        session=session, actor=actor, cipher=cipher, notice_version=notice_version,
        report=report, stores={s.code: s.id for s in stores.list_stores(session)},
        today=service.today(),
    )  # fmt: skip
    if on_progress is not None:
        on_progress(0, len(body))
    for start in range(0, len(body), CHUNK_ROWS):
        chunk = body[start : start + CHUNK_ROWS]
        ready = [_prepare(run, number, cells, columns) for number, cells in chunk]
        _write(run, [item for item in ready if item is not None])
        if on_progress is not None:
            on_progress(start + len(chunk), len(body))
    audit.record(
        session, actor=actor, action="member.import", entity="member", entity_id=None,
        after={
            "rows": report.rows, "created": report.created, "notice_version": notice_version,
            "duplicates": len(report.skipped_duplicates), "errors": len(report.errors),
        },
    )  # fmt: skip
    return report


def _prepare(
    run: _Run, number: int, cells: Sequence[object], columns: Mapping[str, int]
) -> _Ready | None:
    """The row checked, encrypted and indexed, or None (and an error) if it is bad."""
    if is_blank(cells):
        return None
    try:
        row = parse_row(number, cells, columns)
        store_id = run.actor.store_id
        if row.store is not None:
            store_id = run.stores.get(row.store)
            if store_id is None:
                raise ValidationFailed(
                    "No store has the code {code}.",
                    code="member.import_store",
                    details={"code": row.store[:20]},
                )
        if store_id is not None:
            run.actor.require_store(store_id)
        member = Member(
            gender=row.gender, source="import", store_id=store_id, notes=row.notes,
            marketing_opt_in=row.marketing_opt_in, created_by=run.user_id,
        )  # fmt: skip
        service.set_mobile(member, run.cipher, row.mobile)
        service.set_name(member, run.cipher, row.name)
        if row.birthday is not None:
            rules.check_birthday(row.birthday, run.today)
        birthday = row.birthday.isoformat() if row.birthday else None
        service.set_optional(member, run.cipher, "birthday", birthday)
        service.set_optional(member, run.cipher, "address", row.address)
        service.set_optional(member, run.cipher, "email", row.email)
        tags = service.clean_tags(row.tags)
    except DomainError as error:
        run.report.errors.append(RowError.of(number, error))
        return None
    return _Ready(row, {column: getattr(member, column) for column in MEMBER_COLUMNS}, tags)


def _write(run: _Run, ready: list[_Ready]) -> None:
    accepted = _skip_duplicates(run, ready)
    if not accepted:
        return
    _assign_cards(run, accepted)
    now = utcnow()
    values = [
        {**item.values, "status": "active", "created_at": now, "updated_at": now}
        for item in accepted
    ]
    members = table_of(Member)
    result = run.session.execute(
        insert(members).returning(members.c.id, members.c.mobile_idx), values
    )
    ids = {mobile_idx: member_id for member_id, mobile_idx in result}
    tag_rows = [
        {"member_id": ids[item.values["mobile_idx"]], "tag": tag}
        for item in accepted
        for tag in item.tags
    ]
    if tag_rows:
        run.session.execute(insert(table_of(MemberTag)), tag_rows)
    run.session.execute(insert(table_of(Consent)), _consents(run, accepted, ids, now))
    run.report.created += len(accepted)


def _skip_duplicates(run: _Run, ready: list[_Ready]) -> list[_Ready]:
    """Rows whose mobile belongs to no member yet, nor to an earlier row of the file."""
    if not ready:
        return []
    wanted = [item.values["mobile_idx"] for item in ready]
    taken = set(run.session.scalars(select(Member.mobile_idx).where(Member.mobile_idx.in_(wanted))))
    accepted = []
    for item in ready:
        mobile_idx = item.values["mobile_idx"]
        if mobile_idx not in taken and mobile_idx not in run.mobile_rows:
            run.mobile_rows[mobile_idx] = item.row.row
            accepted.append(item)
            continue
        masked = rules.mask_mobile(rules.normalise_mobile(item.row.mobile))
        if mobile_idx in taken:
            error: DomainError = Conflict(
                "The mobile number {mobile} already belongs to another member.",
                code="member.mobile_taken",
                details={"mobile": masked},
            )
        else:
            error = Conflict(
                "The mobile number {mobile} already appears in row {row} of this file.",
                code="member.import_duplicate",
                details={"mobile": masked, "row": run.mobile_rows[mobile_idx]},
            )
        run.report.skipped_duplicates.append(RowError.of(item.row.row, error))
    return accepted


def _assign_cards(run: _Run, items: list[_Ready]) -> None:
    """The other system's card number when it is free, else a new one of ours."""
    pending = [(item, item.row.card_no or rules.new_card_number()) for item in items]
    while pending:
        wanted = [run.cipher.index("card", card) for _, card in pending]
        query = select(Member.card_idx).where(Member.card_idx.in_(wanted))
        taken = set(run.session.scalars(query))
        retry = []
        for (item, card), card_idx in zip(pending, wanted, strict=True):
            if card_idx in taken or card_idx in run.card_idx:
                retry.append((item, rules.new_card_number()))
                continue
            run.card_idx.add(card_idx)
            item.values["card_idx"] = card_idx
            item.values["card_enc"] = run.cipher.encrypt("card", card)
        pending = retry


def _consents(
    run: _Run, items: list[_Ready], ids: Mapping[str, int], now: datetime
) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        common = {
            "member_id": ids[item.values["mobile_idx"]], "notice_version": run.notice_version,
            "channel": "import", "store_id": item.values["store_id"], "user_id": run.user_id,
            "at": now,
        }  # fmt: skip
        rows.append({**common, "purpose": "membership", "granted": True})
        rows.append({**common, "purpose": "marketing", "granted": item.row.marketing_opt_in})
    return rows
