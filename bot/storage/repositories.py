"""The core's storage ports on SQLAlchemy: one short session and an explicit commit per call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Delete, Integer, case, delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.matching import MatchKind
from bot.core.ports import LoggedQuestion, UserRecord
from bot.storage.broadcasts import SqlBroadcasts
from bot.storage.database import DIALECTS, Database, dialect_insert
from bot.storage.models import FeedbackVote, Question, User, utc_now
from bot.storage.subscribers import SqlPersonalData, SqlSubscribers
from bot.storage.write_behind import WriteBehind, new_question_id

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class StoredQuestion:
    """A logged question as staff tools read it: what was asked, what the bot did, what the user did next."""

    id: int
    text: str
    lang: str
    outcome: str
    topic_id: str | None
    score: float
    asked_at: datetime
    chosen_topic: str | None
    rejected: bool


@dataclass(frozen=True, slots=True)
class QuestionTally:
    """How many questions were asked on one day (UTC) in one language with one outcome."""

    day: date
    lang: str
    outcome: str  # answer | suggest | fallback
    count: int
    chosen: int  # of which a suggestion was then picked
    rejected: int  # of which "none of these" was tapped


def _insert(dialect: str, model: type[Any]) -> Any:
    return dialect_insert(dialect)(model)


async def _delete(session: AsyncSession, statement: Delete) -> int:
    """Run a DELETE and say how many rows it removed."""
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount


def _record(user: User) -> UserRecord:
    return UserRecord(user.telegram_id, user.language, user.telegram_language, user.first_seen, user.last_seen)


LAST_SEEN_PRECISION = timedelta(minutes=5)


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SqlUsers:
    """Implements bot.core.ports.Users."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str, clock: Clock,
                 write_behind: WriteBehind) -> None:
        self._sessions = sessions
        self._dialect = dialect
        self._clock = clock
        self._write_behind = write_behind
        self._languages: dict[int, str] | None = None  # None: not kept here, ask the database

    async def track_languages(self) -> None:
        """Keep the users' /language choices in memory, so a message of unclear language needs no read.

        Only for a process that alone talks with users (polling: Telegram serves getUpdates to a single
        client): choices are made in the conversation, and erasures (/forget) go through this process too.
        Few users choose a language, so the map stays small.
        """
        query = select(User.telegram_id, User.language).where(User.language.is_not(None))
        async with self._sessions() as session:
            self._languages = {telegram_id: language for telegram_id, language in await session.execute(query)}

    async def saved_language(self, telegram_id: int) -> str | None:
        """The user's /language choice, if any."""
        if self._languages is not None:
            return self._languages.get(telegram_id)
        user = await self.get(telegram_id)
        return user.language if user else None

    def forget_language(self, telegram_id: int) -> None:
        """The user was erased: their choice goes with them."""
        if self._languages is not None:
            self._languages.pop(telegram_id, None)

    def seen(self, telegram_id: int, telegram_language: str | None) -> None:
        """Note that the user wrote now; written with the next batch (no reply waits for it)."""
        self._write_behind.seen(telegram_id, telegram_language)

    async def touch(self, telegram_id: int, telegram_language: str | None) -> UserRecord:
        """Create or update the user in one statement, so two first messages at once make one row.

        A missing Telegram language (some updates lack it) keeps the one stored before. A user seen a
        moment ago with the same Telegram language is only read: "last seen" needs no second-by-second
        precision, and every message would otherwise be a write.
        """
        now = self._clock()
        async with self._sessions() as session:
            known = await session.get(User, telegram_id)
            if (known is not None and now - _aware(known.last_seen) < LAST_SEEN_PRECISION
                    and telegram_language in (None, known.telegram_language)):
                return _record(known)
        insert = _insert(self._dialect, User).values(
            telegram_id=telegram_id, telegram_language=telegram_language, first_seen=now, last_seen=now
        )
        upsert = insert.on_conflict_do_update(
            index_elements=[User.telegram_id],
            set_={
                "last_seen": insert.excluded.last_seen,
                "telegram_language": func.coalesce(insert.excluded.telegram_language, User.telegram_language),
            },
        )
        async with self._sessions() as session:
            await session.execute(upsert)
            user = (await session.execute(select(User).where(User.telegram_id == telegram_id))).scalar_one()
            await session.commit()
            return _record(user)

    async def set_language(self, telegram_id: int, language: str | None) -> None:
        """Save the /language choice (None: follow Telegram again); creates the user if needed."""
        now = self._clock()
        insert = _insert(self._dialect, User).values(
            telegram_id=telegram_id, language=language, first_seen=now, last_seen=now
        )
        upsert = insert.on_conflict_do_update(index_elements=[User.telegram_id], set_={"language": language})
        async with self._sessions() as session:
            await session.execute(upsert)
            await session.commit()
        if self._languages is not None:
            if language is None:
                self._languages.pop(telegram_id, None)
            else:
                self._languages[telegram_id] = language

    async def get(self, telegram_id: int) -> UserRecord | None:
        async with self._sessions() as session:
            user = await session.get(User, telegram_id)
            return _record(user) if user else None

    async def forget(self, telegram_id: int) -> bool:
        """Delete the user and, by cascade, their feedback; True if there was someone to forget."""
        async with self._sessions() as session:
            deleted = await _delete(session, delete(User).where(User.telegram_id == telegram_id))
            await session.commit()
        self.forget_language(telegram_id)
        return deleted > 0


class SqlQuestionLog:
    """Implements bot.core.ports.QuestionLog, plus the reads staff tools need."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, write_behind: WriteBehind) -> None:
        self._sessions = sessions
        self._clock = clock
        self._write_behind = write_behind

    def record_later(self, question: LoggedQuestion) -> int:
        """Log a question with the next batch (no reply waits for it); returns its id at once."""
        return self._write_behind.question(question)

    async def record(self, question: LoggedQuestion) -> int:
        """Log a question now (staff tools, tests); returns its id."""
        row = Question(
            id=new_question_id(),
            text=question.text,
            lang=question.lang,
            outcome=str(question.outcome),
            topic_id=question.topic_id,
            score=question.score,
            asked_at=self._clock(),
        )
        async with self._sessions() as session:
            session.add(row)
            await session.commit()
            return row.id


    async def record_choice(self, question_id: int, topic_id: str) -> None:
        """A question purged since the suggestions were shown is simply gone: nothing to update."""
        await self._update(question_id, chosen_topic=topic_id)

    async def record_rejection(self, question_id: int) -> None:
        await self._update(question_id, rejected=True)

    async def purge_older_than(self, days: int) -> int:
        """Delete questions asked more than `days` ago (the retention period); returns how many."""
        cutoff = self._clock() - timedelta(days=days)
        async with self._sessions() as session:
            deleted = await _delete(session, delete(Question).where(Question.asked_at < cutoff))
            await session.commit()
            return deleted

    async def recent(self, limit: int = 50) -> list[StoredQuestion]:
        """The newest questions first."""
        return await self._select(select(Question).order_by(Question.asked_at.desc(), Question.id.desc()).limit(limit))

    async def unanswered(self, since: datetime | None = None) -> list[StoredQuestion]:
        """Questions the FAQ did not answer (fallback) or whose suggestions were all rejected, newest first."""
        query = select(Question).where((Question.outcome == MatchKind.FALLBACK.value) | Question.rejected)
        if since is not None:
            query = query.where(Question.asked_at >= since)
        return await self._select(query.order_by(Question.asked_at.desc(), Question.id.desc()))

    async def chosen(self, since: datetime | None = None) -> list[StoredQuestion]:
        """Questions whose "did you mean" suggestion the user picked (candidate question variants), newest first."""
        query = select(Question).where(Question.chosen_topic.is_not(None))
        if since is not None:
            query = query.where(Question.asked_at >= since)
        return await self._select(query.order_by(Question.asked_at.desc(), Question.id.desc()))

    async def tally(self, since: datetime | None = None) -> list[QuestionTally]:
        """Question counts per UTC day, language and outcome, counted by the database."""
        async with self._sessions() as session:
            if session.get_bind().dialect.name == "postgresql":
                day: Any = func.date(func.timezone("UTC", Question.asked_at))
            else:  # SQLite keeps UTC text: its date() reads the day off it
                day = func.date(Question.asked_at)
            query = select(day, Question.lang, Question.outcome, func.count(Question.id),
                           func.count(Question.chosen_topic), func.sum(case((Question.rejected, 1), else_=0)))
            if since is not None:
                query = query.where(Question.asked_at >= since)
            query = query.group_by(day, Question.lang, Question.outcome).order_by(day, Question.lang)
            rows = (await session.execute(query)).all()
        return [
            QuestionTally(d if isinstance(d, date) else date.fromisoformat(str(d)), lang, outcome, int(count),
                          int(chosen), int(rejected or 0))
            for d, lang, outcome, count, chosen, rejected in rows
        ]

    async def _update(self, question_id: int, **values: object) -> None:
        if await self._write_behind.amend(question_id, **values):
            return
        async with self._sessions() as session:
            await session.execute(update(Question).where(Question.id == question_id).values(**values))
            await session.commit()

    async def _select(self, query: Any) -> list[StoredQuestion]:
        async with self._sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        return [
            StoredQuestion(
                q.id, q.text, q.lang, q.outcome, q.topic_id, q.score, q.asked_at, q.chosen_topic, q.rejected
            )
            for q in rows
        ]


class SqlFeedback:
    """Implements bot.core.ports.Feedback."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str, clock: Clock) -> None:
        self._sessions = sessions
        self._dialect = dialect
        self._clock = clock

    async def record(self, telegram_id: int, topic_id: str, lang: str, helpful: bool) -> None:
        """Store the vote, making the user row if missing.

        A vote tapped on an old message after /forget must not fail on the foreign key.
        """
        now = self._clock()
        ensure_user = (
            _insert(self._dialect, User)
            .values(telegram_id=telegram_id, first_seen=now, last_seen=now)
            .on_conflict_do_nothing(index_elements=[User.telegram_id])
        )
        async with self._sessions() as session:
            await session.execute(ensure_user)
            session.add(FeedbackVote(telegram_id=telegram_id, topic_id=topic_id, lang=lang, helpful=helpful,
                                     created_at=now))
            await session.commit()

    async def by_topic(self) -> dict[str, tuple[int, int]]:
        """Votes per topic as (helpful, not helpful), for staff to see which answers need work."""
        up = func.sum(FeedbackVote.helpful.cast(Integer))
        total = func.count(FeedbackVote.id)
        query = select(FeedbackVote.topic_id, up, total).group_by(FeedbackVote.topic_id).order_by(FeedbackVote.topic_id)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return {topic: (int(helpful), int(count) - int(helpful)) for topic, helpful, count in rows}

    async def by_topic_since(self, since: datetime) -> dict[str, tuple[int, int]]:
        """Like by_topic, counting only the votes given since `since`."""
        up = func.sum(FeedbackVote.helpful.cast(Integer))
        query = (select(FeedbackVote.topic_id, up, func.count(FeedbackVote.id))
                 .where(FeedbackVote.created_at >= since).group_by(FeedbackVote.topic_id))
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return {topic: (int(helpful), int(count) - int(helpful)) for topic, helpful, count in sorted(rows)}


class Store:
    """The repositories over one Database; the composition root builds it and hands it to the services."""

    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        dialect = database.dialect
        if dialect not in DIALECTS:
            raise ValueError(f"unsupported database {dialect!r}: lcbot runs on SQLite or PostgreSQL")
        self.database = database
        self.write_behind = WriteBehind(database.sessions, dialect_insert(dialect), clock)
        self.users = SqlUsers(database.sessions, dialect, clock, self.write_behind)
        self.questions = SqlQuestionLog(database.sessions, clock, self.write_behind)
        self.feedback = SqlFeedback(database.sessions, dialect, clock)
        self.subscribers = SqlSubscribers(database.sessions, dialect)
        self.personal_data = SqlPersonalData(database.sessions, self.write_behind,
                                             on_erase=self.users.forget_language)
        self.broadcasts = SqlBroadcasts(database)

    async def flush(self) -> None:
        """Write the batched question log and last-seen times now (staff reports, forgetting a user)."""
        await self.write_behind.flush()

    async def close(self) -> None:
        """Write what is still batched; the composition root then closes the database."""
        await self.write_behind.close()
