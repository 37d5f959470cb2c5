"""The newsletter in Telegram: /subscribe and its buttons, the sign-up steps, /unsubscribe, /mydata, /forget.

Each handler makes one call to `services.subscriptions` and renders the result with bot/replies.py. The
sign-up step (awaiting an email, a code, an organisation) is read from the database, never from memory.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping

from telegram import Message, Update, User
from telegram.constants import ChatType
from telegram.error import BadRequest

from bot.core.ports import Awaiting, Role, SubscriberStatus
from bot.core.subscriptions import DetailResult, StepResult
from bot.i18n import Translator
from bot.replies import (
    Reply,
    already_subscribed_notice,
    ask_email,
    ask_organisation,
    detail_result,
    email_result,
    expired,
    forget_confirmation,
    forget_kept,
    forgotten,
    language_menu,
    my_data,
    not_subscribed,
    private_only,
    sign_up_done,
    signup_screen,
    step_cancelled,
    subscription_menu,
    unsubscribed,
)
from bot.telegram.context import Context, edit, is_private, safe_answer_callback, send, translator_for
from bot.telegram.keyboards import decode

log = logging.getLogger(__name__)
MY_DATA_FILENAME = "lcbot-my-data.json"


async def show_sign_up(message: Message, context: Context, user: User, lang: str, source: str | None = None) -> None:
    """The sign-up screen (consent button); for a subscriber, their subscription and its options."""
    services = context.services
    t = services.catalogs(lang)
    if message.chat.type != ChatType.PRIVATE:
        await send(message, private_only(t, lang))
        return
    record = await services.subscriptions.start(user.id, lang, source)
    if record.status is SubscriberStatus.ACTIVE:
        await send(message, subscription_menu(t, services.library.faq, record))
    else:
        await send(message, signup_screen(t, lang))


async def subscribe(update: Update, context: Context) -> None:
    """/subscribe: what the newsletter is, the privacy notice and the consent button."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    t = await translator_for(context, user)
    await show_sign_up(message, context, user, t.lang)


async def unsubscribe(update: Update, context: Context) -> None:
    """/unsubscribe: stopped in one message; again, it says there is nothing to stop."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    t = await _translator(context, user)
    outcome = await context.services.subscriptions.unsubscribe(user.id)
    await send(message, unsubscribed(t, t.lang, outcome))


async def cancel(update: Update, context: Context) -> None:
    """/cancel: leave the sign-up step; the next message is a question again."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    t = await _translator(context, user)
    left = await context.services.subscriptions.leave_step(user.id)
    await send(message, step_cancelled(t, t.lang, left is not None))


async def show_my_data(update: Update, context: Context) -> None:
    """/mydata: everything stored about the user, as a message and as a JSON document."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    t = await _translator(context, user)
    if not is_private(update):
        await send(message, private_only(t, t.lang))
        return
    data = await context.services.subscriptions.my_data(user.id)
    await send(message, my_data(t, context.services.library.faq, t.lang, data))
    document = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await message.reply_document(document, filename=MY_DATA_FILENAME, do_quote=False)


async def forget(update: Update, context: Context) -> None:
    """/forget: asks for confirmation with two buttons; "yes" erases everything about the user."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    t = await _translator(context, user)
    await send(message, forget_confirmation(t, t.lang) if is_private(update) else private_only(t, t.lang))


async def continue_sign_up(message: Message, context: Context, user: User, text: str) -> bool:
    """A text message in a private chat: when a sign-up step awaits it, that step consumes it (True)."""
    services = context.services
    try:
        result = await services.subscriptions.handle_text(user.id, text)
    except Exception:  # storage trouble: answer it as a question rather than not at all
        log.warning("could not read the sign-up step; answering as a question", exc_info=True)
        return False
    if result is None:
        return False
    await send(message, _step_reply(context, result))
    return True


def _step_reply(context: Context, result: StepResult) -> Reply:
    services = context.services
    lang = result.subscriber.language if result.subscriber else services.library.answerer.policy.default
    t = services.catalogs(lang)
    if isinstance(result, DetailResult):
        return detail_result(t, services.library.faq, result, t.lang)
    return email_result(t, services.library.faq, result, t.lang)


async def on_button(update: Update, context: Context) -> None:
    """The newsletter's buttons: consent, the optional steps, resend, done, unsubscribe, /forget's choice."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    message = query.message if isinstance(query.message, Message) else None
    callback = decode(query.data)
    services = context.services
    subscriptions, faq = services.subscriptions, services.library.faq
    t = await _translator(context, user)
    if callback is None or message is None or not _still_valid(callback.action, callback.arg, faq.languages):
        await safe_answer_callback(update, t._("This menu has expired."))
        if message is not None:
            await send(message, expired(t, faq, t.lang))
        return
    action, arg = callback.action, callback.arg
    if action == "subscribe-consent":
        result = await subscriptions.consent(user.id, arg)
        if not result.newly_subscribed:
            await safe_answer_callback(update, already_subscribed_notice(services.catalogs(arg)))
            return
        await safe_answer_callback(update)
        await _drop_buttons(message)
        await send(message, subscription_menu(services.catalogs(arg), faq, result.subscriber, newly=True))
        return
    await safe_answer_callback(update)
    if action in ("subscribe-email", "subscribe-organisation"):
        step = Awaiting.EMAIL if action == "subscribe-email" else Awaiting.ORGANISATION
        asked = await subscriptions.ask_for(user.id, step)
        if asked is None:
            await send(message, not_subscribed(t, t.lang))
        else:
            await send(message, (ask_email if step is Awaiting.EMAIL else ask_organisation)(t, t.lang))
    elif action == "subscribe-role":
        result = await subscriptions.set_role(user.id, Role(arg))
        await send(message, detail_result(t, faq, result, t.lang, role=True))
    elif action == "subscribe-resend":
        await send(message, email_result(t, faq, await subscriptions.send_code(user.id), t.lang))
    elif action == "subscribe-done":
        await subscriptions.leave_step(user.id)
        await _drop_buttons(message)
        await send(message, sign_up_done(t, t.lang))
    elif action == "subscribe-language":
        await subscriptions.leave_step(user.id)
        await send(message, language_menu(t, faq, t.lang))  # its buttons are /language's
    elif action == "unsubscribe":
        await send(message, unsubscribed(t, t.lang, await subscriptions.unsubscribe(user.id)))
    elif action == "confirm" and arg == "forget":
        erased = await subscriptions.forget(user.id)
        await edit(message, forgotten(t, t.lang, erased))  # nothing is written about the user after this
    elif action == "cancel" and arg == "forget":
        await edit(message, forget_kept(t, t.lang))


async def _translator(context: Context, user: User) -> Translator:
    """The subscriber's language once subscribed (the newsletter's), else the conversation's."""
    services = context.services
    try:
        record = await services.subscriptions.get(user.id)
    except Exception:
        log.warning("cannot read the subscription; using the user's language", exc_info=True)
        record = None
    if record is not None and record.status is not SubscriberStatus.PENDING:
        return services.catalogs(record.language)
    return await translator_for(context, user)


def _still_valid(action: str, arg: str, languages: Mapping[str, object]) -> bool:
    """Buttons from an older keyboard (a language or role no longer offered) say the menu expired."""
    if action == "subscribe-consent":
        return arg in languages
    if action == "subscribe-role":
        return arg in {role.value for role in Role}
    if action in ("confirm", "cancel"):
        return arg == "forget"
    return True


async def _drop_buttons(message: Message) -> None:
    """Remove a screen's buttons once used, so an old consent button is not tapped twice."""
    with contextlib.suppress(BadRequest):
        await message.edit_reply_markup(None)
