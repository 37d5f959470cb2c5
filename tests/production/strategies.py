"""Hypothesis strategies for Telegram Update payloads of every shape the bot may receive (Bot API 10 JSON)."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import strategies as st

JsonDict = dict[str, Any]
BOT_USERNAME = "lcbot_test_bot"
BOT_ID = 123456

_ids = itertools.count(1_000_000)

# Scripts users write in, and the characters that break naive text handling.
ALPHABETS = {
    "latin": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZàâçéèêëîïôûùüÿñæœßãõ",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯ",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهويىةءأإآؤئـًٌٍَُِّْ؟،",
    "chinese": "城市学习型的网络如何加入什么是联合国教科文组织全球终身奖项申请会员",
    "devanagari": "अआइईउऊएऐओऔकखगघचछजझटठडढतथदधनपफबभमयरलवशषसह्ािीुूेैोौं",
    "emoji": "😀🎉👍👎🏙️🌍📚✨🔥❤️👨‍👩‍👧🇫🇷🇸🇦",
    "marks": "\u200f\u200e\u202b\u202c\u2066\u2067\u2069\u200d\u200b\ufeff\u0301\u0308",
    "symbols": " \n\t.,;:!?'\"()[]{}<>&/@#_-*~`|\\$%^+=",
}
QUESTIONS = [
    "What is a learning city?", "How can my city join the network?", "Comment rejoindre le réseau ?",
    "¿Qué es una ciudad del aprendizaje?", "ما هي المدينة المتعلمة؟", "什么是学习型城市？",
    "Что такое обучающийся город?", "Wie kann unsere Stadt beitreten?", "Como a minha cidade pode aderir?",
    "hello", "thanks", "who won the football match?", "learning city award", "newsletter",
]
COMMANDS = ["/start", "/help", "/faq", "/language", "/privacy", "/subscribe", "/unsubscribe", "/mydata",
            "/forget", "/cancel", "/stats", "/unanswered", "/reload", "/nosuchcommand", "/start how-to-join",
            "/start subscribe_lyon", "/start " + "x" * 80, f"/help@{BOT_USERNAME}", "/start@some_other_bot"]
ENTITY_TYPES = ["mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold", "italic",
                "underline", "strikethrough", "spoiler", "code", "pre", "blockquote", "expandable_blockquote"]
LANGUAGE_CODES = ["en", "fr", "es", "ar", "zh", "ru", "de", "pt", "pt-br", "zh-hans", "zh-hant", "en-US", "uk",
                  "it", "id", "fa", "he", "xx", "x-klingon"]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def free_text(max_size: int = 300) -> st.SearchStrategy[str]:
    """Text in one or several scripts, with emoji, direction marks and markup-like characters."""
    one_script = st.sampled_from(list(ALPHABETS.values())).flatmap(
        lambda alphabet: st.text(alphabet=alphabet, min_size=1, max_size=max_size))
    mixed = st.text(alphabet="".join(ALPHABETS.values()), min_size=1, max_size=max_size)
    return st.one_of(one_script, mixed, st.sampled_from(QUESTIONS),
                     st.tuples(st.sampled_from(QUESTIONS), mixed).map(" ".join))


def message_text() -> st.SearchStrategy[str]:
    """What Telegram delivers: 1 to 4,096 characters, never blank, trimmed."""
    long_text = st.tuples(st.sampled_from(QUESTIONS), st.integers(200, 4096)).map(
        lambda pair: (pair[0] + " ") * (pair[1] // (len(pair[0]) + 1)))
    commands = st.one_of(st.sampled_from(COMMANDS), st.tuples(st.sampled_from(COMMANDS), free_text(40)).map(" ".join))
    mention = free_text(80).map(lambda text: f"@{BOT_USERNAME} {text}")
    text = st.one_of(free_text(), commands, mention, long_text)
    return text.map(lambda t: t.strip()[:4096].strip()).filter(bool)


@st.composite
def entities(draw: st.DrawFn, text: str) -> list[JsonDict]:
    """Telegram's entities for the text: bot_command at 0 for a command, plus random ones within the text."""
    found: list[JsonDict] = []
    if text.startswith("/"):
        command = text.split()[0]
        found.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
    size = utf16_len(text)
    for _ in range(draw(st.integers(0, 3))):
        offset = draw(st.integers(0, max(size - 1, 0)))
        length = draw(st.integers(1, max(size - offset, 1)))
        entity: JsonDict = {"type": draw(st.sampled_from(ENTITY_TYPES)), "offset": offset, "length": length}
        if entity["type"] == "pre" and draw(st.booleans()):
            entity["language"] = "python"
        found.append(entity)
    return sorted(found, key=lambda e: (e["offset"], -e["length"]))


@st.composite
def users(draw: st.DrawFn) -> JsonDict:
    user: JsonDict = {"id": next(_ids), "is_bot": False, "first_name": draw(free_text(30)).strip() or "A"}
    language = draw(st.one_of(st.none(), st.sampled_from(LANGUAGE_CODES)))
    if language:
        user["language_code"] = language
    if draw(st.booleans()):
        user["username"] = "user_" + str(user["id"])
    return user


def chat_of(user: JsonDict, kind: str) -> JsonDict:
    if kind == "private":
        return {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    return {"id": -user["id"], "type": kind, "title": "A group"}


def bot_message(chat: JsonDict, text: str = "…") -> JsonDict:
    return {"message_id": next(_ids) % 100_000, "date": 1_760_000_000, "chat": chat, "text": text,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "LC Bot", "username": BOT_USERNAME}}


@st.composite
def text_messages(draw: st.DrawFn, chat_kind: st.SearchStrategy[str] | None = None) -> JsonDict:
    """{"update_id", "message"} with text, from a user, in a private chat or a group."""
    user = draw(users())
    kinds = chat_kind if chat_kind is not None else st.sampled_from(["private"] * 3 + ["group", "supergroup"])
    kind = draw(kinds)
    chat = chat_of(user, kind)
    text = draw(message_text())
    message: JsonDict = {"message_id": draw(st.integers(1, 10**6)), "date": 1_760_000_000, "chat": chat,
                         "from": user, "text": text}
    found = draw(entities(text))
    if found:
        message["entities"] = found
    if kind != "private" and draw(st.booleans()):
        message["reply_to_message"] = bot_message(chat)
    return {"update_id": next(_ids), "message": message}


@st.composite
def callback_queries(draw: st.DrawFn) -> JsonDict:
    """A button tap with structured or random callback data, on a message that may be inaccessible."""
    user = draw(users())
    chat = chat_of(user, "private")
    structured = st.tuples(st.sampled_from(["1", "0", "2"]), st.sampled_from(list("tcmludnsoxyzafgkbr?")),
                           st.sampled_from(["", "how-to-join", "fr", "xx", "joining", "award", "12:how-to-join",
                                            "99999999:what-is-a-learning-city", "newsletter"])).map(":".join)
    data = draw(st.one_of(structured, st.text(max_size=64).filter(lambda d: len(d.encode()) <= 64)))
    message = bot_message(chat) if draw(st.integers(0, 4)) else {"message_id": 5, "date": 0, "chat": chat}
    query: JsonDict = {"id": str(next(_ids)), "from": user, "chat_instance": "-42", "data": data}
    if draw(st.integers(0, 5)):
        query["message"] = message
    return {"update_id": next(_ids), "callback_query": query}


@st.composite
def odd_updates(draw: st.DrawFn) -> JsonDict:
    """Updates that are not a text question: media, service messages, edits, channel posts, membership."""
    user = draw(users())
    kind = draw(st.sampled_from(["private", "group"]))
    chat = chat_of(user, kind)
    base: JsonDict = {"message_id": draw(st.integers(1, 10**6)), "date": 1_760_000_000, "chat": chat, "from": user}
    photo = [{"file_id": "AgAC", "file_unique_id": "AQAD", "width": 90, "height": 90}]
    bodies: list[JsonDict] = [
        {"photo": photo},
        {"photo": photo, "caption": draw(free_text(100))},
        {"sticker": {"file_id": "CAAC", "file_unique_id": "AQAD2", "type": "regular", "width": 512,
                     "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}},
        {"voice": {"file_id": "AwAC", "file_unique_id": "AQAD3", "duration": 2}},
        {"location": {"latitude": 48.85, "longitude": 2.35}},
        {"contact": {"phone_number": "+33100000000", "first_name": "Ada"}},
        {"dice": {"emoji": "🎲", "value": 4}},
        {"new_chat_members": [user]},
        {"left_chat_member": user},
        {"new_chat_title": draw(free_text(20))},
        {"document": {"file_id": "BQAC", "file_unique_id": "AQAD4", "file_name": "a.pdf"}},
    ]
    shape = draw(st.integers(0, 5))
    update_id = next(_ids)
    if shape == 0:
        return {"update_id": update_id, "edited_message": {**base, "text": draw(message_text()), "edit_date": 1}}
    if shape == 1:
        channel = {"id": -100 - user["id"], "type": "channel", "title": "A channel"}
        return {"update_id": update_id, "channel_post": {"message_id": 1, "date": 1_760_000_000, "chat": channel,
                                                         "text": draw(message_text())}}
    if shape == 2:
        old, new = draw(st.sampled_from([("member", "kicked"), ("kicked", "member"), ("left", "member")]))
        def member(status: str) -> JsonDict:
            return {"user": bot_message(chat)["from"], "status": status,
                    **({"until_date": 0} if status == "kicked" else {})}

        return {"update_id": update_id, "my_chat_member": {
            "chat": chat, "from": user, "date": 1_760_000_000, "old_chat_member": member(old),
            "new_chat_member": member(new)}}
    if shape == 3:
        return {"update_id": update_id, "inline_query": {"id": "1", "from": user, "query": draw(free_text(50)),
                                                         "offset": ""}}
    return {"update_id": update_id, "message": {**base, **draw(st.sampled_from(bodies))}}


def any_update() -> st.SearchStrategy[JsonDict]:
    return st.one_of(text_messages(), text_messages(st.just("private")), callback_queries(), odd_updates())
