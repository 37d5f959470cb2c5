"""What the core and the adapters need from storage, as Protocols; bot/storage implements them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class UserRecord:
    telegram_id: int
    language: str | None  # chosen with /language
    telegram_language: str | None
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class LoggedQuestion:
    """A question as kept for staff: no link to who asked it."""

    text: str
    lang: str
    outcome: str  # answer | suggest | fallback
    topic_id: str | None
    score: float


class Users(Protocol):
    async def touch(self, telegram_id: int, telegram_language: str | None) -> UserRecord:
        """Create or update the user (last seen, Telegram language); returns the stored record."""
        ...

    async def set_language(self, telegram_id: int, language: str | None) -> None: ...

    async def get(self, telegram_id: int) -> UserRecord | None: ...


class QuestionLog(Protocol):
    async def record(self, question: LoggedQuestion) -> int:
        """Store the question; returns its id (kept in the suggestion buttons' callback data)."""
        ...

    async def record_choice(self, question_id: int, topic_id: str) -> None:
        """The user picked this topic among the suggestions ("did you mean")."""
        ...

    async def record_rejection(self, question_id: int) -> None:
        """The user tapped "none of these": an unanswered question for staff."""
        ...

    async def purge_older_than(self, days: int) -> int: ...


class Feedback(Protocol):
    async def record(self, telegram_id: int, topic_id: str, lang: str, helpful: bool) -> None: ...
