"""Suppliers (供应商): the chain's list, shared by every store.

Any purchasing manager may add a supplier (a store finds a new local one) and read them all;
changing or deactivating one changes it for every store, so only HQ (a user bound to no
store) may.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.errors import Conflict, Forbidden, NotFound
from shouyin.inventory.purchasing_models import Supplier
from shouyin.inventory.purchasing_schemas import (
    SupplierCreate,
    SupplierPage,
    SupplierPublic,
    SupplierUpdate,
)

MANAGE = "purchasing.manage"


def get_supplier(session: Session, *, supplier_id: int) -> Supplier:
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound("No such supplier.", code="supplier.not_found")
    return supplier


def list_suppliers(
    session: Session, *, q: str | None = None, active: bool | None = None,
    limit: int = 50, offset: int = 0,
) -> SupplierPage:  # fmt: skip
    query = select(Supplier)
    text = "".join(ch for ch in (q or "") if ch.isprintable()).strip()
    if text:
        like = f"%{text.lower()}%"
        query = query.where(
            or_(func.lower(Supplier.code).like(like), func.lower(Supplier.name).like(like))
        )
    if active is not None:
        query = query.where(Supplier.active == active)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Supplier.code).limit(limit).offset(offset))
    return SupplierPage(items=[SupplierPublic.model_validate(s) for s in rows], total=total)


def _check_code_free(session: Session, code: str, supplier_id: int | None) -> None:
    owner = session.scalar(select(Supplier.id).where(func.lower(Supplier.code) == code.lower()))
    if owner is not None and owner != supplier_id:
        raise Conflict(
            "Another supplier already has the code {code}.",
            code="supplier.code_taken", details={"code": code},
        )  # fmt: skip


def _flush(session: Session) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "Someone else just saved a supplier with this code. Reload and try again.",
            code="supplier.conflict",
        ) from exc


def create_supplier(session: Session, *, data: SupplierCreate, actor: Principal) -> SupplierPublic:
    actor.require(MANAGE)
    code = data.code.strip()
    _check_code_free(session, code, None)
    supplier = Supplier(**{**data.model_dump(), "code": code, "name": data.name.strip()})
    supplier.active = True
    session.add(supplier)
    _flush(session)
    audit.record(
        session, actor=actor, action="supplier.create", entity="supplier", entity_id=supplier.id,
        after=data.model_dump(),
    )  # fmt: skip
    return SupplierPublic.model_validate(supplier)


def _require_hq(actor: Principal) -> None:
    if not actor.all_stores:
        raise Forbidden(
            "Suppliers are shared by the whole chain: only head office can change or deactivate "
            "one.",
            code="supplier.hq_only",
        )


def update_supplier(
    session: Session, *, supplier_id: int, data: SupplierUpdate, actor: Principal
) -> SupplierPublic:
    actor.require(MANAGE)
    _require_hq(actor)
    supplier = get_supplier(session, supplier_id=supplier_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("code") is not None:
        changes["code"] = changes["code"].strip()
        _check_code_free(session, changes["code"], supplier.id)
    for key in ("code", "name", "lead_time_days", "active"):
        if key in changes and changes[key] is None:
            del changes[key]  # not nullable: "null" means "leave it"
    before = {key: getattr(supplier, key) for key in changes}
    for key, value in changes.items():
        setattr(supplier, key, value)
    _flush(session)
    audit.record(
        session, actor=actor, action="supplier.update", entity="supplier", entity_id=supplier.id,
        before=before, after=changes,
    )  # fmt: skip
    return SupplierPublic.model_validate(supplier)


def deactivate_supplier(session: Session, *, supplier_id: int, actor: Principal) -> SupplierPublic:
    return update_supplier(
        session, supplier_id=supplier_id, data=SupplierUpdate(active=False), actor=actor
    )
