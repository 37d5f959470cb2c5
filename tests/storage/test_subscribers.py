"""The subscribers repository on SQLite and PostgreSQL: one record per user under concurrency, erasure."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy import func, select

from bot.core.ports import Awaiting, Channel, SubscriberFilter, SubscriberRecord, SubscriberStatus
from bot.core.subscriptions import Subscriptions
from bot.mail import email_check
from bot.storage.database import Database
from bot.storage.models import FeedbackVote, Subscriber, User
from bot.storage.repositories import Store
from tests.storage.conftest import FakeClock


def service(store: Store, clock: FakeClock) -> Subscriptions:
    return Subscriptions(store.subscribers, store.personal_data, store.users, email_check(), None, clock)


async def rows(database: Database, model: type, telegram_id: int) -> int:
    async with database.sessions() as session:
        query = select(func.count()).select_from(model).where(model.telegram_id == telegram_id)
        return int((await session.execute(query)).scalar_one())


async def test_concurrent_consent_taps_make_exactly_one_active_record(store: Store, clock: FakeClock) -> None:
    # Separate Database objects: separate connections, as separate bot instances would have.
    databases = [Database(store.database.engine.url) for _ in range(4)]
    try:
        services = [service(Store(db, clock), clock) for db in databases]
        results = await asyncio.gather(*(services[i % 4].consent(7001, "fr") for i in range(12)))
    finally:
        for db in databases:
            await db.close()
    assert sum(result.newly_subscribed for result in results) == 1
    assert await rows(store.database, Subscriber, 7001) == 1
    stored = await store.subscribers.get(7001)
    assert stored is not None and stored.status is SubscriberStatus.ACTIVE and stored.consent_language == "fr"


async def test_ensure_keeps_the_first_record_and_creates_the_user(store: Store, clock: FakeClock) -> None:
    first = SubscriberRecord(7002, SubscriberStatus.PENDING, "ar", clock.now, clock.now, source="cairo")
    await asyncio.gather(*(store.subscribers.ensure(replace(first, language=lang)) for lang in ("ar", "zh", "ru")))
    stored = await store.subscribers.get(7002)
    assert stored is not None and stored.source == "cairo" and stored.revision == 0
    assert await store.users.get(7002) is not None


async def test_a_save_over_a_stale_revision_is_refused(store: Store, clock: FakeClock) -> None:
    record = await store.subscribers.ensure(SubscriberRecord(7003, SubscriberStatus.PENDING, "en", clock.now,
                                                             clock.now))
    assert await store.subscribers.save(replace(record, language="de"))
    assert not await store.subscribers.save(replace(record, language="pt"))
    stored = await store.subscribers.get(7003)
    assert stored is not None and (stored.language, stored.revision) == ("de", 1)


async def test_select_filters_by_status_channel_language_and_confirmed_email(store: Store, clock: FakeClock) -> None:
    now = clock.now
    for telegram_id, status, lang, email, confirmed in (
        (1, SubscriberStatus.ACTIVE, "fr", "a@lyon.fr", now), (2, SubscriberStatus.ACTIVE, "fr", "b@lyon.fr", None),
        (3, SubscriberStatus.UNSUBSCRIBED, "fr", None, None), (4, SubscriberStatus.ACTIVE, "zh", None, None),
    ):
        record = await store.subscribers.ensure(SubscriberRecord(telegram_id, status, lang, now, now))
        await store.subscribers.save(replace(record, email=email, email_confirmed_at=confirmed, channel=(
            Channel.TELEGRAM_EMAIL if email else Channel.TELEGRAM)))

    async def ids(**which: object) -> list[int]:
        return [r.telegram_id for r in await store.subscribers.select(SubscriberFilter(**which))]  # type: ignore[arg-type]

    assert await ids() == [1, 2, 3, 4]
    assert await ids(status=SubscriberStatus.ACTIVE, language="fr") == [1, 2]
    assert await ids(channel=Channel.TELEGRAM_EMAIL) == [1, 2]
    assert await ids(confirmed_email=True) == [1]


async def test_erase_leaves_no_row_naming_the_user(store: Store, clock: FakeClock) -> None:
    subscriptions = service(store, clock)
    await store.users.touch(7004, "fr")
    await store.feedback.record(7004, "contact", "fr", True)
    await subscriptions.consent(7004, "fr")
    await store.users.touch(7005, "fr")  # someone else stays
    store.users.seen(7004, "fr")  # a "last seen" still batched when they ask to be forgotten

    assert await subscriptions.forget(7004)
    await store.flush()

    for model in (User, Subscriber, FeedbackVote):
        assert await rows(store.database, model, 7004) == 0, model.__tablename__
    assert await rows(store.database, User, 7005) == 1
    assert not await subscriptions.forget(7004)


async def test_a_polling_process_knows_without_reading_who_has_a_sign_up_step_open(
        store: Store, clock: FakeClock) -> None:
    other_process = Store(store.database, clock)  # a step opened before this process started
    await service(other_process, clock).consent(7101, "fr")
    await service(other_process, clock).ask_for(7101, Awaiting.EMAIL)
    await store.subscribers.track_open_steps()
    subscriptions = service(store, clock)

    assert store.subscribers.may_await_step(7101)
    assert not store.subscribers.may_await_step(7102)  # no read needed: a question
    assert await subscriptions.handle_text(7102, "what is a learning city?") is None

    await subscriptions.consent(7102, "en")
    await subscriptions.ask_for(7102, Awaiting.ORGANISATION)
    assert store.subscribers.may_await_step(7102)
    result = await subscriptions.handle_text(7102, "City of Espoo")
    assert result is not None and result.subscriber is not None and result.subscriber.organisation == "City of Espoo"
    assert not store.subscribers.may_await_step(7102)  # the step is done: questions again

    await subscriptions.ask_for(7102, Awaiting.EMAIL)
    await service(other_process, clock).leave_step(7102)  # closed elsewhere (staff tools, another process)
    assert await subscriptions.handle_text(7102, "how do we join?") is None  # one read finds it closed
    assert not store.subscribers.may_await_step(7102)


async def test_without_tracking_every_user_may_have_a_step_open(store: Store) -> None:
    assert store.subscribers.may_await_step(7103)  # webhook instances share steps: they always read
