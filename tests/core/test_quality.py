"""Answer quality on the team's evaluation set (eval/*.jsonl), held against product.md's bars: right >= 95 %,
wrong <= 1 %, out-of-scope answered <= 3 % in every language, and the overall figures as they stand today.
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


def test_the_evaluation_set_has_at_least_1300_questions_over_the_8_languages(report: Report) -> None:
    assert report.total.in_scope + report.total.out_of_scope >= 1300
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
    assert report.total.rate("right") >= 96.0


def test_the_reply_is_in_the_language_of_the_question(report: Report) -> None:
    assert 100.0 * report.total.lang_right / (report.total.in_scope + report.total.out_of_scope) >= 98.0


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_meets_the_product_quality_bars(report: Report, lang: str) -> None:
    tally = report.by_lang[lang]
    assert meets_bars(tally), (f"{lang}: right {tally.rate('right'):.1f} %, wrong {tally.rate('wrong'):.1f} %, "
                               f"out-of-scope answered {tally.rate('oos_answered'):.1f} %")


def test_the_faqs_own_questions_asked_as_written_get_their_own_topic() -> None:
    # A person who types one of the FAQ's questions must get that question's answer; the character n-gram
    # reading once turned 13 of them towards a neighbouring topic. `lcbot faq check` lists any that remain
    # as warnings for staff; one zh variant is a known near-duplicate of what-is-gnlc.
    from bot.faq_check import find_collisions

    collisions = find_collisions(read_faq(bundled("faq")))

    assert len(collisions) <= 1, "\n".join(str(problem) for problem in collisions)


def test_faq_check_warns_of_a_question_its_own_outside_list_blocks(tmp_path: Path) -> None:
    # A one-word `outside:` phrase ("jobs", meant for "jobs at UNESCO") silently blocked the FAQ's own
    # "Does a learning city create jobs and growth?": the bot never answered it and nothing said so.
    import shutil

    from bot.faq_check import find_collisions

    copy = tmp_path / "faq"
    shutil.copytree(bundled("faq"), copy)
    english = copy / "en.yaml"
    english.write_text(english.read_text(encoding="utf-8").replace('outside:\n', 'outside:\n  - "jobs"\n', 1),
                       encoding="utf-8")

    warnings = [str(problem) for problem in find_collisions(read_faq(copy))]

    assert any("Does a learning city create jobs and growth?" in w and "outside" in w for w in warnings), warnings
