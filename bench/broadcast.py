"""A newsletter broadcast to 1,000 subscribers against the Bot API stand-in enforcing 30 messages/s.

    .venv/bin/python -m bench.broadcast [--subscribers 1000] [--latency 0.1] [--mode admin|cli]
                                        [--database-url URL]

The stand-in runs in its own process (as Telegram would) and answers each send after --latency seconds,
about Telegram's own. lcbot runs its real `lcbot run` polling code on a fresh SQLite database (or
--database-url). `--mode admin` (default): an admin starts the issue with /broadcast in Telegram, so it
runs inside the bot; `--mode cli`: `lcbot broadcast FILE` runs in its own process beside the bot.

Figures: messages/s (first to last delivery, as the stand-in recorded them), 429 answers the stand-in
gave, and the bot's reply latency to other users (a question every 0.5 s, from 20 users in turn) before
and during the broadcast, from the question being queued to the reply reaching the stand-in (p50/p99).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.core.broadcast import utc_now
from bot.core.issue import Issue
from bot.evaluation import read_cases
from bot.storage.broadcasts import SqlBroadcasts
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.telegram.runner import poll
from tests.broadcast.seeding import seed
from tests.broadcast.standin import RemoteStandIn, remote_stand_in

ROOT = Path(__file__).resolve().parents[1]
ADMIN = 900_001
ASKERS = [800_001 + i for i in range(20)]  # not subscribers, asking in turn: far below the per-user limit
ASK_EVERY_S = [0.5]  # --ask-every
LANGUAGES = ("en", "fr", "es", "ar", "zh", "ru", "de", "pt")
ISSUE = Issue("bench-issue", "en", {
    "en": "<b>GNLC news</b>\nThe call for the UNESCO Learning City Award is open: "
          '<a href="https://www.uil.unesco.org/en/learning-cities">details</a>.',
    "fr": "<b>Actualités du GNLC</b>\nL'appel pour le Prix UNESCO de la ville apprenante est ouvert : "
          '<a href="https://www.uil.unesco.org/en/learning-cities">détails</a>.',
    "es": "<b>Noticias de la GNLC</b>\nEstá abierta la convocatoria del Premio UNESCO Ciudad del Aprendizaje.",
})


class Asker:
    """Questions from users who are not subscribers, queued at a steady pace; latencies read afterwards."""

    def __init__(self, api: RemoteStandIn, questions: list[str]) -> None:
        self.api, self.questions = api, questions
        self.asked: list[tuple[int, float]] = []  # (chat id, time.monotonic() when queued)
        self.message_id = 1

    async def ask_until(self, done: asyncio.Event | None, seconds: float | None = None) -> list[tuple[int, float]]:
        start, asked = time.monotonic(), []
        while not (done is not None and done.is_set()) and (seconds is None or time.monotonic() - start < seconds):
            user = ASKERS[len(self.asked) % len(ASKERS)]
            self.message_id += 1
            text = self.questions[len(self.asked) % len(self.questions)]
            sender = {"id": user, "is_bot": False, "first_name": "Ada", "language_code": "en"}
            update = {"message": {"message_id": self.message_id, "date": int(time.time()), "from": sender,
                                  "chat": {"id": user, "type": "private", "first_name": "Ada"}, "text": text}}
            queued = time.monotonic()  # CLOCK_MONOTONIC: the stand-in's call times are on the same clock
            await self.api.push([update])
            self.asked.append((user, queued))
            asked.append((user, queued))
            await asyncio.sleep(ASK_EVERY_S[0])
        return asked


def latencies_ms(asked: list[tuple[int, float]], calls: list[dict[str, Any]]) -> list[float]:
    replies: dict[int, list[float]] = {}
    for call in calls:
        if call["method"] == "sendMessage" and call["status"] == 200 and call["params"].get("chat_id") in ASKERS:
            replies.setdefault(call["params"]["chat_id"], []).append(call["time"])
    found = []
    for chat, queued in asked:
        later = [t for t in replies.get(chat, []) if t >= queued]
        if later:
            found.append((min(later) - queued) * 1000)
    return sorted(found)


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "no replies"
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return f"p50 {statistics.median(samples):6.1f} ms, p99 {p99:6.1f} ms, max {samples[-1]:6.1f} ms (n={len(samples)})"


async def wait_for_summary(api: RemoteStandIn) -> str:
    while len(messages := await api.messages_to(ADMIN)) < 2:  # noqa: ASYNC110 -- another process: poll it
        await asyncio.sleep(0.2)
    return str(messages[-1]["text"])


async def run_cli(api: RemoteStandIn, url: str, folder: str) -> str:
    issue_file = Path(folder) / "issue.yaml"
    texts = "".join(f"  {lang}: |\n    " + text.replace("\n", "\n    ") + "\n" for lang, text in ISSUE.texts.items())
    issue_file.write_text(f"id: {ISSUE.id}\ndefault: {ISSUE.default}\ntext:\n{texts}", encoding="utf-8")
    env = {"LCBOT_DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": api.token, "LCBOT_TELEGRAM_API_URL": api.base_url,
           "PATH": "/usr/bin:/bin"}
    process = await asyncio.create_subprocess_exec(str(Path(sys.executable).parent / "lcbot"), "broadcast",
                                                   str(issue_file), env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.DEVNULL)
    out, _ = await process.communicate()
    return out.decode().strip()


async def main_async(args: argparse.Namespace) -> None:
    questions = [case.text for case in read_cases(ROOT / "eval") if case.lang == "en"] or ["What is a learning city?"]
    subscribers = [(1_000_000 + i, LANGUAGES[i % len(LANGUAGES)], "active") for i in range(args.subscribers)]
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        await upgrade(url)
        await seed(url, subscribers)
        async with remote_stand_in(rate_limit=30, delay=args.latency) as api:
            settings = Settings(telegram_bot_token=api.token, telegram_api_url=api.base_url, database_url=url,
                                admin_ids=frozenset({ADMIN}), faq_watch_seconds=0)
            stop = asyncio.Event()
            bot = asyncio.create_task(poll(settings, stop, poll_timeout=1))
            await api.wait(1, "getUpdates")
            asker = Asker(api, questions)
            before = await asker.ask_until(None, seconds=5)
            done = asyncio.Event()
            asking = asyncio.create_task(asker.ask_until(done))
            if args.mode == "admin":
                async with Database(url) as database:
                    await SqlBroadcasts(database).save_issue(ISSUE, utc_now())
                await api.push([{"message": {"message_id": 1, "date": int(time.time()),
                                             "from": {"id": ADMIN, "is_bot": False, "first_name": "Admin"},
                                             "chat": {"id": ADMIN, "type": "private", "first_name": "Admin"},
                                             "text": f"/broadcast {ISSUE.id}",
                                             "entities": [{"type": "bot_command", "offset": 0, "length": 10}]}}])
                summary = await wait_for_summary(api)
            else:
                summary = await run_cli(api, url, folder)
            done.set()
            during = await asking
            await asyncio.sleep(1)
            stop.set()
            await bot
            calls = await api.calls()
    subscriber_ids = {s[0] for s in subscribers}
    sends = sorted(c["time"] for c in calls if c["method"] == "sendMessage" and c["status"] == 200
                   and c["params"].get("chat_id") in subscriber_ids)
    rate = (len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else 0.0
    limited = sum(1 for c in calls if c["status"] == 429)
    limited_replies = sum(1 for c in calls if c["status"] == 429 and c["params"].get("chat_id") in ASKERS)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"broadcast of {args.subscribers} subscribers ({args.mode} mode, {backend}); "
          f"stand-in in its own process: 30 messages/s, answers after {args.latency * 1000:.0f} ms")
    print(f"  delivered: {len(sends)} of {args.subscribers}; {rate:.1f} messages/s "
          f"({sends[-1] - sends[0]:.1f} s first to last)")
    replies = sum(1 for c in calls if c["method"] == "sendMessage" and c["status"] == 200 and sends
                  and sends[0] <= c["time"] <= sends[-1] and c["params"].get("chat_id") not in subscriber_ids)
    total = (len(sends) + replies) / (sends[-1] - sends[0]) if len(sends) > 1 else 0.0
    print(f"  all messages meanwhile (broadcast + replies to users): {total:.1f}/s")
    print(f"  429 answers from the stand-in: {limited} (to replies to users: {limited_replies})")
    print(f"  lcbot's summary: {' '.join(summary.split())}")
    print(f"reply latency to other users before the broadcast: {percentiles(latencies_ms(before, calls))}")
    print(f"reply latency to other users during the broadcast: {percentiles(latencies_ms(during, calls))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the stand-in takes to answer a send")
    parser.add_argument("--mode", choices=("admin", "cli"), default="admin")
    parser.add_argument("--ask-every", type=float, default=0.5, help="seconds between two questions from users")
    parser.add_argument("--database-url", help="default: a fresh SQLite file; e.g. postgresql://postgres@127.0.0.1/x")
    args = parser.parse_args()
    ASK_EVERY_S[0] = args.ask_every
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
