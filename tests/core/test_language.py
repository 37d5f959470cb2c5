"""Which language a message is written in, and which language the bot replies in."""

from __future__ import annotations

import pytest

from bot.core.language import Detection, LanguageDetector, LanguagePolicy, is_valid_tag, negotiate
from bot.core.text import fold, words

SUPPORTED = ("en", "fr", "es", "de", "pt", "ru", "ar", "zh")
POLICY = LanguagePolicy(SUPPORTED, "en")

# What an FAQ would give the detector: the words of its questions, and each language's stop words.
QUESTIONS = {
    "en": ["What is a learning city?", "How can my city join the network?", "Is there a membership fee?"],
    "fr": ["Qu'est-ce qu'une ville apprenante ?", "Comment ma ville peut-elle rejoindre le réseau ?",
           "Y a-t-il une cotisation ?"],
    "es": ["¿Qué es una ciudad del aprendizaje?", "¿Cómo puede mi ciudad unirse a la red?",
           "¿Hay una cuota de membresía?"],
    "de": ["Was ist eine lernende Stadt?", "Wie kann meine Stadt dem Netzwerk beitreten?",
           "Gibt es einen Mitgliedsbeitrag?"],
    "pt": ["O que é uma cidade de aprendizagem?", "Como a minha cidade pode aderir à rede?",
           "Há uma taxa de adesão?"],
    "ru": ["Что такое обучающийся город?", "Как нашему городу вступить в сеть?"],
    "ar": ["ما هي المدينة المتعلمة؟", "كيف تنضم مدينتي إلى الشبكة؟"],
    "zh": ["什么是学习型城市？", "我们的城市如何加入网络？"],
}
STOPWORDS = {
    "en": ["the", "a", "an", "is", "are", "what", "how", "can", "my", "our", "do", "does", "i", "we", "to", "of"],
    "fr": ["le", "la", "les", "de", "du", "des", "un", "une", "est", "ce", "que", "qu", "comment", "ma", "notre",
           "on", "je", "nous", "pour", "au"],
    "es": ["el", "la", "los", "las", "de", "del", "un", "una", "es", "que", "qué", "cómo", "mi", "nuestra", "se",
           "para", "al"],
    "de": ["der", "die", "das", "dem", "den", "ist", "eine", "ein", "was", "wie", "meine", "unsere", "kann", "wir",
           "zu", "es"],
    "pt": ["o", "a", "os", "as", "de", "do", "da", "um", "uma", "é", "que", "como", "minha", "nossa", "pode",
           "para", "ao"],
    "ru": ["что", "как", "это", "в", "и"],
    "ar": ["ما", "هي", "كيف", "إلى"],
    "zh": ["的", "是", "什么", "我们"],
}


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    vocabularies = {lang: {w for q in questions for w in words(fold(q))} for lang, questions in QUESTIONS.items()}
    return LanguageDetector(vocabularies, STOPWORDS)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Что значит обучающийся город?", "ru"),
        ("ما معنى المدينة المتعلمة؟", "ar"),
        ("学习型城市是什么意思？", "zh"),
        ("學習型城市是甚麼？", "zh"),
    ],
)
def test_a_non_latin_script_names_its_language_confidently(detector: LanguageDetector, text: str,
                                                           lang: str) -> None:
    detection = detector.detect(text)
    assert detection.lang == lang
    assert detection.confidence >= POLICY.threshold


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("How does a city become part of the network?", "en"),
        ("Comment notre ville devient-elle membre du réseau ?", "fr"),
        ("¿Cómo se une nuestra ciudad a la red?", "es"),
        ("Wie wird unsere Stadt Mitglied im Netzwerk?", "de"),
        ("Como é que a nossa cidade entra na rede?", "pt"),
    ],
)
def test_latin_script_languages_are_told_apart_by_their_words(detector: LanguageDetector, text: str,
                                                             lang: str) -> None:
    detection = detector.detect(text)
    assert detection.lang == lang
    assert detection.confidence >= POLICY.threshold


def test_a_latin_acronym_in_a_russian_question_does_not_change_its_language(detector: LanguageDetector) -> None:
    assert detector.detect("Что такое GNLC и как вступить?").lang == "ru"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Какие long-term benefits у learning city для самого города?", "ru"),
        ("Learning City Award 有奖金吗？获奖城市能拿到什么？", "zh"),
        ("UIL 是什么机构？是在Hamburg吗？", "zh"),
        ("ايه الـ benefits لو مدينتنا بقت member في الـ network؟", "ar"),
    ],
)
def test_english_terms_mixed_into_another_script_leave_the_message_in_its_language(
        detector: LanguageDetector, text: str, lang: str) -> None:
    """More Latin letters than Cyrillic or Chinese ones, but as many words in the other script: the message
    is written in that language, the English words are terms."""
    detection = detector.detect(text)
    assert detection.lang == lang
    assert detection.confidence >= POLICY.threshold


def test_a_chinese_name_in_an_english_question_leaves_it_english(detector: LanguageDetector) -> None:
    assert detector.detect("Was the first conference on learning cities held in Beijing (北京)?").lang != "zh"


def test_accented_letters_alone_point_to_a_language(detector: LanguageDetector) -> None:
    assert detector.detect("¿Año? ¡Mañana!").lang == "es"
    assert detector.detect("Straße, Größe, Übung").lang == "de"


def test_japanese_kana_is_not_taken_for_chinese(detector: LanguageDetector) -> None:
    assert detector.detect("学習都市とは何ですか？").lang is None
    assert detector.detect("ラーニングシティについて教えてください").lang is None


@pytest.mark.parametrize("text", ["GNLC", "ok", "UNESCO 2024", "12345", "", "   ", "😀🎉", "?!"])
def test_short_or_ambiguous_text_is_not_detected_confidently(detector: LanguageDetector, text: str) -> None:
    detection = detector.detect(text)
    assert detection.lang is None or detection.confidence < POLICY.threshold


def test_a_script_the_faq_does_not_have_gives_no_language() -> None:
    latin_only = LanguageDetector({"en": ["city"], "fr": ["ville"]}, {"en": ["the"], "fr": ["la"]})
    assert latin_only.detect("Что такое обучающийся город?").lang is None


def test_candidates_are_the_languages_whose_script_the_text_uses(detector: LanguageDetector) -> None:
    assert detector.candidates("Что такое город?") == ["ru"]
    assert set(detector.candidates("learning city")) == {"en", "fr", "es", "de", "pt"}
    assert detector.candidates("😀") == []


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("pt-br", "pt"),
        ("pt-BR", "pt"),
        ("zh-hans", "zh"),
        ("zh-Hant", "zh"),
        ("en_US", "en"),
        ("EN-us", "en"),
        ("FR", "fr"),
        ("de-AT", "de"),
        ("ar", "ar"),
    ],
)
def test_telegram_language_codes_are_negotiated_to_a_supported_language(code: str, lang: str) -> None:
    assert negotiate(code, SUPPORTED) == lang


@pytest.mark.parametrize("code", ["xx", "ja", "klingon", "", "  ", None])
def test_unknown_or_unsupported_codes_negotiate_to_none(code: str | None) -> None:
    assert negotiate(code, SUPPORTED) is None


def test_valid_tags_are_told_from_invented_ones() -> None:
    assert is_valid_tag("ja")
    assert is_valid_tag("pt_BR")
    assert not is_valid_tag("klingon")


def test_a_confident_detection_wins_over_the_saved_choice_and_telegram() -> None:
    assert POLICY.choose(Detection("es", 0.9), saved="fr", telegram_code="de") == "es"


def test_a_detection_at_the_threshold_is_confident_enough() -> None:
    assert POLICY.choose(Detection("es", POLICY.threshold), saved="fr", telegram_code="de") == "es"


def test_an_unsure_detection_gives_way_to_the_saved_choice() -> None:
    assert POLICY.choose(Detection("es", POLICY.threshold / 2), saved="fr", telegram_code="de") == "fr"


def test_without_a_saved_choice_the_telegram_code_is_negotiated() -> None:
    assert POLICY.choose(Detection(None, 0.0), saved=None, telegram_code="pt-br") == "pt"


def test_without_anything_usable_the_default_language_is_used() -> None:
    assert POLICY.choose(Detection(None, 0.0), saved=None, telegram_code=None) == "en"
    assert POLICY.choose(Detection(None, 0.0), saved=None, telegram_code="ja") == "en"
    assert LanguagePolicy(SUPPORTED, "fr").choose(Detection(None, 0.0), None, "xx") == "fr"


def test_a_detected_language_the_faq_lacks_is_ignored() -> None:
    assert POLICY.choose(Detection("it", 1.0), saved=None, telegram_code="de") == "de"


def test_a_saved_language_no_longer_supported_is_skipped() -> None:
    assert POLICY.choose(Detection(None, 0.0), saved="it", telegram_code="zh-hans") == "zh"
