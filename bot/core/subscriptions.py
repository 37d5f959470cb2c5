"""The newsletter sign-up, free of Telegram: consent, language, an optional confirmed email, the user's rights.

Every step is stored (the `awaiting` step too), so a sign-up survives a restart and continues on another
instance. Read-modify-write goes through `Subscribers.save`, which only writes over the revision it read:
two taps at once cannot both consent, nor both send a code.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from bot.core.ports import (
    Awaiting,
    Channel,
    EmailCheck,
    Mailer,
    PersonalData,
    Role,
    SubscriberFilter,
    SubscriberRecord,
    Subscribers,
    SubscriberStatus,
    Users,
)

log = logging.getLogger(__name__)

NOTICE_VERSION = "2026-11"  # the privacy notice the user agreed to; change it with the notice's text
CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=30)
MAX_CODE_ATTEMPTS = 5
RESEND_INTERVAL = timedelta(seconds=60)
MAX_RESENDS = 5  # after the first code email
SEND_WINDOW = timedelta(hours=24)  # the count of code emails starts again after a day without one
MAX_ORGANISATION_CHARS = 200
MAX_EMAIL_CHARS = 254
SAVE_RETRIES = 8
_SOURCE = re.compile(r"[A-Za-z0-9_-]{1,64}")

Clock = Callable[[], datetime]
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


def valid_source(source: str | None) -> str | None:
    """The deep link's source (`/start subscribe_lyon` → "lyon") when well formed, else None."""
    return source if source is not None and _SOURCE.fullmatch(source) else None


class EmailOutcome(StrEnum):
    INVALID = "invalid"  # not an email address; nothing changed
    SAVED_UNCONFIRMED = "saved-unconfirmed"  # no mail server configured: kept unconfirmed
    CODE_SENT = "code-sent"
    MAIL_FAILED = "mail-failed"  # the address is kept; try again later
    TOO_SOON = "too-soon"  # a code was sent less than RESEND_INTERVAL ago
    TOO_MANY_SENDS = "too-many-sends"
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already-confirmed"
    NOT_A_CODE = "not-a-code"  # the message holds no code: no attempt counted
    WRONG_CODE = "wrong-code"
    EXPIRED = "expired"
    TOO_MANY_ATTEMPTS = "too-many-attempts"
    NO_CODE = "no-code"  # nothing to confirm
    NOT_SUBSCRIBED = "not-subscribed"


@dataclass(frozen=True, slots=True)
class EmailResult:
    outcome: EmailOutcome
    subscriber: SubscriberRecord | None
    reason: str | None = None  # why an address is invalid (English, from the validator)
    attempts_left: int = 0
    wait_seconds: int = 0


class DetailOutcome(StrEnum):
    SAVED = "saved"
    EMPTY = "empty"
    TOO_LONG = "too-long"
    NOT_SUBSCRIBED = "not-subscribed"


@dataclass(frozen=True, slots=True)
class DetailResult:
    outcome: DetailOutcome
    subscriber: SubscriberRecord | None


@dataclass(frozen=True, slots=True)
class ConsentResult:
    subscriber: SubscriberRecord
    newly_subscribed: bool  # False: already active (a second tap)


class UnsubscribeOutcome(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    NOT_SUBSCRIBED = "not-subscribed"


StepResult = EmailResult | DetailResult


def hash_code(code: str, salt: str | None = None) -> str:
    """What is stored instead of the code: "sha256$<salt>$<digest>"."""
    salt = salt or secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


def code_matches(code: str, stored: str) -> bool:
    try:
        _, salt, _ = stored.split("$")
    except ValueError:
        return False
    return hmac.compare_digest(hash_code(code, salt), stored)


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


class ConcurrentChanges(RuntimeError):
    """The record kept changing under us; the user is asked to try again."""


class Subscriptions:
    """The sign-up and the user's rights; one method per thing a user does."""

    def __init__(self, subscribers: Subscribers, personal_data: PersonalData, users: Users,
                 check_email: EmailCheck, mailer: Mailer | None = None, clock: Clock = utc_now) -> None:
        self.subscribers = subscribers
        self.personal_data = personal_data
        self.users = users
        self.check_email = check_email
        self.mailer = mailer
        self.clock = clock

    @property
    def confirms_email(self) -> bool:
        """Whether addresses are confirmed with an emailed code (a mail server is configured)."""
        return self.mailer is not None

    async def get(self, user_id: int) -> SubscriberRecord | None:
        return await self.subscribers.get(user_id)

    async def start(self, user_id: int, language: str, source: str | None = None) -> SubscriberRecord:
        """The sign-up screen is shown: a pending record keeps the deep link's source until consent."""
        source = valid_source(source)
        now = self.clock()
        stored = await self.subscribers.ensure(SubscriberRecord(user_id, SubscriberStatus.PENDING, language, now, now,
                                                                source=source))

        def change(record: SubscriberRecord) -> tuple[SubscriberRecord, None]:
            if record.status is SubscriberStatus.ACTIVE:
                return replace(record, awaiting=None), None
            return replace(record, language=language, source=source or record.source, awaiting=None), None

        updated, _ = await self._change(user_id, change)
        return updated or stored

    async def consent(self, user_id: int, language: str) -> ConsentResult:
        """One tap: active in `language`, with the consent on record. A second tap changes nothing."""
        now = self.clock()
        await self.subscribers.ensure(SubscriberRecord(user_id, SubscriberStatus.PENDING, language, now, now))

        def change(record: SubscriberRecord) -> tuple[SubscriberRecord, bool]:
            if record.status is SubscriberStatus.ACTIVE:
                return record, False
            channel = Channel.TELEGRAM_EMAIL if record.email_confirmed_at else Channel.TELEGRAM
            return replace(record, status=SubscriberStatus.ACTIVE, language=language, consent_at=now,
                           consent_notice_version=NOTICE_VERSION, consent_channel=channel,
                           consent_language=language, unsubscribed_at=None, awaiting=None), True

        record, newly = await self._change(user_id, change)
        if record is None:  # erased between the two statements (/forget in another chat): start again
            return await self.consent(user_id, language)
        return ConsentResult(record, newly)

    async def set_language(self, user_id: int, language: str) -> SubscriberRecord | None:
        """The newsletter's language follows the user's /language choice."""
        record, _ = await self._change(user_id, lambda r: (replace(r, language=language), None))
        return record

    async def ask_for(self, user_id: int, step: Awaiting) -> SubscriberRecord | None:
        """The user tapped "Add my email" or "Add my city/organisation": their next message answers it.

        None when they are not subscribed (an old button after /unsubscribe).
        """
        def change(record: SubscriberRecord) -> tuple[SubscriberRecord, bool]:
            if record.status is not SubscriberStatus.ACTIVE:
                return record, False
            return replace(record, awaiting=step), True

        record, ok = await self._change(user_id, change)
        return record if ok else None

    async def leave_step(self, user_id: int) -> Awaiting | None:
        """/cancel, "Done" or another button: the next message is a question again. Returns the step left."""
        _, left = await self._change(user_id, lambda r: (replace(r, awaiting=None), r.awaiting))
        return left

    async def handle_text(self, user_id: int, text: str) -> StepResult | None:
        """The user's text when a sign-up step awaits it; None when none does (answer it as a question)."""
        if not self.subscribers.may_await_step(user_id):
            return None
        record = await self.subscribers.get(user_id)
        if record is None or record.awaiting is None or record.status is not SubscriberStatus.ACTIVE:
            return None
        if record.awaiting is Awaiting.ORGANISATION:
            return await self.set_organisation(user_id, text)
        if record.awaiting is Awaiting.CODE and "@" not in text:
            return await self.confirm_code(user_id, text)
        return await self.add_email(user_id, text)  # awaiting an address, or a corrected one instead of the code

    async def add_email(self, user_id: int, text: str) -> EmailResult:
        address = text.strip()
        try:
            if len(address) > MAX_EMAIL_CHARS:
                raise ValueError(f"longer than {MAX_EMAIL_CHARS} characters")
            address = await self.check_email(address)
        except ValueError as exc:
            return EmailResult(EmailOutcome.INVALID, await self.subscribers.get(user_id), reason=str(exc))

        def change(record: SubscriberRecord) -> tuple[SubscriberRecord, EmailOutcome | None]:
            if record.status is not SubscriberStatus.ACTIVE:
                return record, EmailOutcome.NOT_SUBSCRIBED
            if record.email == address and record.email_confirmed_at is not None:
                return replace(record, awaiting=None), EmailOutcome.ALREADY_CONFIRMED
            changed = replace(record, email=address, channel=Channel.TELEGRAM_EMAIL, email_confirmed_at=None,
                              email_code_hash=None, email_code_expires_at=None, email_code_attempts=0)
            if self.mailer is None:
                return replace(changed, awaiting=None, consent_channel=Channel.TELEGRAM_EMAIL), \
                    EmailOutcome.SAVED_UNCONFIRMED
            return replace(changed, awaiting=Awaiting.CODE, consent_channel=Channel.TELEGRAM), None

        record, outcome = await self._change(user_id, change)
        if record is None:
            return EmailResult(EmailOutcome.NOT_SUBSCRIBED, None)
        if outcome is not None:
            return EmailResult(outcome, record)
        return await self.send_code(user_id)

    async def send_code(self, user_id: int) -> EmailResult:
        """Email a new code to the address on record (also the "resend" button), within the limits."""
        code = new_code()
        now = self.clock()

        def change(record: SubscriberRecord) -> tuple[SubscriberRecord, EmailResult]:
            if record.status is not SubscriberStatus.ACTIVE:
                return record, EmailResult(EmailOutcome.NOT_SUBSCRIBED, record)
            if record.email is None:
                return record, EmailResult(EmailOutcome.NO_CODE, record)
            if record.email_confirmed_at is not None:
                return record, EmailResult(EmailOutcome.ALREADY_CONFIRMED, record)
            if self.mailer is None:
                return record, EmailResult(EmailOutcome.SAVED_UNCONFIRMED, record)
            last = record.email_code_sent_at
            if last is not None and now - last < RESEND_INTERVAL:
                wait = math.ceil((RESEND_INTERVAL - (now - last)).total_seconds())
                return record, EmailResult(EmailOutcome.TOO_SOON, record, wait_seconds=wait)
            sends = record.email_code_sends if last is not None and now - last < SEND_WINDOW else 0
            if sends > MAX_RESENDS:
                return record, EmailResult(EmailOutcome.TOO_MANY_SENDS, record)
            sent = replace(record, email_code_hash=hash_code(code), email_code_expires_at=now + CODE_LIFETIME,
                           email_code_attempts=0, email_code_sends=sends + 1, email_code_sent_at=now,
                           awaiting=Awaiting.CODE)
            return sent, EmailResult(EmailOutcome.CODE_SENT, sent)

        record, result = await self._change(user_id, change)
        if record is None:
            return EmailResult(EmailOutcome.NOT_SUBSCRIBED, None)
        if result.outcome is not EmailOutcome.CODE_SENT or self.mailer is None or record.email is None:
            return result
        try:
            await self.mailer.send_code(record.email, code, record.language)
        except Exception as exc:  # MailError, or anything unexpected from the mail library: never a crash
            log.warning("could not send a confirmation code: %s", exc)
            return EmailResult(EmailOutcome.MAIL_FAILED, await self._undo_send(user_id, record))
        return EmailResult(EmailOutcome.CODE_SENT, record)

    async def _undo_send(self, user_id: int, sent: SubscriberRecord) -> SubscriberRecord | None:
        """A code that never left does not count against the limits."""
        def change(record: SubscriberRecord) -> tuple[SubscriberRecord, None]:
            if record.email_code_hash != sent.email_code_hash:
                return record, None
            return replace(record, email_code_hash=None, email_code_expires_at=None,
                           email_code_sends=max(0, record.email_code_sends - 1), email_code_sent_at=None), None

        record, _ = await self._change(user_id, change)
        return record

    async def confirm_code(self, user_id: int, text: str) -> EmailResult:
        code = re.sub(r"[\s-]", "", text)
        now = self.clock()

        def change(record: SubscriberRecord) -> tuple[SubscriberRecord, EmailResult]:
            if record.status is not SubscriberStatus.ACTIVE:
                return record, EmailResult(EmailOutcome.NOT_SUBSCRIBED, record)
            if record.email_code_hash is None:
                outcome = EmailOutcome.ALREADY_CONFIRMED if record.email_confirmed_at else EmailOutcome.NO_CODE
                return record, EmailResult(outcome, record)
            if record.email_code_attempts >= MAX_CODE_ATTEMPTS:
                return record, EmailResult(EmailOutcome.TOO_MANY_ATTEMPTS, record)
            if record.email_code_expires_at is None or now >= record.email_code_expires_at:
                return record, EmailResult(EmailOutcome.EXPIRED, record)
            left = MAX_CODE_ATTEMPTS - record.email_code_attempts
            if not (code.isascii() and code.isdigit() and len(code) == CODE_DIGITS):
                return record, EmailResult(EmailOutcome.NOT_A_CODE, record, attempts_left=left)
            if code_matches(code, record.email_code_hash):
                confirmed = replace(record, email_confirmed_at=now, email_code_hash=None, email_code_expires_at=None,
                                    email_code_attempts=0, channel=Channel.TELEGRAM_EMAIL,
                                    consent_channel=Channel.TELEGRAM_EMAIL, awaiting=None)
                return confirmed, EmailResult(EmailOutcome.CONFIRMED, confirmed)
            tried = replace(record, email_code_attempts=record.email_code_attempts + 1)
            outcome = EmailOutcome.WRONG_CODE if left > 1 else EmailOutcome.TOO_MANY_ATTEMPTS
            return tried, EmailResult(outcome, tried, attempts_left=left - 1)

        record, result = await self._change(user_id, change)
        return result if record is not None else EmailResult(EmailOutcome.NOT_SUBSCRIBED, None)

    async def set_organisation(self, user_id: int, text: str) -> DetailResult:
        name = " ".join(text.split())

        def change(record: SubscriberRecord) -> tuple[SubscriberRecord, DetailOutcome]:
            if record.status is not SubscriberStatus.ACTIVE:
                return record, DetailOutcome.NOT_SUBSCRIBED
            if not name:
                return record, DetailOutcome.EMPTY
            if len(name) > MAX_ORGANISATION_CHARS:
                return record, DetailOutcome.TOO_LONG
            return replace(record, organisation=name, awaiting=None), DetailOutcome.SAVED

        record, outcome = await self._change(user_id, change)
        return DetailResult(outcome if record is not None else DetailOutcome.NOT_SUBSCRIBED, record)

    async def set_role(self, user_id: int, role: Role) -> DetailResult:
        def change(record: SubscriberRecord) -> tuple[SubscriberRecord, DetailOutcome]:
            if record.status is not SubscriberStatus.ACTIVE:
                return record, DetailOutcome.NOT_SUBSCRIBED
            return replace(record, role=role, awaiting=None), DetailOutcome.SAVED

        record, outcome = await self._change(user_id, change)
        return DetailResult(outcome if record is not None else DetailOutcome.NOT_SUBSCRIBED, record)

    async def unsubscribe(self, user_id: int) -> UnsubscribeOutcome:
        """Stop the newsletter at once; a second time changes nothing. /forget erases the record."""
        now = self.clock()

        def change(record: SubscriberRecord) -> tuple[SubscriberRecord, UnsubscribeOutcome]:
            if record.status not in (SubscriberStatus.ACTIVE, SubscriberStatus.UNREACHABLE):
                return replace(record, awaiting=None), UnsubscribeOutcome.NOT_SUBSCRIBED
            return replace(record, status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=now, awaiting=None,
                           email_code_hash=None, email_code_expires_at=None), UnsubscribeOutcome.UNSUBSCRIBED

        record, outcome = await self._change(user_id, change)
        return outcome if record is not None else UnsubscribeOutcome.NOT_SUBSCRIBED

    async def my_data(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the user, as plain JSON-ready values (/mydata)."""
        user = await self.users.get(user_id)
        subscriber = await self.subscribers.get(user_id)
        return {
            "telegram_id": user_id,
            "user": _plain(asdict(user)) if user else None,
            "subscription": subscription_data(subscriber) if subscriber else None,
            "feedback_votes": await self.personal_data.feedback_count(user_id),
        }

    async def forget(self, user_id: int) -> bool:
        """Erase the user, their subscription and their feedback (/forget, after confirmation)."""
        return await self.personal_data.erase(user_id)

    async def export(self, which: SubscriberFilter) -> list[SubscriberRecord]:
        return await self.subscribers.select(which)

    async def _change(
        self, user_id: int, change: Callable[[SubscriberRecord], tuple[SubscriberRecord, T]]
    ) -> tuple[SubscriberRecord | None, T]:
        """Read, change, and save over the revision read; again if someone saved in between.

        (None, None) when the user has no record.
        """
        for _ in range(SAVE_RETRIES):
            record = await self.subscribers.get(user_id)
            if record is None:
                return None, None  # type: ignore[return-value]
            changed, result = change(record)
            if changed == record:
                return record, result
            changed = replace(changed, updated_at=self.clock())
            if await self.subscribers.save(changed):
                return replace(changed, revision=changed.revision + 1), result
        raise ConcurrentChanges(f"subscriber {user_id} kept changing")


# The staff export's columns, in order: the CSV header. Add new columns at the end only (README.md).
EXPORT_FIELDS = (
    "telegram_id", "status", "language", "channel", "email", "email_confirmed", "email_confirmed_at",
    "organisation", "role", "source", "consent_at", "consent_notice_version", "consent_channel",
    "consent_language", "created_at", "updated_at", "unsubscribed_at",
)


def export_row(record: SubscriberRecord) -> dict[str, Any]:
    """One subscriber as the export shows it: JSON-ready values, in EXPORT_FIELDS order."""
    values = subscription_data(record)
    values["email_confirmed"] = record.email_confirmed_at is not None
    return {name: values.get(name) for name in EXPORT_FIELDS}


def subscription_data(record: SubscriberRecord) -> dict[str, Any]:
    """The stored subscription, with the code's hash replaced by whether a code is pending."""
    values = _plain(asdict(record))
    values.pop("revision", None)
    values["email_code_pending"] = values.pop("email_code_hash") is not None
    return values


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in values.items()}


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value
