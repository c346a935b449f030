"""Sending email through the SMTP settings (smtplib). No SMTP host set: nothing is sent."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from shouyin.config import Settings

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 15


def recipients(value: str | None) -> list[str]:
    """A comma-separated setting as a list of addresses."""
    return [x.strip() for x in (value or "").split(",") if x.strip()]


def enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def send(
    settings: Settings, *, to: list[str], subject: str, text: str, html: str | None = None
) -> bool:
    """Send one message; False when email is off or there is nobody to send to.
    SMTP errors (refused, unreachable) are raised: the caller decides to try again later."""
    if not settings.smtp_host or not to:
        return False
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)
    log.info("mail sent to %s: %s", message["To"], subject)
    return True
