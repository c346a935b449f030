"""The SLA check's email: the deadlines just missed, to ``complaint_alert_to``.

Sent after the check committed, so a slow or failing mail server never holds the database.
A failed send is logged; the breaches stay escalated in the app (the notices), and are not
mailed again: a late email about an old breach helps nobody.
Customers' free text (titles, descriptions) stays out of the email: only the ticket number,
store, deadline and a link for those allowed to open the ticket.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from shouyin.config import Settings
from shouyin.shared import mail

if TYPE_CHECKING:
    from shouyin.service.sla import Escalation

log = logging.getLogger(__name__)
WHAT = {"response": "回复超时 response", "resolution": "解决超时 resolution"}


def email_escalations(settings: Settings, escalated: Sequence[Escalation]) -> int:
    """One email listing the escalations; how many it listed (0: off, nobody, or failed)."""
    to = mail.recipients(settings.complaint_alert_to)
    if not escalated or not mail.enabled(settings) or not to:
        return 0
    base = settings.base_url()
    subject = f"[shouyin] 投诉超时 Complaint deadlines missed: {len(escalated)}"
    try:
        mail.send(settings, to=to, subject=subject, text=_text(base, escalated),
                  html=_html(base, escalated))  # fmt: skip
    except Exception:  # any SMTP or network failure
        log.exception("SLA email failed: %d escalations not mailed", len(escalated))
        return 0
    return len(escalated)


def _text(base: str, escalated: Sequence[Escalation]) -> str:
    head = "投诉超时 Complaint deadlines missed\n\n"
    rows = [
        f"{x.number}  {x.store}  {WHAT[x.deadline]}  {x.due}  {base}/office/tickets/{x.ticket_id}"
        for x in escalated
    ]
    return head + "\n".join(rows) + "\n"


def _html(base: str, escalated: Sequence[Escalation]) -> str:
    rows = "".join(
        f'<tr><td><a href="{html.escape(base)}/office/tickets/{x.ticket_id}">'
        f"{html.escape(x.number)}</a></td><td>{html.escape(x.store)}</td>"
        f"<td>{WHAT[x.deadline]}</td><td>{html.escape(x.due)}</td></tr>"
        for x in escalated
    )
    return (
        "<p>投诉超时 Complaint deadlines missed</p>"
        "<table><tr><th>投诉 Complaint</th><th>门店 Store</th><th>超时 Deadline</th>"
        f"<th>期限 Due</th></tr>{rows}</table>"
    )
