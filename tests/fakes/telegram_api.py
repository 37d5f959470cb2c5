"""A small, faithful stand-in for the Telegram Bot API, served over real HTTP (aiohttp).

Point python-telegram-bot at it with ``base_url=fake.base_url`` and ``token=fake.token``::

    async with FakeTelegramApi() as fake:
        bot = telegram.Bot(fake.token, base_url=fake.base_url)
        fake.push_update(fake.text_message("/start"))
        ...
        await fake.wait_for_messages(chat_id=fake.default_user_id, count=1)

What it mirrors (see /work/shared/telegram-facts.md): HTTP status == ``error_code``, the
``{"ok", "result"}`` envelope, ``parameters.retry_after``, parameters from the query string,
form-urlencoded (JSON-encoded values), JSON and multipart bodies, case-insensitive method names,
getUpdates long polling with offset confirmation and persistent ``allowed_updates``, the webhook /
polling conflict, tdlib's HTML entity parser and its error texts, text limits counted after
entity parsing, callback_data limits in UTF-8 bytes, and bot command validation.

Known simplifications: Markdown / MarkdownV2 texts are not parsed (kept verbatim); the HTML
parser rejects a bare ``&`` like the Bot API docs demand although tdlib keeps it literally (set
``strict_ampersand=False`` to get tdlib's behaviour); files are recorded, never stored.

Standalone: ``python -m tests.fakes.telegram_api --port 8081 [--rate-limit 30]`` also serves
``POST /__control/updates`` (an update or a list of updates), ``GET /__control/calls`` and
``GET /__control/messages?chat_id=N``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import itertools
import json
import math
import re
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import MappingProxyType, TracebackType
from typing import Any, NamedTuple, Self, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USER_ID",
    "ApiCall",
    "ApiError",
    "FakeTelegramApi",
    "HtmlParseError",
    "main",
    "parse_html",
    "utf16_len",
]

DEFAULT_TOKEN = "123456:TEST-token_abc"
DEFAULT_USER_ID = 100_000_001

_T = TypeVar("_T")
JsonDict = dict[str, Any]

# --------------------------------------------------------------------------------------------
# Constants (immutable)
# --------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_PATH_RE = re.compile(r"/bot([^/]*)/([^/]*)/?")
_INT_RE = re.compile(r"-?\d+")
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]+")
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LANGUAGE_CODE_RE = re.compile(r"(?:[a-z]{2})?")
# tdlib: '/(?<!\b|[\/<>])\/([a-zA-Z0-9_]{1,64})(?:@([a-zA-Z0-9_]{3,32}))?(?!\B|[\/<>])/u'
_BOT_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>@])")
# tdlib: '/(?<=\B)@([a-zA-Z0-9_]{2,32})(?=\b)/u', then names shorter than 5 are dropped
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?!\w)")

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

# Parameters whose form values are kept as raw strings (never JSON-decoded), because
# PTB sends str-typed values verbatim: "123" as a text must stay the text "123".
_RAW_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "url", "secret_token", "description",
        "short_description", "name", "language_code", "action", "inline_message_id", "ip_address",
        "business_connection_id", "message_effect_id", "title", "emoji", "photo", "document",
        "sticker", "voice", "audio", "video", "animation", "video_note", "thumbnail",
    }
)  # fmt: skip

_SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
_UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages",
    "message_reaction", "message_reaction_count", "inline_query", "chosen_inline_result",
    "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll",
    "poll_answer", "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
    "removed_chat_boost",
)  # fmt: skip
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_DEFAULT_ALLOWED = frozenset(_UPDATE_TYPES) - _OPT_IN_UPDATE_TYPES
_INLINE_BUTTON_KINDS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
_COMMAND_SCOPES = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
        "chat_administrators", "chat_member",
    }
)  # fmt: skip

_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "code",
        "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip
_HTML_ENTITY_TYPES: Mapping[str, str] = MappingProxyType({
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "span": "spoiler", "tg-spoiler": "spoiler", "code": "code", "pre": "pre",
})  # fmt: skip
_NAMED_HTML_ENTITIES: Mapping[str, str] = MappingProxyType({"lt": "<", "gt": ">", "amp": "&", "quot": '"'})
_HTML_SPACES = frozenset(" \t\r\n\v\f")

_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query id is invalid"


# --------------------------------------------------------------------------------------------
# Errors and records
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer: HTTP status == ``error_code``, body in Telegram's error envelope."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters: JsonDict = {}
        if migrate_to_chat_id is not None:
            self.parameters["migrate_to_chat_id"] = migrate_to_chat_id
        if retry_after is not None:
            self.parameters["retry_after"] = retry_after

    def body(self) -> JsonDict:
        out: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            out["parameters"] = dict(self.parameters)
        return out


def _bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


class HtmlParseError(ValueError):
    """Raised by :func:`parse_html`; the message is tdlib's text (without the API prefix)."""


@dataclass(slots=True)
class ApiCall:
    """One recorded Bot API request (recorded once answered)."""

    method: str  # canonical spelling, e.g. "sendMessage" (as sent when unknown)
    params: JsonDict  # merged query/body parameters, JSON values decoded
    time: float  # time.monotonic() when the request arrived
    status: int = 0  # HTTP status of the answer (== error_code on errors)
    response: Any = None  # the JSON body sent back (None for a raw, non-JSON body)
    http_method: str = "POST"
    aborted: bool = False  # the client had disconnected before the answer (e.g. a cancelled long poll)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def result(self) -> Any:
        return self.response.get("result") if isinstance(self.response, dict) else None

    def as_dict(self) -> JsonDict:
        return {
            "method": self.method,
            "params": self.params,
            "time": self.time,
            "status": self.status,
            "response": self.response,
            "http_method": self.http_method,
            "aborted": self.aborted,
        }


@dataclass(slots=True)
class _Fault:
    status: int
    description: str
    retry_after: int | None
    raw_body: str | None
    remaining: int


@dataclass(slots=True)
class _Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


class _Described(NamedTuple):
    result: Any
    description: str


@dataclass(slots=True)
class _Upload:
    """A file part of a multipart request; its content is kept apart, for `uploaded_file`."""

    filename: str | None
    content_type: str
    size: int
    content: bytes = field(default=b"", repr=False, compare=False)

    def as_dict(self) -> JsonDict:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size}


# --------------------------------------------------------------------------------------------
# Text helpers: UTF-16 lengths, tdlib-compatible HTML parsing
# --------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _decode_html_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decode an HTML entity at ``text[i] == '&'`` like tdlib (';' optional); (char, length)."""
    n = len(text)
    j = i + 1
    if j < n and text[j] == "#":
        j += 1
        base = 10
        if j < n and text[j] in "xX":
            base = 16
            j += 1
        start = j
        digits = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
        while j < n and text[j] in digits:
            j += 1
        if j == start:
            return None
        code = int(text[start:j], base)
        if code == 0 or code > 0x10FFFF:
            return None
        if 0xD800 <= code <= 0xDFFF:
            raise HtmlParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        char = chr(code)
    else:
        start = j
        while j < n and text[j].isascii() and text[j].isalpha():
            j += 1
        char_or_none = _NAMED_HTML_ENTITIES.get(text[start:j])
        if char_or_none is None:
            return None
        char = char_or_none
    if j < n and text[j] == ";":
        j += 1
    return char, j - i


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    offset: int  # UTF-16 offset in the visible text
    byte_pos: int


def parse_html(html: str, *, strict_ampersand: bool = True) -> tuple[str, list[JsonDict]]:
    """Parse Telegram-flavoured HTML into (visible text, Bot API entities).

    Mirrors tdlib's ``parse_html``: allowed tags only, attributes, ``</>`` closes the last tag,
    only &lt; &gt; &amp; &quot; and numeric entities are decoded, errors carry byte offsets.
    With ``strict_ampersand`` (the default, as the Bot API docs require) a bare ``&`` that
    does not start one of those entities is an error; tdlib itself keeps it literally.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[_OpenTag] = []
    entities: list[JsonDict] = []
    n = len(html)
    i = 0

    def emit(chunk: str) -> None:
        nonlocal pos16
        out.append(chunk)
        pos16 += utf16_len(chunk)

    def boff(index: int) -> int:
        return _byte_offset(html, index)

    while i < n:
        ch = html[i]
        if ch == "&":
            decoded = _decode_html_entity(html, i)
            if decoded is not None:
                emit(decoded[0])
                i += decoded[1]
                continue
            if strict_ampersand:
                raise HtmlParseError(f'Character "&" at byte offset {boff(i)} must be escaped as "&amp;"')
            emit("&")
            i += 1
            continue
        if ch != "<":
            j = i + 1
            while j < n and html[j] not in "<&":
                j += 1
            emit(html[i:j])
            i = j
            continue

        begin = i
        i += 1
        if i < n and html[i] == "/":  # ---- end tag
            i += 1
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {boff(begin)}")
            name_begin = i
            while i < n and html[i] not in _HTML_SPACES and html[i] != ">":
                i += 1
            end_name = html[name_begin:i].lower()
            while i < n and html[i] in _HTML_SPACES:
                i += 1
            if i >= n or html[i] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {boff(begin)}")
            i += 1
            open_tag = stack[-1]
            if end_name and end_name != open_tag.name:
                raise HtmlParseError(
                    f"Unmatched end tag at byte offset {boff(begin)}, "
                    f'expected "</{open_tag.name}>", found "</{end_name}>"'
                )
            stack.pop()
            entity = _entity_for_tag(open_tag, pos16)
            if entity is not None:
                entities.append(entity)
            continue

        # ---- start tag
        name_begin = i
        while i < n and html[i] not in _HTML_SPACES and html[i] != ">":
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {boff(begin)}")
        tag = html[name_begin:i].lower()
        if tag not in _HTML_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {boff(begin)}')
        argument = ""
        while i < n and html[i] != ">":
            while i < n and html[i] in _HTML_SPACES:
                i += 1
            if i < n and html[i] == ">":
                break
            attr_begin = i
            while i < n and html[i] not in _HTML_SPACES and html[i] not in "=>":
                i += 1
            attr = html[attr_begin:i].lower()
            if not attr:
                raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {boff(begin)}')
            while i < n and html[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {boff(begin)}')
            if html[i] != "=":
                if tag == "blockquote" and attr == "expandable":
                    argument = "expandable"
                    continue
                raise HtmlParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {boff(begin)}'
                )
            i += 1
            while i < n and html[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {boff(begin)}')
            if html[i] in "'\"":
                quote = html[i]
                i += 1
                value_chars: list[str] = []
                while i < n and html[i] != quote:
                    if html[i] == "&":
                        decoded = _decode_html_entity(html, i)
                        if decoded is not None:
                            value_chars.append(decoded[0])
                            i += decoded[1]
                            continue
                    value_chars.append(html[i])
                    i += 1
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {boff(begin)}")
                i += 1
                value = "".join(value_chars)
            else:
                token_begin = i
                while i < n and ((html[i].isascii() and html[i].isalnum()) or html[i] in ".-"):
                    i += 1
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {boff(begin)}")
                if html[i] not in _HTML_SPACES and html[i] != ">":
                    raise HtmlParseError(f"Unexpected end of name token at byte offset {boff(token_begin)}")
                value = html[token_begin:i].lower()
            if tag == "a" and attr == "href":
                argument = value
            elif tag == "code" and attr == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and attr == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and attr == "emoji-id":
                argument = value
            elif tag == "blockquote" and attr == "expandable":
                argument = "expandable"
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {boff(begin)}")
        i += 1  # '>'
        if tag == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {boff(begin)}')
        stack.append(_OpenTag(tag, argument, pos16, boff(begin)))

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return "".join(out), _merge_pre_code(entities)


def _entity_for_tag(tag: _OpenTag, end16: int) -> JsonDict | None:
    length = end16 - tag.offset
    if tag.name == "tg-emoji":
        arg = tag.argument
        if not arg.isdigit() or not 0 < int(arg) < 2**63:
            raise HtmlParseError("Invalid custom emoji identifier specified")
    if length <= 0:
        return None
    entity: JsonDict = {"offset": tag.offset, "length": length}
    if tag.name == "a":
        if not tag.argument:
            return None
        entity["type"] = "text_link"
        entity["url"] = tag.argument
    elif tag.name == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = tag.argument
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
    else:
        entity["type"] = _HTML_ENTITY_TYPES[tag.name]
        if tag.name in ("code", "pre") and tag.argument:
            entity["_language"] = tag.argument
    return entity


def _merge_pre_code(entities: list[JsonDict]) -> list[JsonDict]:
    """<pre><code class="language-x"> spanning the same text becomes one pre entity with language."""
    result: list[JsonDict] = []
    for entity in entities:
        if entity["type"] == "code" and "_language" in entity:
            pre = next(
                (
                    e
                    for e in entities
                    if e["type"] == "pre"
                    and e["offset"] == entity["offset"]
                    and e["length"] == entity["length"]
                ),
                None,
            )
            if pre is not None:
                pre["language"] = entity["_language"]
                continue
        result.append(entity)
    for entity in result:
        entity.pop("_language", None)
    result.sort(key=lambda e: (e["offset"], -e["length"]))
    return result


def _trim(text: str, entities: list[JsonDict]) -> tuple[str, list[JsonDict]]:
    """Telegram strips leading/trailing whitespace; entities are shifted and clipped."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    out: list[JsonDict] = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            out.append({**entity, "offset": start, "length": end - start})
    return stripped, out


def _auto_entities(text: str) -> list[JsonDict]:
    """Entities Telegram attaches to an incoming text: bot_command at offset 0, mentions."""
    entities: list[JsonDict] = []
    command_end = 0
    if text.startswith("/") and (m := _BOT_COMMAND_RE.match(text)):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(m.group())})
        command_end = m.end()
    for m in _MENTION_RE.finditer(text):
        if m.start() < command_end:
            continue
        entities.append(
            {"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        )
    return entities


# --------------------------------------------------------------------------------------------
# Request parameters
# --------------------------------------------------------------------------------------------


def _reject_constant(value: str) -> Any:
    raise ValueError(value)


def _decode_form_value(name: str, value: str) -> Any:
    """Form values are JSON-encoded when not strings (PTB): decode numbers, bools, objects, arrays."""
    if name in _RAW_STRING_PARAMS or not value or value[0] not in "-0123456789tf{[":
        return value
    try:
        decoded = json.loads(value, parse_constant=_reject_constant)
    except ValueError:
        return value
    return decoded if isinstance(decoded, bool | int | float | dict | list) else value


class _Params:
    """Typed access to a request's parameters, raising Telegram-like 400 errors."""

    __slots__ = ("data", "uploads")

    def __init__(self, data: JsonDict, uploads: dict[str, _Upload]) -> None:
        self.data = data
        self.uploads = uploads

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def text(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value, ensure_ascii=False)

    def integer(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            return int(value)
        raise _bad_request(f'invalid parameter "{name}" specified')

    def number(self, name: str) -> float | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad_request(f'invalid parameter "{name}" specified') from None

    def flag(self, name: str) -> bool:
        value = self.data.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def obj(self, name: str, what: str) -> Any:
        """A JSON parameter; strings are decoded (JSON-in-JSON bodies)."""
        value = self.data.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise _bad_request(f"can't parse {what} JSON object") from None
        return value

    def chat_id(self) -> int | str:
        value = self.data.get("chat_id")
        if value is None or value == "":
            raise _bad_request("chat_id is empty")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _bad_request("chat not found")
        if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            return int(value)
        return value


# --------------------------------------------------------------------------------------------
# The fake server
# --------------------------------------------------------------------------------------------

_Handler = Callable[[_Params], Awaitable[Any]]


class FakeTelegramApi:
    """A Bot API stand-in on ``127.0.0.1`` (``port=0`` picks a free port).

    All state lives on the instance; use one per test.  Everything is single-loop asyncio:
    call the helpers from the loop that runs the server.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        token: str = DEFAULT_TOKEN,
        bot_id: int | None = None,
        bot_username: str = "lcbot_test_bot",
        bot_first_name: str = "LC Bot (test)",
        default_user_id: int = DEFAULT_USER_ID,
        strict_chats: bool = False,
        strict_ampersand: bool = True,
        strict_webhook_urls: bool = False,
    ) -> None:
        """Create (not start) the server.

        ``strict_chats``: unknown numeric chat ids get 400 "chat not found" instead of being
        treated as existing private chats / groups.  ``strict_ampersand``: see :func:`parse_html`.
        ``strict_webhook_urls``: demand HTTPS on ports 443/80/88/8443 like the cloud API (the
        default accepts any URL, as a local Bot API server does).
        """
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError(f"not a well-formed bot token: {token!r}")
        self._port = port
        self.token = token
        self.bot_id = bot_id if bot_id is not None else int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.default_user_id = default_user_id
        self.strict_chats = strict_chats
        self.strict_ampersand = strict_ampersand
        self.strict_webhook_urls = strict_webhook_urls

        self.calls: list[ApiCall] = []
        self.rate_limited_count = 0

        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        self._closing = False
        self._waiters: set[asyncio.Event] = set()

        self._updates: deque[JsonDict] = deque()
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] = _DEFAULT_ALLOWED
        self._allowed_updates_raw: list[str] | None = None
        self._poll_generation = 0
        self._parked_polls = 0
        self._webhook: _Webhook | None = None

        self._chats: dict[int, JsonDict] = {}
        self._messages: dict[tuple[int, int], JsonDict] = {}
        self._outgoing: dict[int, list[JsonDict]] = {}
        self._uploaded: dict[str, bytes] = {}  # file_id -> content of files the bot uploaded
        self._next_message_id: dict[int, int] = {}
        self._pending_callbacks: set[str] = set()
        self._callback_ids = itertools.count(4_242_000_000_000_000_001)
        self._file_ids = itertools.count(1)

        self._blocked: set[int] = set()
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._rate_limit: float | None = None
        self._send_times: deque[float] = deque()

        self._commands: dict[tuple[tuple[Any, ...], str], list[JsonDict]] = {}
        self._descriptions: dict[str, str] = {}
        self._short_descriptions: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._menu_buttons: dict[int | None, JsonDict] = {}

        self._methods: dict[str, tuple[str, _Handler]] = {}
        for name, handler in (
            ("getMe", self._get_me),
            ("logOut", self._return_true),
            ("close", self._return_true),
            ("getUpdates", self._get_updates),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("sendMessage", self._send_message),
            ("sendPhoto", self._send_photo),
            ("sendDocument", self._send_document),
            ("editMessageText", self._edit_message_text),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("deleteMessage", self._delete_message),
            ("answerCallbackQuery", self._answer_callback_query),
            ("sendChatAction", self._send_chat_action),
            ("setMyCommands", self._set_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("setMyDescription", self._set_my_description),
            ("getMyDescription", self._get_my_description),
            ("setMyShortDescription", self._set_my_short_description),
            ("getMyShortDescription", self._get_my_short_description),
            ("setMyName", self._set_my_name),
            ("getMyName", self._get_my_name),
            ("setChatMenuButton", self._set_chat_menu_button),
            ("getChatMenuButton", self._get_chat_menu_button),
        ):
            self._methods[name.lower()] = (name, handler)

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind 127.0.0.1:<port> and start serving."""
        if self._runner is not None:
            return
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._port)
        await site.start()
        self._bound_port = int(runner.addresses[0][1])
        self._runner = runner

    async def stop(self) -> None:
        """Answer pending long polls and delays at once, then shut the server down."""
        if self._runner is None:
            return
        self._closing = True
        self._wake()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._bound_port is None:
            raise RuntimeError("FakeTelegramApi is not started")
        return self._bound_port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/bot`` — PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (control endpoints live under ``/__control/``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def bot_user(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ---------------------------------------------------------------- waiting

    def _wake(self) -> None:
        for event in self._waiters:
            event.set()
        self._waiters.clear()

    async def _wait_until(self, predicate: Callable[[], _T | None], seconds: float) -> _T | None:
        """Re-check ``predicate`` whenever state changes; None after ``seconds``. No polling."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            result = predicate()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            event = asyncio.Event()
            self._waiters.add(event)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await event.wait()
            finally:
                self._waiters.discard(event)

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5) -> list[ApiCall]:  # noqa: ASYNC109
        """All answered calls of ``method`` (case-insensitive, ``"*"`` = any) once ``count`` exist."""
        wanted = method.lower()

        def matching() -> list[ApiCall] | None:
            found = [c for c in self.calls if wanted == "*" or c.method.lower() == wanted]
            return found if len(found) >= count else None

        result = await self._wait_until(matching, timeout)
        if result is None:
            seen = [f"{c.method}:{c.status}" for c in self.calls]
            raise TimeoutError(f"expected {count} {method} call(s) within {timeout}s; recorded: {seen}")
        return result

    async def wait_for_messages(self, chat_id: int, count: int = 1, timeout: float = 5) -> list[JsonDict]:  # noqa: ASYNC109
        """The bot's sent/edited messages to ``chat_id`` once at least ``count`` exist."""

        def ready() -> list[JsonDict] | None:
            found = self.messages_to(chat_id)
            return found if len(found) >= count else None

        result = await self._wait_until(ready, timeout)
        if result is None:
            raise TimeoutError(
                f"expected {count} message(s) to chat {chat_id} within {timeout}s; "
                f"got {self.messages_to(chat_id)}"
            )
        return result

    async def wait_for_long_poll(self, timeout: float = 5) -> None:  # noqa: ASYNC109
        """Return once a getUpdates call is parked waiting for updates (no sleeping needed)."""
        if await self._wait_until(lambda: True if self._parked_polls else None, timeout) is None:
            raise TimeoutError(f"no getUpdates long poll started within {timeout}s")

    def messages_to(self, chat_id: int) -> list[JsonDict]:
        """Log of the bot's messages to a chat: each send and each edit (with ``edit_date``)."""
        return copy.deepcopy(self._outgoing.get(chat_id, []))

    def message(self, chat_id: int, message_id: int) -> JsonDict | None:
        """Current state of a message (sent by the bot or pushed), None if unknown or deleted."""
        msg = self._messages.get((chat_id, message_id))
        return copy.deepcopy(msg) if msg is not None else None

    def uploaded_file(self, file_id: str) -> bytes | None:
        """The content of a document the bot uploaded (by the file_id of the sent message)."""
        return self._uploaded.get(file_id)

    def calls_to(self, method: str) -> list[ApiCall]:
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    @property
    def pending_updates(self) -> list[JsonDict]:
        return copy.deepcopy(list(self._updates))

    # ---------------------------------------------------------------- fault injection

    def block_chat(self, chat_id: int) -> None:
        """Every send/edit to this chat answers 403 "Forbidden: bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        *,
        times: int = 1,
        retry_after: int | None = None,
        body: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (``"*"`` = any) with an error.

        ``description`` defaults to Telegram's text for the status; a 429 always carries
        ``parameters.retry_after`` (default 1).  ``body`` sends that raw text instead of JSON
        (e.g. nginx's HTML 502 page).
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = _default_description(status, retry_after)
        self._faults.setdefault(method.lower(), deque()).append(
            _Fault(status, description, retry_after, body, times)
        )

    def set_rate_limit(self, per_second: float | None) -> None:
        """Global flood limit over send* methods: sliding 1 s window, then 429 retry_after=1."""
        if per_second is not None and per_second <= 0:
            raise ValueError("per_second must be positive")
        self._rate_limit = per_second
        self._send_times.clear()

    def set_delay(self, method: str, seconds: float | None) -> None:
        """Delay answers of ``method`` (``"*"`` = any) to simulate a slow server / timeouts."""
        if seconds:
            self._delays[method.lower()] = seconds
        else:
            self._delays.pop(method.lower(), None)

    # ---------------------------------------------------------------- feeding updates

    def push_update(self, payload: JsonDict) -> int:
        """Queue an update for getUpdates; assigns the next ``update_id`` when missing."""
        update = copy.deepcopy(payload)
        if "update_id" not in update:
            update = {"update_id": self._next_update_id, **update}
        update_id = int(update["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._ingest(update)
        self._updates.append(update)
        self._wake()
        return update_id

    def _ingest(self, update: JsonDict) -> None:
        """Learn chats, messages and callback query ids from an incoming update."""
        for key in ("message", "edited_message", "channel_post", "edited_channel_post", "business_message"):
            msg = update.get(key)
            if isinstance(msg, dict) and isinstance(msg.get("chat"), dict):
                self._remember_chat(msg["chat"])
                chat_id, message_id = msg["chat"].get("id"), msg.get("message_id")
                if isinstance(chat_id, int) and isinstance(message_id, int):
                    self._messages[(chat_id, message_id)] = copy.deepcopy(msg)
                    self._next_message_id[chat_id] = max(
                        self._next_message_id.get(chat_id, 1), message_id + 1
                    )
        query = update.get("callback_query")
        if isinstance(query, dict) and query.get("id") is not None:
            self._pending_callbacks.add(str(query["id"]))
        member = update.get("my_chat_member")
        if isinstance(member, dict) and isinstance(member.get("chat"), dict):
            self._remember_chat(member["chat"])

    def _remember_chat(self, chat: JsonDict) -> None:
        if isinstance(chat.get("id"), int) and chat.get("type"):
            self._chats[chat["id"]] = copy.deepcopy(chat)

    def _alloc_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _user(
        self, user_id: int, first_name: str, language_code: str | None, username: str | None
    ) -> JsonDict:
        user: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    def _incoming(
        self,
        *,
        user_id: int | None,
        chat_id: int | None,
        chat_type: str,
        language_code: str | None,
        first_name: str,
        username: str | None,
    ) -> JsonDict:
        """Common part of a user's message: message_id, from, chat, date."""
        uid = self.default_user_id if user_id is None else user_id
        if chat_type == "private":
            cid = uid if chat_id is None else chat_id
            chat: JsonDict = {"id": cid, "type": "private", "first_name": first_name}
            if username:
                chat["username"] = username
        else:
            group_id = -uid if chat_type == "group" else -(10**12 + uid)
            cid = group_id if chat_id is None else chat_id
            chat = {"id": cid, "type": chat_type, "title": f"Test {chat_type} {cid}"}
        return {
            "message_id": self._alloc_message_id(cid),
            "from": self._user(uid, first_name, language_code, username),
            "chat": chat,
            "date": int(time.time()),
        }

    def text_message(
        self,
        text: str,
        *,
        user_id: int | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "en",
        first_name: str = "Ada",
        username: str | None = None,
        reply_to_bot: bool = False,
        entities: list[JsonDict] | None = None,
    ) -> JsonDict:
        """``{"message": ...}`` from a user; adds bot_command (offset 0) and mention entities.

        ``chat_id`` defaults to the user id for private chats (a negative id for groups).
        ``reply_to_bot`` makes it a reply to the bot's latest message in that chat.
        """
        msg = self._incoming(
            user_id=user_id,
            chat_id=chat_id,
            chat_type=chat_type,
            language_code=language_code,
            first_name=first_name,
            username=username,
        )
        msg["text"] = text
        found = _auto_entities(text) if entities is None else copy.deepcopy(entities)
        if found:
            msg["entities"] = found
        if reply_to_bot:
            msg["reply_to_message"] = self._reply_target(msg["chat"])
        return {"message": msg}

    def _reply_target(self, chat: JsonDict) -> JsonDict:
        sent = self._latest_bot_message(chat["id"])
        if sent is None:
            sent = {
                "message_id": self._alloc_message_id(chat["id"]),
                "from": self.bot_user,
                "chat": copy.deepcopy(chat),
                "date": int(time.time()),
                "text": "…",
            }
        sent = copy.deepcopy(sent)
        sent.pop("reply_to_message", None)
        return sent

    def _latest_bot_message(self, chat_id: int) -> JsonDict | None:
        candidates = [
            m
            for (cid, _), m in self._messages.items()
            if cid == chat_id and m.get("from", {}).get("id") == self.bot_id
        ]
        return max(candidates, key=lambda m: m["message_id"]) if candidates else None

    def callback_query(
        self,
        data: str,
        *,
        user_id: int | None = None,
        message_id: int | None = None,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Ada",
        username: str | None = None,
    ) -> JsonDict:
        """``{"callback_query": ...}`` pressing a button on a bot message.

        Uses the recorded message (default: the bot's latest in the chat) when it exists,
        else a synthetic bot message with ``message_id``.
        """
        uid = self.default_user_id if user_id is None else user_id
        cid = uid if chat_id is None else chat_id
        if message_id is None:
            latest = self._latest_bot_message(cid)
            msg = copy.deepcopy(latest) if latest is not None else None
        else:
            stored = self._messages.get((cid, message_id))
            msg = copy.deepcopy(stored) if stored is not None else None
        if msg is None:
            chat = copy.deepcopy(self._chats.get(cid)) or (
                {"id": cid, "type": "private", "first_name": first_name}
                if cid > 0
                else {"id": cid, "type": "group", "title": f"Test group {cid}"}
            )
            msg = {
                "message_id": message_id if message_id is not None else self._alloc_message_id(cid),
                "from": self.bot_user,
                "chat": chat,
                "date": int(time.time()),
                "text": "…",
            }
        return {
            "callback_query": {
                "id": str(next(self._callback_ids)),
                "from": self._user(uid, first_name, language_code, username),
                "message": msg,
                "chat_instance": str(-(abs(cid) * 7 + 3_000_000_000_000)),
                "data": data,
            }
        }

    def _file(self, prefix: str) -> tuple[str, str]:
        n = next(self._file_ids)
        return f"{prefix}{n:08d}-fake-file-id", f"AQAD{n:06d}"

    def photo_message(
        self,
        *,
        caption: str | None = None,
        user_id: int | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "en",
        first_name: str = "Ada",
        username: str | None = None,
    ) -> JsonDict:
        """``{"message": ...}`` carrying a photo (three PhotoSizes) and an optional caption."""
        msg = self._incoming(
            user_id=user_id,
            chat_id=chat_id,
            chat_type=chat_type,
            language_code=language_code,
            first_name=first_name,
            username=username,
        )
        sizes = []
        for side, size in ((90, 1_500), (320, 14_000), (800, 61_000)):
            file_id, unique_id = self._file("AgACAgQAAxkBAAI")
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "width": side,
                    "height": side,
                    "file_size": size,
                }
            )
        msg["photo"] = sizes
        if caption is not None:
            msg["caption"] = caption
            found = _auto_entities(caption)
            if found:
                msg["caption_entities"] = found
        return {"message": msg}

    def sticker_message(
        self,
        *,
        emoji: str = "👍",
        user_id: int | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "en",
        first_name: str = "Ada",
        username: str | None = None,
    ) -> JsonDict:
        """``{"message": ...}`` carrying a regular static sticker."""
        msg = self._incoming(
            user_id=user_id,
            chat_id=chat_id,
            chat_type=chat_type,
            language_code=language_code,
            first_name=first_name,
            username=username,
        )
        file_id, unique_id = self._file("CAACAgIAAxkBAAI")
        msg["sticker"] = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "FakeStickers",
            "file_size": 20_000,
        }
        return {"message": msg}

    def voice_message(
        self,
        *,
        duration: int = 3,
        user_id: int | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "en",
        first_name: str = "Ada",
        username: str | None = None,
    ) -> JsonDict:
        """``{"message": ...}`` carrying an OGG/Opus voice note."""
        msg = self._incoming(
            user_id=user_id,
            chat_id=chat_id,
            chat_type=chat_type,
            language_code=language_code,
            first_name=first_name,
            username=username,
        )
        file_id, unique_id = self._file("AwACAgQAAxkBAAI")
        msg["voice"] = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": 4_000 * duration,
        }
        return {"message": msg}

    def my_chat_member(
        self,
        new_status: str = "kicked",
        *,
        old_status: str = "member",
        user_id: int | None = None,
        first_name: str = "Ada",
        language_code: str | None = "en",
    ) -> JsonDict:
        """``{"my_chat_member": ...}`` of a private chat: ``kicked`` = user blocked the bot."""
        uid = self.default_user_id if user_id is None else user_id

        def member(status: str) -> JsonDict:
            out: JsonDict = {"user": self.bot_user, "status": status}
            if status == "kicked":
                out["until_date"] = 0
            return out

        return {
            "my_chat_member": {
                "chat": {"id": uid, "type": "private", "first_name": first_name},
                "from": self._user(uid, first_name, language_code, None),
                "date": int(time.time()),
                "old_chat_member": member(old_status),
                "new_chat_member": member(new_status),
            }
        }

    # ---------------------------------------------------------------- webhooks

    async def post_webhook(
        self,
        url: str,
        payload: JsonDict,
        *,
        secret_token: str | None = None,
        content_type: str = "application/json",
        timeout: float = 10,  # noqa: ASYNC109
    ) -> tuple[int, str]:
        """POST one update to a webhook endpoint the way Telegram does; (status, body)."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": content_type}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            return response.status, await response.text()

    async def deliver_webhook_updates(self) -> int:
        """Deliver queued updates, in order, to the webhook set via setWebhook.

        Stops at the first non-2xx answer (recorded in getWebhookInfo.last_error_*), as
        Telegram retries that same update later.  Returns how many were delivered.
        """
        webhook = self._webhook
        if webhook is None:
            raise RuntimeError("no webhook is set")
        delivered = 0
        while self._updates:
            update = self._updates[0]
            if _update_type(update) not in self._allowed_updates:
                self._updates.popleft()
                continue
            try:
                status, _ = await self.post_webhook(webhook.url, update, secret_token=webhook.secret_token)
            except (aiohttp.ClientError, TimeoutError) as exc:
                webhook.last_error_date = int(time.time())
                webhook.last_error_message = f"Connection failed: {exc.__class__.__name__}"
                break
            if not 200 <= status < 300:
                webhook.last_error_date = int(time.time())
                try:
                    phrase = HTTPStatus(status).phrase
                except ValueError:
                    phrase = ""
                webhook.last_error_message = f"Wrong response from the webhook: {status} {phrase}".rstrip()
                break
            self._updates.popleft()
            delivered += 1
        self._wake()
        return delivered

    # ---------------------------------------------------------------- HTTP plumbing

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/__control/"):
            return await self._control(request)
        match = _PATH_RE.fullmatch(path)
        if match is None or not _TOKEN_RE.fullmatch(match.group(1)):
            return _json_response(ApiError(404, "Not Found").body(), 404)
        if match.group(1) != self.token:
            return _json_response(ApiError(401, "Unauthorized").body(), 401)
        method_name = match.group(2)
        entry = self._methods.get(method_name.lower())
        call = ApiCall(
            method=entry[0] if entry else method_name,
            params={},
            time=time.monotonic(),
            http_method=request.method,
        )
        raw_body: str | None = None
        try:
            params = await _read_params(request)
            call.params = {k: (v.as_dict() if isinstance(v, _Upload) else v) for k, v in params.data.items()}
            if entry is None:
                raise ApiError(404, "Not Found: method not found")
            canonical, handler = entry
            await self._apply_delay(canonical)
            fault = self._take_fault(canonical)
            if fault is not None:
                if fault.raw_body is not None:
                    raw_body = fault.raw_body
                    raise ApiError(fault.status, fault.description)
                raise ApiError(fault.status, fault.description, retry_after=fault.retry_after)
            if canonical in _SEND_METHODS:
                self._check_rate_limit()
            result = await handler(params)
            body: JsonDict = {"ok": True, "result": result}
            if isinstance(result, _Described):
                body = {"ok": True, "result": result.result, "description": result.description}
            status = 200
        except ApiError as exc:
            body = exc.body()
            status = exc.status
        call.status = status
        call.response = None if raw_body is not None else body
        call.aborted = request.transport is None or request.transport.is_closing()
        self.calls.append(call)
        self._wake()
        if raw_body is not None:
            return web.Response(status=status, text=raw_body, content_type="text/html")
        return _json_response(body, status)

    async def _apply_delay(self, method: str) -> None:
        delay = self._delays.get(method.lower(), self._delays.get("*"))
        if delay:
            await self._wait_until(lambda: True if self._closing else None, delay)

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.popleft()
                return fault
        return None

    def _check_rate_limit(self) -> None:
        if self._rate_limit is None:
            return
        window = max(1.0, 1.0 / self._rate_limit)
        capacity = max(1, math.floor(self._rate_limit * window))
        now = time.monotonic()
        while self._send_times and now - self._send_times[0] >= window:
            self._send_times.popleft()
        if len(self._send_times) >= capacity:
            self.rate_limited_count += 1
            retry_after = max(1, math.ceil(self._send_times[0] + window - now))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        self._send_times.append(now)

    async def _control(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/")
        if path == "/__control/updates" and request.method == "POST":
            try:
                payload = await request.json()
            except ValueError:
                return _json_response(_bad_request("can't parse JSON").body(), 400)
            items = payload if isinstance(payload, list) else [payload]
            if not all(isinstance(item, dict) for item in items):
                return _json_response(_bad_request("updates must be JSON objects").body(), 400)
            ids = [self.push_update(item) for item in items]
            return _json_response({"ok": True, "result": ids}, 200)
        if path == "/__control/calls" and request.method == "GET":
            return _json_response({"ok": True, "result": [c.as_dict() for c in self.calls]}, 200)
        if path == "/__control/wait" and request.method == "GET":
            # Wait until `count` calls of `method` are recorded (for benchmarks driving another process).
            method = request.query.get("method", "sendMessage")
            try:
                count = int(request.query.get("count", "1"))
                seconds = float(request.query.get("timeout", "30"))
                calls = await self.wait_for_calls(method, count, timeout=seconds)
            except (ValueError, TimeoutError) as exc:
                return _json_response(_bad_request(str(exc)).body(), 400)
            return _json_response({"ok": True, "result": len(calls)}, 200)
        if path == "/__control/messages" and request.method == "GET":
            try:
                chat_id = int(request.query.get("chat_id", ""))
            except ValueError:
                return _json_response(_bad_request("chat_id is empty").body(), 400)
            return _json_response({"ok": True, "result": self.messages_to(chat_id)}, 200)
        return _json_response(ApiError(404, "Not Found").body(), 404)

    # ---------------------------------------------------------------- shared validation

    def _chat(self, params: _Params) -> JsonDict:
        chat_id = params.chat_id()
        if isinstance(chat_id, str):
            if chat_id.startswith("@"):
                wanted = chat_id[1:].lower()
                for chat in self._chats.values():
                    if str(chat.get("username", "")).lower() == wanted:
                        return chat
            raise _bad_request("chat not found")
        chat = self._chats.get(chat_id)
        if chat is None:
            if self.strict_chats or chat_id == 0:
                raise _bad_request("chat not found")
            if chat_id > 0:
                chat = {"id": chat_id, "type": "private", "first_name": "User"}
            elif chat_id <= -(10**12):
                chat = {"id": chat_id, "type": "supergroup", "title": f"Supergroup {chat_id}"}
            else:
                chat = {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
            self._chats[chat_id] = chat
        return chat

    def _check_blocked(self, chat: JsonDict) -> None:
        if chat["id"] in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _formatted(
        self,
        params: _Params,
        text_field: str,
        entities_field: str,
        *,
        max_length: int,
    ) -> tuple[str, list[JsonDict]]:
        """Apply parse_mode / explicit entities, trim, and check the length (after parsing)."""
        raw = params.text(text_field) or ""
        parse_mode = (params.text("parse_mode") or "").strip()
        explicit = params.obj(entities_field, "entities") if params.has(entities_field) else None
        if explicit is not None:
            if not isinstance(explicit, list) or not all(isinstance(e, dict) for e in explicit):
                raise _bad_request("can't parse entities JSON object")
            text, entities = raw, [dict(e) for e in explicit]
            entities.sort(key=lambda e: (e.get("offset", 0), -e.get("length", 0)))
        elif parse_mode.lower() == "html":
            try:
                text, entities = parse_html(raw, strict_ampersand=self.strict_ampersand)
            except HtmlParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        elif parse_mode == "" or parse_mode.lower() in ("markdown", "markdownv2"):
            text, entities = raw, []  # Markdown is not parsed by this fake
        else:
            raise _bad_request("unsupported parse_mode")
        text, entities = _trim(text, entities)
        if text_field == "text":
            if not text:
                raise _bad_request("message text is empty")
            if len(text) > max_length:
                raise _bad_request("message is too long")
        elif len(text) > max_length:
            raise _bad_request("message caption is too long")
        return text, entities

    def _reply_markup(self, params: _Params, *, inline_only: bool = False) -> JsonDict | None:
        """Validate reply_markup; returns what Telegram echoes (only inline keyboards)."""
        if not params.has("reply_markup"):
            return None
        markup = params.obj("reply_markup", "reply keyboard markup")
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            return _validate_inline_keyboard(markup["inline_keyboard"])
        if inline_only:
            raise _bad_request("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
            for row in rows:
                for button in row:
                    if isinstance(button, str):
                        continue
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _bad_request(
                            'can\'t parse keyboard button: Field "text" must be of type String'
                        )
            return None
        if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
            return None
        raise _bad_request("can't parse reply keyboard markup JSON object")

    def _reply_to(self, params: _Params, chat: JsonDict) -> JsonDict | None:
        reply = params.obj("reply_parameters", "reply parameters") if params.has("reply_parameters") else None
        if reply is None and params.has("reply_to_message_id"):
            reply = {
                "message_id": params.integer("reply_to_message_id"),
                "allow_sending_without_reply": params.flag("allow_sending_without_reply"),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise _bad_request("can't parse reply parameters JSON object")
        target = self._messages.get((chat["id"], reply["message_id"]))
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad_request("message to be replied not found")
        target = copy.deepcopy(target)
        target.pop("reply_to_message", None)
        return target

    def _store_outgoing(self, msg: JsonDict) -> JsonDict:
        chat_id = msg["chat"]["id"]
        self._messages[(chat_id, msg["message_id"])] = msg
        self._outgoing.setdefault(chat_id, []).append(copy.deepcopy(msg))
        return copy.deepcopy(msg)

    def _new_outgoing(self, chat: JsonDict) -> JsonDict:
        return {
            "message_id": self._alloc_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
        }

    def _editable(self, params: _Params) -> JsonDict | None:
        """The stored message an edit targets; None for inline messages."""
        if params.has("inline_message_id"):
            return None
        chat = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        msg = self._messages.get((chat["id"], message_id))
        if msg is None:
            raise _bad_request("message to edit not found")
        self._check_blocked(chat)
        if msg.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return msg

    # ---------------------------------------------------------------- methods

    async def _return_true(self, params: _Params) -> Any:
        return True

    async def _get_me(self, params: _Params) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
            "has_topics_enabled": False,
        }

    def _set_allowed_updates(self, value: Any) -> None:
        if value is None:
            return  # omitted: the previous setting persists
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise _bad_request("can't parse allowed updates JSON object") from None
        if not isinstance(value, list):
            raise _bad_request("can't parse allowed updates JSON object")
        names = [str(v) for v in value]
        self._allowed_updates_raw = names
        self._allowed_updates = frozenset(names) if names else _DEFAULT_ALLOWED

    def _drop_unwanted(self) -> None:
        if any(_update_type(u) not in self._allowed_updates for u in self._updates):
            self._updates = deque(u for u in self._updates if _update_type(u) in self._allowed_updates)

    async def _get_updates(self, params: _Params) -> Any:
        if self._webhook is not None:
            raise ApiError(409, _CONFLICT_WEBHOOK)
        offset = params.integer("offset") or 0
        limit = params.integer("limit") or 100
        limit = min(100, max(1, limit))
        timeout = max(0.0, params.number("timeout") or 0.0)
        self._set_allowed_updates(params.data.get("allowed_updates"))
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        elif offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # a previous long poll, if any, is terminated (409)

        def ready() -> bool | None:
            if generation != self._poll_generation or self._closing or self._webhook is not None:
                return True
            self._drop_unwanted()
            return True if self._updates else None

        if timeout > 0:
            self._parked_polls += 1
            self._wake()
            try:
                await self._wait_until(ready, timeout)
            finally:
                self._parked_polls -= 1
        if generation != self._poll_generation:
            raise ApiError(409, _CONFLICT_OTHER_POLL)
        if self._webhook is not None:
            raise ApiError(409, _CONFLICT_WEBHOOK)
        self._drop_unwanted()
        return copy.deepcopy(list(itertools.islice(self._updates, limit)))

    async def _set_webhook(self, params: _Params) -> Any:
        url = (params.text("url") or "").strip()
        if not url:
            return await self._delete_webhook(params)
        if not re.match(r"https?://[^/\s]+", url):
            raise _bad_request("bad webhook: invalid webhook URL specified")
        if self.strict_webhook_urls:
            parsed = urlsplit(url)
            if parsed.scheme != "https":
                raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            if (parsed.port or 443) not in (443, 80, 88, 8443):
                raise _bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.text("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.fullmatch(secret):
            raise _bad_request("secret token contains unallowed characters")
        max_connections = params.integer("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise _bad_request("invalid max_connections specified")
        self._set_allowed_updates(params.data.get("allowed_updates"))
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        already = self._webhook is not None and self._webhook.url == url
        self._webhook = _Webhook(
            url=url,
            secret_token=secret,
            max_connections=max_connections,
            ip_address=params.text("ip_address"),
        )
        self._poll_generation += 1
        self._wake()
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    async def _delete_webhook(self, params: _Params) -> Any:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        existed = self._webhook is not None
        self._webhook = None
        return _Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    async def _get_webhook_info(self, params: _Params) -> Any:
        webhook = self._webhook
        info: JsonDict = {"url": webhook.url if webhook else "", "has_custom_certificate": False}
        info["pending_update_count"] = len(self._updates)
        if webhook is not None:
            info["max_connections"] = webhook.max_connections
            if webhook.ip_address:
                info["ip_address"] = webhook.ip_address
            if webhook.last_error_date is not None:
                info["last_error_date"] = webhook.last_error_date
                info["last_error_message"] = webhook.last_error_message
            if self._allowed_updates_raw is not None:
                info["allowed_updates"] = list(self._allowed_updates_raw)
        return info

    async def _send_message(self, params: _Params) -> Any:
        chat = self._chat(params)
        text, entities = self._formatted(params, "text", "entities", max_length=MAX_TEXT_LENGTH)
        markup = self._reply_markup(params)
        reply_to = self._reply_to(params, chat)
        self._check_blocked(chat)
        msg = self._new_outgoing(chat)
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        msg["text"] = text
        if entities:
            msg["entities"] = entities
        if markup is not None:
            msg["reply_markup"] = markup
        return self._store_outgoing(msg)

    async def _send_media(self, params: _Params, field_name: str) -> JsonDict:
        chat = self._chat(params)
        media = params.data.get(field_name)
        if isinstance(media, str) and media.startswith("attach://"):
            media = params.uploads.get(media[len("attach://") :])
        if media is None or media == "":
            raise _bad_request(f"there is no {field_name} in the request")
        caption, caption_entities = self._formatted(
            params, "caption", "caption_entities", max_length=MAX_CAPTION_LENGTH
        )
        markup = self._reply_markup(params)
        reply_to = self._reply_to(params, chat)
        self._check_blocked(chat)
        msg = self._new_outgoing(chat)
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        size = media.size if isinstance(media, _Upload) else 50_000
        if field_name == "photo":
            sizes = []
            for side in (90, 320, 800):
                file_id, unique_id = self._file("AgACAgQAAxkDAAI")
                sizes.append(
                    {
                        "file_id": file_id,
                        "file_unique_id": unique_id,
                        "width": side,
                        "height": side,
                        "file_size": max(1, size * side // 800),
                    }
                )
            msg["photo"] = sizes
        else:
            file_id, unique_id = self._file("BQACAgQAAxkDAAI")
            document: JsonDict = {"file_id": file_id, "file_unique_id": unique_id, "file_size": size}
            if isinstance(media, _Upload):
                self._uploaded[file_id] = media.content
                if media.filename:
                    document["file_name"] = media.filename
                document["mime_type"] = media.content_type
            msg["document"] = document
        if caption:
            msg["caption"] = caption
            if caption_entities:
                msg["caption_entities"] = caption_entities
        if markup is not None:
            msg["reply_markup"] = markup
        return self._store_outgoing(msg)

    async def _send_photo(self, params: _Params) -> Any:
        return await self._send_media(params, "photo")

    async def _send_document(self, params: _Params) -> Any:
        return await self._send_media(params, "document")

    async def _edit_message_text(self, params: _Params) -> Any:
        msg = self._editable(params)
        text, entities = self._formatted(params, "text", "entities", max_length=MAX_TEXT_LENGTH)
        markup = self._reply_markup(params, inline_only=True)
        if msg is None:
            return True  # inline message: Telegram answers True
        if "text" not in msg:
            raise _bad_request("there is no text in the message to edit")
        if (
            msg.get("text") == text
            and msg.get("entities", []) == entities
            and msg.get("reply_markup") == markup
        ):
            raise ApiError(400, _NOT_MODIFIED)
        msg["text"] = text
        _set_or_drop(msg, "entities", entities or None)
        _set_or_drop(msg, "reply_markup", markup)  # omitted reply_markup removes the keyboard
        msg["edit_date"] = int(time.time())
        return self._store_outgoing(msg)

    async def _edit_message_reply_markup(self, params: _Params) -> Any:
        msg = self._editable(params)
        markup = self._reply_markup(params, inline_only=True)
        if msg is None:
            return True
        if msg.get("reply_markup") == markup:
            raise ApiError(400, _NOT_MODIFIED)
        _set_or_drop(msg, "reply_markup", markup)
        msg["edit_date"] = int(time.time())
        return self._store_outgoing(msg)

    async def _delete_message(self, params: _Params) -> Any:
        chat = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        if (chat["id"], message_id) not in self._messages:
            raise _bad_request("message to delete not found")
        del self._messages[(chat["id"], message_id)]
        return True

    async def _answer_callback_query(self, params: _Params) -> Any:
        query_id = params.text("callback_query_id") or ""
        if query_id not in self._pending_callbacks:
            raise ApiError(400, _QUERY_TOO_OLD)
        self._pending_callbacks.discard(query_id)
        return True

    async def _send_chat_action(self, params: _Params) -> Any:
        chat = self._chat(params)
        action = params.text("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self._check_blocked(chat)
        return True

    def _command_key(self, params: _Params) -> tuple[tuple[Any, ...], str]:
        language = params.text("language_code") or ""
        if not _LANGUAGE_CODE_RE.fullmatch(language):
            raise _bad_request("invalid language code specified")
        scope = params.obj("scope", "bot command scope") if params.has("scope") else {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _COMMAND_SCOPES:
            raise _bad_request("unsupported bot command scope type")
        kind = scope["type"]
        key: tuple[Any, ...] = (kind,)
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = scope.get("chat_id")
            if not isinstance(chat_id, int | str) or chat_id == "":
                raise _bad_request("chat not found")
            key += (chat_id,)
        if kind == "chat_member":
            if not isinstance(scope.get("user_id"), int):
                raise _bad_request("user not found")
            key += (scope["user_id"],)
        return key, language

    async def _set_my_commands(self, params: _Params) -> Any:
        commands = params.obj("commands", "bot commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse bot commands JSON object")
        if len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JsonDict] = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            command = str(item.get("command") or "").strip().removeprefix("/")
            description = str(item.get("description") or "").strip()
            if not command:
                raise _bad_request("command must be non-empty")
            if len(command) > 32:
                raise _bad_request("command length must not exceed 32")
            if not _COMMAND_NAME_RE.fullmatch(command):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not description:
                raise _bad_request("command description must be non-empty")
            if len(description) > 256:
                raise _bad_request("command description length must not exceed 256")
            cleaned.append({"command": command, "description": description})
        key = self._command_key(params)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: _Params) -> Any:
        return copy.deepcopy(self._commands.get(self._command_key(params), []))

    async def _delete_my_commands(self, params: _Params) -> Any:
        self._commands.pop(self._command_key(params), None)
        return True

    def _bot_text(self, params: _Params, store: dict[str, str], field_name: str, limit: int) -> Any:
        language = params.text("language_code") or ""
        if not _LANGUAGE_CODE_RE.fullmatch(language):
            raise _bad_request("invalid language code specified")
        value = (params.text(field_name) or "").strip()
        if len(value) > limit:
            raise _bad_request(f"bot {field_name.replace('_', ' ')} is too long")
        if value:
            store[language] = value
        else:
            store.pop(language, None)
        return True

    def _bot_text_get(self, params: _Params, store: dict[str, str]) -> str:
        language = params.text("language_code") or ""
        if not _LANGUAGE_CODE_RE.fullmatch(language):
            raise _bad_request("invalid language code specified")
        return store.get(language, "")

    async def _set_my_description(self, params: _Params) -> Any:
        return self._bot_text(params, self._descriptions, "description", 512)

    async def _get_my_description(self, params: _Params) -> Any:
        return {"description": self._bot_text_get(params, self._descriptions)}

    async def _set_my_short_description(self, params: _Params) -> Any:
        return self._bot_text(params, self._short_descriptions, "short_description", 120)

    async def _get_my_short_description(self, params: _Params) -> Any:
        return {"short_description": self._bot_text_get(params, self._short_descriptions)}

    async def _set_my_name(self, params: _Params) -> Any:
        return self._bot_text(params, self._names, "name", 64)

    async def _get_my_name(self, params: _Params) -> Any:
        return {"name": self._bot_text_get(params, self._names) or self.bot_first_name}

    async def _set_chat_menu_button(self, params: _Params) -> Any:
        chat_id = params.integer("chat_id") if params.has("chat_id") else None
        button = (
            params.obj("menu_button", "menu button") if params.has("menu_button") else {"type": "default"}
        )
        if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
            raise _bad_request("can't parse menu button JSON object")
        if button["type"] == "web_app" and (
            not button.get("text") or not isinstance(button.get("web_app"), dict)
        ):
            raise _bad_request("can't parse menu button JSON object")
        self._menu_buttons[chat_id] = button
        return True

    async def _get_chat_menu_button(self, params: _Params) -> Any:
        chat_id = params.integer("chat_id") if params.has("chat_id") else None
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None) or {"type": "default"}
        return copy.deepcopy(button)


# --------------------------------------------------------------------------------------------
# Module helpers
# --------------------------------------------------------------------------------------------


def _default_description(status: int, retry_after: int | None) -> str:
    known = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        429: f"Too Many Requests: retry after {retry_after or 1}",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }
    if status in known:
        return known[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _json_response(body: JsonDict, status: int) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
    )


def _update_type(update: JsonDict) -> str:
    return next((key for key in update if key != "update_id"), "")


def _set_or_drop(target: JsonDict, key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _validate_inline_keyboard(rows: Any) -> JsonDict | None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise _bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            if not isinstance(button.get("text"), str):
                raise _bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
            kinds = [kind for kind in _INLINE_BUTTON_KINDS if kind in button]
            if not kinds:
                raise _bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if "callback_data" in button and (
                not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise _bad_request("BUTTON_DATA_INVALID")
            if "url" in button and (not isinstance(button["url"], str) or not button["url"].strip()):
                raise _bad_request("BUTTON_URL_INVALID")
    if not any(rows):
        return None
    return {"inline_keyboard": copy.deepcopy(rows)}


async def _read_params(request: web.Request) -> _Params:
    """Query string + form-urlencoded / multipart / JSON body (body wins on clashes)."""
    data: JsonDict = {k: _decode_form_value(k, v) for k, v in request.query.items()}
    uploads: dict[str, _Upload] = {}
    content_type = request.content_type
    if request.can_read_body:
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _bad_request("can't parse JSON object")
            data.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    content = value.file.read()
                    upload = _Upload(value.filename, value.content_type, len(content), content)
                    uploads[key] = upload
                    data[key] = upload
                else:
                    data[key] = _decode_form_value(key, str(value))
    return _Params(data, uploads)


# --------------------------------------------------------------------------------------------
# Standalone entry point
# --------------------------------------------------------------------------------------------


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeTelegramApi(port=args.port, token=args.token, bot_username=args.username)
    async with fake:
        if args.rate_limit:
            fake.set_rate_limit(args.rate_limit)
        print(f"base_url: {fake.base_url}", flush=True)
        print(f"token:    {fake.token}", flush=True)
        print(f"control:  {fake.url}/__control/updates (POST), {fake.url}/__control/calls (GET)", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server (127.0.0.1 only)")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--rate-limit", type=float, default=None, help="send* requests per second")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--username", default="lcbot_test_bot")
    args = parser.parse_args(list(argv) if argv is not None else None)
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
