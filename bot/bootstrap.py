"""The composition root: build every service from the settings, once, and close them at the end."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.config import Settings
from bot.core.assistant import Assistant
from bot.faq_library import FaqLibrary
from bot.i18n import Catalogs, load_catalogs
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.storage.repositories import Store

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    library: FaqLibrary
    catalogs: Catalogs
    database: Database
    store: Store
    assistant: Assistant


def build_library(settings: Settings) -> tuple[FaqLibrary, Catalogs]:
    library = FaqLibrary(settings.faq_dir, settings.default_language)
    catalogs = load_catalogs(settings.locales_dir, library.faq.language_codes, library.answerer.policy.default)
    return library, catalogs


@asynccontextmanager
async def build_services(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Services]:
    """Load the FAQ and catalogs, open the database (migrated to the latest schema) and wire the services."""
    library, catalogs = build_library(settings)
    if migrate:
        await upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        store = Store(database)
        assistant = Assistant(lambda: library.answerer, store.users, store.questions, store.feedback)
        yield Services(settings, library, catalogs, database, store, assistant)
    finally:
        await database.close()
