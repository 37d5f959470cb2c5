"""The FAQ currently served, swapped whole when staff edit the files; an invalid edit never replaces it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from bot import faq_cache
from bot.collector import collector_paused
from bot.core.answering import Answer, Answerer, Question
from bot.core.faq import Faq
from bot.storage.faq_files import FaqLoadError, Problem, load_faq

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadResult:
    changed: bool
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class FaqLibrary:
    """Holds the current Answerer. Readers take one reference per question, so a swap is atomic."""

    def __init__(self, directory: Path, default_language: str = "en", cache_dir: Path | None = None) -> None:
        """Load and index the FAQ; with `cache_dir`, reuse the index built by an earlier start from the same
        files and code (see bot/faq_cache.py)."""
        self.directory = directory
        self.default_language = default_language
        self.cache_dir = cache_dir
        self._signature = self._files_signature()
        with collector_paused():
            key, answerer = faq_cache.load(cache_dir, directory, default_language) if cache_dir else (None, None)
            if answerer is None:
                faq, problems = load_faq(directory)
                if faq is None:
                    raise FaqLoadError(problems)
                answerer = Answerer(faq, default_language)
                if cache_dir and key:
                    faq_cache.save_if_unchanged(cache_dir, key, directory, default_language, answerer)
        self._answerer = answerer
        self._reloading = threading.Lock()  # the file watcher and /reload may both reload, from threads

    @property
    def answerer(self) -> Answerer:
        return self._answerer

    @property
    def faq(self) -> Faq:
        return self._answerer.faq

    def ask(self, question: Question) -> Answer:
        return self._answerer.ask(question)

    def _files_signature(self) -> tuple[tuple[str, int, int], ...]:
        try:
            return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                                for p in self.directory.glob("*.yaml")))
        except OSError:
            return ()

    def signature(self) -> tuple[tuple[str, int, int], ...]:
        """Name, modification time and size of each FAQ file: changes when any file is edited, added or removed."""
        return self._files_signature()

    def changed_on_disk(self) -> bool:
        return self._files_signature() != self._signature

    def reload(self) -> ReloadResult:
        """Load the folder again; keep serving the previous FAQ when the new one has errors."""
        with self._reloading:
            return self._reload()

    def _reload(self) -> ReloadResult:
        signature = self._files_signature()
        key = faq_cache.key_or_none(self.directory, self.default_language) if self.cache_dir else None
        with collector_paused():
            faq, problems = load_faq(self.directory)
            self._signature = signature
            if faq is None:
                for problem in problems:
                    if problem.severity == "error":
                        log.error("FAQ edit rejected, previous FAQ still served: %s", problem)
                return ReloadResult(False, problems)
            self._answerer = Answerer(faq, self.default_language)
        log.info("FAQ reloaded: %d topics in %d languages", len(faq.topics), len(faq.languages))
        if self.cache_dir is not None and key is not None:  # the next start finds this index ready
            faq_cache.save_if_unchanged(self.cache_dir, key, self.directory, self.default_language, self._answerer)
        return ReloadResult(True, problems)
