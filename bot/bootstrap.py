"""The composition root: build every service from the settings, once, and close them at the end."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Settings
from bot.core.assistant import Assistant
from bot.core.flood import FloodGuard
from bot.core.ports import UpdateLog
from bot.core.subscriptions import Subscriptions
from bot.faq_cache import default_cache_dir
from bot.faq_library import FaqLibrary
from bot.i18n import Catalogs, load_catalogs
from bot.mail import build_mailer, email_check
from bot.metrics import Metrics
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.storage.repositories import Store
from bot.storage.retry import retrying
from bot.storage.updates import SqlProcessedUpdates

log = logging.getLogger(__name__)
# Claiming a webhook update: short retries, then the update is handled anyway (see bot/webhook.py).
CLAIM_BACKOFF = (0.05, 0.2)


@dataclass
class Services:
    settings: Settings
    library: FaqLibrary
    catalogs: Catalogs
    database: Database
    store: Store
    assistant: Assistant
    # Keyword-only, so fields added later need no default.
    metrics: Metrics = field(default_factory=Metrics, kw_only=True)
    flood: FloodGuard = field(default_factory=FloodGuard, kw_only=True)
    updates: UpdateLog | None = field(default=None, kw_only=True)  # webhook redelivery guard
    subscriptions: Subscriptions = field(kw_only=True)  # the newsletter sign-up and the user's data


def build_library(settings: Settings) -> tuple[FaqLibrary, Catalogs]:
    cache_dir = faq_cache_dir(settings)
    library = FaqLibrary(settings.faq_dir, settings.default_language, cache_dir=cache_dir)
    catalogs = load_catalogs(settings.locales_dir, library.faq.language_codes, library.answerer.policy.default,
                             cache_dir=cache_dir)
    return library, catalogs


def faq_cache_dir(settings: Settings) -> Path | None:
    """LCBOT_CACHE_DIR, ~/.cache/lcbot when unset, None when "off": the FAQ index and compiled catalogs."""
    if settings.cache_dir is None:
        return default_cache_dir()
    return None if settings.cache_dir.strip().lower() in ("", "off", "none", "0") else Path(settings.cache_dir)


@asynccontextmanager
async def build_services(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Services]:
    """Load the FAQ and catalogs, open the database (migrated to the latest schema) and wire the services."""
    library, catalogs = build_library(settings)
    if migrate:
        await upgrade(settings.database_url)
    database = Database(settings.database_url)
    store = Store(database)
    try:
        # The storage calls retry a few times with backoff before the user is asked to try again.
        assistant = Assistant(lambda: library.answerer, retrying(store.users), retrying(store.questions),
                              retrying(store.feedback))
        subscriptions = Subscriptions(retrying(store.subscribers), retrying(store.personal_data),
                                      retrying(store.users), email_check(settings.email_check_deliverability),
                                      build_mailer(settings, catalogs))
        yield Services(settings, library, catalogs, database, store, assistant,
                       flood=FloodGuard(settings.flood_limit, settings.flood_window), subscriptions=subscriptions,
                       updates=retrying(SqlProcessedUpdates(database), backoff=CLAIM_BACKOFF))
    finally:
        await store.close()
        await database.close()
