"""A typed handler context (PTB's ContextTypes) and the few helpers every handler shares."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

from telegram import LinkPreviewOptions, Message, Update, User
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.bootstrap import Services
from bot.core.assistant import Asker
from bot.core.markup import split_message
from bot.i18n import Translator
from bot.replies import Reply
from bot.telegram.keyboards import keyboard_json, markup
from bot.telegram.lcbot_bot import LcbotBot

if TYPE_CHECKING:
    from bot.telegram.broadcasts import BroadcastJobs

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
MAX_RETRY_AFTER = 5.0  # wait at most this long for Telegram's flood control before giving up on a reply
# Telegram 5xx answers and timeouts: a reply is tried this many times in all, waiting this long between.
# A timed-out request may have reached Telegram all the same; a rare duplicate beats a lost answer.
SEND_ATTEMPTS = 3
SEND_BACKOFF = (0.5, 1.5)
# With more updates than this in hand the process is busy: a late reply is late because of the queue,
# and "typing…" requests would only lengthen it, so they are skipped.
BUSY_UPDATES = 8


class BotData:
    """What PTB keeps in `bot_data`: the services and the admin-started broadcasts, set once at start."""

    services: Services
    broadcasts: BroadcastJobs


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    @property
    def services(self) -> Services:
        return self.bot_data.services


CONTEXT_TYPES = ContextTypes(context=Context, bot_data=BotData)
LcbotApplication = Application[ExtBot[None], Context, dict[Any, Any], dict[Any, Any], BotData, Any]


def asker_of(user: User) -> Asker:
    return Asker(user.id, user.language_code)


async def translator_for(context: Context, user: User | None) -> Translator:
    """The language for commands and menus: the saved choice, Telegram's language, the default."""
    services = context.services
    if user is None:
        return services.catalogs(services.library.answerer.policy.default)
    try:
        lang = await services.assistant.language_of(asker_of(user))
    except Exception:  # storage down: fall back to the user's app language
        log.warning("cannot read the user's language; using Telegram's", exc_info=True)
        lang = services.library.answerer.policy.preferred(None, user.language_code)
    return services.catalogs(lang)


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def send(message: Message, reply: Reply, question_id: int | None = None) -> None:
    """Send a reply under Telegram's limits: split below 4,096 characters, buttons on the last part."""
    bot = cast(LcbotBot, message.get_bot())
    parts = split_message(reply.text)
    for number, part in enumerate(parts, start=1):
        keyboard = keyboard_json(reply, question_id) if number == len(parts) else None
        await with_telegram_retries(lambda p=part, k=keyboard: bot.send_reply(message, p, k))  # type: ignore[misc]


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's `retry_after` in seconds, whichever type python-telegram-bot gives it (int or timedelta)."""
    with warnings.catch_warnings():  # PTB 22.2+ warns that the int form will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return float(value) if isinstance(value, int | float) else value.total_seconds()


def is_retryable(error: Exception) -> bool:
    """Telegram's 5xx answers, timeouts and dropped connections (PTB: NetworkError, but not BadRequest)."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


async def with_telegram_retries(call: Any, *, attempts: int = SEND_ATTEMPTS,
                                backoff: tuple[float, ...] = SEND_BACKOFF) -> Any:
    """Run a Bot API call: 429 waits `retry_after` (up to MAX_RETRY_AFTER), 5xx/timeouts are retried."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            if wait > MAX_RETRY_AFTER or attempt == attempts:
                raise
            await asyncio.sleep(wait)
        except TelegramError as exc:
            if not is_retryable(exc) or attempt == attempts:
                raise
            delay = backoff[min(attempt - 1, len(backoff) - 1)]
            log.warning("Telegram call failed (%s: %s); retry %d of %d in %.1fs",
                        type(exc).__name__, exc, attempt, attempts - 1, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def edit(message: Message, reply: Reply) -> None:
    """Edit a menu in place; an unchanged menu is fine, and a message that can no longer be edited (deleted,
    too old) gets the menu as a new message instead."""
    try:
        await with_telegram_retries(lambda: message.edit_text(
            reply.text, parse_mode=ParseMode.HTML, reply_markup=markup(reply), link_preview_options=NO_PREVIEW))
    except BadRequest as exc:
        problem = str(exc).lower()
        if "not modified" in problem:
            return
        if "not found" not in problem and "can't be edited" not in problem:
            raise
        await send(message, reply)


async def safe_answer_callback(update: Update, text: str | None = None) -> None:
    """Stop the button's spinner; a query too old to answer is harmless."""
    if update.callback_query is None:
        return
    with contextlib.suppress(BadRequest, Forbidden):
        await update.callback_query.answer(text)


@contextlib.asynccontextmanager
async def typing(context: Context, chat_id: int, after: float = 0.6) -> AsyncIterator[None]:
    """Show "typing…" only when the reply takes longer than `after` seconds and the process is not busy."""
    async def show() -> None:
        await asyncio.sleep(after)
        if getattr(context.application.update_processor, "pending", 0) > BUSY_UPDATES:
            return
        with contextlib.suppress(TelegramError):
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)

    task = asyncio.create_task(show())
    try:
        yield
    finally:
        task.cancel()
