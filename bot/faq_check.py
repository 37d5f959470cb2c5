"""`lcbot faq check`: every problem with file and line, colliding variants, and a table per language."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.core.answering import Answerer
from bot.core.faq import Faq
from bot.core.matching import MatchKind
from bot.core.text import OUTSIDE
from bot.storage.faq_files import Problem, load_faq


def find_collisions(faq: Faq) -> list[Problem]:
    """Variants of one topic that the matcher answers with an unrelated topic, or never answers because they
    name a phrase of the `outside:` list (a one-word phrase such as "jobs" also blocks "Does a learning city
    create jobs?"): staff should reword them."""
    answerer = Answerer(faq, faq.source_language)
    problems: list[Problem] = []
    for entry in faq:
        family = faq.family(entry.id)
        analyzer = answerer.index.languages[entry.lang].analyzer
        for question in entry.questions:
            if OUTSIDE in analyzer.tokens(question):
                problems.append(Problem(
                    "warning", f"{entry.lang}.yaml", 0,
                    f"question '{question}' of '{entry.id}' names a subject of the `outside:` list, so the bot "
                    f"never answers it: make that phrase longer (more words) or reword the question"))
                continue
            match = answerer.match_in(question, entry.lang)
            if match.kind is MatchKind.ANSWER and match.topic_id not in family:
                problems.append(Problem(
                    "warning", f"{entry.lang}.yaml", 0,
                    f"question '{question}' of '{entry.id}' is answered by '{match.topic_id}' "
                    f"(score {match.score:.0f}); reword it or add it to '{match.topic_id}'"))
    return problems


def completeness(faq: Faq, problems: list[Problem]) -> list[str]:
    stale = {p.file: 0 for p in problems}
    for p in problems:
        if "older than its English source" in p.message:
            stale[p.file] += 1
    lines = [f"{'language':10} {'topics':>7} {'variants':>9} {'stale':>6}"]
    for code, profile in faq.languages.items():
        entries = faq.entries_in(code)
        variants = sum(len(e.questions) for e in entries)
        lines.append(f"{code + ' ' + profile.name:10.10} {len(entries):>4}/{len(faq.topics):<2} {variants:>9} "
                     f"{stale.get(f'{code}.yaml', 0):>6}")
    return lines


def run_check(directory: Path, *, collisions: bool = True) -> int:
    faq, problems = load_faq(directory)
    if faq is not None and collisions:
        problems = problems + find_collisions(faq)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for problem in errors + warnings:
        print(problem if problem.line else f"{problem.file}: {problem.severity}: {problem.message}",
              file=sys.stderr if problem.severity == "error" else sys.stdout)
    if faq is not None:
        print("\n".join(completeness(faq, problems)))
    print(f"{len(errors)} error(s), {len(warnings)} warning(s) in {directory}")
    return 1 if errors else 0
