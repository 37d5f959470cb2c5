"""lcbot end to end over real HTTP against the Bot API stand-in, beside a bare python-telegram-bot echo bot.

    .venv/bin/python -m bench.telegram_throughput [--updates 1000] [--latency 200] [--rounds 3]

Throughput: a burst of text-message updates (questions from eval/, many users) is queued; the figure is
updates answered per second. Latency: one update at a time, from queueing it to the bot's reply being
recorded by the stand-in (p50/p99). Both bots poll the same stand-in the same way; lcbot runs its real
`lcbot run` polling code on a fresh SQLite database (or --database-url). The stand-in runs in its own
process, as Telegram would, so its work (parsing the bots' HTML, say) is not charged to the bot measured.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.config import Settings
from bot.evaluation import read_cases
from bot.telegram.runner import poll

ROOT = Path(__file__).resolve().parents[1]


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message and update.message.text:
        await update.message.reply_text(update.message.text)


@asynccontextmanager
async def echo_bot(api: RemoteApi) -> AsyncIterator[None]:
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
async def lcbot(api: RemoteApi) -> AsyncIterator[None]:
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


class RemoteApi:
    """The stand-in running in another process, driven through its control endpoints."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.base_url = f"{url}/bot"
        self.client = httpx.AsyncClient(timeout=300)
        self.next_id = 1

    def message(self, text: str, user_id: int) -> dict[str, object]:
        self.next_id += 1
        user = {"id": user_id, "is_bot": False, "first_name": "Ada", "language_code": "en"}
        return {"message": {"message_id": self.next_id, "date": int(time.time()), "from": user,
                            "chat": {"id": user_id, "type": "private", "first_name": "Ada"}, "text": text}}

    async def push(self, updates: list[dict[str, object]]) -> None:
        (await self.client.post(f"{self.url}/__control/updates", json=updates)).raise_for_status()

    async def wait(self, method: str, count: int) -> int:
        answer = await self.client.get(f"{self.url}/__control/wait",
                                       params={"method": method, "count": count, "timeout": 300})
        answer.raise_for_status()
        return int(answer.json()["result"])

    async def wait_for_long_poll(self, **_: object) -> None:
        await self.wait("getUpdates", 1)


@asynccontextmanager
async def stand_in() -> AsyncIterator[RemoteApi]:
    process = subprocess.Popen(  # noqa: ASYNC220 -- started once, before anything is measured
        [sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        base_url = lines[0].split()[-1]
        token = lines[1].split()[-1]
        api = RemoteApi(base_url.removesuffix("/bot"), token)
        try:
            yield api
        finally:
            await api.client.aclose()
    finally:
        process.terminate()
        process.wait(timeout=10)


class ErrorCount(logging.Handler):
    """Counts errors logged while a bot runs: a fast bot that answers with apologies is not fast."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def run(name: str, bot: Callable[[RemoteApi], AbstractAsyncContextManager[None]],
              questions: list[str], updates: int, latency_rounds: int) -> tuple[float, float, float]:
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    try:
        return await _run(name, bot, questions, updates, latency_rounds, errors)
    finally:
        logging.getLogger().removeHandler(errors)


async def _run(name: str, bot: Callable[[RemoteApi], AbstractAsyncContextManager[None]], questions: list[str],
               updates: int, latency_rounds: int, errors: ErrorCount) -> tuple[float, float, float]:
    async with stand_in() as api, bot(api):
        # Warm up (imports, caches, connections) before measuring.
        await api.push([api.message(questions[i % len(questions)], 10_000 + i) for i in range(20)])
        sends = await api.wait("sendMessage", 20)
        burst = [api.message(questions[i % len(questions)], 20_000 + i % 500) for i in range(updates)]
        start = time.perf_counter()
        await api.push(burst)
        sends = await api.wait("sendMessage", sends + updates)
        rate = updates / (time.perf_counter() - start)
        samples: list[float] = []
        for i in range(latency_rounds):
            begin = time.perf_counter()
            await api.push([api.message(questions[i % len(questions)], 30_000 + i)])
            sends = await api.wait("sendMessage", sends + 1)
            samples.append((time.perf_counter() - begin) * 1000)
        samples.sort()
        p50, p99 = statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        calls = (await api.client.get(f"{api.url}/__control/calls")).json()["result"]
        refused = sum(1 for call in calls if call["method"] == "sendMessage" and call["status"] != 200)
        print(f"{name:10} {rate:>10.1f} {p50:>9.1f} {p99:>9.1f} {errors.count:>7} {refused:>8}", flush=True)
        return rate, p50, p99


async def main_async(updates: int, latency_rounds: int, rounds: int) -> None:
    questions = [case.text for case in read_cases(ROOT / "eval")]
    print(f"{updates} updates per burst, {latency_rounds} one-by-one for latency; stand-in over HTTP on 127.0.0.1")
    print(f"{'bot':10} {'updates/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7} {'refused':>8}")
    ratios = []
    for _ in range(rounds):  # alternating, so a neighbour's load on a shared machine hits both bots alike
        echo_rate, _, _ = await run("echo", echo_bot, questions, updates, latency_rounds)
        lcbot_rate, _, _ = await run("lcbot", lcbot, questions, updates, latency_rounds)
        ratios.append(lcbot_rate / echo_rate)
    each = ", ".join(f"{100 * ratio:.0f} %" for ratio in ratios)
    print(f"lcbot / echo throughput: {100 * statistics.median(ratios):.0f} % (median of {rounds}: {each})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--latency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="echo and lcbot, alternately, this many times")
    parser.add_argument("--database-url", help="default: a fresh SQLite file; e.g. postgresql://postgres@127.0.0.1/x")
    args = parser.parse_args()
    if args.database_url:
        DATABASE_URL.append(args.database_url)
    asyncio.run(main_async(args.updates, args.latency, args.rounds))


if __name__ == "__main__":
    main()
