"""What makes a start quick stays correct: compiled catalogs reused only for the same .po file, the
collector paused and restored, httpx's command-line client never imported."""

from __future__ import annotations

import gettext
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
