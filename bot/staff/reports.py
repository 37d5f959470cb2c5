"""What people asked: counts per day, language and outcome with the votes per topic; the questions the FAQ
missed, grouped by similarity; and the "did you mean" choices, proposed as new question variants.

Reads the question log and the votes through the Store; rendering is left to bot/staff/render.py.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import yaml
from rapidfuzz import fuzz, process

from bot.core.answering import Answerer
from bot.core.faq import Faq
from bot.core.matching import MatchKind
from bot.core.text import fold, words
from bot.storage.repositories import Store, StoredQuestion

SIMILAR = 80  # 0..100: a question at least this alike to a group's first question joins the group
CANDIDATES = 8  # groups compared in full for each wording: the nearest by a quick measure
OUTCOMES = (MatchKind.ANSWER.value, MatchKind.SUGGEST.value, MatchKind.FALLBACK.value)


def period_start(days: int, now: datetime | None = None) -> datetime:
    """Midnight (UTC) opening a period of `days` days that ends today."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=max(days, 1) - 1), time(), UTC)


@dataclass(frozen=True, slots=True)
class TopicVotes:
    topic_id: str
    up: int
    down: int


@dataclass(frozen=True)
class Stats:
    first_day: date
    last_day: date
    per_day: list[tuple[date, int]]  # every day of the period, oldest first, zeros included
    per_language: list[tuple[str, int]]  # most asked first
    outcomes: dict[str, int]  # answer, suggest, fallback
    picked: int  # suggestions then picked
    none_of_these: int  # suggestions all turned down
    votes: list[TopicVotes]  # most 👎 first

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    def share(self, count: int) -> float:
        """`count` as a percentage of all questions."""
        return 100 * count / self.total if self.total else 0.0


async def gather_stats(store: Store, days: int = 30, now: datetime | None = None) -> Stats:
    since = period_start(days, now)
    tallies = await store.questions.tally(since)
    votes = await store.feedback.by_topic_since(since)
    first, last = since.date(), (now or datetime.now(UTC)).astimezone(UTC).date()
    per_day: Counter[date] = Counter()
    per_language: Counter[str] = Counter()
    outcomes: Counter[str] = Counter(dict.fromkeys(OUTCOMES, 0))
    picked = rejected = 0
    for row in tallies:
        per_day[row.day] += row.count
        per_language[row.lang] += row.count
        outcomes[row.outcome] += row.count
        picked += row.chosen
        rejected += row.rejected
    days_list = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return Stats(
        first, last, [(day, per_day[day]) for day in days_list],
        sorted(per_language.items(), key=lambda item: (-item[1], item[0])), dict(outcomes), picked, rejected,
        sorted((TopicVotes(topic, up, down) for topic, (up, down) in votes.items()),
               key=lambda v: (-v.down, -v.up, v.topic_id)),
    )


@dataclass(frozen=True)
class Group:
    """Similar questions the FAQ missed."""

    count: int
    examples: tuple[str, ...]  # distinct wordings, most asked first
    languages: tuple[str, ...]  # most frequent first
    none_of_these: int  # how many of them turned down the suggestions (the others got the fallback)
    closest_topic: str | None  # the FAQ topic nearest to them, even below the suggestion threshold
    closest_score: float  # 0..100
    last_asked: datetime


def similarity_key(text: str) -> str:
    """What is compared: folded words (case, accents, punctuation and emoji gone)."""
    return " ".join(words(fold(text))) or text.strip()


def similarity(a: str, b: str) -> float:
    """Word-set similarity tempered by word order, so a short question is not swallowed by any longer one
    that contains its words ("membership" vs "how much does membership cost")."""
    return (fuzz.token_set_ratio(a, b) + fuzz.token_sort_ratio(a, b)) / 2


def cluster(keys: list[str], threshold: float = SIMILAR) -> list[list[str]]:
    """Greedy leader clustering: each key, most frequent first, joins the first alike group or starts one.

    Candidates are found with a plain ratio over sorted words, which is fast: `similarity` reaching
    `threshold` needs that ratio (token_sort_ratio) to reach 2 * threshold - 100.
    """
    leaders: list[str] = []
    sorted_leaders: list[str] = []
    groups: list[list[str]] = []
    floor = 2 * threshold - 100
    for key in keys:
        found = None
        words_sorted = " ".join(sorted(key.split()))
        nearest = process.extract(words_sorted, sorted_leaders, scorer=fuzz.ratio, score_cutoff=floor,
                                  limit=CANDIDATES)
        for _, _, position in sorted(nearest, key=lambda item: item[2]):  # earliest (largest) group first
            if similarity(key, leaders[position]) >= threshold:
                found = position
                break
        if found is None:
            leaders.append(key)
            sorted_leaders.append(words_sorted)
            groups.append([key])
        else:
            groups[found].append(key)
    return groups


def group_questions(questions: list[StoredQuestion], answerer: Answerer | None = None,
                    threshold: float = SIMILAR) -> list[Group]:
    """Group similar questions, most asked group first, each with its closest FAQ topic."""
    by_key: dict[str, list[StoredQuestion]] = {}
    for question in questions:
        by_key.setdefault(similarity_key(question.text), []).append(question)
    keys = sorted(by_key, key=lambda k: (-len(by_key[k]), k))
    groups: list[Group] = []
    for members in cluster(keys, threshold):
        asked = [q for key in members for q in by_key[key]]
        wordings = [Counter(q.text.strip() for q in by_key[key]).most_common(1)[0][0] for key in members]
        languages = Counter(q.lang for q in asked)
        topic, score = closest_topic(answerer, wordings[0], languages.most_common(1)[0][0]) if answerer else (
            None, 0.0)
        groups.append(Group(len(asked), tuple(wordings), tuple(lang for lang, _ in languages.most_common()),
                            sum(q.rejected for q in asked), topic, score, max(q.asked_at for q in asked)))
    return sorted(groups, key=lambda g: (-g.count, -g.last_asked.timestamp()))


def closest_topic(answerer: Answerer, text: str, lang: str) -> tuple[str | None, float]:
    """The FAQ topic scoring best for `text` in `lang` (small talk aside), however low its score."""
    faq = answerer.faq
    index = answerer.index.languages.get(lang) or answerer.index.languages.get(answerer.policy.default)
    if index is None:
        return None, 0.0
    scores = {topic: value for topic, value in index.score(text, True).items()
              if topic in faq.topics and faq.topics[topic].category is not None}
    if not scores:
        return None, 0.0
    topic, value = max(scores.items(), key=lambda item: (item[1], item[0]))
    return topic, round(value * 100, 1)


async def gather_unanswered(store: Store, answerer: Answerer, days: int = 30,
                            now: datetime | None = None) -> tuple[int, list[Group]]:
    """(how many unanswered questions, their groups): fallbacks and "none of these" of the period."""
    questions = await store.questions.unanswered(period_start(days, now))
    # Grouping thousands of questions takes a moment: in a thread, so a running bot keeps answering.
    return len(questions), await asyncio.to_thread(group_questions, questions, answerer)


@dataclass(frozen=True)
class Proposal:
    """Wordings users confirmed mean `topic_id` (they picked it among the suggestions): variants to add."""

    lang: str
    topic_id: str
    questions: tuple[tuple[str, int], ...]  # (wording, times picked), most picked first


def proposals(chosen: list[StoredQuestion], faq: Faq) -> list[Proposal]:
    """Picked suggestions by language file and topic; wordings the FAQ already has are left out."""
    known = {lang: {similarity_key(q) for entry in faq.entries_in(lang) for q in entry.questions}
             for lang in faq.languages}
    picked: dict[tuple[str, str], Counter[str]] = {}
    wording: dict[tuple[str, str, str], str] = {}
    for question in reversed(chosen):  # oldest first: the first wording seen names its key
        text = " ".join(question.text.split())
        key = similarity_key(text)
        topic = question.chosen_topic
        if not text or topic not in faq.topics or question.lang not in faq.languages or key in known[question.lang]:
            continue
        picked.setdefault((question.lang, topic), Counter())[key] += 1
        wording.setdefault((question.lang, topic, key), text)
    order = {topic: n for n, topic in enumerate(faq.topics)}
    languages = list(faq.languages)
    return [
        Proposal(lang, topic, tuple((wording[lang, topic, key], n)
                                    for key, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))))
        for (lang, topic), counts in sorted(picked.items(), key=lambda item: (languages.index(item[0][0]),
                                                                                order[item[0][1]]))
    ]


def proposals_yaml(items: list[Proposal], directory: str = "faq") -> str:
    """FAQ snippets to paste under each topic's `questions:` (indented as in the FAQ files), after review."""
    if not items:
        return "# No proposals: no one picked a \"did you mean\" suggestion in this period.\n"
    lines = ["# Question variants users confirmed by picking a suggestion. Review each one, then paste it",
             "# under the topic's `questions:` in the language file named above it, and run `lcbot faq check`."]
    current = None
    for item in items:
        if item.lang != current:
            current = item.lang
            lines += ["", f"# ===== {directory}/{item.lang}.yaml ====="]
        lines.append(f"# entries > {item.topic_id} > questions:")
        for text, times in item.questions:
            quoted = yaml.safe_dump([text], allow_unicode=True, width=1_000_000).strip()
            lines.append(f"      {quoted}  # picked {times}x")
    return "\n".join(lines) + "\n"
