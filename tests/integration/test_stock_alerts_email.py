"""Low-stock alerts emailed through a real SMTP server (aiosmtpd on 127.0.0.1): one email per
store listing the products, sent once; no SMTP host set, no email and nothing marked."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from shouyin.config import Settings
from shouyin.db import Database
from shouyin.inventory import alerts
from shouyin.inventory.count_models import ReorderRule, StockAlert
from shouyin.shared.clock import utcnow
from tests import factories
from tests.conftest import make_settings


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def _low_shop(database: Database) -> dict[str, Any]:
    with database.write() as session:
        store = factories.make_store(session, shift=False)
        tea = factories.make_product(session, name="龙井茶", stock={store.id: 3})
        water = factories.make_product(session, name="矿泉水", stock={store.id: 50})
        for product in (tea, water):
            session.add(ReorderRule(store_id=store.id, product_id=product.id, mode="manual",
                                    min_qty=5, max_qty=20, updated_at=utcnow()))  # fmt: skip
        return {"store": store.code, "tea": tea.sku, "water": water.sku}


def _settings(database: Database, tmp_path: Path, **mail: Any) -> Settings:
    return make_settings(str(database.engine.url), tmp_path, **mail)


def test_new_alerts_emailed_once(
    database: Database, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    handler, port = inbox
    shop = _low_shop(database)
    settings = _settings(database, tmp_path, smtp_host="127.0.0.1", smtp_port=port,
                         mail_from="shop@example.com",
                         stock_alert_to="boss@example.com, buyer@example.com")  # fmt: skip
    done = alerts.scan(database, settings)
    assert (done.opened, done.emailed) == (1, 1)
    assert len(handler.messages) == 1
    message = handler.messages[0]
    assert sorted(handler.recipients[0]) == ["boss@example.com", "buyer@example.com"]
    assert message["From"] == "shop@example.com"
    assert shop["store"] in str(message["Subject"])
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert shop["tea"] in text and "龙井茶" in text and "3 / 5" in text
    assert shop["water"] not in text  # not low
    html = message.get_body(preferencelist=("html",))
    assert html is not None and "龙井茶" in html.get_content()

    again = alerts.scan(database, settings)
    assert (again.opened, again.emailed) == (0, 0)
    assert len(handler.messages) == 1
    with database.read() as session:
        alert = session.scalars(select(StockAlert)).one()
        assert alert.emailed_at is not None


def test_no_smtp_host_no_email(
    database: Database, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    handler, _port = inbox
    _low_shop(database)
    done = alerts.scan(database, _settings(database, tmp_path, stock_alert_to="boss@example.com"))
    assert (done.opened, done.emailed) == (1, 0)
    assert handler.messages == []
    with database.read() as session:
        assert session.scalars(select(StockAlert.emailed_at)).one() is None


def test_unreachable_server_retried_next_scan(
    database: Database, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    handler, port = inbox
    _low_shop(database)
    mail = {"smtp_host": "127.0.0.1", "stock_alert_to": "boss@example.com"}
    down = alerts.scan(database, _settings(database, tmp_path, smtp_port=_free_port(), **mail))
    assert (down.opened, down.emailed) == (1, 0)
    up = alerts.scan(database, _settings(database, tmp_path, smtp_port=port, **mail))
    assert (up.opened, up.emailed) == (0, 1)
    assert len(handler.messages) == 1


def test_two_scans_at_once_open_one_alert(database: Database, tmp_path: Path) -> None:
    """The scheduler and "check now" at the same moment: still one open alert a product."""
    _low_shop(database)
    settings = _settings(database, tmp_path)
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(lambda _: alerts.scan(database, settings), range(4)))
    assert sum(x.opened for x in done) == 1
    with database.read() as session:
        assert len(session.scalars(select(StockAlert)).all()) == 1
