"""The FAQ as the core sees it: topics shared by every language and their text in each language."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    category: str | None
    refines: str | None
    related: tuple[str, ...]
    brief: str = ""


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """One topic's text in one language."""

    id: str
    lang: str
    title: str
    questions: tuple[str, ...]
    answer: str
    source: str | None = None


@dataclass(frozen=True, slots=True)
class LanguageProfile:
    """What the FAQ knows about one language: its name, menu names and matcher vocabulary."""

    code: str
    name: str
    categories: Mapping[str, str]
    stopwords: frozenset[str] = frozenset()
    synonyms: tuple[tuple[str, ...], ...] = ()
    outside: tuple[str, ...] = ()  # phrases that signal another subject (other UNESCO networks, jobs...)


# The topic ids of ../shared/topics.md: every FAQ must have them; any other topic refines one of them.
CORE_TOPICS = frozenset({
    "what-is-a-learning-city", "learning-city-benefits", "building-blocks", "fundamental-conditions",
    "why-build", "lifelong-learning", "what-is-gnlc", "network-activities", "joining-benefits",
    "how-to-join", "learning-city-award", "contact", "uil", "newsletter", "bot-help", "greeting", "thanks",
})


def fingerprint(answer: str) -> str:
    """Short, stable fingerprint of a source answer, kept beside translations to spot stale ones."""
    return hashlib.sha256(answer.strip().encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class Faq:
    """A complete, validated FAQ: immutable, so a reload swaps a whole new one in."""

    topics: Mapping[str, Topic]
    categories: tuple[str, ...]
    languages: Mapping[str, LanguageProfile]
    entries: Mapping[tuple[str, str], FaqEntry]
    source_language: str = "en"
    _by_lang: dict[str, list[FaqEntry]] = field(default_factory=dict, init=False, repr=False)
    _children: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for entry in self.entries.values():
            self._by_lang.setdefault(entry.lang, []).append(entry)

    @property
    def language_codes(self) -> tuple[str, ...]:
        return tuple(self.languages)

    def entry(self, topic_id: str, lang: str) -> FaqEntry:
        """The topic in `lang`, or in the source language when that translation is missing."""
        found = self.entries.get((topic_id, lang)) or self.entries.get((topic_id, self.source_language))
        if found is None:
            raise KeyError(topic_id)
        return found

    def entries_in(self, lang: str) -> list[FaqEntry]:
        return self._by_lang.get(lang, [])

    def topics_in(self, category: str) -> list[Topic]:
        return [topic for topic in self.topics.values() if topic.category == category]

    def family(self, topic_id: str) -> set[str]:
        """The topic, the broader topics it refines, and the narrower topics refining them.

        Answering one of these for another is never an unrelated answer: the broader answer's buttons
        lead to the narrower ones, and the narrower answer answers the broader question.
        """
        family = {topic_id}
        topic = self.topics.get(topic_id)
        while topic is not None and topic.refines and topic.refines not in family:
            family.add(topic.refines)
            topic = self.topics.get(topic.refines)
        if not self._children:
            for other in self.topics.values():
                if other.refines:
                    self._children.setdefault(other.refines, []).append(other.id)
        family.update(self._children.get(topic_id, ()))
        return family

    def answers_question_on(self, answered: str, asked: str) -> bool:
        """True when the answered topic is the asked one or narrows it (counts as answered)."""
        topic = self.topics.get(answered)
        seen: set[str] = set()
        while topic is not None and topic.id not in seen:
            if topic.id == asked:
                return True
            seen.add(topic.id)
            topic = self.topics.get(topic.refines) if topic.refines else None
        return False

    def __iter__(self) -> Iterator[FaqEntry]:
        return iter(self.entries.values())
