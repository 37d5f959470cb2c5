"""The Telegram conversation end to end: the real polling bot, the Bot API stand-in, a real database."""

from __future__ import annotations

import functools

import pytest

from bot.config import bundled
from bot.core.faq import CORE_TOPICS, Faq
from bot.core.markup import to_plain
from bot.storage.database import Database
from bot.storage.faq_files import read_faq
from bot.storage.repositories import Store
from tests.telegram.conftest import RunningBot, buttons, running_bot

LANGUAGES = ["en", "fr", "es", "ar", "zh", "ru", "de", "pt"]

# A question about joining the network, written in each language as a user might.
JOIN_QUESTIONS = {
    "en": "How can my city join the network?",
    "fr": "Comment notre ville peut-elle rejoindre le réseau ?",
    "es": "¿Cómo puede mi ciudad unirse a la red?",
    "ar": "كيف يمكن لمدينتي الانضمام إلى الشبكة؟",
    "zh": "我们的城市如何加入这个网络？",
    "ru": "Как нашему городу вступить в сеть?",
    "de": "Wie kann unsere Stadt dem Netzwerk beitreten?",
    "pt": "Como a minha cidade pode aderir à rede?",
}


async def test_start_welcomes_the_user_with_the_topic_menu(bot: RunningBot) -> None:
    [welcome] = await bot.say("/start", first_name="Amina")
    assert "Amina" in welcome["text"]
    assert [data for _, data in buttons(welcome)] == [
        "1:c:learning-cities", "1:c:network", "1:c:joining", "1:c:award", "1:c:help"]


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_question_about_joining_gets_the_joining_answer_in_its_language(bot: RunningBot, lang: str) -> None:
    [reply] = await bot.say(JOIN_QUESTIONS[lang], language_code="en", user_id=2000 + LANGUAGES.index(lang))
    expected = _faq().entry("how-to-join", lang).answer
    assert _plain(reply["text"])[:40] == _plain(expected)[:40]
    data = [d for _, d in buttons(reply)]
    assert "1:u:how-to-join" in data and "1:d:how-to-join" in data  # 👍 / 👎
    assert any(d.startswith("1:t:") for d in data)  # related topics


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_welcome_follows_the_telegram_app_language(bot: RunningBot, lang: str) -> None:
    [english] = await bot.say("/help", user_id=3000, language_code="en")
    [localised] = await bot.say("/help", user_id=3001 + LANGUAGES.index(lang), language_code=lang)
    if lang == "en":
        assert localised["text"] == english["text"]
    else:
        assert localised["text"] != english["text"], f"/help is not translated into {lang}"


async def test_a_deep_link_opens_a_topic(bot: RunningBot) -> None:
    [reply] = await bot.say("/start learning-city-award", language_code="fr")
    assert _plain(reply["text"])[:30] == _plain(_faq().entry("learning-city-award", "fr").answer)[:30]


async def test_an_unknown_deep_link_is_a_plain_welcome(bot: RunningBot) -> None:
    [reply] = await bot.say("/start no-such-topic")
    assert next(d for _, d in buttons(reply)) == "1:c:learning-cities"


async def test_the_faq_menu_is_browsed_in_place_and_back(bot: RunningBot) -> None:
    [menu] = await bot.say("/faq")
    await bot.tap("1:c:joining", message_id=menu["message_id"])
    edits = await bot.api.wait_for_calls("editMessageText", 1)
    topics = bot.api.message(menu["chat"]["id"], menu["message_id"])
    assert ("how-to-join" in " ".join(d for _, d in buttons(topics))) and edits
    assert buttons(topics)[-1][1] == "1:m:"
    await bot.tap("1:m:", message_id=menu["message_id"])
    await bot.api.wait_for_calls("editMessageText", 2)
    again = bot.api.message(menu["chat"]["id"], menu["message_id"])
    assert buttons(again) == buttons(menu)


async def test_a_topic_button_sends_its_answer(bot: RunningBot) -> None:
    [menu] = await bot.say("/faq", language_code="de")
    before = len(bot.api.messages_to(1001))
    await bot.tap("1:t:contact", message_id=menu["message_id"], language_code="de")
    [answer] = (await bot.api.wait_for_messages(1001, before + 1))[before:]
    assert "learningcities@unesco.org" in answer["text"]


async def test_the_chosen_language_is_kept_across_a_restart(database_url: str) -> None:
    async with running_bot(database_url) as first:
        [menu] = await first.say("/language", user_id=4242)
        assert ("Français", "1:l:fr") in buttons(menu)
        await first.tap("1:l:fr", user_id=4242, message_id=menu["message_id"])
        [english_help] = await first.say("/help", user_id=4243)
    async with running_bot(database_url) as second:
        [help_after] = await second.say("/help", user_id=4242, language_code="en")
        assert help_after["text"] != english_help["text"]


async def test_feedback_is_thanked_and_recorded(bot: RunningBot) -> None:
    [reply] = await bot.say("What is a learning city?")
    params = await bot.tap("1:u:what-is-a-learning-city", message_id=reply["message_id"])
    assert params.get("text")
    database = Database(bot.settings.database_url)
    try:
        counts = await Store(database).feedback.by_topic()
    finally:
        await database.close()
    assert counts["what-is-a-learning-city"][0] == 1


async def test_an_out_of_scope_question_gets_a_polite_fallback_with_the_contact(bot: RunningBot) -> None:
    [reply] = await bot.say("What's the weather like in Lisbon tomorrow?")
    assert "learningcities@unesco.org" in reply["text"]
    assert buttons(reply)[0][1] == "1:c:learning-cities"


async def test_a_button_from_an_old_keyboard_says_the_menu_expired(bot: RunningBot) -> None:
    [menu] = await bot.say("/faq")
    before = len(bot.api.messages_to(1001))
    params = await bot.tap("0:old:format", message_id=menu["message_id"])
    assert params.get("text")
    [notice] = (await bot.api.wait_for_messages(1001, before + 1))[before:]
    assert buttons(notice)[0][1] == "1:c:learning-cities"
    params = await bot.tap("1:t:a-topic-that-was-removed", message_id=menu["message_id"])
    assert params.get("text")


async def test_in_a_group_the_bot_speaks_only_when_addressed(bot: RunningBot) -> None:
    group = -100500
    bot.api.push_update(bot.api.text_message("what is a learning city?", chat_id=group, chat_type="supergroup"))
    assert await bot.quiet(group, 0.5) == []
    [reply] = await bot.say("@lcbot_test_bot what is a learning city?", chat_id=group, chat_type="supergroup")
    assert _plain(reply["text"])[:20] == _plain(_faq().entry("what-is-a-learning-city", "en").answer)[:20]
    [by_reply] = await bot.say("and how do we join?", chat_id=group, chat_type="supergroup", reply_to_bot=True)
    assert by_reply["text"]


async def test_in_a_forum_topic_the_answer_stays_in_that_topic(bot: RunningBot) -> None:
    forum = -100600
    update = bot.api.text_message("@lcbot_test_bot how can my city join?", chat_id=forum, chat_type="supergroup")
    update["message"].update(message_thread_id=77, is_topic_message=True)
    update["message"]["chat"]["is_forum"] = True
    bot.api.push_update(update)
    await bot.api.wait_for_messages(forum, 1, timeout=10)

    [call] = [c for c in bot.api.calls_to("sendMessage") if c.params["chat_id"] == forum]
    assert call.params["message_thread_id"] == 77
    assert "apply" in call.params["text"].lower() or "join" in call.params["text"].lower()


async def test_a_photo_sticker_or_voice_message_gets_a_text_only_hint(bot: RunningBot) -> None:
    for build in (bot.api.photo_message, bot.api.sticker_message, bot.api.voice_message):
        before = len(bot.api.messages_to(1001))
        bot.api.push_update(build(user_id=1001))
        [hint] = (await bot.api.wait_for_messages(1001, before + 1))[before:]
        assert "text" in hint["text"].lower()


async def test_an_unknown_command_points_to_help(bot: RunningBot) -> None:
    [reply] = await bot.say("/frobnicate")
    assert "/help" in reply["text"]


async def test_html_in_a_users_name_is_escaped(bot: RunningBot) -> None:
    [welcome] = await bot.say("/start", first_name="<b>Bob & Co</b>")
    assert "<b>Bob & Co</b>" in welcome["text"]  # shown literally: the stand-in rejects unescaped HTML


async def test_the_command_menu_and_descriptions_are_published_in_every_language(bot: RunningBot) -> None:
    calls = await bot.api.wait_for_calls("setMyCommands", len(LANGUAGES) + 1)
    languages = {c.params.get("language_code") for c in calls}
    assert set(LANGUAGES) <= languages
    short = await bot.api.wait_for_calls("setMyShortDescription", len(LANGUAGES) + 1)
    described = {c.params.get("language_code") for c in short}
    assert set(LANGUAGES) <= described


async def test_telegram_flood_control_delays_a_reply_but_does_not_lose_it(bot: RunningBot) -> None:
    bot.api.fail_next("sendMessage", 429, retry_after=1)
    [reply] = await bot.say("What is the GNLC?")
    assert reply["text"]


async def test_a_telegram_server_error_costs_one_reply_and_the_bot_keeps_serving(bot: RunningBot) -> None:
    bot.api.fail_next("sendMessage", 500, "Internal Server Error", times=2)
    bot.api.push_update(bot.api.text_message("What is the GNLC?", user_id=1001))
    await bot.api.wait_for_calls("sendMessage", 2)
    [reply] = await bot.say("What is UIL?")
    assert reply["text"]


async def test_a_user_who_blocked_the_bot_does_not_stop_it(bot: RunningBot) -> None:
    bot.api.block_chat(666)
    bot.api.push_update(bot.api.text_message("hello", user_id=666))
    [reply] = await bot.say("hello", user_id=667)
    assert reply["text"]


async def test_every_core_topic_can_be_opened_from_a_deep_link_in_every_language(bot: RunningBot) -> None:
    for number, topic in enumerate(sorted(CORE_TOPICS)):
        lang = LANGUAGES[number % len(LANGUAGES)]
        [reply] = await bot.say(f"/start {topic}", language_code=lang, user_id=5000 + number)
        assert _plain(reply["text"])[:15] == _plain(_faq().entry(topic, lang).answer)[:15]


@functools.cache
def _faq() -> Faq:
    return read_faq(bundled("faq"))


def _plain(html: str) -> str:
    return " ".join(to_plain(html).replace("\u2068", "").replace("\u2069", "").split())


async def test_a_reply_that_takes_time_shows_typing_first(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs a database that can be made slow on purpose: PostgreSQL's table locks")
    from tests.telegram.test_newsletter import change, subscribe, tap

    async with running_bot(database_url) as bot:
        done = await subscribe(bot, 1201, "en")
        await tap(bot, "1:e:", 1201, "en", message_id=done["message_id"])  # the bot now awaits an address
        await change(bot, 1201, awaiting=None)  # ...until the step is closed elsewhere (staff tools)
        database = Database(database_url)
        try:
            async with database.engine.connect() as connection:
                # A slow database: the sign-up step this process believes open is read for the next
                # message, and waits behind this lock for a second.
                await connection.exec_driver_sql("LOCK TABLE subscribers IN ACCESS EXCLUSIVE MODE")  # until commit
                bot.api.push_update(bot.api.text_message("GNLC?", user_id=1201))
                await bot.api.wait_for_calls("sendChatAction", 1, timeout=5)
                await connection.commit()
            await bot.api.wait_for_messages(1201, 4, timeout=10)
        finally:
            await database.close()

    typing_call = bot.api.calls_to("sendChatAction")[0]
    answer = [c for c in bot.api.calls_to("sendMessage") if c.params["chat_id"] == 1201][-1]
    assert typing_call.params["action"] == "typing" and typing_call.time < answer.time
    assert "GNLC" in answer.params["text"] or "Learning Cities" in answer.params["text"]


async def test_a_quick_reply_shows_no_typing(bot: RunningBot) -> None:
    await bot.say("What is a learning city?", user_id=1202)
    assert bot.api.calls_to("sendChatAction") == []
