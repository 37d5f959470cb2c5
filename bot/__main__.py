"""lcbot entry point: `lcbot COMMAND` or `python -m bot COMMAND`; see bot/cli.py for the commands."""

from __future__ import annotations

import sys


def main() -> None:
    skip_unused_imports()
    from bot.collector import imports_frozen

    with imports_frozen():  # the commands' modules, classes and regexes live as long as the process
        from bot.cli import main as run_cli
    sys.exit(run_cli())


def skip_unused_imports() -> None:
    """Skip an import no lcbot command needs.

    httpx (python-telegram-bot's HTTP library) imports its own command-line client whenever click, rich
    and pygments are installed, and they always are (uvicorn needs click, lcbot rich): a tenth of a
    second of every start for a tool lcbot never runs. A None entry in `sys.modules` makes that optional
    import fail the way httpx expects when they are absent (`httpx.main` then only prints a hint).
    """
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
