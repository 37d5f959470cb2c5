"""Broadcasts started by admins in Telegram (`/broadcast ID`), run beside the bot in the same process.

Each run is a plain asyncio task (Application.stop() would wait for its own create_task tasks, and a
broadcast of thousands takes minutes), with its own Bot and connections so the replies to users never
queue behind it. Replies and broadcast share one Pacer: every reply takes a broadcast slot, so together
they stay under Telegram's overall limit and a reply is never the message that gets the 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.bootstrap import Services
from bot.broadcast_runner import describe, new_broadcast
from bot.core.broadcast import Broadcast, Summary
from bot.core.issue import Issue, IssueStatus
from bot.core.pacing import Pacer
from bot.telegram.sender import TelegramSender, broadcast_bot

log = logging.getLogger(__name__)

STOP_WAIT_S = 10.0  # at shutdown, how long the messages in flight may take to finish

Notify = Callable[[int, str], Awaitable[None]]  # (admin's chat id, plain text)


class BroadcastJobs:
    """The admin-started broadcasts of this bot process."""

    def __init__(self, services: Services, pacer: Pacer | None = None) -> None:
        self.services = services
        self.pacer = pacer or Pacer()
        self._runs: dict[str, Broadcast] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def running(self) -> list[str]:
        return sorted(self._tasks)

    def start(self, issue: Issue, admin_id: int, notify: Notify) -> bool:
        """Start sending `issue` in the background; False when this process is sending it already."""
        if issue.id in self._tasks:
            return False
        task = asyncio.create_task(self._run(issue, admin_id, notify), name=f"broadcast-{issue.id}")
        self._tasks[issue.id] = task
        task.add_done_callback(lambda _task: self._tasks.pop(issue.id, None))
        return True

    async def _run(self, issue: Issue, admin_id: int, notify: Notify) -> None:
        metrics = self.services.metrics
        counted: dict[str, int] = {"sent": 0, "blocked": 0, "failed": 0}

        def progress(summary: Summary) -> None:
            metrics.broadcast(summary.done, summary.total)
            for result, now in (("sent", summary.sent), ("blocked", summary.blocked), ("failed", summary.failed)):
                if now > counted[result]:
                    metrics.broadcast_sent.labels(result).inc(now - counted[result])
                    counted[result] = now

        try:
            async with broadcast_bot(self.services.settings) as bot:
                run = new_broadcast(issue, self.services.store.broadcasts, TelegramSender(bot), pacer=self.pacer,
                                    on_progress=progress)
                self._runs[issue.id] = run
                summary = await run.run()
            text = "\n".join(describe(summary))
        except Exception as exc:
            log.exception("the broadcast of issue %s stopped on an error", issue.id)
            text = f"Issue {issue.id} stopped on an error: {type(exc).__name__}: {exc}. Start it again to continue."
        finally:
            self._runs.pop(issue.id, None)
        try:
            await notify(admin_id, text)
        except Exception:
            log.warning("could not send the summary of issue %s to admin %s", issue.id, admin_id, exc_info=True)

    async def stop_all(self, wait: float = STOP_WAIT_S) -> None:
        """Let the messages in flight finish and claim no more (the next run continues); then cancel."""
        for run in list(self._runs.values()):
            run.stop("the bot is shutting down")
        tasks = list(self._tasks.values())
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=wait)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def issues_text(statuses: list[IssueStatus], running: list[str]) -> str:
    """`/broadcast` without an id: the latest issues and where each stands."""
    if not statuses:
        return ("No newsletter issue is loaded. Load one on the server with: lcbot broadcast FILE --load-only, "
                "then send it here with /broadcast ID.")
    lines = ["Newsletter issues (send one with /broadcast ID):"]
    for status in statuses:
        counts = ", ".join(f"{state} {count}" for state, count in sorted(status.counts.items())) or "not started"
        state = "running here" if status.id in running else status.status
        lines.append(f"{status.id}: {state}; {counts}")
    return "\n".join(lines)
