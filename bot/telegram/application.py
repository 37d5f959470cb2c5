"""Build the python-telegram-bot Application: the bot, the ordered handler table, the error handler."""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.bootstrap import Services
from bot.core.ports import StorageUnavailable
from bot.replies import apology, bot_commands, bot_description, bot_short_description, try_again_later
from bot.telegram import admin, buttons, commands, newsletter, questions
from bot.telegram.broadcasts import BroadcastJobs
from bot.telegram.context import (
    CONTEXT_TYPES,
    Context,
    LcbotApplication,
    safe_answer_callback,
    send,
    translator_for,
)
from bot.telegram.guards import CountingUpdateProcessor, limit_flood, note_update, timed
from bot.telegram.keyboards import newsletter_pattern
from bot.telegram.lcbot_bot import LcbotBot
from bot.telegram.transport import AiohttpRequest, NotingRequest

log = logging.getLogger(__name__)

# What we ask Telegram for; anything else (polls, reactions, channel posts...) is never delivered.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]


def build_application(services: Services, *, updater: bool = True) -> LcbotApplication:
    settings = services.settings
    # Replies and admin-started broadcasts share one pacer: each reply takes a broadcast slot.
    broadcasts = BroadcastJobs(services)
    if not settings.token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    bot = LcbotBot(
        settings.token,
        base_url=settings.telegram_api_url,
        request=NotingRequest(broadcasts.pacer.note_send, connection_pool_size=64, connect_timeout=10,
                              read_timeout=15, write_timeout=15),
        get_updates_request=AiohttpRequest(connect_timeout=10, read_timeout=15),
    )
    builder = (ApplicationBuilder().bot(bot).context_types(CONTEXT_TYPES)
               .concurrent_updates(CountingUpdateProcessor(64)))
    if not updater:
        builder = builder.updater(None)
    application: LcbotApplication = builder.build()
    application.bot_data.services = services
    application.bot_data.broadcasts = broadcasts
    add_handlers(application)
    return application


def add_handlers(application: Application) -> None:
    """The handler table. Order matters: known commands first, then unknown commands, then free text.

    Before them, for every update: group -2 notes it (log context, metrics), group -1 applies the
    per-user flood limit and may stop the update there.
    """
    application.add_handler(TypeHandler(Update, note_update), group=-2)
    application.add_handler(TypeHandler(Update, limit_flood), group=-1)
    message_updates = filters.UpdateType.MESSAGE  # edited messages and channel posts are not questions
    for name, callback in (
        ("start", commands.start),
        ("help", commands.show_help),
        ("faq", commands.show_faq),
        ("language", commands.choose_language),
        ("privacy", commands.show_privacy),
        ("subscribe", newsletter.subscribe),
        ("unsubscribe", newsletter.unsubscribe),
        ("mydata", newsletter.show_my_data),
        ("forget", newsletter.forget),
        ("cancel", newsletter.cancel),
        # Staff only (LCBOT_ADMIN_IDS, checked on each call); before the unknown-command handler.
        ("stats", admin.show_stats),
        ("unanswered", admin.show_unanswered),
        ("reload", admin.reload_faq),
        ("broadcast", admin.start_broadcast),
    ):
        application.add_handler(CommandHandler(name, timed(callback), filters=message_updates))
    # The newsletter's buttons before the general one, which treats any other button.
    application.add_handler(CallbackQueryHandler(timed(newsletter.on_button), pattern=newsletter_pattern))
    application.add_handler(CallbackQueryHandler(timed(buttons.on_button)))
    application.add_handler(MessageHandler(message_updates & filters.COMMAND, commands.unknown))
    application.add_handler(MessageHandler(message_updates & filters.TEXT, timed(questions.answer_question)))
    application.add_handler(MessageHandler(message_updates & filters.ChatType.PRIVATE & ~filters.TEXT,
                                           questions.reply_text_only))
    application.add_error_handler(on_error)


async def on_error(update: object, context: Context) -> None:
    """Log the fault with the update id; the user gets a short apology in their language, or "please try
    again in a minute" when the database is out of reach."""
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    unavailable = isinstance(error, StorageUnavailable)
    metrics = context.services.metrics
    metrics.errors.labels(type(error).__name__).inc()
    if unavailable:
        metrics.storage_unavailable.inc()
        log.warning("database unreachable while handling update %s: %s", update_id, error,
                    extra={"update_id": update_id})
    else:
        log.error("error while handling update %s", update_id, exc_info=error, extra={"update_id": update_id})
    if not isinstance(update, Update) or update.effective_message is None or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    try:
        t = await translator_for(context, update.effective_user)
        if update.callback_query is not None:
            await safe_answer_callback(update)
        await send(update.effective_message, (try_again_later if unavailable else apology)(t, t.lang))
    except Exception:  # the apology itself failed (Telegram or network down): nothing more to do
        log.warning("could not send the apology for update %s", update_id, exc_info=True)


async def publish_profile(application: Application) -> None:
    """Command menu, description and short description in every language, so Telegram shows them localised."""
    services: Services = application.bot_data.services
    catalogs, bot = services.catalogs, application.bot
    default = catalogs(services.library.answerer.policy.default)
    try:
        for lang in (None, *catalogs.languages):
            t = catalogs(lang) if lang else default
            await bot.set_my_commands([BotCommand(c, d) for c, d in bot_commands(t)], language_code=lang)
            await bot.set_my_description(bot_description(t), language_code=lang)
            await bot.set_my_short_description(bot_short_description(t), language_code=lang)
    except TelegramError:
        log.warning("could not publish the command menu and descriptions; will retry at next start",
                    exc_info=True)
