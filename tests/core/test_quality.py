"""Answer quality on the team's evaluation set (eval/*.jsonl), held against product.md's bars.

The never-again bars (no confident wrong answer, out-of-scope questions not answered) are asserted as
they stand today; the right-answer bar (95 % in every language) is not reached yet and is marked so, with
today's figure asserted as a floor so that it can only go up.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import bundled
from bot.core.answering import Answerer
from bot.evaluation import Report, evaluate, meets_bars, read_cases
from bot.storage.faq_files import read_faq

EVAL = Path(__file__).resolve().parents[2] / "eval"
LANGUAGES = ["ar", "de", "en", "es", "fr", "pt", "ru", "zh"]


@pytest.fixture(scope="module")
def report() -> Report:
    if not EVAL.is_dir():
        pytest.skip(f"no evaluation set at {EVAL}")
    return evaluate(Answerer(read_faq(bundled("faq"))), read_cases(EVAL))


def test_the_evaluation_set_has_at_least_500_questions_over_the_8_languages(report: Report) -> None:
    assert report.total.in_scope + report.total.out_of_scope >= 500
    assert sorted(report.by_lang) == LANGUAGES


def test_confident_wrong_answers_stay_rare(report: Report) -> None:
    assert report.total.rate("wrong") <= 1.0  # product bar: 1 %
    for lang, tally in report.by_lang.items():
        assert tally.counts["wrong"] <= 2, f"{lang}: {tally.counts['wrong']} wrong answers"


def test_out_of_scope_questions_are_not_answered(report: Report) -> None:
    assert report.total.rate("oos_answered") <= 3.0
    for lang, tally in report.by_lang.items():
        assert tally.rate("oos_answered") <= 5.0, f"{lang}: {tally.rate('oos_answered'):.1f} %"


def test_the_right_answer_rate_does_not_fall_below_todays(report: Report) -> None:
    assert report.total.rate("right") >= 85.0
    for lang, tally in report.by_lang.items():
        assert tally.rate("right") >= 77.0, f"{lang}: {tally.rate('right'):.1f} % right"


def test_the_reply_is_in_the_language_of_the_question(report: Report) -> None:
    assert 100.0 * report.total.lang_right / (report.total.in_scope + report.total.out_of_scope) >= 98.0


@pytest.mark.xfail(strict=True, reason="product bar not reached yet: right >= 95 % in every language "
                                       "(today about 87 % overall; see `lcbot eval`)")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_meets_the_product_quality_bars(report: Report, lang: str) -> None:
    assert meets_bars(report.by_lang[lang])
