"""Email for the newsletter sign-up: the SMTP Mailer of confirmation codes and the address check.

LCBOT_SMTP_URL is `smtp://user:pass@host:port` (add `?starttls=1` to upgrade the connection) or
`smtps://...` for implicit TLS; LCBOT_MAIL_FROM is the sender. Sending runs stdlib smtplib in a thread;
any failure becomes a MailError the core turns into "could not send, try again later". The password
never appears in a message, a repr or a log line.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from bot.config import Settings
from bot.core.ports import EmailCheck, MailError
from bot.core.subscriptions import CODE_LIFETIME
from bot.i18n import Catalogs
from bot.replies import confirmation_email

log = logging.getLogger(__name__)
SMTP_TIMEOUT_S = 15
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    implicit_tls: bool = False
    starttls: bool = False

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """Parse LCBOT_SMTP_URL; errors name the problem, never the URL (it holds the password)."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise ValueError("LCBOT_SMTP_URL is not a valid URL (smtp://user:pass@host:port)") from None
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("LCBOT_SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("LCBOT_SMTP_URL has no host (smtp://user:pass@host:port)")
        implicit = parts.scheme == "smtps"
        query = {key.lower(): values[-1].lower() for key, values in parse_qs(parts.query).items()}
        return cls(
            host=parts.hostname,
            port=port or (465 if implicit else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
            starttls=not implicit and query.get("starttls", "") in _TRUE,
        )


class SmtpMailer:
    """Implements bot.core.ports.Mailer over SMTP."""

    def __init__(self, server: SmtpServer, sender: str, catalogs: Catalogs, timeout: float = SMTP_TIMEOUT_S) -> None:
        self.server = server
        self.sender = sender
        self.catalogs = catalogs
        self.timeout = timeout

    async def send_code(self, to: str, code: str, lang: str) -> None:
        subject, body = confirmation_email(self.catalogs(lang), code, int(CODE_LIFETIME.total_seconds() // 60))
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(body)
        message["Content-Language"] = lang  # after set_content, which resets the Content-* headers
        try:
            await asyncio.to_thread(self._send, message)
        except smtplib.SMTPRecipientsRefused:  # its text lists the address: personal data stays out of logs
            raise MailError("the mail server refused the recipient address") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError, UnicodeError) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}") from None

    def _send(self, message: EmailMessage) -> None:
        server = self.server
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if server.implicit_tls:
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        with smtp:
            if server.starttls:
                smtp.starttls(context=context)
            if server.username:
                smtp.login(server.username, server.password or "")
            smtp.send_message(message)


def build_mailer(settings: Settings, catalogs: Catalogs) -> SmtpMailer | None:
    """The mailer when LCBOT_SMTP_URL is set; None otherwise (addresses then stay unconfirmed)."""
    if settings.smtp_url is None or not settings.smtp_url.get_secret_value().strip():
        return None
    server = SmtpServer.from_url(settings.smtp_url.get_secret_value())
    sender = settings.mail_from or (server.username if server.username and "@" in server.username else None)
    if not sender:
        sender = f"noreply@{server.host}"
        log.warning("LCBOT_MAIL_FROM is not set; sending confirmation codes as %s", sender)
    return SmtpMailer(server, sender, catalogs)


def email_check(check_deliverability: bool = False) -> EmailCheck:
    """Validate and normalise an address with email-validator; DNS lookups only when asked for.

    email-validator is imported by the first check, not at start-up: few updates carry an address, and
    the import was a twentieth of a start."""
    async def check(address: str) -> str:
        from email_validator import EmailNotValidError, validate_email

        try:
            if check_deliverability:
                info = await asyncio.to_thread(validate_email, address, check_deliverability=True)
            else:
                info = validate_email(address, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(str(exc)) from None
        return info.normalized

    return check
