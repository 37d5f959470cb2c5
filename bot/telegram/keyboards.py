"""Buttons as Telegram inline keyboards; callback data is versioned and always fits 64 bytes.

Format: "<version>:<code>:<arg>[:<arg>]". A button from an older format version, or naming a topic that
no longer exists, decodes to None and the user gets "this menu has expired" instead of a spinning button.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies import Button, Reply

VERSION = "1"
MAX_CALLBACK_BYTES = 64
_CODES = {
    "topic": "t", "category": "c", "menu": "m", "language": "l", "feedback-up": "u",
    "feedback-down": "d", "none-of-these": "n", "suggestion": "s", "confirm": "y", "cancel": "x",
    # The newsletter sign-up (bot/telegram/newsletter.py); "confirm"/"cancel" carry what is confirmed ("forget").
    "subscribe-consent": "k", "subscribe-email": "e", "subscribe-organisation": "o", "subscribe-role": "r",
    "subscribe-resend": "a", "subscribe-done": "f", "subscribe-language": "g", "unsubscribe": "z",
}
NEWSLETTER_ACTIONS = frozenset({
    "subscribe-consent", "subscribe-email", "subscribe-organisation", "subscribe-role", "subscribe-resend",
    "subscribe-done", "subscribe-language", "unsubscribe", "confirm", "cancel",
})
_ACTIONS = {code: action for action, code in _CODES.items()}


@dataclass(frozen=True, slots=True)
class Callback:
    action: str
    arg: str = ""
    question_id: int | None = None


def encode(button: Button, question_id: int | None = None) -> str:
    action, arg = button.action, button.arg
    if action == "topic" and question_id is not None:
        data = f"{VERSION}:{_CODES['suggestion']}:{question_id}:{arg}"
    elif action == "none-of-these":
        data = f"{VERSION}:{_CODES[action]}:{question_id if question_id is not None else ''}"
    else:
        data = f"{VERSION}:{_CODES[action]}:{arg}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data too long for Telegram: {data!r}")
    return data


def decode(data: str | None) -> Callback | None:
    if not data:
        return None
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != VERSION or parts[1] not in _ACTIONS:
        return None
    action = _ACTIONS[parts[1]]
    if action == "suggestion":
        if len(parts) != 4 or not parts[2].isdigit():
            return None
        return Callback("topic", parts[3], int(parts[2]))
    if action == "none-of-these":
        return Callback(action, "", int(parts[2]) if parts[2].isdigit() else None)
    return Callback(action, ":".join(parts[2:]))


def newsletter_pattern(data: object) -> bool:
    """For the newsletter's CallbackQueryHandler: the buttons whose action it handles."""
    callback = decode(data) if isinstance(data, str) else None
    return callback is not None and callback.action in NEWSLETTER_ACTIONS


def markup(reply: Reply, question_id: int | None = None) -> InlineKeyboardMarkup | None:
    """The reply's buttons; with a question id, topic buttons record which suggestion was picked."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=encode(b, question_id)) for b in row] for row in reply.buttons]
    )


def keyboard_json(reply: Reply, question_id: int | None = None) -> dict[str, Any] | None:
    """The same buttons as the Bot API's JSON, for `LcbotBot.send_reply` (no python-telegram-bot objects)."""
    if not reply.buttons:
        return None
    return {"inline_keyboard": [[{"text": b.label, "callback_data": encode(b, question_id)} for b in row]
                                for row in reply.buttons]}
