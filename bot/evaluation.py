"""Measure the matcher on the team's own multilingual evaluation set (eval/*.jsonl)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.answering import Answerer, Question
from bot.core.matching import MatchKind

# right: the expected topic or a narrower one; broader: the topic it refines (not right, not a wrong topic's
# answer: its related-topic buttons lead on); wrong: an unrelated topic's answer, the failure to avoid.
OUTCOMES = ("right", "broader", "suggested", "wrong", "fallback", "oos_ok", "oos_answered")


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    lang: str
    expect: str | None
    style: str
    hint: str | None = None
    file: str = ""
    line: int = 0


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    lang_right: int = 0

    @property
    def in_scope(self) -> int:
        return sum(self.counts[k] for k in ("right", "broader", "suggested", "wrong", "fallback"))

    @property
    def out_of_scope(self) -> int:
        return self.counts["oos_ok"] + self.counts["oos_answered"]

    def rate(self, outcome: str) -> float:
        base = self.out_of_scope if outcome.startswith("oos") else self.in_scope
        return 100.0 * self.counts[outcome] / base if base else 0.0


@dataclass
class Report:
    by_lang: dict[str, Tally]
    by_style: dict[str, Tally]
    total: Tally
    failures: list[tuple[Case, str, str | None, float]]


def read_cases(directory: Path) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(directory.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            cases.append(Case(row["text"], row["lang"], row.get("expect"), row.get("style", "plain"),
                              row.get("hint"), path.name, number))
    return cases


def evaluate(answerer: Answerer, cases: Iterable[Case]) -> Report:
    by_lang: dict[str, Tally] = defaultdict(Tally)
    by_style: dict[str, Tally] = defaultdict(Tally)
    total = Tally()
    failures: list[tuple[Case, str, str | None, float]] = []
    for case in cases:
        answer = answerer.ask(Question(case.text, telegram_lang=case.hint or case.lang))
        outcome = classify(answerer, case, answer.kind, answer.faq_id, answer.suggestions)
        for tally in (by_lang[case.file.removesuffix(".jsonl") or case.lang], by_style[case.style], total):
            tally.counts[outcome] += 1
            tally.lang_right += answer.lang == case.lang
        if outcome not in ("right", "oos_ok"):
            failures.append((case, outcome, answer.faq_id, answer.score))
    return Report(dict(by_lang), dict(by_style), total, failures)


def classify(answerer: Answerer, case: Case, kind: MatchKind, faq_id: str | None,
             suggestions: tuple[str, ...]) -> str:
    if case.expect is None:
        return "oos_answered" if kind is MatchKind.ANSWER else "oos_ok"
    if kind is MatchKind.ANSWER and faq_id:
        if answerer.faq.answers_question_on(faq_id, case.expect):
            return "right"
        return "broader" if answerer.faq.answers_question_on(case.expect, faq_id) else "wrong"
    if kind is MatchKind.SUGGEST:
        return "suggested"
    return "fallback"


def print_report(answerer: Answerer, directory: Path, *, failures: bool = False) -> int:
    """Print the quality table per language and per style; exit 1 when a quality bar is missed."""
    report = evaluate(answerer, read_cases(directory))
    header = (f"{'':14} {'n':>4} {'right':>6} {'broadr':>6} {'sugg':>6} {'wrong':>6} {'fallbk':>6} {'oos-ans':>7} "
              f"{'lang':>6}")
    print(header)
    for title, tallies in (("language", report.by_lang), ("style", report.by_style)):
        print(f"-- by {title}")
        for name, tally in sorted(tallies.items()):
            print(_row(name, tally))
    print(_row("ALL", report.total))
    if failures:
        print("\n-- not answered right")
        for case, outcome, got, score in report.failures:
            print(f"{outcome:12} {case.file}:{case.line} expected={case.expect} got={got} score={score:.0f} "
                  f"| {case.text[:100]}")
    missed = [name for name, tally in report.by_lang.items() if not meets_bars(tally)]
    if missed:
        print(f"quality bars (right >= 95%, wrong <= 1%, out-of-scope answered <= 3%) missed in: "
              f"{', '.join(sorted(missed))}")
        return 1
    print("quality bars met in every language")
    return 0


def meets_bars(tally: Tally) -> bool:
    return tally.rate("right") >= 95 and tally.rate("wrong") <= 1 and tally.rate("oos_answered") <= 3


def _row(name: str, tally: Tally) -> str:
    n = tally.in_scope + tally.out_of_scope
    lang = 100.0 * tally.lang_right / n if n else 0.0
    rates = " ".join(f"{tally.rate(k):>6.1f}" for k in ("right", "broader", "suggested", "wrong", "fallback"))
    return f"{name:14} {n:>4} {rates} {tally.rate('oos_answered'):>7.1f} {lang:>6.1f}"
