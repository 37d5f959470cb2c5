"""Broadcast fixtures: a migrated database with subscribers, the Bot API stand-in enforcing 30 messages/s."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.core.broadcast import Broadcast, Summary, utc_now
from bot.core.issue import Issue
from bot.core.pacing import Pacer
from bot.storage.broadcasts import SqlBroadcasts
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.telegram.sender import TelegramSender
from tests.fakes.telegram_api import FakeTelegramApi

EN = "<b>GNLC news, April</b>\nThe call for the Learning City Award is open."
FR = "<b>Actualités du GNLC, avril</b>\nL'appel pour le Prix de la ville apprenante est ouvert."
ISSUE = Issue("2025-04", "en", {"en": EN, "fr": FR})


def delivered(api: FakeTelegramApi) -> Counter[int]:
    """How many messages each chat received (successful sendMessage calls)."""
    return Counter(call.params["chat_id"] for call in api.calls_to("sendMessage") if call.ok)


def texts_to(api: FakeTelegramApi, chat_id: int) -> list[str]:
    return [m["text"] for m in api.messages_to(chat_id)]


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    await upgrade(database_url)
    async with Database(database_url) as database:
        yield database


@pytest.fixture
def store(database: Database) -> SqlBroadcasts:
    return SqlBroadcasts(database)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramApi]:
    async with FakeTelegramApi() as fake:
        fake.set_rate_limit(30)
        yield fake


@asynccontextmanager
async def telegram_sender(api: FakeTelegramApi, *, read_timeout: float = 15) -> AsyncIterator[TelegramSender]:
    bot = Bot(api.token, base_url=api.base_url,
              request=HTTPXRequest(connection_pool_size=16, read_timeout=read_timeout, connect_timeout=5))
    async with bot:
        yield TelegramSender(bot)


async def broadcast(store: SqlBroadcasts, api: FakeTelegramApi, issue: Issue = ISSUE, *, rate: float = 28,
                    read_timeout: float = 15, runner: str = "test:1:a", **options: Any) -> Summary:
    """One run of `issue` through the real Telegram sender over HTTP, with fast retries."""
    await store.save_issue(issue, utc_now())
    options.setdefault("retry_backoff", (timedelta(seconds=0.1),))
    async with telegram_sender(api, read_timeout=read_timeout) as sender:
        return await Broadcast(issue, store, sender, runner=runner, pacer=Pacer(rate), **options).run()
