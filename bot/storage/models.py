"""SQLAlchemy 2 typed models of lcbot's tables; the migrations in migrations/versions create them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.core.matching import MatchKind

# Stable constraint names, so later migrations (and SQLite's batch mode) can refer to them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

LANGUAGE_LENGTH = 8  # a FAQ language code: "en", "pt", "zh"
TELEGRAM_LANGUAGE_LENGTH = 16  # an IETF tag as Telegram sends it: "pt-br"
TOPIC_LENGTH = 64
OUTCOME_LENGTH = 16


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no time zones and hands back naive values, so UTC is
    stored there and the zone put back on reading. Naive values are refused: their zone is unknown.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: lcbot stores aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """Someone who wrote to the bot: only what the replies need (language) and when they were seen."""

    __tablename__ = "users"

    # Telegram user ids exceed 32 bits.
    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str | None] = mapped_column(String(LANGUAGE_LENGTH))  # chosen with /language
    telegram_language: Mapped[str | None] = mapped_column(String(TELEGRAM_LANGUAGE_LENGTH))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Question(Base):
    """One question asked, for staff to improve the FAQ. Deliberately not linked to the user who asked."""

    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint(
            "outcome IN (" + ", ".join(f"'{kind.value}'" for kind in MatchKind) + ")",
            name="outcome",
        ),
    )

    # Made by the application (bot/storage/write_behind.py new_question_id): a suggestion's buttons carry
    # the id before the row is written. SQLite's INTEGER PRIMARY KEY is 64-bit already.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(LANGUAGE_LENGTH))
    outcome: Mapped[str] = mapped_column(String(OUTCOME_LENGTH))  # answer | suggest | fallback
    topic_id: Mapped[str | None] = mapped_column(String(TOPIC_LENGTH))
    score: Mapped[float] = mapped_column(Float)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    chosen_topic: Mapped[str | None] = mapped_column(String(TOPIC_LENGTH))  # picked among the suggestions
    rejected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # "none of these"


class FeedbackVote(Base):
    """A helpful / not helpful vote on an answer; removed with its user when they ask to be forgotten."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.telegram_id", ondelete="CASCADE"), index=True
    )
    topic_id: Mapped[str] = mapped_column(String(TOPIC_LENGTH))
    lang: Mapped[str] = mapped_column(String(LANGUAGE_LENGTH))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


SUBSCRIBER_STATUSES = ("pending", "active", "unsubscribed", "unreachable")
CHANNELS = ("telegram", "telegram+email")
ROLES = ("citizen", "city-government", "other")
SIGN_UP_STEPS = ("email", "code", "organisation")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Subscriber(Base):
    """A newsletter subscriber: one per Telegram user, erased with the user (/forget).

    `awaiting` is the sign-up step the user's next message answers, kept here rather than in memory so
    a sign-up survives a restart and continues on any instance. `revision` grows with every save: an
    update applies only over the revision it read (see SqlSubscribers.save).
    """

    __tablename__ = "subscribers"
    __table_args__ = (
        CheckConstraint(_one_of("status", SUBSCRIBER_STATUSES), name="status"),
        CheckConstraint(_one_of("channel", CHANNELS), name="channel"),
        CheckConstraint("consent_channel IS NULL OR " + _one_of("consent_channel", CHANNELS), name="consent_channel"),
        CheckConstraint("role IS NULL OR " + _one_of("role", ROLES), name="role"),
        CheckConstraint("awaiting IS NULL OR " + _one_of("awaiting", SIGN_UP_STEPS), name="awaiting"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.telegram_id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    language: Mapped[str] = mapped_column(String(LANGUAGE_LENGTH))
    channel: Mapped[str] = mapped_column(String(16), default="telegram")
    email: Mapped[str | None] = mapped_column(String(254))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_code_hash: Mapped[str | None] = mapped_column(String(128))  # never the code in clear
    email_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_code_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    email_code_sends: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    email_code_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    organisation: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))  # the deep link's subscribe_<source>
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_notice_version: Mapped[str | None] = mapped_column(String(32))
    consent_channel: Mapped[str | None] = mapped_column(String(16))
    consent_language: Mapped[str | None] = mapped_column(String(LANGUAGE_LENGTH))
    awaiting: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ProcessedUpdate(Base):
    """A Telegram update already taken by one of the webhook instances: a redelivery of it is dropped.

    The primary key decides between instances (the first INSERT wins); old rows are pruned, as Telegram
    stops redelivering an update after at most 24 hours.
    """

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)


ISSUE_STATUSES = ("loaded", "running", "stopped", "done")
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "blocked", "uncertain", "skipped")
RUNNER_LENGTH = 128  # "host:pid:nonce" of the process running a broadcast


class BroadcastIssue(Base):
    """A newsletter issue as loaded from its YAML file: its texts per language, and who is sending it.

    `runner` holds the lease (until `lease_until`, renewed while the run lives): one process at a time
    sends an issue, so the whole run stays under Telegram's overall limit.
    """

    __tablename__ = "broadcast_issues"
    __table_args__ = (CheckConstraint(_one_of("status", ISSUE_STATUSES), name="status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the file's `id`, unique per issue
    default_language: Mapped[str] = mapped_column(String(LANGUAGE_LENGTH))
    texts: Mapped[dict[str, str]] = mapped_column(JSON)  # language -> Telegram HTML
    fingerprint: Mapped[str] = mapped_column(String(64))  # of default + texts: a changed file is noticed
    status: Mapped[str] = mapped_column(String(16), default="loaded")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    runner: Mapped[str | None] = mapped_column(String(RUNNER_LENGTH))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BroadcastDelivery(Base):
    """One issue to one subscriber: pending -> sending -> sent | failed | blocked | uncertain (or skipped).

    `sending` is written before the message goes out and `sent` after: a row a crashed run left in
    `sending` may or may not have arrived, and is never sent again unless staff ask for it.
    """

    __tablename__ = "broadcast_deliveries"
    __table_args__ = (
        UniqueConstraint("issue_id", "telegram_id", name="uq_broadcast_deliveries_issue_id_telegram_id"),
        CheckConstraint(_one_of("state", DELIVERY_STATES), name="state"),
        # The next pending row of an issue, in order, straight from the index (claims run per message).
        Index("ix_broadcast_deliveries_issue_id_state_id", "issue_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[str] = mapped_column(String(64), ForeignKey("broadcast_issues.id", ondelete="CASCADE"))
    # Erased with the user (/forget), like every row that names them.
    telegram_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.telegram_id", ondelete="CASCADE"),
                                             index=True)
    language: Mapped[str] = mapped_column(String(LANGUAGE_LENGTH))  # the subscriber's, when planned
    state: Mapped[str] = mapped_column(String(16), default="pending")
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # of a text split in parts
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # of the last part sent
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # after a transient error
    last_error: Mapped[str | None] = mapped_column(String(300))
    runner: Mapped[str | None] = mapped_column(String(RUNNER_LENGTH))  # who marked it sending
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
