"""What runs before the handlers for every update: note it (log context, metrics) and the per-user flood limit."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import ApplicationHandlerStop, SimpleUpdateProcessor

from bot.core.flood import Verdict
from bot.logs import current_update_id
from bot.replies import slow_down
from bot.telegram.context import Context, is_private, safe_answer_callback, send, translator_for

log = logging.getLogger(__name__)

Callback = Callable[[Update, Context], Awaitable[Any]]


class CountingUpdateProcessor(SimpleUpdateProcessor):
    """python-telegram-bot's concurrent update processing, counting the updates taken from the queue and
    not finished yet (waiting for a slot or running): the webhook answers 503 past a limit, so an overload
    makes Telegram hold updates instead of this process piling them up in memory."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self.pending = 0

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self.pending += 1
        try:
            await super().process_update(update, coroutine)
        finally:
            self.pending -= 1


def update_type(update: Update) -> str:
    """The update's kind as the Bot API names it ("message", "callback_query", ...), "unknown" if none."""
    for kind in Update.ALL_TYPES:
        if getattr(update, kind, None) is not None:
            return kind
    return "unknown"


async def note_update(update: object, context: Context) -> None:
    """Group -2: every later log line of this update carries its id; count it by type."""
    if not isinstance(update, Update):
        return
    current_update_id.set(update.update_id)
    context.services.metrics.updates.labels(update_type(update)).inc()


async def limit_flood(update: object, context: Context) -> None:
    """Group -1: over the limit, the user is asked once to slow down and the update goes no further."""
    if not isinstance(update, Update) or update.effective_user is None:
        return
    counted = update.callback_query is not None or (update.message is not None and is_private(update))
    if not counted:
        return
    verdict = context.services.flood.check(update.effective_user.id)
    if verdict is Verdict.ALLOW:
        return
    context.services.metrics.flood_limited.inc()
    if verdict is Verdict.WARN:
        log.info("user %s is over the flood limit; asked to slow down", update.effective_user.id)
        t = await translator_for(context, update.effective_user)
        if update.callback_query is not None:
            await safe_answer_callback(update, slow_down(t, t.lang).text)
        elif update.effective_message is not None:
            await send(update.effective_message, slow_down(t, t.lang))
    elif update.callback_query is not None:
        await safe_answer_callback(update)  # stop the spinner, say nothing
    raise ApplicationHandlerStop


def timed(callback: Callback) -> Callback:
    """The handler, with its duration (start to last reply sent) in the reply latency histogram."""
    name = callback.__name__

    @functools.wraps(callback)
    async def run(update: Update, context: Context) -> Any:
        started = time.perf_counter()
        try:
            return await callback(update, context)
        finally:
            context.services.metrics.reply_seconds.labels(name).observe(time.perf_counter() - started)

    return run
