"""Faults: the database stopped and restarted mid-conversation, Telegram answering 5xx and 429, a flood."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bot.core.markup import to_plain
from bot.i18n import Translator
from bot.replies import slow_down, try_again_later
from tests.fakes.telegram_api import FakeTelegramApi
from tests.production.conftest import Webhook, running_webhook


@contextlib.asynccontextmanager
async def database_down(webhook: Webhook, database_url: str) -> AsyncIterator[None]:
    """The database goes away, as in a restart: its connections dropped, new ones refused; then it is back.

    SQLite: the folder holding the file is renamed (opening the file fails) and the pooled connections are
    dropped. PostgreSQL: the database stops accepting connections and its sessions are terminated.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        folder = Path(url.database or "").parent
        away = folder.with_name(folder.name + "-away")
        os.rename(folder, away)
        await webhook.serving.services.database.engine.dispose()
        try:
            yield
        finally:
            os.rename(away, folder)
        return
    admin = await asyncpg.connect(url.set(drivername="postgresql", database="postgres")
                                  .render_as_string(hide_password=False))
    name = url.database
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
        try:
            yield
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()


def _translator(webhook: Webhook, lang: str) -> Translator:
    return webhook.serving.services.catalogs(lang)


async def test_the_database_stopped_and_restarted_mid_conversation(api: FakeTelegramApi, database_url: str) -> None:
    async with running_webhook(api, database_url) as webhook:
        [menu] = await webhook.say("/language", user_id=31, language_code="fr")
        [before] = await webhook.say("Qu'est-ce qu'une ville apprenante ?", user_id=31, language_code="fr")
        try_again = to_plain(try_again_later(_translator(webhook, "fr"), "fr").text)

        async with database_down(webhook, database_url):
            assert (await webhook.get("/healthz")).status_code == 503
            [during] = await webhook.say("Qu'est-ce qu'une ville apprenante ?", user_id=31, language_code="fr")
            assert during["text"] == before["text"] or to_plain(during["text"]) == try_again
            tap = api.callback_query("1:l:es", user_id=31, message_id=menu["message_id"], language_code="fr")
            tap["update_id"] = 910_000_001
            sent = len(api.messages_to(31))
            assert await webhook.post(tap) == 200
            [refused] = (await api.wait_for_messages(31, sent + 1, timeout=30))[sent:]
            assert to_plain(refused["text"]) == try_again  # in the user's language, though unsaved

        assert (await webhook.get("/healthz")).status_code == 200
        tap = api.callback_query("1:l:es", user_id=31, message_id=menu["message_id"], language_code="fr")
        tap["update_id"] = 910_000_002
        assert await webhook.post(tap) == 200
        await api.wait_for_calls("editMessageText", 1, timeout=15)
        [after] = await webhook.say("/help", user_id=31, language_code="fr")
        [spanish] = await webhook.say("/help", user_id=32, language_code="es")
        assert after["text"] == spanish["text"]  # the choice made after recovery was kept


async def test_a_reply_is_retried_when_telegram_answers_5xx(webhook: Webhook) -> None:
    webhook.api.fail_next("sendMessage", 502)

    [reply] = await webhook.say("What is a learning city?", user_id=33)

    assert reply["text"]
    assert [c.status for c in webhook.api.calls_to("sendMessage")] == [502, 200]


async def test_a_reply_waits_for_telegrams_flood_control(webhook: Webhook) -> None:
    webhook.api.fail_next("sendMessage", 429, retry_after=1)
    started = time.monotonic()

    [reply] = await webhook.say("What is a learning city?", user_id=34)

    assert reply["text"] and time.monotonic() - started >= 1.0


async def test_a_flooding_user_is_asked_once_to_slow_down(api: FakeTelegramApi, database_url: str) -> None:
    async with running_webhook(api, database_url, flood_limit=3, flood_window=60) as webhook:
        for _ in range(3):
            await webhook.say("What is a learning city?", user_id=35, language_code="de")

        [warning] = await webhook.say("What is a learning city?", user_id=35, language_code="de")
        assert await webhook.post(webhook.message("What is a learning city?", user_id=35)) == 200

        assert to_plain(warning["text"]) == to_plain(slow_down(_translator(webhook, "de"), "de").text)
        assert await webhook.quiet(35) == []
        [other] = await webhook.say("What is a learning city?", user_id=36)  # others are not slowed down
        assert other["text"]
