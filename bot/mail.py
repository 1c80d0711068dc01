"""Sending one email over SMTP, TLS-checked: safeguarding alerts and teacher notices."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bot.models import utcnow
from bot.settings import Settings


def new_message(subject: str, to: tuple[str, ...], body: str, settings: Settings) -> EmailMessage:
    """A plain-text, machine-sent message from SMTP_SENDER."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail.sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=settings.mail.sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Verifies the mail server's certificate and name: SMTP_CA_FILE, else the system store."""
    return ssl.create_default_context(cafile=settings.mail.ca_file)


def send_email(message: EmailMessage, to: tuple[str, ...], settings: Settings) -> list[str]:
    """Send one message; the addresses the server accepted. Raises on failure.

    Over TLS unless SMTP_SECURITY=none: SMTPS, or STARTTLS, which must succeed (a server
    that does not offer it raises SMTPNotSupportedError; never a fall-back to plain text).
    The login comes only after TLS.
    """
    host, port, timeout = settings.mail.host, settings.mail.port, settings.mail.timeout_seconds
    security = settings.mail.security
    if security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=tls_context(settings)
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if security == "starttls":
            smtp.starttls(context=tls_context(settings))
        if settings.mail.username:
            if security == "none":  # Settings refuses this too
                raise smtplib.SMTPNotSupportedError("no login without TLS")
            smtp.login(
                settings.mail.username,
                settings.mail.password.get_secret_value() if settings.mail.password else "",
            )
        refused = smtp.send_message(message, from_addr=settings.mail.sender, to_addrs=list(to))
    return [address for address in to if address not in refused]
