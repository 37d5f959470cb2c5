"""lcbot end to end over real HTTP against the Bot API stand-in, beside a bare python-telegram-bot echo bot.

    .venv/bin/python -m bench.telegram_throughput [--updates 1000] [--latency 200]

Throughput: a burst of text-message updates (questions from eval/, many users) is queued; the figure is
updates answered per second. Latency: one update at a time, from queueing it to the bot's reply being
recorded by the stand-in (p50/p99). Both bots poll the same stand-in the same way; lcbot runs its real
`lcbot run` polling code on a fresh SQLite database.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.config import Settings
from bot.evaluation import read_cases
from bot.telegram.runner import poll
from tests.fakes.telegram_api import FakeTelegramApi

ROOT = Path(__file__).resolve().parents[1]


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message and update.message.text:
        await update.message.reply_text(update.message.text)


@asynccontextmanager
async def echo_bot(api: FakeTelegramApi) -> AsyncIterator[None]:
    application = Application.builder().token(api.token).base_url(api.base_url).build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield
        finally:
            await application.updater.stop()
            await application.stop()


DATABASE_URL: list[str] = []  # set from --database-url


@asynccontextmanager
async def lcbot(api: FakeTelegramApi) -> AsyncIterator[None]:
    with tempfile.TemporaryDirectory() as folder:
        url = DATABASE_URL[0] if DATABASE_URL else f"sqlite+aiosqlite:///{folder}/bench.db"
        settings = Settings(telegram_bot_token=api.token, telegram_api_url=api.base_url, database_url=url)
        stop = asyncio.Event()
        task = asyncio.create_task(poll(settings, stop, poll_timeout=1))
        try:
            await api.wait_for_long_poll(timeout=30)
            yield
        finally:
            stop.set()
            await task


async def run(name: str, bot: Callable[[FakeTelegramApi], AbstractAsyncContextManager[None]],
              questions: list[str], updates: int, latency_rounds: int) -> tuple[float, float, float]:
    async with FakeTelegramApi() as api, bot(api):
        sends = len(api.calls_to("sendMessage"))
        # Warm up (imports, caches, connections) before measuring.
        for i in range(20):
            api.push_update(api.text_message(questions[i % len(questions)], user_id=10_000 + i))
        sends = (await api.wait_for_calls("sendMessage", sends + 20, timeout=60)).__len__()
        start = time.perf_counter()
        for i in range(updates):
            api.push_update(api.text_message(questions[i % len(questions)], user_id=20_000 + i % 500))
        await api.wait_for_calls("sendMessage", sends + updates, timeout=300)
        rate = updates / (time.perf_counter() - start)
        samples: list[float] = []
        for i in range(latency_rounds):
            sends = len(api.calls_to("sendMessage"))
            begin = time.perf_counter()
            api.push_update(api.text_message(questions[i % len(questions)], user_id=30_000 + i))
            await api.wait_for_calls("sendMessage", sends + 1, timeout=30)
            samples.append((time.perf_counter() - begin) * 1000)
        samples.sort()
        p50, p99 = statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        print(f"{name:10} {rate:>10.1f} {p50:>9.1f} {p99:>9.1f}", flush=True)
        return rate, p50, p99


async def main_async(updates: int, latency_rounds: int) -> None:
    questions = [case.text for case in read_cases(ROOT / "eval")]
    print(f"{updates} updates per burst, {latency_rounds} one-by-one for latency; stand-in over HTTP on 127.0.0.1")
    print(f"{'bot':10} {'updates/s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    echo_rate, _, _ = await run("echo", echo_bot, questions, updates, latency_rounds)
    lcbot_rate, _, _ = await run("lcbot", lcbot, questions, updates, latency_rounds)
    print(f"lcbot / echo throughput: {100 * lcbot_rate / echo_rate:.0f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--latency", type=int, default=200)
    parser.add_argument("--database-url", help="default: a fresh SQLite file; e.g. postgresql://postgres@127.0.0.1/x")
    args = parser.parse_args()
    if args.database_url:
        DATABASE_URL.append(args.database_url)
    asyncio.run(main_async(args.updates, args.latency))


if __name__ == "__main__":
    main()
