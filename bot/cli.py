"""The lcbot commands: parse arguments, load settings, run one adapter. Exit 0 ok, 1 failure, 2 bad usage."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from bot.collector import imports_frozen
from bot.config import Settings, bundled, load_settings
from bot.core.answering import Question
from bot.core.language import is_valid_tag, negotiate
from bot.core.markup import to_plain
from bot.faq_library import FaqLibrary
from bot.i18n import load_catalogs
from bot.replies import reply_for
from bot.staff import broadcast as staff_broadcast
from bot.staff import commands as staff_commands
from bot.staff import subscribers as staff_subscribers
from bot.storage.faq_files import FaqLoadError, load_faq, stamp_sources


class UsageError(Exception):
    """Bad input from the person at the terminal: shown as one clear line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lcbot", description="The UNESCO GNLC learning-city assistant.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = commands.add_parser("ask", help="answer one question (or JSON lines with --jsonl)")
    ask.add_argument("text", nargs="*", help="the question")
    ask.add_argument("--lang", help="the asker's Telegram language, e.g. fr or pt-br")
    ask.add_argument("--json", action="store_true", help="print the result as one JSON object")
    ask.add_argument("--jsonl", action="store_true", help="read JSON lines {text, lang} from standard input")

    commands.add_parser("chat", help="talk to the bot in this terminal")

    run = commands.add_parser("run", help="run the Telegram bot (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook instead of polling")

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="migrate the database to the latest schema (also done at start)")
    db_commands.add_parser("current", help="show the database's schema revision")

    faq = commands.add_parser("faq", help="check, export or stamp the FAQ files")
    faq_commands = faq.add_subparsers(dest="faq_command", metavar="ACTION", required=True)
    check = faq_commands.add_parser("check", help="validate the FAQ folder (exit 1 on any error)")
    check.add_argument("directory", nargs="?", type=Path, help="FAQ folder (default: LCBOT_FAQ_DIR)")
    check.add_argument("--no-collisions", action="store_true", help="skip the slower collision check")
    export = faq_commands.add_parser("export", help="print the FAQ")
    export.add_argument("--json", action="store_true", required=True, help="as JSON")
    export.add_argument("directory", nargs="?", type=Path)
    stamp = faq_commands.add_parser("stamp", help="record the English fingerprint beside each translation")
    stamp.add_argument("directory", nargs="?", type=Path)

    evaluate = commands.add_parser("eval", help="measure answer quality on the evaluation set")
    evaluate.add_argument("directory", nargs="?", type=Path, help="folder of *.jsonl (default: eval/)")
    evaluate.add_argument("--failures", action="store_true", help="list every case not answered right")

    staff_commands.add_parsers(commands)  # stats, unanswered
    staff_subscribers.add_parser(commands)  # subscribers export
    staff_broadcast.add_parser(commands)  # broadcast FILE
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    handlers: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
        "ask": cmd_ask, "chat": cmd_chat, "run": cmd_run, "faq": cmd_faq, "eval": cmd_eval, "db": cmd_db,
        "stats": staff_commands.cmd_stats, "unanswered": staff_commands.cmd_unanswered,
        "subscribers": staff_subscribers.cmd_subscribers,
        "broadcast": staff_broadcast.cmd_broadcast,
    }
    try:
        settings = load_settings()
        return handlers[args.command](args, settings)
    except UsageError as exc:
        print(f"lcbot: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"lcbot: invalid setting: {problems}", file=sys.stderr)
        return 2
    except FaqLoadError as exc:
        print("lcbot: the FAQ has errors; run `lcbot faq check` for details:", file=sys.stderr)
        for problem in exc.problems:
            if problem.severity == "error":
                print(f"  {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`lcbot faq export --json | head`): stop quietly, as Unix tools do. Output
        # still buffered would fail again at exit, so stdout is pointed at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe


def open_library(settings: Settings) -> FaqLibrary:
    if not settings.faq_dir.is_dir():
        raise UsageError(f"FAQ folder not found: {settings.faq_dir} (set LCBOT_FAQ_DIR)")
    return FaqLibrary(settings.faq_dir, settings.default_language)


def cmd_ask(args: argparse.Namespace, settings: Settings, stdin: TextIO | None = None) -> int:
    text = " ".join(args.text).strip()
    if not text and not args.jsonl:  # before loading the FAQ: a usage error should not wait for the index
        raise UsageError('nothing to ask: give a question, e.g. lcbot ask "What is a learning city?"')
    library = open_library(settings)
    catalogs = load_catalogs(settings.locales_dir, library.faq.language_codes, library.answerer.policy.default)
    if args.jsonl:
        return _ask_lines(library, catalogs, stdin or sys.stdin)
    if args.lang and negotiate(args.lang, library.faq.language_codes) is None:
        kind = "unknown language code" if not is_valid_tag(args.lang) else "unsupported language"
        raise UsageError(f"{kind} '{args.lang}'; use one of: {', '.join(library.faq.language_codes)}")
    result = _answer(library, catalogs, text, args.lang)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(to_plain(result["text"]))
    return 0


def _answer(library: FaqLibrary, catalogs, text: str, lang: str | None) -> dict[str, object]:
    answer = library.ask(Question(text, telegram_lang=lang))
    reply = reply_for(catalogs(answer.lang), library.faq, answer)
    return {"kind": answer.kind.value, "faq_id": answer.faq_id if answer.is_answer else None,
            "lang": answer.lang, "score": answer.score, "suggestions": list(answer.suggestions),
            "text": reply.text}


def _ask_lines(library: FaqLibrary, catalogs, stdin: TextIO) -> int:
    """One JSON object out per line in, in order; a bad line gets an error object, never a stop."""
    failed = False
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError('expected {"text": "...", "lang": "..."}')
            lang = row.get("lang")
            result = _answer(library, catalogs, row["text"], lang if isinstance(lang, str) else None)
        except ValueError as exc:
            failed = True
            result = {"kind": "error", "faq_id": None, "lang": None, "score": 0, "suggestions": [],
                      "text": "", "error": f"line {number}: {exc}"}
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 1 if failed else 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import run_console

    library = open_library(settings)
    catalogs = load_catalogs(settings.locales_dir, library.faq.language_codes, library.answerer.policy.default)
    return run_console(library, catalogs)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.token:
        print(
            "No Telegram token is set, so the Telegram bot cannot start.\n"
            "  1. In Telegram, talk to @BotFather, send /newbot and copy the token it gives you.\n"
            "  2. Put it in the environment or in a .env file: TELEGRAM_BOT_TOKEN=123456:ABC...\n"
            "Meanwhile, `lcbot chat` runs the same bot in this terminal.",
            file=sys.stderr,
        )
        return 2
    with imports_frozen():  # the Telegram, database and web layers: most of the start-up time
        from bot.telegram.runner import run_bot

        if args.webhook:
            from bot import webhook_server  # noqa: F401 -- imported by run_bot; here, while the collector rests

    return run_bot(settings, webhook=args.webhook)


def cmd_faq(args: argparse.Namespace, settings: Settings) -> int:
    directory: Path = args.directory or settings.faq_dir
    if args.faq_command == "check":
        from bot.faq_check import run_check

        return run_check(directory, collisions=not args.no_collisions)
    if args.faq_command == "stamp":
        try:
            changed = stamp_sources(directory)
        except FaqLoadError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return 1
        print(f"stamped: {', '.join(changed)}" if changed else "all translations already stamped")
        return 0
    faq, problems = load_faq(directory)
    if faq is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    entries = [
        {"id": e.id, "lang": e.lang, "title": e.title, "questions": list(e.questions), "answer": e.answer,
         "refines": faq.topics[e.id].refines, "category": faq.topics[e.id].category,
         "related": list(faq.topics[e.id].related)}
        for topic_id in faq.topics for lang in faq.languages
        if (e := faq.entries.get((topic_id, lang))) is not None
    ]
    print(json.dumps({"entries": entries}, ensure_ascii=False, indent=1))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluation import print_report

    directory = args.directory or bundled("eval")
    if not directory.is_dir():
        raise UsageError(f"evaluation folder not found: {directory}")
    return print_report(open_library(settings).answerer, directory, failures=args.failures)


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.storage.database import async_url
    from bot.storage.migrate import current_revision, head_revision, upgrade

    shown = async_url(settings.database_url).render_as_string(hide_password=True)
    try:
        if args.db_command == "upgrade":
            asyncio.run(upgrade(settings.database_url))
            print(f"database at {shown} is at revision {head_revision()}")
        else:
            print(asyncio.run(current_revision(settings.database_url)) or "empty (no schema yet)")
    except (OSError, ConnectionError) as exc:
        print(f"lcbot: cannot reach the database at {shown}: {exc}", file=sys.stderr)
        return 1
    return 0
