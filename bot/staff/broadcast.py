"""`lcbot broadcast FILE [--dry-run | --load-only] [--resend-uncertain]`: send a newsletter issue.

Exit 0 when every subscriber due was served; 1 when something needs a look (the file has errors, some
deliveries failed or are uncertain, the run was stopped, or another run holds the issue); 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.core.issue import Issue
from bot.core.pacing import DEFAULT_RATE

if TYPE_CHECKING:
    from bot.storage.broadcasts import SqlBroadcasts


def _rate(value: str) -> float:
    rate = float(value)
    if not 0 < rate <= 1000:
        raise argparse.ArgumentTypeError("must be above 0 and at most 1000")
    return rate


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    broadcast = commands.add_parser("broadcast", help="send a newsletter issue (YAML file) to every active subscriber")
    broadcast.add_argument("file", type=Path, help="the issue: id, default language, text per language")
    mode = broadcast.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true",
                      help="check the file and show who would get which text; send nothing, store nothing")
    mode.add_argument("--load-only", action="store_true",
                      help="check and store the issue, to start it from Telegram with /broadcast ID; send nothing")
    broadcast.add_argument("--resend-uncertain", action="store_true",
                           help="also send to the subscribers listed as uncertain (some may then have it twice)")
    broadcast.add_argument("--rate", type=_rate, default=DEFAULT_RATE,
                           help=f"messages per second (default {DEFAULT_RATE:g}; Telegram allows about 30)")


def cmd_broadcast(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.faq_files import load_faq
    from bot.storage.issue_files import read_issue

    if not args.file.is_file():
        print(f"lcbot: no such file: {args.file}", file=sys.stderr)
        return 2
    faq, _ = load_faq(settings.faq_dir)
    if faq is None:
        print("lcbot: the FAQ has errors (its languages decide which texts an issue may have); "
              "run `lcbot faq check`", file=sys.stderr)
        return 1
    issue, problems = read_issue(args.file, faq.language_codes)
    for problem in problems:
        print(problem, file=sys.stderr)
    if issue is None:
        print(f"lcbot: {args.file} has {len(problems)} error(s); nothing was sent", file=sys.stderr)
        return 1
    from sqlalchemy.exc import SQLAlchemyError
    from telegram.error import TelegramError

    from bot.core.delivery import SenderUnusable
    from bot.core.issue import IssueConflict
    from bot.logs import redacted

    try:
        return asyncio.run(_broadcast(args, settings, issue))
    except IssueConflict as exc:
        print(f"lcbot: {exc}", file=sys.stderr)
    except SenderUnusable as exc:
        print(f"lcbot: {redacted(str(exc), settings)}; nothing was sent", file=sys.stderr)
    except TelegramError as exc:  # InvalidToken's message contains the token: never print it
        print(f"lcbot: cannot reach Telegram at {settings.telegram_api_url}: {redacted(str(exc), settings)}",
              file=sys.stderr)
    except (SQLAlchemyError, OSError, ConnectionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"lcbot: cannot use the database: {reason}", file=sys.stderr)
    return 1


async def _broadcast(args: argparse.Namespace, settings: Settings, issue: Issue) -> int:
    from bot.broadcast_runner import describe_plan
    from bot.core.issue import plan
    from bot.storage.broadcasts import SqlBroadcasts
    from bot.storage.database import Database
    from bot.storage.migrate import upgrade

    await upgrade(settings.database_url)
    async with Database(settings.database_url) as database:
        store = SqlBroadcasts(database)
        if not args.dry_run:
            await store.save_issue(issue, datetime.now(UTC))
        if args.dry_run or args.load_only:
            audience, settled = await store.audience(issue.id)
            for line in describe_plan(plan(issue, audience, settled)):
                print(line)
            print("Dry run: nothing was sent." if args.dry_run else
                  f"Loaded, nothing sent. Send it with: lcbot broadcast {args.file}   (or /broadcast {issue.id} "
                  "in Telegram, as an admin)")
            return 0
        return await _send(args, settings, issue, store)


async def _send(args: argparse.Namespace, settings: Settings, issue: Issue, store: SqlBroadcasts) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from bot.broadcast_runner import describe, new_broadcast
    from bot.core.broadcast import Summary
    from bot.core.pacing import Pacer
    from bot.logs import setup_logging
    from bot.telegram.sender import TelegramSender, broadcast_bot

    setup_logging(settings)
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))  # the bar, not INFO lines
    console = Console(stderr=True, highlight=False)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[note]}"), TimeElapsedColumn(), console=console)
    task = bar.add_task(f"issue {issue.id}", total=None, note="")

    def show(summary: Summary) -> None:
        note = f"429: {summary.rate_limited}" if summary.rate_limited else ""
        bar.update(task, completed=summary.done, total=summary.total or None, note=note)

    async with broadcast_bot(settings) as bot:
        broadcast = new_broadcast(issue, store, TelegramSender(bot), pacer=Pacer(args.rate),
                                  resend_uncertain=args.resend_uncertain, on_progress=show)
        loop, running = asyncio.get_running_loop(), asyncio.current_task()

        def interrupt() -> None:
            """First Ctrl-C: finish the messages on their way, claim no more. Second: stop at once."""
            if broadcast.summary.stopped_because is None:
                console.print("Stopping after the messages on their way (Ctrl-C again to stop at once)...")
                broadcast.stop("interrupted")
            elif running is not None:
                running.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, interrupt)
        try:
            with bar:
                summary = await broadcast.run()
        except asyncio.CancelledError:
            print(f"Stopped at once: messages that were on their way will be listed as uncertain. Run the same "
                  f"command again to continue: lcbot broadcast {args.file}")
            return 1
    for line in describe(summary):
        print(line)
    return 0 if summary.complete and not summary.failed and not summary.uncertain else 1
