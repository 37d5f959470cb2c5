"""Inline button taps: open a topic, browse the menu in place, set the language, give feedback."""

from __future__ import annotations

import contextlib
import logging

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.replies import (
    category_menu,
    expired,
    faq_answer,
    feedback_thanks,
    language_set,
    none_of_these,
    topic_menu,
)
from bot.telegram import newsletter
from bot.telegram.context import Context, asker_of, edit, safe_answer_callback, send, translator_for
from bot.telegram.keyboards import decode

log = logging.getLogger(__name__)


async def on_button(update: Update, context: Context) -> None:
    """Every tap gets an answer, so no button keeps spinning; unknown or old buttons say the menu expired."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    message = query.message if isinstance(query.message, Message) else None
    services = context.services
    faq = services.library.faq
    callback = decode(query.data)
    t = await translator_for(context, user)
    lang = t.lang
    if callback is None or message is None or not _still_valid(callback.action, callback.arg, faq):
        await safe_answer_callback(update, t._("This menu has expired."))
        if message is not None:
            await send(message, expired(t, faq, lang))
        return
    action, arg = callback.action, callback.arg
    await _best_effort(services.subscriptions.leave_step(user.id))  # a button leaves a sign-up step
    if action == "topic":
        await safe_answer_callback(update)
        if callback.question_id is not None:
            await _best_effort(services.assistant.picked_suggestion(callback.question_id, arg))
        if arg == "newsletter":
            await newsletter.show_sign_up(message, context, user, lang)
        else:
            await send(message, faq_answer(t, faq, arg, lang))
    elif action == "category":
        await safe_answer_callback(update)
        await edit(message, topic_menu(t, faq, lang, arg))
    elif action == "menu":
        await safe_answer_callback(update)
        await edit(message, category_menu(t, faq, lang))
    elif action == "language":
        chosen = await services.assistant.choose_language(asker_of(user), arg)
        if chosen is not None:  # the newsletter follows the conversation's language
            await _best_effort(services.subscriptions.set_language(user.id, chosen))
        t = services.catalogs(chosen or lang)
        await safe_answer_callback(update)
        await edit(message, language_set(t, faq, t.lang))
    elif action in ("feedback-up", "feedback-down"):
        helpful = action == "feedback-up"
        await _best_effort(services.assistant.rate(asker_of(user), arg, lang, helpful))
        await safe_answer_callback(update, feedback_thanks(t, helpful))
        await _drop_feedback_row(message)
    elif action == "none-of-these":
        await safe_answer_callback(update)
        if callback.question_id is not None:
            await _best_effort(services.assistant.rejected_suggestions(callback.question_id))
        await edit(message, none_of_these(t, faq, lang))
    else:
        await safe_answer_callback(update)


def _still_valid(action: str, arg: str, faq) -> bool:
    if action in ("topic", "feedback-up", "feedback-down"):
        return arg in faq.topics
    if action == "category":
        return arg in faq.categories
    if action == "language":
        return arg in faq.languages
    return True


async def _best_effort(call) -> None:
    """Recording a tap must not stop the reply the user is waiting for."""
    try:
        await call
    except Exception:
        log.warning("could not record a button tap", exc_info=True)


async def _drop_feedback_row(message: Message) -> None:
    """After 👍/👎, keep the related-topic buttons and remove the feedback row."""
    keyboard = message.reply_markup
    if not isinstance(keyboard, InlineKeyboardMarkup):
        return
    rows = [row for row in keyboard.inline_keyboard
            if not any((b.callback_data or "").startswith(("1:u:", "1:d:")) for b in row)]
    with contextlib.suppress(BadRequest):
        await message.edit_reply_markup(InlineKeyboardMarkup(rows) if rows else None)

