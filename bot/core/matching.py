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

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.faq import Faq
from bot.core.text import OUTSIDE, Analyzer, is_han, sentences, unique

MAX_QUERY_CHARS = 1_000
MAX_SEGMENTS = 6
HAN_UNKNOWN = 0.35  # weight of an unknown Chinese bigram, relative to an unknown word
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
    lead_answer: float = 0.56  # or at least this, and far ahead of any unrelated topic
    lead_margin: float = 0.20
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
    # The same, as arrays for numpy: variants sorted by topic, each token's variants and topics.
    variant_topic: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    variant_total: np.ndarray = field(default_factory=lambda: np.zeros(0))
    topic_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    topic_of_start: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    token_variants: dict[str, np.ndarray] = field(default_factory=dict)
    token_topics: dict[str, np.ndarray] = field(default_factory=dict)
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
        raw.sort(key=lambda item: item[0])  # variants grouped by topic, for numpy's reduceat
        postings: dict[str, list[int]] = {}
        for pos, tokens in raw:
            weights = {t: index.idf[t] for t in tokens}
            number = len(index.variants)
            index.variants.append(_Variant(pos, weights, sum(weights.values())))
            for token in tokens:
                postings.setdefault(token, []).append(number)
        index.postings = postings
        index.variant_topic = np.array([v.topic for v in index.variants], dtype=np.int32)
        index.variant_total = np.array([v.total for v in index.variants], dtype=np.float64)
        if len(index.variants):
            starts = np.flatnonzero(np.r_[True, index.variant_topic[1:] != index.variant_topic[:-1]])
            index.topic_starts = starts
            index.topic_of_start = index.variant_topic[starts]
        index.token_variants = {t: np.array(numbers, dtype=np.int32) for t, numbers in postings.items()}
        index.token_topics = {t: np.array(sorted(topics), dtype=np.int32) for t, topics in doc_freq.items()}
        for phrase, _ in analyzer.phrases:
            stems.update(phrase)
        index.stems = frozenset(stems)
        # Sorted: typo correction keeps the first of equally near words, so the pool's order must not
        # depend on the process's string hashing (else one question gets different answers after a restart).
        for token in sorted(index.stems):
            if not token.startswith("~") and not is_han(token) and len(token) >= 3:
                index._by_length.setdefault(len(token), []).append(token)
        return index

    def _arabic_clitic(self, stem: str) -> str:
        """The stemmer keeps a one-letter proclitic (لـ, بـ, كـ, فـ, وـ: "for my city" = لمدينتي): try without."""
        for candidate in (stem[1:] if len(stem) >= 4 and stem[0] in "لبكفو" else "", stem):
            if candidate:
                again = self.analyzer.stem(candidate)
                if again in self.stems:
                    return again
        return stem

    def _decompound(self, stem: str) -> list[str]:
        """A German compound the FAQ never wrote ("Themencluster") as two words it did ("Themen", "Cluster")."""
        if len(stem) < 8:
            return []
        for cut in range(len(stem) - 4, 3, -1):  # longest known tail first
            head, tail = stem[:cut], self.analyzer.stem(stem[cut:])
            if tail not in self.stems:
                continue
            for left in (head, head[:-1] if head.endswith("s") else ""):  # the linking -s- of Mitglied-s-beitrag
                if left and (known := self.analyzer.stem(left)) in self.stems:
                    return [known, tail]
        return []

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
            if stem not in self.stems and self.analyzer.language == "ar":
                stem = self._arabic_clitic(stem)
            if stem not in self.stems and self.analyzer.language == "de" and (parts := self._decompound(stem)):
                corrected.extend(parts)
                continue
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
                # A word another language knows is likely a foreign term, not a change of subject; a Chinese
                # bigram nobody wrote is mostly the seam between two words ("能加" in "才能加入").
                unknown += self.unknown_weight * (0.4 if token in known_elsewhere else
                                                  HAN_UNKNOWN if is_han(token) else 1.0)
                continue
            query[token] = similarity.get(token, 1.0)
            total += weight
        return query, total + unknown

    def score(self, text: str, fuzzy: bool, known_elsewhere: frozenset[str] = frozenset(),
              keep: int = 8) -> dict[str, float]:
        """The `keep` best topics sharing a word with `text`: topic id -> score in 0..1.

        Vectorised: each query word adds its weight to the variants and topics containing it (numpy
        bincount), so the cost grows with the postings of the message's words, in C rather than Python.
        """
        query, query_total = self.query(text, fuzzy, known_elsewhere)
        if not query:
            return {}
        tokens = list(query)
        gains = [self.idf[t] * query[t] for t in tokens]
        variant_lists = [self.token_variants[t] for t in tokens]
        topic_lists = [self.token_topics[t] for t in tokens]
        hit = np.bincount(np.concatenate(variant_lists),
                          weights=np.repeat(gains, [len(a) for a in variant_lists]),
                          minlength=len(self.variants))
        coverage = np.bincount(np.concatenate(topic_lists),
                               weights=np.repeat(gains, [len(a) for a in topic_lists]),
                               minlength=len(self.topic_ids))
        b2 = self.beta * self.beta
        precision = hit / query_total
        recall = hit / self.variant_total
        with np.errstate(invalid="ignore", divide="ignore"):
            f_score = np.where(hit > 0, (1 + b2) * precision * recall / (b2 * precision + recall), 0.0)
        topic_best = np.maximum.reduceat(f_score, self.topic_starts)
        explained = coverage[self.topic_of_start] / query_total
        values = (1 - self.blend) * topic_best + self.blend * explained
        values[explained <= 0] = 0.0
        count = min(keep, int(np.count_nonzero(values)))
        if count == 0:
            return {}
        best = np.argpartition(-values, count - 1)[:count]
        return {self.topic_ids[self.topic_of_start[i]]: float(values[i]) for i in best}


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
        self._families: dict[str, set[str]] = {}  # filled on demand: a big FAQ needs few of them

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
        family = self._families.get(best_id)
        if family is None:
            family = self._families[best_id] = self.faq.family(best_id)
        if best_id not in self._small_talk:  # a greeting set aside above is no rival to the question
            family = family | self._small_talk
        rival = next((value for topic, value in ranked if topic not in family), 0.0)
        score = round(best * 100, 1)
        lead = best - rival
        if best >= t.sure or (best >= t.answer and lead >= t.margin) or (best >= t.lead_answer
                                                                          and lead >= t.lead_margin):
            return Match(MatchKind.ANSWER, best_id, score, (), source.get(best_id))
        # "Did you mean: hello?" helps nobody: small talk is answered or left out of suggestions.
        picked = [topic for topic, value in ranked if value >= t.suggest and topic not in self._small_talk]
        if picked:
            return Match(MatchKind.SUGGEST, picked[0], score, tuple(picked[: t.max_suggestions]),
                         source.get(picked[0]))
        return Match(MatchKind.FALLBACK, None, score, (), None)
