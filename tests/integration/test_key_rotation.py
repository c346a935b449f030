"""Key rotation re-encrypts every personal value and leaves blind indexes (and lookups) alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from shouyin.cli import app
from shouyin.config import get_settings
from shouyin.customers import keys, rotation, service
from shouyin.customers.crypto import FieldCipher, KeyRing, load_or_create
from shouyin.customers.models import Member
from shouyin.customers.schemas import MemberCreate
from shouyin.db import Database
from tests import factories
from tests.conftest import DatabaseMaker

PEOPLE = [
    ("13812345678", "张三", date(1990, 5, 1), "杭州市西湖区文三路1号", "zs@example.com"),
    ("15987654321", "李四", None, None, None),
    ("18600001111", "王五", date(1985, 12, 31), None, "ww@example.com"),
]


def _register(db: Database, cipher: FieldCipher) -> None:
    with db.write() as session:
        store = factories.make_store(session)
        actor = factories.principal_of(factories.make_user(session, store=store))
        for mobile, name, birthday, address, email in PEOPLE:
            data = MemberCreate(
                mobile=mobile, name=name, consent=True, birthday=birthday, address=address,
                email=email, store_id=store.id,
            )  # fmt: skip
            service.register(session, data=data, actor=actor, cipher=cipher, notice_version="t")


def _snapshot(db: Database, cipher: FieldCipher) -> dict[int, dict[str, str | None]]:
    with db.read() as session:
        rows = session.scalars(select(Member).order_by(Member.id)).all()
    found = {}
    for member in rows:
        values: dict[str, str | None] = {}
        for field in rotation.ENCRYPTED:
            token = getattr(member, f"{field}_enc")
            values[field] = cipher.decrypt(field, token) if token else None
            values[f"{field}_kid"] = cipher.key_id(token) if token else None
        for index in ("card", "name", "initials", "mobile", "last4"):
            values[f"{index}_idx"] = getattr(member, f"{index}_idx")
        found[member.id] = values
    return found


def test_rotation_reencrypts_under_the_new_key(database: Database) -> None:
    old = FieldCipher(KeyRing.generate())
    _register(database, old)
    before = _snapshot(database, old)
    new = FieldCipher(old.ring.rotated())
    with database.read() as session:
        assert rotation.count_stale(session, cipher=new) == len(PEOPLE)

    changed = rotation.rotate_all(database, cipher=new, size=2)

    assert changed == len(PEOPLE)
    after = _snapshot(database, new)
    for member_id, values in after.items():
        for field in rotation.ENCRYPTED:
            assert values[field] == before[member_id][field]
            assert values[f"{field}_kid"] in (None, new.ring.active)
        for index in ("card", "name", "initials", "mobile", "last4"):
            assert values[f"{index}_idx"] == before[member_id][f"{index}_idx"]
    with database.read() as session:
        assert rotation.count_stale(session, cipher=new) == 0
        assert set(rotation.key_usage(session)) == {new.ring.active}
        for query in ("13812345678", "5678", "张三", "zs"):
            found = service.lookup(session, query=query, cipher=new)
            assert [new.decrypt("mobile", m.mobile_enc or "") for m in found] == ["13812345678"]
    assert rotation.rotate_all(database, cipher=new) == 0  # idempotent


def test_rotation_resumes_after_a_partial_run(database: Database) -> None:
    old = FieldCipher(KeyRing.generate())
    _register(database, old)
    new = FieldCipher(old.ring.rotated())
    with database.write() as session:
        rotation.rotate_batch(session, cipher=new, after_id=0, size=1)
    with database.read() as session:
        usage = rotation.key_usage(session)
        assert usage[new.ring.active] > 0 and usage[old.ring.active] > 0
        assert rotation.count_stale(session, cipher=new) == len(PEOPLE) - 1
    # The new ring still holds the old key: half-rotated rows all decrypt.
    assert _snapshot(database, new)
    assert rotation.rotate_all(database, cipher=new) == len(PEOPLE) - 1


@pytest.fixture
def cli_env(
    db_maker: DatabaseMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Database, Path]]:
    url = db_maker.url("sqlite")
    monkeypatch.setenv("SHOUYIN_DATABASE_URL", url)
    monkeypatch.setenv("SHOUYIN_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("SHOUYIN_MEMBER_KEYS", raising=False)
    monkeypatch.delenv("SHOUYIN_MEMBER_KEY_FILE", raising=False)
    get_settings.cache_clear()
    keys.forget()
    db = Database.from_url(url)
    yield db, tmp_path / "member-keys.json"
    db.dispose()
    get_settings.cache_clear()
    keys.forget()


def test_keys_rotate_command(cli_env: tuple[Database, Path]) -> None:
    db, key_file = cli_env
    old = FieldCipher(load_or_create(key_file))
    _register(db, old)

    result = CliRunner().invoke(app, ["keys", "rotate", "--batch", "2"])

    assert result.exit_code == 0, result.output
    ring = KeyRing.from_json(key_file.read_text())
    assert ring.active != old.ring.active and old.ring.active in ring.keys
    assert not key_file.with_name(key_file.name + ".rotating").exists()
    assert keys.cipher_for(get_settings()).ring.active == ring.active
    with db.read() as session:
        assert set(rotation.key_usage(session)) == {ring.active}
    status = CliRunner().invoke(app, ["keys", "status"])
    assert status.exit_code == 0, status.output
    assert ring.active in status.output and "older key: 0" in status.output


def test_keys_rotate_refuses_inline_keys(
    cli_env: tuple[Database, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOUYIN_MEMBER_KEYS", KeyRing.generate().to_json())
    get_settings.cache_clear()

    result = CliRunner().invoke(app, ["keys", "rotate"])

    assert result.exit_code == 2
    assert "SHOUYIN_MEMBER_KEYS" in result.output
