"""The Store's repositories against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import StatementError

from bot.core.ports import LoggedQuestion
from bot.storage.database import SQLITE_BUSY_TIMEOUT_MS, Database
from bot.storage.models import FeedbackVote, User
from bot.storage.repositories import Store
from tests.storage.conftest import FakeClock

BIG_TELEGRAM_ID = 2**40 + 7


def _question(text: str = "How do I join the network?", outcome: str = "answer") -> LoggedQuestion:
    return LoggedQuestion(text=text, lang="en", outcome=outcome, topic_id="join", score=0.91)


async def _count(store: Store, model: type[User] | type[FeedbackVote]) -> int:
    async with store.database.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_a_user_seen_twice_keeps_first_seen_and_updates_last_seen(store: Store, clock: FakeClock) -> None:
    first = clock()
    await store.users.touch(7, "pt-br")
    later = clock.advance(hours=3)

    user = await store.users.touch(7, "pt-br")

    assert (user.first_seen, user.last_seen) == (first, later)
    assert await store.users.get(7) == user


async def test_a_missing_telegram_language_keeps_the_one_stored_before(store: Store) -> None:
    await store.users.touch(7, "es")

    user = await store.users.touch(7, None)

    assert user.telegram_language == "es"


async def test_concurrent_first_messages_from_a_new_user_create_one_row(store: Store) -> None:
    records = await asyncio.gather(*(store.users.touch(99, "en") for _ in range(10)))

    assert {record.telegram_id for record in records} == {99}
    assert await _count(store, User) == 1


async def test_a_chosen_language_survives_a_restart(store: Store, database_url: str) -> None:
    await store.users.touch(7, "en")
    await store.users.set_language(7, "fr")
    await store.database.close()

    async with Database(database_url) as restarted:
        user = await Store(restarted).users.get(7)

    assert user is not None and user.language == "fr" and user.telegram_language == "en"


async def test_choosing_a_language_before_any_message_creates_the_user(store: Store) -> None:
    await store.users.set_language(8, "zh")

    user = await store.users.get(8)
    assert user is not None and user.language == "zh"


async def test_a_polling_process_knows_saved_languages_without_reading_and_forgets_an_erased_user(
        store: Store, database_url: str) -> None:
    await store.users.set_language(21, "ar")  # chosen before this process started
    await store.users.touch(22, "de")
    tracking = Store(store.database)
    await tracking.users.track_languages()

    await tracking.users.set_language(22, "pt")  # chosen in this process
    await tracking.users.set_language(23, "ru")
    await tracking.users.set_language(23, None)  # back to following Telegram
    await store.database.close()  # no read is left to make

    assert await tracking.users.saved_language(21) == "ar"
    assert await tracking.users.saved_language(22) == "pt"
    assert await tracking.users.saved_language(23) is None
    assert await tracking.users.saved_language(24) is None

    async with Database(database_url) as reopened:
        tracking = Store(reopened)
        await tracking.users.track_languages()
        assert await tracking.personal_data.erase(21) is True  # /forget
        assert await tracking.users.saved_language(21) is None
        assert await Store(reopened).users.saved_language(22) == "pt"  # untracked: read from the database


async def test_telegram_ids_above_32_bits_are_stored(store: Store) -> None:
    await store.users.touch(BIG_TELEGRAM_ID, "en")
    await store.feedback.record(BIG_TELEGRAM_ID, "join", "en", helpful=True)

    user = await store.users.get(BIG_TELEGRAM_ID)
    assert user is not None and user.telegram_id == BIG_TELEGRAM_ID
    assert await store.feedback.by_topic() == {"join": (1, 0)}


async def test_timestamps_come_back_as_aware_utc(store: Store) -> None:
    user = await store.users.touch(7, None)
    await store.questions.record(_question())

    (question,) = await store.questions.recent(1)
    assert user.first_seen.tzinfo is UTC and question.asked_at.tzinfo is UTC


async def test_the_question_log_keeps_text_and_outcome_and_has_no_user_column(store: Store) -> None:
    question_id = await store.questions.record(_question("Qu'est-ce qu'une ville apprenante ?", "suggest"))

    (logged,) = await store.questions.recent(10)
    assert (logged.id, logged.text, logged.outcome, logged.topic_id) == (
        question_id, "Qu'est-ce qu'une ville apprenante ?", "suggest", "join"
    )
    assert logged.score == pytest.approx(0.91)
    async with store.database.engine.connect() as connection:
        columns = await connection.run_sync(lambda sync: {c["name"] for c in inspect(sync).get_columns("questions")})
    assert not {"telegram_id", "user_id", "chat_id"} & columns


async def test_recent_lists_the_newest_questions_first(store: Store, clock: FakeClock) -> None:
    for n in range(3):
        await store.questions.record(_question(f"question {n}"))
        clock.advance(minutes=1)

    assert [q.text for q in await store.questions.recent(2)] == ["question 2", "question 1"]


async def test_a_picked_suggestion_is_recorded_on_its_question(store: Store) -> None:
    question_id = await store.questions.record(_question(outcome="suggest"))

    await store.questions.record_choice(question_id, "membership")

    (logged,) = await store.questions.recent(1)
    assert logged.chosen_topic == "membership" and not logged.rejected
    assert await store.questions.unanswered(None) == []


async def test_fallbacks_and_rejected_suggestions_are_unanswered(store: Store, clock: FakeClock) -> None:
    await store.questions.record(_question("old fallback", "fallback"))
    since = clock.advance(days=2)
    await store.questions.record(_question("answered", "answer"))
    rejected_id = await store.questions.record(_question("none of these", "suggest"))
    await store.questions.record(_question("new fallback", "fallback"))

    await store.questions.record_rejection(rejected_id)

    assert {q.text for q in await store.questions.unanswered(None)} == {"old fallback", "none of these", "new fallback"}
    assert {q.text for q in await store.questions.unanswered(since)} == {"none of these", "new fallback"}


async def test_a_choice_on_a_purged_question_is_ignored(store: Store) -> None:
    await store.questions.record_choice(12345, "join")
    await store.questions.record_rejection(12345)

    assert await store.questions.recent(10) == []


async def test_purge_removes_only_questions_older_than_the_retention_period(store: Store, clock: FakeClock) -> None:
    await store.questions.record(_question("a year and a day ago"))
    clock.advance(days=2)
    await store.questions.record(_question("a year minus a day ago"))
    clock.advance(days=364)

    assert await store.questions.purge_older_than(365) == 1

    assert [q.text for q in await store.questions.recent(10)] == ["a year minus a day ago"]
    assert await store.questions.purge_older_than(365) == 0


async def test_forget_removes_the_user_and_their_feedback_only(store: Store) -> None:
    for telegram_id in (1, 2):
        await store.users.touch(telegram_id, "en")
        await store.feedback.record(telegram_id, "join", "en", helpful=True)
    await store.questions.record(_question())

    assert await store.users.forget(1) is True

    assert await store.users.get(1) is None and await store.users.get(2) is not None
    assert await _count(store, FeedbackVote) == 1
    assert len(await store.questions.recent(10)) == 1  # the log is anonymous: nothing to forget there
    assert await store.users.forget(1) is False


async def test_a_vote_tapped_after_forget_is_still_stored(store: Store) -> None:
    await store.users.touch(1, "en")
    await store.users.forget(1)

    await store.feedback.record(1, "join", "en", helpful=False)

    assert await store.feedback.by_topic() == {"join": (0, 1)}


async def test_feedback_is_counted_by_topic(store: Store) -> None:
    await store.users.touch(1, "en")
    votes = [("join", True), ("join", True), ("join", False), ("fees", False)]
    for topic, helpful in votes:
        await store.feedback.record(1, topic, "en", helpful=helpful)

    assert await store.feedback.by_topic() == {"fees": (0, 1), "join": (2, 1)}


async def test_sqlite_runs_in_wal_mode_and_enforces_foreign_keys(tmp_path: Path) -> None:
    async with Database(f"sqlite:///{tmp_path / 'lcbot.db'}") as database, database.engine.connect() as connection:
        journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
        busy_timeout = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()

    assert (journal, foreign_keys, busy_timeout) == ("wal", 1, SQLITE_BUSY_TIMEOUT_MS)


async def test_naive_datetimes_are_refused(store: Store) -> None:
    naive_clock = Store(store.database, clock=lambda: datetime(2025, 3, 1, 12, 0))

    with pytest.raises(StatementError, match="naive datetime"):
        await naive_clock.questions.record(_question())


async def test_a_batched_question_has_its_id_before_it_is_written(store: Store) -> None:
    question_id = store.questions.record_later(_question("Qu'est-ce qu'une ville apprenante ?", "suggest"))
    assert await store.questions.recent(10) == []  # not written yet

    await store.questions.record_choice(question_id, "membership")  # tapped before the batch was written
    await store.flush()

    (logged,) = await store.questions.recent(10)
    assert (logged.id, logged.chosen_topic) == (question_id, "membership")
    await store.questions.record_rejection(question_id)  # and after it was written
    (logged,) = await store.questions.recent(10)
    assert logged.rejected


async def test_question_ids_are_distinct_and_fit_in_a_signed_64_bit_column(store: Store) -> None:
    ids = [store.questions.record_later(_question(f"question {n}")) for n in range(500)]
    ids.append(await store.questions.record(_question("written at once")))
    await store.flush()

    assert len(set(ids)) == len(ids) and all(0 < i < 2**63 for i in ids)
    assert {q.id for q in await store.questions.recent(1000)} == set(ids)
