"""Property-based: updates of every shape and language never raise out of a handler, and every private text
message and every button tap is answered.

Hypothesis runs as a library in a worker thread (this Python's pytest plugin hides failures; run with
`-p no:hypothesispytest`) and hands each generated update to the application on the test's event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from telegram import Update

from bot.bootstrap import build_services
from bot.config import Settings
from bot.telegram.application import build_application
from tests.fakes.telegram_api import FakeTelegramApi
from tests.production.strategies import any_update

JsonDict = dict[str, Any]
EXAMPLES = int(os.environ.get("LCBOT_FUZZ_EXAMPLES", "100"))  # more with LCBOT_FUZZ_EXAMPLES=2000


class Errors(logging.Handler):
    """Every ERROR record (the error handler logs each fault it receives), kept for the assertion."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def captured_errors() -> Iterator[Errors]:
    errors = Errors()
    root = logging.getLogger()
    root.addHandler(errors)
    try:
        yield errors
    finally:
        root.removeHandler(errors)


def _private_text(payload: JsonDict) -> int | None:
    message = payload.get("message") or {}
    if message.get("text") and message.get("chat", {}).get("type") == "private":
        return int(message["chat"]["id"])
    return None


async def test_no_update_raises_out_of_a_handler_and_private_texts_and_taps_are_answered(database_url: str) -> None:
    async with FakeTelegramApi() as api:
        config = Settings(telegram_bot_token=api.token, telegram_api_url=api.base_url, database_url=database_url,
                          faq_watch_seconds=0)
        async with build_services(config) as services:
            application = build_application(services, updater=False)
            async with application:
                loop = asyncio.get_running_loop()

                async def handle(payload: JsonDict) -> None:
                    sent_before = len(api.calls_to("sendMessage"))
                    answered_before = len(api.calls_to("answerCallbackQuery"))
                    with captured_errors() as errors:
                        await application.process_update(Update.de_json(payload, application.bot))
                    faults = [f"{r.getMessage()}: {r.exc_info[1]!r}" if r.exc_info else r.getMessage()
                              for r in errors.records]
                    assert faults == [], f"{faults} for {payload}"
                    chat_id = _private_text(payload)
                    if chat_id is not None:
                        sent = [c for c in api.calls_to("sendMessage")[sent_before:] if c.params["chat_id"] == chat_id]
                        assert any(c.ok for c in sent), f"no reply to {payload}"
                    if "callback_query" in payload:
                        assert len(api.calls_to("answerCallbackQuery")) > answered_before, f"tap unanswered: {payload}"

                @settings(max_examples=EXAMPLES, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
                @given(payload=any_update())
                def property_holds(payload: JsonDict) -> None:
                    asyncio.run_coroutine_threadsafe(handle(payload), loop).result(timeout=60)

                await asyncio.to_thread(property_holds)
