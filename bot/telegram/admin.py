"""Staff commands (/stats, /unanswered, /reload, /broadcast) for the users in LCBOT_ADMIN_IDS; FAQ-edit alerts.

Anyone else sending these commands gets the usual unknown-command hint and nothing else. The check is made
on every call, and only in private chats: a report sent in a group would be read by all its members.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.core.markup import escape, split_message
from bot.replies import Reply
from bot.staff.reload import FaqWatcher, describe, reload_content
from bot.staff.render import stats_html, unanswered_html
from bot.telegram import commands
from bot.telegram.broadcasts import issues_text
from bot.telegram.context import NO_PREVIEW, Context, LcbotApplication, is_private, send

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30
MAX_DAYS = 3660
UNANSWERED_GROUPS = 10

Handler = Callable[[Update, Context], Awaitable[None]]


def is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and user.id in context.services.settings.admin_ids and is_private(update)


def admin_only(handler: Handler) -> Handler:
    """Run `handler` for admins; anyone else gets what any unknown command gets."""
    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        if is_admin(update, context):
            await handler(update, context)
        else:
            await commands.unknown(update, context)

    return guarded


def _days(context: Context) -> int:
    """`/stats 7`: the period in days (default 30)."""
    arg = (context.args or [""])[0]
    return min(int(arg), MAX_DAYS) if arg.isdigit() and int(arg) > 0 else DEFAULT_DAYS


async def _reply(update: Update, html: str) -> None:
    if update.effective_message is not None:
        await send(update.effective_message, Reply(html, "en"))


@admin_only
async def show_stats(update: Update, context: Context) -> None:
    """Admins: questions per day and language, answer rates and votes per topic (`/stats 7`: last 7 days)."""
    from bot.staff.reports import gather_stats  # imports PyYAML, which a start need not import

    stats = await gather_stats(context.services.store, _days(context))
    await _reply(update, stats_html(stats))


@admin_only
async def show_unanswered(update: Update, context: Context) -> None:
    """Admins: the questions the FAQ missed, similar ones grouped, most asked first, with the closest topic."""
    from bot.staff.reports import gather_unanswered  # imports PyYAML, which a start need not import

    days = _days(context)
    services = context.services
    total, groups = await gather_unanswered(services.store, services.library.answerer, days)
    await _reply(update, unanswered_html(total, groups, UNANSWERED_GROUPS, days))


@admin_only
async def reload_faq(update: Update, context: Context) -> None:
    """Admins: read the FAQ files and the interface translations again; says what was loaded or why not."""
    result = await reload_content(context.services)
    await _reply(update, escape(describe(result, context.services)))


@admin_only
async def start_broadcast(update: Update, context: Context) -> None:
    """Admins: `/broadcast ID` sends a loaded newsletter issue in the background and reports when done;
    `/broadcast` alone lists the issues."""
    broadcasts, store = context.bot_data.broadcasts, context.services.store.broadcasts
    if not context.args:
        await _reply(update, escape(issues_text(await store.issues(), broadcasts.running())))
        return
    issue = await store.get_issue(context.args[0])
    if issue is None:
        await _reply(update, escape(f"No issue {context.args[0]} is loaded. Load it on the server first: "
                                    "lcbot broadcast FILE --load-only"))
        return
    bot, admin_id = context.bot, update.effective_user.id  # type: ignore[union-attr]

    async def report(chat_id: int, text: str) -> None:
        for part in split_message(escape(text)):
            await bot.send_message(chat_id, part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)

    if broadcasts.start(issue, admin_id, report):
        await _reply(update, escape(f"Sending issue {issue.id} in the background; the summary will come here "
                                    "when it is done. The bot keeps answering meanwhile."))
    else:
        await _reply(update, escape(f"Issue {issue.id} is already being sent by this bot."))


async def stop_broadcasts(application: LcbotApplication) -> None:
    """At shutdown: the admin-started broadcasts finish the messages in flight and stop (a rerun continues)."""
    await application.bot_data.broadcasts.stop_all()


async def notify_admins(bot: Bot, admin_ids: frozenset[int], text: str) -> None:
    """Send plain `text` to every admin; best effort (an admin who never started the bot cannot be reached)."""
    for admin_id in sorted(admin_ids):
        try:
            for part in split_message(escape(text)):
                await bot.send_message(admin_id, part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)
        except TelegramError as exc:
            log.warning("could not tell admin %s about the FAQ: %s", admin_id, exc)


def start_faq_watch(application: LcbotApplication) -> asyncio.Task[None] | None:
    """Watch the FAQ folder in a plain task (the caller cancels it at shutdown: Application.stop() would
    wait for its own tasks, and this one never ends). None when LCBOT_FAQ_WATCH_SECONDS is 0."""
    services = application.bot_data.services
    every = services.settings.faq_watch_seconds
    if every <= 0:
        return None

    async def notify(text: str) -> None:
        await notify_admins(application.bot, services.settings.admin_ids, text)

    return asyncio.create_task(FaqWatcher(services, notify, every).run(), name="watch-faq")
