"""Complaint tickets over HTTP on both databases: open (idempotent), the flow, refusals,
privacy, images, compensation the member then holds, and the follow-up email."""

from __future__ import annotations

import struct
import uuid
import zlib
from typing import Any

import pytest
from sqlalchemy import func, select

from shouyin.customers.keys import cipher_for
from shouyin.customers.models import Member
from shouyin.service.models import Ticket, TicketAttachment
from shouyin.shared import mail
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
URL = "/api/v1/tickets"


def tiny_png() -> bytes:
    """A real 1x1 PNG, made byte by byte."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    parts = [chunk(b"IHDR", header), chunk(b"IDAT", pixels), chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(parts)


def _shop(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        store, other = (factories.make_store(session, shift=False) for _ in range(2))
        template = factories.make_coupon(session, member=None, value=500).template_id
        return {"store": store, "other": other, "member": factories.make_member(session),
                "template": template}  # fmt: skip

    shop: dict[str, Any] = harness.write(build)
    shop["manager_user"] = harness.user("store_manager", shop["store"])
    shop["cashier"] = harness.client(harness.user("cashier", shop["store"]))
    shop["manager"] = harness.client(shop["manager_user"])
    shop["outsider"] = harness.client(harness.user("store_manager", shop["other"]))
    return shop


def _body(shop: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id, "category": "service",
        "priority": "high", "title": "收银员态度差", "description": "顾客王女士投诉，电话 13900001111",
        "member_id": shop["member"].id,
    }  # fmt: skip
    body.update(extra)
    return body


def _opened(shop: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = shop["cashier"].post(URL, json=_body(shop, **extra))
    assert response.status_code == 201, response.text
    opened: dict[str, Any] = response.json()
    return opened


def _in_progress(shop: dict[str, Any]) -> int:
    ticket_id: int = _opened(shop)["id"]
    manager = shop["manager"]
    assigned = manager.post(f"{URL}/{ticket_id}/assign",
                            json={"user_id": shop["manager_user"].id})  # fmt: skip
    assert assigned.status_code == 200, assigned.text
    assert manager.post(f"{URL}/{ticket_id}/start").status_code == 200
    return ticket_id


@BOTH
def test_a_cashier_opens_a_complaint_once_and_cannot_read_the_customers_words(
    harness: AppHarness,
) -> None:
    shop = _shop(harness)
    body = _body(shop)
    first = shop["cashier"].post(URL, json=body)
    assert first.status_code == 201, first.text
    opened = first.json()
    assert opened["number"].startswith(f"TK-{shop['store'].code}-") and opened["status"] == "new"
    assert opened["description"] is None and opened["text_visible"] is False
    retry = shop["cashier"].post(URL, json=body)
    assert retry.status_code == 200 and retry.json()["id"] == opened["id"]
    with harness.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert opened["source"] == "api"
    at_till = shop["cashier"].post(URL, params={"source": "till"}, json=_body(shop))
    assert at_till.status_code == 201 and at_till.json()["source"] == "till"
    # Reading and working tickets is for complaint handlers.
    assert shop["cashier"].get(f"{URL}/{opened['id']}").status_code == 403
    assert shop["cashier"].get(URL).status_code == 403
    full = shop["manager"].get(f"{URL}/{opened['id']}").json()
    assert full["description"] == body["description"] and full["text_visible"] is True
    # Bad input: a clear 422, nothing stored.
    for bad in ({"category": "weather"}, {"priority": "asap"}, {"title": ""},
                {"description": "x" * 4001}, {"store_id": True}, {"extra": 1}):  # fmt: skip
        refused = shop["cashier"].post(URL, json=_body(shop, **bad))
        assert refused.status_code == 422, bad
    refused = shop["cashier"].post(URL, json=_body(shop, store_id=shop["other"].id))
    assert refused.status_code == 403
    with harness.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 2


@BOTH
def test_a_manager_works_a_ticket_to_the_end_and_the_member_holds_the_compensation(
    harness: AppHarness,
) -> None:
    shop = _shop(harness)
    manager = shop["manager"]
    ticket_id = _in_progress(shop)
    comment = manager.post(f"{URL}/{ticket_id}/comments", json={"text": "已回电"})
    assert comment.status_code == 200 and comment.json()["events"][-1]["comment"] == "已回电"
    resolved = manager.post(
        f"{URL}/{ticket_id}/resolve",
        json={"outcome": "道歉并补偿", "compensations": [
            {"kind": "coupon", "coupon_template_id": shop["template"]},
            {"kind": "points", "points": 200}]},
    )  # fmt: skip
    assert resolved.status_code == 200, resolved.text
    view = resolved.json()
    assert view["status"] == "resolved" and view["follow_up_url"].startswith("http")
    code = view["compensations"][0]["coupon_code"]
    member_id = shop["member"].id
    held = manager.get(f"/api/v1/members/{member_id}/coupons").json()
    assert [(c["code"], c["usable"]) for c in held] == [(code, True)]
    assert manager.get(f"/api/v1/members/{member_id}/loyalty").json()["points"] == 200
    refund = manager.post(f"{URL}/{ticket_id}/compensations",
                          json={"kind": "refund", "refund_reference": "RT-9"})  # fmt: skip
    assert refund.status_code == 201 and refund.json()["reason"] == "resolution-3"
    closed = manager.post(f"{URL}/{ticket_id}/close", json={"comment": "顾客满意"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    reopened = manager.post(f"{URL}/{ticket_id}/reopen", json={"reason": "顾客又来电"})
    assert reopened.status_code == 200 and reopened.json()["reopened"] == 1
    listed = manager.get(URL, params={"status": "assigned", "q": view["number"]}).json()
    assert [x["id"] for x in listed["items"]] == [ticket_id] and listed["total"] == 1


@BOTH
def test_skipping_the_flow_or_another_store_is_refused(harness: AppHarness) -> None:
    shop = _shop(harness)
    manager = shop["manager"]
    ticket_id = _opened(shop)["id"]
    skipped = manager.post(f"{URL}/{ticket_id}/resolve", json={"outcome": "好了"})
    assert skipped.status_code == 409
    assert skipped.json()["code"] == "ticket.bad_transition"
    assert "new" in skipped.json()["message"] and "resolved" in skipped.json()["message"]
    assert manager.post(f"{URL}/{ticket_id}/close").status_code == 409
    outsider = shop["outsider"]
    for path in ("start", "close"):
        assert outsider.post(f"{URL}/{ticket_id}/{path}").status_code == 403
    assert outsider.get(f"{URL}/{ticket_id}").status_code == 403
    assert manager.get(f"{URL}/{2**31 - 1}").status_code == 404
    view = manager.get(f"{URL}/{ticket_id}").json()
    assert view["status"] == "new" and len(view["events"]) == 1


@BOTH
def test_images_are_checked_by_their_bytes_and_served_safely(harness: AppHarness) -> None:
    shop = _shop(harness)
    manager = shop["manager"]
    ticket_id = _opened(shop)["id"]
    png = tiny_png()
    upload = manager.post(f"{URL}/{ticket_id}/attachments",
                          files={"file": ("破损 照片.PNG", png, "application/octet-stream")})  # fmt: skip
    assert upload.status_code == 201, upload.text
    made = upload.json()
    assert made["content_type"] == "image/png" and made["size"] == len(png)
    got = manager.get(made["url"])
    assert got.status_code == 200 and got.content == png
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith('inline; filename="')
    assert got.headers["content-disposition"].isascii()
    # A text file called .png, and an image over 5 MB, are refused; nothing is stored.
    fake = manager.post(f"{URL}/{ticket_id}/attachments",
                        files={"file": ("photo.png", b"hello, not an image", "image/png")})  # fmt: skip
    assert fake.status_code == 422 and fake.json()["code"] == "ticket.attachment_type"
    big = png + b"\x00" * (5 * 1024 * 1024)
    large = manager.post(f"{URL}/{ticket_id}/attachments",
                         files={"file": ("big.png", big, "image/png")})  # fmt: skip
    assert large.status_code == 413 and large.json()["code"] == "ticket.attachment_too_large"
    # The cashier who opened it may add a photo while it is new, but not download.
    by_cashier = shop["cashier"].post(f"{URL}/{ticket_id}/attachments",
                                      files={"file": ("a.png", png, "image/png")})  # fmt: skip
    assert by_cashier.status_code == 201
    assert shop["cashier"].get(made["url"]).status_code == 403
    assert shop["outsider"].get(made["url"]).status_code == 403
    for _ in range(8):
        assert manager.post(f"{URL}/{ticket_id}/attachments",
                            files={"file": ("a.png", png, "image/png")}).status_code == 201  # fmt: skip
    eleventh = manager.post(f"{URL}/{ticket_id}/attachments",
                            files={"file": ("a.png", png, "image/png")})  # fmt: skip
    assert eleventh.status_code == 409 and eleventh.json()["code"] == "ticket.attachment_limit"
    with harness.db.read() as session:
        count = session.scalar(select(func.count()).select_from(TicketAttachment))
    assert count == 10
    assert len(manager.get(f"{URL}/{ticket_id}").json()["attachments"]) == 10


def test_resolving_emails_the_member_the_follow_up_link_after_the_commit(
    harness: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = _shop(harness)
    settings = harness.app.state.settings.model_copy(update={"smtp_host": "127.0.0.1"})
    harness.app.state.settings = settings

    def give_email(session: Any) -> None:
        member = session.get(Member, shop["member"].id)
        member.email_enc = cipher_for(settings).encrypt("email", "wang@example.com")

    harness.write(give_email)
    sent: list[dict[str, Any]] = []

    def send(_settings: Any, **message: Any) -> bool:
        sent.append(message)
        return True

    monkeypatch.setattr(mail, "send", send)
    ticket_id = _in_progress(shop)
    refused = shop["manager"].post(f"{URL}/{ticket_id}/resolve", json={"outcome": " "})
    assert refused.status_code == 422 and sent == []  # a failed resolve sends nothing
    resolved = shop["manager"].post(f"{URL}/{ticket_id}/resolve", json={"outcome": "已退款"})
    assert resolved.status_code == 200
    (message,) = sent
    assert message["to"] == ["wang@example.com"]
    assert resolved.json()["follow_up_url"] in message["text"]
    assert resolved.json()["number"] in message["subject"]
