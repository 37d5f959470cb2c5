"""Text normalisation shared by FAQ questions and user messages, so both sides are compared alike."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
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
_SENTENCE_END = re.compile(r"(?<=[.!?;。！？；؟])\s+|(?<=[。！？；؟])|\n+")
_OPENING = re.compile(r"^\s*([^,，،]{1,25})[,，،]\s*(.+)$", re.DOTALL)  # "Hi, ..." / "Bonjour, ..."

OUTSIDE = "~!outside"  # the token of a phrase that signals another subject ("Creative Cities Network")

SNOWBALL_NAMES = {
    "en": "english", "fr": "french", "es": "spanish", "de": "german", "pt": "portuguese",
    "ru": "russian", "ar": "arabic", "it": "italian", "nl": "dutch", "tr": "turkish",
}


_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


@functools.lru_cache(maxsize=4096)  # a message is folded once per candidate language: remember it
def fold(text: str) -> str:
    """Unicode-normalise and casefold; drop accents, diacritics and Arabic letter variants."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS).translate(_TRADITIONAL)
    if "\u0647" in text:
        text = _ARABIC_FINAL_HA.sub("\u0629", text)
    text = text.replace("ё", "е").replace("ß", "ss").replace("œ", "oe").replace("æ", "ae")
    return unicodedata.normalize("NFC", _COMBINING.sub("", unicodedata.normalize("NFD", text)))


def words(folded: str) -> list[str]:
    """Split folded text into word runs and runs of Han characters; punctuation and emoji vanish."""
    return _TOKEN.findall(folded)


def is_han(token: str) -> bool:
    return bool(_HAN_RUN.fullmatch(token))


def sentences(text: str) -> list[str]:
    """The sentences of a message, so a long message is matched on its question as well as as a whole.

    A short opening before a comma ("Hi, ...", "Merci, ...") is split off too; other commas are not
    sentence ends: a clause such as ", what is it?" alone would match the wrong topic.
    """
    parts = [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]
    out: list[str] = []
    for part in parts:
        opening = _OPENING.match(part)
        if opening and len(opening.group(1).split()) <= 3:
            out.extend((opening.group(1), opening.group(2)))
        else:
            out.append(part)
    return out


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

    def __getstate__(self) -> dict[str, object]:
        """Picklable (bot/faq_cache.py keeps the built index on disk): the C stemmer is made anew on load."""
        return {**self.__dict__, "_stemmer": None}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        name = SNOWBALL_NAMES.get(self.language)
        self._stemmer = snowballstemmer.stemmer(name) if name else None

    def __post_init__(self) -> None:
        name = SNOWBALL_NAMES.get(self.language)
        self._stemmer = snowballstemmer.stemmer(name) if name else None
        self.stopwords = frozenset(fold(word) for word in self.stopwords)
        # Longest first, then alphabetical: the order must not depend on the process's string hashing.
        self._han_stops = tuple(sorted((w for w in self.stopwords if is_han(w)), key=lambda w: (-len(w), w)))
        if self._han_stops:  # longest first, so a two-character stop word wins over its first character
            self._han_stop_pattern = re.compile("|".join(map(re.escape, self._han_stops)))
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

    def stem(self, word: str) -> str:
        cached = self._stem_cache.get(word)
        if cached is not None:
            return cached
        stem = self._stemmer.stemWord(word) if self._stemmer is not None and len(word) > 2 else word
        if len(self._stem_cache) < 50_000:
            self._stem_cache[word] = stem
        return stem

    @property
    def phrases(self) -> list[tuple[tuple[str, ...], str]]:
        return self._phrases

    def _plain_tokens(self, text: str) -> list[str]:
        """Stemmed tokens without synonym replacement (used to prepare the synonym phrases)."""
        out: list[str] = []
        for word in words(fold(text)):
            if is_han(word):
                out.append(word)
            elif word not in self.stopwords:
                out.append(self.stem(word))
        return out

    def tokens(self, text: str) -> list[str]:
        return self.merge(self.stems(text))

    def stems(self, text: str) -> list[str]:
        """Stemmed words (or Han bigrams), stop words removed, synonyms not yet merged.

        Chinese synonym phrases are recognised here already, since bigrams would cut them apart.
        """
        out: list[str] = []
        for piece, canonical in self._han_pieces(fold(text)):
            if canonical:
                out.append(canonical)
                continue
            for word in words(piece):
                if is_han(word):
                    out.extend(self._han_tokens(word))
                elif word not in self.stopwords and (len(word) > 1 or word.isdigit()):
                    out.append(self.stem(word))
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
        return self._replace_phrases(tokens) if self._phrases else tokens

    def _han_tokens(self, run: str) -> list[str]:
        pieces = self._han_stop_pattern.split(run) if self._han_stop_pattern else [run]
        return [gram for piece in pieces if piece for gram in han_bigrams(piece)]

    def _replace_phrases(self, tokens: list[str]) -> list[str]:
        """A synonym becomes its group's canonical token; a phrase named by a phrase keeps its words too.

        "global network of learning cities" becomes just GNLC, its acronym; "learning city award" keeps
        its words beside the canonical token, so it still shares "award" with "award winners".
        """
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for phrase, canonical in self._phrases_by_first.get(tokens[i], ()):
                if tuple(tokens[i : i + len(phrase)]) == phrase:
                    if len(phrase) > 1 and "_" in canonical:
                        out.extend(phrase)
                    out.append(canonical)
                    i += len(phrase)
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out


def unique(tokens: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(tokens))
