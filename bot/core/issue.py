"""A newsletter issue: one HTML text per language and a default; what makes it sendable; who gets which text."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.markup import check_html, split_message, visible_length

ISSUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_PARTS = 5  # a newsletter issue longer than five Telegram messages is a website, not a message


@dataclass(frozen=True, slots=True)
class Issue:
    id: str
    default: str  # the language whose text goes to subscribers whose own language has none
    texts: Mapping[str, str]  # language -> Telegram HTML

    def text_language(self, language: str) -> str:
        """The language of the text a subscriber in `language` gets: their own when there is one."""
        return language if language in self.texts else self.default

    def parts(self, language: str) -> tuple[str, ...]:
        """The messages a subscriber in `language` gets: one, or the text split below Telegram's limit."""
        return tuple(split_message(self.texts[self.text_language(language)]))

    @property
    def fingerprint(self) -> str:
        """Changes with the default or any text: a file edited after sending began is noticed."""
        canonical = json.dumps({"default": self.default, "texts": dict(self.texts)}, sort_keys=True,
                               ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssueProblem:
    """What is wrong with an issue; `language` names the text concerned (None: the issue as a whole)."""

    message: str
    language: str | None = None
    key: str | None = None  # the file's key the problem is about ("id", "default", "text")


def problems(issue: Issue, languages: Iterable[str]) -> list[IssueProblem]:
    """Everything that would stop the issue from being sent as meant; empty when it is fine."""
    known = tuple(languages)
    found: list[IssueProblem] = []
    if not ISSUE_ID.fullmatch(issue.id):
        found.append(IssueProblem(f"id {issue.id!r} must be 1-64 letters, digits, '.', '_' or '-' "
                                  "(e.g. 2025-04)", key="id"))
    if not issue.texts:
        found.append(IssueProblem("text has no language: give at least the default one", key="text"))
    elif issue.default not in issue.texts:
        found.append(IssueProblem(f"the default language {issue.default!r} has no text under `text`", key="default"))
    for language, text in issue.texts.items():
        if language not in known:
            found.append(IssueProblem(f"unknown language {language!r}; the FAQ has: {', '.join(known)}", language))
            continue
        found.extend(IssueProblem(problem, language) for problem in _text_problems(text))
    return found


def _text_problems(text: str) -> list[str]:
    if not text.strip():
        return ["the text is empty"]
    html = check_html(text)
    if html:
        return [f"HTML: {problem}" for problem in html]
    parts = split_message(text)
    if len(parts) > MAX_PARTS:
        return [f"{visible_length(text):,} characters make {len(parts)} messages; keep it to {MAX_PARTS}"]
    for number, part in enumerate(parts, start=1):
        if check_html(part):
            return [f"{visible_length(text):,} characters are too many for one message (4,096), and message "
                    f"{number} of the split would break a tag: close every tag within its paragraph"]
    return []


@dataclass(frozen=True, slots=True)
class Plan:
    """Who would get what, before anything is sent (`--dry-run`)."""

    issue: Issue
    to_serve: Mapping[str, int]  # subscriber language -> active subscribers not served yet
    already: int  # subscribers whose delivery of this issue is settled (sent, blocked, failed, uncertain)
    defaulted: tuple[int, ...] = field(default=())  # subscribers getting the default text, by Telegram id

    @property
    def total(self) -> int:
        return sum(self.to_serve.values())

    def by_text(self) -> dict[str, int]:
        """Subscribers per text language."""
        counts: Counter[str] = Counter()
        for language, count in self.to_serve.items():
            counts[self.issue.text_language(language)] += count
        return dict(counts)


def plan(issue: Issue, audience: Iterable[tuple[int, str]], already: int) -> Plan:
    """The plan for `audience`: (telegram id, language) of every active subscriber not yet served."""
    to_serve: Counter[str] = Counter()
    defaulted: list[int] = []
    for telegram_id, language in audience:
        to_serve[language] += 1
        if language not in issue.texts:
            defaulted.append(telegram_id)
    return Plan(issue, dict(sorted(to_serve.items())), already, tuple(defaulted))


class IssueConflict(Exception):
    """The file's texts differ from the issue stored under the same id, which some subscribers may have."""


@dataclass(frozen=True, slots=True)
class IssueStatus:
    """An issue as staff list it: where it stands, who runs it, its deliveries per state."""

    id: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    runner: str | None
    lease_until: datetime | None
    counts: Mapping[str, int]
