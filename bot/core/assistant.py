"""The conversation's use cases, free of Telegram: ask, choose a language, give feedback.

Each method is one call from an adapter: it resolves the user's language, uses the FAQ engine and records
what staff need through the storage ports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.answering import Answer, Answerer, Question
from bot.core.faq import Faq
from bot.core.language import negotiate
from bot.core.ports import Feedback, LoggedQuestion, QuestionLog, Users

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Asker:
    """Who is asking, as any adapter can tell it."""

    user_id: int
    telegram_language: str | None = None


@dataclass(frozen=True, slots=True)
class AskResult:
    answer: Answer
    question_id: int | None  # None when the question could not be logged (the answer still goes out)
    faq: Faq  # the FAQ version that answered: a reload meanwhile must not change the topics under it


class Assistant:
    def __init__(self, answerer: Callable[[], Answerer], users: Users, questions: QuestionLog,
                 feedback: Feedback) -> None:
        self._answerer = answerer
        self.users = users
        self.questions = questions
        self.feedback = feedback

    @property
    def answerer(self) -> Answerer:
        return self._answerer()

    async def language_of(self, asker: Asker) -> str:
        """The language for menus and commands: the saved choice, else Telegram's, else the default."""
        saved = await self.users.saved_language(asker.user_id)
        self.users.seen(asker.user_id, asker.telegram_language)
        return self.answerer.policy.preferred(saved, asker.telegram_language)

    async def ask(self, asker: Asker, text: str) -> AskResult:
        """Answer from the FAQ; nothing on the way waits for a database write.

        The saved language is read only when the message's own language is unclear. The question log
        and the user's "last seen" are batched: the log gives the question its id at once, for the
        buttons of a suggestion to carry. Storage faults cost the records, never the answer.
        """
        answerer = self.answerer
        answer = answerer.ask(Question(text, None, asker.telegram_language))
        if not answerer.policy.is_clear(answer.detected):
            saved = await self._saved_language(asker)
            if saved is not None and saved != answer.lang:
                answer = answerer.ask(Question(text, saved, asker.telegram_language))
        logged = LoggedQuestion(text, answer.lang, answer.kind.value, answer.faq_id, answer.score)
        question_id: int | None = None
        try:
            self.users.seen(asker.user_id, asker.telegram_language)
            question_id = self.questions.record_later(logged)
        except Exception:
            log.warning("question log unavailable; question not recorded", exc_info=True)
        return AskResult(answer, question_id, answerer.faq)

    async def _saved_language(self, asker: Asker) -> str | None:
        try:
            return await self.users.saved_language(asker.user_id)
        except Exception:  # storage down: answer without the saved language rather than not at all
            log.warning("user record unavailable; answering without the saved language", exc_info=True)
            return None

    async def choose_language(self, asker: Asker, wanted: str) -> str | None:
        """Save the user's language; returns it, or None when it is not one we speak."""
        lang = negotiate(wanted, self.answerer.languages)
        if lang is None:
            return None
        await self.users.touch(asker.user_id, asker.telegram_language)
        await self.users.set_language(asker.user_id, lang)
        return lang

    async def rate(self, asker: Asker, topic_id: str, lang: str, helpful: bool) -> None:
        await self.users.touch(asker.user_id, asker.telegram_language)
        await self.feedback.record(asker.user_id, topic_id, lang, helpful)

    async def picked_suggestion(self, question_id: int, topic_id: str) -> None:
        await self.questions.record_choice(question_id, topic_id)

    async def rejected_suggestions(self, question_id: int) -> None:
        await self.questions.record_rejection(question_id)
