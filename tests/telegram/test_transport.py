"""The replying bot's HTTP transport (aiohttp) behaves towards python-telegram-bot as its own httpx one does."""

from __future__ import annotations

import socket

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.telegram.transport import AiohttpRequest, NotingRequest
from tests.fakes.telegram_api import FakeTelegramApi

CHAT = 5150


def bot_for(api: FakeTelegramApi, request: AiohttpRequest) -> Bot:
    return Bot(api.token, base_url=api.base_url, request=request, get_updates_request=AiohttpRequest())


async def test_a_text_message_with_buttons_arrives_as_sent() -> None:
    async with FakeTelegramApi() as api:
        api.push_update(api.text_message("hi", user_id=CHAT))  # the stand-in learns the chat
        async with bot_for(api, AiohttpRequest()) as bot:
            sent = await bot.send_message(CHAT, "<b>Apprendre</b> à tout âge — 終身學習",
                                          parse_mode="HTML", reply_markup={"inline_keyboard": [
                                              [{"text": "👍", "callback_data": "1:up:7"}]]})

        assert sent.text == "Apprendre à tout âge — 終身學習"
        call = api.calls_to("sendMessage")[-1]
        assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "1:up:7"


async def test_a_document_is_uploaded_as_multipart() -> None:
    async with FakeTelegramApi() as api:
        api.push_update(api.text_message("hi", user_id=CHAT))
        async with bot_for(api, AiohttpRequest()) as bot:
            sent = await bot.send_document(CHAT, b"city,joined\nOsaka,2016\n", filename="cities.csv",
                                           caption="the list")

        assert sent.document is not None and sent.caption == "the list"
        assert api.uploaded_file(sent.document.file_id) == b"city,joined\nOsaka,2016\n"


async def test_telegram_errors_keep_their_meaning() -> None:
    async with FakeTelegramApi() as api:
        api.push_update(api.text_message("hi", user_id=CHAT))
        async with bot_for(api, AiohttpRequest()) as bot:
            api.fail_next("sendMessage", 429, retry_after=3)
            with pytest.raises(RetryAfter):
                await bot.send_message(CHAT, "hello")
            api.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
            with pytest.raises(BadRequest, match="parse entities"):
                await bot.send_message(CHAT, "hello")
            api.fail_next("sendMessage", 502, body="<html>502 Bad Gateway</html>")
            with pytest.raises(NetworkError):
                await bot.send_message(CHAT, "hello")
            assert (await bot.send_message(CHAT, "still here")).text == "still here"


async def test_a_slow_answer_times_out() -> None:
    async with FakeTelegramApi() as api:
        api.push_update(api.text_message("hi", user_id=CHAT))
        async with bot_for(api, AiohttpRequest(read_timeout=0.2)) as bot:
            api.set_delay("sendMessage", 1.0)
            with pytest.raises(TimedOut):
                await bot.send_message(CHAT, "hello")
            api.set_delay("sendMessage", None)
            assert (await bot.send_message(CHAT, "again")).text == "again"


async def test_an_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(connect_timeout=2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot123:abc/getMe")
        assert not isinstance(raised.value, TimedOut)
    finally:
        await request.shutdown()


async def test_every_message_sent_is_noted_and_nothing_else() -> None:
    noted: list[int] = []
    async with FakeTelegramApi() as api:
        api.push_update(api.text_message("hi", user_id=CHAT))
        async with bot_for(api, NotingRequest(lambda: noted.append(1))) as bot:
            await bot.send_message(CHAT, "one")
            await bot.send_chat_action(CHAT, "typing")
            await bot.send_message(CHAT, "two")

    assert len(noted) == 2


def test_proxies_from_the_environment_are_honoured_except_for_no_proxy_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.org:3128")
    monkeypatch.setenv("NO_PROXY", "botapi.internal")
    request = AiohttpRequest()

    assert request._proxy_for("https://api.telegram.org/bot1:x/sendMessage") == "http://proxy.example.org:3128"
    assert request._proxy_for("https://botapi.internal/bot1:x/sendMessage") is None
    assert request._proxy_for("http://127.0.0.1:8081/bot1:x/getMe") is None  # no HTTP_PROXY set
