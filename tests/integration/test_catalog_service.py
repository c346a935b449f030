"""Catalog service on SQLite and PostgreSQL: CRUD, search, uniqueness, audit and import."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog import importer, service
from shouyin.catalog.models import Barcode, Product
from shouyin.catalog.repository import ProductFilter
from shouyin.catalog.schemas import CategoryCreate, CategoryUpdate, ProductCreate, ProductUpdate
from shouyin.errors import DomainError
from tests import factories

COKE = "6901234567892"
WATER = "6921168509256"
CHIPS = "96385074"


@pytest.fixture
def manager(session: Session) -> Principal:
    return factories.principal_of(factories.make_user(session, role="store_manager"))


def _create(session: Session, actor: Principal, **fields: Any) -> Any:
    n = factories.next_id()
    values: dict[str, Any] = {"sku": f"T{n}", "name": f"商品{n}", "price": 100, **fields}
    return service.create_product(session, data=ProductCreate(**values), actor=actor)


def _unchecked(session: Session, actor: Principal, **fields: Any) -> Any:
    """What pages and the importer send: fields the schema has not trimmed or checked."""
    values: dict[str, Any] = {
        "sku": f"T{factories.next_id()}",
        "name": "商品",
        "price": 1,
        **fields,
    }
    data = ProductCreate.model_construct(**values)
    return service.create_product(session, data=data, actor=actor)


def _search(session: Session, q: str | None = None, **kw: Any) -> list[str]:
    page = service.list_products(session, where=ProductFilter(q=q, **kw), limit=50)
    return [item.name for item in page.items]


def _code_of(call: Any) -> str:
    with pytest.raises(DomainError) as exc:
        call()
    return exc.value.code


def test_create_fills_pinyin_category_and_barcodes(session: Session, manager: Principal) -> None:
    drinks = service.create_category(session, data=CategoryCreate(name="饮料"), actor=manager)
    made = _create(
        session, manager, sku="NF550", name="农夫山泉饮用天然水", category_id=drinks.id,
        unit="瓶", price=200, barcodes=[WATER, " 123456 "],
    )  # fmt: skip
    fetched = service.get_product(session, product_id=made.id)
    assert fetched == made
    assert (made.pinyin, made.initials) == ("nongfushanquanyinyongtianranshui", "nfsqyytrs")
    assert made.category_name == "饮料" and made.barcodes == sorted([WATER, "123456"])
    assert service.list_categories(session)[-1].product_count >= 1


def test_search_by_barcode_sku_prefix_name_and_initials(
    session: Session, manager: Principal
) -> None:
    _create(session, manager, sku="ZS-001", name="张三牌酱油", barcodes=[COKE])
    _create(session, manager, sku="LS-001", name="李四牌醋", barcodes=[CHIPS])
    _create(session, manager, sku="NF550", name="农夫山泉饮用天然水")
    assert _search(session, COKE) == ["张三牌酱油"]
    assert _search(session, "ls-") == ["李四牌醋"]
    assert _search(session, "牌") == ["李四牌醋", "张三牌酱油"]
    assert _search(session, "zs") == ["张三牌酱油"]
    assert _search(session, "NFSQ") == ["农夫山泉饮用天然水"]
    assert _search(session, "nongfu") == ["农夫山泉饮用天然水"]
    # Part of a barcode is not a barcode; LIKE wildcards are matched literally.
    assert _search(session, COKE[:6]) == []
    assert _search(session, "%") == [] and _search(session, "_") == []


def test_list_filters_and_paginates(session: Session, manager: Principal) -> None:
    category = service.create_category(session, data=CategoryCreate(name="分页测试"), actor=manager)
    for i in range(5):
        _create(session, manager, sku=f"PG{i}", category_id=category.id, active=i != 4)
    page = service.list_products(
        session, where=ProductFilter(category_id=category.id, active=True), limit=3, offset=2
    )
    assert page.total == 4 and [p.sku for p in page.items] == ["PG2", "PG3"]
    inactive = service.list_products(
        session, where=ProductFilter(category_id=category.id, active=False), limit=50
    )
    assert [p.sku for p in inactive.items] == ["PG4"]


def test_lookup_finds_active_products_by_barcode_or_sku(
    session: Session, manager: Principal
) -> None:
    made = _create(session, manager, sku="COKE330", name="可口可乐330ml", barcodes=[COKE, CHIPS])
    assert service.lookup(session, code=COKE) == made
    assert service.lookup(session, code="COKE330").barcodes == sorted([COKE, CHIPS])
    service.deactivate_product(session, product_id=made.id, actor=manager)
    assert _code_of(lambda: service.lookup(session, code=COKE)) == "catalog.code_unknown"
    assert _code_of(lambda: service.lookup(session, code="nope")) == "catalog.code_unknown"


def test_unique_and_field_rules_give_codes(session: Session, manager: Principal) -> None:
    first = _create(session, manager, sku="DUP1", barcodes=[COKE])
    assert _code_of(lambda: _create(session, manager, sku="DUP1")) == "catalog.sku_exists"
    assert _code_of(lambda: _create(session, manager, barcodes=[COKE])) == "catalog.barcode_exists"
    assert _code_of(lambda: _create(session, manager, barcodes=["6901234567891"])) == (
        "catalog.barcode_invalid"
    )
    assert _code_of(lambda: _unchecked(session, manager, name=" \t ")) == "catalog.name_required"
    assert _code_of(lambda: _unchecked(session, manager, unit=" ")) == "catalog.unit_required"
    assert _code_of(lambda: _unchecked(session, manager, price=-1)) == "catalog.price_invalid"
    assert _code_of(lambda: _unchecked(session, manager, sku="A B")) == "catalog.sku_invalid"
    assert _code_of(lambda: _create(session, manager, category_id=999_999)) == (
        "catalog.category_unknown"
    )
    # A product may keep its own SKU and barcodes when updated.
    same = ProductUpdate(sku="DUP1", barcodes=[COKE])
    assert (
        service.update_product(session, product_id=first.id, data=same, actor=manager).sku == "DUP1"
    )
    assert session.scalar(select(Product.id).where(Product.sku == "DUP1")) == first.id


def test_update_replaces_barcodes_recomputes_pinyin_and_audits_price(
    session: Session, manager: Principal
) -> None:
    made = _create(session, manager, name="旧名字", price=500, barcodes=[COKE, CHIPS])
    data = ProductUpdate(name="张三酸奶", price=650, barcodes=[CHIPS, WATER])
    updated = service.update_product(session, product_id=made.id, data=data, actor=manager)
    assert updated.initials == "zssn" and updated.price == 650
    assert updated.barcodes == sorted([CHIPS, WATER])
    assert session.get(Barcode, COKE) is None
    entry = audit.list_entries(session, limit=1, offset=0, action="product.price_change")[0]
    assert entry.entity_id == str(made.id) and entry.actor == manager.username
    assert entry.before["price"] == 500 and entry.after["price"] == 650  # type: ignore[index]


def test_update_without_price_change_is_not_audited(session: Session, manager: Principal) -> None:
    made = _create(session, manager, price=500)
    before = audit.count(session)
    service.update_product(
        session, product_id=made.id, data=ProductUpdate(price=500), actor=manager
    )
    assert audit.count(session) == before


def test_category_rules(session: Session, manager: Principal) -> None:
    fruit = service.create_category(session, data=CategoryCreate(name="水果"), actor=manager)
    empty = service.create_category(session, data=CategoryCreate(name="空分类"), actor=manager)
    assert (
        _code_of(
            lambda: service.create_category(
                session, data=CategoryCreate(name="水果"), actor=manager
            )
        )
        == "catalog.category_exists"
    )
    renamed = service.update_category(
        session, category_id=fruit.id, data=CategoryUpdate(name="新鲜水果"), actor=manager
    )
    assert renamed.name == "新鲜水果"
    _create(session, manager, category_id=fruit.id)
    delete_fruit = lambda: service.delete_category(session, category_id=fruit.id, actor=manager)  # noqa: E731
    assert _code_of(delete_fruit) == "catalog.category_in_use"
    service.delete_category(session, category_id=empty.id, actor=manager)
    assert empty.id not in {c.id for c in service.list_categories(session)}


def test_products_for_sale_reads_many_products(session: Session, manager: Principal) -> None:
    a = _create(session, manager, price=120)
    b = _create(session, manager, price=990, unit="kg", weighed=True, member_discount=False)
    sale = service.products_for_sale(session, product_ids=[a.id, b.id, 999_999])
    assert set(sale) == {a.id, b.id}
    assert (sale[b.id].price, sale[b.id].weighed, sale[b.id].member_discount) == (990, True, False)


# --- import -------------------------------------------------------------------------------

CSV_MIX = f"""编码,名称,分类,单位,售价,条码,称重
IMP1,红富士苹果,生鲜,kg,12.80,,是
IMP2,农夫山泉,饮料,瓶,2,{WATER},否
IMP3,坏价格,饮料,瓶,1.999,,
IMP4,坏条码,饮料,瓶,3,6901234567891,
IMP5,重复条码,饮料,瓶,3,{WATER},
IMP1,重复编码,生鲜,kg,1,,
,没有编码,饮料,瓶,1,,
IMP6,占用条码,饮料,瓶,3,{COKE},
"""


def test_import_takes_the_good_rows_and_reports_the_bad(
    session: Session, manager: Principal
) -> None:
    _create(session, manager, sku="OLD", barcodes=[COKE])
    progress: list[tuple[int, int]] = []
    report = importer.import_products(
        session, data=CSV_MIX.encode("utf-8-sig"), filename="p.csv", actor=manager,
        on_progress=lambda done, total: progress.append((done, total)),
    )  # fmt: skip
    assert (report.created, report.updated) == (2, 0)
    reasons = {(e.row, e.sku): e.code for e in report.errors}
    assert reasons == {
        (4, "IMP3"): "catalog.price_invalid",
        (5, "IMP4"): "catalog.barcode_invalid",
        (6, "IMP5"): "catalog.import_duplicate_barcode",
        (7, "IMP1"): "catalog.import_duplicate_sku",
        (8, None): "catalog.sku_required",
        (9, "IMP6"): "catalog.barcode_exists",
    }
    assert all(e.reason for e in report.errors)
    assert progress[0] == (0, 8) and progress[-1] == (8, 8)
    skus = set(session.scalars(select(Product.sku).where(Product.sku.like("IMP%"))))
    assert skus == {"IMP1", "IMP2"}
    apple = service.lookup(session, code="IMP1")
    assert (apple.price, apple.weighed, apple.unit, apple.category_name) == (
        1280,
        True,
        "kg",
        "生鲜",
    )
    assert apple.initials == "hfspg"
    assert service.lookup(session, code=WATER).sku == "IMP2"


def test_import_updates_known_skus_and_keeps_what_the_file_leaves_blank(
    session: Session, manager: Principal
) -> None:
    made = _create(session, manager, sku="UPD1", name="旧", price=100, unit="袋", barcodes=[COKE])
    data = "sku,name,price_yuan,unit,barcode,active\nUPD1,新名字,1.50,,,0\n".encode()
    report = importer.import_products(session, data=data, filename="u.csv", actor=manager)
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    after = service.get_product(session, product_id=made.id)
    assert (after.name, after.price, after.unit, after.active) == ("新名字", 150, "袋", False)
    assert after.barcodes == [COKE] and after.initials == "xmz"
    entry = audit.list_entries(session, limit=1, offset=0, action="product.price_change")[0]
    assert entry.before["price"] == 100 and entry.after["price"] == 150  # type: ignore[index]


def test_import_can_move_a_barcode_between_products_of_the_file(
    session: Session, manager: Principal
) -> None:
    _create(session, manager, sku="MOVE-A", barcodes=[COKE])
    data = f"sku,name,price_yuan,barcode\nMOVE-A,甲,1,{CHIPS}\nMOVE-B,乙,1,{COKE}\n".encode()
    report = importer.import_products(session, data=data, filename="m.csv", actor=manager)
    assert report.errors == [] and (report.created, report.updated) == (1, 1)
    assert service.lookup(session, code=COKE).sku == "MOVE-B"
    assert service.lookup(session, code=CHIPS).sku == "MOVE-A"


def test_excel_import_and_export_round_trip(session: Session, manager: Principal) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编码", "名称", "分类", "单位", "售价", "条码", "会员折扣"])
    sheet.append(["XL1", "可口可乐330ml", "饮料", "罐", 3.5, int(COKE), "否"])
    sheet.append(["XL2", "坏行", "饮料", "罐", "三元", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    report = importer.import_products(
        session, data=buffer.getvalue(), filename="p.xlsx", actor=manager
    )
    assert report.created == 1 and [(e.row, e.code) for e in report.errors] == [
        (3, "catalog.price_invalid")
    ]
    coke = service.lookup(session, code=COKE)
    assert (coke.price, coke.member_discount, coke.unit) == (350, False, "罐")

    exported = load_workbook(io.BytesIO(importer.export_products(session, fmt="xlsx")))
    rows = list(exported.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:6] == ("sku", "name", "category", "unit", "price_yuan", "barcode")
    assert ("XL1", "可口可乐330ml", "饮料", "罐", "3.50", COKE, "0", "0", "1") in rows
    csv_text = importer.export_products(session, fmt="csv").decode("utf-8-sig")
    assert f"XL1,可口可乐330ml,饮料,罐,3.50,{COKE},0,0,1" in csv_text.splitlines()
    # Re-importing an export changes nothing and reports nothing.
    again = importer.import_products(
        session, data=csv_text.encode("utf-8"), filename="e.csv", actor=manager
    )
    assert again.errors == [] and (again.created, again.updated) == (0, 0)
    assert again.unchanged == again.rows >= 1


def test_a_file_without_the_needed_columns_is_refused_whole(
    session: Session, manager: Principal
) -> None:
    assert (
        _code_of(
            lambda: importer.import_products(
                session, data="名称,售价\n苹果,1\n".encode(), filename="x.csv", actor=manager
            )
        )
        == "catalog.import_columns"
    )


def test_csv_export_disarms_formulas_and_import_restores_the_text(
    session: Session, manager: Principal
) -> None:
    _create(session, manager, sku="FORMULA", name="=HYPERLINK(1)")
    exported = importer.export_products(session, fmt="csv").decode("utf-8-sig")
    assert "FORMULA,'=HYPERLINK(1)," in exported
    report = importer.import_products(
        session, data=exported.encode(), filename="e.csv", actor=manager
    )
    assert report.errors == []
    assert service.lookup(session, code="FORMULA").name == "=HYPERLINK(1)"
