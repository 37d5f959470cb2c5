"""Logging: text or JSON lines, and a filter that keeps the bot token out of every log record."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from bot.config import Settings

# Bot API URLs carry the token: .../bot123456:ABC-DEF/getUpdates
TOKEN_PATTERN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{10,}")


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
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    secrets = tuple(s.get_secret_value() for s in (settings.telegram_bot_token, settings.webhook_secret) if s)
    handler.addFilter(RedactTokens(secrets))
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("httpx", "httpcore"):  # they log request URLs, which contain the token
        logging.getLogger(noisy).setLevel(logging.WARNING)
