"""A second, differently built opinion on a message's topic: how alike its character n-grams are to each
topic's question variants.

The matcher (matching.py) reads words: stems, synonyms, typo corrections to the FAQ's vocabulary. This
model reads pieces of words: every run of 3 to 5 characters of each folded word (with its boundaries:
"<ville>" gives "<vi", "vil", ..., "lle>"), the whole word, and for Chinese the runs of 1 to 3 characters.
A typo, a dialect spelling, an inflection the stemmer does not know or a missing accent changes only a
few of a word's n-grams, so the message stays close to the variants it paraphrases; where the matcher is
unsure (a casual phrasing, a long message), this second reading tends to confirm the topic it ranks first,
and to withhold support from a topic that only shares one frequent word with the message.

Each (topic, language) is a centroid: the mean of its variants' TF-IDF vectors (sublinear term frequency,
each variant normalised), normalised. A message's opinion of a topic is the cosine of its vector with the
centroid; n-grams the FAQ never writes count in the message's norm, so a message about something else
("the mayor of Hamburg") gets little support from any topic.

Built in numpy at index build in a few tenths of a second (a closed form: no training iterations), kept
as compact arrays so that the index stays picklable (bot/faq_cache.py) and small: n-grams are hashed into
2**17 buckets with a hash that does not depend on the process (unlike Python's `hash`), and only the
buckets a topic uses are stored (at most 64 topics per n-gram, those it weighs most in). A message costs
one feature extraction (cached per word) and one gather over the postings of its n-grams.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from bot.core.text import fold, is_han, words

BITS = 17
BUCKETS = 1 << BITS
LATIN_SIZES = (3, 4, 5)  # n-gram sizes within a padded word of a spaced script
HAN_SIZES = (1, 2, 3)  # and within a run of Chinese characters
MAX_WORD = 40  # longer "words" (URLs, keyboard mashing) are cut: their n-grams say nothing more
MAX_POSTINGS = 64  # (topic, language) pairs kept per n-gram: those it weighs most in
CHUNK = 500  # variants read at once at build: bounds the memory the build takes, whatever the FAQ's size
# A message's new words x the FAQ's (topic, language) classes up to this many are summed in a dense array
# (the real FAQ: ~240 classes); beyond (synthetic FAQs of thousands of topics), sorted.
DENSE_PAIRS = 1 << 20
WORD_CACHE = 3_000  # words whose share of a message's cosines is remembered (about 1 kB each)

_MULTIPLIER = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_SHIFT = np.uint64(33)
_TOP = np.uint64(64 - BITS)


def _mix(values: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (MurmurHash3's): nearby inputs land in unrelated buckets."""
    values = values ^ (values >> _SHIFT)
    values = values * _MIX1
    values = values ^ (values >> _SHIFT)
    values = values * _MIX2
    values = values ^ (values >> _SHIFT)
    return (values >> _TOP).astype(np.int32)


def word_buckets(batch: Sequence[str]) -> list[np.ndarray]:
    """Each word's feature buckets: its character n-grams and the whole word, hashed.

    Vectorised over the whole batch (the FAQ's vocabulary at build, a message's new words at query
    time): the words are laid end to end with a separator, and each n-gram size is one polynomial hash
    over the array, windows crossing a separator dropped."""
    if not batch:
        return []
    padded = [w[:MAX_WORD] if is_han(w) else f"<{w[:MAX_WORD]}>" for w in batch]
    joined = "\x00".join(padded) + "\x00"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    separator = codes == 0
    owner = np.cumsum(separator) - separator  # the word each position belongs to
    han = np.fromiter((is_han(w) for w in batch), dtype=bool, count=len(batch))
    crossed = np.r_[0, np.cumsum(separator)]
    found_words: list[np.ndarray] = []
    found_buckets: list[np.ndarray] = []
    hashed = np.zeros(len(codes), dtype=np.uint64)
    for size in range(1, max(*LATIN_SIZES, *HAN_SIZES) + 1):
        count = len(codes) - size + 1
        if count <= 0:
            break
        hashed = hashed[:count] * _MULTIPLIER + codes[size - 1 : size - 1 + count]
        inside = crossed[size : size + count] - crossed[:count] == 0
        start = np.flatnonzero(inside)
        wanted = np.where(han[owner[start]], size in HAN_SIZES, size in LATIN_SIZES)
        start = start[wanted]
        found_words.append(owner[start])
        found_buckets.append(_mix(hashed[start] + np.uint64(size * 0x9E3779B97F4A7C15 % 2**64)))
    whole = np.array([zlib.crc32(w.encode()) for w in batch], dtype=np.uint64)
    found_words.append(np.arange(len(batch)))
    found_buckets.append(_mix(whole + _MIX1))
    owners = np.concatenate(found_words)
    buckets = np.concatenate(found_buckets)
    order = np.argsort(owners, kind="stable")
    splits = np.cumsum(np.bincount(owners, minlength=len(batch)))[:-1]
    return np.split(buckets[order], splits)


def _count(variants: Sequence[tuple[int, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(variant number, bucket, how often) for each bucket each variant has; `variants`: (class, folded text).
    The words are split here, a few hundred variants at a time: kept for every variant, they would
    scatter tens of thousands of small strings over the process's memory for its lifetime."""
    split = [words(text) for _, text in variants]
    vocabulary = sorted({w for found in split for w in found})
    word_id = {w: i for i, w in enumerate(vocabulary)}
    per_word = word_buckets(vocabulary)
    lengths = np.fromiter((len(b) for b in per_word), dtype=np.int64, count=len(per_word))
    offsets = np.cumsum(lengths) - lengths
    flat = np.concatenate(per_word).astype(np.int64)
    occurrences = np.fromiter((word_id[w] for found in split for w in found), dtype=np.int64)
    size = lengths[occurrences]
    ends = np.cumsum(size)
    gather = np.arange(ends[-1]) + np.repeat(offsets[occurrences] - (ends - size), size)
    owner = np.repeat(np.repeat(np.arange(len(variants)), [len(found) for found in split]), size)
    keys, counts = np.unique(owner * BUCKETS + flat[gather], return_counts=True)
    return (keys // BUCKETS).astype(np.int32), (keys % BUCKETS).astype(np.int32), counts.astype(np.float32)


def _chunks(variants: list[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    """Runs of whole classes (a class's variants are consecutive) of about CHUNK variants."""
    begin = 0
    for end in range(1, len(variants) + 1):
        if end == len(variants) or (end - begin >= CHUNK and variants[end][0] != variants[end - 1][0]):
            yield variants[begin:end]
            begin = end


def _give_back_memory() -> None:
    """Return the build's freed arrays to the system (glibc keeps freed heap memory otherwise, and the
    serving process would carry the build's peak for its lifetime); nothing elsewhere."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def tokens(text: str) -> list[str]:
    """The words the model reads: the folded text's words and runs of Chinese characters."""
    return words(fold(text))


class NgramCentroids:
    """Each (topic, language)'s centroid of character n-gram TF-IDF vectors; see the module's docstring."""

    def __init__(self, questions: Iterable[tuple[int, str, str]], topics: int) -> None:
        """`questions`: (topic number, language, the variant folded: `text.fold(variant)`); `topics`: how
        many topic numbers. The caller folds the variants once for this model and its own index: folding is
        most of the cost."""
        rows = [(topic, lang, folded) for topic, lang, folded in questions if words(folded)]
        self.languages: list[str] = sorted({lang for _, lang, _ in rows})
        lang_pos = {lang: n for n, lang in enumerate(self.languages)}
        self.topics = topics
        classes: dict[tuple[int, int], int] = {}
        by_language: list[list[tuple[int, str]]] = [[] for _ in self.languages]  # (class, folded variant)
        for topic, lang, folded in rows:
            by_language[lang_pos[lang]].append((classes.setdefault((topic, lang_pos[lang]), len(classes)), folded))
        self.class_topic = np.array([topic for topic, _ in classes], dtype=np.int32)
        self.class_lang = np.array([lang for _, lang in classes], dtype=np.int32)
        self._cache: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
        self._masks: dict[tuple[str, ...], np.ndarray] = {}  # languages -> their columns
        n = len(rows)
        self.unknown_idf = float(np.log(1 + n) + 1)
        self.idf = np.full(BUCKETS, self.unknown_idf, dtype=np.float16)
        self.starts = np.zeros(BUCKETS + 1, dtype=np.int32)
        self.entry_class = np.zeros(0, dtype=np.int32)
        self.entry_weight = np.zeros(0, dtype=np.float16)
        self.class_of = np.zeros((topics, len(self.languages)), dtype=np.int32)  # (topic, language) -> class
        if not n:
            return
        # A few hundred variants at a time, counted twice (for the n-grams' rarity, then for the weights)
        # rather than kept: all the variants' n-grams at once take tens of MB while the index is built,
        # and the serving process keeps that peak.
        chunks = [chunk for variants in by_language for chunk in _chunks(variants)]
        df = np.zeros(BUCKETS, dtype=np.float32)
        for chunk in chunks:
            df += np.bincount(_count(chunk)[1], minlength=BUCKETS)
        seen = df > 0
        idf = df  # computed in place: the arrays of BUCKETS entries are the build's largest
        del df
        np.add(idf, 1, out=idf)
        np.divide(1 + n, idf, out=idf)
        np.log(idf, out=idf)
        idf += 1
        idf[~seen] = self.unknown_idf
        del seen
        self.idf = idf.astype(np.float16)
        size = len(classes)
        key_type = np.int32 if BUCKETS * size < 2**31 else np.int64  # bucket x class, in as few bytes as fit
        parts: list[tuple[np.ndarray, np.ndarray]] = []  # (bucket x class keys, summed weights)
        for chunk in chunks:
            doc, bucket, count = _count(chunk)
            value = (1 + np.log(count)) * idf[bucket]
            value /= np.sqrt(np.bincount(doc, weights=value * value))[doc]  # each variant counts alike
            klass = np.array([klass for klass, _ in chunk], dtype=key_type)[doc]
            keys, inverse = np.unique(bucket.astype(key_type) * size + klass, return_inverse=True)
            parts.append((keys, np.bincount(inverse, weights=value).astype(np.float32)))
        del chunks, rows, by_language, idf
        keys = np.concatenate([keys for keys, _ in parts])
        weight = np.concatenate([weight for _, weight in parts])
        del parts
        order = np.argsort(keys, kind="stable")  # by bucket, then class
        keys = keys[order]
        weight = weight[order]
        del order
        klass = (keys % size).astype(np.int32)
        keys //= size  # now the buckets
        weight /= np.sqrt(np.bincount(klass, weights=weight * weight, minlength=size))[klass].astype(np.float32)
        # An n-gram common to many topics keeps those it weighs most in: a message's cost stays bounded by
        # its n-grams, not by the FAQ's size. In the real FAQ only n-grams shared by several languages (of
        # "UNESCO", of international words) reach the cap, and they weigh little (they are common).
        per_bucket = np.bincount(keys, minlength=BUCKETS)
        among = np.flatnonzero(per_bucket[keys] > MAX_POSTINGS)  # entries of crowded n-grams
        if len(among):
            order = among[np.lexsort((-weight[among], keys[among]))]  # by bucket, heaviest first
            sorted_keys = keys[order]
            rank = np.arange(len(order)) - np.searchsorted(sorted_keys, sorted_keys, side="left")
            keep = np.ones(len(keys), dtype=bool)
            keep[order[rank >= MAX_POSTINGS]] = False
            keys, klass, weight = keys[keep], klass[keep], weight[keep]
            del order, sorted_keys, rank, keep
        del per_bucket, among
        self.class_of = np.full((topics, len(self.languages)), size, dtype=np.int32)  # `size`: none
        self.class_of[self.class_topic, self.class_lang] = np.arange(size)
        self.entry_class = klass.astype(np.int16 if size < 2**15 else np.int32)
        self.entry_weight = weight.astype(np.float16)  # read only when a new word is met: half the memory
        self.starts = np.r_[0, np.cumsum(np.bincount(keys, minlength=BUCKETS))].astype(np.int32)
        del keys, klass, weight
        _give_back_memory()

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the per-word cache: it refills with the words people actually write."""
        return {**self.__dict__, "_cache": {}, "_masks": {}}

    def _words(self, found: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """What each word adds to a message's cosines: (classes, their weights, the word's squared norm),
        before the message's norm divides them. Remembered: the words people write repeat. The words not
        remembered yet are hashed together (one vectorised pass costs about what one word alone does)."""
        cache = self._cache
        new = [word for word in found if word not in cache]
        if new and len(cache) + len(new) > WORD_CACHE:
            cache.clear()
            new = list(dict.fromkeys(found))
        if new:
            for word, share in zip(new, self._shares(word_buckets(new)), strict=True):
                cache[word] = share
        return [cache[word] for word in found]

    def _shares(self, hashed: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """Each word's share of the cosines, from its hashed n-grams: computed for all the words at once,
        keyed by (word, n-gram) then (word, class), so a message's new words cost one pass, not one each."""
        if not hashed:
            return []
        count = len(hashed)
        owner = np.repeat(np.arange(count, dtype=np.int64), [len(h) for h in hashed])
        keys, counts = np.unique(owner * BUCKETS + np.concatenate(hashed).astype(np.int64), return_counts=True)
        word = keys // BUCKETS
        buckets = keys % BUCKETS
        query = self.idf[buckets].astype(np.float64) * (1 + np.log(counts))
        norms = np.bincount(word, weights=query * query, minlength=count)
        begin = self.starts[buckets].astype(np.int64)
        size = self.starts[buckets + 1] - begin
        ends = np.cumsum(size)
        gather = np.arange(ends[-1]) + np.repeat(begin - (ends - size), size)
        classes = len(self.class_topic)
        keyed = np.repeat(word, size) * classes + self.entry_class[gather]  # (word, class)
        values = self.entry_weight[gather] * np.repeat(query, size)
        if count * classes <= DENSE_PAIRS:  # the real FAQ: summed in place, no sort
            dense = np.bincount(keyed, weights=values, minlength=count * classes)
            pairs = np.flatnonzero(dense)
            weights = dense[pairs]
        else:
            pairs, inverse = np.unique(keyed, return_inverse=True)
            weights = np.bincount(inverse, weights=values)
        bounds = [0, *np.searchsorted(pairs // classes, np.arange(1, count)).tolist(), len(pairs)]
        klass = (pairs % classes).astype(np.int32)
        weight = weights.astype(np.float32)
        return [(klass[begin:end], weight[begin:end], norm)
                for begin, end, norm in zip(bounds[:-1], bounds[1:], norms.tolist(), strict=True)]

    def opinion(self, text: str, languages: Sequence[str] = (), topics: np.ndarray | None = None) -> np.ndarray:
        """The cosine (0..1) of `text` with each topic number of `topics` (all when None), each topic's best
        among `languages` (all when none is given).

        Summed word by word (each word's share is remembered), a word written n times weighing 1 + log n:
        exactly the cosine of the message's n-gram vector but for an n-gram two different words share."""
        wanted = np.arange(self.topics) if topics is None else topics
        found = tokens(text)
        if not found or not len(self.entry_class):
            return np.zeros(len(wanted))
        repeats = Counter(found)
        shares = self._words(list(repeats))
        parts = [(share, 1 + math.log(n) if n > 1 else 1.0) for share, n in zip(shares, repeats.values(), strict=True)]
        norm = math.sqrt(sum(part[2] * tf * tf for part, tf in parts))
        if len(parts) == 1:
            (classes, weights, _), tf = parts[0]
            weights = weights * (tf / norm)
        else:
            classes = np.concatenate([part[0] for part, _ in parts])
            weights = np.concatenate([part[1] * (tf / norm) for part, tf in parts])
        per_class = np.bincount(classes, weights=weights, minlength=len(self.class_topic) + 1)
        # Each wanted topic's classes in the languages asked for (the last slot stands for "none": 0).
        return per_class[self.class_of[wanted][:, self._columns(tuple(languages))]].max(axis=1)

    def _columns(self, languages: tuple[str, ...]) -> np.ndarray:
        """The column numbers of `languages` (all when none is known), remembered per combination."""
        columns = self._masks.get(languages)
        if columns is None:
            wanted = [self.languages.index(lang) for lang in languages if lang in self.languages]
            columns = self._masks[languages] = np.array(wanted or range(len(self.languages)), dtype=np.int64)
        return columns
