"""The newsletter sign-up's use cases, on in-memory fakes of the storage ports, a fake mailer and a clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.ports import (
    Awaiting,
    Channel,
    MailError,
    Role,
    SubscriberFilter,
    SubscriberRecord,
    SubscriberStatus,
    UserRecord,
)
from bot.core.subscriptions import (
    CODE_LIFETIME,
    MAX_CODE_ATTEMPTS,
    MAX_RESENDS,
    NOTICE_VERSION,
    RESEND_INTERVAL,
    DetailOutcome,
    EmailOutcome,
    Subscriptions,
    UnsubscribeOutcome,
    export_row,
    valid_source,
)

USER = 42


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeSubscribers:
    """Subscribers in a dict, with the same revision check as the SQL repository."""

    def __init__(self) -> None:
        self.rows: dict[int, SubscriberRecord] = {}

    async def get(self, telegram_id: int) -> SubscriberRecord | None:
        await asyncio.sleep(0)  # let concurrent callers interleave, as a database would
        return self.rows.get(telegram_id)

    def may_await_step(self, telegram_id: int) -> bool:
        return True  # like a repository that does not track open steps: always ask

    async def ensure(self, record: SubscriberRecord) -> SubscriberRecord:
        return self.rows.setdefault(record.telegram_id, replace(record, revision=0))

    async def save(self, record: SubscriberRecord) -> bool:
        await asyncio.sleep(0)
        stored = self.rows.get(record.telegram_id)
        if stored is None or stored.revision != record.revision:
            return False
        self.rows[record.telegram_id] = replace(record, revision=record.revision + 1)
        return True

    async def select(self, which: SubscriberFilter) -> list[SubscriberRecord]:
        return [r for r in self.rows.values()
                if (which.status is None or r.status is which.status)
                and (which.language is None or r.language == which.language)]


@dataclass
class FakePeople:
    """Users and PersonalData over the same fake subscribers."""

    subscribers: FakeSubscribers
    users: dict[int, UserRecord] = field(default_factory=dict)
    votes: dict[int, int] = field(default_factory=dict)

    async def get(self, telegram_id: int) -> UserRecord | None:
        return self.users.get(telegram_id)

    async def touch(self, telegram_id: int, telegram_language: str | None) -> UserRecord:
        now = datetime(2026, 11, 1, tzinfo=UTC)
        return self.users.setdefault(telegram_id, UserRecord(telegram_id, None, telegram_language, now, now))

    async def set_language(self, telegram_id: int, language: str | None) -> None:
        self.users[telegram_id] = replace(await self.touch(telegram_id, None), language=language)

    async def feedback_count(self, telegram_id: int) -> int:
        return self.votes.get(telegram_id, 0)

    async def erase(self, telegram_id: int) -> bool:
        found = [store.pop(telegram_id, None) for store in (self.users, self.votes, self.subscribers.rows)]
        return any(item is not None for item in found)


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.failing = False

    async def send_code(self, to: str, code: str, lang: str) -> None:
        if self.failing:
            raise MailError("connection refused")
        self.sent.append((to, code, lang))

    @property
    def last_code(self) -> str:
        return self.sent[-1][1]


async def check_email(address: str) -> str:
    local, at, domain = address.partition("@")
    if not (local and at and "." in domain) or " " in address:
        raise ValueError("not an address")
    return f"{local}@{domain.lower()}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mailer() -> FakeMailer:
    return FakeMailer()


@pytest.fixture
def people() -> FakePeople:
    return FakePeople(FakeSubscribers())


@pytest.fixture
def service(people: FakePeople, mailer: FakeMailer, clock: FakeClock) -> Subscriptions:
    return Subscriptions(people.subscribers, people, people, check_email, mailer, clock)


async def subscribed(service: Subscriptions, lang: str = "fr") -> SubscriberRecord:
    await service.start(USER, lang)
    return (await service.consent(USER, lang)).subscriber


async def with_code_sent(service: Subscriptions, address: str = "ana@lyon.fr") -> None:
    await subscribed(service)
    await service.ask_for(USER, Awaiting.EMAIL)
    assert (await service.handle_text(USER, address)).outcome is EmailOutcome.CODE_SENT  # type: ignore[union-attr]


async def test_the_sign_up_screen_makes_a_pending_record_with_the_deep_links_source(service: Subscriptions) -> None:
    record = await service.start(USER, "fr", "lyon_2026")
    assert (record.status, record.language, record.source, record.consent_at) == (
        SubscriberStatus.PENDING, "fr", "lyon_2026", None)


def test_a_malformed_source_is_not_recorded() -> None:
    assert valid_source("lyon-2026_b") == "lyon-2026_b"
    for bad in ("", "x" * 65, "lyon!", "a b", "<script>", "ville_é"):
        assert valid_source(bad) is None


async def test_consent_activates_the_subscription_with_its_record(service: Subscriptions, clock: FakeClock) -> None:
    await service.start(USER, "ar", "cairo")
    result = await service.consent(USER, "ar")
    record = result.subscriber
    assert result.newly_subscribed
    assert record.status is SubscriberStatus.ACTIVE and record.channel is Channel.TELEGRAM
    assert (record.consent_at, record.consent_notice_version, record.consent_language, record.consent_channel) == (
        clock.now, NOTICE_VERSION, "ar", Channel.TELEGRAM)
    assert record.source == "cairo"


async def test_concurrent_consent_taps_subscribe_once(service: Subscriptions, people: FakePeople) -> None:
    results = await asyncio.gather(*(service.consent(USER, "zh") for _ in range(8)))
    assert sum(r.newly_subscribed for r in results) == 1
    assert len(people.subscribers.rows) == 1


async def test_a_second_consent_keeps_the_first_consent_record(service: Subscriptions, clock: FakeClock) -> None:
    first = await subscribed(service)
    clock.advance(days=1)
    again = await service.consent(USER, "en")
    assert not again.newly_subscribed
    assert again.subscriber.consent_at == first.consent_at and again.subscriber.language == "fr"


async def test_the_newsletter_language_can_be_changed(service: Subscriptions) -> None:
    await subscribed(service)
    record = await service.set_language(USER, "pt")
    assert record is not None and record.language == "pt"


async def test_without_a_mail_server_an_email_is_kept_unconfirmed(people: FakePeople, clock: FakeClock) -> None:
    service = Subscriptions(people.subscribers, people, people, check_email, None, clock)
    await subscribed(service)
    await service.ask_for(USER, Awaiting.EMAIL)
    result = await service.handle_text(USER, " ana@Lyon.fr ")
    assert result is not None and result.outcome is EmailOutcome.SAVED_UNCONFIRMED
    record = people.subscribers.rows[USER]
    assert (record.email, record.email_confirmed_at, record.channel, record.awaiting) == (
        "ana@lyon.fr", None, Channel.TELEGRAM_EMAIL, None)


async def test_an_invalid_email_changes_nothing_and_keeps_the_step(service: Subscriptions, people: FakePeople) -> None:
    await subscribed(service)
    await service.ask_for(USER, Awaiting.EMAIL)
    before = people.subscribers.rows[USER]
    result = await service.handle_text(USER, "ana at lyon")
    assert result is not None and result.outcome is EmailOutcome.INVALID and result.reason
    assert people.subscribers.rows[USER] == before and before.awaiting is Awaiting.EMAIL


async def test_the_emailed_code_confirms_the_address(service: Subscriptions, mailer: FakeMailer,
                                                     people: FakePeople, clock: FakeClock) -> None:
    await with_code_sent(service)
    to, code, lang = mailer.sent[-1]
    assert (to, lang, len(code)) == ("ana@lyon.fr", "fr", 6)
    stored = people.subscribers.rows[USER]
    assert stored.email_code_hash and code not in stored.email_code_hash
    assert stored.email_code_expires_at == clock.now + CODE_LIFETIME
    result = await service.handle_text(USER, f"{code[:3]} {code[3:]}")
    assert result is not None and result.outcome is EmailOutcome.CONFIRMED
    record = people.subscribers.rows[USER]
    assert record.email_confirmed_at == clock.now and record.email_code_hash is None
    assert record.consent_channel is Channel.TELEGRAM_EMAIL and record.awaiting is None


async def test_a_wrong_code_counts_an_attempt_and_too_many_lock_the_code(service: Subscriptions,
                                                                         mailer: FakeMailer) -> None:
    await with_code_sent(service)
    wrong = "000000" if mailer.last_code != "000000" else "111111"
    outcomes = [await service.handle_text(USER, wrong) for _ in range(MAX_CODE_ATTEMPTS)]
    assert [r.attempts_left for r in outcomes[:-1]] == list(range(MAX_CODE_ATTEMPTS - 1, 0, -1))  # type: ignore[union-attr]
    assert {r.outcome for r in outcomes[:-1]} == {EmailOutcome.WRONG_CODE}  # type: ignore[union-attr]
    assert outcomes[-1].outcome is EmailOutcome.TOO_MANY_ATTEMPTS  # type: ignore[union-attr]
    late = await service.handle_text(USER, mailer.last_code)
    assert late is not None and late.outcome is EmailOutcome.TOO_MANY_ATTEMPTS


async def test_text_that_is_no_code_costs_no_attempt(service: Subscriptions, people: FakePeople) -> None:
    await with_code_sent(service)
    result = await service.handle_text(USER, "what is a learning city?")
    assert result is not None and result.outcome is EmailOutcome.NOT_A_CODE
    assert people.subscribers.rows[USER].email_code_attempts == 0


async def test_an_expired_code_is_refused(service: Subscriptions, mailer: FakeMailer, clock: FakeClock) -> None:
    await with_code_sent(service)
    clock.advance(seconds=CODE_LIFETIME.total_seconds())
    result = await service.handle_text(USER, mailer.last_code)
    assert result is not None and result.outcome is EmailOutcome.EXPIRED


async def test_a_new_code_waits_a_minute_and_is_limited(service: Subscriptions, mailer: FakeMailer,
                                                        clock: FakeClock) -> None:
    await with_code_sent(service)
    too_soon = await service.send_code(USER)
    assert too_soon.outcome is EmailOutcome.TOO_SOON and 0 < too_soon.wait_seconds <= 60
    for _ in range(MAX_RESENDS):
        clock.advance(seconds=RESEND_INTERVAL.total_seconds())
        assert (await service.send_code(USER)).outcome is EmailOutcome.CODE_SENT
    clock.advance(seconds=RESEND_INTERVAL.total_seconds())
    assert (await service.send_code(USER)).outcome is EmailOutcome.TOO_MANY_SENDS
    assert len(mailer.sent) == 1 + MAX_RESENDS
    clock.advance(days=1)
    assert (await service.send_code(USER)).outcome is EmailOutcome.CODE_SENT


async def test_only_the_newest_code_confirms(service: Subscriptions, mailer: FakeMailer, clock: FakeClock) -> None:
    await with_code_sent(service)
    old = mailer.last_code
    clock.advance(minutes=2)
    await service.send_code(USER)
    if old != mailer.last_code:
        result = await service.handle_text(USER, old)
        assert result is not None and result.outcome is EmailOutcome.WRONG_CODE
    result = await service.handle_text(USER, mailer.last_code)
    assert result is not None and result.outcome is EmailOutcome.CONFIRMED


async def test_a_mail_server_failure_is_an_outcome_and_does_not_count(service: Subscriptions, mailer: FakeMailer,
                                                                     people: FakePeople) -> None:
    await subscribed(service)
    await service.ask_for(USER, Awaiting.EMAIL)
    mailer.failing = True
    result = await service.handle_text(USER, "ana@lyon.fr")
    assert result is not None and result.outcome is EmailOutcome.MAIL_FAILED
    record = people.subscribers.rows[USER]
    assert (record.email, record.email_code_sends, record.email_code_sent_at) == ("ana@lyon.fr", 0, None)
    mailer.failing = False
    assert (await service.send_code(USER)).outcome is EmailOutcome.CODE_SENT


async def test_a_corrected_address_replaces_the_pending_one(service: Subscriptions, mailer: FakeMailer,
                                                            people: FakePeople, clock: FakeClock) -> None:
    await with_code_sent(service, "ana@lyon.frr")
    clock.advance(minutes=1)
    result = await service.handle_text(USER, "ana@lyon.fr")
    assert result is not None and result.outcome is EmailOutcome.CODE_SENT
    assert mailer.sent[-1][0] == "ana@lyon.fr" and people.subscribers.rows[USER].email == "ana@lyon.fr"


async def test_organisation_and_role_are_kept(service: Subscriptions, people: FakePeople) -> None:
    await subscribed(service)
    await service.ask_for(USER, Awaiting.ORGANISATION)
    too_long = await service.handle_text(USER, "x" * 201)
    assert too_long is not None and too_long.outcome is DetailOutcome.TOO_LONG
    saved = await service.handle_text(USER, "  Ville de   Lyon ")
    assert saved is not None and saved.outcome is DetailOutcome.SAVED
    await service.set_role(USER, Role.CITY_GOVERNMENT)
    record = people.subscribers.rows[USER]
    assert (record.organisation, record.role, record.awaiting) == ("Ville de Lyon", Role.CITY_GOVERNMENT, None)


async def test_without_a_step_text_is_a_question(service: Subscriptions) -> None:
    await subscribed(service)
    assert await service.handle_text(USER, "ana@lyon.fr") is None
    await service.ask_for(USER, Awaiting.EMAIL)
    assert await service.leave_step(USER) is Awaiting.EMAIL
    assert await service.leave_step(USER) is None
    assert await service.handle_text(USER, "ana@lyon.fr") is None


async def test_steps_need_an_active_subscription(service: Subscriptions) -> None:
    await service.start(USER, "fr")
    assert await service.ask_for(USER, Awaiting.EMAIL) is None
    assert (await service.add_email(USER, "ana@lyon.fr")).outcome is EmailOutcome.NOT_SUBSCRIBED


async def test_unsubscribing_twice_changes_nothing_the_second_time(service: Subscriptions, people: FakePeople,
                                                                   clock: FakeClock) -> None:
    await subscribed(service)
    assert await service.unsubscribe(USER) is UnsubscribeOutcome.UNSUBSCRIBED
    first = people.subscribers.rows[USER]
    clock.advance(hours=1)
    assert await service.unsubscribe(USER) is UnsubscribeOutcome.NOT_SUBSCRIBED
    assert people.subscribers.rows[USER].unsubscribed_at == first.unsubscribed_at == first.updated_at
    assert await service.unsubscribe(999) is UnsubscribeOutcome.NOT_SUBSCRIBED


async def test_my_data_holds_everything_but_the_codes_hash(service: Subscriptions, people: FakePeople) -> None:
    await people.touch(USER, "fr")
    people.votes[USER] = 3
    await with_code_sent(service)
    data = await service.my_data(USER)
    assert data["user"]["telegram_language"] == "fr" and data["feedback_votes"] == 3
    subscription = data["subscription"]
    assert subscription["email"] == "ana@lyon.fr" and subscription["email_code_pending"] is True
    assert "email_code_hash" not in subscription and subscription["consent_notice_version"] == NOTICE_VERSION
    assert isinstance(subscription["consent_at"], str)


async def test_forget_erases_the_user_the_subscription_and_the_votes(service: Subscriptions,
                                                                     people: FakePeople) -> None:
    await people.touch(USER, "fr")
    people.votes[USER] = 1
    await subscribed(service)
    assert await service.forget(USER)
    assert await service.my_data(USER) == {"telegram_id": USER, "user": None, "subscription": None,
                                           "feedback_votes": 0}
    assert not await service.forget(USER)


async def test_the_export_row_has_the_documented_columns(service: Subscriptions) -> None:
    record = await subscribed(service)
    row = export_row(record)
    assert list(row) == [
        "telegram_id", "status", "language", "channel", "email", "email_confirmed", "email_confirmed_at",
        "organisation", "role", "source", "consent_at", "consent_notice_version", "consent_channel",
        "consent_language", "created_at", "updated_at", "unsubscribed_at",
    ]
    assert (row["status"], row["email_confirmed"], row["consent_channel"]) == ("active", False, "telegram")
