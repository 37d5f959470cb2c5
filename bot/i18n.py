"""Interface strings from gettext catalogs (locales/<lang>/LC_MESSAGES/messages.po), read with Babel.

The .po files are compiled in memory at start, so a fresh clone needs no compile step and a translator's
edit is live on the next start (or reload).
"""

from __future__ import annotations

import gettext
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.core.language import negotiate

DOMAIN = "messages"
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
    with path.open("rb") as handle:
        return read_po(handle, abort_invalid=False)


def compile_catalog(catalog: Catalog) -> gettext.GNUTranslations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def load_catalogs(directory: Path, languages: tuple[str, ...], default: str = "en") -> Catalogs:
    """A Translator for each of `languages`; English (the source strings) needs no catalog."""
    translators: dict[str, Translator] = {}
    for lang in languages:
        path = directory / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        catalog: gettext.NullTranslations = gettext.NullTranslations()
        if path.is_file():
            try:
                catalog = compile_catalog(read_catalog(path))
            except Exception:  # a broken catalog must not stop the bot: fall back to English strings
                log.exception("cannot read the catalog %s; using English strings for %s", path, lang)
        elif lang != "en":
            log.warning("no interface catalog for %s (%s); using English strings", lang, path)
        translators[lang] = Translator(lang, catalog)
    if default not in translators:
        translators[default] = Translator(default, gettext.NullTranslations())
    return Catalogs(translators, default)
