"""A newsletter run through the real Telegram sender and storage, against the stand-in enforcing 30 messages/s."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.core.broadcast import Broadcast, utc_now
from bot.core.delivery import DeliveryState
from bot.core.issue import Issue
from bot.core.pacing import Pacer
from bot.core.ports import SubscriberStatus
from bot.storage.broadcasts import SqlBroadcasts
from bot.storage.database import Database
from bot.storage.repositories import Store
from tests.broadcast.conftest import EN, FR, ISSUE, broadcast, delivered, telegram_sender, texts_to
from tests.broadcast.seeding import seed
from tests.fakes.telegram_api import FakeTelegramApi

EN_IDS = range(1001, 1011)
FR_IDS = range(2001, 2011)
DE_IDS = range(3001, 3006)  # no German text: they get the default (English)
UNSUBSCRIBED, PENDING, UNREACHABLE = (4001, 4002), (5001, 5002), (6001,)


async def seed_mix(database: Database) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    await seed(url, [*((i, "en", "active") for i in EN_IDS), *((i, "fr", "active") for i in FR_IDS),
                     *((i, "de", "active") for i in DE_IDS), *((i, "fr", "unsubscribed") for i in UNSUBSCRIBED),
                     *((i, "en", "pending") for i in PENDING), *((i, "en", "unreachable") for i in UNREACHABLE)])


async def test_every_active_subscriber_gets_the_issue_once_in_their_language_or_else_the_default_and_never_again(
        database: Database, store: SqlBroadcasts, api: FakeTelegramApi) -> None:
    await seed_mix(database)

    summary = await broadcast(store, api)

    active = [*EN_IDS, *FR_IDS, *DE_IDS]
    assert summary.sent == len(active) and summary.complete and not summary.uncertain
    assert delivered(api) == dict.fromkeys(active, 1)
    assert all(texts_to(api, i) == [FR.replace("<b>", "").replace("</b>", "")] for i in FR_IDS)
    assert all(texts_to(api, i) == [EN.replace("<b>", "").replace("</b>", "")] for i in [*EN_IDS, *DE_IDS])
    assert api.messages_to(EN_IDS[0])[0]["entities"][0]["type"] == "bold"  # sent as HTML

    again = await broadcast(store, api, runner="test:2:b")

    assert again.sent == 0 and again.already_sent == len(active) and again.complete
    assert delivered(api) == dict.fromkeys(active, 1)


async def test_a_subscriber_who_blocked_the_bot_becomes_unreachable_and_later_issues_skip_them(
        database: Database, store: SqlBroadcasts, api: FakeTelegramApi) -> None:
    await seed_mix(database)
    api.block_chat(EN_IDS[0])
    api.block_chat(FR_IDS[0])

    summary = await broadcast(store, api)

    assert summary.blocked == 2 and summary.sent == 23
    subscribers = Store(database).subscribers
    for blocked in (EN_IDS[0], FR_IDS[0]):
        record = await subscribers.get(blocked)
        assert record is not None and record.status is SubscriberStatus.UNREACHABLE
    tried = len(api.calls_to("sendMessage"))
    await broadcast(store, api, Issue("2025-05", "en", {"en": "May"}))
    later = [call.params["chat_id"] for call in api.calls_to("sendMessage")[tried:]]
    assert len(later) == 23 and EN_IDS[0] not in later and FR_IDS[0] not in later


async def test_flood_control_answers_pause_the_whole_run_and_lose_nobody(
        database: Database, store: SqlBroadcasts, api: FakeTelegramApi) -> None:
    ids = range(7001, 7046)
    await seed(database.engine.url.render_as_string(hide_password=False), [(i, "en", "active") for i in ids])

    summary = await broadcast(store, api, rate=60, concurrency=4)  # twice what the stand-in allows

    assert delivered(api) == dict.fromkeys(ids, 1)
    assert summary.sent == len(ids) and summary.complete
    assert summary.rate_limited == api.rate_limited_count > 0
    calls = api.calls_to("sendMessage")
    first_429 = next(c for c in calls if c.status == 429)
    during_pause = [c for c in calls if first_429.time < c.time < first_429.time + 0.95]
    assert len(during_pause) <= 4 - 1  # only what was already in flight: retry_after (1 s) was honoured


async def test_a_passing_server_error_is_retried_and_a_refused_message_fails(
        database: Database, store: SqlBroadcasts, api: FakeTelegramApi) -> None:
    await seed(database.engine.url.render_as_string(hide_password=False), [(8001, "en", "active")])
    api.fail_next("sendMessage", 502)

    retried = await broadcast(store, api, Issue("a", "en", {"en": "A"}))

    assert retried.sent == 1 and delivered(api) == {8001: 1}
    api.fail_next("sendMessage", 400, "Bad Request: chat not found")
    refused = await broadcast(store, api, Issue("b", "en", {"en": "B"}))
    assert refused.failed == 1 and refused.errors == {"Chat not found": 1}
    assert (await store.tally("b")) == {DeliveryState.FAILED: 1}


async def test_a_message_left_unanswered_is_uncertain_and_only_resent_when_staff_ask(
        database: Database, store: SqlBroadcasts, api: FakeTelegramApi) -> None:
    ids = (9001, 9002, 9003)
    await seed(database.engine.url.render_as_string(hide_password=False), [(i, "en", "active") for i in ids])
    api.set_delay("sendMessage", 0.6)

    timed_out = await broadcast(store, api, read_timeout=0.2)

    assert timed_out.became_uncertain == 3 and sorted(timed_out.uncertain) == list(ids)
    await asyncio.sleep(0.6)  # the stand-in delivers them all the same: a resend would be a duplicate
    api.set_delay("sendMessage", None)
    arrived = len(api.calls_to("sendMessage"))
    not_resent = await broadcast(store, api, runner="test:2:b")
    assert len(api.calls_to("sendMessage")) == arrived
    assert not_resent.sent == 0 and sorted(not_resent.uncertain) == list(ids) and not_resent.complete

    resent = await broadcast(store, api, runner="test:3:c", resend_uncertain=True)
    assert resent.requeued == 3 and resent.sent == 3 and resent.uncertain == []


async def test_two_runs_of_one_issue_started_together_serve_nobody_twice(
        database_url: str, database: Database, store: SqlBroadcasts, api: FakeTelegramApi) -> None:
    ids = range(10_001, 10_041)
    await seed(database_url, [(i, "en", "active") for i in ids])
    await store.save_issue(ISSUE, utc_now())
    async with Database(database_url) as other_database, telegram_sender(api) as sender:
        other = SqlBroadcasts(other_database)  # as another process would
        runs = [Broadcast(ISSUE, s, sender, runner=f"test:{n}:x", pacer=Pacer(28)) for n, s in ((1, store), (2, other))]
        summaries = await asyncio.gather(*(run.run() for run in runs))

    assert delivered(api) == dict.fromkeys(ids, 1)
    assert sorted(s.sent for s in summaries) == [0, len(ids)]
    assert [s.busy_with is not None for s in summaries].count(True) == 1


async def test_concurrent_claims_never_hand_out_the_same_delivery(
        database_url: str, database: Database, store: SqlBroadcasts) -> None:
    ids = range(11_001, 11_061)
    await seed(database_url, [(i, "en", "active") for i in ids])
    await store.save_issue(ISSUE, utc_now())
    await store.prepare(ISSUE.id, "test:1:a", utc_now(), resend_uncertain=False)

    async with Database(database_url) as other_database:
        other = SqlBroadcasts(other_database)

        async def claim_all(claimer: SqlBroadcasts, runner: str) -> list[int]:
            got = []
            while (delivery := await claimer.claim(ISSUE.id, runner, utc_now())) is not None:
                got.append(delivery.telegram_id)
            return got

        claimed = await asyncio.gather(*(claim_all(s, f"test:{n}:{k}") for n, s in ((1, store), (2, other))
                                         for k in range(3)))

    everyone = [telegram_id for batch in claimed for telegram_id in batch]
    assert sorted(everyone) == list(ids)  # each row claimed exactly once


async def test_a_lease_left_by_a_dead_process_on_this_host_is_taken_over_at_once(store: SqlBroadcasts) -> None:
    import socket

    from bot.broadcast_runner import holder_gone

    await store.save_issue(ISSUE, utc_now())
    now = utc_now()
    dead = f"{socket.gethostname()}:4194303:dead"  # above any pid this host hands out
    assert await store.acquire(ISSUE.id, dead, now, now + timedelta(minutes=5), holder_gone) is None

    assert await store.acquire(ISSUE.id, "elsewhere:1:x", now, now + timedelta(minutes=5), holder_gone) is None
    busy = await store.acquire(ISSUE.id, "test:2:b", now, now + timedelta(minutes=5), holder_gone)
    assert busy == "elsewhere:1:x"  # alive as far as this host can tell: its lease is respected


async def test_an_edited_file_under_the_same_id_is_refused_once_anyone_may_have_the_issue(
        database: Database, store: SqlBroadcasts, api: FakeTelegramApi) -> None:
    import pytest

    from bot.core.issue import IssueConflict

    await seed(database.engine.url.render_as_string(hide_password=False), [(12_001, "en", "active")])
    draft = Issue("2025-06", "en", {"en": "Draft"})
    assert await store.save_issue(draft, utc_now()) == "created"
    assert await store.save_issue(Issue("2025-06", "en", {"en": "Final"}), utc_now()) == "updated"
    await broadcast(store, api, Issue("2025-06", "en", {"en": "Final"}))

    with pytest.raises(IssueConflict, match="new id"):
        await store.save_issue(Issue("2025-06", "en", {"en": "Final, fixed"}), utc_now())


async def test_forgetting_a_user_erases_their_deliveries(
        database: Database, store: SqlBroadcasts, api: FakeTelegramApi) -> None:
    await seed(database.engine.url.render_as_string(hide_password=False), [(13_001, "en", "active")])
    await broadcast(store, api)

    assert await Store(database).personal_data.erase(13_001)

    assert await store.tally(ISSUE.id) == {}


async def test_the_plan_counts_who_is_still_to_serve(database: Database, store: SqlBroadcasts,
                                                     api: FakeTelegramApi) -> None:
    await seed_mix(database)
    audience, settled = await store.audience(ISSUE.id)
    assert len(audience) == 25 and settled == 0 and (DE_IDS[0], "de") in audience
    api.block_chat(DE_IDS[0])

    await broadcast(store, api)

    assert await store.audience(ISSUE.id) == ([], 25)
