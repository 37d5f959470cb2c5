"""Telegram's HTML subset: check it, measure it as Telegram does, split it, and render it as plain text."""

from __future__ import annotations

import html
import re

MESSAGE_LIMIT = 4096
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span",
     "tg-spoiler", "blockquote", "tg-emoji"}
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);")
_HREF = re.compile(r"""^\s+href\s*=\s*(["'])(.*?)\1\s*$""")


def check_html(text: str) -> list[str]:
    """Problems Telegram would reject ("can't parse entities"), in plain words; empty when fine."""
    problems: list[str] = []
    stack: list[str] = []
    pos = 0
    for tag in _TAG.finditer(text):
        problems.extend(_check_text(text[pos : tag.start()]))
        pos = tag.end()
        closing, name, attributes = tag.group(1), tag.group(2).lower(), tag.group(3)
        if name not in ALLOWED_TAGS:
            problems.append(f"tag <{name}> is not allowed (Telegram allows: b, i, u, s, a, code, pre, ...)")
            continue
        if closing:
            if not stack or stack[-1] != name:
                problems.append(f"</{name}> closes a tag that is not open")
            else:
                stack.pop()
            continue
        if name == "a":
            href = _HREF.match(attributes or "")
            if not href or not re.match(r"^(https?://|mailto:|tg://)\S+$", href.group(2)):
                problems.append('a link needs href="https://..." (or mailto:)')
        stack.append(name)
    problems.extend(_check_text(text[pos:]))
    problems.extend(f"<{name}> is never closed" for name in reversed(stack))
    return problems


def _check_text(segment: str) -> list[str]:
    problems = []
    if "<" in segment or ">" in segment:
        problems.append("a bare < or > must be written &lt; or &gt;")
    for match in re.finditer("&", segment):
        if not _ENTITY.match(segment, match.start()):
            problems.append("a bare & must be written &amp;")
            break
    return problems


def to_plain(text: str) -> str:
    """The text a reader sees: tags removed, entities decoded."""
    return html.unescape(_TAG.sub("", text))


def visible_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units of the visible text)."""
    return len(to_plain(text).encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split into messages under `limit`, at paragraph, then line, then word boundaries.

    Tags never span a split: a paragraph is assumed to close its own tags, which the FAQ check enforces.
    """
    if visible_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        candidate = f"{current}{piece}" if current else piece.lstrip("\n")
        if current and visible_length(candidate) > limit:
            parts.append(current.rstrip())
            current = piece.lstrip("\n")
        else:
            current = candidate
    if current.strip():
        parts.append(current.rstrip())
    return parts


def _pieces(text: str, limit: int) -> list[str]:
    """Paragraphs (with their separators); a paragraph longer than `limit` is cut at lines, then words."""
    pieces: list[str] = []
    for paragraph in re.split(r"(?<=\n\n)", text):
        if visible_length(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        for line in re.split(r"(?<=\n)", paragraph):
            if visible_length(line) <= limit:
                pieces.append(line)
                continue
            for word in re.split(r"(?<= )", line):
                while visible_length(word) > limit:  # one endless word: cut it
                    cut = _fitting_prefix(word, limit)
                    pieces.append(word[:cut])
                    word = word[cut:]
                pieces.append(word)
    return pieces


def _fitting_prefix(word: str, limit: int) -> int:
    """How many characters of `word` fit in `limit` UTF-16 units (an emoji counts two), at least one."""
    units = 0
    for i, char in enumerate(word):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return max(i, 1)
    return len(word)


_LATIN_RUN = re.compile(
    r"(&(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)|/?[A-Za-z0-9@][A-Za-z0-9@._:/%?=#+-]*[A-Za-z0-9/]|/?[A-Za-z]"
)


def _isolate(match: re.Match[str]) -> str:
    return match.group(0) if match.group(1) else f"\u2068{match.group(0)}\u2069"


def isolate_latin(text: str) -> str:
    """Wrap left-to-right runs (URLs, e-mail, acronyms) in Unicode isolates for right-to-left text.

    Without them, an Arabic line ending in "learningcities@unesco.org." shows its punctuation on the
    wrong side. Tags and their attributes are left untouched.
    """
    out: list[str] = []
    pos = 0
    for tag in _TAG.finditer(text):
        out.append(_LATIN_RUN.sub(_isolate, text[pos : tag.start()]))
        out.append(tag.group(0))
        pos = tag.end()
    out.append(_LATIN_RUN.sub(_isolate, text[pos:]))
    return "".join(out)
