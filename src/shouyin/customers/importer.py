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

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog.table import is_blank, parse_flag, read_table, text_cell
from shouyin.customers import rules, service
from shouyin.customers.crypto import FieldCipher
from shouyin.customers.models import Consent, Member, MemberTag
from shouyin.errors import Conflict, DomainError, ValidationFailed
from shouyin.shared import i18n
from shouyin.shared.clock import utcnow
from shouyin.shared.tabular import decode_text
from shouyin.shared.types import table_of
from shouyin.stores import service as stores

__all__ = ["MemberImportReport", "MemberRow", "RowError", "import_members", "map_columns"]

ProgressCallback = Callable[[int, int], None]
CHUNK_ROWS = 2_000
FIELDS = (
    "mobile", "name", "gender", "birthday", "email", "address", "card_no", "tags", "notes",
    "marketing_opt_in", "store",
)  # fmt: skip
REQUIRED = ("mobile", "name")
ALIASES: dict[str, tuple[str, ...]] = {
    "mobile": ("mobile", "phone", "手机", "手机号", "手机号码", "电话"),
    "name": ("name", "姓名", "会员姓名", "名字"),
    "gender": ("gender", "sex", "性别"),
    "birthday": ("birthday", "生日", "出生日期"),
    "email": ("email", "邮箱", "电子邮箱"),
    "address": ("address", "地址"),
    "card_no": ("card_no", "card", "卡号", "会员卡号"),
    "tags": ("tags", "标签"),
    "notes": ("notes", "备注"),
    "marketing_opt_in": ("marketing_opt_in", "营销同意"),
    "store": ("store", "store_code", "门店", "门店编码"),
}
_HEADER_NAMES = {alias: column for column, names in ALIASES.items() for alias in names}
_GENDERS = {"男": "m", "m": "m", "male": "m", "女": "f", "f": "f", "female": "f"}
_UNKNOWN_GENDER = frozenset({"", "u", "未知", "保密", "unknown"})
_DATE_FORMATS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_TAG_SPLIT = re.compile(r"[|;；，,、]")
_CARD = re.compile(r"\d{6,20}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CONSENT_WORDS = {"同意": "1", "不同意": "0"}
MAX_TAGS, MAX_ADDRESS, MAX_EMAIL, MAX_NOTES = 20, 200, 120, 500
# The member columns a prepared row carries into the bulk insert.
_COLUMNS = (
    "card_enc", "card_idx", "name_enc", "name_idx", "initials_idx", "mobile_enc", "mobile_idx",
    "last4_idx", "birthday_enc", "address_enc", "email_enc", "gender", "source", "store_id",
    "notes", "marketing_opt_in", "created_by",
)  # fmt: skip


@dataclass(frozen=True)
class RowError:
    row: int
    reason: str
    code: str = ""
    template: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row: int, error: DomainError) -> RowError:
        return cls(row, error.message, error.code, error.template, dict(error.details))

    def translated(self, lang: str) -> str:
        if not self.template:
            return self.reason
        return i18n.translate_error(lang, self.template, dict(self.details))


@dataclass
class MemberImportReport:
    created: int = 0
    skipped_duplicates: list[RowError] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class MemberRow:
    """One row's cells, read; mobile and name are checked when the row is encrypted."""

    row: int
    mobile: str
    name: str
    gender: str = "u"
    birthday: date | None = None
    email: str | None = None
    address: str | None = None
    card_no: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None
    marketing_opt_in: bool = False
    store: str | None = None


# --- reading ------------------------------------------------------------------------------


def _key(text: str) -> str:
    return text.lstrip("\ufeff").strip().lower().replace(" ", "_")


def map_columns(
    header: Sequence[object], mapping: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Field -> column index. `mapping` (header -> field) wins over the built-in aliases."""
    chosen: dict[str, str] = {}
    for source, target in (mapping or {}).items():
        if target not in FIELDS:
            raise ValidationFailed(
                "The column mapping names an unknown field {field}.",
                code="member.import_mapping",
                details={"field": target[:40]},
            )
        chosen[_key(source)] = target
    keys = [_key(text_cell(cell)) for cell in header]
    columns: dict[str, int] = {}
    for names in (chosen, _HEADER_NAMES):
        for index, key in enumerate(keys):
            found = names.get(key)
            if found is not None and found not in columns and index not in columns.values():
                columns[found] = index
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        raise ValidationFailed(
            "The file needs the columns {columns} in its first row.",
            code="member.import_columns",
            details={"columns": ", ".join(missing)},
        )
    return columns


def decode_csv(data: bytes) -> str:
    text = decode_text(data)
    if text is None:
        raise ValidationFailed(
            "The file is neither UTF-8 nor GBK/GB18030 text: save it as CSV UTF-8 or .xlsx.",
            code="member.import_encoding",
        )
    return text


def read_rows(data: bytes, filename: str) -> tuple[list[object], list[tuple[int, list[object]]]]:
    is_workbook = data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0"))
    if not is_workbook and not filename.lower().endswith(".xlsx"):
        data = decode_csv(data).encode("utf-8")
    return read_table(data, filename)


def parse_gender(value: object) -> str:
    text = text_cell(value).lower()
    if text in _UNKNOWN_GENDER:
        return "u"
    gender = _GENDERS.get(text)
    if gender is None:
        raise ValidationFailed(
            "The gender {value} is not one of 男, 女, M or F.",
            code="member.import_gender",
            details={"value": text[:20]},
        )
    return gender


def parse_birthday(value: object) -> date | None:
    """YYYY-MM-DD, YYYY/M/D, YYYYMMDD or an Excel date; blank is None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = text_cell(value)
    if not text:
        return None
    for pattern in _DATE_FORMATS:
        found = pattern.fullmatch(text)
        if found is not None:
            year, month, day = (int(part) for part in found.groups())
            try:
                return date(year, month, day)
            except ValueError:
                break
    raise ValidationFailed(
        "The birthday {birthday} is not possible.",
        code="member.birthday_invalid",
        details={"birthday": text[:20]},
    )


def _optional(value: object, limit: int, message: str, code: str) -> str | None:
    text = text_cell(value)
    if len(text) > limit:
        raise ValidationFailed(message, code=code)
    return text or None


def parse_row(number: int, cells: Sequence[object], columns: Mapping[str, int]) -> MemberRow:
    """One row's cells read and checked; raises the first problem found."""

    def get(column: str) -> object:
        index = columns.get(column)
        return cells[index] if index is not None and index < len(cells) else None

    email = _optional(get("email"), MAX_EMAIL, "The email address is not valid.", "member.email_invalid")  # fmt: skip
    if email is not None and not _EMAIL.fullmatch(email):
        raise ValidationFailed("The email address is not valid.", code="member.email_invalid")
    tags = tuple(part.strip() for part in _TAG_SPLIT.split(text_cell(get("tags"))) if part.strip())
    if len(tags) > MAX_TAGS:
        raise ValidationFailed("A member has at most 20 tags.", code="member.tag_invalid")
    card = text_cell(get("card_no"))
    consent = text_cell(get("marketing_opt_in"))
    return MemberRow(
        row=number, mobile=text_cell(get("mobile")), name=text_cell(get("name")),
        gender=parse_gender(get("gender")), birthday=parse_birthday(get("birthday")),
        email=email,
        address=_optional(get("address"), MAX_ADDRESS, "An address has at most 200 characters.", "member.address_invalid"),
        card_no=card if _CARD.fullmatch(card) else None, tags=tags,
        notes=_optional(get("notes"), MAX_NOTES, "Notes have at most 500 characters.", "member.notes_invalid"),
        marketing_opt_in=bool(parse_flag(_CONSENT_WORDS.get(consent, consent), "marketing_opt_in")),
        store=text_cell(get("store")) or None,
    )  # fmt: skip


# --- writing ------------------------------------------------------------------------------


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
    return _Ready(row, {column: getattr(member, column) for column in _COLUMNS}, tags)


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
