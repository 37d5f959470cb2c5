"""What the core and the adapters need from storage, as Protocols; bot/storage implements them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
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

    def seen(self, telegram_id: int, telegram_language: str | None) -> None:
        """Note that the user wrote now, without waiting for the database (batched)."""
        ...

    async def set_language(self, telegram_id: int, language: str | None) -> None: ...

    async def get(self, telegram_id: int) -> UserRecord | None: ...

    async def saved_language(self, telegram_id: int) -> str | None:
        """The user's /language choice, if any."""
        ...


class QuestionLog(Protocol):
    async def record(self, question: LoggedQuestion) -> int:
        """Store the question now; returns its id."""
        ...

    def record_later(self, question: LoggedQuestion) -> int:
        """Store the question without waiting for the database (batched); returns its id at once, which
        the suggestion buttons' callback data carries."""
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


class StorageUnavailable(Exception):
    """The database could not be reached, even after a few retries: the user is asked to try again later."""


class SubscriberStatus(StrEnum):
    """What staff see: pending (saw the sign-up, no consent yet), active, unsubscribed, unreachable
    (Telegram refuses delivery, e.g. the user blocked the bot)."""

    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    UNREACHABLE = "unreachable"


class Channel(StrEnum):
    """How the subscriber wants the newsletter: in Telegram, or also by email (an address is on record)."""

    TELEGRAM = "telegram"
    TELEGRAM_EMAIL = "telegram+email"


class Role(StrEnum):
    CITIZEN = "citizen"
    CITY_GOVERNMENT = "city-government"
    OTHER = "other"


class Awaiting(StrEnum):
    """The sign-up step whose answer the user's next text message is."""

    EMAIL = "email"
    CODE = "code"
    ORGANISATION = "organisation"


@dataclass(frozen=True, slots=True)
class SubscriberRecord:
    """One subscriber (one per Telegram user), as stored. `revision` grows with every save."""

    telegram_id: int
    status: SubscriberStatus
    language: str
    created_at: datetime
    updated_at: datetime
    channel: Channel = Channel.TELEGRAM
    source: str | None = None  # from the deep link /start subscribe_<source>
    email: str | None = None
    email_confirmed_at: datetime | None = None
    email_code_hash: str | None = None  # never the code itself
    email_code_expires_at: datetime | None = None
    email_code_attempts: int = 0
    email_code_sends: int = 0
    email_code_sent_at: datetime | None = None
    organisation: str | None = None
    role: Role | None = None
    consent_at: datetime | None = None
    consent_notice_version: str | None = None
    consent_channel: Channel | None = None
    consent_language: str | None = None
    unsubscribed_at: datetime | None = None
    awaiting: Awaiting | None = None
    revision: int = 0


@dataclass(frozen=True, slots=True)
class SubscriberFilter:
    """Which subscribers staff export; None means any."""

    status: SubscriberStatus | None = None
    channel: Channel | None = None
    language: str | None = None
    confirmed_email: bool = False  # only subscribers whose email address is confirmed


class Subscribers(Protocol):
    async def get(self, telegram_id: int) -> SubscriberRecord | None: ...

    def may_await_step(self, telegram_id: int) -> bool:
        """False only when the user surely has no sign-up step open (known without asking the database)."""
        ...

    async def ensure(self, record: SubscriberRecord) -> SubscriberRecord:
        """Insert `record` (and its user row) unless the user already has one, in one statement, so
        concurrent first taps make one record; returns the stored record either way."""
        ...

    async def save(self, record: SubscriberRecord) -> bool:
        """Write `record` if the stored revision is still `record.revision` (then stored as revision + 1).

        False when someone saved in between: the caller reads again and retries.
        """
        ...

    async def select(self, which: SubscriberFilter) -> list[SubscriberRecord]: ...


class PersonalData(Protocol):
    """What is stored about one person across tables, to show it (/mydata) or erase it (/forget)."""

    async def feedback_count(self, telegram_id: int) -> int: ...

    async def erase(self, telegram_id: int) -> bool:
        """Delete the user, their subscription and feedback in one transaction; True if anything was there."""
        ...


class MailError(Exception):
    """The email could not be sent (server down, refused, misconfigured); the message says why."""


class Mailer(Protocol):
    async def send_code(self, to: str, code: str, lang: str) -> None:
        """Email the confirmation code in `lang`; raises MailError when it cannot be sent."""
        ...


class EmailCheck(Protocol):
    def __call__(self, address: str) -> str:
        """The address normalised for storage; raises ValueError with the reason when it is not valid."""
        ...


class UpdateLog(Protocol):
    async def claim(self, update_id: int) -> bool:
        """True the first time any instance on this database claims the update id, False for a redelivery."""
        ...

    async def prune(self) -> int:
        """Forget ids too old to be redelivered; returns how many."""
        ...
