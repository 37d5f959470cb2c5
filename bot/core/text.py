"""Text normalisation shared by FAQ questions and user messages, so both sides are compared alike."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import snowballstemmer

# Arabic: short vowels and other marks, tatweel, and letter variants people type interchangeably.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTERS = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
        "ى": "ي", "ئ": "ي", "ی": "ي",
        "ؤ": "و", "ک": "ك",
        "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4", "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9",
    }
)
# Traditional characters that users of a simplified-Chinese FAQ commonly type, mapped to simplified.
_TRADITIONAL = str.maketrans(
    "學習網絡會員獎費聯國織終資麼麽為參與請問們個開關際議係繫書電郵導準條處歷時間報義務體術質區縣鎮長"
    "獲頒單標進實現發續經濟業數據幫謝嗎對應該誰甚樣區們於這裡裏說話題動態優勢聯絡機構"
    "創辦歡迎認證贏選審評傳統優點好處條件環境續計劃規劃監測評估資金參加邀請擁項",
    "学习网络会员奖费联国织终资么么为参与请问们个开关际议系系书电邮导准条处历时间报义务体术质区县镇长"
    "获颁单标进实现发续经济业数据帮谢吗对应该谁什样区们于这里里说话题动态优势联络机构"
    "创办欢迎认证赢选审评传统优点好处条件环境续计划规划监测评估资金参加邀请拥项",
)
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{_HAN}]+")
_TOKEN = re.compile(f"[{_HAN}]+|[^\\W_{_HAN}]+", re.UNICODE)  # "UIL是什么": two tokens
# People type ه for a final ة (and the reverse); the Arabic stemmer removes a final ة, so write it as ة.
_ARABIC_FINAL_HA = re.compile("\u0647\\b")
# A hamza on the line inside a word is mostly one whose seat was not typed ("الفواءد" for "الفوائد"); seated,
# it folds to ي like ئ above, which people also leave out ("الفوايد").
_ARABIC_MID_HAMZA = re.compile("(?<=[\u0621-\u064a])\u0621(?=[\u0621-\u064a])")
# A colon before a question ends a sentence too: "Before I write about it: what is the network for?"
_SENTENCE_END = re.compile(r"(?<=[.!?;。！？；؟])\s+|(?<=[。！？；؟])|\n+"
                           r"|(?:(?<=:)\s+|(?<=：)\s*)(?=[^:：]*[?？؟]\W*$)")
_OPENING = re.compile(r"^\s*([^,，،]{1,25})[,，،]\s*(.+)$", re.DOTALL)  # "Hi, ..." / "Bonjour, ..."

OUTSIDE = "~!outside"  # the token of a phrase that signals another subject ("Creative Cities Network")

_PROCLITICS = {"ar": "لبكفو"}  # one-letter words written onto the next one
# Stems remembered per language, emptied when full: a serving process meets new words for as long as it
# runs, and its memory must stay bounded.
STEM_CACHE = 2_000

SNOWBALL_NAMES = {
    "en": "english", "fr": "french", "es": "spanish", "de": "german", "pt": "portuguese",
    "ru": "russian", "ar": "arabic", "it": "italian", "nl": "dutch", "tr": "turkish",
}


_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")  # "holaaa", "merciii", "شكرااا": a letter typed 3+ times


def new_stemmer(language: str) -> object | None:
    """The Snowball stemmer of a language (None: the language has none), without a cache of its own.

    PyStemmer remembers 10,000 words per stemmer by default, a second copy of what `Analyzer.stem`
    remembers: in a serving process that meets new words for as long as it runs, tens of megabytes.
    """
    name = SNOWBALL_NAMES.get(language)
    if not name:
        return None
    stemmer = snowballstemmer.stemmer(name)
    if hasattr(stemmer, "maxCacheSize"):
        stemmer.maxCacheSize = 0
    return stemmer


@functools.lru_cache(maxsize=256)  # a message is folded once per candidate language: remember it
def fold(text: str) -> str:
    """Unicode-normalise and casefold; drop accents, diacritics and Arabic letter variants; a letter
    stretched for emphasis ("holaaa") is written once."""
    if text.isascii():
        return _STRETCHED.sub(r"\1", text.lower())
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS).translate(_TRADITIONAL)
    if "\u0647" in text:
        text = _ARABIC_FINAL_HA.sub("\u0629", text)
    if "\u0621" in text:
        text = _ARABIC_MID_HAMZA.sub("\u064a", text)
    text = text.replace("ё", "е").replace("ß", "ss").replace("œ", "oe").replace("æ", "ae")
    text = unicodedata.normalize("NFC", _COMBINING.sub("", unicodedata.normalize("NFD", text)))
    return _STRETCHED.sub(r"\1", text)


def words(folded: str) -> list[str]:
    """Split folded text into word runs and runs of Han characters; punctuation and emoji vanish."""
    return _TOKEN.findall(folded)


def has_han(text: str) -> bool:
    return bool(_HAN_RUN.search(text))


def is_han(token: str) -> bool:
    return bool(_HAN_RUN.fullmatch(token))


def han_mask(text: str) -> list[bool]:
    """Whether each character of `text` is a Chinese character (one regex pass, not one call per character)."""
    mask = [False] * len(text)
    for run in _HAN_RUN.finditer(text):
        mask[run.start() : run.end()] = [True] * (run.end() - run.start())
    return mask


def sentences(text: str) -> list[str]:
    """The sentences of a message, so a long message is matched on its question as well as as a whole.

    A short opening before a comma ("Hi, ...", "Merci, ...") is split off too; other commas are not
    sentence ends: a clause such as ", what is it?" alone would match the wrong topic.
    """
    return [piece for sentence in clauses(text) for piece in sentence]


def clauses(text: str) -> list[tuple[str, ...]]:
    """The sentences of a message, each as (opening, rest) when it starts with a short opening before a
    comma ("Hi, ...", "Merci, ..."), else as (sentence,). Whether the opening is mere politeness
    ("Hi") or part of the question ("Which conditions are needed, ...") is for the caller to tell."""
    parts = [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]
    out: list[tuple[str, ...]] = []
    for part in parts:
        opening = _OPENING.match(part)
        if opening and len(opening.group(1).split()) <= 3:
            out.append((opening.group(1), opening.group(2)))
        else:
            out.append((part,))
    return out


_QUESTION_END = re.compile(r"[?？؟]\W*$")


def is_question(sentence: str) -> bool:
    """Whether a sentence asks (ends with a question mark in any script)."""
    return bool(_QUESTION_END.search(sentence))


def han_bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


@dataclass
class Analyzer:
    """Turns text of one language into the tokens the matcher compares.

    Spaced scripts: folded words, stop words removed, Snowball-stemmed. Chinese: character bigrams of the
    runs left after removing stop words. Synonyms become one canonical token.
    """

    language: str
    stopwords: frozenset[str] = frozenset()
    synonyms: Sequence[Sequence[str]] = ()
    outside: Sequence[str] = ()
    # Names the synonyms borrow from another language ("learning city" among the Russian names of a learning
    # city), folded: a message naming one keeps the group's own words beside its token, not the borrowed ones,
    # which this language's variants rarely write ("Что такое learning city?") and would make weigh.
    borrowed: frozenset[str] = frozenset()
    # How often the FAQ uses each stem, once known (see `learn`): lets the stemmer choose between readings.
    lexicon: Mapping[str, int] = field(default_factory=dict)
    _stemmer: object | None = field(init=False, default=None, repr=False)
    _stem_cache: dict[str, str] = field(init=False, default_factory=dict, repr=False)
    _phrases: list[tuple[tuple[str, ...], str]] = field(init=False, default_factory=list, repr=False)
    _han_phrases: list[tuple[str, str]] = field(init=False, default_factory=list, repr=False)
    _phrases_by_first: dict[str, list[tuple[tuple[str, ...], str]]] = field(
        init=False, default_factory=dict, repr=False)
    _han_stops: tuple[str, ...] = field(init=False, default=(), repr=False)
    _han_pattern: re.Pattern[str] | None = field(init=False, default=None, repr=False)
    _han_stop_pattern: re.Pattern[str] | None = field(init=False, default=None, repr=False)
    _han_canonical: dict[str, str] = field(init=False, default_factory=dict, repr=False)
    _unstemmed: frozenset[str] = field(init=False, default=frozenset(), repr=False)
    _borrowed_phrases: dict[tuple[str, ...], tuple[str, ...]] = field(init=False, default_factory=dict, repr=False)
    _protected: frozenset[str] = field(init=False, default=frozenset(), repr=False)

    def __getstate__(self) -> dict[str, object]:
        """Picklable (bot/faq_cache.py keeps the built index on disk): the C stemmer is made anew on load,
        and the stems remembered start empty (the FAQ's own words, stemmed at build, are not what people
        write)."""
        return {**self.__dict__, "_stemmer": None, "_stem_cache": {}}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._stemmer = new_stemmer(self.language)

    def __post_init__(self) -> None:
        self._stemmer = new_stemmer(self.language)
        self.stopwords = frozenset(fold(word) for word in self.stopwords)
        # Longest first, then alphabetical: the order must not depend on the process's string hashing.
        self._han_stops = tuple(sorted((w for w in self.stopwords if is_han(w)), key=lambda w: (-len(w), w)))
        if self._han_stops:  # longest first, so a two-character stop word wins over its first character
            self._han_stop_pattern = re.compile("|".join(map(re.escape, self._han_stops)))
        self._unstemmed = self._kept_apart()
        self._prepare_phrases()

    def _prepare_phrases(self) -> None:
        """The synonym and outside phrases as stem sequences (made anew: stems change once `learn` ran)."""
        self._phrases, self._han_phrases, self._phrases_by_first, self._han_canonical = [], [], {}, {}
        self._borrowed_phrases = {}
        self._han_pattern = None
        for group in self.synonyms:
            if not group:
                continue
            canonical = "~" + "_".join(self._plain_tokens(group[0])) if group[0] else ""
            for member in group:
                folded = fold(member)
                if is_han(folded.replace(" ", "")):
                    self._han_phrases.append((folded.replace(" ", ""), canonical))
                else:
                    tokens = tuple(self._plain_tokens(member))
                    if tokens:
                        self._phrases.append((tokens, canonical))
                        if folded in self.borrowed and folded != fold(group[0]):
                            self._borrowed_phrases[tokens] = tuple(self._plain_tokens(group[0]))
        for phrase in self.outside:
            folded = fold(phrase)
            if is_han(folded.replace(" ", "")):
                self._han_phrases.append((folded.replace(" ", ""), OUTSIDE))
            elif tokens := tuple(self._plain_tokens(phrase)):
                self._phrases.append((tokens, OUTSIDE))
        self._phrases.sort(key=lambda item: len(item[0]), reverse=True)
        for phrase, canonical in self._phrases:
            self._phrases_by_first.setdefault(phrase[0], []).append((phrase, canonical))
        self._han_phrases.sort(key=lambda item: len(item[0]), reverse=True)
        if self._han_phrases:
            self._han_canonical = dict(self._han_phrases)
            self._han_pattern = re.compile("|".join(re.escape(p) for p, _ in self._han_phrases))

    def learn(self, texts: Iterable[str], folded: bool = False) -> None:
        """Count the stems of the FAQ's own texts, for languages whose stemmer must choose between readings
        (see `stem`); the synonym phrases are prepared again with them. `folded`: see `pairs`."""
        if self.language not in _PROCLITICS:
            return
        counts: dict[str, int] = {}
        for text in texts:
            for stem in {stem for _, stem in self.pairs(text, folded)}:
                counts[stem] = counts.get(stem, 0) + 1
        self.lexicon = counts
        # A word a synonym group names is meant as written (لماذا, why, is not ل + ماذا, for what).
        self._protected = frozenset(fold(member) for group in self.synonyms for member in group)
        self._stem_cache = {}
        self._prepare_phrases()

    def _kept_apart(self) -> frozenset[str]:
        """Words the stemmer would merge though the synonym groups set them apart (Russian "как", how, and
        "какие", which: both "как"): a word listed alone in one group whose stem is the stem of a word
        listed alone in another group is kept whole."""
        groups_of: dict[str, set[int]] = {}
        members: list[tuple[str, str]] = []
        for number, group in enumerate(self.synonyms):
            for member in group:
                folded = fold(member)
                if len(words(folded)) == 1 and not is_han(folded) and folded not in self.stopwords:
                    stem = self.stem(folded)
                    groups_of.setdefault(stem, set()).add(number)
                    members.append((folded, stem))
        self._stem_cache.clear()
        return frozenset(word for word, stem in members if len(groups_of[stem]) > 1)

    def forget_stems(self) -> None:
        self._stem_cache = {}

    def stem(self, word: str) -> str:
        cached = self._stem_cache.get(word)
        if cached is not None:
            return cached
        if word in self._unstemmed:
            stem = word
        else:
            stem = self._stemmer.stemWord(word) if self._stemmer is not None and len(word) > 2 else word
            if (self.lexicon and stem[:1] in _PROCLITICS.get(self.language, "") and len(word) >= 4
                    and word not in self._protected):
                # Arabic writes one-letter prepositions and conjunctions onto the word (لمدينتنا: "for our
                # city"); the stemmer keeps some. Without the letter, the word is often one the FAQ uses
                # more: then that is the word meant.
                bare = self._stemmer.stemWord(word[1:])
                if self.lexicon.get(bare, 0) > self.lexicon.get(stem, 0):
                    stem = bare
        if len(self._stem_cache) >= STEM_CACHE:
            self._stem_cache.clear()
        self._stem_cache[word] = stem
        return stem

    def in_phrases(self, stems: list[str]) -> set[int]:
        """Positions of `stems` that a synonym or outside phrase of several words takes."""
        if not self._phrases:
            return set()
        return {n for _, (start, end) in self._replace_phrases(stems) if end - start > 1 for n in range(start, end)}

    def is_synonym(self, stem: str) -> bool:
        """Whether a synonym group names this stem on its own (it stands for the group's token)."""
        return any(len(phrase) == 1 for phrase, _ in self._phrases_by_first.get(stem, ()))

    def phrase_words(self, outside: bool = True) -> list[tuple[str, str]]:
        """(folded word, stem) of every word of the synonym phrases, and of the outside ones with `outside`."""
        out: list[tuple[str, str]] = []
        for member in [m for group in self.synonyms for m in group] + (list(self.outside) if outside else []):
            for word in words(fold(member)):
                if not is_han(word) and word not in self.stopwords:
                    out.append((word, self.stem(word)))
        return out

    @property
    def phrases(self) -> list[tuple[tuple[str, ...], str]]:
        return self._phrases

    @property
    def han_phrases(self) -> list[str]:
        """The Chinese synonym and outside phrases, as written (folded, without spaces)."""
        return [phrase for phrase, _ in self._han_phrases]

    @property
    def han_names(self) -> list[tuple[str, str]]:
        """The Chinese synonyms as written (folded, without spaces), each with its group's token."""
        return [(phrase, token) for phrase, token in self._han_phrases if token != OUTSIDE]

    def _plain_tokens(self, text: str) -> list[str]:
        """Stemmed tokens without synonym replacement (used to prepare the synonym phrases)."""
        out: list[str] = []
        for word in words(fold(text)):
            if is_han(word):
                out.append(word)
            elif word not in self.stopwords and (len(word) > 1 or word.isdigit()):  # as `pairs` reads messages
                out.append(self.stem(word))
        return out

    def tokens(self, text: str) -> list[str]:
        return self.merge(self.stems(text))

    def stems(self, text: str) -> list[str]:
        """Stemmed words (or Han bigrams), stop words removed, synonyms not yet merged.

        Chinese synonym phrases are recognised here already, since bigrams would cut them apart.
        """
        return [stem for _, stem in self.pairs(text)]

    def pairs(self, text: str, folded: bool = False) -> list[tuple[str, str]]:
        """(folded word, its stem) for each word `stems` keeps; a Han bigram or phrase is its own word.
        `folded`: the text is `fold`'s output already (the FAQ's variants are folded once for the whole
        build: folding is the largest part of a first start)."""
        out: list[tuple[str, str]] = []
        for piece, canonical in self._han_pieces(text if folded else fold(text)):
            if canonical:
                out.append((canonical, canonical))
                continue
            for word in words(piece):
                if is_han(word):
                    out.extend((gram, gram) for gram in self._han_tokens(word))
                elif word not in self.stopwords and (len(word) > 1 or word.isdigit()):
                    out.append((word, self.stem(word)))
        return out

    def _han_pieces(self, folded: str) -> list[tuple[str, str | None]]:
        if self._han_pattern is None:
            return [(folded, None)]
        pieces: list[tuple[str, str | None]] = []
        pos = 0
        for found in self._han_pattern.finditer(folded):
            pieces.append((folded[pos : found.start()], None))
            pieces.append(("", self._han_canonical[found.group(0)]))
            pos = found.end()
        pieces.append((folded[pos:], None))
        return pieces

    def merge(self, tokens: list[str]) -> list[str]:
        """Replace synonym phrases by their group's canonical token."""
        return [token for token, _ in self._replace_phrases(tokens)] if self._phrases else tokens

    def merge_with(self, tokens: list[str], scores: list[float]) -> list[tuple[str, float]]:
        """`merge`, each token carrying a score of its words (a phrase takes its words' lowest): how sure a
        typo correction was survives the synonym it became."""
        if not self._phrases:
            return list(zip(tokens, scores, strict=True))
        return [(token, min(scores[start:end])) for token, (start, end) in self._replace_phrases(tokens)]

    def _han_tokens(self, run: str) -> list[str]:
        pieces = self._han_stop_pattern.split(run) if self._han_stop_pattern else [run]
        return [gram for piece in pieces if piece for gram in han_bigrams(piece)]

    def _replace_phrases(self, tokens: list[str]) -> list[tuple[str, tuple[int, int]]]:
        """A synonym becomes its group's canonical token; a phrase named by a phrase keeps its words too.

        "global network of learning cities" becomes just GNLC, its acronym; "learning city award" keeps
        its words beside the canonical token, so it still shares "award" with "award winners".
        """
        out: list[tuple[str, tuple[int, int]]] = []  # token, and the words it stands for
        i = 0
        while i < len(tokens):
            for phrase, canonical in self._phrases_by_first.get(tokens[i], ()):
                if tuple(tokens[i : i + len(phrase)]) == phrase:
                    if len(phrase) > 1 and "_" in canonical:
                        # Each word stands for the phrase's word in its place (the group's own words, for a
                        # borrowed name, may be more: the extra ones stand for its last word).
                        for n, word in enumerate(self._borrowed_phrases.get(phrase, phrase)):
                            place = i + min(n, len(phrase) - 1)
                            out.append((word, (place, place + 1)))
                    out.append((canonical, (i, i + len(phrase))))
                    i += len(phrase)
                    break
            else:
                out.append((tokens[i], (i, i + 1)))
                i += 1
        return out


def unique(tokens: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(tokens))
