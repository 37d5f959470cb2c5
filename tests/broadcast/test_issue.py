"""The pure parts of a broadcast: an issue's checks and plan, its file, and the pacing under 30/s."""

from __future__ import annotations

from pathlib import Path

from bot.core.issue import MAX_PARTS, Issue, plan, problems
from bot.core.markup import MESSAGE_LIMIT
from bot.core.pacing import Pacer
from bot.storage.issue_files import read_issue

LANGUAGES = ("en", "fr", "de", "ar")


def messages(issue: Issue) -> list[str]:
    return [p.message for p in problems(issue, LANGUAGES)]


def test_a_sound_issue_has_no_problems_and_each_language_falls_back_to_the_default() -> None:
    issue = Issue("2025-04", "en", {"en": "<b>News</b>", "fr": "<i>Nouvelles</i>"})

    assert problems(issue, LANGUAGES) == []
    assert issue.parts("fr") == ("<i>Nouvelles</i>",)
    assert issue.parts("de") == ("<b>News</b>",)  # no German text: the default


def test_an_issue_is_refused_for_a_missing_default_an_unknown_language_bad_html_or_a_bad_id() -> None:
    issue = Issue("2025/04", "de", {"en": "<b>News", "xx": "Hi", "fr": "Tom & Jerry"})

    found = messages(issue)

    assert any("id '2025/04'" in m for m in found)
    assert "the default language 'de' has no text under `text`" in found
    assert "HTML: <b> is never closed" in found
    assert "HTML: a bare & must be written &amp;" in found
    assert any(m.startswith("unknown language 'xx'; the FAQ has: en, fr, de, ar") for m in found)


def test_a_long_text_is_split_below_telegrams_limit_and_a_far_too_long_one_is_refused() -> None:
    paragraph = "<b>Learning cities</b> " + "lifelong learning for all " * 40
    long = Issue("long", "en", {"en": "\n\n".join([paragraph] * 8)})
    endless = Issue("endless", "en", {"en": "\n\n".join([paragraph] * 200)})

    parts = long.parts("en")

    assert problems(long, LANGUAGES) == [] and 1 < len(parts) <= MAX_PARTS
    assert all(len(part) <= MESSAGE_LIMIT for part in parts)
    assert any("messages; keep it to" in m for m in messages(endless))


def test_the_plan_counts_subscribers_per_language_and_names_those_getting_the_default() -> None:
    issue = Issue("2025-04", "en", {"en": "News", "fr": "Nouvelles"})

    planned = plan(issue, [(1, "en"), (2, "fr"), (3, "de"), (4, "de"), (5, "fr")], already=7)

    assert planned.to_serve == {"de": 2, "en": 1, "fr": 2}
    assert planned.by_text() == {"en": 3, "fr": 2}
    assert planned.defaulted == (3, 4) and planned.total == 5 and planned.already == 7


def test_the_fingerprint_changes_with_any_text_or_the_default() -> None:
    base = Issue("a", "en", {"en": "News", "fr": "Nouvelles"})

    assert base.fingerprint == Issue("a", "en", {"fr": "Nouvelles", "en": "News"}).fingerprint
    assert base.fingerprint != Issue("a", "fr", {"en": "News", "fr": "Nouvelles"}).fingerprint
    assert base.fingerprint != Issue("a", "en", {"en": "News!", "fr": "Nouvelles"}).fingerprint


def test_the_file_keeps_values_as_written_and_names_the_line_of_each_problem(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("id: 2025-04-01\ndefault: EN\ntext:\n  en: |\n    <b>News</b>\n    Line two.\n", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ndefault: en\ntext:\n  en: Hi\n  en: Again\nextra: 1\n", encoding="utf-8")

    issue, found = read_issue(good, LANGUAGES)
    refused, problems_found = read_issue(bad, LANGUAGES)

    assert found == [] and issue == Issue("2025-04-01", "en", {"en": "<b>News</b>\nLine two."})
    assert refused is None
    assert [(p.line, p.message) for p in problems_found] == [
        (6, "unknown key 'extra'; an issue has: id, default, text"),
        (5, "language 'en' appears twice under `text`"),
    ]


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_the_pacer_spaces_sends_evenly_and_a_reply_takes_a_slot() -> None:
    time = FakeTime()
    pacer = Pacer(10, clock=time.clock, sleep=time.sleep)
    sent = []
    for _ in range(3):
        await pacer.wait()
        await pacer.send_slot()
        sent.append(round(time.now, 3))
    pacer.note_send()  # a reply to a user went out: it takes the next slot
    await pacer.send_slot()
    sent.append(round(time.now, 3))

    assert sent == [100.0, 100.1, 100.2, 100.4]


async def test_after_a_429_nobody_sends_until_retry_after_and_the_rate_drops_then_recovers() -> None:
    time = FakeTime()
    pacer = Pacer(10, clock=time.clock, sleep=time.sleep)
    await pacer.send_slot()
    pacer.pause(1)  # a 429 with retry_after 1...
    pacer.pause(1)  # ...and another for a message that was in flight with it

    await pacer.send_slot()

    assert round(time.now, 3) == 101.1 and pacer.rate == 9  # one drop per pause, however many 429s
    time.now += 5
    await pacer.wait()
    assert pacer.rate == 9.5
