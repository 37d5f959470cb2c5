"""`lcbot subscribers export`: the newsletter's subscribers for a mailing tool, consent included.

CSV (header: EXPORT_FIELDS, documented in README.md) or JSON `{"subscribers": [{...}, ...]}` with the
same keys. Timestamps are ISO 8601 in UTC; in CSV, booleans are `true`/`false` and a missing value is
an empty field.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from typing import Any, TextIO

from bot.config import Settings
from bot.core.ports import Channel, SubscriberFilter, SubscriberStatus


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    subscribers = commands.add_parser("subscribers", help="the newsletter's subscribers")
    actions = subscribers.add_subparsers(dest="subscribers_command", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="print the subscribers as CSV or JSON, consent fields included")
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")
    export.add_argument("--status", choices=[s.value for s in SubscriberStatus], help="only this status")
    export.add_argument("--channel", choices=[c.value for c in Channel], help="only this channel")
    export.add_argument("--language", help="only subscribers who receive it in this language, e.g. fr")
    export.add_argument("--confirmed-email", action="store_true",
                        help="only subscribers with a confirmed email address")


def cmd_subscribers(args: argparse.Namespace, settings: Settings, out: TextIO | None = None) -> int:
    which = SubscriberFilter(
        status=SubscriberStatus(args.status) if args.status else None,
        channel=Channel(args.channel) if args.channel else None,
        language=args.language.strip().lower() if args.language else None,
        confirmed_email=args.confirmed_email,
    )
    try:
        rows = asyncio.run(_rows(settings, which))
    except _NotMigrated as exc:
        print(f"lcbot: {exc}", file=sys.stderr)
        return 1
    except (OSError, ConnectionError) as exc:
        print(f"lcbot: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    write_export(rows, args.format, out or sys.stdout)
    return 0


def write_export(rows: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    from bot.core.subscriptions import EXPORT_FIELDS

    if fmt == "json":
        json.dump({"subscribers": rows}, out, ensure_ascii=False, indent=1)
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _csv_value(value) for key, value in row.items()})


class _NotMigrated(Exception):
    pass


async def _rows(settings: Settings, which: SubscriberFilter) -> list[dict[str, Any]]:
    from bot.core.subscriptions import export_row
    from bot.storage.database import Database
    from bot.storage.migrate import current_revision, head_revision
    from bot.storage.repositories import Store

    if await current_revision(settings.database_url) != head_revision():
        raise _NotMigrated("the database is not at the latest schema; run `lcbot db upgrade` first")
    async with Database(settings.database_url) as database:
        records = await Store(database).subscribers.select(which)
    return [export_row(record) for record in records]


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
