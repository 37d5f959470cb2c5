"""The small parts the production behaviour rests on: flood limit, retries, log redaction, webhook settings."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.config import Settings
from bot.core.flood import FloodGuard, Verdict
from bot.core.ports import StorageUnavailable
from bot.logs import AddUpdateId, JsonFormatter, RedactTokens, TextFormatter, current_update_id, secrets_of
from bot.storage.retry import retrying, with_retries
from bot.telegram.context import with_telegram_retries
from bot.webhook_server import parse_listen, webhook_problems

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_flood_guard_warns_once_per_burst_then_drops_until_the_window_passes() -> None:
    clock = Clock()
    guard = FloodGuard(limit=3, window=30, clock=clock)

    verdicts = [guard.check(7) for _ in range(6)]

    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert guard.check(8) is Verdict.ALLOW  # per user
    clock.now += 30
    assert [guard.check(7) for _ in range(4)] == [Verdict.ALLOW] * 3 + [Verdict.WARN]


def test_the_flood_guard_forgets_quiet_users() -> None:
    clock = Clock()
    guard = FloodGuard(limit=2, window=10, clock=clock)
    for user in range(1000):
        guard.check(user)
    clock.now += 11
    guard.check(1)
    assert len(guard) == 1


def _operational() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("unable to open database file"))


async def test_a_storage_call_that_fails_for_a_moment_succeeds_on_a_retry() -> None:
    attempts = []

    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise _operational()
        return "ok"

    assert await with_retries(flaky, backoff=(0, 0)) == "ok"
    assert len(attempts) == 3


async def test_a_storage_call_that_keeps_failing_becomes_storage_unavailable_after_bounded_attempts() -> None:
    attempts = []

    async def down() -> None:
        attempts.append(1)
        raise ConnectionRefusedError(111, "Connect call failed")

    with pytest.raises(StorageUnavailable):
        await with_retries(down, backoff=(0, 0))
    assert len(attempts) == 3


async def test_errors_that_a_retry_cannot_cure_pass_through_at_once() -> None:
    attempts = []

    class Repository:
        async def save(self) -> None:
            attempts.append(1)
            raise IntegrityError("INSERT", {}, Exception("duplicate key"))

        def name(self) -> str:
            return "plain methods pass through"

    repository = retrying(Repository(), backoff=(0, 0))
    with pytest.raises(IntegrityError):
        await repository.save()
    assert len(attempts) == 1
    assert repository.name() == "plain methods pass through"


async def test_a_telegram_call_is_retried_on_timeouts_and_5xx_a_bounded_number_of_times() -> None:
    failures = [TimedOut(), NetworkError("Bad Gateway")]

    async def call() -> str:
        if failures:
            raise failures.pop(0)
        return "sent"

    assert await with_telegram_retries(call, backoff=(0,)) == "sent"

    async def always_down() -> None:
        raise TimedOut()

    with pytest.raises(TimedOut):
        await with_telegram_retries(always_down, attempts=3, backoff=(0,))


@pytest.mark.parametrize("error", [BadRequest("Bad Request: message text is empty"), Forbidden("bot was blocked")])
async def test_a_telegram_refusal_is_not_retried(error: Exception) -> None:
    calls = []

    async def call() -> None:
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        await with_telegram_retries(call, backoff=(0,))
    assert len(calls) == 1


def _log_line(formatter: logging.Formatter, message: str, *args: object, exc: BaseException | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(AddUpdateId())
    handler.addFilter(RedactTokens((TOKEN, "hunter2-db-password")))
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.production.redaction")
    logger.propagate = False
    logger.handlers[:] = [handler]
    try:
        logger.error(message, *args, exc_info=(type(exc), exc, exc.__traceback__) if exc else None)
    finally:
        logger.handlers.clear()
    return stream.getvalue()


def test_the_token_is_redacted_from_messages_arguments_and_exceptions() -> None:
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getUpdates failed")
    except RuntimeError as exc:
        error = exc
    encoded = TOKEN.replace(":", "%3A")

    line = _log_line(TextFormatter(), "HTTP Request: %s and %s", f"/bot{TOKEN}/sendMessage", encoded, exc=error)

    assert TOKEN not in line and encoded not in line and "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in line
    assert "<redacted>" in line and "RuntimeError" in line


def test_a_log_line_carries_the_update_it_was_written_for() -> None:
    token = current_update_id.set(4242)
    try:
        entry = json.loads(_log_line(JsonFormatter(), "answered"))
        text = _log_line(TextFormatter(), "answered")
    finally:
        current_update_id.reset(token)

    assert entry["update_id"] == 4242 and entry["message"] == "answered"
    assert text.rstrip().endswith("answered [update 4242]")
    assert "update_id" not in json.loads(_log_line(JsonFormatter(), "idle"))


def test_the_database_password_is_among_the_secrets_to_redact() -> None:
    settings = Settings(telegram_bot_token=TOKEN, database_url="postgresql://lcbot:hunter2-db-password@db/lcbot",
                        webhook_secret="s" * 32)

    assert set(secrets_of(settings)) == {TOKEN, "hunter2-db-password", "s" * 32}


@pytest.mark.parametrize(("url", "secret", "complaint"), [
    (None, "good_secret", "LCBOT_WEBHOOK_URL is not set"),
    ("https://bot.example.org", None, "LCBOT_WEBHOOK_SECRET is not set"),
    ("https://bot.example.org", "has spaces and ü", "LCBOT_WEBHOOK_SECRET must be 1-256 characters"),
    ("https://bot.example.org", "x" * 257, "LCBOT_WEBHOOK_SECRET must be 1-256 characters"),
    ("ftp://bot.example.org", "good_secret", "LCBOT_WEBHOOK_URL must be an http(s):// URL"),
])
def test_webhook_mode_explains_what_is_missing_without_showing_the_secret(url: str | None, secret: str | None,
                                                                          complaint: str) -> None:
    problems = webhook_problems(Settings(webhook_url=url, webhook_secret=secret))

    assert len(problems) == 1 and problems[0].startswith(complaint)
    assert secret is None or secret not in problems[0]


def test_good_webhook_settings_raise_no_problem() -> None:
    settings = Settings(webhook_url="https://bot.example.org/", webhook_secret="A-z_09" * 40, listen="[::]:8443")
    assert webhook_problems(settings) == []
    assert parse_listen("[::]:8443") == ("::", 8443)
    assert parse_listen(":8080") == ("0.0.0.0", 8080)
    with pytest.raises(ValueError, match="host:port"):
        parse_listen("localhost")


async def test_the_retry_helper_waits_between_attempts() -> None:
    started = asyncio.get_running_loop().time()

    with pytest.raises(StorageUnavailable):
        await with_retries(lambda: _raise(_operational()), backoff=(0.05, 0.05))

    assert asyncio.get_running_loop().time() - started >= 0.1


async def _raise(error: Exception) -> None:
    raise error


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    from bot.storage.migrate import declared_head, head_revision

    assert declared_head() == head_revision() is not None


def test_a_message_to_print_is_redacted_like_a_log_line() -> None:
    from bot.logs import redacted

    settings = Settings(telegram_bot_token=TOKEN)
    assert redacted(f"The token `{TOKEN}` was rejected by the server.", settings) == (
        "The token `<redacted>` was rejected by the server.")


async def test_a_storage_call_that_hangs_is_cut_short_and_retried() -> None:
    attempts = []

    async def hangs() -> None:
        attempts.append(1)
        await asyncio.sleep(60)

    with pytest.raises(StorageUnavailable):
        await with_retries(hangs, backoff=(0, 0), attempt_timeout=0.05)
    assert len(attempts) == 3
