"""The Bot the application talks to Telegram with: python-telegram-bot's ExtBot, tolerant and lean."""

from __future__ import annotations

import datetime as dtm
import logging
from collections.abc import Sequence
from typing import Any

from telegram import LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ExtBot

log = logging.getLogger(__name__)
JsonDict = dict[str, Any]
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class LcbotBot(ExtBot[None]):
    """python-telegram-bot's ExtBot, with two changes.

    getUpdates skips a payload it cannot parse instead of failing the whole batch: python-telegram-bot
    parses a batch at once, so one update of an unexpected shape would make every poll fail and stall
    the bot. The bad update becomes an empty Update with its id, so the offset moves on, and it is logged.

    `send_reply` sends a reply without parsing Telegram's answer.
    """

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: Any = None,  # noqa: ASYNC109 -- python-telegram-bot's signature
        allowed_updates: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> tuple[Update, ...]:
        read_timeout = kwargs.pop("read_timeout", None)
        base = read_timeout if isinstance(read_timeout, int | float) else (self._request[0].read_timeout or 0)
        wait = timeout.total_seconds() if isinstance(timeout, dtm.timedelta) else (timeout or 0)
        data = {"timeout": timeout, "offset": offset, "limit": limit, "allowed_updates": allowed_updates}
        result = await self._post("getUpdates", data, read_timeout=base + wait, **kwargs)
        updates = []
        for raw in result or ():
            try:
                update = Update.de_json(raw, self)
            except Exception:
                update_id = raw.get("update_id") if isinstance(raw, dict) else None
                log.warning("skipping update %s: python-telegram-bot cannot parse it", update_id, exc_info=True)
                if not isinstance(update_id, int):
                    continue
                update = Update(update_id)
            self.insert_callback_data(update)
            updates.append(update)
        return tuple(updates)

    async def send_reply(self, message: Message, html: str, keyboard: JsonDict | None = None) -> None:
        """sendMessage in `message`'s chat (and forum topic or business connection, as `reply_html` does),
        without turning Telegram's answer into a Message.

        A reply never looks at that answer, and parsing it (its entities, its buttons) cost a third of
        a busy bot's time per reply.
        """
        data: JsonDict = {"chat_id": message.chat_id, "text": html, "parse_mode": ParseMode.HTML,
                          "link_preview_options": NO_PREVIEW}
        if message.is_topic_message and message.message_thread_id is not None:
            data["message_thread_id"] = message.message_thread_id
        if message.business_connection_id:
            data["business_connection_id"] = message.business_connection_id
        if keyboard is not None:
            data["reply_markup"] = keyboard
        await self._post("sendMessage", data)

