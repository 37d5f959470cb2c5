"""What makes a start quick stays correct: compiled catalogs reused only for the same .po file, the
collector paused and restored, httpx's command-line client never imported, nor what a start on SQLite
does not need (email-validator, rich, the PostgreSQL dialect; alembic and yaml on a restart)."""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bot.i18n
from bot.config import bundled
from bot.i18n import load_catalogs

LANGUAGES = ("en", "fr", "ar", "zh")
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundled("locales"), tmp_path / "locales"))


def _strings(catalogs: bot.i18n.Catalogs) -> dict[str, dict[object, str]]:
    return {lang: dict(getattr(catalogs(lang).catalog, "_catalog", {})) for lang in LANGUAGES}


def test_compiled_catalogs_are_reused_and_say_what_the_po_files_say(locales: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    reference = load_catalogs(locales, LANGUAGES)
    load_catalogs(locales, LANGUAGES, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("catalog-*.mo"))) == 3  # English needs none

    def no_parse(path: Path) -> None:
        raise AssertionError("a .po file was parsed again instead of the compiled catalog")

    monkeypatch.setattr(bot.i18n, "read_catalog", no_parse)
    cached = load_catalogs(locales, LANGUAGES, cache_dir=tmp_path / "cache")

    assert _strings(cached) == _strings(reference)
    assert cached("fr")._("Help") == reference("fr")._("Help")


def test_an_edited_po_file_is_compiled_anew(locales: Path, tmp_path: Path) -> None:
    load_catalogs(locales, LANGUAGES, cache_dir=tmp_path / "cache")
    french = locales / "fr" / "LC_MESSAGES" / "messages.po"
    french.write_text(french.read_text(encoding="utf-8") + '\nmsgid "A new string"\nmsgstr "Une nouvelle"\n',
                      encoding="utf-8")

    catalogs = load_catalogs(locales, LANGUAGES, cache_dir=tmp_path / "cache")

    assert catalogs("fr")._("A new string") == "Une nouvelle"
    assert len(list((tmp_path / "cache").glob("catalog-*.mo"))) == 4


def test_a_corrupt_compiled_catalog_is_compiled_again(locales: Path, tmp_path: Path) -> None:
    reference = load_catalogs(locales, LANGUAGES)
    load_catalogs(locales, LANGUAGES, cache_dir=tmp_path / "cache")
    for entry in (tmp_path / "cache").glob("catalog-*.mo"):
        entry.write_bytes(b"not a catalog")

    catalogs = load_catalogs(locales, LANGUAGES, cache_dir=tmp_path / "cache")

    assert _strings(catalogs) == _strings(reference)
    assert all(entry.read_bytes() != b"not a catalog" for entry in (tmp_path / "cache").glob("catalog-*.mo"))


def test_an_unwritable_cache_folder_still_gives_the_catalogs(locales: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")

    catalogs = load_catalogs(locales, LANGUAGES, cache_dir=blocked / "cache")

    assert _strings(catalogs) == _strings(load_catalogs(locales, LANGUAGES))
    assert isinstance(catalogs("fr").catalog, gettext.GNUTranslations)


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()


def test_the_serving_layers_never_import_httpxs_command_line_client() -> None:
    imported = _python(
        "import sys; from bot.__main__ import skip_unused_imports; skip_unused_imports()\n"
        "import telegram, httpx\n"
        "print(sorted(m for m in ('httpx._main', 'click', 'pygments') if sys.modules.get(m) is not None))")

    assert imported == "[]"


def test_the_command_line_imports_leave_the_collector_running() -> None:
    state = _python("import gc, sys; sys.argv = ['lcbot', '--help']\n"
                    "import bot.__main__\n"
                    "try:\n    bot.__main__.main()\nexcept SystemExit:\n    pass\n"
                    "print(gc.isenabled())")

    assert state.endswith("True")


# What `lcbot run --webhook` imports, up to ready (the `ready` callback: /healthz answers from then on).
_SERVE = """
import asyncio, sys
from bot.__main__ import skip_unused_imports
skip_unused_imports()
from bot.cli import imports_frozen
from bot.config import load_settings
with imports_frozen():
    from bot.telegram.runner import run_bot
    from bot.webhook_server import serve_webhook

async def main():
    stop = asyncio.Event()
    def ready(serving):
        print(" ".join(sorted(sys.modules)))
        stop.set()
    return await serve_webhook(load_settings(), stop, ready=ready)

sys.exit(asyncio.run(main()))
"""
# Needed by no start: addresses are checked (email-validator) and terminal tables drawn (rich) only when
# asked for.
NEVER_AT_START = ("email_validator", "rich")
# Needed by a first start only: migrating the new database (alembic, which loads every dialect it knows),
# reading the FAQ files (yaml). A restart on SQLite takes SQLite's own INSERT, not PostgreSQL's.
NOT_AT_RESTART = ("alembic", "yaml", "sqlalchemy.dialects.postgresql")


def test_a_start_on_sqlite_imports_only_what_it_needs(tmp_path: Path) -> None:
    stand_in = subprocess.Popen([sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0"], cwd=PROJECT,
                                stdout=subprocess.PIPE, text=True)
    try:
        assert stand_in.stdout is not None
        base_url = stand_in.stdout.readline().split()[-1]
        token = stand_in.stdout.readline().split()[-1]
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("LCBOT_") and key != "TELEGRAM_BOT_TOKEN"}
        env.update(PYTHONPATH=str(PROJECT), TELEGRAM_BOT_TOKEN=token, LCBOT_TELEGRAM_API_URL=base_url,
                   LCBOT_WEBHOOK_URL="http://127.0.0.1:8443", LCBOT_WEBHOOK_SECRET="secret_0123",
                   LCBOT_LISTEN="127.0.0.1:0", LCBOT_DATABASE_URL=f"sqlite:///{tmp_path}/lcbot.db",
                   LCBOT_CACHE_DIR=str(tmp_path / "cache"), LCBOT_FAQ_WATCH_SECONDS="0", LCBOT_LOG_LEVEL="WARNING")

        def start() -> set[str]:
            run = subprocess.run([sys.executable, "-c", _SERVE], cwd=tmp_path, env=env, capture_output=True,
                                 text=True, timeout=120)
            assert run.returncode == 0, run.stderr
            return set(run.stdout.split())

        def imported(modules: set[str], names: tuple[str, ...]) -> list[str]:
            return sorted(m for m in modules if m in names or m.startswith(tuple(f"{n}." for n in names)))

        first, restart = start(), start()
    finally:
        stand_in.terminate()
        stand_in.wait(timeout=10)

    assert "sqlalchemy.dialects.sqlite" in first and "aiohttp" in first and "uvicorn" in first  # it did start
    assert imported(first, NEVER_AT_START) == []
    assert "alembic" in first  # the new database was migrated
    assert imported(restart, NEVER_AT_START + NOT_AT_RESTART) == []
