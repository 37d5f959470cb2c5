"""The fake Bot API behaves like Telegram, as seen by a real PTB 22 client over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import subprocess
import sys
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegramApi, parse_html

USER = 100_000_001
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# PTB itself reads RetryAfter.retry_after while building the exception (v22.2 deprecation).
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramApi]:
    async with FakeTelegramApi() as api:
        yield api


@pytest.fixture
async def bot(fake: FakeTelegramApi) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(fake.token, base_url=fake.base_url) as client:
        yield client


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return _seconds(exc.retry_after)


# ------------------------------------------------------------------ identity, routing, encodings


async def test_get_me(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.username == "lcbot_test_bot"
    assert me.id == int(fake.token.split(":")[0])
    assert bot.username == "lcbot_test_bot"  # Bot.initialize() called getMe
    assert fake.calls_to("getMe")[0].status == 200


async def test_token_errors_map_to_invalid_token(fake: FakeTelegramApi) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.url}/botnot-a-token/getMe") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.post(f"{fake.url}/bot999:other-token/getMe") as resp:
            assert resp.status == 401
            assert (await resp.json())["description"] == "Unauthorized"
        async with http.get(f"{fake.base_url}{fake.token}/GETME") as resp:  # case-insensitive
            assert resp.status == 200
            assert (await resp.json())["result"]["username"] == "lcbot_test_bot"


async def test_wrong_token_raises_invalid_token(fake: FakeTelegramApi) -> None:
    with pytest.raises(InvalidToken):
        await telegram.Bot("999:other-token", base_url=fake.base_url).initialize()


async def test_unknown_method_is_404(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathicMessage", api_kwargs={"chat_id": 1})
    assert fake.calls[-1].response["description"] == "Not Found: method not found"


async def test_parameters_from_query_json_and_form(fake: FakeTelegramApi) -> None:
    url = f"{fake.base_url}{fake.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "ok", "callback_data": "yes"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"chat_id": 7, "text": "json body", "reply_markup": markup}) as resp:
            body = await resp.json()
            assert resp.status == 200
            assert body["ok"] is True and body["result"]["reply_markup"] == markup
        async with http.get(url, params={"chat_id": "7", "text": "123"}) as resp:
            assert (await resp.json())["result"]["text"] == "123"  # strings stay strings
        form = {
            "chat_id": "7",
            "text": "true",
            "disable_notification": "true",
            "reply_markup": json.dumps(markup),
        }
        async with http.post(url, data=form) as resp:
            assert resp.status == 200
    params = fake.calls_to("sendMessage")[-1].params
    assert params["chat_id"] == 7
    assert params["text"] == "true"
    assert params["disable_notification"] is True
    assert params["reply_markup"] == markup


# ------------------------------------------------------------------ sendMessage


async def test_send_message_returns_message(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    first = await bot.send_message(USER, "Hello")
    second = await bot.send_message(USER, "World")
    assert isinstance(first, telegram.Message)
    assert first.text == "Hello"
    assert first.chat.id == USER and first.chat.type == "private"
    assert first.from_user is not None and first.from_user.id == bot.id and first.from_user.is_bot
    assert second.message_id == first.message_id + 1
    assert abs(first.date.timestamp() - time.time()) < 5
    assert [m["text"] for m in fake.messages_to(USER)] == ["Hello", "World"]


async def test_html_is_parsed_into_entities(bot: telegram.Bot) -> None:
    msg = await bot.send_message(
        USER,
        '  <b>Bold</b> &amp; <a href="https://uil.unesco.org">link</a> 🏟 <i>it</i>\n',
        parse_mode="HTML",
    )
    assert msg.text == "Bold & link 🏟 it"  # tags stripped, entities decoded, whitespace trimmed
    kinds = [(e.type, e.offset, e.length) for e in msg.entities]
    assert kinds == [("bold", 0, 4), ("text_link", 7, 4), ("italic", 15, 2)]  # UTF-16 offsets
    assert msg.parse_entity(msg.entities[2]) == "it"


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>unclosed", 'can\'t find end tag corresponding to start tag "b"'),
        ("<p>para</p>", 'unsupported start tag "p" at byte offset 0'),
        ("1 < 2", 'unsupported start tag "" at byte offset 2'),
        ("fish & chips", 'character "&" at byte offset 5'),
        ("<b>x</i>", 'unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ],
)
async def test_invalid_html_raises_bad_request(bot: telegram.Bot, html: str, error: str) -> None:
    with pytest.raises(BadRequest, match="parse entities") as info:
        await bot.send_message(USER, html, parse_mode="HTML")
    assert error in info.value.message.lower()


async def test_text_length_is_checked_after_entity_parsing(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "x" * 5000)
    assert fake.calls_to("sendMessage")[-1].status == 400
    ok = await bot.send_message(USER, "<b>" + "y" * 4096 + "</b>", parse_mode="HTML")  # 4103 raw chars
    assert len(ok.text) == 4096
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode="HTML")


async def test_callback_data_limit_is_64_bytes(bot: telegram.Bot) -> None:
    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("press", callback_data=data)]])

    sent = await bot.send_message(USER, "ok", reply_markup=keyboard("a" * 64))
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "a" * 64
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(USER, "too long", reply_markup=keyboard("a" * 65))
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(USER, "33 chars, 66 bytes", reply_markup=keyboard("é" * 33))


async def test_edit_message_text(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
    sent = await bot.send_message(USER, "v1", reply_markup=markup)
    edited = await bot.edit_message_text("v2", chat_id=USER, message_id=sent.message_id, reply_markup=markup)
    assert isinstance(edited, telegram.Message) and edited.text == "v2" and edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("v2", chat_id=USER, message_id=sent.message_id, reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("v3", chat_id=USER, message_id=9999)
    removed = await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id)
    assert isinstance(removed, telegram.Message) and removed.reply_markup is None
    assert [m["text"] for m in fake.messages_to(USER)] == ["v1", "v2", "v2"]
    assert await bot.delete_message(USER, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, sent.message_id)


async def test_bot_commands_and_descriptions(bot: telegram.Bot) -> None:
    assert await bot.set_my_commands([("start", "Start"), ("help", "Help")])
    assert await bot.set_my_commands([("start", "Démarrer")], language_code="fr")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert [c.description for c in await bot.get_my_commands(language_code="fr")] == ["Démarrer"]
    assert await bot.get_my_commands(scope=telegram.BotCommandScopeAllGroupChats()) == ()
    for bad in [("Start", "uppercase"), ("x" * 33, "too long"), ("ok", "")]:
        with pytest.raises(BadRequest):
            await bot.set_my_commands([bad])
    assert await bot.delete_my_commands(language_code="fr")
    assert await bot.get_my_commands(language_code="fr") == ()
    assert await bot.set_my_description("A learning-cities assistant", language_code="en")
    assert (await bot.get_my_description("en")).description == "A learning-cities assistant"
    assert await bot.set_my_short_description("Learning cities")
    assert (await bot.get_my_short_description()).short_description == "Learning cities"
    assert await bot.set_my_name("LC Bot")
    assert await bot.set_chat_menu_button(menu_button=telegram.MenuButtonCommands())


async def test_answer_callback_query_and_chat_action(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(
        USER, "pick", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    )
    payload = fake.callback_query("a", user_id=USER, message_id=sent.message_id)
    assert payload["callback_query"]["message"]["text"] == "pick"  # the recorded message
    fake.push_update(payload)
    update = Update.de_json({"update_id": 1, **payload}, bot)
    assert update.callback_query is not None and update.callback_query.data == "a"
    assert await bot.answer_callback_query(update.callback_query.id, text="Done")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(update.callback_query.id)
    assert await bot.send_chat_action(USER, "typing")


async def test_send_photo_and_document_are_recorded(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    photo = await bot.send_photo(USER, b"\x89PNG fake image", caption="<b>Map</b>", parse_mode="HTML")
    assert photo.photo and photo.caption == "Map" and photo.caption_entities[0].type == "bold"
    doc = await bot.send_document(USER, b"%PDF-1.4", filename="guide.pdf")
    assert doc.document is not None and doc.document.file_name == "guide.pdf"
    upload = fake.calls_to("sendDocument")[0].params["document"]
    assert upload["filename"] == "guide.pdf" and upload["size"] == len(b"%PDF-1.4")
    assert len(fake.messages_to(USER)) == 2


# ------------------------------------------------------------------ fault injection


async def test_blocked_chat_raises_forbidden(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    fake.block_chat(USER)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER, "hello?")
    assert fake.calls_to("sendMessage")[-1].status == 403
    assert await bot.send_message(USER + 1, "others still work")


async def test_fail_next_429_raises_retry_after(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "flood")
    assert _retry_after(info.value) == 7
    assert fake.calls[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert await bot.send_message(USER, "next one passes")


async def test_fail_next_502_and_500_raise_network_error(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    fake.fail_next("sendMessage", 502, "Bad Gateway")
    with pytest.raises(NetworkError) as info:
        await bot.send_message(USER, "x")
    assert not isinstance(info.value, BadRequest)
    fake.fail_next("sendMessage", 500, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(USER, "x")
    fake.fail_next("*", 502, body="<html><body><h1>502 Bad Gateway</h1></body></html>")
    with pytest.raises(NetworkError):  # nginx HTML page, not JSON
        await bot.get_me()
    fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(USER, "x")
    assert (await bot.send_message(USER, "recovered")).text == "recovered"


async def test_delay_causes_timed_out(fake: FakeTelegramApi) -> None:
    fake.set_delay("sendMessage", 2)
    request = HTTPXRequest(read_timeout=0.3)
    async with telegram.Bot(fake.token, base_url=fake.base_url, request=request) as slow:
        with pytest.raises(TimedOut):
            await slow.send_message(USER, "slow")


async def test_rate_limit_answers_429_beyond_n_per_second(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    fake.set_rate_limit(5)
    outcomes: list[str] = []
    for i in range(8):
        try:
            await bot.send_message(USER, f"burst {i}")
            outcomes.append("ok")
        except RetryAfter as exc:
            assert _retry_after(exc) == 1
            outcomes.append("429")
    assert outcomes == ["ok"] * 5 + ["429"] * 3
    assert fake.rate_limited_count == 3
    assert fake.calls_to("sendMessage")[-1].response["description"] == "Too Many Requests: retry after 1"


# ------------------------------------------------------------------ getUpdates and webhooks


async def test_long_poll_returns_pushed_update_and_offset_confirms(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_long_poll()
    update_id = fake.push_update(fake.text_message("hello bot", user_id=USER))
    updates = await poll
    assert time.monotonic() - started < 3  # answered on arrival, not at the timeout
    assert [u.update_id for u in updates] == [update_id]
    assert updates[0].message is not None and updates[0].message.text == "hello bot"
    again = await bot.get_updates(timeout=0)  # not confirmed yet: delivered again
    assert [u.update_id for u in again] == [update_id]
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
    assert fake.pending_updates == []


async def test_get_updates_limit_negative_offset_and_allowed_updates(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    ids = [fake.push_update(fake.text_message(f"m{i}")) for i in range(5)]
    assert ids == sorted(ids) and ids[1] == ids[0] + 1
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=-2)] == ids[3:]
    assert len(fake.pending_updates) == 2  # everything before the last two is forgotten
    await bot.get_updates(offset=ids[-1] + 1)
    sent = await bot.send_message(USER, "menu")
    fake.push_update(fake.text_message("ignored"))
    fake.push_update(fake.callback_query("cb", message_id=sent.message_id))
    only = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in only] == [True]
    fake.push_update(fake.text_message("still ignored: the setting persists"))
    assert [u.callback_query is not None for u in await bot.get_updates()] == [True]


async def test_second_poller_terminates_first(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_long_poll()
    async with telegram.Bot(fake.token, base_url=fake.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


async def test_get_updates_while_webhook_set_conflicts(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    fake.push_update(fake.text_message("queued"))
    assert await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="s3cr3t")
    info = await bot.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/hook" and info.pending_update_count == 1
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()


async def test_post_webhook_delivers_like_telegram(fake: FakeTelegramApi) -> None:
    received: list[tuple[str | None, str, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (
                request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                request.content_type,
                await request.json(),
            )
        )
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        payload = {"update_id": 5, **fake.text_message("/start")}
        assert await fake.post_webhook(url, payload, secret_token="abc") == (200, "")
        assert received[0] == ("abc", "application/json", payload)
        async with telegram.Bot(fake.token, base_url=fake.base_url) as client:
            await client.set_webhook(url, secret_token="xyz")
        fake.push_update(fake.text_message("via webhook"))
        assert await fake.deliver_webhook_updates() == 1
        assert received[-1][0] == "xyz" and received[-1][2]["message"]["text"] == "via webhook"
    finally:
        await runner.cleanup()


# ------------------------------------------------------------------ builders


def test_builders_produce_ptb_parsable_updates(fake: FakeTelegramApi) -> None:
    bot = telegram.Bot(fake.token)
    cmd = Update.de_json({"update_id": 1, **fake.text_message("/start@lcbot_test_bot x @someone_here")}, bot)
    assert cmd.message is not None and cmd.message.entities[0].type == "bot_command"
    assert cmd.message.entities[0].length == len("/start@lcbot_test_bot")
    assert [e.type for e in cmd.message.entities] == ["bot_command", "mention"]
    assert cmd.message.from_user is not None and cmd.message.from_user.language_code == "en"
    group = fake.text_message("hi", chat_type="supergroup", user_id=7, reply_to_bot=True)
    assert group["message"]["chat"]["id"] < 0 and group["message"]["reply_to_message"]["from"]["is_bot"]
    for payload in (
        group,
        fake.photo_message(caption="look"),
        fake.sticker_message(),
        fake.voice_message(),
        fake.callback_query("x", message_id=3),
        fake.my_chat_member("kicked"),
    ):
        update = Update.de_json({"update_id": 2, **payload}, bot)
        assert update.effective_user is not None and update.effective_chat is not None


def test_parse_html_pre_code_and_utf16() -> None:
    text, entities = parse_html('😀<pre><code class="language-python">x = 1</code></pre>')
    assert text == "😀x = 1"
    assert entities == [{"offset": 2, "length": 5, "type": "pre", "language": "python"}]
    assert parse_html("a &amp b", strict_ampersand=False)[0] == "a & b"
    assert parse_html("fish & chips", strict_ampersand=False)[0] == "fish & chips"


# ------------------------------------------------------------------ a full PTB Application


async def test_application_answers_start_and_text(fake: FakeTelegramApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Welcome! args={context.args}")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text is not None
        await update.effective_message.reply_text(f"You said: {update.effective_message.text}")

    app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        fake.push_update(fake.text_message("/start city42", user_id=USER))
        fake.push_update(fake.text_message("What is a learning city?", user_id=USER))
        replies = await fake.wait_for_messages(USER, 2)
        assert [m["text"] for m in replies] == [
            "Welcome! args=['city42']",
            "You said: What is a learning city?",
        ]
        assert all(m["chat"]["id"] == USER and m["from"]["is_bot"] for m in replies)
        assert fake.calls_to("deleteWebhook"), "start_polling bootstraps with deleteWebhook"
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert fake.pending_updates == []  # the final getUpdates confirmed what was processed
    # The only error is the long poll PTB abandoned on stop (409 to a client that had gone).
    assert [(c.method, c.status) for c in fake.calls if not c.ok and not c.aborted] == []


# ------------------------------------------------------------------ standalone mode


async def test_standalone_main_and_control_endpoints() -> None:
    proc = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0", "--rate-limit", "30"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 10)
        base_url = line.split()[-1]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/bot")
        root = base_url.removesuffix("/bot")
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{root}/__control/updates", json=[{"message": {"x": 1}}, {"message": {"y": 2}}]
            ):
                pass
            async with http.post(f"{base_url}{DEFAULT_TOKEN}/getUpdates", data={"offset": "0"}) as resp:
                assert [u["update_id"] for u in (await resp.json())["result"]] == [1, 2]
            async with http.get(f"{root}/__control/calls") as resp:
                calls = (await resp.json())["result"]
                assert calls[-1]["method"] == "getUpdates" and calls[-1]["status"] == 200
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 10)
