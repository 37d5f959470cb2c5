"""The sound of each common Chinese character (its usual pinyin reading, without tone), for reading the typos
of pinyin input: a phone keyboard offers every character of a sound, and a wrong pick ("发展历使" for "发展历史",
"建设模快" for "建设模块") makes pairs of characters nobody wrote.

The table (`pinyin.txt`, one line per sound: the sound, then its characters) covers CJK Unified Ideographs
U+4E00-U+9FFF with each character's first reading in pypinyin's data (MIT licence, from the pinyin-data
project). It ships with the package; pypinyin is needed only to write it anew:

    .venv/bin/pip install pypinyin && .venv/bin/python -m bot.core.pinyin
"""

from __future__ import annotations

from pathlib import Path

FIRST, LAST = 0x4E00, 0x9FFF
TABLE = Path(__file__).with_name("pinyin.txt")
_NONE = " "  # a character of no known sound
_BASE = 0x100  # sound number n is the character chr(_BASE + n) in a `Sounds` string


class Sounds:
    """Each character's sound as one character of a compact string (42 kB), compared as such."""

    def __init__(self, table: Path = TABLE) -> None:
        codes = [_NONE] * (LAST - FIRST + 1)
        for number, line in enumerate(table.read_text(encoding="utf-8").splitlines()):
            if not line or line.startswith("#"):
                continue
            _, characters = line.split(" ", 1)
            for character in characters:
                codes[ord(character) - FIRST] = chr(_BASE + number)
        self._codes = "".join(codes)

    def of(self, character: str) -> str | None:
        """The character's sound (an opaque one-character code), or None for a character of unknown sound."""
        position = ord(character) - FIRST
        if not 0 <= position < len(self._codes):
            return None
        code = self._codes[position]
        return None if code == _NONE else code


def write_table(path: Path = TABLE) -> None:
    from pypinyin import Style, lazy_pinyin  # only to write the table

    by_sound: dict[str, list[str]] = {}
    for code in range(FIRST, LAST + 1):
        character = chr(code)
        reading = lazy_pinyin(character, style=Style.NORMAL, errors="ignore")
        if reading and reading[0].isascii() and reading[0].isalpha():
            by_sound.setdefault(reading[0], []).append(character)
    lines = ["# toneless pinyin, then the characters read so (first reading), from pypinyin (MIT licence, data of the "
             "pinyin-data project); written by bot/core/pinyin.py"]
    lines += [f"{sound} {''.join(characters)}" for sound, characters in sorted(by_sound.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_table()
