"""Fuzzy matching of a message against every question variant of every FAQ entry.

Each language has an index built once at load: question variants as sets of weighted tokens (weight =
inverse topic frequency), an inverted index from token to variants, and the vocabulary bucketed by length
for typo correction. A query is analysed per candidate language; typos are corrected to the nearest
vocabulary token (Levenshtein, 1 edit for short words, 2 for long ones); each touched variant gets a
precision/recall score (how much of the query it explains, how much of it the query covers). The best
topic wins when it is both high and clearly ahead of any unrelated topic.

Cost per query: analysis is linear in the message length; scoring is linear in the postings of the query's
tokens, i.e. it grows with the number of variants sharing a word with the query, not with the FAQ's size.
Typo correction looks only at vocabulary words of similar length.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.faq import Faq
from bot.core.text import OUTSIDE, Analyzer, is_han, sentences, unique

MAX_QUERY_CHARS = 1_000
MAX_SEGMENTS = 6
OUTSIDE_PENALTY = 3.0  # a phrase naming another subject weighs like three unknown words
MAX_LANGUAGES = 3  # languages matched in when the message's language is unclear
MAX_CORRECTIONS = 8  # typo corrections tried per message: a long message of unknown names stays cheap


class MatchKind(StrEnum):
    ANSWER = "answer"
    SUGGEST = "suggest"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class Match:
    kind: MatchKind
    topic_id: str | None
    score: float  # 0..100, the best topic's score
    suggestions: tuple[str, ...] = ()
    matched_lang: str | None = None


@dataclass(frozen=True, slots=True)
class Thresholds:
    # Calibrated on eval/ (lcbot eval): a confident wrong answer is the failure to avoid.
    answer: float = 0.66  # at least this, and ahead of unrelated topics by `margin`
    margin: float = 0.08
    sure: float = 0.97  # this high answers even when another topic is close
    suggest: float = 0.36  # below: fallback
    max_suggestions: int = 3


@dataclass(slots=True)
class _Variant:
    topic: int
    weights: dict[str, float]
    total: float


@dataclass
class LanguageIndex:
    """The precomputed index of one language's question variants."""

    analyzer: Analyzer
    topic_ids: list[str]
    variants: list[_Variant] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    stems: frozenset[str] = frozenset()  # every stem of the variants, before synonyms are merged
    unknown_weight: float = 1.0
    beta: float = 0.6  # < 1: explaining the whole message weighs more than covering the whole variant
    blend: float = 0.3  # share of the topic-level coverage in the score
    topics_of: dict[str, frozenset[int]] = field(default_factory=dict)
    topic_variants: dict[int, list[int]] = field(default_factory=dict)
    _by_length: dict[int, list[str]] = field(default_factory=dict)
    _corrections: dict[str, tuple[str, float] | None] = field(default_factory=dict)

    @classmethod
    def build(cls, analyzer: Analyzer, questions: Iterable[tuple[str, str]]) -> LanguageIndex:
        """`questions`: (topic id, question variant) pairs."""
        topic_ids: list[str] = []
        topic_pos: dict[str, int] = {}
        raw: list[tuple[int, list[str]]] = []
        doc_freq: dict[str, set[int]] = {}
        stems: set[str] = set()
        for topic_id, question in questions:
            pos = topic_pos.setdefault(topic_id, len(topic_ids))
            if pos == len(topic_ids):
                topic_ids.append(topic_id)
            plain = analyzer.stems(question)
            stems.update(plain)
            tokens = unique(analyzer.merge(plain))
            if not tokens:
                continue
            raw.append((pos, tokens))
            for token in tokens:
                doc_freq.setdefault(token, set()).add(pos)
        index = cls(analyzer=analyzer, topic_ids=topic_ids)
        n = max(len(topic_ids), 1)
        index.idf = {t: math.log(1 + n / len(topics)) for t, topics in doc_freq.items()}
        index.topics_of = {t: frozenset(topics) for t, topics in doc_freq.items()}
        index.unknown_weight = math.log(1 + n / 2)
        for pos, tokens in raw:
            weights = {t: index.idf[t] for t in tokens}
            number = len(index.variants)
            index.variants.append(_Variant(pos, weights, sum(weights.values())))
            index.topic_variants.setdefault(pos, []).append(number)
            for token in tokens:
                index.postings.setdefault(token, []).append(number)
        for phrase, _ in analyzer.phrases:
            stems.update(phrase)
        index.stems = frozenset(stems)
        # Sorted: typo correction keeps the first of equally near words, so the pool's order must not
        # depend on the process's string hashing (else one question gets different answers after a restart).
        for token in sorted(index.stems):
            if not token.startswith("~") and not is_han(token) and len(token) >= 3:
                index._by_length.setdefault(len(token), []).append(token)
        return index

    def correct(self, token: str) -> tuple[str, float] | None:
        """The vocabulary stem a typo most likely meant, with a similarity in 0..1."""
        if token in self._corrections:
            return self._corrections[token]
        found: tuple[str, float] | None = None
        if len(token) >= 4 and not is_han(token) and not token.isdigit() and not token.startswith("~"):
            max_edits = 1 if len(token) < 7 else 2
            pool = [w for n in range(len(token) - max_edits, len(token) + max_edits + 1)
                    for w in self._by_length.get(n, ())]
            best = process.extractOne(token, pool, scorer=OSA.distance, score_cutoff=max_edits)
            if best is not None:
                edits = best[1]
                found = (best[0], 0.7 if edits > 1 else 0.85 if len(token) >= 6 else 0.75)
        if len(self._corrections) < 20_000:
            self._corrections[token] = found
        return found

    def query(self, text: str, fuzzy: bool, known_elsewhere: frozenset[str] = frozenset()
              ) -> tuple[dict[str, float], float]:
        """The message as vocabulary tokens with their similarity, and its total weight."""
        similarity: dict[str, float] = {}
        unknown = 0.0
        corrected: list[str] = []
        attempts = MAX_CORRECTIONS
        for stem in self.analyzer.stems(text):
            if stem in self.stems or stem.startswith("~"):
                corrected.append(stem)
                continue
            fix = None
            if fuzzy and attempts and stem not in known_elsewhere:
                attempts -= 1
                fix = self.correct(stem)
            if fix is not None:
                corrected.append(fix[0])
                similarity[fix[0]] = fix[1]
            else:
                corrected.append(stem)
        query: dict[str, float] = {}
        total = 0.0
        for token in unique(self.analyzer.merge(corrected)):
            weight = self.idf.get(token)
            if token == OUTSIDE:
                unknown += self.unknown_weight * OUTSIDE_PENALTY
                continue
            if weight is None:
                # A word another language knows is likely a foreign term, not a change of subject.
                unknown += self.unknown_weight * (0.4 if token in known_elsewhere else 1.0)
                continue
            query[token] = similarity.get(token, 1.0)
            total += weight
        return query, total + unknown

    def score(self, text: str, fuzzy: bool, known_elsewhere: frozenset[str] = frozenset(),
              keep: int = 8) -> dict[str, float]:
        """Score the topics sharing a word with `text`: topic id -> score in 0..1.

        The `keep` best topics are exact; the others may be left out. Topics are visited by how much of
        the message their words explain together (coverage), which bounds any of their variants' scores
        from above, so the visit stops as soon as no remaining topic can enter the best `keep`.
        """
        query, query_total = self.query(text, fuzzy, known_elsewhere)
        if not query:
            return {}
        coverage: dict[int, float] = {}
        for token, similarity in query.items():
            gain = self.idf[token] * similarity
            for topic in self.topics_of.get(token, ()):
                coverage[topic] = coverage.get(topic, 0.0) + gain
        b2 = self.beta * self.beta
        blend = self.blend
        query_get = query.get
        query_size = len(query)
        best: dict[str, float] = {}
        top: list[float] = []  # the best `keep` scores so far, highest first
        for topic, covered in sorted(coverage.items(), key=lambda item: -item[1]):
            explained = covered / query_total
            bound = (1 - blend) * (1 + b2) * explained / (b2 * explained + 1) + blend * explained
            if len(top) >= keep and bound <= top[-1]:
                break
            topic_best = 0.0
            for number in self.topic_variants[topic]:
                variant = self.variants[number]
                weights = variant.weights
                hit = 0.0
                if len(weights) <= query_size:
                    for token, weight in weights.items():
                        similarity = query_get(token)
                        if similarity is not None:
                            hit += weight * similarity
                else:
                    weights_get = weights.get
                    for token, similarity in query.items():
                        weight = weights_get(token)
                        if weight is not None:
                            hit += weight * similarity
                if hit:
                    precision = hit / query_total
                    recall = hit / variant.total
                    f_score = (1 + b2) * precision * recall / (b2 * precision + recall)
                    if f_score > topic_best:
                        topic_best = f_score
            value = (1 - blend) * topic_best + blend * explained
            best[self.topic_ids[topic]] = value
            top.append(value)
            top.sort(reverse=True)
            del top[keep:]
        return best


class FaqIndex:
    """Matches a message against the FAQ in every language; built once per FAQ version."""

    def __init__(self, faq: Faq, thresholds: Thresholds | None = None) -> None:
        self.faq = faq
        self.thresholds = thresholds or Thresholds()
        self.languages: dict[str, LanguageIndex] = {}
        self._small_talk = {t.id for t in faq.topics.values() if t.category is None}
        for code, profile in faq.languages.items():
            analyzer = Analyzer(code, profile.stopwords, profile.synonyms, profile.outside)
            pairs = [(entry.id, question) for entry in faq.entries_in(code) for question in entry.questions]
            self.languages[code] = LanguageIndex.build(analyzer, pairs)
        self._known = frozenset(t for index in self.languages.values() for t in index.idf)
        self._families = {topic_id: faq.family(topic_id) for topic_id in faq.topics}

    def vocabulary(self, lang: str) -> list[str]:
        return [q for entry in self.faq.entries_in(lang) for q in entry.questions]

    def match(self, text: str, languages: Iterable[str], fuzzy_languages: Iterable[str] = ()) -> Match:
        """Match `text` in `languages` (most likely first); typos are corrected in `fuzzy_languages`."""
        text = text[:MAX_QUERY_CHARS]
        fuzzy = set(fuzzy_languages)
        segments = [text]
        parts = sentences(text)
        if len(parts) > 2:  # a long message: its sentences, the question usually last, carry the meaning
            segments = parts[-MAX_SEGMENTS:]
        elif len(parts) == 2:
            segments.extend(parts)
        scores: dict[str, float] = {}
        source: dict[str, str] = {}
        for lang in self._promising(text, languages, fuzzy):
            index = self.languages[lang]
            for segment in segments:
                for topic, value in index.score(segment, lang in fuzzy, self._known).items():
                    if segment is not text and topic in self._small_talk:
                        continue  # "Hi" before a question is politeness, not the subject
                    if value > scores.get(topic, 0.0):
                        scores[topic] = value
                        source[topic] = lang
        return self.decide(scores, source)

    def _promising(self, text: str, languages: Iterable[str], keep: set[str]) -> list[str]:
        """The candidate languages worth matching in: those knowing at least half as many of the
        message's words as the best one (at most MAX_LANGUAGES), plus the ones in `keep`."""
        counted: list[tuple[int, str]] = []
        for lang in languages:
            index = self.languages.get(lang)
            if index is not None:
                known = sum(1 for stem in index.analyzer.stems(text) if stem in index.stems)
                counted.append((known, lang))
        if not counted:
            return []
        most = max(known for known, _ in counted)
        ranked = sorted(counted, key=lambda item: -item[0])
        chosen = [lang for known, lang in ranked if known and known * 2 >= most][:MAX_LANGUAGES]
        return chosen + [lang for _, lang in counted if lang in keep and lang not in chosen]

    def decide(self, scores: Mapping[str, float], source: Mapping[str, str]) -> Match:
        t = self.thresholds
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        if not ranked:
            return Match(MatchKind.FALLBACK, None, 0.0)
        best_id, best = ranked[0]
        if best_id in self._small_talk:
            # "Hello! How do I join?" is a question about joining, not a greeting.
            for topic, value in ranked[1:]:
                if topic not in self._small_talk and value >= (t.answer + t.sure) / 2:
                    best_id, best = topic, value
                    break
        family = self._families.get(best_id, {best_id})
        if best_id not in self._small_talk:  # a greeting set aside above is no rival to the question
            family = family | self._small_talk
        rival = next((value for topic, value in ranked if topic not in family), 0.0)
        score = round(best * 100, 1)
        if best >= t.sure or (best >= t.answer and best - rival >= t.margin):
            return Match(MatchKind.ANSWER, best_id, score, (), source.get(best_id))
        # "Did you mean: hello?" helps nobody: small talk is answered or left out of suggestions.
        picked = [topic for topic, value in ranked if value >= t.suggest and topic not in self._small_talk]
        if picked:
            return Match(MatchKind.SUGGEST, picked[0], score, tuple(picked[: t.max_suggestions]),
                         source.get(picked[0]))
        return Match(MatchKind.FALLBACK, None, score, (), None)
