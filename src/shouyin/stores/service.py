"""The chain, its stores and their registers (tills)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.stores.models import Chain, Register, Store
from shouyin.stores.schemas import RegisterCreate, StoreCreate, StoreUpdate


def ensure_chain(session: Session, *, name: str = "shouyin") -> Chain:
    chain = session.scalars(select(Chain).order_by(Chain.id)).first()
    if chain is None:
        chain = Chain(name=name)
        session.add(chain)
        session.flush()
    return chain


def get_store(session: Session, *, store_id: int) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("No such store.", code="store.not_found")
    return store


def list_stores(session: Session, *, store_id: int | None = None) -> list[Store]:
    query = select(Store).order_by(Store.code)
    if store_id is not None:
        query = query.where(Store.id == store_id)
    return list(session.scalars(query))


def create_store(session: Session, *, data: StoreCreate, actor: Principal | None) -> Store:
    if session.scalar(select(Store.id).where(Store.code == data.code)) is not None:
        raise Conflict("A store with this code exists.", code="store.exists")
    store = Store(chain_id=ensure_chain(session).id, **data.model_dump())
    session.add(store)
    session.flush()
    audit.record(
        session, actor=actor, action="store.create", entity="store", entity_id=store.id,
        after=data.model_dump(), actor_name="system",
    )  # fmt: skip
    return store


def update_store(session: Session, *, store_id: int, data: StoreUpdate, actor: Principal) -> Store:
    store = get_store(session, store_id=store_id)
    # An address may be cleared with null; other fields given as null are left as they are.
    changes = {
        key: value
        for key, value in data.model_dump(exclude_unset=True).items()
        if value is not None or key == "address"
    }
    before = {key: getattr(store, key) for key in changes}
    opens = changes.get("opens_minutes", store.opens_minutes)
    if changes.get("closes_minutes", store.closes_minutes) <= opens:
        raise ValidationFailed("The store must close after it opens.", code="store.hours_invalid")
    for key, value in changes.items():
        setattr(store, key, value)
    session.flush()
    audit.record(
        session, actor=actor, action="store.update", entity="store", entity_id=store.id,
        before=before, after=changes,
    )  # fmt: skip
    return store


def list_registers(session: Session, *, store_id: int) -> list[Register]:
    query = select(Register).where(Register.store_id == store_id).order_by(Register.code)
    return list(session.scalars(query))


def get_register(session: Session, *, register_id: int) -> Register:
    register = session.get(Register, register_id)
    if register is None:
        raise NotFound("No such register.", code="register.not_found")
    return register


def create_register(
    session: Session, *, store_id: int, data: RegisterCreate, actor: Principal | None
) -> Register:
    get_store(session, store_id=store_id)
    exists = select(Register.id).where(Register.store_id == store_id, Register.code == data.code)
    if session.scalar(exists) is not None:
        raise Conflict("This store has a register with this code.", code="register.exists")
    register = Register(store_id=store_id, code=data.code, name=data.name)
    session.add(register)
    session.flush()
    audit.record(
        session, actor=actor, action="register.create", entity="register",
        entity_id=register.id, after=data.model_dump(), store_id=store_id, actor_name="system",
    )  # fmt: skip
    return register
