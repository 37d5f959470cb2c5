"""Answer one question: pick the reply language, match the FAQ, and say what to reply."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.faq import Faq
from bot.core.language import Detection, LanguageDetector, LanguagePolicy, script_languages
from bot.core.matching import FaqIndex, Match, MatchKind, Thresholds
from bot.core.translit import cyrillic

ROMANIZED = "ru"  # the language people commonly type in Latin letters when they lack a keyboard (translit)
ROMANIZED_UNLESS = 0.5  # a Latin-script language detected this surely is not translit

MAX_QUESTION_CHARS = 4096


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    saved_lang: str | None = None  # chosen with /language
    telegram_lang: str | None = None  # the user's app language, e.g. "pt-br"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the bot decided; rendering it into words is the adapters' job (replies.py)."""

    kind: MatchKind
    faq_id: str | None
    lang: str
    score: float
    suggestions: tuple[str, ...]
    detected: Detection

    @property
    def is_answer(self) -> bool:
        return self.kind is MatchKind.ANSWER


class Answerer:
    """The FAQ engine for one FAQ version: immutable, so a reload swaps in a new Answerer."""

    def __init__(self, faq: Faq, default_language: str = "en", thresholds: Thresholds | None = None):
        self.faq = faq
        supported = faq.language_codes
        self.policy = LanguagePolicy(supported, default_language if default_language in supported else
                                     faq.source_language)
        self.index = FaqIndex(faq, thresholds)
        vocab = self.index.words_written
        # Names the Russian synonyms write in Latin letters ("unesco", "gnlc", "learning city award"): kept as
        # they are when reading translit (the variants themselves may hold translit, "kak vstupit v set").
        russian = self.index.languages.get(ROMANIZED)
        self._romanized_keep = frozenset(word for word, _ in (russian.analyzer.phrase_words(outside=False)
                                                              if russian else ()) if word.isascii())
        stop = {code: profile.stopwords for code, profile in faq.languages.items()}
        self.detector = LanguageDetector(vocab, stop)

    @property
    def languages(self) -> tuple[str, ...]:
        return self.faq.language_codes

    def ask(self, question: Question) -> Answer:
        text = question.text[:MAX_QUESTION_CHARS]
        scripts = self.detector.scripts(text)
        detected = self.detector.detect(text, scripts)
        if (romanized := self._romanized(text, scripts, detected)) is not None:
            text = romanized
            scripts = self.detector.scripts(text)
            detected = self.detector.detect(text, scripts)
        lang = self.policy.choose(detected, question.saved_lang, question.telegram_lang)
        preferred = (self.policy.preferred(question.saved_lang, question.telegram_lang)
                     if question.saved_lang or question.telegram_lang else None)
        match = self.index.match(text, self._search_order(self.detector.candidates(text, scripts), detected, lang,
                                                          preferred),
                                 self._typo_languages(detected, lang, preferred))
        return Answer(match.kind, match.topic_id, lang, match.score, match.suggestions, detected)

    def _romanized(self, text: str, scripts: dict[str, int], detected: Detection) -> str | None:
        """The message in Cyrillic when it is Russian typed in Latin letters ("kak vstupit v set"): when no
        Latin-script language reads it surely and the Cyrillic reading knows more of its words (at least two)
        than any Latin-script language does. An English word in it ("podat' application") can make English
        the detected language, without much confidence."""
        if (not self._romanized_keep or detected.confidence >= ROMANIZED_UNLESS or not scripts["latin"]
                or any(count for script, count in scripts.items() if script != "latin")):
            return None
        reading = cyrillic(text, self._romanized_keep)
        known = self.index.known_words(reading, ROMANIZED)
        if known < 2:
            return None
        latin = (self.index.known_words(text, code) for code in self.languages if script_languages(code) == "latin")
        return reading if known > max(latin, default=0) else None

    def match_in(self, text: str, lang: str) -> Match:
        """Match within one language only (used by the FAQ check for colliding variants)."""
        return self.index.match(text, [lang], [lang])

    def _search_order(self, candidates: list[str], detected: Detection, lang: str,
                      preferred: str | None = None) -> list[str]:
        """Languages to match in, the likeliest first: when the language is clear, it and the reply
        language; otherwise every language written in the text's script. The user's own language
        (/language, else Telegram's) is tried too: a short message can look like another language."""
        sure = detected.lang is not None and detected.confidence >= self.policy.threshold
        order: list[str] = []
        # Even when the language is clear, English terms are common in any Latin-script question
        # ("Gibt es eine Membership Fee?"): English is tried too, and kept if it knows enough words.
        lingua_franca = (self.faq.source_language,) if sure else candidates
        for code in (detected.lang, lang, *lingua_franca, preferred):
            if code and code not in order and code in self.index.languages:
                order.append(code)
        scripts = {script_languages(code) for code in candidates}
        return [code for code in order if not scripts or script_languages(code) in scripts]

    @staticmethod
    def _typo_languages(detected: Detection, lang: str, preferred: str | None = None) -> list[str]:
        return list(dict.fromkeys(code for code in (detected.lang, lang, preferred) if code))
