"""Russian typed in Latin letters ("kak nashemu gorodu vstupit v set"), as people write it on a phone or a
keyboard without Cyrillic, read back in Cyrillic so that the Russian FAQ can answer it.

There is no single standard for this informal transliteration ("translit"): the common spellings of each
sound are accepted (shch/sch, zh, kh/h, ch, sh, ts, ya/ja, yu/ju, yo/jo, ' for the soft sign). A word
the result does not make Russian is left to the Latin-script languages: the caller decides by counting
the words each reading knows.
"""

from __future__ import annotations

import re
from collections.abc import Container

# Longest spellings first: "shch" before "sh" before "s".
_CLUSTERS = (
    ("tsya", "тся"),  # the reflexive ending ("stanovitsya", "nazyvaetsya"); ц + я would spell no Russian word
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ch", "ч"), ("sh", "ш"), ("ts", "ц"), ("tz", "ц"),
    ("ya", "я"), ("ja", "я"), ("yu", "ю"), ("ju", "ю"), ("yo", "ё"), ("jo", "ё"), ("ye", "е"), ("je", "е"),
    ("iy", "ий"), ("x", "кс"),
)
_LETTERS = {
    "a": "а", "b": "б", "v": "в", "w": "в", "g": "г", "d": "д", "e": "е", "z": "з", "i": "и", "j": "й",
    "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р", "s": "с", "t": "т", "u": "у",
    "f": "ф", "h": "х", "c": "ц", "q": "к", "'": "ь",
}
_VOWELS = set("aeiouy")
_WORD = re.compile(r"[a-z']+")


def _word(latin: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(latin):
        for spelling, cyrillic in _CLUSTERS:
            # "iy" is ий before a consonant or at the end ("obuchayushchiysya"), but "premiyu" is премию
            if latin.startswith(spelling, i) and not (spelling == "iy" and latin[i + 2 : i + 3] in _VOWELS):
                out.append(cyrillic)
                i += len(spelling)
                break
        else:
            char = latin[i]
            if char == "y":
                # й after a vowel at a word's end or before a consonant ("kakoy", "moy"); ы elsewhere ("vy")
                after_vowel = i > 0 and latin[i - 1] in _VOWELS
                before_vowel = i + 1 < len(latin) and latin[i + 1] in _VOWELS
                out.append("й" if after_vowel and not before_vowel else "ы")
            else:
                out.append(_LETTERS.get(char, char))
            i += 1
    return "".join(out)


def cyrillic(text: str, keep: Container[str] = ()) -> str:
    """`text` with its Latin words spelt in Cyrillic, but those in `keep` (names the Russian FAQ itself writes
    in Latin letters: "unesco", "gnlc"); punctuation, digits and other scripts stay as they are."""
    return _WORD.sub(lambda found: found.group() if found.group() in keep else _word(found.group()),
                     text.lower().replace("’", "'"))
