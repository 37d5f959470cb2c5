"""The real `lcbot run` process, at DEBUG level, never writes the bot token or the webhook secret anywhere."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fakes.telegram_api import FakeTelegramApi
from tests.production.conftest import free_port

# Shaped like a real token, so that only the redaction (not luck) keeps it out of the logs.
TOKEN = "7123456789:AAFz-real_looking_TOKEN_0123456789xyz"
SECRET = "webhook-SECRET_value_0123456789"
PROJECT = Path(__file__).resolve().parents[2]


@dataclass
class Process:
    process: asyncio.subprocess.Process
    output: list[str]

    @property
    def text(self) -> str:
        return "".join(self.output)


def _environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LCBOT_", "TELEGRAM_"))}
    env.update({"LCBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'lcbot.db'}", "LCBOT_LOG_LEVEL": "DEBUG",
                "LCBOT_FAQ_WATCH_SECONDS": "0", "PYTHONPATH": str(PROJECT)}, **settings)
    return env


@asynccontextmanager
async def lcbot(tmp_path: Path, *args: str, **settings: str) -> AsyncIterator[Process]:
    """`python -m bot ARGS` (what the `lcbot` script runs) in an empty folder, stdout and stderr collected."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=_environment(tmp_path, **settings),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    running = Process(process, [])

    async def collect() -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            running.output.append(line.decode("utf-8", "replace"))

    reader = asyncio.create_task(collect())
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        await reader


async def _stop(running: Process) -> int:
    running.process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(running.process.wait(), timeout=20)


def _assert_no_secret(output: str) -> None:
    assert output.strip(), "the process wrote nothing: the test proves nothing"
    for secret in (TOKEN, TOKEN.split(":", 1)[1], TOKEN.replace(":", "%3A"), SECRET):
        assert secret not in output


async def test_polling_at_debug_level_never_logs_the_token(tmp_path: Path) -> None:
    async with FakeTelegramApi(token=TOKEN) as api, lcbot(
            tmp_path, "run", TELEGRAM_BOT_TOKEN=TOKEN, LCBOT_TELEGRAM_API_URL=api.base_url) as running:
        await api.wait_for_long_poll(timeout=30)
        api.push_update(api.text_message("What is a learning city?", user_id=41))
        await api.wait_for_messages(41, 1, timeout=15)
        api.fail_next("sendMessage", 502, body="<html><body>502 Bad Gateway</body></html>", times=3)
        api.push_update(api.text_message("How can my city join?", user_id=42))  # an exception, logged
        await api.wait_for_calls("sendMessage", 5, timeout=15)
        api.fail_next("getUpdates", 500)  # the poll after the next update fails: PTB logs it with its traceback
        api.push_update(api.text_message("/help", user_id=45))
        await api.wait_for_messages(45, 1, timeout=15)
        for _ in range(200):
            if any(call.status == 500 for call in api.calls_to("getUpdates")):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # let the process log it

        assert await _stop(running) == 0

    assert "DEBUG" in running.text and "error while handling update" in running.text
    assert "HTTP Request: POST http://127.0.0.1" in running.text and "/bot<redacted>/getUpdates" in running.text
    _assert_no_secret(running.text)


async def test_a_rejected_token_is_reported_without_showing_it(tmp_path: Path) -> None:
    async with FakeTelegramApi() as api, lcbot(   # the stand-in knows another token: getMe answers 401
            tmp_path, "run", TELEGRAM_BOT_TOKEN=TOKEN, LCBOT_TELEGRAM_API_URL=api.base_url) as running:
        code = await asyncio.wait_for(running.process.wait(), timeout=30)

    assert code == 1
    assert "Telegram rejected the bot token" in running.text
    _assert_no_secret(running.text)


async def test_webhook_mode_at_debug_level_never_logs_the_token_or_the_secret(tmp_path: Path) -> None:
    port = free_port()
    async with FakeTelegramApi(token=TOKEN) as api, lcbot(
            tmp_path, "run", "--webhook", TELEGRAM_BOT_TOKEN=TOKEN, LCBOT_TELEGRAM_API_URL=api.base_url,
            LCBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}", LCBOT_WEBHOOK_SECRET=SECRET,
            LCBOT_LISTEN=f"127.0.0.1:{port}", LCBOT_LOG_FORMAT="json") as running:
        await api.wait_for_calls("setWebhook", 1, timeout=30)
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(100):
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    break
                await asyncio.sleep(0.05)
        api.push_update(api.text_message("What is a learning city?", user_id=43))
        assert await api.deliver_webhook_updates() == 1
        await api.wait_for_messages(43, 1, timeout=15)
        update = api.text_message("hello", user_id=44)
        update["update_id"] = 77
        assert (await api.post_webhook(f"http://127.0.0.1:{port}/telegram", update, secret_token="wrong"))[0] == 403

        assert await _stop(running) == 0

    assert '"update_id": ' in running.text  # JSON lines carry the update id
    assert "/bot<redacted>/setWebhook" in running.text
    _assert_no_secret(running.text)


@pytest.mark.parametrize(("settings", "complaint"), [
    ({}, "LCBOT_WEBHOOK_URL is not set"),
    ({"LCBOT_WEBHOOK_URL": "https://bot.example.org", "LCBOT_WEBHOOK_SECRET": SECRET + " with spaces"},
     "LCBOT_WEBHOOK_SECRET must be"),
])
async def test_webhook_mode_refuses_to_start_without_a_valid_url_and_secret(tmp_path: Path, settings: dict[str, str],
                                                                            complaint: str) -> None:
    async with lcbot(tmp_path, "run", "--webhook", TELEGRAM_BOT_TOKEN=TOKEN, **settings) as running:
        code = await asyncio.wait_for(running.process.wait(), timeout=30)

    assert code == 2
    assert complaint in running.text
    _assert_no_secret(running.text)
