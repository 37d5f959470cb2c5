"""Slash commands: /start (with deep links), /help, /faq, /language, /privacy, and unknown commands.

The newsletter's commands (/subscribe, /unsubscribe, /mydata, /forget, /cancel) are in newsletter.py.
"""

from __future__ import annotations

from telegram import Update

from bot.replies import (
    category_menu,
    faq_answer,
    help_text,
    language_menu,
    privacy,
    unknown_command,
    welcome,
)
from bot.telegram import newsletter
from bot.telegram.context import Context, is_private, send, translator_for


async def start(update: Update, context: Context) -> None:
    """Welcome and topic menu; `/start <topic-id>` opens a topic, `/start subscribe[_source]` the sign-up."""
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    t = await translator_for(context, user)
    faq = context.services.library.faq
    payload = (context.args or [""])[0].strip().lower()
    if payload in faq.topics:
        await send(message, faq_answer(t, faq, payload, t.lang))
    elif (payload == "subscribe" or payload.startswith("subscribe_")) and user is not None:
        source = (context.args or [""])[0].strip()[len("subscribe_"):] or None  # as written: "Lyon" stays "Lyon"
        await newsletter.show_sign_up(message, context, user, t.lang, source)
    else:
        await send(message, welcome(t, faq, t.lang, user.first_name if user else None))


async def show_help(update: Update, context: Context) -> None:
    """What the bot can do and its commands."""
    if update.effective_message is None:
        return
    t = await translator_for(context, update.effective_user)
    await send(update.effective_message, help_text(t, t.lang))


async def show_faq(update: Update, context: Context) -> None:
    """The topic categories as buttons."""
    if update.effective_message is None:
        return
    t = await translator_for(context, update.effective_user)
    await send(update.effective_message, category_menu(t, context.services.library.faq, t.lang))


async def choose_language(update: Update, context: Context) -> None:
    """The languages as buttons; the choice is kept."""
    if update.effective_message is None:
        return
    t = await translator_for(context, update.effective_user)
    await send(update.effective_message, language_menu(t, context.services.library.faq, t.lang))


async def show_privacy(update: Update, context: Context) -> None:
    """What is stored and why, and the commands to see or erase it."""
    if update.effective_message is None:
        return
    t = await translator_for(context, update.effective_user)
    await send(update.effective_message, privacy(t, t.lang))


async def unknown(update: Update, context: Context) -> None:
    """An unknown command in a private chat: point to /help. In groups, stay silent."""
    if update.effective_message is None or not is_private(update):
        return
    t = await translator_for(context, update.effective_user)
    await send(update.effective_message, unknown_command(t, t.lang))
