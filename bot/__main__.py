"""lcbot entry point: `lcbot COMMAND` or `python -m bot COMMAND`; see bot/cli.py for the commands."""

from __future__ import annotations

import gc
import sys


def main() -> None:
    skip_unused_imports()
    # Importing the commands creates a few hundred thousand objects that live as long as the process
    # (modules, classes, regexes). The cyclic collector would walk them again and again while they are
    # created, and once more in every full collection afterwards, freeing nothing: paused meanwhile, then
    # frozen (left out of later collections), a tenth of the start-up time is saved.
    gc.disable()
    try:
        from bot.cli import main as run_cli
    finally:
        gc.freeze()
        gc.enable()
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
