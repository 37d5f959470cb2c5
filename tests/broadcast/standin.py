"""The Bot API stand-in in a process of its own, for runs that are killed or measured from outside.

    python -m tests.broadcast.standin [--rate-limit 30] [--delay 0.1]

The same stand-in as `python -m tests.fakes.telegram_api`, with one addition: sends are answered after
`--delay` seconds, about Telegram's own latency, so a run killed mid-way has messages in flight (and
the stand-in still delivers them after the sender is gone, as Telegram would). Prints base_url and token.
`RemoteStandIn` drives it over HTTP: its control endpoints, and the sends it recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.fakes.telegram_api import FakeTelegramApi

ROOT = Path(__file__).resolve().parents[2]


class RemoteStandIn:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url, self.token = base_url, token
        self.url = base_url.removesuffix("/bot")
        self.client = httpx.AsyncClient(timeout=120)

    async def calls(self) -> list[dict[str, Any]]:
        answer = await self.client.get(f"{self.url}/__control/calls")
        answer.raise_for_status()
        return list(answer.json()["result"])

    async def delivered(self) -> Counter[int]:
        """Messages each chat received: sendMessage calls answered 200 (even after the sender died)."""
        return Counter(c["params"]["chat_id"] for c in await self.calls()
                       if c["method"] == "sendMessage" and c["status"] == 200)

    async def rate_limited(self) -> int:
        return sum(1 for c in await self.calls() if c["status"] == 429)

    async def wait(self, count: int, method: str = "sendMessage", timeout: float = 60) -> None:  # noqa: ASYNC109
        answer = await self.client.get(f"{self.url}/__control/wait",
                                       params={"method": method, "count": count, "timeout": timeout})
        answer.raise_for_status()

    async def push(self, updates: list[dict[str, Any]]) -> None:
        (await self.client.post(f"{self.url}/__control/updates", json=updates)).raise_for_status()

    async def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        answer = await self.client.get(f"{self.url}/__control/messages", params={"chat_id": chat_id})
        answer.raise_for_status()
        return list(answer.json()["result"])


@asynccontextmanager
async def remote_stand_in(rate_limit: float = 30, delay: float = 0.1) -> AsyncIterator[RemoteStandIn]:
    process = subprocess.Popen(  # noqa: ASYNC220 -- started once, before anything is measured
        [sys.executable, "-m", "tests.broadcast.standin", "--rate-limit", str(rate_limit), "--delay", str(delay)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().split()[-1]
        token = process.stdout.readline().split()[-1]
        api = RemoteStandIn(base_url, token)
        try:
            yield api
        finally:
            await api.client.aclose()
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _serve(args: argparse.Namespace) -> None:
    async with FakeTelegramApi(port=args.port) as fake:
        fake.set_rate_limit(args.rate_limit)
        if args.delay:
            fake.set_delay("sendMessage", args.delay)
        print(f"base_url: {fake.base_url}", flush=True)
        print(f"token:    {fake.token}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate-limit", type=float, default=30)
    parser.add_argument("--delay", type=float, default=0.1, help="answer sends after this many seconds")
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
