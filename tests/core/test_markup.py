"""Telegram's HTML subset: what it accepts, how it counts, how a long answer is split, how RTL text is kept."""

from __future__ import annotations

import random
import re

import pytest

from bot.core.markup import MESSAGE_LIMIT, check_html, isolate_latin, split_message, to_plain, visible_length

LRI, PDI = "\u2068", "\u2069"


@pytest.mark.parametrize(
    "html",
    [
        "<b>bold</b> <strong>strong</strong> <i>it</i> <em>em</em> <u>u</u> <ins>ins</ins>",
        "<s>s</s> <strike>strike</strike> <del>del</del> <code>x = 1</code> <pre>block</pre>",
        '<a href="https://www.uil.unesco.org/en/learning-cities">site</a> <a href="mailto:a@b.org">mail</a>',
        "<tg-spoiler>secret</tg-spoiler> <blockquote>quote</blockquote> <span class=\"tg-spoiler\">x</span>",
        "<b>nested <i>tags</i> closed in order</b>",
        "R&amp;D &lt;tag&gt; &quot;q&quot; &#8364; &#x20AC;",
        "plain text, with punctuation: 100% (ok)!",
    ],
)
def test_telegram_html_is_accepted(html: str) -> None:
    assert check_html(html) == []


@pytest.mark.parametrize(
    ("html", "says"),
    [
        ("line<br>break", "<br>"),
        ("<div>block</div>", "<div>"),
        ("<p>paragraph</p>", "<p>"),
        ("<b>never closed", "never closed"),
        ("closed </i> too early", "not open"),
        ("<b><i>crossed</b></i>", "not open"),
        ("1 < 2", "&lt;"),
        ("2 > 1", "&gt;"),
        ("R&D", "&amp;"),
        ("fish & chips &amp; more", "&amp;"),
        ("<a>no address</a>", "href"),
        ('<a href="javascript:alert(1)">x</a>', "href"),
    ],
)
def test_html_telegram_would_reject_is_reported(html: str, says: str) -> None:
    problems = check_html(html)
    assert problems
    assert any(says in problem for problem in problems)


def test_visible_length_ignores_tags_and_counts_entities_as_one_character() -> None:
    assert visible_length('<b>abc</b> <a href="https://example.org/long/address">d</a>') == 5
    assert visible_length("&amp;&lt;&#8364;") == 3


def test_visible_length_counts_utf16_units_as_telegram_does() -> None:
    assert visible_length("😀") == 2  # outside the Basic Multilingual Plane: a surrogate pair
    assert visible_length("é学م") == 3
    assert visible_length("<i>𝄞</i>x") == 3


def test_to_plain_removes_tags_and_decodes_entities() -> None:
    assert to_plain("<b>R&amp;D</b> &lt;3") == "R&D <3"


def _plain_without_separators(text: str) -> str:
    return re.sub(r"\s+", "", to_plain(text))


def _answer(paragraphs: int, seed: int) -> str:
    rng = random.Random(seed)
    vocabulary = ["learning", "city", "réseau", "都市", "مدينة", "😀", "R&amp;D", "<b>bold</b>", "<i>it</i>"]
    return "\n\n".join(
        f"<b>Part {n}</b>\n" + " ".join(rng.choice(vocabulary) for _ in range(rng.randint(5, 400)))
        for n in range(paragraphs)
    )


def test_a_short_message_is_sent_as_it_is() -> None:
    text = "<b>Hello</b>\n\nA short answer."
    assert split_message(text) == [text]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("limit", [MESSAGE_LIMIT, 500, 120])
def test_every_part_fits_and_no_text_is_lost(seed: int, limit: int) -> None:
    text = _answer(15, seed)
    parts = split_message(text, limit)
    assert all(visible_length(part) <= limit for part in parts)
    assert all(part.strip() for part in parts)
    assert "".join(_plain_without_separators(part) for part in parts) == _plain_without_separators(text)


def test_parts_are_cut_at_paragraph_boundaries() -> None:
    paragraphs = [f"<b>Paragraph {n}</b>\n" + "word " * 60 + "end." for n in range(12)]
    text = "\n\n".join(paragraphs)
    parts = split_message(text, 1000)
    assert len(parts) > 1
    for part in parts:
        assert check_html(part) == []
        assert all(paragraph in paragraphs for paragraph in part.split("\n\n"))
    assert "\n\n".join(parts) == text


def test_a_paragraph_longer_than_the_limit_is_cut_between_words() -> None:
    text = " ".join(f"w{n}" for n in range(400))
    parts = split_message(text, 100)
    assert all(visible_length(part) <= 100 for part in parts)
    assert " ".join(" ".join(parts).split()) == text


def test_an_endless_word_is_cut() -> None:
    word = "x" * 250
    parts = split_message(word, 100)
    assert all(visible_length(part) <= 100 for part in parts)
    assert "".join(parts) == word


def test_an_endless_run_of_emoji_is_cut_by_utf16_length() -> None:
    text = "ok " + "😀" * 120
    parts = split_message(text, 100)
    assert all(visible_length(part) <= 100 for part in parts)
    assert "".join(_plain_without_separators(part) for part in parts) == _plain_without_separators(text)


def test_urls_emails_and_acronyms_are_isolated_in_right_to_left_text() -> None:
    text = "راسلوا learningcities@unesco.org أو زوروا https://www.uil.unesco.org/en/learning-cities. شبكة GNLC"
    isolated = isolate_latin(text)
    assert f"{LRI}learningcities@unesco.org{PDI}" in isolated
    assert f"{LRI}https://www.uil.unesco.org/en/learning-cities{PDI}." in isolated
    assert f"{LRI}GNLC{PDI}" in isolated
    assert isolated.replace(LRI, "").replace(PDI, "") == text


def test_tags_attributes_and_entities_are_left_untouched() -> None:
    text = '<a href="https://www.uil.unesco.org/">الموقع</a> &amp; <b>UIL</b> &#8364;'
    isolated = isolate_latin(text)
    assert isolated.startswith('<a href="https://www.uil.unesco.org/">الموقع</a> &amp; <b>')
    assert f"<b>{LRI}UIL{PDI}</b>" in isolated
    assert isolated.endswith(" &#8364;")
    assert check_html(isolated) == []


def test_arabic_text_without_latin_runs_is_unchanged() -> None:
    text = "<b>ما هي المدينة المتعلمة؟</b>\nمدينة تعزز التعلم مدى الحياة للجميع."
    assert isolate_latin(text) == text
