"""Logging: text or JSON lines, and a filter that keeps the bot token out of every log record."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config import Settings

# Bot API URLs carry the token: .../bot123456:ABC-DEF/getUpdates (the colon sometimes URL-encoded)
TOKEN_PATTERN = re.compile(r"\d{3,}(?::|%3[Aa])[A-Za-z0-9_-]{10,}")

# The Telegram update being handled in this task (set by the handler table), for every log line it causes.
current_update_id: ContextVar[int | None] = ContextVar("current_update_id", default=None)


class AddUpdateId(logging.Filter):
    """Give each record an `update_id` attribute: the update this asyncio task is handling, else None."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "update_id", None) is None:
            record.update_id = current_update_id.get()
        return True


class RedactTokens(logging.Filter):
    """Rewrite anything shaped like a bot token, in the message and its arguments and exception text."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return TOKEN_PATTERN.sub("<redacted>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "update_id", None) is not None:
            entry["update_id"] = record.update_id
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message [update N]`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        update_id = getattr(record, "update_id", None)
        if update_id is None:
            return text
        first, newline, rest = text.partition("\n")
        return f"{first} [update {update_id}]{newline}{rest}"


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Every secret a log line could carry: the token, the webhook secret, database and SMTP passwords."""
    found = [s.get_secret_value() for s in (settings.telegram_bot_token, settings.webhook_secret) if s]
    for url in (settings.database_url, settings.smtp_url.get_secret_value() if settings.smtp_url else None):
        try:
            password = make_url(url).password if url else None
        except (ArgumentError, ValueError):
            password = None
        if password and len(str(password)) >= 4:
            found.append(str(password))
    return tuple(found)


def redacted(text: str, settings: Settings) -> str:
    """`text` safe to print: the token, the webhook secret and passwords replaced (for CLI error messages that
    quote an exception, e.g. python-telegram-bot's InvalidToken, whose message contains the token)."""
    return RedactTokens(secrets_of(settings)).redact(text)


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(AddUpdateId())
    handler.addFilter(RedactTokens(secrets_of(settings)))
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    logging.captureWarnings(True)  # library warnings go through the redaction filter too
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # httpx logs every request URL, which contains the token: redacted like everything, but too chatty
    # below DEBUG (one line per long poll). httpcore's connection-level detail is never needed.
    debug = root.level <= logging.DEBUG
    logging.getLogger("httpx").setLevel(logging.INFO if debug else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
