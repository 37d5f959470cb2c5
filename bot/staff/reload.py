"""Reload the FAQ and the interface catalogs while the bot serves: when the FAQ files change, or on /reload.

A valid edit is swapped in whole; an invalid one is rejected with its errors and the previous FAQ keeps
serving (bot/faq_library.py). Loading takes about half a second, so it runs in a worker thread and the
bot keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.bootstrap import Services
from bot.faq_library import ReloadResult
from bot.i18n import load_catalogs

log = logging.getLogger(__name__)

MAX_ERRORS_SHOWN = 10


def _reload(services: Services, catalogs: bool) -> ReloadResult:
    library = services.library
    result = library.reload()
    if result.changed or catalogs:  # a new FAQ may bring a new language, which needs its catalog
        # Catalogs are immutable: build new ones and swap the reference, as for the FAQ.
        services.catalogs = load_catalogs(services.settings.locales_dir, library.faq.language_codes,
                                          library.answerer.policy.default)
    return result


async def reload_content(services: Services, *, catalogs: bool = True) -> ReloadResult:
    """Read the FAQ folder (and the interface translations) again; the previous FAQ stays on any error."""
    return await asyncio.to_thread(_reload, services, catalogs)


def describe(result: ReloadResult, services: Services) -> str:
    """The outcome for staff, in plain text."""
    if result.changed:
        faq = services.library.faq
        warnings = sum(1 for p in result.problems if p.severity == "warning")
        text = (f"FAQ reloaded: {len(faq.topics)} topics in {len(faq.languages)} languages "
                f"({', '.join(faq.languages)}); interface translations reloaded.")
        return text + (f"\n{warnings} warning(s): run `lcbot faq check` to see them." if warnings else "")
    errors = result.errors
    lines = ["FAQ edit rejected: the previous FAQ is still served. Fix these errors and save again:"]
    lines += [f"• {problem}" for problem in errors[:MAX_ERRORS_SHOWN]]
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(f"… and {len(errors) - MAX_ERRORS_SHOWN} more: run `lcbot faq check`.")
    return "\n".join(lines)


class FaqWatcher:
    """Polls the FAQ folder's file signatures; reloads on a change and tells staff about rejected edits.

    `notify` gets plain text: why an edit was rejected, and when the FAQ is accepted again afterwards.
    """

    def __init__(self, services: Services, notify: Callable[[str], Awaitable[None]], every: float = 2.0,
                 settle: float = 0.3) -> None:
        self.services = services
        self.notify = notify
        self.every = every
        self.settle = min(settle, every)
        self.rejected = False  # the last edit seen was rejected

    async def run(self) -> None:
        """Until cancelled; a failing check is logged and the watch goes on."""
        log.info("watching %s for FAQ edits every %.1f s", self.services.library.directory, self.every)
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("FAQ watch: check failed; will try again", exc_info=True)

    async def check(self) -> ReloadResult | None:
        """Reload if the files changed (and stopped changing: an editor may still be writing)."""
        library = self.services.library
        if not library.changed_on_disk():
            return None
        seen = library.signature()
        await asyncio.sleep(self.settle)
        if library.signature() != seen:
            return None  # still being written: next round
        result = await reload_content(self.services, catalogs=False)
        if not result.changed:
            self.rejected = True
            await self.notify(describe(result, self.services))
        elif self.rejected:
            self.rejected = False
            await self.notify("FAQ edit accepted: " + describe(result, self.services))
        return result
