"""The follow-up question to the member after a complaint is resolved, by email.

When the ticket is resolved, the member has an email address and SMTP is set up, one email
with the follow-up link goes out -- after the commit, from the session's ``after_commit``
hook (a rolled-back resolve sends nothing). A failed send is logged and not retried: the link
is also on the ticket for staff to pass on. The answer comes back through the survey part's
page and :func:`shouyin.service.tickets.record_follow_up`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session

from shouyin.config import Settings
from shouyin.customers.keys import cipher_for
from shouyin.customers.models import Member
from shouyin.service.models import Ticket
from shouyin.service.ticket_views import follow_up_link
from shouyin.shared import mail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FollowUpMail:
    to: str
    number: str
    link: str

    @property
    def subject(self) -> str:
        return f"[shouyin] 您的反馈处理结果 / Your complaint {self.number}"

    @property
    def text(self) -> str:
        return (
            f"您好，您反馈的问题（{self.number}）已处理。您对处理结果满意吗？请点击链接评分：\n"
            f"{self.link}\n\n"
            f"Hello, your complaint {self.number} has been resolved. Were you satisfied with "
            f"how we handled it? Tell us here:\n{self.link}\n"
        )


def message_for(session: Session, ticket: Ticket, settings: Settings) -> FollowUpMail | None:
    """The email to send, or None (no SMTP, no member, no email, no link, already answered)."""
    if not mail.enabled(settings) or ticket.member_id is None:
        return None
    link = follow_up_link(ticket, settings)
    if link is None:
        return None
    member = session.get(Member, ticket.member_id)
    if member is None or member.status != "active" or not member.email_enc:
        return None
    try:
        address = cipher_for(settings).decrypt("email", member.email_enc)
    except Exception:  # a key that was rotated away: nothing we can send to
        log.warning("cannot read the email of member %s", member.id)
        return None
    return FollowUpMail(to=address, number=ticket.number, link=link)


def queue_mail(session: Session, *, ticket: Ticket, settings: Settings) -> None:
    """Send the follow-up email after this session commits."""
    message = message_for(session, ticket, settings)
    if message is None:
        return

    def send_after_commit(_session: Session) -> None:
        try:
            mail.send(settings, to=[message.to], subject=message.subject, text=message.text)
        except Exception:  # SMTP refused or unreachable: the link stays on the ticket
            log.exception("follow-up email for complaint %s failed", message.number)

    def forget(_session: Session) -> None:
        # Rolled back (a page that catches an error and shows the form again, then commits
        # nothing of this): the resolve never happened, so no email either.
        if event.contains(session, "after_commit", send_after_commit):
            event.remove(session, "after_commit", send_after_commit)

    event.listen(session, "after_commit", send_after_commit, once=True)
    event.listen(session, "after_rollback", forget, once=True)
