"""Reading member rows from another system's file: columns, aliases and field parsing.

Pure apart from the file formats: no database. The importer writes what this returns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shouyin.catalog.table import parse_flag, read_table, text_cell
from shouyin.errors import DomainError, ValidationFailed
from shouyin.shared import i18n
from shouyin.shared.tabular import decode_text

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
MEMBER_COLUMNS = (
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
