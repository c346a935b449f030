"""Member import on SQLite and PostgreSQL: good rows in, bad rows reported, duplicates skipped."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.auth.principal import Principal
from shouyin.customers import importer, service
from shouyin.customers.crypto import FieldCipher, KeyRing
from shouyin.customers.models import Consent, Member
from shouyin.customers.schemas import MemberCreate
from tests import factories

NOTICE = "legacy-2025"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(KeyRing.generate())


@pytest.fixture
def admin(session: Session) -> Principal:
    return factories.principal_of(factories.make_user(session, role="hq_admin"))


def _run(
    session: Session, admin: Principal, cipher: FieldCipher, data: bytes, name: str = "m.csv"
) -> importer.MemberImportReport:
    return importer.import_members(
        session, data=data, filename=name, actor=admin, cipher=cipher, notice_version=NOTICE
    )


def _existing(session: Session, admin: Principal, cipher: FieldCipher, mobile: str) -> Member:
    return service.register(
        session, data=MemberCreate(mobile=mobile, name="老会员", consent=True), actor=admin,
        cipher=cipher, notice_version="2026-01",
    )  # fmt: skip


def _csv(*lines: str) -> bytes:
    return "\n".join(lines).encode("utf-8")


def test_good_rows_are_imported_bad_rows_reported_and_duplicates_skipped(
    session: Session, admin: Principal, cipher: FieldCipher
) -> None:
    _existing(session, admin, cipher, "13900000001")
    data = _csv(
        "手机号,姓名,性别,生日,邮箱,地址,会员卡号,标签,备注,营销同意",
        "13812345678,张三,男,1988-08-08,zs@example.com,北京市,80001234,老顾客|宝妈,爱喝茶,是",
        "12345,李四,,,,,,,,",
        "13812345679,王五,,1990-02-30,,,,,,",
        "13900000001,赵六,,,,,,,,",
        "13712345678,Li Lei,F,1990/1/2,,,,VIP,,",
        "138-1234-5678,张三丰,,,,,,,,",
    )
    report = _run(session, admin, cipher, data)
    assert report.created == 2 and report.rows == 6
    assert [(e.row, e.code) for e in report.errors] == [
        (3, "member.mobile_invalid"),
        (4, "member.birthday_invalid"),
    ]
    assert [(d.row, d.code) for d in report.skipped_duplicates] == [
        (5, "member.mobile_taken"),
        (7, "member.import_duplicate"),
    ]
    assert report.skipped_duplicates[1].details["row"] == 2
    for query in ("13812345678", "张三", "zs"):
        found = service.lookup(session, query=query, cipher=cipher)
        assert [cipher.decrypt("name", m.name_enc) for m in found] == ["张三"], query
    zhang = service.lookup(session, query="13812345678", cipher=cipher)[0]
    profile = service.public(
        zhang, service.tags_of(session, [zhang.id])[zhang.id], cipher, personal=True
    )
    assert profile.card_no == "80001234" and profile.tags == ["宝妈", "老顾客"]
    # The card kept from the other system finds its member, as a scan at the till would.
    assert [m.id for m in service.lookup(session, query="80001234", cipher=cipher)] == [zhang.id]
    assert profile.birthday is not None and profile.birthday.isoformat() == "1988-08-08"
    assert (profile.gender, profile.source, profile.email) == ("m", "import", "zs@example.com")
    assert profile.marketing_opt_in and profile.notes == "爱喝茶"
    consents = session.scalars(select(Consent).where(Consent.member_id == zhang.id)).all()
    assert {(c.purpose, c.granted, c.channel, c.notice_version) for c in consents} == {
        ("membership", True, "import", NOTICE),
        ("marketing", True, "import", NOTICE),
    }
    assert [m.gender for m in service.lookup(session, query="13712345678", cipher=cipher)] == ["f"]
    # Nothing of the bad rows was written.
    assert service.lookup(session, query="13812345679", cipher=cipher) == []
    assert service.lookup(session, query="王五", cipher=cipher) == []
    assert session.scalar(select(func.count()).where(Member.source == "import")) == 2
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "member.import")).one()
    assert entry.after is not None
    assert (entry.after["created"], entry.after["errors"], entry.after["duplicates"]) == (2, 2, 2)


def test_an_excel_workbook_is_imported(
    session: Session, admin: Principal, cipher: FieldCipher
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Mobile", "Name", "Birthday", "Tags"])
    sheet.append([13612345678, "陈静", datetime(1992, 5, 17), "会员日"])
    sheet.append([None, None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    report = _run(session, admin, cipher, buffer.getvalue(), "members.xlsx")
    assert (report.created, report.errors, report.skipped_duplicates) == (1, [], [])
    member = service.lookup(session, query="cj", cipher=cipher)[0]
    assert cipher.decrypt("birthday", member.birthday_enc or "") == "1992-05-17"
    assert service.tags_of(session, [member.id]) == {member.id: ["会员日"]}


def test_a_card_number_already_held_gets_a_new_card(
    session: Session, admin: Principal, cipher: FieldCipher
) -> None:
    held = cipher.decrypt("card", _existing(session, admin, cipher, "13900000002").card_enc)
    data = _csv("手机,姓名,卡号", f"13812340001,甲,{held}", "13812340002,乙,5550001", "13812340003,丙,5550001")  # fmt: skip
    report = _run(session, admin, cipher, data)
    assert report.created == 3 and not report.errors
    cards = [
        cipher.decrypt("card", service.lookup(session, query=mobile, cipher=cipher)[0].card_enc)
        for mobile in ("13812340001", "13812340002", "13812340003")
    ]
    assert cards[0] != held and cards[1] == "5550001" and cards[2] != "5550001"
    assert len(set(cards)) == 3


def test_store_codes_are_resolved_and_checked(
    session: Session, admin: Principal, cipher: FieldCipher
) -> None:
    store, other = factories.make_store(session), factories.make_store(session)
    data = _csv("手机,姓名,门店", f"13812340011,甲,{store.code}", "13812340012,乙,NOPE")
    report = _run(session, admin, cipher, data)
    assert report.created == 1 and [e.code for e in report.errors] == ["member.import_store"]
    assert service.lookup(session, query="13812340011", cipher=cipher)[0].store_id == store.id
    manager = factories.principal_of(
        factories.make_user(session, role="store_manager", store=store)
    )
    data = _csv("手机,姓名,门店", "13812340021,丁,", f"13812340022,戊,{other.code}")
    report = _run(session, manager, cipher, data)
    assert report.created == 1 and [e.code for e in report.errors] == ["store.forbidden"]
    assert service.lookup(session, query="13812340021", cipher=cipher)[0].store_id == store.id
