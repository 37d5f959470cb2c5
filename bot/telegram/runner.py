"""`lcbot run`: start the services and poll Telegram until SIGINT/SIGTERM, then shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys

from telegram.error import InvalidToken

from bot.bootstrap import Services, build_services
from bot.config import Settings
from bot.logs import setup_logging
from bot.telegram.admin import start_faq_watch, stop_broadcasts
from bot.telegram.application import ALLOWED_UPDATES, build_application, publish_profile

log = logging.getLogger(__name__)


def run_bot(settings: Settings, *, webhook: bool = False) -> int:
    setup_logging(settings)
    if webhook:
        from bot.webhook_server import serve_webhook, webhook_problems  # the webhook layer, loaded only here

        problems = webhook_problems(settings)
        for problem in problems:
            print(f"lcbot: {problem}", file=sys.stderr)
        if problems:
            return 2
    try:
        return asyncio.run(serve_webhook(settings) if webhook else poll(settings))
    except KeyboardInterrupt:
        return 0
    except InvalidToken:  # its message quotes the token: say it in our words instead
        log.error("Telegram rejected the bot token (TELEGRAM_BOT_TOKEN); check it with @BotFather")
        return 1
    except Exception:  # through the logging filter, so a URL with the token in it is redacted
        log.critical("lcbot stopped on an unexpected error", exc_info=True)
        return 1


async def poll(settings: Settings, stop: asyncio.Event | None = None, *, poll_timeout: float = 10) -> int:
    """Long polling until `stop` is set (or a signal arrives)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with build_services(settings) as services:
        # Telegram serves getUpdates to one client only: this process alone sees sign-up steps opened and
        # languages chosen.
        await services.store.subscribers.track_open_steps()
        await services.store.users.track_languages()
        application = build_application(services)
        # What start-up built (modules, the FAQ index, catalogs) lives as long as the process: taken
        # out of the garbage collector's generations, it is no longer walked by each full collection,
        # which otherwise stalls replies for ~100 ms at a time.
        gc.freeze()
        async with application:
            await application.start()
            application.create_task(publish_profile(application), name="publish-profile")
            # A plain task, cancelled below: Application.stop() waits for its own create_task tasks,
            # and this one never ends by itself.
            trimming = asyncio.create_task(trim_question_log(services), name="trim-question-log")
            watching = start_faq_watch(application)  # likewise a plain task
            assert application.updater is not None
            await application.updater.start_polling(
                timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
            )
            log.info("lcbot is polling Telegram as @%s", application.bot.username)
            await stop.wait()
            log.info("stopping")
            trimming.cancel()
            if watching is not None:
                watching.cancel()
            await application.updater.stop()
            await stop_broadcasts(application)
            await application.stop()
    return 0


async def trim_question_log(services: Services, every: float = 24 * 3600) -> None:
    """Keep the question log within its retention period (LCBOT_QUESTION_LOG_DAYS), daily."""
    days = services.settings.question_log_days
    while True:
        try:
            removed = await services.store.questions.purge_older_than(days)
            if removed:
                log.info("question log: removed %d questions older than %d days", removed, days)
        except Exception:
            log.warning("could not trim the question log; will try again", exc_info=True)
        await asyncio.sleep(every)
