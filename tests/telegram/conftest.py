"""A running lcbot (the real `lcbot run` polling code) against the Bot API stand-in, over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.config import Settings
from bot.telegram.runner import poll
from tests.fakes.telegram_api import FakeTelegramApi

JsonDict = dict[str, Any]


@dataclass
class RunningBot:
    """The stand-in plus a polling lcbot; say() and tap() return what the bot sent back."""

    api: FakeTelegramApi
    settings: Settings
    task: asyncio.Task[int]
    stop: asyncio.Event

    async def say(self, text: str, *, user_id: int = 1001, language_code: str | None = "en",
                  count: int = 1, **options: Any) -> list[JsonDict]:
        chat_id = options.pop("chat_id", user_id)
        before = len(self.api.messages_to(chat_id))
        self.api.push_update(self.api.text_message(text, user_id=user_id, chat_id=chat_id,
                                                   language_code=language_code, **options))
        messages = await self.api.wait_for_messages(chat_id, before + count, timeout=10)
        return messages[before:]

    async def tap(self, data: str, *, user_id: int = 1001, message_id: int | None = None,
                  language_code: str | None = "en") -> JsonDict:
        """Press a button; returns the answerCallbackQuery call's parameters."""
        answered = len(self.api.calls_to("answerCallbackQuery"))
        self.api.push_update(self.api.callback_query(data, user_id=user_id, message_id=message_id,
                                                     language_code=language_code))
        calls = await self.api.wait_for_calls("answerCallbackQuery", answered + 1, timeout=10)
        return calls[answered].params

    async def quiet(self, chat_id: int, seconds: float = 0.3) -> list[JsonDict]:
        """Messages sent to the chat during a short wait (to check that nothing was sent)."""
        before = len(self.api.messages_to(chat_id))
        await asyncio.sleep(seconds)
        return self.api.messages_to(chat_id)[before:]


def buttons(message: JsonDict) -> list[tuple[str, str]]:
    """(label, callback data) of every inline button of a sent message."""
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


@contextlib.asynccontextmanager
async def running_bot(database_url: str, **settings: Any) -> AsyncIterator[RunningBot]:
    async with FakeTelegramApi() as api:
        config = Settings(telegram_bot_token=api.token, telegram_api_url=api.base_url,
                          database_url=database_url, **settings)
        stop = asyncio.Event()
        task = asyncio.create_task(poll(config, stop, poll_timeout=1))
        try:
            await api.wait_for_long_poll(timeout=20)
            yield RunningBot(api, config, task, stop)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=20)


@pytest.fixture
async def bot(database_url: str) -> AsyncIterator[RunningBot]:
    async with running_bot(database_url) as running:
        yield running
