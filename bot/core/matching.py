"""Fuzzy matching of a message against every question variant of every FAQ entry.

Each language has an index built once at load: question variants as sets of weighted tokens (weight =
inverse topic frequency), an inverted index from token to variants, the vocabulary bucketed by length for
typo correction, and how typical each token is of each topic (Naive Bayes). A message is read in its
likeliest languages:

- typos are corrected to the nearest word the FAQ uses (OSA distance, 1 edit for short words, 2 for long
  ones, never the first letter); a Chinese character typed for a homophone is replaced when the character
  that fits both neighbours makes a run the variants often write;
- a word this language does not know but another does ("Gibt es eine membership fee?") is read in that
  language, and the two readings are weighed by the share of the message each one reads;
- a long message is read whole, and once per sentence that asks, the other sentences counting as
  context (they can tip the balance between close topics, never dilute the question).

Each touched variant gets a precision/recall score (how much of the message it explains, how much of it
the message covers); a topic takes its best variant's score, a little of its second best's, and the share of
the message its words explain. That score is then blended with a second opinion built differently
(ngrams.py: how alike the message's character n-grams are to the topic's variants), which reads typos,
dialect spellings and inflections the words miss, so that where the two agree a topic rises and where
they do not it falls. The best topic is answered when it is both high and clearly ahead of any unrelated
topic, or high, explaining nearly all of the message and also the likeliest by Naive Bayes.

Cost per query: analysis is linear in the message length; scoring is linear in the postings of the query's
tokens plus a few vector operations over the variants of the languages read (numpy), so it grows slowly
with the FAQ's size. Typo correction looks only at vocabulary words of similar length. The n-gram opinion
is linear in the postings of the message's n-grams (the topics using each) plus one pass over the topics.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.faq import Faq
from bot.core.hanwords import HanWords
from bot.core.language import script_languages, word_script
from bot.core.ngrams import NgramCentroids
from bot.core.pinyin import Sounds
from bot.core.text import (
    OUTSIDE,
    Analyzer,
    clauses,
    fold,
    han_bigrams,
    han_mask,
    has_han,
    is_han,
    is_question,
    unique,
    words,
)

MAX_QUERY_CHARS = 1_000
# "How do I use this bot?": in a message of several sentences, a sentence asking for help ("Can you help
# me?") closes a request whose subject is in the others, like a greeting opens one.
ABOUT_THE_BOT = "bot-help"
# Typo corrections remembered per language, emptied when full: a serving process meets new words (names,
# typos) for as long as it runs, and its memory must stay bounded (40,000 messages of fresh typos grew an
# unbounded cache by tens of megabytes).
CORRECTION_CACHE = 2_000
MAX_SEGMENTS = 6
HAN_UNKNOWN = 0.35  # weight of an unknown Chinese bigram, relative to an unknown word
OUTSIDE_PENALTY = 3.0  # a phrase naming another subject weighs like three unknown words
MAX_LANGUAGES = 3  # languages matched in when the message's language is unclear
MAX_CORRECTIONS = 8  # typo corrections tried per message: a long message of unknown names stays cheap
SECOND_SHARE = 0.4  # share of a topic's second-best variant in its score: two fitting variants beat one lucky one
NB_ALPHA = 1.0  # Naive Bayes smoothing (see LanguageIndex.values)
HAN_TYPO_EVIDENCE = 5  # how many variants must write a three-character run for a typo to be read as it
HAN_SOUND_EVIDENCE = 3  # or a pair of characters sounding like the typed pair (a synonym counts as this many)
# Weight of a sentence around the question (who asks, why) relative to the question. More lets context settle
# a vague question ("…become a member of the network. How does that work?" asks about joining, not about the
# bot); less keeps context about the asker ("I'm writing a thesis on lifelong learning.") from taking a question
# over: the calibration's variants asked inside such sentences were answered wrong 2.2 % of the time at 0.2,
# 2.6 % at 0.3, 4.3 % at 0.5, and long messages written by people read better at 0.3 than at 0.2.
CONTEXT_WEIGHT = 0.3


Parts = Sequence[tuple[str, float, float]]  # (sentence, weight of its words, their weight in the total)
# A sentence read in one language: its (token, similarity) pairs, its words left to other languages, and the
# typo corrections still allowed after it; `Memo` keeps them while one message is matched.
Reading = tuple[list[tuple[str, float]], dict[str, list[str]], int]
Memo = dict[tuple[str, str, bool, bool, int], Reading]


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
    # Calibrated by cross-validation on the FAQ's own variants (each fifth matched against the rest, also
    # with typos: confident wrong answers about 2 %) and on out-of-scope questions written apart from the
    # FAQ and from eval/; `lcbot eval` checks the result. A confident wrong answer is the failure to avoid.
    # With the n-gram opinion blended in (`opinion_share`), the score thresholds are 0.06 lower than the word
    # matcher's alone were: on that cross-validation (`python -m bot.core.calibration`), variants answered
    # right 62.8 -> 64.2 %, wrong 2.3 -> 1.9 %, out-of-scope questions answered 11.8 -> 11.4 % (near misses
    # written to be hard: "How many people live in Hamburg?").
    answer: float = 0.63  # at least this, and ahead of unrelated topics by `margin`
    margin: float = 0.06
    lead_answer: float = 0.50  # or at least this, and far ahead of any unrelated topic
    lead_margin: float = 0.12
    sure: float = 0.91  # this high answers even when another topic is close
    # or at least this, nearly all of the message explained by the topic's words, and the topic the likeliest
    # by how typical the message's words are of each topic (Naive Bayes) too, with at least `typical_support`
    typical_answer: float = 0.44
    typical_explained: float = 0.72
    typical_support: float = 0.20
    # and not tied with an unrelated topic: a long message's question sentence ("Wie läuft das ab?") is
    # explained by many topics, and context words alone chose between two close ones (cross-validation: wrong
    # 1.65 -> 1.56 %, inside context 2.35 -> 2.16 %, for 0.14 and 0.28 points fewer right).
    typical_lead: float = 0.02
    # or at least `likely_answer` with the topic (or a narrower one) this likely by Naive Bayes, whatever the
    # share explained: the words that set it apart from its rival weigh in ("لماذا يجب على مدينتنا أن تتحول إلى
    # مدينة متعلمة؟", why, against how to build one). At 0.90 cross-validation answered more wrong (+0.04 %).
    likely_answer: float = 0.50
    likely_support: float = 0.95
    # or, in a message of several sentences, at least `several_answer` and the topic (or a narrower one) this
    # likely by Naive Bayes: its context sentences, read as evidence word by word, leave the score low but the
    # topic sure. Below `suggest`: a long request whose words all point one way ("您好，我们市刚开始研究申请
    # 加入…申请流程是怎样的，第一步该做什么？谢谢") fell back; 0.22 began answering long out-of-scope ones.
    several_support: float = 0.90
    several_answer: float = 0.27
    suggest: float = 0.36  # below: fallback
    max_suggestions: int = 3
    # The scores above blend the word matcher's (1 - share) with the character n-gram model's cosine times
    # `opinion_scale` (capped at 1): see FaqIndex.second_opinion. A share of 0 is the word matcher alone.
    opinion_share: float = 0.3
    opinion_scale: float = 1.5


@dataclass(slots=True)
class Query:
    """A message read in one language (see LanguageIndex.query)."""

    tokens: dict[str, float]  # vocabulary token -> weight when a variant has it (sentence weight x similarity)
    total: float  # the message's weight: its known tokens' and its unknown words'
    routed: dict[str, Parts]  # words left to other languages, by language
    outside: bool = False  # it names another subject (a phrase of the FAQ's `outside` list)


@dataclass
class LanguageIndex:
    """The precomputed index of one language's question variants."""

    analyzer: Analyzer
    topic_ids: list[str]
    idf: dict[str, float] = field(default_factory=dict)
    stems: frozenset[str] = frozenset()  # every stem of the variants, before synonyms are merged
    unknown_weight: float = 1.0
    beta: float = 0.8  # < 1: explaining the whole message weighs more than covering the whole variant
    blend: float = 0.3  # share of the topic-level coverage in the score
    # The variants as arrays for numpy: sorted by topic; each token's variants and topics.
    variant_topic: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    variant_total: np.ndarray = field(default_factory=lambda: np.zeros(0))
    topic_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    topic_of_start: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    variant_slot: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # variant -> its topic's
    token_variants: dict[str, np.ndarray] = field(default_factory=dict)
    token_topics: dict[str, np.ndarray] = field(default_factory=dict)
    token_typical: dict[str, np.ndarray] = field(default_factory=dict)  # log-odds of a word in each of its topics
    topic_base: np.ndarray = field(default_factory=lambda: np.zeros(0))  # a topic's log-probability of any word
    slots: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # topic -> FaqIndex order
    _by_length: dict[int, list[str]] = field(default_factory=dict)  # the variants' words, by length
    _stems_by_length: dict[int, list[str]] = field(default_factory=dict)
    _surface: dict[str, str] = field(default_factory=dict)
    _seen_in: dict[str, int] = field(default_factory=dict)
    _han_pairs: dict[str, int] = field(default_factory=dict)  # Chinese character pairs the variants write
    # Three characters the variants write at least HAN_TYPO_EVIDENCE times, by the first and the last: the
    # likeliest middle one (the only one `han_typos` may take).
    _han_middle: dict[str, str] = field(default_factory=dict)
    # The same pairs, and those of the Chinese synonyms, written at least HAN_SOUND_EVIDENCE times, keyed by one
    # character and the other's sound (pinyin.py): the likeliest such pair, and how often it is written.
    _sounds: Sounds | None = None
    _pairs_by_sound: dict[str, tuple[str, int]] = field(default_factory=dict)
    # The first two characters of each Chinese synonym ("<模块"), and the last two ("模块>"): words of their own.
    _phrase_edges: frozenset[str] = frozenset()
    _words: HanWords | None = None  # common Chinese words: a character in one is no typo
    _corrections: dict[str, tuple[str, float] | None] = field(default_factory=dict)
    names: frozenset[str] = frozenset()  # stems of the words of the synonym groups (the FAQ's names for things)
    # A variant's words (a checksum of its sorted tokens) -> its topic's position; -1 when two topics write
    # the same words. A message saying exactly what a variant says gets that variant's topic (`verbatim`).
    _verbatim: dict[int, int] = field(default_factory=dict)

    @classmethod
    def build(cls, analyzer: Analyzer, questions: Iterable[tuple[str, str]], folded: bool = False
              ) -> LanguageIndex:
        """`questions`: (topic id, question variant) pairs; `folded`: the variants as `fold` returns them."""
        questions = [(topic, question if folded else fold(question)) for topic, question in questions]
        analyzer.learn((question for _, question in questions), folded=True)
        topic_ids: list[str] = []
        topic_pos: dict[str, int] = {}
        raw: list[tuple[int, list[str]]] = []
        doc_freq: dict[str, set[int]] = {}
        stems: set[str] = set()
        surface: dict[str, str] = {}  # each folded word the variants use -> its stem, for typo correction
        seen_in: dict[str, int] = {}  # how many variants use each word: a typo more likely meant a common one
        han_pairs: dict[str, int] = {}  # each pair of Chinese characters the variants write, and how often
        han_runs: list[str] = []
        verbatim: dict[int, int] = {}
        for topic_id, question in questions:
            for run in words(question) if has_han(question) else ():
                if is_han(run) and len(run) > 1:
                    han_runs.append(run)
                    for pair in han_bigrams(run):
                        han_pairs[pair] = han_pairs.get(pair, 0) + 1
            pos = topic_pos.setdefault(topic_id, len(topic_ids))
            if pos == len(topic_ids):
                topic_ids.append(topic_id)
            pairs = analyzer.pairs(question, folded=True)
            plain = [stem for _, stem in pairs]
            stems.update(plain)
            for word, stem in dict(pairs).items():
                surface.setdefault(word, stem)
                seen_in[word] = seen_in.get(word, 0) + 1
            tokens = unique(analyzer.merge(plain))
            if not tokens:
                continue
            raw.append((pos, tokens))
            key = _words_key(tokens)
            verbatim[key] = pos if verbatim.get(key, pos) == pos else -1
            for token in tokens:
                doc_freq.setdefault(token, set()).add(pos)
        index = cls(analyzer=analyzer, topic_ids=topic_ids, _verbatim=verbatim)
        n = max(len(topic_ids), 1)
        index.idf = {t: math.log(1 + n / len(topics)) for t, topics in doc_freq.items()}
        index.unknown_weight = math.log(1 + n / 2)
        raw.sort(key=lambda item: item[0])  # variants grouped by topic, for numpy's reduceat
        # Only arrays are kept of the variants (a per-variant dict of weights took megabytes of the serving
        # process for nothing a query reads).
        postings: dict[str, list[int]] = {}
        for number, (_, tokens) in enumerate(raw):
            for token in tokens:
                postings.setdefault(token, []).append(number)
        index.variant_topic = np.array([pos for pos, _ in raw], dtype=np.int32)
        index.variant_total = np.array([sum(index.idf[t] for t in tokens) for _, tokens in raw],
                                       dtype=np.float64)
        if raw:
            starts = np.flatnonzero(np.r_[True, index.variant_topic[1:] != index.variant_topic[:-1]])
            index.topic_starts = starts
            index.topic_of_start = index.variant_topic[starts]
            index.variant_slot = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(raw)]))
        index.token_variants = {t: np.array(numbers, dtype=np.int32) for t, numbers in postings.items()}
        index.token_topics = {t: np.array(sorted(topics), dtype=np.int32) for t, topics in doc_freq.items()}
        # Naive Bayes: how typical each word is of each topic (the share of its variants using it).
        variants_of = np.bincount(index.variant_topic, minlength=len(topic_ids)).astype(np.float64)
        uses: dict[tuple[str, int], int] = {}
        for pos, tokens in raw:
            for token in tokens:
                uses[token, pos] = uses.get((token, pos), 0) + 1
        index.token_typical = {t: np.log1p(np.array([uses[t, pos] for pos in index.token_topics[t]]) / NB_ALPHA)
                               for t in index.token_topics}
        index.topic_base = np.log(NB_ALPHA / (variants_of + 2 * NB_ALPHA))
        for phrase, _ in analyzer.phrases:
            stems.update(phrase)
        for word, stem in analyzer.phrase_words():
            surface.setdefault(word, stem)
        index.stems = frozenset(stems)
        index.names = frozenset(stem for word, stem in analyzer.phrase_words(outside=False) if len(word) > 2)
        index._surface = surface
        index._seen_in = seen_in
        # Sorted: typo correction keeps the first of equally near words, so the pool's order must not
        # depend on the process's string hashing (else one question gets different answers after a restart).
        for word in sorted(surface):
            if not word.startswith("~") and not is_han(word) and not word.isdigit() and len(word) >= 3:
                index._by_length.setdefault(len(word), []).append(word)
        index._han_pairs = han_pairs
        middles: dict[str, dict[str, int]] = {}
        for run in han_runs:
            for i in range(len(run) - 2):
                a, b, c = run[i : i + 3]
                counts = middles.setdefault(a + c, {})
                counts[b] = counts.get(b, 0) + 1
        for ends, counts in middles.items():
            likeliest = min(counts, key=lambda c: (-counts[c], c))
            if counts[likeliest] >= HAN_TYPO_EVIDENCE:
                index._han_middle[ends] = likeliest
        for token in sorted(index.stems):
            if not token.startswith("~") and not is_han(token) and len(token) >= 3:
                index._stems_by_length.setdefault(len(token), []).append(token)
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

    def correct(self, word: str, stem: str | None = None) -> tuple[str, float] | None:
        """The vocabulary stem a typo most likely meant, with a similarity in 0..1.

        The word as typed is compared with the words the variants use ("joing" is one letter from
        "join", though its stem "jo" is two from "join"); then its stem with their stems. Of equally near
        words, the one with the same first letter, then the most used, is taken.
        """
        key = word if stem is None or stem == word else f"{word}\x00{stem}"
        if key in self._corrections:
            return self._corrections[key]
        found = self._nearest(word, self._by_length, self._surface.get)
        if found is None and stem is not None and stem != word:
            found = self._nearest(stem, self._stems_by_length, lambda s: s)
        if len(self._corrections) >= CORRECTION_CACHE:
            self._corrections.clear()
        self._corrections[key] = found
        return found

    def mostly_in(self, topics: frozenset[int]) -> frozenset[str]:
        """The tokens most of whose variants are of `topics` (positions in `topic_ids`)."""
        inside = np.isin(self.variant_topic, list(topics))
        return frozenset(token for token, variants in self.token_variants.items()
                         if 2 * inside[variants].sum() > len(variants))

    def learn_sounds(self, sounds: Sounds, words: HanWords | None = None, chatter: frozenset[str] = frozenset()
                     ) -> None:
        """Index the character pairs the variants and synonyms write by sound, for `han_typos`. `words`: common
        words, no typos; `chatter`: the tokens of small talk, whose synonyms ("在吗") are no words to read a
        sentence's typo as."""
        self._sounds = sounds
        self._words = words
        counts = dict(self._han_pairs)
        for phrase in self.analyzer.han_phrases:
            for pair in han_bigrams(phrase):
                if len(pair) == 2:
                    counts[pair] = max(counts.get(pair, 0), HAN_SOUND_EVIDENCE)
        by_sound: dict[str, tuple[str, int]] = {}  # "<" + first character + second's sound, and "sound + second >"
        for pair, count in sorted(counts.items()):
            first, second = sounds.of(pair[0]), sounds.of(pair[1])
            for key in (second and "<" + pair[0] + second, first and first + pair[1] + ">"):
                if key and count >= HAN_SOUND_EVIDENCE and count > by_sound.get(key, ("", 0))[1]:
                    by_sound[key] = (pair, count)
        self._pairs_by_sound = by_sound
        self._phrase_edges = frozenset(edge for phrase, token in self.analyzer.han_names
                                       if len(phrase) > 1 and token not in chatter
                                       for edge in ("<" + phrase[:2], phrase[-2:] + ">"))

    def _homophone(self, outer_before: str, before: str, char: str, after: str, outer_after: str) -> str | None:
        """The character sounding like `char` that makes a pair the FAQ writes often with a neighbour, itself
        part of a pair the FAQ writes on its other side ("发展历使": 展历 is written, and 历史): a word the FAQ
        never uses ("孩子有…": 孩子 is not written) is no evidence that the next character is a typo."""
        sounds = self._sounds
        sound = sounds.of(char) if sounds else None
        if sounds is None or sound is None:
            return None
        best: tuple[int, str] | None = None
        stop = self.analyzer.stopwords  # a pair with a small word ("的事", "在马") is no evidence of a typo
        known = self._han_pairs
        left_anchored = not outer_before or outer_before + before in known
        right_anchored = not outer_after or after + outer_after in known
        left = before and before not in stop
        right = after and after not in stop
        for key, typed, anchored in ((left and "<" + before + sound, 1, left_anchored),
                                     (right and sound + after + ">", 0, right_anchored)):
            pair, count = self._pairs_by_sound.get(key, ("", 0)) if key else ("", 0)
            # Unanchored, the pair must begin (or end) a synonym, a word on its own ("六大建设模快": 模块).
            edge = "<" + pair if typed else pair + ">"
            if (count >= HAN_SOUND_EVIDENCE and pair[typed] != char and (best is None or count > best[0])
                    and (anchored or edge in self._phrase_edges)):
                best = (count, pair[typed])
        return best[1] if best else None

    def han_typos(self, text: str) -> str:
        """A Chinese character typed for another of the same sound ("学习形城市" for "学习型城市") makes the
        character pairs around it unknown; the character that makes a three-character run the variants
        write is taken instead ("习型城"), when the variants write it often enough to be a phrase rather than
        a coincidence ("城市算是" is not "城市奖是"). Only between two characters: at the end of a phrase too
        many characters would fit ("什么奖" is no typo for "什么时"). Failing that, a character of the same
        sound that makes a pair the FAQ writes with a neighbour (`_homophone`: "发展历使" is "发展历史")."""
        folded = fold(text)
        chars = list(folded)
        han = han_mask(folded)
        changed = False
        last = len(chars) - 1
        for i, char in enumerate(chars):
            if not han[i]:
                continue
            before = chars[i - 1] if i > 0 and han[i - 1] else ""
            after = chars[i + 1] if i < last and han[i + 1] else ""
            if (before and before + char in self._han_pairs) or (after and char + after in self._han_pairs):
                continue
            if char in self.analyzer.stopwords:
                continue
            likeliest = self._han_middle.get(before + after) if before and after else None
            if likeliest is None:
                likeliest = self._homophone(chars[i - 2] if i > 1 and han[i - 2] and before else "", before, char,
                                            after, chars[i + 2] if i < last - 1 and han[i + 2] and after else "")
            # Last, as the dearest check (a search of the word table for each word around the character).
            if likeliest is not None and (self._words is None or not self._words.covers(folded, i)):
                chars[i] = likeliest
                changed = True
        return "".join(chars) if changed else text

    def _nearest(self, token: str, by_length: dict[int, list[str]], stem_of: Callable[[str], str | None]
                 ) -> tuple[str, float] | None:
        if len(token) < 4 or is_han(token) or token.isdigit() or token.startswith("~"):
            return None
        max_edits = 1 if len(token) < 8 else 2
        pool = [w for n in range(len(token) - max_edits, len(token) + max_edits + 1) for w in by_length.get(n, ())]
        near = process.extract(token, pool, scorer=OSA.distance, score_cutoff=max_edits, limit=None)
        if not near:
            return None
        # A typo seldom touches a word's first letter (but for a silent h: "amburgo"); without this,
        # real words the FAQ does not use become words it does ("Eintritt", entrance, is not "Beitritt").
        near = [hit for hit in near if hit[0][0] == token[0] or (hit[0][0] == "h" and hit[0][1:2] == token[0])]
        if not near:
            return None
        best, edits, _ = min(near, key=lambda hit: (hit[1], -self._seen_in.get(hit[0], 0), hit[0]))
        target = stem_of(best)
        if target is None:
            return None
        return target, 0.7 if edits > 1 else 0.85 if len(token) >= 6 else 0.75

    def query(self, parts: Parts, fuzzy: bool, known_elsewhere: frozenset[str] = frozenset(),
              foreign: Callable[[str], str | None] | None = None, memo: Memo | None = None) -> Query:
        """The message as vocabulary tokens with their weight factor (typo similarity times the weight
        of the sentence they are in), its total weight, and the words left to other languages.

        `parts`: the message's sentences, each with the weight of its words when a variant shares them and
        their weight in the message's total: (1, 1) for the question; (small, 0) for context around it,
        which can tip the balance between topics the question hesitates between but never dilutes it.
        `foreign`: the language that knows a word this one does not ("membership" in a German question).
        `memo`: sentences already read while matching this message (each view of a long message reads every
        sentence again, with other weights).
        """
        found: dict[str, tuple[float, float, float]] = {}  # token -> (weight, weight in total, similarity)
        routed: dict[str, Parts] = {}
        attempts = MAX_CORRECTIONS
        for text, weight, in_total in parts:
            key = (self.analyzer.language, text, fuzzy, foreign is not None, attempts)
            reading = memo.get(key) if memo is not None else None
            if reading is None:
                reading = self._read(text, fuzzy, known_elsewhere, foreign, attempts)
                if memo is not None:
                    memo[key] = reading
            tokens, elsewhere, attempts = reading
            for other, foreign_words in elsewhere.items():
                routed.setdefault(other, []).append((" ".join(foreign_words), weight, in_total))
            for token, sim in tokens:
                before = found.get(token)
                if before is None or (in_total, weight * sim) > (before[1], before[0] * before[2]):
                    found[token] = (weight, in_total, sim)
        query: dict[str, float] = {}
        total = 0.0
        outside = False
        for token, (weight, in_total, sim) in found.items():
            idf = self.idf.get(token)
            if token == OUTSIDE:
                total += self.unknown_weight * OUTSIDE_PENALTY * max(in_total, weight)
                outside = True
                continue
            if idf is None:
                # A word another language knows is likely a foreign term, not a change of subject; a Chinese
                # bigram nobody wrote is mostly the seam between two words ("能加" in "才能加入").
                total += in_total * self.unknown_weight * (0.4 if token in known_elsewhere else
                                                           HAN_UNKNOWN if is_han(token) else 1.0)
                continue
            query[token] = weight * sim
            total += in_total * idf
        return Query(query, total, routed, outside)

    def _read(self, text: str, fuzzy: bool, known_elsewhere: frozenset[str],
              foreign: Callable[[str], str | None] | None, attempts: int) -> Reading:
        """One sentence as (token, similarity) pairs, its words left to other languages, and the typo
        corrections still allowed after it (see `query`)."""
        corrected: list[str] = []
        sure: list[float] = []  # 1, or the similarity of a typo correction
        elsewhere: dict[str, list[str]] = {}
        if fuzzy and self._han_pairs:
            text = self.han_typos(text)
        pairs = self.analyzer.pairs(text)
        if self.analyzer.language == "ar":
            pairs = [(word, stem if stem in self.stems else self._arabic_clitic(stem)) for word, stem in pairs]
        phrased = self.analyzer.in_phrases([stem for _, stem in pairs]) if foreign is not None else set()
        for position, (word, stem) in enumerate(pairs):
            if stem not in self.stems and self.analyzer.language == "de" and (halves := self._decompound(stem)):
                corrected.extend(halves)
                sure.extend([1.0] * len(halves))
                continue
            # A word this language knows only inside a synonym phrase ("network" of "global network of
            # learning cities" in French) is better read by a language that uses it on its own.
            if (stem not in self.idf and not stem.startswith("~") and not self.analyzer.is_synonym(stem)
                    and position not in phrased and foreign is not None and (other := foreign(word)) is not None):
                elsewhere.setdefault(other, []).append(word)
                continue
            if stem in self.stems or stem.startswith("~"):
                corrected.append(stem)
                sure.append(1.0)
                continue
            fix = None
            if fuzzy and attempts and word not in known_elsewhere:
                attempts -= 1
                fix = self.correct(word, stem)
            corrected.append(fix[0] if fix else stem)
            sure.append(fix[1] if fix else 1.0)
        return list(self.analyzer.merge_with(corrected, sure)), elsewhere, attempts

    def verbatim(self, text: str) -> str | None:
        """The topic of the variant whose words the message says exactly (its stop words, punctuation and
        accents aside), if one topic's variants do."""
        tokens = self.analyzer.tokens(text)
        pos = self._verbatim.get(_words_key(tokens), -1) if tokens else -1
        return self.topic_ids[pos] if pos >= 0 else None

    def values(self, query: Query) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each topic's score in 0..1 for a query, in the order of `topic_of_start`; the share of the query
        its variants' words explain; and the topic's Naive Bayes log-likelihood of the query's words.

        Vectorised: each query word adds its weight to the variants and topics containing it (numpy
        bincount), so the cost grows with the postings of the message's words, in C rather than Python.
        """
        tokens = list(query.tokens)
        query_total = query.total
        weights = np.fromiter(query.tokens.values(), dtype=np.float64, count=len(tokens))
        gains = weights * np.fromiter((self.idf[t] for t in tokens), dtype=np.float64, count=len(tokens))
        variant_lists = [self.token_variants[t] for t in tokens]
        topic_lists = [self.token_topics[t] for t in tokens]
        topic_hits = np.concatenate(topic_lists)
        topic_lengths = [len(a) for a in topic_lists]
        coverage = np.bincount(topic_hits, weights=np.repeat(gains, topic_lengths), minlength=len(self.topic_ids))
        hit = np.bincount(np.concatenate(variant_lists), weights=np.repeat(gains, [len(a) for a in variant_lists]),
                          minlength=len(self.variant_topic))
        # F-beta of precision min(hit, total) / total (context words add to hits, not to the total) and recall
        # hit / variant total, which simplifies to (1 + b2) hit / (b2 variant total + max(hit, total)).
        b2 = self.beta * self.beta
        f_score = (1 + b2) * hit / (b2 * self.variant_total + np.maximum(hit, query_total))
        topic_best = np.maximum.reduceat(f_score, self.topic_starts)
        if SECOND_SHARE:  # a topic whose second variant also fits is likelier than one lucky variant's
            others = np.where(f_score >= topic_best[self.variant_slot], 0.0, f_score)
            second = np.maximum.reduceat(others, self.topic_starts)
            topic_best = (1 - SECOND_SHARE) * topic_best + SECOND_SHARE * second
        explained = np.minimum(coverage[self.topic_of_start] / query_total, 1.0)
        values = (1 - self.blend) * topic_best + self.blend * explained
        values[explained <= 0] = 0.0
        typical = np.bincount(topic_hits, weights=np.concatenate([self.token_typical[t] for t in tokens])
                              * np.repeat(weights, topic_lengths), minlength=len(self.topic_ids))
        likelihood = typical + weights.sum() * self.topic_base
        return values, explained, likelihood[self.topic_of_start]

    def score(self, parts: Parts | str, fuzzy: bool, known_elsewhere: frozenset[str] = frozenset(),
              keep: int = 8) -> dict[str, float]:
        """The `keep` best topics sharing a word with the message: topic id -> score in 0..1."""
        if isinstance(parts, str):
            parts = [(parts, 1.0, 1.0)]
        query = self.query(parts, fuzzy, known_elsewhere)
        if not query.tokens or query.total <= 0:
            return {}
        values, _, _ = self.values(query)
        return {topic: value for topic, (value, _) in
                top_topics(values, values, [self.topic_ids[i] for i in self.topic_of_start], keep).items()}


def _words_key(tokens: Iterable[str]) -> int:
    """A checksum of a set of tokens, the same in every process (the index is pickled; `hash` is not)."""
    return zlib.crc32("\x00".join(sorted(set(tokens))).encode())


def top_topics(values: np.ndarray, explained: np.ndarray, ids: Sequence[str], keep: int
               ) -> dict[str, tuple[float, float]]:
    """The `keep` best topics: id -> (score, share of the message explained)."""
    count = min(keep, int(np.count_nonzero(values)))
    if count == 0:
        return {}
    best = np.argpartition(-values, count - 1)[:count]
    return {ids[i]: (float(values[i]), float(explained[i])) for i in best}


class FaqIndex:
    """Matches a message against the FAQ in every language; built once per FAQ version."""

    def __init__(self, faq: Faq, thresholds: Thresholds | None = None) -> None:
        self.faq = faq
        self.thresholds = thresholds or Thresholds()
        self.languages: dict[str, LanguageIndex] = {}
        self._small_talk = {t.id for t in faq.topics.values() if t.category is None}
        # Topics in one order for every language, so that scores from two languages add up.
        self._topic_ids = list(dict.fromkeys([*faq.topics, *(entry.id for code in faq.languages
                                                              for entry in faq.entries_in(code))]))
        position = {topic: n for n, topic in enumerate(self._topic_ids)}
        self._slot = position
        # The n-gram model first: the build's transient arrays, once freed, leave room that the word index
        # then fills, rather than adding to the process's peak memory after it.
        folded = {code: [(entry.id, fold(question)) for entry in faq.entries_in(code) for question in entry.questions]
                  for code in faq.languages}  # once: folding is the largest part of building the index
        self.ngrams = NgramCentroids(((position[topic], code, question) for code, rows in folded.items()
                                      for topic, question in rows), len(self._topic_ids))
        source = faq.languages.get(faq.source_language)
        source_names = frozenset(fold(member) for group in source.synonyms for member in group) if source else None
        for code, profile in faq.languages.items():
            borrowed = source_names if source_names and code != faq.source_language else frozenset()
            analyzer = Analyzer(code, profile.stopwords, profile.synonyms, profile.outside, borrowed)
            self.languages[code] = LanguageIndex.build(analyzer, folded[code], folded=True)
        # The words each language's variants write, for language detection (language.py).
        self.words_written = {code: frozenset(word for _, question in rows for word in words(question))
                              for code, rows in folded.items()}
        # Every language's tokens and words: a word another language knows is a foreign word, not a typo.
        self._known = frozenset(t for index in self.languages.values() for t in (*index.idf, *index._surface))
        self._small_talk_slots = {
            code: frozenset(n for n, topic in enumerate(index.topic_ids) if topic in self._small_talk)
            for code, index in self.languages.items()}
        sounds = Sounds() if any(index._han_pairs for index in self.languages.values()) else None
        han_words = HanWords() if sounds is not None else None
        for code, index in self.languages.items():
            if sounds is not None and index._han_pairs:
                index.learn_sounds(sounds, han_words, index.mostly_in(self._small_talk_slots[code]))
            index.slots = np.array([position[index.topic_ids[i]] for i in index.topic_of_start], dtype=np.int64)
        for index in self.languages.values():  # the FAQ's own words, stemmed at build: not what people write
            index.analyzer.forget_stems()
        self._families: dict[str, set[str]] = {}  # filled on demand: a big FAQ needs few of them
        self._narrower: dict[str, np.ndarray] = {}

    def match(self, text: str, languages: Iterable[str], fuzzy_languages: Iterable[str] = ()) -> Match:
        """Match `text` in `languages` (most likely first); typos are corrected in `fuzzy_languages`."""
        text = text[:MAX_QUERY_CHARS]
        fuzzy = set(fuzzy_languages)
        whole: Parts = [(text, 1.0, 1.0)]
        pieces = clauses(text)[-MAX_SEGMENTS:]
        scores: dict[str, float] = {}
        source: dict[str, str] = {}
        explained: dict[str, float] = {}
        posterior: dict[str, np.ndarray] = {}
        candidates = [lang for lang in languages if lang in self.languages]
        outside = False
        memo: Memo = {}
        for lang in self._promising(text, candidates, fuzzy):
            foreign = self._foreign(lang, candidates)
            views = [whole, *self._focus(lang, pieces)]
            readings = [self._score(lang, view, lang in fuzzy, foreign, memo) for view in views]
            outside = outside or any(elsewhere for _, _, elsewhere in readings)
            found = readings[0][0]
            subject = max(found, key=lambda t: found[t][0]) if found else None
            chatting = subject in self._small_talk and self._chatting(
                subject, found, [self._score(lang, [(part, 1.0, 1.0) for part, _, in_total in view if in_total],
                                             lang in fuzzy, foreign, memo)[0] for view in views[1:]])
            # About the bot, unless the whole message reads as being about one of the FAQ's subjects.
            about_the_bot = subject is None or subject == ABOUT_THE_BOT or subject in self._small_talk
            for view, (found, probabilities, _) in zip(views, readings, strict=True):
                for topic, (value, share) in found.items():
                    # "Hi" before a question, "can you help?" after one: politeness, not the subject; and in
                    # small talk, "it helped a lot" is thanks, not a question about the bot's help.
                    if len(view) > 1 and ((topic in self._small_talk) is not chatting
                                          or (topic == ABOUT_THE_BOT and not about_the_bot)):
                        continue
                    if value > scores.get(topic, 0.0):
                        scores[topic] = value
                        source[topic] = lang
                        explained[topic] = share
                        if probabilities is not None:
                            posterior[topic] = probabilities
        if scores:
            blended = self.second_opinion(text, candidates, scores, outside)
            # A message saying what one of the FAQ's questions says is that question: the other reading
            # weighs in on phrasings the FAQ does not write, and must not turn a staff-written question
            # towards another topic (it did for 13 of 10,466 variants).
            first = max(scores, key=scores.__getitem__)
            if max(blended, key=blended.__getitem__) == first or not candidates \
                    or self.languages[candidates[0]].verbatim(text) != first:
                scores = blended
        return self.decide(scores, source, explained, posterior, several=sum(map(len, pieces)) > 1)

    def second_opinion(self, text: str, languages: Sequence[str], scores: Mapping[str, float],
                       outside: bool = False) -> dict[str, float]:
        """The topics' scores blended with how alike the message's character n-grams are to each topic's
        variants in `languages` (ngrams.py): a model built differently from the word matcher, so that the
        two agreeing lifts a topic the words alone leave unsure (a casual or misspelt phrasing), and a topic
        sharing only a frequent word with the message gets no lift. A message naming another subject (the
        FAQ's `outside` phrases) gets no support from it: those phrases are what the n-grams cannot see.

        The blend's share and scale were set with the answer thresholds, on the FAQ's own variants (each
        fifth matched against the rest, also with typos) and on out-of-scope questions, not on `eval/`."""
        t = self.thresholds
        if t.opinion_share <= 0:
            return dict(scores)
        if outside:
            opinion = np.zeros(len(scores))
        else:
            slots = np.fromiter((self._slot[topic] for topic in scores), dtype=np.int64, count=len(scores))
            opinion = self.ngrams.opinion(text, languages, slots)
        values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
        blended = (1 - t.opinion_share) * values + t.opinion_share * np.minimum(1.0, t.opinion_scale * opinion)
        return dict(zip(scores, blended.tolist(), strict=True))

    def _focus(self, lang: str, pieces: list[tuple[str, ...]]) -> list[Parts]:
        """Views of a message of several sentences, each on one sentence that asks (or, when none asks in
        a longer message, on each sentence), the others being context: they can tip the balance between
        close topics, never dilute the question nor take it over. An opening before a comma is a sentence
        of its own when it is politeness ("Hi, ...") and part of its sentence otherwise ("Which
        conditions are needed, so that ...")."""
        parts: list[str] = []
        for piece in pieces:
            if len(piece) == 2 and not self._polite(lang, piece[0]):
                parts.append(f"{piece[0]}, {piece[1]}")
            else:
                parts.extend(piece)
        if len(parts) < 2:
            return []
        asking = [is_question(part) for part in parts]
        focus = [i for i, ask in enumerate(asking) if ask]
        if not focus:  # a message asking nothing outright: each sentence may be the request ("I work for a
            focus = list(range(len(parts)))  # county. I would like to know when ...")
        return [[(part, 1.0, 1.0) if j == i else (part, CONTEXT_WEIGHT, 0.0) for j, part in enumerate(parts)]
                for i in focus]

    def _chatting(self, subject: str, whole: Mapping[str, tuple[float, float]],
                  sentences: Sequence[Mapping[str, tuple[float, float]]]) -> bool:
        """Whether a message of several sentences is small talk as a whole ("Thanks a lot! ... Have a nice
        day!"; "Excellent, it helped a lot"), not a request that a greeting opens ("Good afternoon. I'm a
        journalist ... I'd like to understand ..."; "Hi, how are you? ... What is that award?"): read whole, it
        is small talk, and so are most of its sentences (each read alone: the greeting around a question is
        no reason to read the question as one), or half of them when small talk leads clearly."""
        bests = [max(found, key=lambda t: found[t][0]) for found in sentences if found]
        small = sum(topic in self._small_talk for topic in bests)
        if 2 * small != len(bests):
            return 2 * small > len(bests)
        rival = max((value for topic, (value, _) in whole.items() if topic not in self._small_talk), default=0.0)
        return whole[subject][0] - rival >= self.thresholds.lead_margin

    def _polite(self, lang: str, opening: str) -> bool:
        """Whether an opening says nothing but small talk ("Hi", "Merci beaucoup", "Ok") in `lang`."""
        index = self.languages[lang]
        small_talk = self._small_talk_slots.get(lang, frozenset())
        return all(token not in index.token_topics or small_talk.issuperset(index.token_topics[token].tolist())
                   for token in index.analyzer.tokens(opening))

    def _score(self, lang: str, parts: Parts, fuzzy: bool, foreign: Callable[[str], str | None],
               memo: Memo | None = None, keep: int = 8
               ) -> tuple[dict[str, tuple[float, float]], np.ndarray | None, bool]:
        """The best topics for a message read in `lang`: id -> (score, share of the message explained),
        every topic's Naive Bayes posterior probability (in `_topic_ids` order), and whether the message
        names another subject (an `outside` phrase).

        Its words `lang` does not know but another language does ("Gibt es eine membership fee?") are
        scored in that language, and the two scores are weighed by the share of the message each reads."""
        query = self.languages[lang].query(parts, fuzzy, self._known, foreign, memo)
        readings = [(self.languages[lang], query)]
        readings += [(self.languages[other], self.languages[other].query(other_parts, False, self._known, None, memo))
                     for other, other_parts in query.routed.items()]
        values = np.zeros(len(self._topic_ids))
        explained = np.zeros(len(self._topic_ids))
        likelihood = np.zeros(len(self._topic_ids))
        mass = 0.0
        for index, reading in readings:
            mass += reading.total
            if reading.tokens and reading.total > 0:
                own_values, own_explained, own_likelihood = index.values(reading)
                values[index.slots] += own_values * reading.total
                explained[index.slots] += own_explained * reading.total
                likelihood[index.slots] += own_likelihood
        outside = any(reading.outside for _, reading in readings)
        if mass <= 0 or not values.any():
            return {}, None, outside
        posterior = np.exp(likelihood - likelihood.max())
        posterior /= posterior.sum()
        return top_topics(values / mass, explained / mass, self._topic_ids, keep), posterior, outside

    def _foreign(self, lang: str, candidates: Sequence[str]) -> Callable[[str], str | None]:
        """Which other language knows a word `lang` does not: for a word in another script, the language
        of that script; for one in the same script, English (common in any question) or a language the
        message may be in."""
        own = script_languages(lang)
        order = [code for code in dict.fromkeys([self.faq.source_language, *candidates, *self.languages])
                 if code != lang and code in self.languages]

        def knows(word: str) -> str | None:
            script = word_script(word)
            for code in order:
                if script_languages(code) != script:
                    continue
                other = self.languages[code]
                if script == own and code != self.faq.source_language and code not in candidates:
                    # Another language of the same script lends only the names its synonyms give the FAQ's
                    # subjects ("Prix UNESCO de la ville apprenante" in an English question), not any word.
                    if other.analyzer.stem(word) in other.names:
                        return code
                    continue
                if word in other.analyzer.stopwords or other.analyzer.stem(word) in other.stems:
                    return code
            return None

        return knows

    def known_words(self, text: str, lang: str) -> int:
        """How many of the message's words (stop words aside) `lang`'s variants use."""
        index = self.languages[lang]
        return sum(1 for stem in index.analyzer.stems(text) if stem in index.stems)

    def _promising(self, text: str, languages: Iterable[str], keep: set[str]) -> list[str]:
        """The candidate languages worth matching in: those knowing the most of the message's words (at
        most MAX_LANGUAGES; the words they do not know are read in the language knowing them, see
        `_score`), plus the ones in `keep`."""
        counted = [(self.known_words(text, lang), lang) for lang in languages if lang in self.languages]
        if not counted:
            return []
        most = max(known for known, _ in counted)
        ranked = sorted(counted, key=lambda item: -item[0])
        chosen = [lang for known, lang in ranked if known and known == most][:MAX_LANGUAGES]
        return chosen + [lang for _, lang in counted if lang in keep and lang not in chosen]

    def support(self, topic: str, posterior: Mapping[str, np.ndarray] | None) -> float:
        """The Naive Bayes posterior probability of `topic` or a narrower one (0 when unknown)."""
        probabilities = posterior.get(topic) if posterior else None
        if probabilities is None:
            return 0.0
        narrower = self._narrower.get(topic)
        if narrower is None:
            narrower = self._narrower[topic] = np.array(
                [n for n, other in enumerate(self._topic_ids) if self.faq.answers_question_on(other, topic)]
                or [self._topic_ids.index(topic)], dtype=np.int64)
        return float(probabilities[narrower].sum())

    def _family(self, topic: str) -> set[str]:
        family = self._families.get(topic)
        if family is None:
            family = self._families[topic] = self.faq.family(topic)
        return family

    def _typical(self, topic: str, best: float, lead: float, explained: float,
                 posterior: Mapping[str, np.ndarray] | None, several: bool) -> bool:
        """Whether the words' typicality (Naive Bayes) answers `topic` where its score alone does not. It must
        agree: its most likely topic is in `topic`'s family, and `topic` or a narrower one has at least
        `typical_support`. Then the score needs `typical_answer` with nearly all of the message explained and
        `typical_lead` over unrelated topics, `likely_answer` with the topic nearly certain, or in a message of
        several sentences `several_answer` with the topic sure (see Thresholds)."""
        t = self.thresholds
        probabilities = posterior.get(topic) if posterior else None
        if probabilities is None:
            return False
        support = self.support(topic, posterior)
        if support < t.typical_support or self._topic_ids[int(np.argmax(probabilities))] not in self._family(topic):
            return False
        return ((best >= t.typical_answer and explained >= t.typical_explained
                 and lead >= t.typical_lead)
                or (best >= t.likely_answer and support >= t.likely_support)
                or (several and best >= t.several_answer and support >= t.several_support))

    def _rival(self, topic: str, ranked: list[tuple[str, float]]) -> float:
        """The score of the best topic unrelated to `topic`."""
        family = self._family(topic)
        if topic not in self._small_talk:  # a greeting set aside above is no rival to the question
            family = family | self._small_talk
        return next((value for other, value in ranked if other not in family), 0.0)

    def _confident(self, best: float, lead: float) -> bool:
        """Whether `best` is high enough and `lead` (over every unrelated topic, `_rival`) far enough."""
        t = self.thresholds
        return best >= t.sure or (best >= t.answer and lead >= t.margin) or (best >= t.lead_answer
                                                                              and lead >= t.lead_margin)

    def decide(self, scores: Mapping[str, float], source: Mapping[str, str],
               explained: Mapping[str, float] | None = None, posterior: Mapping[str, np.ndarray] | None = None,
               several: bool = False) -> Match:
        """`several`: the message has several sentences, whose words' typicality (`posterior`) weighs more."""
        t = self.thresholds
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        if not ranked:
            return Match(MatchKind.FALLBACK, None, 0.0)
        best_id, best = ranked[0]
        score = round(best * 100, 1)
        lead = best - self._rival(best_id, ranked)
        if self._confident(best, lead) or self._typical(
                best_id, best, lead, (explained or {}).get(best_id, 0.0), posterior, several):
            return Match(MatchKind.ANSWER, best_id, score, (), source.get(best_id))
        # Torn between two narrow topics of one broader topic ("how does the award work": applying, or the
        # winners?): the broader answer is right for both, and its buttons lead on to each.
        parent = self.faq.topics[best_id].refines if best_id in self.faq.topics else None
        if (parent is not None and scores.get(parent, 0.0) >= t.suggest
                and self._confident(best, best - self._rival(parent, ranked))):
            return Match(MatchKind.ANSWER, parent, score, (), source.get(parent) or source.get(best_id))
        # "Did you mean: hello?" helps nobody: small talk is answered or left out of suggestions.
        picked = [topic for topic, value in ranked if value >= t.suggest and topic not in self._small_talk]
        if picked:
            return Match(MatchKind.SUGGEST, picked[0], score, tuple(picked[: t.max_suggestions]),
                         source.get(picked[0]))
        return Match(MatchKind.FALLBACK, None, score, (), None)
