"""Which language a message is written in, and which language to reply in."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError, negotiate_locale

from bot.core.text import fold, words

_SCRIPTS: dict[str, re.Pattern[str]] = {
    "ar": re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]"),
    "zh": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"),
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f]"),
    "kana": re.compile(r"[\u3040-\u30ff]"),
}
# Letters that point to one Latin-script language (weights: how strongly).
_LETTER_HINTS: dict[str, dict[str, float]] = {
    "ñ": {"es": 2.0}, "¿": {"es": 2.0}, "¡": {"es": 2.0},
    "ã": {"pt": 2.0}, "õ": {"pt": 2.0}, "ç": {"fr": 0.8, "pt": 0.8},
    "ß": {"de": 2.0}, "ä": {"de": 1.5}, "ö": {"de": 1.5}, "ü": {"de": 1.2},
    "è": {"fr": 1.5}, "ê": {"fr": 1.0, "pt": 0.6}, "à": {"fr": 1.0, "pt": 0.3}, "ù": {"fr": 1.5},
    "î": {"fr": 1.5}, "ô": {"fr": 1.0, "pt": 0.6}, "œ": {"fr": 2.0}, "û": {"fr": 1.5}, "ë": {"fr": 1.0},
    "á": {"es": 0.6, "pt": 0.6}, "í": {"es": 0.6, "pt": 0.5}, "ó": {"es": 0.6, "pt": 0.5},
    "ú": {"es": 0.6, "pt": 0.4}, "é": {"fr": 0.6, "es": 0.4, "pt": 0.4}, "â": {"pt": 0.8, "fr": 0.5},
}
# Runs of one script's letters: its words (Chinese, written without spaces, is counted apart: `_script_words`).
_WORDS: dict[str, re.Pattern[str]] = {name: re.compile(_SCRIPTS[name].pattern + "+") for name in ("latin", "ar", "ru")}
_SCRIPT_OF_LANGUAGE = {"ar": "ar", "zh": "zh", "ru": "ru"}
_NON_LATIN = tuple(_SCRIPT_OF_LANGUAGE.values())


@dataclass(frozen=True, slots=True)
class Detection:
    lang: str | None
    confidence: float  # 0..1: how sure; below the detector's threshold the caller should not rely on it


def script_languages(lang: str) -> str:
    return _SCRIPT_OF_LANGUAGE.get(lang, "latin")


def word_script(word: str) -> str:
    """The script of a word, named as `script_languages` names a language's ("zh", "ar", "ru", "latin")."""
    first = word[:1]
    return next((script for script in _NON_LATIN if _SCRIPTS[script].match(first)), "latin")


class LanguageDetector:
    """Script first; among Latin-script languages, vocabulary (stop words and FAQ words) and letters."""

    def __init__(self, vocabularies: Mapping[str, Iterable[str]], stopwords: Mapping[str, Iterable[str]]):
        """`vocabularies`: folded words per language (see text.fold); stop words are folded here."""
        self.languages = tuple(vocabularies)
        stop = {lang: frozenset(fold(w) for w in stopwords.get(lang, ())) for lang in self.languages}
        vocab = {lang: frozenset(vocabularies[lang]) for lang in self.languages}  # already folded
        # A word shared by many languages says little about any of them.
        spread: dict[str, int] = {}
        for lang in self.languages:
            for word in vocab[lang] | stop[lang]:
                spread[word] = spread.get(word, 0) + 1
        # What each word says for each Latin-script language, looked up once per word of a message: a stop
        # word 1, a word of the FAQ's variants 0.7, divided by how many languages write it.
        evidence: dict[str, list[tuple[str, float]]] = {}
        for lang in self.languages:
            if script_languages(lang) != "latin":
                continue
            for word in vocab[lang] | stop[lang]:
                if word.isdigit():  # a year or a count is no language's
                    continue
                weight = 1.0 if word in stop[lang] else 0.7
                evidence.setdefault(word, []).append((lang, weight / spread[word]))
        self._evidence = {word: tuple(found) for word, found in evidence.items()}

    @staticmethod
    def scripts(text: str) -> dict[str, int]:
        """How many characters of each script the text has."""
        return {name: len(pattern.findall(text)) for name, pattern in _SCRIPTS.items()}

    def candidates(self, text: str, scripts: dict[str, int] | None = None) -> list[str]:
        """Languages whose script appears in the text, most characters first."""
        scripts = scripts if scripts is not None else self.scripts(text)
        found = [(scripts[script_languages(lang)], lang) for lang in self.languages
                 if scripts[script_languages(lang)]]
        found.sort(key=lambda item: -item[0])
        return [lang for _, lang in found]

    def detect(self, text: str, scripts: dict[str, int] | None = None) -> Detection:
        scripts = scripts if scripts is not None else self.scripts(text)
        total = sum(scripts.values())
        if total == 0:
            return Detection(None, 0.0)
        if scripts["kana"] > 0:
            return Detection(None, 0.0)  # Japanese: not one of ours, even though it uses Han characters
        best_script = max(scripts, key=lambda name: scripts[name])
        share = scripts[best_script] / total
        if best_script == "latin" and any(scripts[script] for script in _NON_LATIN):
            # Latin letters beside another script are mostly terms people mix in ("Какие long-term benefits у
            # learning city?", "加入GNLC之后有什么benefits？"): as many words in the other script as in Latin
            # say which language the message is in (an English question naming 北京 stays English).
            counted = _script_words(text, scripts)
            other = max(_NON_LATIN, key=lambda script: counted[script])
            part = counted[other] / (counted[other] + counted["latin"])
            if counted[other] >= 2 and part >= 0.5:
                lang = other if other in self.languages else None
                return Detection(lang, min(1.0, 1.2 * part) if lang else 0.0)
        if best_script != "latin":
            lang = best_script if best_script in self.languages else None
            confident = share >= 0.5 and scripts[best_script] >= 2
            return Detection(lang, share if confident and lang else 0.0)
        return self._detect_latin(text, share)

    def _detect_latin(self, text: str, share: float) -> Detection:
        latin = [lang for lang in self.languages if script_languages(lang) == "latin"]
        if not latin:
            return Detection(None, 0.0)
        scores = dict.fromkeys(latin, 0.0)
        lowered = text.lower()
        for letter, hints in _LETTER_HINTS.items():
            n = lowered.count(letter)
            if n:
                for lang, weight in hints.items():
                    if lang in scores:
                        scores[lang] += weight * min(n, 3)
        evidence = self._evidence
        for token in words(fold(text)):
            for lang, weight in evidence.get(token, ()):
                scores[lang] += weight
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        best, best_score = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if best_score < 0.9:
            return Detection(None, 0.0)
        margin = (best_score - second) / best_score
        confidence = share * min(1.0, margin * 1.5) * min(1.0, best_score / 2)
        return Detection(best, confidence)


def _script_words(text: str, scripts: Mapping[str, int]) -> dict[str, float]:
    """How many words of each script the text has; Chinese, written without spaces, counts a word for every
    one and a half characters (most of its words are one or two characters long)."""
    counted: dict[str, float] = {name: len(pattern.findall(text)) for name, pattern in _WORDS.items()}
    counted["zh"] = scripts["zh"] / 1.5
    return counted


def negotiate(code: str | None, supported: Sequence[str]) -> str | None:
    """Map a Telegram/IETF tag (`pt-br`, `zh-hans`, `en_US`) to a supported language, or None."""
    if not code:
        return None
    tag = code.strip().replace("_", "-")
    if not tag:
        return None
    # Babel answers in the case of the requested tag ("EN-us" -> "EN"): return the supported spelling.
    spelling = {code.lower(): code for code in supported}
    found = negotiate_locale([tag, tag.split("-")[0]], list(supported), sep="-")
    if found and found.lower() in spelling:
        return spelling[found.lower()]
    try:
        language = Locale.parse(tag, sep="-").language
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    return language if language in supported else None


def is_valid_tag(code: str) -> bool:
    try:
        Locale.parse(code.strip().replace("_", "-"), sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class LanguagePolicy:
    """The rule that picks the reply language (documented in the README):

    1. the language the message is written in, when detection is confident;
    2. else the language the user chose with /language;
    3. else Telegram's `language_code`, negotiated with Babel;
    4. else the default language.
    """

    supported: tuple[str, ...]
    default: str
    threshold: float = 0.35

    def is_clear(self, detected: Detection) -> bool:
        """Whether the message's own language decides the reply language."""
        return detected.lang in self.supported and detected.confidence >= self.threshold

    def choose(self, detected: Detection, saved: str | None, telegram_code: str | None) -> str:
        if self.is_clear(detected):
            return detected.lang
        return self.preferred(saved, telegram_code)

    def preferred(self, saved: str | None, telegram_code: str | None) -> str:
        if saved in self.supported:
            return saved
        return negotiate(telegram_code, self.supported) or self.default
