"""`lcbot stats` and `lcbot unanswered [--proposals]`: the staff reports in the terminal.

The heavy imports wait until a command runs, so every other lcbot command starts as fast as before.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.config import Settings

if TYPE_CHECKING:
    from bot.bootstrap import Services


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    stats = commands.add_parser("stats", help="questions per day and language, answer rates, votes per topic")
    stats.add_argument("--days", type=_positive, default=30, help="the last N days, today included (default 30)")
    unanswered = commands.add_parser("unanswered", help="questions the FAQ missed, similar ones grouped")
    unanswered.add_argument("--days", type=_positive, default=30, help="the last N days (default 30)")
    unanswered.add_argument("--limit", type=_positive, default=20, help="show the N most asked groups (default 20)")
    unanswered.add_argument("--proposals", action="store_true",
                            help="print the picked \"did you mean\" suggestions as FAQ question variants (YAML)")


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    from bot.staff.render import print_stats
    from bot.staff.reports import gather_stats

    async def report(services: Services) -> None:
        print_stats(await gather_stats(services.store, args.days), Console(highlight=False))

    return _run(settings, report)


def cmd_unanswered(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    from bot.staff.render import print_unanswered
    from bot.staff.reports import gather_unanswered, period_start, proposals, proposals_yaml

    async def report(services: Services) -> None:
        if args.proposals:
            chosen = await services.store.questions.chosen(period_start(args.days))
            # Plain print, not rich: the snippet is YAML to copy, and rich would read [..] as markup.
            print(proposals_yaml(proposals(chosen, services.library.faq), services.settings.faq_dir.name), end="")
            return
        total, groups = await gather_unanswered(services.store, services.library.answerer, args.days)
        print_unanswered(total, groups, args.limit, args.days, Console(highlight=False))

    return _run(settings, report)


def _run(settings: Settings, report: Callable[[Services], Awaitable[None]]) -> int:
    """Open the services without migrating (a report writes nothing) and run `report`."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.bootstrap import build_services
    from bot.storage.database import async_url

    async def main() -> None:
        async with build_services(settings, migrate=False) as services:
            await report(services)

    try:
        asyncio.run(main())
    except (SQLAlchemyError, OSError, ConnectionError) as exc:
        shown = async_url(settings.database_url).render_as_string(hide_password=True)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"lcbot: cannot read the question log at {shown}: {reason}\n"
              "  Is LCBOT_DATABASE_URL right? A new database needs `lcbot db upgrade` (or one `lcbot run`).",
              file=sys.stderr)
        return 1
    return 0
