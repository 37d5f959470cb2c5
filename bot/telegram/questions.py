"""Free text: answer a question; in groups only when addressed; non-text gets a one-line hint."""

from __future__ import annotations

import re

from telegram import Message, MessageEntity, Update
from telegram.constants import MessageEntityType

from bot.core.answering import MAX_QUESTION_CHARS
from bot.core.matching import MatchKind
from bot.replies import category_menu, reply_for, text_only, too_long
from bot.telegram import newsletter
from bot.telegram.context import Context, asker_of, is_private, send, translator_for, typing


def addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The question in a group message addressed to the bot (mention or reply), else None."""
    text = message.text or ""
    mention = f"@{bot_username}".lower()
    for entity in message.entities or ():
        if entity.type == MessageEntityType.MENTION and message.parse_entity(entity).lower() == mention:
            return re.sub(re.escape(mention), " ", text, flags=re.IGNORECASE).strip()
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return text
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return text
    return None


async def answer_question(update: Update, context: Context) -> None:
    """The user sees the FAQ answer, a "did you mean" choice, or a polite fallback with the menu."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    text = message.text if is_private(update) else addressed_text(message, context.bot.username, context.bot.id)
    if text is None:
        return  # a group conversation not meant for us
    services = context.services
    # "typing…" if the reply is slow, whichever way it goes: a sign-up step (which may send an e-mail) or
    # an answer.
    async with typing(context, message.chat_id):
        if is_private(update) and await newsletter.continue_sign_up(message, context, user, text):
            return  # the answer to a sign-up step (email, code, organisation), not a question
        if not text.strip():  # just "@bot": show what it can talk about
            t = await translator_for(context, user)
            await send(message, category_menu(t, services.library.faq, t.lang))
            return
        result = await services.assistant.ask(asker_of(user), text)
    answer, faq = result.answer, result.faq
    services.metrics.answers.labels(answer.kind.value, answer.lang).inc()
    t = services.catalogs(answer.lang)
    if len(text) > MAX_QUESTION_CHARS:
        await send(message, too_long(t, answer.lang))
    if answer.kind is MatchKind.ANSWER and answer.faq_id == "newsletter":
        await newsletter.show_sign_up(message, context, user, answer.lang)
        return
    suggestions = answer.kind is MatchKind.SUGGEST
    await send(message, reply_for(t, faq, answer), result.question_id if suggestions else None)


async def reply_text_only(update: Update, context: Context) -> None:
    """A photo, sticker, voice or other non-text message in a private chat: "I read text only"."""
    message = update.effective_message
    if message is None or not is_private(update):
        return
    t = await translator_for(context, update.effective_user)
    await send(message, text_only(t, t.lang))
