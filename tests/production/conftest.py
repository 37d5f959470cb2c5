"""A running `lcbot run --webhook` (the real serving code: uvicorn + application in one loop) against the
Bot API stand-in, posting updates over real HTTP the way Telegram does."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import bot.bootstrap
from bot.config import Settings
from bot.webhook_server import Serving, serve_webhook
from tests.fakes.telegram_api import FakeTelegramApi

JsonDict = dict[str, Any]
SECRET = "test-secret_0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Webhook:
    """One serving instance; post() sends an update as Telegram would, say() returns the bot's replies."""

    api: FakeTelegramApi
    serving: Serving
    settings: Settings

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.serving.port}"

    async def post(self, update: JsonDict, *, secret: str | None = SECRET) -> int:
        status, _ = await self.api.post_webhook(f"{self.url}/telegram", update, secret_token=secret)
        return status

    def message(self, text: str, *, user_id: int = 1001, language_code: str | None = "en",
                update_id: int | None = None, **options: Any) -> JsonDict:
        update = self.api.text_message(text, user_id=user_id, language_code=language_code, **options)
        update["update_id"] = update_id if update_id is not None else _next_update_id()
        self.api._ingest(update)  # the stand-in learns the chat, as for a pushed update
        return update

    async def say(self, text: str, *, user_id: int = 1001, count: int = 1, **options: Any) -> list[JsonDict]:
        before = len(self.api.messages_to(user_id))
        assert await self.post(self.message(text, user_id=user_id, **options)) == 200
        messages = await self.api.wait_for_messages(user_id, before + count, timeout=10)
        return messages[before:]

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.get(f"{self.url}{path}")

    async def quiet(self, chat_id: int, seconds: float = 0.3) -> list[JsonDict]:
        """Messages sent to the chat during a short wait (to check that nothing more was sent)."""
        before = len(self.api.messages_to(chat_id))
        await asyncio.sleep(seconds)
        return self.api.messages_to(chat_id)[before:]


_update_ids = iter(range(500_000_000, 10**12))


def _next_update_id() -> int:
    return next(_update_ids)


@contextlib.asynccontextmanager
async def running_webhook(api: FakeTelegramApi, database_url: str, **settings: Any) -> AsyncIterator[Webhook]:
    port = free_port()
    config = Settings(telegram_bot_token=api.token, telegram_api_url=api.base_url, database_url=database_url,
                      webhook_url=f"http://127.0.0.1:{port}", webhook_secret=SECRET, listen=f"127.0.0.1:{port}",
                      faq_watch_seconds=0, **settings)
    stop = asyncio.Event()
    ready: asyncio.Future[Serving] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_webhook(config, stop, ready=ready.set_result))
    try:
        done, _ = await asyncio.wait({ready, task}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            raise RuntimeError(f"the webhook server stopped before it was ready: {task.result()}")
        if ready not in done:
            raise TimeoutError("the webhook server was not ready within 30 s")
        yield Webhook(api, ready.result(), config)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)


@functools.cache
def _library(settings_key: tuple[object, ...]) -> tuple[object, object]:
    return _build_library(Settings(faq_dir=settings_key[0], locales_dir=settings_key[1],
                                   default_language=settings_key[2]))


_build_library = bot.bootstrap.build_library


@pytest.fixture(autouse=True)
def shared_faq(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load the FAQ index once for these tests (about a second each time); nothing here edits it."""
    monkeypatch.setattr(bot.bootstrap, "build_library",
                        lambda settings: _library((settings.faq_dir, settings.locales_dir, settings.default_language)))


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramApi]:
    async with FakeTelegramApi() as fake:
        yield fake


@pytest.fixture
async def webhook(api: FakeTelegramApi, database_url: str) -> AsyncIterator[Webhook]:
    async with running_webhook(api, database_url) as running:
        yield running
