"""`lcbot subscribers export`, run as staff run it, on SQLite and PostgreSQL: filters, CSV and JSON formats."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.ports import Channel, Role, SubscriberRecord, SubscriberStatus
from bot.core.subscriptions import NOTICE_VERSION
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.storage.repositories import Store

LCBOT = Path(sys.executable).parent / "lcbot"
HEADER = ("telegram_id,status,language,channel,email,email_confirmed,email_confirmed_at,organisation,role,source,"
          "consent_at,consent_notice_version,consent_channel,consent_language,created_at,updated_at,unsubscribed_at")
WHEN = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
ORGANISATION = 'Métropole de Lyon, "Direction de l\'éducation"'


async def add(store: Store, telegram_id: int, status: SubscriberStatus, lang: str, **values: object) -> None:
    record = await store.subscribers.ensure(SubscriberRecord(telegram_id, status, lang, WHEN, WHEN))
    consent = {"consent_at": WHEN, "consent_notice_version": NOTICE_VERSION, "consent_language": lang,
               "consent_channel": Channel.TELEGRAM}
    assert await store.subscribers.save(replace(record, **(consent | values)))  # type: ignore[arg-type]


@pytest.fixture
async def subscribers(database_url: str) -> str:
    await upgrade(database_url)
    async with Database(database_url) as database:
        store = Store(database)
        await add(store, 101, SubscriberStatus.ACTIVE, "fr", email="a@lyon.fr", email_confirmed_at=WHEN,
                  channel=Channel.TELEGRAM_EMAIL, consent_channel=Channel.TELEGRAM_EMAIL, organisation=ORGANISATION,
                  role=Role.CITY_GOVERNMENT)
        await add(store, 102, SubscriberStatus.ACTIVE, "fr", email="b@lyon.fr", channel=Channel.TELEGRAM_EMAIL)
        await add(store, 103, SubscriberStatus.UNSUBSCRIBED, "fr", unsubscribed_at=WHEN)
        await add(store, 104, SubscriberStatus.ACTIVE, "zh", source="beijing")
    return database_url


def export(database_url: str, *args: str) -> str:
    run = subprocess.run([str(LCBOT), "subscribers", "export", *args], capture_output=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "LCBOT_DATABASE_URL": database_url})
    assert run.returncode == 0, run.stderr.decode()
    return run.stdout.decode("utf-8")  # as bytes: CSV lines end in \r\n (RFC 4180), kept as written


def ids_in_json(output: str) -> list[int]:
    return [row["telegram_id"] for row in json.loads(output)["subscribers"]]


def test_the_csv_export_has_the_documented_header_and_every_subscriber(subscribers: str) -> None:
    output = export(subscribers, "--format", "csv")
    assert output.split("\r\n", 1)[0] == HEADER
    rows = list(csv.DictReader(io.StringIO(output, newline="")))
    assert [row["telegram_id"] for row in rows] == ["101", "102", "103", "104"]
    first = rows[0]
    assert (first["organisation"], first["role"], first["email_confirmed"], first["consent_channel"]) == (
        ORGANISATION, "city-government", "true", "telegram+email")
    assert first["consent_at"] == first["email_confirmed_at"] == "2026-11-20T08:30:00+00:00"
    assert first["consent_notice_version"] == NOTICE_VERSION and first["consent_language"] == "fr"
    assert (rows[1]["email_confirmed"], rows[1]["email_confirmed_at"]) == ("false", "")
    assert rows[2]["unsubscribed_at"] and rows[3]["source"] == "beijing"


def test_the_json_export_filters_by_status_and_language(subscribers: str) -> None:
    assert ids_in_json(export(subscribers, "--format", "json", "--status", "active", "--language", "FR")) == [101, 102]


def test_only_confirmed_addresses_are_exported_for_a_mailing_tool(subscribers: str) -> None:
    output = export(subscribers, "--channel", "telegram+email", "--confirmed-email")
    rows = list(csv.DictReader(io.StringIO(output, newline="")))
    assert [(row["telegram_id"], row["email"]) for row in rows] == [("101", "a@lyon.fr")]
