"""Staff reports: counts over the question log, unanswered questions grouped, proposals as FAQ snippets."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.config import bundled
from bot.core.answering import Answerer
from bot.core.faq import Faq
from bot.core.ports import LoggedQuestion
from bot.staff.reports import gather_stats, gather_unanswered, group_questions, proposals, proposals_yaml
from bot.storage.faq_files import load_faq, read_faq
from bot.storage.repositories import Store, StoredQuestion

NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def faq() -> Faq:
    return read_faq(bundled("faq"))


@pytest.fixture(scope="module")
def answerer(faq: Faq) -> Answerer:
    return Answerer(faq)


def asked(text: str, lang: str = "en", *, outcome: str = "fallback", chosen: str | None = None,
          rejected: bool = False, days_ago: int = 0, number: int = 0) -> StoredQuestion:
    return StoredQuestion(number, text, lang, outcome, None, 10.0, NOW - timedelta(days=days_ago), chosen, rejected)


def test_a_question_and_its_sloppy_twin_are_one_group() -> None:
    groups = group_questions([asked("how much does membership cost"), asked("How much does membership costs??"),
                              asked("What will the weather be like tomorrow?")])
    assert [g.count for g in groups] == [2, 1]
    assert set(groups[0].examples) == {"how much does membership cost", "How much does membership costs??"}


def test_a_short_question_is_not_swallowed_by_a_longer_one_containing_its_words() -> None:
    groups = group_questions([asked("membership"), asked("how much does membership cost for a small town")])
    assert [g.count for g in groups] == [1, 1]


def test_groups_come_most_asked_first_with_languages_and_closest_topic(answerer: Answerer) -> None:
    questions = [asked("Can I bring my dog to the conference?", days_ago=1),
                 *[asked("how much does membership cost", number=n) for n in range(3)],
                 asked("How much does membership costs??", "fr", rejected=True),
                 asked("Can I bring my dog to the conference", number=9)]
    groups = group_questions(questions, answerer)
    first, second = groups
    assert (first.count, first.languages, first.none_of_these) == (4, ("en", "fr"), 1)
    assert first.examples[0] == "how much does membership cost"  # the most asked wording first
    assert first.closest_topic == "membership-fee" and 0 < first.closest_score <= 100
    assert (second.count, second.last_asked) == (2, NOW)
    assert second.closest_topic != "greeting"  # small talk is never the closest topic


def test_proposals_paste_under_their_topic_and_the_faq_still_loads(faq: Faq, tmp_path: Path) -> None:
    tricky = ["how do towns sign up", "comment s'inscrire: ville ?", "yes", "#1 way to join?", 'the "join" button',
              "2024", "join -- now  please\n  ok", "null"]
    chosen = [asked(text, "fr" if "comment" in text else "en", outcome="suggest", chosen="how-to-join")
              for text in tricky]
    chosen += [asked("how do towns sign up", outcome="suggest", chosen="how-to-join"),
               asked("Is there a membership fee?", outcome="suggest", chosen="membership-fee")]  # already a variant
    items = proposals(chosen, faq)
    assert [(p.lang, p.topic_id) for p in items] == [("en", "how-to-join"), ("fr", "how-to-join")]
    assert items[0].questions[0] == ("how do towns sign up", 2)  # picked twice: first
    snippet = proposals_yaml(items)
    expected = [" ".join(t.split()) for t in tricky]
    assert sorted(yaml.safe_load(snippet)) == sorted(expected)  # every wording survives YAML quoting as text

    folder = tmp_path / "faq"
    shutil.copytree(bundled("faq"), folder)
    blocks = snippet.split("# ===== ")[1:]
    for block in blocks:  # what staff do: paste each block's lines under the topic's questions:
        name = block.split()[0].removeprefix("faq/")
        lines = [line for line in block.splitlines() if line.startswith("      - ")]
        path = folder / name
        text = path.read_text(encoding="utf-8")
        anchor = text.index("  how-to-join:\n")
        at = text.index("    questions:\n", anchor) + len("    questions:\n")
        path.write_text(text[:at] + "\n".join(lines) + "\n" + text[at:], encoding="utf-8")
    loaded, problems = load_faq(folder)
    assert loaded is not None, [str(p) for p in problems if p.severity == "error"]
    assert set(expected) <= {*loaded.entry("how-to-join", "en").questions, *loaded.entry("how-to-join", "fr").questions}


def test_no_proposals_is_said_in_a_comment(faq: Faq) -> None:
    assert yaml.safe_load(proposals_yaml(proposals([], faq))) is None


async def test_stats_count_questions_per_day_language_and_outcome_and_votes_per_topic(store: Store) -> None:
    clock = Clock(NOW - timedelta(days=40))
    store = Store(store.database, clock)
    await store.questions.record(LoggedQuestion("too old", "en", "answer", "contact", 90))
    asked_then = [(2, "a", "en", "answer"), (2, "b", "fr", "suggest"), (0, "c", "en", "suggest"),
                  (0, "d", "en", "fallback"), (0, "e", "ar", "answer")]
    for days_ago, text, lang, outcome in asked_then:
        clock.now = NOW - timedelta(days=days_ago, hours=14)  # 01:00 UTC: the day must not slip in any zone
        number = await store.questions.record(LoggedQuestion(text, lang, outcome, None, 50))
        if text == "b":
            await store.questions.record_choice(number, "how-to-join")
        if text == "c":
            await store.questions.record_rejection(number)
    for helpful, topic in [(True, "contact"), (False, "how-to-join"), (False, "how-to-join"), (True, "how-to-join")]:
        await store.feedback.record(1, topic, "en", helpful)

    stats = await gather_stats(store, days=7, now=NOW)
    assert [count for _, count in stats.per_day] == [0, 0, 0, 0, 2, 0, 3]
    assert stats.per_day[-1][0] == NOW.date()
    assert stats.per_language == [("en", 3), ("ar", 1), ("fr", 1)]
    assert stats.outcomes == {"answer": 2, "suggest": 2, "fallback": 1}
    assert (stats.total, stats.picked, stats.none_of_these) == (5, 1, 1)
    assert [(v.topic_id, v.up, v.down) for v in stats.votes] == [("how-to-join", 1, 2), ("contact", 1, 0)]


async def test_unanswered_are_the_fallbacks_and_none_of_these_of_the_period(store: Store, answerer: Answerer) -> None:
    clock = Clock(NOW - timedelta(days=3))
    store = Store(store.database, clock)
    await store.questions.record(LoggedQuestion("how much does membership cost", "en", "fallback", None, 20))
    clock.now = NOW
    await store.questions.record(LoggedQuestion("how much does membership costs??", "en", "fallback", None, 20))
    turned_down = await store.questions.record(LoggedQuestion("membership price", "en", "suggest", None, 40))
    await store.questions.record_rejection(turned_down)
    await store.questions.record(LoggedQuestion("What is a learning city?", "en", "answer", "contact", 99))

    total, groups = await gather_unanswered(store, answerer, days=30, now=NOW)
    assert total == 3
    assert [(g.count, g.none_of_these) for g in groups] == [(2, 0), (1, 1)]
    total, groups = await gather_unanswered(store, answerer, days=1, now=NOW)
    assert total == 2
