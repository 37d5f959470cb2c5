"""Webhook mode end to end: the secret header, redeliveries, unparseable updates, size limits, health, metrics."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

import bot.webhook
from bot.config import Settings
from bot.core.ports import SubscriberStatus
from bot.webhook_server import serve_webhook
from tests.fakes.telegram_api import FakeTelegramApi
from tests.production.conftest import SECRET, Webhook, free_port, running_webhook


async def test_start_registers_the_webhook_with_its_secret_and_the_update_types(webhook: Webhook) -> None:
    [call] = webhook.api.calls_to("setWebhook")
    assert call.params["url"] == f"{webhook.url}/telegram"
    assert call.params["secret_token"] == SECRET
    assert set(call.params["allowed_updates"]) == {"message", "callback_query", "my_chat_member"}


async def test_only_the_update_with_the_right_secret_is_answered(webhook: Webhook) -> None:
    missing = await webhook.post(webhook.message("What is a learning city?", user_id=11), secret=None)
    wrong = await webhook.post(webhook.message("What is a learning city?", user_id=11), secret=SECRET + "x")
    right = await webhook.post(webhook.message("What is a learning city?", user_id=11))

    assert (missing, wrong, right) == (403, 403, 200)
    replies = await webhook.api.wait_for_messages(11, 1)
    assert len(replies) + len(await webhook.quiet(11)) == 1


async def test_an_update_delivered_twice_is_answered_once(webhook: Webhook) -> None:
    update = webhook.message("How can my city join the network?", user_id=12)

    assert await webhook.post(update) == 200
    await webhook.api.wait_for_messages(12, 1)
    assert await webhook.post(update) == 200  # Telegram's redelivery after a timeout

    assert await webhook.quiet(12, 0.5) == []
    assert len(webhook.api.messages_to(12)) == 1


async def test_updates_queued_at_the_stand_in_are_delivered_through_the_registered_webhook(webhook: Webhook) -> None:
    for text in ("/start", "What is a learning city?"):
        webhook.api.push_update(webhook.api.text_message(text, user_id=13))

    assert await webhook.api.deliver_webhook_updates() == 2
    assert len(await webhook.api.wait_for_messages(13, 2)) == 2


async def test_an_update_the_framework_cannot_parse_is_acknowledged_and_the_bot_keeps_serving(webhook: Webhook) -> None:
    odd = webhook.message("hello", user_id=14)
    del odd["message"]["from"]["is_bot"]  # an old-shaped User: python-telegram-bot 22 refuses it

    assert await webhook.post(odd) == 200  # acknowledged, or Telegram would redeliver it forever
    assert await webhook.quiet(14) == []
    [reply] = await webhook.say("What is a learning city?", user_id=14)
    assert reply["text"]


async def test_bad_requests_are_refused_without_being_handled(webhook: Webhook) -> None:
    url = f"{webhook.url}/telegram"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    big = webhook.message("x" * 4000, user_id=15)
    big["message"]["padding"] = "y" * (1024 * 1024)
    async with httpx.AsyncClient(timeout=10) as client:
        too_large = await client.post(url, content=json.dumps(big), headers=headers)
        not_json = await client.post(url, content=b"{not json", headers=headers)
        not_an_update = await client.post(url, content=b"[1, 2]", headers=headers)
        form = await client.post(url, data={"update_id": "1"}, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        wrong_method = await client.get(url)

    assert too_large.status_code == 413
    assert (not_json.status_code, not_an_update.status_code, form.status_code) == (400, 400, 415)
    assert wrong_method.status_code == 405
    assert await webhook.quiet(15) == []


async def test_healthz_reports_the_database_and_the_faq(webhook: Webhook) -> None:
    response = await webhook.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok" and body["faq"] == "loaded"
    assert body["topics"] >= 20 and "ar" in body["languages"]


async def test_metrics_count_updates_answers_latency_and_refusals(webhook: Webhook) -> None:
    await webhook.say("What is a learning city?", user_id=16)
    await webhook.say("/help", user_id=16)
    await webhook.post(webhook.message("hi", user_id=16), secret="nope")

    response = await webhook.get("/metrics")

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'lcbot_updates_total{type="message"} 2.0' in text
    assert 'lcbot_answers_total{lang="en",outcome="answer"} 1.0' in text
    assert 'lcbot_reply_seconds_count{handler="answer_question"} 1.0' in text
    assert 'lcbot_webhook_requests_total{result="forbidden"} 1.0' in text
    assert 'lcbot_webhook_requests_total{result="queued"} 2.0' in text
    assert "lcbot_errors_total" in text and "lcbot_broadcast_progress_ratio" in text


async def test_two_instances_on_one_database_answer_a_redelivered_update_once(database_url: str) -> None:
    async with (
        FakeTelegramApi() as api,
        running_webhook(api, database_url) as first,
        running_webhook(api, database_url) as second,
    ):
        update = first.message("How can my city join the network?", user_id=21)

        statuses = await asyncio.gather(first.post(update), second.post(update))

        assert statuses == [200, 200]
        await api.wait_for_messages(21, 1)
        assert await first.quiet(21, 0.5) == []
        assert len(api.messages_to(21)) == 1


async def test_a_language_chosen_through_one_instance_is_used_by_the_other(database_url: str) -> None:
    async with (
        FakeTelegramApi() as api,
        running_webhook(api, database_url) as first,
        running_webhook(api, database_url) as second,
    ):
        [menu] = await first.say("/language", user_id=22)
        tap = api.callback_query("1:l:fr", user_id=22, message_id=menu["message_id"])
        tap["update_id"] = 900_000_001
        assert await first.post(tap) == 200
        await api.wait_for_calls("answerCallbackQuery", 1)

        [help_text] = await second.say("/help", user_id=22)

        [english] = await second.say("/help", user_id=23)
        assert help_text["text"] != english["text"]


async def test_a_sign_up_started_through_one_instance_is_finished_through_the_other(database_url: str) -> None:
    async with (
        FakeTelegramApi() as api,
        running_webhook(api, database_url) as first,
        running_webhook(api, database_url) as second,
    ):
        [screen] = await first.say("/subscribe", user_id=24)
        consent = api.callback_query("1:k:en", user_id=24, message_id=screen["message_id"])
        consent["update_id"] = 900_000_002
        before = len(api.messages_to(24))

        assert await second.post(consent) == 200

        await api.wait_for_messages(24, before + 1)
        record = await second.serving.services.store.subscribers.get(24)
        assert record is not None and record.status is SubscriberStatus.ACTIVE


async def test_a_webhook_url_telegram_refuses_stops_the_start_with_a_clear_error(
        database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    async with FakeTelegramApi(strict_webhook_urls=True) as api:  # like Telegram: HTTPS on 443/80/88/8443 only
        port = free_port()
        settings = Settings(telegram_bot_token=api.token, telegram_api_url=api.base_url, database_url=database_url,
                            webhook_url=f"http://127.0.0.1:{port}", webhook_secret=SECRET,
                            listen=f"127.0.0.1:{port}", faq_watch_seconds=0)

        code = await asyncio.wait_for(serve_webhook(settings, asyncio.Event()), timeout=30)

    assert code == 1
    assert any("Telegram refused setWebhook" in r.getMessage() and "https" in r.getMessage().lower()
               for r in caplog.records)


async def test_an_overloaded_instance_asks_telegram_to_deliver_again_later(webhook: Webhook,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.webhook, "MAX_PENDING_UPDATES", 1)
    webhook.api.set_delay("sendMessage", 1.0)  # the first update stays in hand a while
    first = webhook.message("What is a learning city?", user_id=25)
    second = webhook.message("How can my city join the network?", user_id=25)

    assert await webhook.post(first) == 200
    assert await webhook.post(second) == 503  # not taken: Telegram keeps it and delivers it again
    webhook.api.set_delay("sendMessage", None)
    await webhook.api.wait_for_messages(25, 1)
    for _ in range(100):
        if (await webhook.get("/healthz")).json()["pending_updates"] == 0:
            break
        await asyncio.sleep(0.05)

    assert await webhook.post(second) == 200
    assert len(await webhook.api.wait_for_messages(25, 2)) == 2
