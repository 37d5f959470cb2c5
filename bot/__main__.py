"""lcbot entry point: `lcbot COMMAND` or `python -m bot COMMAND`; see bot/cli.py for the commands."""

from __future__ import annotations

import sys


def main() -> None:
    from bot.cli import main as run_cli

    sys.exit(run_cli())


if __name__ == "__main__":
    main()
