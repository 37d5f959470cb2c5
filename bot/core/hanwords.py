"""Common Chinese words, for telling a typo from a word the FAQ does not happen to write: "及时" (in time),
"展示" (to show) and "七个" (seven) are no typos of "几时", "展史" or "几个", though each makes a character pair
the FAQ never writes and sounds like one it does (see LanguageIndex.han_typos).

The table (`hanwords.txt`, one line per word length: the words of that length, sorted, written together) holds
the words of two to four characters that jieba's dictionary (MIT licence) counts at least MIN_COUNT times. It
ships with the package; jieba is needed only to write it anew:

    .venv/bin/pip install jieba && .venv/bin/python -m bot.core.hanwords
"""

from __future__ import annotations

import re
from bisect import bisect_left
from pathlib import Path

TABLE = Path(__file__).with_name("hanwords.txt")
MIN_COUNT = 50  # rarer words are mostly names and terms a typo would hit by chance
LENGTHS = (2, 3, 4)


class _Sorted:
    """A sorted run of equally long words written together, searched in place (one string, not 45,000)."""

    def __init__(self, run: str, length: int) -> None:
        self._run, self._length = run, length

    def __len__(self) -> int:
        return len(self._run) // self._length

    def __getitem__(self, n: int) -> str:
        return self._run[n * self._length : (n + 1) * self._length]

    def __contains__(self, word: str) -> bool:
        n = bisect_left(self, word)
        return n < len(self) and self[n] == word


class HanWords:
    """The table's words, by length."""

    def __init__(self, table: Path = TABLE) -> None:
        self._by_length: dict[int, _Sorted] = {}
        for line in table.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                length, run = line.split(" ", 1)
                self._by_length[int(length)] = _Sorted(run, int(length))

    def covers(self, text: str, position: int) -> bool:
        """Whether a common word of `text` (Chinese characters only) takes the character at `position`."""
        for length, known in self._by_length.items():
            for start in range(max(0, position - length + 1), min(position, len(text) - length) + 1):
                if text[start : start + length] in known:
                    return True
        return False


def write_table(path: Path = TABLE) -> None:
    import jieba  # only to write the table

    han = re.compile("[\u4e00-\u9fff]+")
    by_length: dict[int, set[str]] = {length: set() for length in LENGTHS}
    with (Path(jieba.__file__).parent / "dict.txt").open(encoding="utf-8") as dictionary:
        for line in dictionary:
            word, count, *_ = line.split()
            if len(word) in by_length and han.fullmatch(word) and int(count) >= MIN_COUNT:
                by_length[len(word)].add(word)
    lines = [f"# Chinese words of 2-4 characters counted at least {MIN_COUNT} times in jieba's dictionary (MIT "
             "licence), by length, sorted; written by bot/core/hanwords.py"]
    lines += [f"{length} {''.join(sorted(words))}" for length, words in sorted(by_length.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_table()
