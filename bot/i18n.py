"""Interface strings from gettext catalogs (locales/<lang>/LC_MESSAGES/messages.po), read with Babel.

The .po files are compiled in memory at start, so a fresh clone needs no compile step and a translator's
edit is live on the next start (or reload). The serving process keeps the compiled catalogs in its cache
folder (LCBOT_CACHE_DIR), named by a digest of the .po file and the Babel version: parsing the .po files
takes a few dozen milliseconds of every start, reading the compiled ones a tenth of that.
"""

from __future__ import annotations

import gettext
import hashlib
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import babel

from bot import cache_folder
from bot.core.language import negotiate

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

DOMAIN = "messages"
KEEP_COMPILED = 64  # compiled catalogs kept in the cache folder: a few versions of every language
CATALOG_FILE = "catalog-{}.mo"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Translator:
    """The interface strings of one language; `_` is gettext, `n_` ngettext."""

    lang: str
    catalog: gettext.NullTranslations

    def _(self, message: str) -> str:
        return self.catalog.gettext(message)

    def n_(self, singular: str, plural: str, n: int) -> str:
        return self.catalog.ngettext(singular, plural, n)


@dataclass(frozen=True)
class Catalogs:
    """Every language's Translator, loaded once; unknown languages get the default's."""

    translators: Mapping[str, Translator]
    default: str

    def __call__(self, lang: str | None) -> Translator:
        code = lang if lang in self.translators else negotiate(lang, tuple(self.translators))
        return self.translators.get(code or self.default) or self.translators[self.default]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.translators)


def read_catalog(path: Path) -> Catalog:
    from babel.messages.pofile import read_po  # Babel's catalog machinery: only when a .po file is compiled

    with path.open("rb") as handle:
        return read_po(handle, abort_invalid=False)


def compile_catalog(catalog: Catalog) -> gettext.GNUTranslations:
    return gettext.GNUTranslations(io.BytesIO(compile_mo(catalog)))


def compile_mo(catalog: Catalog) -> bytes:
    """The catalog in gettext's binary .mo format."""
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def load_translations(path: Path, cache_dir: Path | None = None) -> gettext.GNUTranslations:
    """The compiled .po file at `path`; with `cache_dir`, compiled once per content and Babel version.

    The cache can make a start faster, never wrong: an unreadable or corrupt entry is compiled again."""
    if cache_dir is None:
        return compile_catalog(read_catalog(path))
    key = hashlib.sha256(f"babel={babel.__version__}\0".encode() + path.read_bytes()).hexdigest()[:40]
    cached = cache_dir / CATALOG_FILE.format(key)
    try:
        translations = gettext.GNUTranslations(io.BytesIO(cached.read_bytes()))
    except FileNotFoundError:
        pass
    except Exception:
        log.info("ignoring an unreadable compiled catalog %s", cached, exc_info=True)
    else:
        cache_folder.used(cached)
        return translations
    compiled = compile_mo(read_catalog(path))
    cache_folder.store(cache_dir, CATALOG_FILE, key, lambda handle: handle.write(compiled), KEEP_COMPILED)
    return gettext.GNUTranslations(io.BytesIO(compiled))


def load_catalogs(directory: Path, languages: tuple[str, ...], default: str = "en",
                  cache_dir: Path | None = None) -> Catalogs:
    """A Translator for each of `languages`; English (the source strings) needs no catalog. With
    `cache_dir`, compiled catalogs are reused across starts (see the module docstring)."""
    translators: dict[str, Translator] = {}
    for lang in languages:
        path = directory / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        catalog: gettext.NullTranslations = gettext.NullTranslations()
        if path.is_file():
            try:
                catalog = load_translations(path, cache_dir)
            except Exception:  # a broken catalog must not stop the bot: fall back to English strings
                log.exception("cannot read the catalog %s; using English strings for %s", path, lang)
        elif lang != "en":
            log.warning("no interface catalog for %s (%s); using English strings", lang, path)
        translators[lang] = Translator(lang, catalog)
    if default not in translators:
        translators[default] = Translator(default, gettext.NullTranslations())
    return Catalogs(translators, default)
