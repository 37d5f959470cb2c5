"""The broadcast's Telegram side: send one newsletter message and say what became of it, never raising.

What happened to a message decides whether it may be sent again: Telegram's own error answers (400, 403,
429, 5xx) mean it was not delivered; a failure before the request left (connection refused, connect or
pool timeout) likewise; but a request that left and got no answer (read timeout, dropped connection) may
have been delivered, so it is *uncertain* and is never resent automatically.
"""

from __future__ import annotations

import datetime as dtm
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.config import Settings
from bot.core.broadcast import CONCURRENCY
from bot.core.delivery import SenderUnusable, SendResult

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)  # the request never left


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22.2+ warns that the int form will become a timedelta: both are read
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


class TelegramSender:
    """Implements bot.core.broadcast.Sender with a python-telegram-bot Bot."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, chat_id: int, html: str) -> SendResult:
        try:
            message = await self._bot.send_message(chat_id, html, parse_mode=ParseMode.HTML,
                                                   link_preview_options=NO_PREVIEW)
        except RetryAfter as exc:
            return SendResult.retry(_seconds(exc))
        except Forbidden as exc:
            return SendResult.blocked(exc.message)
        except InvalidToken as exc:
            raise SenderUnusable("Telegram rejected the bot token (TELEGRAM_BOT_TOKEN)") from exc
        except BadRequest as exc:  # before NetworkError, its base class: Telegram refused this message
            return SendResult.failed(exc.message)
        except TimedOut as exc:
            if isinstance(exc.__cause__, _NOT_SENT):
                return SendResult.failed(f"timed out before sending: {exc.message}", retryable=True)
            return SendResult.uncertain(f"no answer from Telegram in time: {exc.message}")
        except NetworkError as exc:
            cause = exc.__cause__
            if cause is None or isinstance(cause, (TelegramError, *_NOT_SENT)):
                return SendResult.failed(exc.message, retryable=True)  # Telegram answered 5xx, or never reached
            return SendResult.uncertain(exc.message)  # the connection broke after the request left
        except TelegramError as exc:  # ChatMigrated, Conflict...: not for a private chat, not worth a retry
            return SendResult.failed(exc.message)
        return SendResult.sent(message.message_id)


@asynccontextmanager
async def broadcast_bot(settings: Settings, concurrency: int = CONCURRENCY) -> AsyncIterator[Bot]:
    """A Bot of its own for a broadcast: its own connections, so the broadcast never starves the replies."""
    if not settings.token:
        raise SenderUnusable("TELEGRAM_BOT_TOKEN is not set")
    request = HTTPXRequest(connection_pool_size=concurrency + 4, connect_timeout=10, read_timeout=15,
                           write_timeout=15, pool_timeout=30)
    bot = Bot(settings.token, base_url=settings.telegram_api_url, request=request)
    try:
        async with bot:
            yield bot
    except InvalidToken as exc:
        raise SenderUnusable("Telegram rejected the bot token (TELEGRAM_BOT_TOKEN)") from exc
