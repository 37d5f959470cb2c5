"""The serving process: time to ready, resident memory, and webhook requests per second.

    .venv/bin/python -m bench.serving [--requests 3000] [--concurrency 32] [--seconds 30] [--database-url URL]
                                      [--cold] [--polling]

Starts the Bot API stand-in in its own process, then the real `lcbot run --webhook` as a subprocess
(a fresh SQLite file unless --database-url). Ready = /healthz answers 200, timed from the spawn. The
timed start is a restart: a first start, untimed, has left the FAQ index and the compiled catalogs in the
run's own cache folder (LCBOT_CACHE_DIR); --cold times that first start instead (the first after a FAQ
or code change). --polling times `lcbot run` (long polling) instead, up to its answer to a question
waiting at the stand-in, and stops there (no webhook load).
Memory = VmRSS (now) and VmHWM (peak) from /proc, idle after start and again after the load.
Load = text-message updates POSTed to /telegram with the secret header by an httpx client on 127.0.0.1,
`--concurrency` at a time, up to `--requests` or `--seconds`: acknowledged requests/s (what Telegram
sees), then answered updates/s (until the stand-in has recorded every reply). Quality bars from
product.md: resident ≤ 150 MB, ready ≤ 2 s.

The bot reads its modules' bytecode from __pycache__ (written by the first start, or an earlier run), as an
installed lcbot does (pip compiles it at install), even where PYTHONDONTWRITEBYTECODE is set (as on the
development machine): compiling lcbot's own modules again on every start added about 0.1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret_0123456789"
QUESTIONS = ["What is a learning city?", "How can my city join the network?", "Qu'est-ce qu'une ville apprenante ?",
             "¿Cómo puede mi ciudad unirse a la red?", "ما هي المدينة المتعلمة؟", "什么是学习型城市？",
             "Что такое обучающийся город?", "Wer kann Mitglied werden?", "who won the match yesterday?"]
MAX_RSS_MB, MAX_READY_S = 150, 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of the process in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used: unlike wall time, not inflated by a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_stand_in() -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen([sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    base_url = process.stdout.readline().split()[-1]
    token = process.stdout.readline().split()[-1]
    return process, base_url, token


def update(update_id: int, user_id: int, text: str) -> dict[str, object]:
    user = {"id": user_id, "is_bot": False, "first_name": "Ada", "language_code": "en"}
    return {"update_id": update_id, "message": {"message_id": update_id, "date": int(time.time()), "from": user,
                                                "chat": {"id": user_id, "type": "private", "first_name": "Ada"},
                                                "text": text}}


async def wait_ready(client: httpx.AsyncClient, url: str, process: subprocess.Popen[bytes], started: float,
                     limit: float = 60) -> float:
    while time.perf_counter() - started < limit:
        if process.poll() is not None:
            raise SystemExit(f"lcbot exited with {process.returncode} before it was ready")
        try:
            if (await client.get(f"{url}/healthz")).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.005)
    raise SystemExit(f"lcbot was not ready within {limit} s")


async def wait_started(client: httpx.AsyncClient, args: argparse.Namespace, url: str, api: str,
                       process: subprocess.Popen[bytes], started: float, *, user_id: int) -> float:
    """Seconds from `started` to ready: /healthz 200 (webhook), or the answer to a question asked before
    the start, which the first getUpdates fetches (polling)."""
    if not args.polling:
        return await wait_ready(client, url, process, started)
    (await client.post(f"{api}/__control/updates", json=update(user_id, user_id, QUESTIONS[0]))).raise_for_status()
    while time.perf_counter() - started < 60:
        if process.poll() is not None:
            raise SystemExit(f"lcbot exited with {process.returncode} before it answered")
        messages = (await client.get(f"{api}/__control/messages", params={"chat_id": user_id})).json()["result"]
        if messages:
            return time.perf_counter() - started
        await asyncio.sleep(0.005)
    raise SystemExit("lcbot did not answer within 60 s")


async def load(client: httpx.AsyncClient, url: str, requests: int, concurrency: int, seconds: float,
               first_id: int) -> tuple[int, float, list[float], int]:
    """POST updates until `requests` are sent or `seconds` pass; (sent, elapsed, latencies in ms, failures)."""
    ids = itertools.count(first_id)
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def worker() -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            number = next(ids)
            if number - first_id >= requests:
                return
            body = update(number, 50_000_000 + number - first_id, QUESTIONS[number % len(QUESTIONS)])  # a user each
            begin = time.perf_counter()
            response = await client.post(f"{url}/telegram", json=body, headers=headers)
            latencies.append((time.perf_counter() - begin) * 1000)
            if response.status_code != 200:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), time.perf_counter() - started, latencies, failures


async def main_async(args: argparse.Namespace) -> int:
    stand_in, base_url, token = start_stand_in()
    api = base_url.removesuffix("/bot")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    folder = tempfile.TemporaryDirectory()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LCBOT_", "TELEGRAM_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(TELEGRAM_BOT_TOKEN=token, LCBOT_TELEGRAM_API_URL=base_url, LCBOT_WEBHOOK_URL=url,
               LCBOT_WEBHOOK_SECRET=SECRET, LCBOT_LISTEN=f"127.0.0.1:{port}", LCBOT_LOG_LEVEL="WARNING",
               LCBOT_FAQ_WATCH_SECONDS="0", PYTHONPATH=str(ROOT), LCBOT_CACHE_DIR=f"{folder.name}/cache",
               LCBOT_DATABASE_URL=args.database_url or f"sqlite:///{folder.name}/bench.db")
    command = [sys.executable, "-m", "bot", "run", *([] if args.polling else ["--webhook"])]
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        if not args.database_url:  # migrate first, so "ready" times a restart, not the first-ever schema build
            subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"],  # noqa: ASYNC221 -- before timing
                           env=env, cwd=folder.name, check=True, stdout=subprocess.DEVNULL)
        if not args.cold:  # an untimed first start fills the cache folder, as before any restart
            first = subprocess.Popen(command, env=env, cwd=folder.name)  # noqa: ASYNC220 -- stopped right below
            try:
                await wait_started(client, args, url, api, first, time.perf_counter(), user_id=1)
                # Not the very instant after: the start's chores (question-log trim, update-log prune) query
                # the database at once, and a SIGTERM cancelling one mid-query logs a harmless ERROR.
                await asyncio.sleep(0.5)
            finally:
                first.send_signal(signal.SIGTERM)
                first.wait(timeout=30)
        started = time.perf_counter()
        bot = subprocess.Popen(  # noqa: ASYNC220 -- a plain child whose pid /proc is read for
            command, env=env, cwd=folder.name)
        try:
            ready = await wait_started(client, args, url, api, bot, started, user_id=2)
            idle_rss, idle_hwm = memory_mb(bot.pid)
            what = "first answer (polling)" if args.polling else "/healthz 200"
            cache = "empty cache: FAQ index built" if args.cold else "FAQ index cached"
            print(f"time to ready (spawn → {what}, {cache}): {ready:.2f} s   (bar ≤ {MAX_READY_S} s); "
                  f"CPU used meanwhile {cpu_seconds(bot.pid):.2f} s; load average {os.getloadavg()[0]:.1f} "
                  f"on {os.cpu_count()} CPUs")
            print(f"resident memory after start: VmRSS {idle_rss:.1f} MB, VmHWM {idle_hwm:.1f} MB")
            if args.polling:
                bot.send_signal(signal.SIGTERM)
                code = bot.wait(timeout=30)
                ok = ready <= MAX_READY_S and idle_hwm <= MAX_RSS_MB and code == 0
                print("bars met (ready, memory after start)" if ok else "bars NOT met")
                return 0 if ok else 1

            # Update ids unique across runs: a reused database remembers the ids it took (and drops repeats).
            base = int(time.time() * 1000) % 10**12 * 100
            await load(client, url, 50, 8, 30, first_id=base)  # warm-up
            await client.get(f"{api}/__control/wait", params={"method": "sendMessage", "count": 50, "timeout": 60})
            load_started, cpu_before = time.perf_counter(), cpu_seconds(bot.pid)
            sent, elapsed, latencies, failures = await load(client, url, args.requests, args.concurrency,
                                                            args.seconds, first_id=base + 1_000)
            answered = await client.get(f"{api}/__control/wait", params={
                "method": "sendMessage", "count": 50 + sent - failures, "timeout": 300})
            answered_in = time.perf_counter() - load_started
            cpu_per_update = (cpu_seconds(bot.pid) - cpu_before) / max(sent, 1)
            latencies.sort()
            p50 = statistics.median(latencies)
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(f"webhook load: {sent} requests, {args.concurrency} concurrent, {failures} not 200")
            print(f"  acknowledged: {sent / elapsed:.0f} requests/s (p50 {p50:.1f} ms, p99 {p99:.1f} ms)")
            if answered.is_success:
                print(f"  answered: {sent - failures} updates in {answered_in:.1f} s = "
                      f"{(sent - failures) / answered_in:.0f} updates/s (every reply recorded by the stand-in)")
            else:
                print(f"  answered: NOT every update within 300 s: {answered.text[:200]}")
            print(f"  bot CPU per update (ack + answer): {1000 * cpu_per_update:.1f} ms "
                  f"= {1 / cpu_per_update:.0f} updates/s per core when the CPU is the bot's alone")
            rss, hwm = memory_mb(bot.pid)
            print(f"resident memory after the load: VmRSS {rss:.1f} MB, VmHWM {hwm:.1f} MB   (bar ≤ {MAX_RSS_MB} MB)")
            stop = time.perf_counter()
            bot.send_signal(signal.SIGTERM)
            code = bot.wait(timeout=30)
            print(f"SIGTERM → exit {code} in {time.perf_counter() - stop:.2f} s")
            ok = ready <= MAX_READY_S and hwm <= MAX_RSS_MB and code == 0 and answered.is_success
            print("bars met" if ok else "bars NOT met")
            return 0 if ok else 1
        finally:
            if bot.poll() is None:
                bot.kill()
            stand_in.terminate()
            stand_in.wait(timeout=10)
            folder.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30, help="stop the load after this long")
    parser.add_argument("--database-url", help="default: a fresh SQLite file; e.g. postgresql://postgres@127.0.0.1/x")
    parser.add_argument("--cold", action="store_true", help="time a first start (empty cache folder)")
    parser.add_argument("--polling", action="store_true", help="time `lcbot run` (polling) up to its first answer")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
