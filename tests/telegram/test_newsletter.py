"""The newsletter sign-up end to end: the real polling bot, the Bot API stand-in, a real database and,
for the email channel, a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from bot.core.ports import Channel, Role, SubscriberRecord, SubscriberStatus
from bot.core.subscriptions import NOTICE_VERSION
from bot.storage.database import Database
from bot.storage.models import FeedbackVote, Subscriber, User
from bot.storage.repositories import Store
from tests.telegram.conftest import RunningBot, buttons, running_bot

JsonDict = dict[str, Any]
LCBOT = Path(sys.executable).parent / "lcbot"

# A request for the newsletter in the user's own words, per language.
NEWSLETTER_REQUESTS = {
    "fr": "Je voudrais recevoir la lettre d'information",
    "zh": "我想订阅新闻简报",
    "de": "Ich möchte den Newsletter abonnieren",
}


# --- helpers: the bot's sent messages (not edits), the database, the mail server --------------------------

def sent(bot: RunningBot, chat_id: int) -> list[JsonDict]:
    return [m for m in bot.api.messages_to(chat_id) if "edit_date" not in m]


async def wait_sent(bot: RunningBot, chat_id: int, count: int) -> list[JsonDict]:
    while len(sent(bot, chat_id)) < count:
        await bot.api.wait_for_messages(chat_id, len(bot.api.messages_to(chat_id)) + 1, timeout=10)
    return sent(bot, chat_id)


async def say(bot: RunningBot, text: str, user: int, lang: str | None = "en", count: int = 1) -> list[JsonDict]:
    before = len(sent(bot, user))
    bot.api.push_update(bot.api.text_message(text, user_id=user, language_code=lang))
    return (await wait_sent(bot, user, before + count))[before:]


async def tap(bot: RunningBot, data: str, user: int, lang: str | None = "en", count: int = 1,
              message_id: int | None = None) -> list[JsonDict]:
    before = len(sent(bot, user))
    await bot.tap(data, user_id=user, language_code=lang, message_id=message_id)
    return (await wait_sent(bot, user, before + count))[before:] if count else []


async def subscribe(bot: RunningBot, user: int, lang: str) -> JsonDict:
    """/subscribe and the consent tap; returns the "you are subscribed" message."""
    [screen] = await say(bot, "/subscribe", user, lang)
    [done] = await tap(bot, f"1:k:{lang}", user, lang, message_id=screen["message_id"])
    return done


async def subscriber(bot: RunningBot, user: int) -> SubscriberRecord | None:
    async with Database(bot.settings.database_url) as database:
        return await Store(database).subscribers.get(user)


async def change(bot: RunningBot, user: int, **values: object) -> None:
    """Move the stored code's times, as time passing would."""
    async with Database(bot.settings.database_url) as database, database.sessions() as session:
        await session.execute(update(Subscriber).where(Subscriber.telegram_id == user).values(**values))
        await session.commit()


async def rows_naming(database_url: str, user: int) -> dict[str, int]:
    async with Database(database_url) as database, database.sessions() as session:
        return {model.__tablename__: int((await session.execute(
            select(func.count()).select_from(model).where(model.telegram_id == user))).scalar_one())
            for model in (User, Subscriber, FeedbackVote)}


def export(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "LCBOT_DATABASE_URL": database_url}
    return subprocess.run([str(LCBOT), "subscribers", "export", *args], capture_output=True, text=True, env=env,
                          timeout=60)


@dataclass
class MailBox:
    url: str
    messages: list[EmailMessage] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def code_for(self, address: str) -> str:
        body = self.to(address)[-1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        return re.search(r"\b(\d{6})\b", body).group(1)  # type: ignore[union-attr]


class _Collect:
    def __init__(self, box: MailBox) -> None:
        self.box = box

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # aiosmtpd calls it so
        self.box.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[MailBox]:
    port = _free_port()
    box = MailBox(f"smtp://127.0.0.1:{port}")
    controller = Controller(_Collect(box), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def mail_settings(box: MailBox) -> dict[str, str]:
    return {"smtp_url": box.url, "mail_from": "newsletter@uil.example.org"}


# --- the flows ---------------------------------------------------------------------------------------------

async def test_one_tap_subscribes_in_the_conversations_language_in_eight_languages(bot: RunningBot) -> None:
    [english] = await say(bot, "/subscribe", 6000, "en")
    assert "/privacy" in english["text"] and buttons(english) == [(buttons(english)[0][0], "1:k:en")]
    for number, lang in enumerate(["fr", "es", "ar", "zh", "ru", "de", "pt"], start=1):
        user = 6000 + number
        request = NEWSLETTER_REQUESTS.get(lang)
        # In their own words (Telegram app in English), or /subscribe with the app in their language.
        [screen] = await say(bot, request, user, "en") if request else await say(bot, "/subscribe", user, lang)
        assert screen["text"] != english["text"], f"the sign-up screen is not translated into {lang}"
        assert "/privacy" in screen["text"] and [d for _, d in buttons(screen)] == [f"1:k:{lang}"]
        [done] = await tap(bot, f"1:k:{lang}", user, "en", message_id=screen["message_id"])
        assert "1:e:" in [d for _, d in buttons(done)]
        record = await subscriber(bot, user)
        assert record is not None and record.status is SubscriberStatus.ACTIVE
        assert (record.language, record.consent_language, record.consent_notice_version) == (
            lang, lang, NOTICE_VERSION)
        assert record.consent_at is not None and record.channel is Channel.TELEGRAM
        assert bot.api.message(user, screen["message_id"]).get("reply_markup") is None  # consent button gone


async def test_the_newsletter_language_follows_a_change_of_language(bot: RunningBot) -> None:
    done = await subscribe(bot, 6010, "fr")
    [menu] = await tap(bot, "1:g:", 6010, "fr", message_id=done["message_id"])
    assert ("العربية", "1:l:ar") in buttons(menu) or any(d == "1:l:ar" for _, d in buttons(menu))
    await tap(bot, "1:l:ar", 6010, "fr", count=0, message_id=menu["message_id"])
    await bot.api.wait_for_calls("editMessageText", 1)
    record = await subscriber(bot, 6010)
    assert record is not None and record.language == "ar" and record.consent_language == "fr"


async def test_a_deep_link_records_its_source(bot: RunningBot) -> None:
    [screen] = await say(bot, "/start subscribe_Lyon-2026", 6020, "fr")
    assert [d for _, d in buttons(screen)] == ["1:k:fr"]
    await tap(bot, "1:k:fr", 6020, "fr", message_id=screen["message_id"])
    [plain] = await say(bot, "/start subscribe", 6021, "en")
    assert [d for _, d in buttons(plain)] == ["1:k:en"]
    [bad] = await say(bot, "/start subscribe_no!such", 6022, "en")
    assert [d for _, d in buttons(bad)] == ["1:k:en"]
    recorded = [await subscriber(bot, user) for user in (6020, 6021, 6022)]
    assert [r.source if r else "missing" for r in recorded] == ["Lyon-2026", None, None]
    assert [r.status if r else None for r in recorded] == [SubscriberStatus.ACTIVE, SubscriberStatus.PENDING,
                                                          SubscriberStatus.PENDING]


async def test_concurrent_consent_taps_make_one_subscription(bot: RunningBot) -> None:
    [screen] = await say(bot, "/subscribe", 6030, "zh")
    answered = len(bot.api.calls_to("answerCallbackQuery"))
    for _ in range(5):
        bot.api.push_update(bot.api.callback_query("1:k:zh", user_id=6030, message_id=screen["message_id"],
                                                   language_code="zh"))
    calls = await bot.api.wait_for_calls("answerCallbackQuery", answered + 5)
    await wait_sent(bot, 6030, 2)
    assert len(sent(bot, 6030)) == 2 and await bot.quiet(6030, 0.3) == []
    assert sum(1 for c in calls[answered:] if c.params.get("text")) == 4  # "you are already subscribed"
    assert (await rows_naming(bot.settings.database_url, 6030))["subscribers"] == 1


async def test_a_sign_up_interrupted_by_a_restart_continues_where_it_was(database_url: str, smtp: MailBox) -> None:
    async with running_bot(database_url, **mail_settings(smtp)) as first:
        done = await subscribe(first, 6040, "pt")
        [ask] = await tap(first, "1:e:", 6040, "pt", message_id=done["message_id"])
        assert "/cancel" in ask["text"]
    async with running_bot(database_url, **mail_settings(smtp)) as second:  # another process, same database
        [sent_code] = await say(second, "ana.silva@Exemplo.PT", 6040, "pt")
        assert "ana.silva@exemplo.pt" in sent_code["text"] and "1:a:" in [d for _, d in buttons(sent_code)]
        [mail] = smtp.to("ana.silva@exemplo.pt")
        assert mail["From"] == "newsletter@uil.example.org" and mail["Content-Language"] == "pt"
        [confirmed] = await say(second, smtp.code_for("ana.silva@exemplo.pt"), 6040, "pt")
        assert "ana.silva@exemplo.pt" in confirmed["text"]
        record = await subscriber(second, 6040)
    assert record is not None and record.email_confirmed_at is not None and record.awaiting is None
    assert record.channel is Channel.TELEGRAM_EMAIL and record.consent_channel is Channel.TELEGRAM_EMAIL


async def test_a_wrong_an_expired_and_a_resent_code(database_url: str, smtp: MailBox) -> None:
    async with running_bot(database_url, **mail_settings(smtp)) as bot:
        done = await subscribe(bot, 6050, "es")
        await tap(bot, "1:e:", 6050, "es", message_id=done["message_id"])
        [invalid] = await say(bot, "ana(at)ciudad.es", 6050, "es")
        assert "/cancel" in invalid["text"] and not smtp.messages
        record = await subscriber(bot, 6050)
        assert record is not None and record.email is None and record.awaiting is not None  # nothing lost
        [code_sent] = await say(bot, "ana@ciudad.es", 6050, "es")
        assert "ana@ciudad.es" in code_sent["text"]
        assert smtp.to("ana@ciudad.es")[0]["Subject"] != "Your confirmation code: " + smtp.code_for("ana@ciudad.es")
        code = smtp.code_for("ana@ciudad.es")
        [wrong] = await say(bot, "999999" if code != "999999" else "000000", 6050, "es")
        assert "4" in wrong["text"] and "1:a:" in [d for _, d in buttons(wrong)]
        await change(bot, 6050, email_code_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        [expired] = await say(bot, code, 6050, "es")
        assert expired["text"] != wrong["text"] and "1:a:" in [d for _, d in buttons(expired)]
        [too_soon] = await tap(bot, "1:a:", 6050, "es", message_id=expired["message_id"])
        assert len(smtp.to("ana@ciudad.es")) == 1 and re.search(r"\d", too_soon["text"])
        await change(bot, 6050, email_code_sent_at=datetime.now(UTC) - timedelta(minutes=2))
        [resent] = await tap(bot, "1:a:", 6050, "es", message_id=too_soon["message_id"])
        assert len(smtp.to("ana@ciudad.es")) == 2 and resent["text"] == code_sent["text"]
        [confirmed] = await say(bot, smtp.code_for("ana@ciudad.es"), 6050, "es")
        assert "ana@ciudad.es" in confirmed["text"]
        record = await subscriber(bot, 6050)
        assert record is not None and record.email_confirmed_at is not None


async def test_too_many_wrong_codes_need_a_new_code(database_url: str, smtp: MailBox) -> None:
    async with running_bot(database_url, **mail_settings(smtp)) as bot:
        done = await subscribe(bot, 6060, "ar")
        await tap(bot, "1:e:", 6060, "ar", message_id=done["message_id"])
        await say(bot, "layla@madina.org", 6060, "ar")
        code = smtp.code_for("layla@madina.org")
        wrong = "123456" if code != "123456" else "654321"
        replies = [(await say(bot, wrong, 6060, "ar"))[0] for _ in range(5)]
        assert len({r["text"] for r in replies}) == 5  # attempts left: 4, 3, 2, 1, then "too many"
        [locked] = await say(bot, code, 6060, "ar")
        assert locked["text"] == replies[-1]["text"] and "1:a:" in [d for _, d in buttons(locked)]
        record = await subscriber(bot, 6060)
        assert record is not None and record.email_confirmed_at is None


async def test_unsubscribe_works_in_one_message_and_a_second_time_changes_nothing(bot: RunningBot) -> None:
    done = await subscribe(bot, 6070, "en")
    [first] = await say(bot, "/unsubscribe", 6070)
    record = await subscriber(bot, 6070)
    assert record is not None and record.status is SubscriberStatus.UNSUBSCRIBED and record.unsubscribed_at
    [second] = await say(bot, "/unsubscribe", 6070)
    assert second["text"] != first["text"] and "/subscribe" in second["text"]
    again = await subscriber(bot, 6070)
    assert again is not None and again.unsubscribed_at == record.unsubscribed_at
    [old_button] = await tap(bot, "1:e:", 6070, message_id=done["message_id"])
    assert "/subscribe" in old_button["text"]
    for stale in ("1:k:xx", "1:r:mayor"):  # buttons from an older keyboard
        [notice] = await tap(bot, stale, 6070)
        assert buttons(notice)[0][1] == "1:c:learning-cities"


async def test_cancel_or_another_button_leaves_a_step(bot: RunningBot) -> None:
    done = await subscribe(bot, 6080, "en")
    await tap(bot, "1:o:", 6080, message_id=done["message_id"])
    [cancelled] = await say(bot, "/cancel", 6080)
    [answer] = await say(bot, "What is a learning city?", 6080)
    assert "1:u:what-is-a-learning-city" in [d for _, d in buttons(answer)]
    await tap(bot, "1:o:", 6080, message_id=done["message_id"])
    await tap(bot, "1:c:joining", 6080, count=0)
    await bot.api.wait_for_calls("editMessageText", 1)
    record = await subscriber(bot, 6080)
    assert record is not None and record.awaiting is None and record.organisation is None
    [nothing] = await say(bot, "/cancel", 6080)
    assert nothing["text"] != cancelled["text"]


async def test_my_data_shows_everything_stored_as_a_message_and_a_json_document(bot: RunningBot) -> None:
    [screen] = await say(bot, "/start subscribe_lyon", 6090, "fr")
    [done] = await tap(bot, "1:k:fr", 6090, "fr", message_id=screen["message_id"])
    await tap(bot, "1:o:", 6090, "fr", message_id=done["message_id"])
    [roles] = await say(bot, "Ville de Lyon", 6090, "fr")
    assert [d for _, d in buttons(roles)][:3] == ["1:r:citizen", "1:r:city-government", "1:r:other"]
    await tap(bot, "1:r:city-government", 6090, "fr", message_id=roles["message_id"])
    await tap(bot, "1:e:", 6090, "fr", message_id=done["message_id"])
    [saved] = await say(bot, "marie@lyon.fr", 6090, "fr")  # no mail server: kept unconfirmed
    assert "marie@lyon.fr" in saved["text"]
    [answer] = await say(bot, "Qu'est-ce qu'une ville apprenante ?", 6090, "fr")
    await bot.tap("1:u:what-is-a-learning-city", user_id=6090, message_id=answer["message_id"], language_code="fr")
    text, document = await say(bot, "/mydata", 6090, "fr", count=2)
    for shown in ("6090", "Ville de Lyon", "marie@lyon.fr", "lyon", NOTICE_VERSION):
        assert shown in text["text"]
    assert document["document"]["file_name"] == "lcbot-my-data.json"
    data = json.loads(bot.api.uploaded_file(document["document"]["file_id"]) or b"")
    assert data["feedback_votes"] == 1 and data["user"]["telegram_language"] == "fr"
    subscription = data["subscription"]
    assert (subscription["organisation"], subscription["role"], subscription["source"], subscription["email"]) == (
        "Ville de Lyon", Role.CITY_GOVERNMENT.value, "lyon", "marie@lyon.fr")
    assert subscription["email_confirmed_at"] is None and subscription["status"] == "active"
    group = -100777  # in a group, nothing personal is shown
    bot.api.push_update(bot.api.text_message("/mydata", user_id=6090, chat_id=group, chat_type="supergroup"))
    [hint] = await bot.api.wait_for_messages(group, 1)
    assert "6090" not in hint["text"] and "lyon" not in hint["text"].lower()


async def test_forget_erases_the_user_and_the_export_no_longer_holds_them(bot: RunningBot) -> None:
    done = await subscribe(bot, 6100, "en")
    await tap(bot, "1:e:", 6100, message_id=done["message_id"])
    await say(bot, "forget.me@city.org", 6100)
    [answer] = await say(bot, "What is a learning city?", 6100)
    await bot.tap("1:u:what-is-a-learning-city", user_id=6100, message_id=answer["message_id"])
    await subscribe(bot, 6101, "en")  # someone who stays
    [ask] = await say(bot, "/forget", 6100)
    assert [d for _, d in buttons(ask)] == ["1:y:forget", "1:x:forget"]
    await tap(bot, "1:x:forget", 6100, count=0, message_id=ask["message_id"])
    await bot.api.wait_for_calls("editMessageText", 1)
    assert (await rows_naming(bot.settings.database_url, 6100))["subscribers"] == 1  # "no": nothing deleted
    [ask] = await say(bot, "/forget", 6100)
    await tap(bot, "1:y:forget", 6100, count=0, message_id=ask["message_id"])
    await bot.api.wait_for_calls("editMessageText", 2)
    assert await rows_naming(bot.settings.database_url, 6100) == {"users": 0, "subscribers": 0, "feedback": 0}
    run = export(bot.settings.database_url, "--format", "json")
    assert run.returncode == 0, run.stderr
    exported = json.loads(run.stdout)["subscribers"]
    assert [row["telegram_id"] for row in exported] == [6101]
    assert "6100" not in run.stdout and "forget.me" not in run.stdout
